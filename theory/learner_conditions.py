"""Assumptions about the learner: a theorem's conditions on what is trained, and how.

An identifiability theorem is about the minimiser of one objective, often under
conditions that tie the learner to the process (a critic temperature matched to the
conditional's concentration, an encoder with as many outputs as there are content
latents). These are the paper's assumptions as much as those on the process: a learner
outside them makes the assumption *violated*, so its recovery is a gap, never evidence
for the theorem. They are decided from the learner's configuration and the process by
``verification.checks.learner``, exactly (``proved``) or ``violated``; nothing is
trained to decide them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from theory import _validate as valid
from theory.assumptions import Assumption, register
from theory.errors import InvalidArgument

ZIMMERMANN = (
    "Zimmermann, Sharma, Schneider, Bethge & Brendel 2021, 'Contrastive learning inverts "
    "the data generating process', ICML, Theorem 2"
)
VON_KUEGELGEN = (
    "von Kügelgen et al. 2021, 'Self-supervised learning with data augmentations provably "
    "isolates content from style', NeurIPS, Theorem 4.4"
)
ZIMMERMANN_BOX = (
    "Zimmermann, Sharma, Schneider, Bethge & Brendel 2021, 'Contrastive learning inverts "
    "the data generating process', ICML, convex bodies, L^α with α ≥ 1, α ≠ 2 (Theorem 5: the number is unverified)"
)
HYVARINEN = (
    "Hyvärinen & Morioka 2016, 'Unsupervised feature extraction by time-contrastive "
    "learning and nonlinear ICA', NeurIPS, Theorem 1"
)


class LearnerAssumption(Assumption):
    """An assumption about the learner (its objective, critic, outputs), possibly in
    relation to the process. ``check(..., learner=...)`` decides it."""


@dataclass
class LearnerObjective(LearnerAssumption):
    """The learner minimises the objective the theorem is about (by its registered
    objective name, e.g. ``"infonce"``, ``"tcl"``)."""

    objectives: tuple[str, ...] = ("infonce",)
    name: ClassVar[str] = "learner-objective"
    cite: ClassVar[str] = "the theorem's own statement of its learner"
    description: ClassVar[str] = "the learner minimises the theorem's objective"

    def __post_init__(self) -> None:
        self.objectives = tuple(self.objectives)
        if not self.objectives or not all(isinstance(o, str) and o for o in self.objectives):
            raise InvalidArgument(f"objectives must be non-empty names, got {self.objectives!r}")

    def statement(self, n, m=None):
        return sp.Contains(sp.Symbol("objective"), sp.FiniteSet(*map(sp.Symbol, self.objectives)))


@dataclass
class MatchedTemperature(LearnerAssumption):
    """InfoNCE with a critic exp(f(x)ᵀf(x̃)/τ) on the unit sphere, τ = 1/κ.

    Zimmermann et al. 2021, Theorem 2: for z uniform on S^{n-1} and a vMF conditional
    p(z̃|z) ∝ exp(κ zᵀz̃), a minimiser of the (infinite-negatives) contrastive loss with
    an encoder onto the sphere and the critic exp(f(x)ᵀf(x̃)/τ), τ = 1/κ, inverts g up
    to an orthogonal map. Holds (``proved``) when the critic is the cosine/dot critic on
    normalised outputs and |τ κ - 1| <= ``rtol``, or for any τ when the outputs lie on a
    sphere of learnable radius r (the paper's "learnable rescaling": the critic's
    concentration r²/τ is matched to κ at r² = τκ; the NeurIPS 2020 workshop version's
    Proposition 1 prints √(τ/κ), its Eq. 28 needs τκ).
    """

    rtol: float = 0.01
    name: ClassVar[str] = "matched-temperature"
    cite: ClassVar[str] = ZIMMERMANN
    description: ClassVar[str] = "critic exp(f(x)ᵀf(x̃)/τ) on the sphere with τ = 1/κ"

    def __post_init__(self) -> None:
        valid.finite_float("MatchedTemperature", "rtol", self.rtol, low=0.0, high=1.0)

    def statement(self, n, m=None):
        tau, kappa = sp.symbols("tau kappa", positive=True)
        return sp.Eq(tau, 1 / kappa)


@dataclass
class ContentSizedEncoder(LearnerAssumption):
    """The encoder has exactly as many outputs as there are content latents.

    von Kügelgen et al. 2021, Theorem 4.4: g is block-identified by an encoder
    f: X -> (0, 1)^{n_c} (n_c the content size) that minimises alignment plus the
    negative entropy of f(x) (InfoNCE approximates this objective).
    """

    name: ClassVar[str] = "content-sized-encoder"
    cite: ClassVar[str] = VON_KUEGELGEN
    description: ClassVar[str] = "dim f(x) = n_c, the number of content latents"

    def statement(self, n, m=None):
        d, n_c = sp.symbols("d_f n_c", integer=True, positive=True)
        return sp.Eq(d, n_c)


@dataclass
class EnoughFeatures(LearnerAssumption):
    """The feature extractor has as many outputs as there are sources.

    Hyvärinen & Morioka 2016, Theorem 1: the feature extractor h(x; θ) of the segment
    classifier has dimension n, as the theorem states it (a wider extractor is outside
    it; the paper's text could not be read here: theory/text_checks.py).
    """

    name: ClassVar[str] = "enough-features"
    cite: ClassVar[str] = HYVARINEN
    description: ClassVar[str] = "dim h(x) = n"

    def statement(self, n, m=None):
        d = sp.Symbol("d_h", integer=True, positive=True)
        return sp.Eq(d, n)


@dataclass
class MatchedLpCritic(LearnerAssumption):
    """The critic's distance is the conditional's: an L^α semi-metric with α ≥ 1, α ≠ 2.

    Zimmermann et al. 2021, the convex-body theorem (Sec. 4): for z uniform on a convex
    body and p(z̃|z) ∝ exp(−δ(z̃, z)/λ) restricted to it, with δ an L^α metric or
    semi-metric, α ≥ 1, α ≠ 2, a minimiser of InfoNCE whose critic is exp(−δ(f(x),
    f(x̃))/τ), the same δ, recovers z up to permutation, sign flips, one scale and a
    shift (α = 2 leaves a rotation: only affine). The conditional's α is read from its
    law (GeneralizedNormal β; Laplace is α = 1, Normal α = 2). InfoNCE's "lp-power"
    critic (δ = ‖·‖_p^p) is the same δ at p = α (its default p=None takes α from the
    process); the "lp" critic (the metric ‖·‖_p) only at p = α = 1. τ need not match
    anything: the encoder's scale absorbs it.
    """

    name: ClassVar[str] = "matched-lp-critic"
    cite: ClassVar[str] = ZIMMERMANN_BOX
    description: ClassVar[str] = (
        "critic exp(−δ(f(x), f(x̃))/τ) with the conditional's δ = an L^α (semi-)metric, α ≥ 1, α ≠ 2"
    )

    def statement(self, n, m=None):
        alpha, p = sp.symbols("alpha p", positive=True)
        return sp.And(sp.Eq(p, alpha), sp.Ge(alpha, 1), sp.Ne(alpha, 2))


DAUNHAWER = (
    "Daunhawer, Bizeul, Palumbo, Marx & Vogt 2023, 'Identifiability results for multimodal "
    "contrastive learning', ICLR, Eq. (5)"
)


@dataclass
class SquaredEuclideanCritic(LearnerAssumption):
    """InfoNCE with τ = 1 and sim(a, b) = −‖a − b‖₂²: the estimator of L_AlignMaxEnt.

    The content-block theorems are about the minimiser of alignment minus entropy,
    E‖f(x) − f(x̃)‖² − H(f(x)). von Kügelgen et al. 2021 (App. D): "if we consider τ = 1,
    and sim(u,v) = −(u−v)², … we can approximately match the form of (5)", for many
    negatives; Daunhawer et al. 2023 (Eq. 5) state the symmetric form for two encoders
    with the same τ and sim, and train those estimators. Holds (``proved``) for a learner
    whose critic is the squared Euclidean distance ("lp-power" at p = 2) at τ = 1.
    """

    rtol: float = 0.01
    name: ClassVar[str] = "squared-euclidean-critic"
    cite: ClassVar[str] = f"{VON_KUEGELGEN}, App. D; {DAUNHAWER}"
    description: ClassVar[str] = (
        "InfoNCE with τ = 1 and sim(a, b) = −‖a − b‖₂², the estimator of alignment minus entropy"
    )

    def __post_init__(self) -> None:
        valid.finite_float("SquaredEuclideanCritic", "rtol", self.rtol, low=0.0, high=1.0)

    def statement(self, n, m=None):
        tau, p = sp.symbols("tau p", positive=True)
        return sp.And(sp.Eq(tau, 1), sp.Eq(p, 2))


for _cls in (
    SquaredEuclideanCritic,
    LearnerObjective,
    MatchedTemperature,
    ContentSizedEncoder,
    EnoughFeatures,
    MatchedLpCritic,
):
    register(_cls)

__all__ = [
    "ContentSizedEncoder",
    "EnoughFeatures",
    "LearnerAssumption",
    "LearnerObjective",
    "MatchedLpCritic",
    "MatchedTemperature",
]
