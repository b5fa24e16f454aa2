"""Search spaces: the neighbourhood of a theorem's canonical process that a search explores.

A space fixes the ranges of every searched parameter: dimension, latent family, mixing
class and depth, conditional family and its concentration/scale, and learner options
(training steps, batch size, sample size). Options are listed simplest first: that is
where hypothesis shrinks a counterexample to.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

import theory as th
from verification import strategies as sst


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
        for key in ("depth",):
            if hasattr(p.mixing, key):
                out[key] = getattr(p.mixing, key)
        for key in ("kappa", "scale", "p"):
            if p.conditional is not None and hasattr(p.conditional, key):
                out[key] = getattr(p.conditional, key)
        if isinstance(p.latent, th.latents.Segmented):
            out["n_segments"] = p.latent.n_segments
            out["spread"] = p.latent.spread
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
        )
        options = st.fixed_dictionaries(
            {k: st.sampled_from(list(v)) for k, v in self.learner_options.items()}
        )
        return st.builds(Candidate, processes, options)

    def validate(self) -> None:
        """Raise ValueError naming the problem if some dimension has no valid process."""
        low, high = self.dims
        if not 1 <= low <= high:
            raise ValueError(f"dims must satisfy 1 <= low <= high, got {self.dims}")
        for n in range(low, high + 1):
            sst.latents(n, self.latents)
            sst.mixings(n, self.mixings, self.depth)
        sst.conditionals(self.conditionals, self.kappa, self.scale, self.content)
        for key, values in self.learner_options.items():
            if not values:
                raise ValueError(f"learner option {key!r} has no values")

    def narrow(self, **changes: Any) -> SearchSpace:
        """A copy with some ranges replaced, e.g. ``space.narrow(dims=(2, 3))``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown search-space field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
    "linear-ica": SearchSpace(
        dims=(2, 6),
        latents=("laplace", "uniform", "generalized-normal", "normal"),
        mixings=("linear", "invertible-mlp"),
        conditionals=("none",),
        learner_options={"n_train": (10_000, 2000, 500, 100)},
    ),
    "tcl": SearchSpace(
        dims=(2, 4),
        latents=("segmented",),
        mixings=("invertible-mlp", "linear", "fold"),
        conditionals=("none",),
        learner_options={"train.steps": (800, 400, 100), "n_train": (10_000, 2000, 500)},
    ),
}


def default_space(theorem: th.Theorem) -> SearchSpace:
    """The theorem's default space; a theorem without one gets its canonical process only."""
    if theorem.name in DEFAULT_SPACES:
        return DEFAULT_SPACES[theorem.name]
    raise ValueError(f"theorem {theorem.name!r} has no default search space; pass space=")


def apply_options(learner, options: dict[str, Any]) -> None:
    """Set dotted options like ``train.steps`` on a learner, re-validating each config.

    Only leaf values can be set (not a whole sub-config), and the config's own checks
    run again, so ``train.steps=0`` is refused just as ``TrainConfig(steps=0)`` is.
    """
    for key, value in options.items():
        target = learner
        *path, leaf = key.split(".")
        for part in path:
            if part.startswith("_") or not hasattr(target, part):
                raise ValueError(f"learner {learner.name} has no option {key!r}")
            target = getattr(target, part)
        if leaf.startswith("_") or not hasattr(target, leaf):
            raise ValueError(f"learner {learner.name} has no option {key!r}")
        if dataclasses.is_dataclass(getattr(target, leaf)):
            raise ValueError(f"{key!r} is a group of options; set its fields, e.g. {key}.steps")
        setattr(target, leaf, value)
        if dataclasses.is_dataclass(target) and hasattr(target, "__post_init__"):
            try:
                target.__post_init__()
            except (ValueError, TypeError) as err:
                raise ValueError(f"invalid value for {key!r}: {err}") from None


__all__ = ["DEFAULT_SPACES", "Candidate", "SearchSpace", "apply_options", "default_space"]
