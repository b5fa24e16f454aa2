"""Search spaces: the neighbourhood of a theorem's canonical process that a search explores.

A space fixes the ranges of every searched parameter: dimension, latent family, mixing
class and depth, conditional family and its concentration/scale, and learner options
(training steps, batch size, sample size). Options are listed simplest first: that is
where hypothesis shrinks a counterexample to.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

import theory as th
from theory.errors import InvalidArgument, UnknownName
from verification import strategies as sst
from verification.registry import Registry


@dataclass(frozen=True)
class Candidate:
    """One point of a search space: a process and the learner options to train it with."""

    process: th.Process
    learner_options: dict[str, Any]

    def params(self) -> dict[str, Any]:
        """Flat, plottable description of the searched parameters."""
        p = self.process
        out: dict[str, Any] = {
            "dim": p.dim,
            "latent": p.latent.family,
            "mixing": p.mixing.family,
            "conditional": None if p.conditional is None else p.conditional.family,
        }
        if p.view_mixing is not None:  # a two-view process (absent key otherwise)
            out["view_mixing"] = p.view_mixing.family
        for key in ("depth",):
            if hasattr(p.mixing, key):
                out[key] = getattr(p.mixing, key)
        for key in ("kappa", "scale", "p", "beta"):
            if p.conditional is not None and hasattr(p.conditional, key):
                out[key] = getattr(p.conditional, key)
        if isinstance(p.latent, th.latents.Segmented):
            out["n_segments"] = p.latent.n_segments
            out["spread"] = p.latent.spread
            if p.latent.location:
                out["location"] = p.latent.location
        if isinstance(p.latent, th.latents.ClusterSphere):
            out["n_clusters"] = p.latent.n_clusters
            out["cluster_kappa"] = p.latent.kappa
        out.update(self.learner_options)
        return out


@dataclass(frozen=True)
class SearchSpace:
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

    def strategy(self) -> st.SearchStrategy[Candidate]:
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
        sst.conditionals(self.conditionals, self.kappa, self.scale, self.content)
        for key, values in self.learner_options.items():
            if not values:
                raise InvalidArgument(f"learner option {key!r} has no values")

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
        return data


# learner budgets, canonical first: small ones are where finite-budget failures live
_INFONCE_OPTIONS = {"train.steps": (400, 200, 100), "train.batch_size": (512, 256, 64)}

DEFAULT_SPACES: dict[str, SearchSpace] = {
    "cl-ica": SearchSpace(
        dims=(2, 4),
        latents=("uniform-sphere", "normal"),
        mixings=("invertible-mlp", "linear", "mobius", "fold"),
        conditionals=("vmf", "laplace", "normal"),
        kappa=(2.0, 40.0),
        scale=(0.05, 0.5),
        learner_options=_INFONCE_OPTIONS,
    ),
    "content-style": SearchSpace(
        dims=(3, 5),
        latents=("normal", "laplace", "uniform"),
        mixings=("invertible-mlp", "linear"),
        conditionals=("content-style", "normal"),
        content=2,
        learner_options=_INFONCE_OPTIONS,
    ),
    "multiview": SearchSpace(
        dims=(3, 5),
        latents=("normal", "laplace", "uniform"),
        mixings=("invertible-mlp", "linear"),
        view_mixings=("invertible-mlp", "linear", "fold"),
        conditionals=("content-style", "normal"),
        content=2,
        learner_options=_INFONCE_OPTIONS,
    ),
    "linear-ica": SearchSpace(
        dims=(2, 6),
        latents=("laplace", "uniform", "generalized-normal", "normal"),
        mixings=("linear", "invertible-mlp"),
        conditionals=("none",),
        learner_options={"n_train": (10_000, 2000, 500, 100)},
    ),
    "cross-entropy": SearchSpace(
        dims=(3, 5),
        latents=("cluster-sphere",),
        mixings=("invertible-mlp", "linear", "fold"),
        conditionals=("none",),
        learner_options={"train.steps": (1000, 400, 100), "train.batch_size": (512, 128)},
    ),
    "tcl": SearchSpace(
        dims=(2, 4),
        latents=("segmented",),
        mixings=("invertible-mlp", "linear", "fold"),
        conditionals=("none",),
        learner_options={"train.steps": (800, 400, 100), "n_train": (10_000, 2000, 500)},
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
    ),
    # the convex-body theorem: box latents, Lp conditionals (β = 2 and the projected
    # Laplace/normal noise are outside it), with the theorem's own learner budgets
    "cl-ica-box": SearchSpace(
        dims=(2, 4),
        latents=("uniform", "normal"),
        mixings=("invertible-mlp", "linear"),
        conditionals=("generalized-normal", "laplace", "normal"),
        scale=(0.05, 0.3),
        learner_options={"train.steps": (400, 200, 100), "train.batch_size": (256, 128, 64)},
    ),
    # AnInfoNCE: anisotropic positives on the sphere; vMF is the isotropic case (all λ
    # equal, where the theorem leaves a rotation), named as another family
    # (conditional-family violated)
    "anisotropic-infonce": SearchSpace(
        dims=(2, 4),
        latents=("uniform-sphere",),
        mixings=("invertible-mlp", "linear"),
        conditionals=("anisotropic-normal", "vmf"),
        kappa=(2.0, 20.0),
        learner_options={"train.steps": (600, 300, 100), "train.batch_size": (512, 256, 64)},
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
        f"theorem {theorem.name!r} has no default search space; register one with "
        "verification.spaces.register_space (or pass space= in Python)"
    )


def apply_options(learner, options: dict[str, Any]) -> None:
    """Set dotted options like ``train.steps`` on a learner, validating each value first.

    Every part of a key must be a dataclass field of the learner (``name`` and private
    attributes are not options); only leaf values can be set (not a whole sub-config);
    a value must have the field's declared type (an int for ``train.steps``, one of the
    listed strings for a ``Literal``); and the config's own checks run again, so
    ``train.steps=0`` is refused just as ``TrainConfig(steps=0)`` is. Nothing is changed
    when any option is refused.
    """
    if not isinstance(options, dict):
        raise InvalidArgument(f"options must be a dict of KEY: VALUE, got {options!r}")
    undo: list[tuple[Any, str, Any]] = []
    try:
        for key, value in options.items():
            target, leaf = _option_target(learner, key)
            _check_type(key, value, typing.get_type_hints(type(target)).get(leaf, Any))
            undo.append((target, leaf, getattr(target, leaf)))
            setattr(target, leaf, value)
            try:
                if hasattr(target, "__post_init__"):
                    target.__post_init__()
            except (ValueError, TypeError) as err:
                raise InvalidArgument(f"invalid value for {key!r}: {err}") from None
    except InvalidArgument:
        for target, leaf, previous in reversed(undo):  # all or nothing
            setattr(target, leaf, previous)
        raise


def option_names(learner) -> list[str]:
    """Every dotted option a learner accepts (e.g. ``train.steps``)."""
    out = []
    for f in dataclasses.fields(learner):
        value = getattr(learner, f.name)
        if dataclasses.is_dataclass(value):
            out += [f"{f.name}.{g.name}" for g in dataclasses.fields(value)]
        else:
            out.append(f.name)
    return out


def _option_target(learner, key: Any) -> tuple[Any, str]:
    """The config object and field name that ``key`` addresses, after type checks."""
    if not isinstance(key, str) or not key:
        raise InvalidArgument(f"option names are dotted strings, got {key!r}")
    *path, leaf = key.split(".")
    target = learner
    for part in [*path, leaf]:
        fields = (
            {f.name: f for f in dataclasses.fields(target)}
            if dataclasses.is_dataclass(target)
            else {}
        )
        if part not in fields:
            known = ", ".join(option_names(learner)) if dataclasses.is_dataclass(learner) else ""
            raise InvalidArgument(
                f"learner {learner.name} has no option {key!r}; options: {known or 'none'}"
            )
        if part is leaf:
            break
        target = getattr(target, part)
    if dataclasses.is_dataclass(getattr(target, leaf)):
        raise InvalidArgument(f"{key!r} is a group of options; set its fields, e.g. {key}.steps")
    return target, leaf


def _check_type(key: str, value: Any, annotation: Any) -> None:
    """Raise InvalidArgument unless ``value`` fits ``annotation`` (int, float, bool, str,
    None, Literal[...], unions of these, tuple[...] of them)."""
    if not _fits(value, annotation):
        if typing.get_origin(annotation) is typing.Literal:
            shown = "one of " + ", ".join(map(repr, typing.get_args(annotation)))
        else:
            shown = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
        raise InvalidArgument(f"invalid value for {key!r}: expected {shown}, got {value!r}")


def _fits(value: Any, annotation: Any) -> bool:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return True
    if annotation is None or annotation is type(None):
        return value is None
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(
            _fits(v, a) for v, a in zip(value, args, strict=True)
        )
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True  # an annotation this checker does not know: the config's own checks decide


__all__ = [
    "DEFAULT_SPACES",
    "SPACES",
    "Candidate",
    "SearchSpace",
    "apply_options",
    "default_space",
    "register_space",
]


# the theorems on rendered images (theory/pixel_theorems.py) search images of the
# "sprites" mixing family (verification/strategies.py) with latent-space conditionals;
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
        conditionals=("content-style", "normal"),
        content=2,
        learner_options=_IMAGE_OPTIONS,
    ),
}
for _name, _space in PIXEL_SPACES.items():
    register_space(_name, _space)
