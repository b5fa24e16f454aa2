"""AnInfoNCE: InfoNCE with a learnable diagonal critic (Rusak et al. 2024).

Rusak, Reizinger, Juhos, Bringmann, Zimmermann & Brendel 2024, "InfoNCE: identifying
the gap between theory and practice" (arXiv 2407.00143, AISTATS 2025). When the positive
pair changes each latent by a different amount, p(z̃|z) ∝ exp(−½ (z̃ − z)ᵀΛ(z̃ − z)) with
Λ = diag(λ), the isotropic critic of InfoNCE cannot match the conditional. AnInfoNCE
uses the critic

    sim(h, h̃) = −½ (h − h̃)ᵀ Λ̂ (h − h̃),   Λ̂ = diag(exp(θ)),

with θ learned together with the encoder (θ ~ 0.1 N(0, 1) at initialisation; the
encoder's outputs are normalised onto the unit sphere; no separate temperature: Λ̂ sets
the scale). The reference code uses Λ̂ = softplus(θ) with its own learning rate for θ;
the exponential moves Λ̂ by a factor per step instead of an amount, which is what let it
travel from ≈ 1 to the concentrations (2–30) within a few hundred steps here (with
softplus and lr 1e-2, Λ̂ ≈ 2.5 on every coordinate after 900 steps at n = 3). Which
parametrisation reaches Λ̂ does not change the objective or its minimisers. The loss is sith's symmetric InfoNCE over the batch
(the B × B matrix S_ij = sim(h_i, h̃_j), targets on the diagonal; see
``verification.learners.infonce``). The reference code's NT-Xent form also uses the
pairs within one view as negatives; both estimate the same objective in the limit of
infinitely many negatives.

S is a plain dot product of augmented vectors, which is what makes it fast:
S_ij = ⟨[√Λ̂ h_i, −½ h_iᵀΛ̂h_i, 1], [√Λ̂ h̃_j, 1, −½ h̃_jᵀΛ̂h̃_j]⟩, so the loss runs through
InfoNCE's blocked custom-autograd dot-product path (:func:`anisotropic_infonce_loss`);
adding a constant c to every S_ij changes no softmax and not the loss, and with
c = max λ̂ (max|h| + max|h̃|)² / 4 the entries lie in [−c, c], so for c <= 40 the faster
path with one fixed shift applies (unit outputs: c = 4 max λ̂ / 4 = max λ̂).

Everything else (practice mode's race of initialisations on the training loss alone,
the adaptive budget, oracle mode) is InfoNCE's. The fitted Λ̂ is reported in
``Fit.extras["lambda_hat"]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
import torch
from torch import nn

import theory as th
from theory.errors import InvalidArgument
from verification import _learner_specs as tables
from verification import _options as opt
from verification._seeds import random_stream
from verification.learners.base import Fit, TrainConfig
from verification.learners.infonce import (
    SHIFT_RANGE,
    InfoNCE,
    _DotInfoNCE,
    _ShiftedDotInfoNCE,
)

LAMBDA_INIT_STD = 0.1  # θ ~ N(0, 0.1²) at initialisation, Λ̂ = exp(θ) ≈ 1


def anisotropic_infonce_loss(
    h: torch.Tensor, h_pos: torch.Tensor, lam: torch.Tensor
) -> torch.Tensor:
    """Symmetric InfoNCE of S_ij = −½ (h_i − h̃_j)ᵀ diag(lam) (h_i − h̃_j) (see the module
    docstring): 0.5 (mean_i lse_j S_ij + mean_j lse_i S_ij) − mean_i S_ii."""
    with torch.no_grad():  # S_ij in [-2 c, 0] with c = lam_max (max|h| + max|h_pos|)^2 / 4
        reach = float(h.norm(dim=1).max()) + float(h_pos.norm(dim=1).max())
        c = 0.25 * float(lam.max()) * reach**2
    root = lam.sqrt()
    # adding c to every S_ij leaves the loss unchanged and centres S in [-c, c]
    a = c - 0.5 * (h * h * lam).sum(1, keepdim=True)
    b = -0.5 * (h_pos * h_pos * lam).sum(1, keepdim=True)
    one = torch.ones_like(a)
    left = torch.cat([h * root, a, one], 1)
    right = torch.cat([h_pos * root, one, b], 1)
    if math.isfinite(c) and c <= SHIFT_RANGE:  # |S_ij + c| <= c: one fixed shift suffices
        return _ShiftedDotInfoNCE.apply(left, right, 1.0, c)
    return _DotInfoNCE.apply(left, right, 1.0)


class DiagonalCritic(nn.Module):
    """Λ̂ = diag(exp(θ)), θ learnable (one run's critic)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.randn(n) * LAMBDA_INIT_STD)  # the run's torch seed

    def lam(self) -> torch.Tensor:
        return self.theta.exp()

    def describe(self) -> dict:
        return {"lambda_hat": [float(v) for v in self.lam().detach()]}


class _FixedCritic:
    """A critic with a given Λ (the true one, for the diagnostics of the true latents)."""

    def __init__(self, lam: np.ndarray) -> None:
        self._lam = torch.as_tensor(lam, dtype=torch.float32)

    def lam(self) -> torch.Tensor:
        return self._lam


@dataclass
class AnInfoNCE(InfoNCE):
    """InfoNCE with the learnable diagonal critic of Rusak et al. 2024 (module docstring).

    Options are InfoNCE's (``train.*``, ``encoder.*``, ``restarts``, ``race``, ``oracle``,
    ...); ``critic`` is always "anisotropic" and ``tau``/``p`` do not apply (Λ̂ is learned).
    """

    critic: Literal["anisotropic"] = "anisotropic"  # type: ignore[assignment]
    # lr 3e-2 (InfoNCE: 1e-2): Λ̂ must travel from ≈ 1 to the concentrations (measured:
    # at 1e-2 it had not separated them after 700 steps at n = 3)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=3e-2))
    name = "aninfonce"
    # InfoNCE's options; the critic is always the learnable diagonal
    OPTIONS: ClassVar[dict[str, opt.Option]] = tables.ANINFONCE

    def __post_init__(self) -> None:
        if self.critic != "anisotropic":
            raise InvalidArgument(
                f"AnInfoNCE's critic is 'anisotropic' (a learnable diagonal), got "
                f"{self.critic!r}; for another critic use the learner 'infonce'"
            )
        if self.content is not None:
            raise InvalidArgument("AnInfoNCE has no content block: its encoder outputs n")
        if self.radius != "unit":
            raise InvalidArgument(
                "AnInfoNCE's outputs are on the unit sphere (Λ̂ carries the scale): radius "
                f"must be 'unit', got {self.radius!r}"
            )
        opt.check_options(self)

    @staticmethod
    def default_steps(process: th.Process) -> int:
        return 600 if process.dim <= 3 else 300 * process.dim

    @property
    def unit_outputs(self) -> bool:
        return True

    def resolved_tau(self, process: th.Process) -> float:
        return 1.0  # Λ̂ carries the scale; reported as the run's tau

    def new_critic(self, n_out: int) -> DiagonalCritic:
        return DiagonalCritic(n_out)

    def pair_loss(self, h, h_pos, tau, critic, p=1.0) -> torch.Tensor:
        if critic is None:
            raise InvalidArgument("AnInfoNCE's loss needs the run's critic (its Λ̂)")
        return anisotropic_infonce_loss(h, h_pos, critic.lam())

    def target_loss(self, process: th.Process, tau: float, batch: int, seed: int) -> float:
        """ORACLE: the loss of the true latents with the true Λ (Λ̂ = Λ; Λ̂ = I when the
        conditional is not sith's AnisotropicNormal). Computed only in oracle mode."""
        return self._truth_loss(process, batch, random_stream(seed, "target"), 8)

    def optimality_gap(self, process: th.Process, fit: Fit, *, seed: int = 0) -> float | None:
        """DIAGNOSTIC: the fitted encoder's loss with its Λ̂ minus the true latents' loss
        with the true Λ, on the same fresh pairs; None unless the latent is on the unit
        sphere and the conditional is sith's AnisotropicNormal (the true latents are then
        an encoder output and Λ the matching critic)."""
        critic = fit.extras.get("critic")
        if fit.status != "ok" or critic is None or _true_lambda(process) is None:
            return None
        batch = self.training_config(process).batch_size
        rng = random_stream(seed, "gap")
        diffs = []
        truth = _FixedCritic(_true_lambda(process))
        for _ in range(4):
            z, z_pos, x, x_pos = process.sample_pairs(batch, rng)
            if not bool(((z.norm(dim=-1) - 1).abs() < 1e-4).all()):
                return None
            h = fit.encode(torch.cat([x, x_pos]).float()).float()
            if not torch.isfinite(h).all():
                return None
            with torch.no_grad():
                learned = self.pair_loss(h[:batch], h[batch:], 1.0, critic)
                best = self.pair_loss(z.float(), z_pos.float(), 1.0, truth)
            diffs.append(float(learned - best))
        return float(np.mean(diffs))

    def _truth_loss(self, process, batch, rng, batches) -> float:
        lam = _true_lambda(process)
        truth = _FixedCritic(np.ones(process.dim) if lam is None else lam)
        values = []
        for _ in range(batches):
            z, z_pos, _, _ = process.sample_pairs(batch, rng)
            with torch.no_grad():
                values.append(float(self.pair_loss(z.float(), z_pos.float(), 1.0, truth)))
        return float(np.mean(values))


def _true_lambda(process: th.Process) -> np.ndarray | None:
    cond = process.conditional
    if isinstance(cond, th.conditionals.AnisotropicNormal):
        return cond.lam
    return None


__all__ = ["AnInfoNCE", "DiagonalCritic", "anisotropic_infonce_loss"]
