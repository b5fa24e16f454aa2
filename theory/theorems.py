"""Theorems: assumptions + learner + claim + citation, and the catalogue of classics."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from theory import assumptions as A
from theory import claims as C
from theory import conditionals, latents, mixings
from theory import learner_conditions as LC
from theory.errors import InvalidArgument, UnknownName
from theory.process import Process


@dataclass
class Theorem:
    """If every assumption holds, the learner recovers z up to the claim's indeterminacy.

    ``learner`` names a registered learner of ``verification.learners`` (e.g. "infonce",
    "fastica"), or is a learner instance, or ``(name, {option: value})`` (e.g.
    ``("infonce", {"tau": 0.1})``): the learner's configuration is part of the theorem.
    ``canonical`` builds the process the paper studies (used as a default everywhere).
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

    def __post_init__(self) -> None:
        if not self.module:
            self.module = sys._getframe(2).f_globals.get("__name__", "__main__")
        self.assumptions = tuple(self.assumptions)
        for a in self.assumptions:
            if not isinstance(a, A.Assumption):
                raise InvalidArgument(f"theorem {self.name!r}: {a!r} is not an Assumption")
        if not isinstance(self.claim, C.Claim):
            raise InvalidArgument(f"theorem {self.name!r}: claim must be a theory.claims.Claim")

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
        }


_CATALOGUE: dict[str, Theorem] = {}


def register(theorem: Theorem, *, replace: bool = False) -> Theorem:
    """Add a theorem to the catalogue, so ``get``, the CLI and searches find it by name.

    An existing name is refused unless ``replace=True``. The module that registers it is
    remembered, so a "reproduce" line can carry the ``--import`` it needs.
    """
    if not isinstance(theorem, Theorem):
        raise InvalidArgument(f"register expects a theory.Theorem, got {type(theorem).__name__}")
    if theorem.name in _CATALOGUE and not replace and _CATALOGUE[theorem.name] is not theorem:
        raise InvalidArgument(
            f"a theorem named {theorem.name!r} is already registered; pass replace=True"
        )
    _CATALOGUE[theorem.name] = theorem
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
    if name not in _CATALOGUE:
        raise UnknownName(f"unknown theorem {name!r}; known: {', '.join(names())}")
    return _CATALOGUE[name]


def names() -> list[str]:
    return sorted(_CATALOGUE)


def catalogue() -> list[Theorem]:
    return [_CATALOGUE[n] for n in names()]


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
        assumptions=(
            A.UniformOnSphere(),
            A.ConditionalFamily("VonMisesFisher"),
            A.Injective(),
            LC.LearnerObjective(("infonce",)),
            LC.MatchedTemperature(),
        ),
        learner="infonce",
        claim=C.orthogonal(0.95),
        cite="Zimmermann, Sharma, Schneider, Bethge & Brendel 2021, 'Contrastive learning inverts "
        "the data generating process', ICML, Theorem 2",
        summary="For z uniform on the sphere, positives from a vMF conditional with "
        "concentration κ and an injective g, a minimiser of the contrastive (InfoNCE) loss "
        "with an encoder onto the sphere and the critic exp(f(x)ᵀf(x̃)/τ), τ = 1/κ, in the "
        "limit of infinitely many negatives, recovers z up to an orthogonal map. sith's "
        "default learner uses τ ≈ 3/κ (the matched τ folds a direction in practice), "
        "which is outside the theorem: matched-temperature says so.",
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
        assumptions=(
            A.Injective(),
            A.Immersion(),
            A.ContentInvariance(),
            LC.LearnerObjective(("infonce",)),
            LC.ContentSizedEncoder(),
        ),
        learner="infonce-content",
        claim=C.block(content=2, threshold=0.9),
        cite="von Kügelgen, Sharma, Gresele, Brendel, Schölkopf, Besserve & Locatello 2021, "
        "'Self-supervised learning with data augmentations provably isolates content from "
        "style', NeurIPS, Theorem 4.4",
        summary="For g a smooth diffeomorphism, p(z) smooth with positive density, a "
        "style-change conditional that keeps the content and has positive density on an "
        "open set around the style, an encoder with n_c outputs minimising alignment plus "
        "the negative entropy of its outputs (InfoNCE approximates it) block-identifies "
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
        assumptions=(
            A.Injective(),
            A.SufficientVariability(),
            LC.LearnerObjective(("tcl",)),
            LC.EnoughFeatures(),
        ),
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

__all__ = ["Theorem", "catalogue", "get", "names", "register"]
