"""Multi-view contrastive learning: one encoder per view, a symmetric InfoNCE between them.

For positive pairs (x1, x2) = (g1(z), g2(z')) of a process with a view-specific mixing
(``Process.view_mixing``; a single-view process uses g1 = g2), two encoders f1, f2 are
trained on the symmetric InfoNCE of S_ij = sim(f1(x1_i), f2(x2_j)) / tau with targets
on the diagonal (:func:`~verification.learners.infonce.infonce_loss`: the mean of the
row-wise and the column-wise cross-entropy), which approximates alignment
E||f1(x1) - f2(x2)|| plus the negative entropies of f1(x1) and f2(x2) -- the objective
of Daunhawer, Bizeul, Palumbo, Marx & Vogt 2023, "Identifiability results for
multimodal contrastive learning", ICLR, Theorem 1 (their ``L_MMAlignUnif``, its
symmetric InfoNCE form in their code), and of Yao et al. 2024, "Multi-view causal
representation learning with partial observability", ICLR, Theorem 3.2 (content
encoders, one per view). With ``content`` outputs (the content block size n_c) each
encoder block-identifies the content: f_k ∘ g_k(z) = φ_k(z_c) for invertible φ_k.

Critics: "lp-power" (default, with p = 2 and tau = 1): sim(a, b) = -||a - b||_2^2, the
paper's own estimator (Daunhawer et al. 2023, Eq. 5: "τ = 1 and sim(a,b) = −(a−b)²"),
the ``squared-euclidean-critic`` of the ``multiview`` theorem; "lp": sim = -||h - h'||_p
(the metric; p = 1 was sith's default before, block R² 0.94-0.95 where the squared
distance reaches 0.98); "cosine": outputs on the sphere.

``Fit.encode`` is f1 (view-1 observations, what ``recover`` evaluates); the fit is a
:class:`ViewFit` whose ``encode_view`` is f2 (view-2 observations). ``shared=True``
trains one encoder for both views (f1 = f2), the single-encoder special case.

Defaults: whitened inputs and the residual encoders of ``encoders.py`` (one per view),
started aligned by linear CCA of the two views (:func:`cca_init`, training pairs only),
the squared-Euclidean critic (lp-power, p = 2) at tau = 1, batch 512 of fresh pairs, Adam at lr 3e-2 (``LR``)
with a 15 % warm-up and cosine decay, ``max(400, 100 n)`` steps. Measured on the
canonical process of the ``multiview`` theorem: from a random initialisation, lr 3e-2
and 600 steps left block R² at 0.54 on 2 of 5 seeds (lr 1e-2: 0.91-0.98 after 1600
steps); from the CCA start 600 steps reach 0.94-0.95 on all 5 (docs/reproductions.md).

Practice mode only (nothing derived from the true latents is computed while training):
``restarts + 1`` initialisations train for the first ``race`` of the steps and the one
with the lowest training objective on fresh training pairs (observations only) trains on,
as InfoNCE's race; the budget grows while the training loss still falls
(``TrainConfig.extend``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
import torch

import theory as th
from verification import _learner_specs as tables
from verification import _options as opt
from verification._seeds import random_stream
from verification.learners import base
from verification.learners.base import Fit, Learner, Run, TrainConfig, Training
from verification.learners.encoders import Encoder, EncoderConfig
from verification.learners.infonce import infonce_loss
from verification.learners.racing import race_restarts

WARMUP = 0.15  # warm-up fraction when TrainConfig.warmup is None (as InfoNCE)
POOL_PAIRS = 4096  # fresh pairs are drawn this many at a time (cheaper per pair)
SELECTION_BATCHES = 4
DEFAULT_TAU = {"lp": 1.0, "lp-power": 1.0, "cosine": 0.3}
# Adam's learning rate: 1e-2 (InfoNCE's) reached block R² 0.82-0.89 on the canonical
# process in 600 steps from a CCA start, 3e-2 about 0.94 (docs/reproductions.md)
LR = 3e-2


@dataclass
class ViewFit(Fit):
    """A multi-view fit: ``encode`` is the view-1 encoder f1, ``encode_view`` the view-2
    encoder f2 (the same function when the encoders are shared)."""

    encode_view: Callable[[torch.Tensor], torch.Tensor] | None = None


@dataclass
class MultiviewInfoNCE(Learner):
    """Two encoders, one per view, trained on a symmetric InfoNCE (module docstring)."""

    critic: Literal["lp", "lp-power", "cosine"] = "lp-power"
    tau: float | None = None  # None: 1.0 (lp, lp-power), 0.3 (cosine)
    p: float = 2.0  # the lp critics' exponent (lp-power at 2: the squared distance)
    content: int | None = None  # outputs per encoder (content block size); None: latent dim
    shared: bool = False  # one encoder for both views (f1 = f2)
    n_train: int | None = None  # fixed training set size; None: fresh pairs every step
    restarts: int = 2  # extra initialisations raced over the first ``race`` of the steps
    race: float = 0.15
    # "cca": both encoders start as the top canonical-correlation directions of the two
    # views (:func:`cca_init`); "random": PyTorch's initialisation
    init: Literal["cca", "random"] = "cca"
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=LR))
    name = "multiview-infonce"

    OPTIONS: ClassVar[dict[str, opt.Option]] = tables.MULTIVIEW

    def resolved_tau(self, process: th.Process | None = None) -> float:
        """The temperature (InfoNCE's signature; this learner's does not depend on the
        process)."""
        return DEFAULT_TAU[self.critic] if self.tau is None else float(self.tau)

    @staticmethod
    def default_steps(process: th.Process) -> int:
        """400 steps up to n = 4, 100 n above (extended while the loss still falls)."""
        return max(400, 100 * process.dim)

    def loss(self, h1: torch.Tensor, h2: torch.Tensor) -> torch.Tensor:
        """The symmetric InfoNCE of f1(x1) against f2(x2)."""
        return infonce_loss(h1, h2, self.resolved_tau(), self.critic, self.p)

    def fit(self, process: th.Process, *, seed: int = 0, monitor=None) -> Fit:
        """Race ``restarts + 1`` initialisations, keep the lowest training loss, finish it.
        ``monitor(step, encode)`` sees every run's f1; ``Fit.seconds``/``steps`` count
        every run, ``extras["run_steps"]`` the kept one's."""
        base.require_pairs(self, process, "multiview-infonce (two views)")
        config = base.resolved(self.train, self.default_steps(process), WARMUP)
        return race_restarts(
            self,
            seed,
            config.steps,
            lambda run_seed: self._start(process, run_seed, config, monitor),
            lambda run: self.selection_loss(process, run, config.batch_size, seed),
        )

    def selection_loss(self, process: th.Process, run: _Run, batch: int, seed: int) -> float:
        """The training objective of a run's encoders on fresh training pairs (the same
        pairs for every candidate of one ``fit``): observations only, no latents."""
        rng = random_stream(seed, "selection")
        values = []
        with torch.no_grad():
            for _ in range(SELECTION_BATCHES):
                _, _, x1, x2 = process.sample_pairs(batch, rng)
                h1, h2 = run.f1(x1.float()), run.f2(x2.float())
                values.append(float(self.loss(h1, h2)))
        value = float(np.mean(values))
        return value if math.isfinite(value) else math.inf

    def _start(self, process: th.Process, seed: int, config: TrainConfig, monitor) -> _Run | Fit:
        """A run ready to train (or a failed Fit when the data cannot be trained on)."""
        torch.manual_seed(seed)
        rng = random_stream(seed, "pairs")
        n_out = self.content or process.dim
        bs = config.batch_size
        _, _, x1_ref, x2_ref = process.sample_pairs(10_000, rng)
        for what, x in (("view-1", x1_ref), ("view-2", x2_ref)):
            problem = base.data_problem(x.float(), f"{what} training observations")
            if problem is not None:
                return base.failed_fit(n_out, problem)
        normalize = self.critic == "cosine"
        n_in = x1_ref.shape[1]
        if self.shared:  # one encoder, whitened on both views' observations
            f1 = Encoder(n_in, n_out, self.encoder, torch.cat([x1_ref, x2_ref]).float(), normalize)
            f2 = f1
            params = list(f1.parameters())
        else:
            f1 = Encoder(n_in, n_out, self.encoder, x1_ref.float(), normalize)
            f2 = Encoder(x2_ref.shape[1], n_out, self.encoder, x2_ref.float(), normalize)
            params = [*f1.parameters(), *f2.parameters()]
        if self.n_train is not None:
            _, _, xs1, xs2 = process.sample_pairs(self.n_train, rng)
            xs1, xs2 = xs1.float(), xs2.float()
            gen = torch.Generator().manual_seed(seed)
        if self.init == "cca" and f2 is not f1:
            pairs = (x1_ref, x2_ref) if self.n_train is None else (xs1, xs2)
            cca_init(f1, f2, pairs[0].float(), pairs[1].float())
        pool: list[tuple[torch.Tensor, torch.Tensor]] = []

        def batch() -> tuple[torch.Tensor, torch.Tensor]:
            """bs view-1 observations and their view-2 positives."""
            if self.n_train is None:
                if not pool:
                    k = max(1, POOL_PAIRS // bs)
                    _, _, x1, x2 = process.sample_pairs(k * bs, rng)
                    x1, x2 = x1.float(), x2.float()
                    pool.extend((x1[i : i + bs], x2[i : i + bs]) for i in range(0, k * bs, bs))
                    pool.reverse()
                return pool.pop()
            idx = torch.randint(0, len(xs1), (bs,), generator=gen)
            return xs1[idx], xs2[idx]

        def loss_fn(step: int) -> torch.Tensor:
            x1, x2 = batch()
            return self.loss(f1(x1), f2(x2))

        watch = None if monitor is None else (lambda step: monitor(step, run.encode))
        run = _Run(Training(loss_fn, params, config, watch), f1, f2)
        return run


class _Run(Run):
    """One initialisation: its Training, its two encoders, and the ViewFit it makes."""

    def __init__(self, training: Training, f1: Encoder, f2: Encoder) -> None:
        super().__init__(training, base.encoder_of(f1), {"oracle": False}, f1=f1, f2=f2)
        self.encode_view = self.encode if f2 is f1 else base.encoder_of(f2)

    def fit(self) -> ViewFit:
        fit = super().fit()
        return ViewFit(**vars(fit), encode_view=self.encode_view)


def cca_init(f1: Encoder, f2: Encoder, x1: torch.Tensor, x2: torch.Tensor) -> bool:
    """Start f1, f2 aligned: their linear paths become the top canonical-correlation
    directions of the two views (linear CCA, Hotelling 1936), from training pairs only.

    With whitened inputs w_k = W_k (x_k - mean_k), CCA is the SVD of the cross-covariance
    C = E[w1 w2ᵀ] = U S Vᵀ: the first block's linear map of f1 becomes the top d rows of
    Uᵀ, of f2 the top d rows of Vᵀ (d the output size), biases 0, every later block's
    linear map the identity; the MLP branches start at zero, so f1(x1)_i and f2(x2)_i
    start as the i-th pair of canonical variates (unit variance, correlation S_i, as
    aligned as any linear map can make them). Two randomly initialised encoders instead
    map a positive pair to unrelated points and spend their first hundreds of steps
    aligning (a plateau the race does not always escape). Returns False (nothing
    changed) for encoders without the residual shape (``EncoderConfig.residual``)."""
    blocks = list(f1.body) if isinstance(f1.body, torch.nn.Sequential) else []
    if not blocks or not all(hasattr(b, "linear") for b in [*blocks, *f2.body]):
        return False
    with torch.no_grad():
        w1, w2 = f1.whitening(x1), f2.whitening(x2)
        w1, w2 = w1 - w1.mean(0), w2 - w2.mean(0)
        u, _, vt = torch.linalg.svd(w1.T @ w2 / len(w1))
        d = blocks[0].linear.out_features
        if d > min(u.shape[0], vt.shape[0]):  # more outputs than canonical directions
            return False
        for model, directions in ((f1, u.T), (f2, vt)):
            first, *rest = model.body
            first.linear.weight.copy_(directions[:d])
            first.linear.bias.zero_()
            for block in rest:
                torch.nn.init.eye_(block.linear.weight)
                block.linear.bias.zero_()
    return True


__all__ = ["MultiviewInfoNCE", "ViewFit", "cca_init"]
