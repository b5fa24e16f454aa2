"""InfoNCE contrastive learning (Oord et al. 2018; Zimmermann et al. 2021).

For a batch of positive pairs (x_i, x'_i) the loss is the symmetric cross-entropy of
the B x B similarity matrix S_ij = sim(h(x_i), h(x'_j)) / tau with targets on the
diagonal; the negatives are the other pairs of the batch. Critics:
- "cosine": h normalised to the sphere, sim = <h, h'> (Zimmermann et al. 2021, Thm 2);
- "lp": sim = -||h - h'||_p (their Thm 4 for box / R^n latents; von Kügelgen et al. 2021).
With ``content`` set, the encoder has that many outputs (the content block).

Defaults (measured on a 2-core CPU, docs/reproductions.md): whitened inputs, two stacked
linear + zero-initialised-MLP blocks, tau = 3/kappa (n <= 4) or 2/kappa (n > 4) for the
cosine critic (the "matched" tau = 1/kappa folds a latent direction), Adam lr 1e-2 with 2% warm-up and cosine decay,
batch 512, fresh pairs every step, 400 steps at n <= 3 and 500 n steps above. Training
stops early once the loss is within ``target_tolerance`` of the loss the true latents
reach (a value that depends only on the process, not on the encoder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn

import theory as th
from theory import _validate as valid
from theory.errors import InvalidArgument, InvalidProcess
from verification.learners.base import (
    MAX_SAMPLES,
    Fit,
    Learner,
    TrainConfig,
    data_problem,
    failed_fit,
    resolved,
    train_loop,
)
from verification.learners.encoders import Encoder, EncoderConfig

FOLD_GAP = 0.05  # final loss this far above the true latents' loss: a likely fold


def infonce_loss(
    h: torch.Tensor, h_pos: torch.Tensor, tau: float, critic: str, p: float = 1.0
) -> torch.Tensor:
    """Symmetric InfoNCE over the batch; matmul / cdist, no loop over samples."""
    if critic == "cosine":
        logits = h @ h_pos.T / tau
    else:
        logits = -torch.cdist(h, h_pos, p=p) / tau
    target = torch.arange(len(h), device=h.device)
    return 0.5 * (
        nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target)
    )


def concentration(conditional: th.conditionals.Conditional | None) -> float | None:
    """kappa of a vMF conditional, or the equivalent 1 / variance of additive noise."""
    if isinstance(conditional, th.conditionals.VonMisesFisher):
        return float(conditional.kappa)
    if isinstance(conditional, th.conditionals.Normal):
        return 1.0 / conditional.scale**2
    if isinstance(conditional, th.conditionals.Laplace):
        return 1.0 / (2 * conditional.scale**2)
    return None


def jacobian_sign_penalty(model: Encoder, x: torch.Tensor, margin: float = 0.1) -> torch.Tensor:
    """Penalise points where det J_f has the minority sign (f: the pre-normalised encoder).

    A fold of a latent direction is a hypersurface where det J_f changes sign; pushing
    det J_f(x) / geomean|det J_f| above ``margin`` with the batch's majority sign keeps f
    orientation-preserving (or -reversing) everywhere early in training. Together with
    a penalty pinning |f| near 1 this removes the folds that otherwise trap InfoNCE at
    R² ≈ 1 - 1/n (measured at n = 10; docs/reproductions.md).
    """
    w = model.whitening(x).detach()
    J = torch.func.vmap(torch.func.jacrev(lambda v: model.body(v[None])[0]))(w)
    sign, logabs = torch.linalg.slogdet(J)
    relative = sign * torch.exp(logabs - logabs.detach().mean())
    majority = 1.0 if float(sign.detach().sum()) >= 0 else -1.0
    return nn.functional.relu(margin - majority * relative).mean()


@dataclass
class InfoNCE(Learner):
    critic: Literal["cosine", "lp"] = "cosine"
    tau: float | None = None  # None: ~3/kappa (cosine, see resolved_tau), 1.0 (lp)
    p: float = 1.0
    content: int | None = None  # output dimension (content block size); None: latent dim
    n_train: int | None = None  # fixed training set size; None: fresh pairs every step
    early_stop: bool = True
    target_tolerance: float = 0.01
    restarts: int = 2  # retrain from a fresh init when the final loss suggests a fold
    # early-training penalties against folds (cosine critic); None: on for n > 4, where
    # folds were frequent; at n <= 4 restarts suffice and the penalties only slow training
    fold_guard: bool | None = None
    fold_guard_weights: tuple[float, float] = (0.3, 10.0)  # (norm, Jacobian sign)
    fold_guard_fraction: float = 0.5  # the weights decay linearly to 0 over this fraction
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name = "infonce"

    def __post_init__(self) -> None:
        if self.critic not in ("cosine", "lp"):
            raise InvalidArgument(f"critic must be 'cosine' or 'lp', got {self.critic!r}")
        if self.tau is not None:
            valid.positive_float("InfoNCE", "tau", self.tau)
        valid.positive_float("InfoNCE", "p", self.p, maximum=100.0)
        if self.content is not None:
            valid.positive_int("InfoNCE", "content", self.content)
        if self.n_train is not None:
            valid.positive_int("InfoNCE", "n_train", self.n_train, minimum=2, maximum=MAX_SAMPLES)
        valid.finite_float("InfoNCE", "target_tolerance", self.target_tolerance, low=0, high=1e3)
        valid.positive_int("InfoNCE", "restarts", self.restarts, minimum=0, maximum=100)
        valid.probability("InfoNCE", "fold_guard_fraction", self.fold_guard_fraction)
        for weight in self.fold_guard_weights:
            valid.finite_float("InfoNCE", "fold_guard_weights", weight, low=0, high=1e6)

    def resolved_tau(self, process: th.Process) -> float:
        """The temperature: explicit, else scaled to the positives' concentration.

        Measured (docs/reproductions.md): tau = 1/kappa, the value that matches the critic
        to a vMF conditional, makes the encoder fold a latent direction (R² ≈ 1 - 1/n);
        tau ≈ 3/kappa (n <= 4) or 2/kappa (n > 4) recovers reliably.
        """
        if self.tau is not None:
            return self.tau
        if self.critic == "lp":
            return 1.0
        factor = 3.0 if process.dim <= 4 else 2.0
        kappa = concentration(process.conditional)
        if kappa is None:
            return factor / 10.0
        return float(np.clip(factor / kappa, 0.05, 2.0))

    @staticmethod
    def default_steps(process: th.Process) -> int:
        return 400 if process.dim <= 3 else 500 * process.dim

    def target_loss(self, process: th.Process, tau: float, batch: int, seed: int) -> float:
        """InfoNCE of the true latents (h = z) on fresh pairs: what a perfect encoder reaches."""
        rng = np.random.default_rng([seed, 14])
        values = []
        for _ in range(8):
            z, z_pos, _, _ = process.sample_pairs(batch, rng)
            values.append(float(infonce_loss(z.float(), z_pos.float(), tau, self.critic, self.p)))
        return float(np.mean(values))

    def fit(self, process: th.Process, *, seed: int = 0, monitor=None) -> Fit:
        """Train; if the final loss suggests a fold, retrain from a fresh initialisation
        (up to ``restarts`` times) and keep the run with the lowest final loss."""
        if process.conditional is None:
            raise InvalidProcess("InfoNCE needs positive pairs: the process has no conditional")
        if self.content is not None and not 1 <= self.content <= process.dim:
            raise InvalidProcess(f"content must be in 1..{process.dim}, got {self.content}")
        tau = self.resolved_tau(process)
        config = resolved(self.train, self.default_steps(process))
        # the true latents' loss is comparable only when the encoder output is z-shaped
        target = (
            self.target_loss(process, tau, config.batch_size, seed)
            if self.content is None
            else None
        )
        runs: list[Fit] = []
        for attempt in range(self.restarts + 1):
            fit = self._fit_once(process, seed + 7919 * attempt, config, tau, target, monitor)
            runs.append(fit)
            gap = fit.extras.get("loss_gap")
            if fit.status != "ok" or gap is None or gap <= FOLD_GAP:
                break
        best = min(runs, key=lambda f: (f.status != "ok", f.final_loss if f.curve else np.inf))
        best.seconds = sum(f.seconds for f in runs)
        best.steps = sum(f.steps for f in runs)
        best.extras["attempts"] = len(runs)
        if len(runs) > 1:
            best.message = f"{len(runs)} attempts (restarted after a likely fold); {best.message}"
        return best

    def _fit_once(self, process, seed, config, tau, target, monitor) -> Fit:
        torch.manual_seed(seed)
        rng = np.random.default_rng([seed, 13])
        n_out = self.content or process.dim
        bs = config.batch_size
        _, _, x_ref, _ = process.sample_pairs(10_000, rng)
        problem = data_problem(x_ref.float())
        if problem is not None:
            return failed_fit(n_out, problem)
        model = Encoder(
            x_ref.shape[1], n_out, self.encoder, x_ref.float(), normalize=self.critic == "cosine"
        )
        if self.n_train is not None:
            _, _, xs, xps = process.sample_pairs(self.n_train, rng)
            xs, xps = xs.float(), xps.float()
            gen = torch.Generator().manual_seed(seed)

        def batch() -> tuple[torch.Tensor, torch.Tensor]:
            if self.n_train is None:
                _, _, x, x_pos = process.sample_pairs(bs, rng)
                return x.float(), x_pos.float()
            idx = torch.randint(0, len(xs), (bs,), generator=gen)
            return xs[idx], xps[idx]

        wanted = process.dim > 4 if self.fold_guard is None else self.fold_guard
        guard = wanted and self.critic == "cosine" and n_out == x_ref.shape[1]
        guard_steps = self.fold_guard_fraction * config.steps

        def loss_fn(step: int):
            x, x_pos = batch()
            if not guard or step > guard_steps:
                return infonce_loss(model(x), model(x_pos), tau, self.critic, self.p)
            f = model.pre(torch.cat([x, x_pos]))
            h = nn.functional.normalize(f, dim=-1)
            loss = infonce_loss(h[:bs], h[bs:], tau, self.critic, self.p)
            weight = 1 - step / guard_steps
            w_norm, w_det = self.fold_guard_weights
            penalty = w_norm * ((f.norm(dim=-1) - 1) ** 2).mean()
            penalty = penalty + w_det * jacobian_sign_penalty(model, x[:64])
            return loss + weight * penalty, loss

        def encode(x_new: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return model(torch.as_tensor(x_new).float()).double()

        converged = None
        if self.early_stop and target is not None:

            def converged(loss: float) -> bool:
                return loss <= target + self.target_tolerance

        watch = None if monitor is None else (lambda step: monitor(step, encode))
        curve, steps, seconds, status, message = train_loop(
            loss_fn, model.parameters(), config, watch, converged=converged
        )
        model.eval()
        extras = {"tau": tau, "target_loss": target}
        if status == "ok" and target is not None and curve:
            gap = curve[-1][1] - target
            extras["loss_gap"] = gap
            if gap > FOLD_GAP:
                message = (f"{message}; " if message else "") + (
                    f"final loss is {gap:.3f} above the true latents' loss: the encoder may "
                    "have folded a latent direction (a local minimum)"
                )
        return Fit(encode, curve, steps, seconds, status, message, extras)
