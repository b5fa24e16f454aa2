"""Search spaces: the neighbourhood of a theorem's canonical process that a search explores.

A space fixes the ranges of every searched parameter: dimension, latent family, mixing
class and depth, conditional family and its concentration/scale, and learner options
(training steps, batch size, sample size). Options are listed simplest first: that is
where hypothesis shrinks a counterexample to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

import theory as th
from theory.errors import InvalidArgument, UnknownName
from verification import strategies as sst
from verification._candidate import Candidate
from verification._options import apply_options, option_names
from verification.registry import Registry


@dataclass(frozen=True)
class Outside:
    """A value of one search axis that lies outside the theorem: a candidate that takes
    it violates ``assumptions`` (the theorem's own checks decide; declared with the space,
    or found by probing, see ``verification._search.outside``).

    ``axis`` is "latent", "mixing", "view_mixing", "conditional" (family names), "beta"
    (a generalized-normal conditional's exponent) or a learner option (e.g. "tau_kappa").
    """

    axis: str
    value: Any
    assumptions: tuple[str, ...]

    def __post_init__(self) -> None:
        names = self.assumptions
        object.__setattr__(
            self, "assumptions", (names,) if isinstance(names, str) else tuple(names)
        )
        if not self.assumptions or not all(isinstance(a, str) and a for a in self.assumptions):
            raise InvalidArgument(
                f"Outside({self.axis!r}, {self.value!r}): name the assumption(s) it violates"
            )


FAMILY_AXES = {
    "latent": "latents",
    "mixing": "mixings",
    "view_mixing": "view_mixings",
    "conditional": "conditionals",
    "beta": "betas",
}
INSIDE = "inside"  # the aim of candidates meant to satisfy every assumption


@dataclass(frozen=True)
class SearchSpace:
    """The neighbourhood of a theorem's canonical process that a search explores.

    Every axis lists its values simplest (canonical) first: that is where hypothesis
    shrinks to. ``outside`` says which values lie outside the theorem and which
    assumption(s) each violates (every other value is inside); None leaves that to a
    probe at the start of the search. A search spends ``inside_share`` of its budget on
    candidates inside the theorem (hunting failures) and the rest on candidates that
    violate exactly one assumption (gaps that name the one assumption they show to be
    unnecessary there): see :meth:`strategy`.
    """

    dims: tuple[int, int] = (2, 4)
    latents: tuple[str, ...] = ("uniform-sphere",)
    mixings: tuple[str, ...] = ("invertible-mlp",)
    conditionals: tuple[str, ...] = ("vmf",)
    depth: tuple[int, int] = (1, 3)
    kappa: tuple[float, float] = (1.0, 50.0)
    scale: tuple[float, float] = (0.05, 1.0)
    content: int = 1
    learner_options: dict[str, tuple] = field(default_factory=dict)
    # mixing classes of the positive view's own mixing (Process.view_mixing); () draws
    # single-view processes
    view_mixings: tuple[str, ...] = ()
    # exponents of a generalized-normal conditional, simplest first
    betas: tuple[float, ...] = sst.BETAS
    outside: tuple[Outside, ...] | None = None
    inside_share: float = 0.4

    # --- axes and what lies outside ----------------------------------------------------
    def axes(self) -> dict[str, tuple]:
        """Every axis whose values are listed: families, β, learner options."""
        out: dict[str, tuple] = {
            "latent": tuple(self.latents),
            "mixing": tuple(self.mixings),
            "conditional": tuple(self.conditionals),
        }
        if self.view_mixings:
            out["view_mixing"] = tuple(self.view_mixings)
        if "generalized-normal" in self.conditionals:
            out["beta"] = tuple(self.betas)
        out.update({k: tuple(v) for k, v in self.learner_options.items()})
        return out

    def violated_by(self, axis: str, value: Any) -> tuple[str, ...]:
        """The assumptions that choosing ``value`` on ``axis`` violates (() inside)."""
        for entry in self.outside or ():
            if entry.axis == axis and _same(entry.value, value):
                return entry.assumptions
        return ()

    def inside_values(self, axis: str) -> tuple:
        return tuple(v for v in self.axes()[axis] if not self.violated_by(axis, v))

    def single_violations(self) -> dict[str, list[tuple[str, Any]]]:
        """Per assumption, the (axis, value) choices that violate it and no other, where
        every other axis keeps an inside value: the gaps this space can pin."""
        inside = {axis: self.inside_values(axis) for axis in self.axes()}
        out: dict[str, list[tuple[str, Any]]] = {}
        for axis, values in self.axes().items():
            others_ok = all(inside[a] for a in inside if a != axis)
            for value in values:
                names = self.violated_by(axis, value)
                if len(names) == 1 and others_ok:
                    out.setdefault(names[0], []).append((axis, value))
        return out

    def aims(self) -> tuple[str, ...]:
        """What candidates can aim at: "inside" (when every axis has an inside value)
        and each assumption that some single choice violates alone."""
        inside_ok = all(self.inside_values(axis) for axis in self.axes())
        return ((INSIDE,) if inside_ok else ()) + tuple(self.single_violations())

    # --- strategies ----------------------------------------------------------------------
    def strategy(self, aim: str | Sequence[str] | None = None) -> st.SearchStrategy[Candidate]:
        """Candidates of the space: all of it (``aim=None``); only inside the theorem
        (``"inside"``); violating exactly the named assumption (its name), every other
        axis inside; or any of several aims (a sequence: the first is where it shrinks)."""
        if aim is None:
            return self._candidates()
        if not isinstance(aim, str):
            aims = tuple(aim)
            if not aims:
                raise InvalidArgument("strategy: no aim given")
            return st.sampled_from(aims).flatmap(self.strategy)
        inside = {axis: self.inside_values(axis) for axis in self.axes()}
        if aim == INSIDE:
            empty = [axis for axis, values in inside.items() if not values]
            if empty:
                raise InvalidArgument(
                    f"the search space has no value inside the theorem on axis {', '.join(empty)}"
                )
            return self._restricted(inside)._candidates()
        choices = self.single_violations().get(aim)
        if not choices:
            raise InvalidArgument(f"the search space cannot violate {aim!r} alone")
        by_axis: dict[str, list] = {}
        for axis, value in choices:
            by_axis.setdefault(axis, []).append(value)
        options = []
        for axis, values in by_axis.items():
            chosen = {**inside, axis: tuple(values)}
            if axis == "beta":  # an exponent matters only to the generalized normal
                chosen["conditional"] = ("generalized-normal",)
            options.append(self._restricted(chosen)._candidates())
        return st.one_of(options)

    def _restricted(self, values: dict[str, tuple]) -> SearchSpace:
        changes: dict[str, Any] = {}
        options = dict(self.learner_options)
        for axis, chosen in values.items():
            if axis in FAMILY_AXES:
                changes[FAMILY_AXES[axis]] = tuple(chosen)
            else:
                options[axis] = tuple(chosen)
        return dataclasses.replace(self, learner_options=options, **changes)

    def _candidates(self) -> st.SearchStrategy[Candidate]:
        processes = sst.processes(
            self.dims,
            self.latents,
            self.mixings,
            self.conditionals,
            depth=self.depth,
            kappa=self.kappa,
            scale=self.scale,
            content=self.content,
            view_mixing_classes=self.view_mixings,
            betas=self.betas,
        )
        options = st.fixed_dictionaries(
            {k: st.sampled_from(list(v)) for k, v in self.learner_options.items()}
        )
        return st.builds(Candidate, processes, options)

    def validate(self) -> None:
        """Raise ValueError naming the problem if some dimension has no valid process."""
        low, high = self.dims
        if not 1 <= low <= high:
            raise InvalidArgument(f"dims must satisfy 1 <= low <= high, got {self.dims}")
        for n in range(low, high + 1):
            sst.latents(n, self.latents)
            sst.mixings(n, self.mixings, self.depth)
            if self.view_mixings:
                sst.mixings(n, self.view_mixings, self.depth)
        if self.view_mixings and "none" in self.conditionals:
            raise InvalidArgument(
                "view_mixings need positive pairs: conditionals may not include 'none'"
            )
        sst.conditionals(self.conditionals, self.kappa, self.scale, self.content, _images=True)
        if "augment" in self.conditionals and not set(self.mixings) & sst.IMAGE_MIXINGS:
            raise InvalidArgument(
                "conditional 'augment' augments rendered images: it needs an image mixing "
                f"family ({', '.join(sorted(sst.IMAGE_MIXINGS))}) among mixings, got "
                f"{', '.join(self.mixings)}"
            )
        for key, values in self.learner_options.items():
            if not values:
                raise InvalidArgument(f"learner option {key!r} has no values")
        if not self.betas or not all(
            isinstance(b, (int, float)) and not isinstance(b, bool) and 0.1 <= b <= 100
            for b in self.betas
        ):
            raise InvalidArgument(f"betas must be exponents in [0.1, 100], got {self.betas!r}")
        share = self.inside_share
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise InvalidArgument(f"inside_share must be a fraction in [0, 1], got {share!r}")
        axes = self.axes()
        for entry in self.outside or ():
            if not isinstance(entry, Outside):
                raise InvalidArgument(f"outside entries must be Outside(...), got {entry!r}")
            if entry.axis not in axes and entry.axis not in FAMILY_AXES:
                raise InvalidArgument(
                    f"outside names the axis {entry.axis!r}, which the space does not have "
                    f"(axes: {', '.join(axes)})"
                )

    def narrow(self, **changes: Any) -> SearchSpace:
        """A copy with some ranges replaced, e.g. ``space.narrow(dims=(2, 3))``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise InvalidArgument(f"unknown search-space field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if not self.view_mixings:  # absent when unused: single-view searches keep their hash
            del data["view_mixings"]
        data["outside"] = (
            None
            if self.outside is None
            else [
                {"axis": o.axis, "value": o.value, "assumptions": list(o.assumptions)}
                for o in self.outside
            ]
        )
        return data


def _same(a: Any, b: Any) -> bool:
    """Equal values of an axis (1 and 1.0 are one value, True and 1 are not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _out(axis: str, assumption: str, *values: Any) -> tuple[Outside, ...]:
    return tuple(Outside(axis, v, (assumption,)) for v in values)


# learner budgets, canonical first: small ones are where finite-budget failures live;
# encoder width and learning rate are inductive biases the theorems say nothing about.
# A fixed grid for every dimension of the space, set explicitly on every candidate (at
# n = 3 it is the learner's old default; InfoNCE's own is now 256 x 600 there, see
# InfoNCE.default_batch): changing it would change every stored search
_INFONCE_OPTIONS = {
    "train.steps": (400, 200, 100),
    "train.batch_size": (512, 256, 64),
    "train.lr": (1e-2, 3e-3),
    "encoder.width": (64, 16),
}
# the temperature as τκ: 1 is the theorem's matched τ = 1/κ; the others violate it alone
_TAU_KAPPA = (1.0, 3.0, 2.0, 0.5)
# content-block theorems: the estimator of alignment minus entropy is τ = 1 with the
# squared distance (squared-euclidean-critic); another τ violates that alone
_CONTENT_OPTIONS = {"tau": (1.0, 0.2), **_INFONCE_OPTIONS}
_CONTENT_TAU_OUTSIDE = _out("tau", "squared-euclidean-critic", 0.2)

def _content_space(folded: str, **mixings: tuple[str, ...]) -> SearchSpace:
    """The space of a content-block theorem (content-style, multiview): the fold of the
    ``folded`` mechanism violates injective and immersion together; a Laplace latent the
    smooth density (|z_i| is not smooth at 0: von Kügelgen et al., Thm 4.2 (ii)); noise
    positives keep no content; another τ leaves the papers' estimator."""
    return SearchSpace(
        dims=(3, 5),
        latents=("normal", "laplace", "uniform"),
        conditionals=("content-style", "normal"),
        content=2,
        learner_options=_CONTENT_OPTIONS,
        outside=(
            *_CONTENT_TAU_OUTSIDE,
            Outside(folded, "fold", ("injective", "immersion")),
            *_out("latent", "smooth-positive-density", "laplace"),
            Outside("conditional", "normal", ("content-invariance", "content-sized-encoder")),
        ),
        **mixings,
    )


DEFAULT_SPACES: dict[str, SearchSpace] = {
    "cl-ica": SearchSpace(
        dims=(2, 4),
        latents=("uniform-sphere", "cluster-sphere", "normal"),
        mixings=("invertible-mlp", "linear", "mobius", "fold"),
        conditionals=("vmf", "laplace", "normal"),
        kappa=(2.0, 40.0),
        scale=(0.05, 0.5),
        learner_options={"tau_kappa": _TAU_KAPPA, **_INFONCE_OPTIONS},
        outside=(
            # a non-uniform law on the sphere (vMF clusters): positives stay vMF
            *_out("latent", "uniform-on-sphere", "cluster-sphere"),
            # anchors off the sphere also break the vMF conditional
            Outside("latent", "normal", ("uniform-on-sphere", "conditional-family")),
            *_out("mixing", "injective", "fold"),
            # noise conditionals have no κ to match a temperature to
            *(
                Outside(c, v, ("conditional-family", "matched-temperature"))
                for c, v in (("conditional", "laplace"), ("conditional", "normal"))
            ),
            *_out("tau_kappa", "matched-temperature", 3.0, 2.0, 0.5),
        ),
    ),
    # a fold is neither injective nor an immersion (its Jacobian is singular on the fold):
    # the space cannot violate either alone; multiview folds its second view's mechanism
    "content-style": _content_space("mixing", mixings=("invertible-mlp", "linear", "fold")),
    "multiview": _content_space(
        "view_mixing",
        mixings=("invertible-mlp", "linear"),
        view_mixings=("invertible-mlp", "linear", "fold"),
    ),
    "linear-ica": SearchSpace(
        dims=(2, 6),
        latents=("laplace", "uniform", "generalized-normal", "normal"),
        mixings=("linear", "invertible-mlp"),
        conditionals=("none",),
        depth=(2, 3),  # depth 1 is a linear map: every searched MLP is nonlinear
        learner_options={"n_train": (10_000, 2000, 500, 100)},
        outside=(
            *_out("latent", "non-gaussian", "normal"),
            *_out("mixing", "linear-mixing", "invertible-mlp"),
        ),
    ),
    "cross-entropy": SearchSpace(
        dims=(3, 5),
        latents=("cluster-sphere",),
        mixings=("invertible-mlp", "linear", "fold"),
        conditionals=("none",),
        learner_options={
            "train.steps": (1000, 400, 100),
            "train.batch_size": (512, 128),
            "train.lr": (1e-2, 3e-3),
        },
        outside=_out("mixing", "injective", "fold"),
    ),
    "tcl": SearchSpace(
        dims=(2, 4),
        latents=("segmented",),
        mixings=("invertible-mlp", "linear", "fold"),
        conditionals=("none",),
        learner_options={"train.steps": (800, 400, 100), "n_train": (10_000, 2000, 500)},
        outside=_out("mixing", "injective", "fold"),
    ),
    # iVAE: Gaussian segments with moving means and variances (t = (z, z²)); the
    # canonical mixing is milder (negative_slope 0.5) than the searched default (0.2)
    "ivae": SearchSpace(
        dims=(2, 4),
        latents=("segmented-normal",),
        mixings=("invertible-mlp", "linear", "fold"),
        conditionals=("none",),
        learner_options={
            "train.steps": (1500, 750, 300),
            "n_train": (40_000, 10_000, 2000),
            "candidates": (4, 1),
        },
        outside=_out("mixing", "injective", "fold"),
    ),
    # the convex-body theorem: box latents, Lp conditionals (α = 2 and the projected
    # Laplace/normal noise are outside it), with the theorem's own learner budgets
    "cl-ica-box": SearchSpace(
        dims=(2, 4),
        latents=("uniform", "normal"),
        mixings=("invertible-mlp", "linear", "fold"),
        conditionals=("generalized-normal", "laplace", "normal"),
        scale=(0.05, 0.3),
        betas=(1.0, 2.0, 1.5, 3.0),
        learner_options={
            "train.steps": (400, 200, 100),
            "train.batch_size": (256, 128, 64),
            "encoder.width": (64, 16),
        },
        outside=(
            *_out("latent", "uniform-on-convex-body", "normal"),
            *_out("mixing", "injective", "fold"),
            # projected onto the box: atoms on its faces (α = 1 still matches the critic)
            *_out("conditional", "conditional-family", "laplace"),
            Outside("conditional", "normal", ("conditional-family", "matched-lp-critic")),
            *_out("beta", "matched-lp-critic", 2.0),
        ),
    ),
    # AnInfoNCE: anisotropic positives on the sphere; vMF is the isotropic case (all λ
    # equal, where the theorem leaves a rotation), named as another family
    # (conditional-family violated)
    "anisotropic-infonce": SearchSpace(
        dims=(2, 4),
        latents=("uniform-sphere", "cluster-sphere"),
        mixings=("invertible-mlp", "linear", "fold"),
        conditionals=("anisotropic-normal", "vmf"),
        kappa=(2.0, 20.0),
        learner_options={
            "train.steps": (600, 300, 100),
            "train.batch_size": (512, 256, 64),
            "encoder.width": (64, 16),
        },
        outside=(
            *_out("latent", "uniform-on-sphere", "cluster-sphere"),
            *_out("mixing", "injective", "fold"),
            # on the sphere a vMF is AnisotropicNormal(κ, …, κ): one concentration
            *_out("conditional", "distinct-concentrations", "vmf"),
        ),
    ),
}


SPACES = Registry("search space", DEFAULT_SPACES)


def register_space(theorem: str | th.Theorem, space: SearchSpace, *, replace: bool = False):
    """Register ``space`` as the default search space of ``theorem`` (a name or Theorem),
    so ``sith search NAME`` and ``search(theorem)`` use it. It is validated now."""
    name = theorem.name if isinstance(theorem, th.Theorem) else theorem
    if not isinstance(space, SearchSpace):
        raise InvalidArgument(f"register_space expects a SearchSpace, got {space!r}")
    space.validate()
    return SPACES.register(name, space, replace=replace)


def default_space(theorem: th.Theorem) -> SearchSpace:
    """The theorem's default (registered) search space."""
    if theorem.name in SPACES:
        return SPACES[theorem.name]
    raise UnknownName(
        f"theorem {theorem.name!r} has no registered search space; search derives one from "
        "its canonical process (verification.space_for), or register one with "
        "verification.spaces.register_space"
    )


__all__ = [
    "DEFAULT_SPACES",
    "INSIDE",
    "SPACES",
    "Candidate",
    "Outside",
    "SearchSpace",
    "apply_options",
    "default_space",
    "option_names",
    "register_space",
]


# the theorems on rendered images (theory/pixel_theorems.py) search images of the
# "sprites" mixing family (verification/strategies.py) with image augmentations
# ("augment": translations, crops, colour jitter) and latent-space conditionals;
# image budgets: each evaluation renders and trains a CNN
_IMAGE_OPTIONS = {"train.steps": (200, 100, 50), "train.batch_size": (256, 128)}
PIXEL_SPACES: dict[str, SearchSpace] = {
    "cl-ica-pixels": SearchSpace(
        dims=(2, 3),
        latents=("uniform-sphere",),
        mixings=("sprites",),
        conditionals=("vmf", "laplace"),
        kappa=(2.0, 40.0),
        learner_options=_IMAGE_OPTIONS,
    ),
    "content-style-pixels": SearchSpace(
        dims=(3, 5),
        latents=("uniform",),
        mixings=("sprites",),
        # image augmentations first (the theorem's canonical kind), latent-space ones too
        conditionals=("augment", "content-style", "normal"),
        content=2,
        learner_options=_IMAGE_OPTIONS,
    ),
}
for _name, _space in PIXEL_SPACES.items():
    register_space(_name, _space)
