"""Theorems: assumptions + learner + claim + citation, and the catalogue of classics."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from theory import assumptions as A
from theory import claims as C
from theory import cluster_assumptions as CA
from theory import concentration_assumptions as KA
from theory import conditionals, latents, mixings
from theory import learner_conditions as LC
from theory import text_checks as TC
from theory.errors import InvalidArgument
from theory.process import Process
from theory.references import Reference, as_references
from theory.references import lookup as lookup_references
from theory.registry import Registry


@dataclass
class Theorem:
    """If every assumption holds, the learner recovers z up to the claim's indeterminacy.

    ``learner`` names a registered learner of ``verification.learners`` (e.g. "infonce",
    "fastica"), or is a learner instance, or ``(name, {option: value})`` (e.g.
    ``("infonce", {"tau": 0.1})``): the learner's configuration is part of the theorem.
    ``canonical`` builds the process the paper studies (used as a default everywhere).
    ``reference`` is the paper as data (a :class:`theory.references.Reference`, or a
    tuple of them) for ``sith cite``; None looks the name up in ``theory.references``.
    """

    name: str
    assumptions: tuple[A.Assumption, ...]
    learner: Any
    claim: C.Claim
    cite: str = ""
    summary: str = ""
    canonical: Callable[[], Process] | None = field(default=None, repr=False)
    # the module that stated the theorem (a reproduce line imports it); found, not given
    module: str = field(default="", repr=False, compare=False)
    # which parts were checked against the paper's text: "theorem" (its number and
    # statement), assumption names, "learner-objective" (theory.text_checks.TextCheck)
    text_checks: dict[str, TC.TextCheck] = field(default_factory=dict, repr=False)
    # the paper(s) as data (theory.references.Reference, or a tuple of them), for BibTeX;
    # None: the catalogue's entry for this name (theory/references.py), if any
    reference: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.module:
            self.module = sys._getframe(2).f_globals.get("__name__", "__main__")
        self.assumptions = tuple(self.assumptions)
        for a in self.assumptions:
            if not isinstance(a, A.Assumption):
                raise InvalidArgument(f"theorem {self.name!r}: {a!r} is not an Assumption")
        if not isinstance(self.claim, C.Claim):
            raise InvalidArgument(f"theorem {self.name!r}: claim must be a theory.claims.Claim")
        for part, entry in dict(self.text_checks).items():
            if not isinstance(entry, TC.TextCheck):
                raise InvalidArgument(
                    f"theorem {self.name!r}: text_checks[{part!r}] must be a theory.TextCheck"
                )
        as_references(self.reference, f"theorem {self.name!r}: reference")

    def text_check(self, part: str) -> TC.TextCheck:
        """Whether ``part`` ("theorem", an assumption's name, "learner-objective") was
        checked against the paper's text: the theorem's own entry, else the catalogue's
        (for the classics), else "from memory" / "not stated"."""
        if part in self.text_checks:
            return self.text_checks[part]
        catalogue = TC.checks_for(self.name) if self.module == __name__ else {}
        if part in catalogue:
            return catalogue[part]
        return TC.FROM_MEMORY if self.module == __name__ else TC.NOT_STATED

    def text_check_table(self) -> list[dict]:
        """One row per part (the theorem, then each assumption): part, verified, where,
        quote, differs."""
        parts = ["theorem", *(a.name for a in self.assumptions)]
        return [{"part": part, **self.text_check(part).to_dict()} for part in parts]

    @property
    def references(self) -> tuple[Reference, ...]:
        """The papers this theorem comes from: its ``reference``, else the catalogue's."""
        return as_references(self.reference) or lookup_references(self.name)

    @property
    def learner_label(self) -> str:
        """The learner's name (with its options when the theorem sets any)."""
        spec = self.learner
        if isinstance(spec, str):
            return spec
        if isinstance(spec, tuple) and len(spec) == 2:
            options = ", ".join(f"{k}={v}" for k, v in dict(spec[1]).items())
            return f"{spec[0]}({options})"
        return getattr(spec, "name", type(spec).__name__)

    def canonical_process(self) -> Process:
        if self.canonical is None:
            raise InvalidArgument(f"theorem {self.name!r} has no canonical process; pass one")
        return self.canonical()

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "assumptions": [a.to_dict() for a in self.assumptions],
            "learner": self.learner_label,
            "claim": self.claim.to_dict(),
            "cite": self.cite,
            "text_checks": self.text_check_table(),
            "references": [r.to_dict() for r in self.references],
        }


_CATALOGUE: Registry = Registry("theorem")


def register(theorem: Theorem, *, replace: bool = False) -> Theorem:
    """Add a theorem to the catalogue, so ``get``, the CLI and searches find it by name.

    An existing name is refused unless ``replace=True``. The module that registers it is
    remembered, so a "reproduce" line can carry the ``--import`` it needs.
    """
    if not isinstance(theorem, Theorem):
        raise InvalidArgument(f"register expects a theory.Theorem, got {type(theorem).__name__}")
    _CATALOGUE.register(theorem.name, theorem, replace=replace)
    _DEFINED_IN[theorem.name] = _caller_module()
    return theorem


_DEFINED_IN: dict[str, str] = {}


def defined_in(name: str) -> str:
    """The module that registered theorem ``name`` ("theory.theorems" for the classics)."""
    return _DEFINED_IN.get(name, __name__)


def _caller_module() -> str:
    frame = sys._getframe(2)
    return frame.f_globals.get("__name__", "__main__")


def get(name: str) -> Theorem:
    """The registered theorem ``name``; :class:`UnknownName` (listing the known) if none."""
    return _CATALOGUE.get(name)


def names() -> list[str]:
    return _CATALOGUE.names()


def catalogue() -> list[Theorem]:
    return [_CATALOGUE[n] for n in names()]


def contrastive(latent: A.Assumption, family: str, objective: str, *learner: Any) -> tuple:
    """The assumptions of a contrastive theorem in the style of Zimmermann et al. 2021:
    the latent law (``latent``), positives from the conditional ``family``, an injective
    g, a learner minimising ``objective`` and whatever else it must match (``learner``)."""
    return (
        latent,
        A.ConditionalFamily(family),
        A.Injective(),
        LC.LearnerObjective((objective,)),
        *learner,
    )


def content_style(objective: str, *, density: bool = True, estimator: bool = False) -> tuple:
    """The assumptions of von Kügelgen et al. 2021, Theorem 4.4, and of the theorems built
    on it: g injective and an immersion, a smooth positive density (``density``; stated
    for vector latents), a conditional that keeps the content block, a learner minimising
    ``objective`` (with ``estimator``: InfoNCE at τ = 1 with sim = −‖a − b‖₂², the
    papers' estimator of alignment minus entropy) with an encoder of n_c outputs."""
    smooth = (A.SmoothPositiveDensity(),) if density else ()
    critic = (LC.SquaredEuclideanCritic(),) if estimator else ()
    return (
        A.Injective(),
        A.Immersion(),
        *smooth,
        A.ContentInvariance(),
        LC.LearnerObjective((objective,)),
        *critic,
        LC.ContentSizedEncoder(),
    )


def variability(objective: str, *learner: Any) -> tuple:
    """The assumptions of an auxiliary-variable nonlinear ICA theorem (Hyvärinen &
    Morioka 2016; Khemakhem et al. 2020): an injective g, sources whose natural parameters
    vary enough across segments, a learner minimising ``objective`` (and ``learner``)."""
    return (A.Injective(), A.SufficientVariability(), LC.LearnerObjective((objective,)), *learner)


register(
    Theorem(
        name="linear-ica",
        assumptions=(A.Factorized(), A.NonGaussian(), A.LinearMixing(), A.Injective()),
        learner="fastica",
        claim=C.permutation_scaling(0.95),
        cite="Comon 1994, 'Independent component analysis, a new concept?', Signal Processing, Thm 11",
        summary="Independent non-Gaussian sources mixed linearly are identifiable up to "
        "permutation and scaling.",
        canonical=lambda: Process(latents.Laplace(5), mixings.Linear.random(5, seed=0)),
    )
)

register(
    Theorem(
        name="cl-ica",
        assumptions=contrastive(
            A.UniformOnSphere(), "VonMisesFisher", "infonce", LC.MatchedTemperature()
        ),
        learner="infonce",
        claim=C.orthogonal(0.95),
        cite="Zimmermann, Sharma, Schneider, Bethge & Brendel 2021, 'Contrastive learning inverts "
        "the data generating process', ICML, Theorem 2",
        summary="For z uniform on the sphere, positives from a vMF conditional with "
        "concentration κ and an injective g, a minimiser of the contrastive (InfoNCE) loss "
        "with an encoder onto the sphere and the critic exp(f(x)ᵀf(x̃)/τ), τ = 1/κ, in the "
        "limit of infinitely many negatives, recovers z up to an orthogonal map. The "
        "default learner is the theorem's (τ = 1/κ, derived from the process); in practice "
        "it folds a latent direction at n = 3 (R² ≈ 0.77 on the canonical process: a "
        "failure inside the theorem that `sith search cl-ica` reports), while the variant "
        "infonce-practical (τκ = 3) recovers: a gap that shows the matched temperature is "
        "not needed there.",
        canonical=lambda: Process(
            latents.UniformSphere(3),
            mixings.InvertibleMLP(3, depth=3, seed=0),
            conditionals.VonMisesFisher(kappa=10.0),
        ),
    )
)

register(
    Theorem(
        name="content-style",
        assumptions=content_style("infonce", estimator=True),
        learner="infonce-content",
        claim=C.block(content=2, threshold=0.9),
        cite="von Kügelgen, Sharma, Gresele, Brendel, Schölkopf, Besserve & Locatello 2021, "
        "'Self-supervised learning with data augmentations provably isolates content from "
        "style', NeurIPS, Theorem 4.4 (with the conditions (i)-(iii) of Theorem 4.2 and "
        "Assumptions 3.1 and 3.2)",
        summary="For g a smooth diffeomorphism, p(z) a smooth, continuous density, positive "
        "almost everywhere, a "
        "style-change conditional that keeps the content and has positive density on an "
        "open set around the style, an encoder with n_c outputs minimising alignment plus "
        "the negative entropy of its outputs (InfoNCE at τ = 1 with sim(u, v) = −‖u − v‖₂² "
        "approximates it, App. D) block-identifies "
        "the content latents.",
        canonical=lambda: Process(
            latents.Normal(4),
            mixings.InvertibleMLP(4, depth=3, seed=0),
            conditionals.ContentStyle(content=2, p=0.75),
        ),
    )
)

register(
    Theorem(
        name="tcl",
        assumptions=variability("tcl", LC.EnoughFeatures()),
        learner="tcl",
        claim=C.Claim(
            "affine in sufficient statistics",
            "r2_sufficient_stats",
            0.9,
            description="h(x) = A t(z) + b with t(z) = |z| (Laplace segments)",
        ),
        cite="Hyvärinen & Morioka 2016, 'Unsupervised feature extraction by time-contrastive "
        "learning and nonlinear ICA', NeurIPS, Theorem 1",
        summary="For sources independent within each segment, with exponential-family "
        "densities whose natural parameters vary enough across segments (the rank "
        "condition), an invertible smooth g and a feature extractor with n outputs, the "
        "features of an optimal segment classifier are an affine map of the sources' "
        "sufficient statistics, h(x) = A t(z) + b (elementwise recovery needs linear ICA "
        "on top).",
        canonical=lambda: Process(
            latents.Segmented(3, n_segments=12, seed=0), mixings.InvertibleMLP(3, depth=2, seed=0)
        ),
    )
)

register(
    Theorem(
        name="multiview",
        assumptions=content_style("multiview-infonce", estimator=True),
        learner="multiview-infonce",
        claim=C.block(content=2, threshold=0.9),
        cite="Daunhawer, Bizeul, Palumbo, Marx & Vogt 2023, 'Identifiability results for "
        "multimodal contrastive learning', ICLR, Theorem 1; Yao, Xu, Lachapelle, Magliacane, "
        "Taslakian, Martius, von Kügelgen & Locatello 2024, 'Multi-view causal representation "
        "learning with partial observability', ICLR, Theorem 3.2",
        summary="For two views x1 = g1(z), x2 = g2(z̃) made by view-specific smooth invertible "
        "mixings (Process.view_mixing), where z̃ keeps the content block c of z and changes "
        "the style at random (a density around s: perturbed or view-specific style), and "
        "p(z) a smooth, continuous density, positive almost everywhere, two smooth "
        "encoders f1, f2 onto (0, 1)^{n_c}, minimising the alignment E||f1(x1) − f2(x2)||₂ "
        "minus ½ (H(f1(x1)) + H(f2(x2))) (Eq. 5; the symmetric InfoNCE at τ = 1 with "
        "sim(a, b) = −‖a − b‖₂² between the views is its finite-sample estimator), "
        "block-identify the content: f_k(g_k(z)) = φ_k(c) for "
        "invertible φ_k. injective and immersion are decided for both mixings. (The paper "
        "names the mixings f and the encoders g.)",
        canonical=lambda: Process(
            latents.Normal(4),
            mixings.InvertibleMLP(4, depth=3, seed=0),
            conditionals.ContentStyle(content=2, p=1.0),
            view_mixing=mixings.InvertibleMLP(4, depth=3, seed=1),
        ),
    )
)

register(
    Theorem(
        name="cross-entropy",
        assumptions=(
            CA.ClusterCentricVMF(),
            CA.AffineGenerator(),
            A.Injective(),
            LC.LearnerObjective(("cross-entropy",)),
        ),
        learner="cross-entropy",
        claim=C.affine(0.95),
        cite="Reizinger, Bizeul, Juhos, Vogt, Balestriero, Brendel & Klindt 2025, "
        "'Cross-entropy is all you need to invert the data generating process', ICLR, "
        "Theorem 2 (Appx. A.3, Thm 2C; Assumption 3)",
        summary="For unit cluster vectors {v_c} that affinely span R^d, a uniformly chosen "
        "class C, a latent z | C ~ vMF(v_C, κ) on S^{d-1} and x = g(z) with g continuous "
        "and injective, a continuous encoder f: R^D -> R^d, a bias-free linear classifier "
        "with rows w_c and β > 0 that globally minimise the cross-entropy of the class "
        "label, E[-log softmax_c(β<w_c, f(x)>)_C], make h = f∘g linear: z is recovered up "
        "to an invertible linear map (the optimum matches the Bayes posterior, "
        "β<w_c - w_c', h(z)> = κ<v_c - v_c', z>). Fewer than d + 1 clusters break the "
        "affine span (affine-generator violated).",
        canonical=lambda: Process(
            latents.ClusterSphere(5, n_clusters=100, kappa=10.0, seed=0),
            mixings.InvertibleMLP(5, depth=3, seed=0),
        ),
    )
)

register(
    Theorem(
        name="cl-ica-box",
        assumptions=contrastive(
            A.UniformOnConvexBody(), "GeneralizedNormal", "infonce", LC.MatchedLpCritic()
        ),
        learner=("infonce-lp-matched", {"tau": 0.2, "train.batch_size": 256}),
        claim=C.Claim(
            "permutation+sign-flip",
            "mcc_crossfit_min",
            0.9,
            description="h(z) = s P D z + b: a permutation P, signs D = diag(±1), one "
            "scale s > 0 and a shift b",
        ),
        cite="Zimmermann, Sharma, Schneider, Bethge & Brendel 2021, 'Contrastive learning "
        "inverts the data generating process', ICML, Sec. 4, convex bodies (Theorem 5: the number is unverified, see theory/text_checks.py)",
        summary="For z uniform on a convex body M ⊂ R^n (here a box), positives from "
        "p(z̃|z) ∝ exp(−δ(z̃, z)/λ) restricted to M with δ an L^α metric or semi-metric, "
        "α ≥ 1, α ≠ 2, and g injective and differentiable, a minimiser of InfoNCE whose "
        "critic is exp(−δ(f(x), f(x̃))/τ) with the same δ (infinitely many negatives) "
        "makes h = f∘g a permutation with sign flips, one scale and a shift (for α = 2 only "
        "an affine map: a rotation is left). The canonical process is the Laplace case "
        "α = 1 (GeneralizedNormal β = 1, truncated to the box); the learner's critic "
        "δ = ‖·‖_α^α takes α from the process (infonce-lp-matched), so every α ≥ 1, "
        "α ≠ 2 of a search stays inside the theorem; τ is free (the encoder's scale "
        "absorbs it).",
        canonical=lambda: Process(
            latents.Uniform(3),
            mixings.InvertibleMLP(3, depth=3, seed=0),
            conditionals.GeneralizedNormal(beta=1.0, scale=0.1),
        ),
    )
)

register(
    Theorem(
        name="anisotropic-infonce",
        assumptions=(
            *contrastive(A.UniformOnSphere(), "AnisotropicNormal", "aninfonce"),
            KA.DistinctConcentrations(),
        ),
        learner="aninfonce",
        claim=C.Claim(
            "permutation+sign-flip",
            "mcc_crossfit_min",
            0.9,
            description="h(z) = P D z for a permutation P and signs D = diag(±1): the "
            "theorem's block-orthogonal map when the concentrations are pairwise distinct "
            "(a block of equal concentrations keeps a rotation within it)",
        ),
        cite="Rusak, Reizinger, Juhos, Bringmann, Zimmermann & Brendel 2024, 'InfoNCE: "
        "identifying the gap between theory and practice', arXiv 2407.00143 (AISTATS "
        "2025), Theorem 1",
        summary="For z uniform on S^{n−1}, positives from the anisotropic conditional "
        "p(z̃|z) ∝ exp(−½ (z̃ − z)ᵀΛ(z̃ − z)) on the sphere (Λ = diag(λ): every latent "
        "changes, each by its own amount) and g injective, an encoder onto the sphere and "
        "a diagonal Λ̂ minimising AnInfoNCE, InfoNCE with the critic "
        "exp(−½ (f(x) − f(x̃))ᵀΛ̂(f(x) − f(x̃))) (infinitely many negatives), make "
        "h = f∘g block-orthogonal, the blocks being the latents of equal concentration, "
        "with Λ̂ = Λ up to the same permutation; pairwise distinct concentrations (the "
        "canonical λ = 2, 10, 30) leave a permutation with sign flips. InfoNCE's isotropic "
        "critic on the same data is outside the theorem (learner-objective) and partly "
        "collapses the strongly varying latent.",
        canonical=lambda: Process(
            latents.UniformSphere(3),
            mixings.InvertibleMLP(3, depth=3, seed=0),
            conditionals.AnisotropicNormal((2.0, 10.0, 30.0)),
        ),
    )
)

register(
    Theorem(
        name="ivae",
        assumptions=variability("ivae"),
        learner="ivae",
        claim=C.permutation_elementwise(0.95),
        cite="Khemakhem, Kingma, Monti & Hyvärinen 2020, 'Variational autoencoders and "
        "nonlinear ICA: a unifying framework', AISTATS, Theorem 1 (identifiability up to "
        "~_A) with Theorem 2 (k >= 2 sufficient statistics per source) or 3 (k = 1, "
        "non-monotonic statistics) for permutation and elementwise maps, and Theorem 4 "
        "(consistency of the iVAE estimator)",
        summary="For sources conditionally independent given an observed auxiliary variable u, "
        "each in an exponential family with k sufficient statistics whose natural parameters "
        "vary enough across values of u (nk + 1 values with [λ(u) − λ(u₀)] invertible), an "
        "injective g and a noise whose characteristic function vanishes only on a set of "
        "measure zero (Thm 1 (i)), the model is "
        "identifiable up to an affine map of the sufficient statistics (Thm 1), and up to "
        "permutation and elementwise maps when k >= 2 (Thm 2; here Gaussian sources whose "
        "means and variances change across segments, t = (z, z²)); a VAE with a u-conditional "
        "factorial prior maximising the ELBO recovers it in the limit of infinite data when "
        "its posterior family contains the true posterior (Thm 4 (1)). sith's learner encodes "
        "x alone (the true posterior does not depend on u for noiseless observations) with a "
        "Gaussian posterior and a decoder variance of 0.01 on noiseless data: the true "
        "posterior is a point mass that family reaches only in the limit, so Thm 4 (1) holds "
        "approximately at best. It is an idealisation of the learner, like the infinite data "
        "of Thm 4, named here and not checked.",
        canonical=lambda: Process(
            latents.Segmented(3, n_segments=40, base="normal", location=1.0, spread=1.5, seed=0),
            mixings.InvertibleMLP(3, depth=3, seed=0, negative_slope=0.5),
        ),
    )
)

__all__ = ["Theorem", "catalogue", "get", "names", "register"]
