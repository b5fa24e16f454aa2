"""A theorem's search space when none is registered: derived from its canonical process.

A user's theorem (``th.theorems.register``) searches with no further registration: the
space keeps the canonical process's families first (where hypothesis shrinks to) and
adds a few neighbours on each axis, so that some candidates leave the theorem:

- dimension: from n - 1 (at least 2) to the canonical n (only n when the mixing is the
  user's own map, which exists in its dimension only);
- latent: the canonical family, then a neighbour (the sphere's vMF clusters, a
  Gaussian next to a non-Gaussian family, ...);
- mixing: the canonical family (or the canonical map itself, registered as the mixing
  family "THEOREM:canonical"), a linear map and a fold (not injective);
- conditional: the canonical family and a neighbour, with κ and scale ranges around
  the canonical values (x1/2 to x2);
- learner options: the theorem's own value first, then a smaller budget or width
  (batch size, steps, learning rate, encoder width, training-set size) and, for a
  temperature tied to κ, the practical τκ = 3.

Which values violate which assumption is not declared: the search probes it
(``verification._search.outside``). ``register_space`` still refines any of this.
"""

from __future__ import annotations

from typing import Any

import theory as th
from theory.errors import InvalidArgument
from verification import learners as L
from verification import strategies as sst
from verification.learners.base import DEFAULT_BATCH, DEFAULT_LR
from verification.spaces import SPACES, SearchSpace, option_names

_LATENTS = {
    th.latents.Normal: "normal",
    th.latents.Laplace: "laplace",
    th.latents.GeneralizedNormal: "generalized-normal",
    th.latents.Uniform: "uniform",
    th.latents.UniformSphere: "uniform-sphere",
    th.latents.ClusterSphere: "cluster-sphere",
}
_LATENT_NEIGHBOURS = {
    "uniform-sphere": ("cluster-sphere",),
    "cluster-sphere": ("uniform-sphere",),
    "laplace": ("normal",),
    "uniform": ("normal",),
    "generalized-normal": ("normal",),
    "normal": ("laplace",),
}
_MIXINGS = {
    th.mixings.Linear: "linear",
    th.mixings.InvertibleMLP: "invertible-mlp",
    th.mixings.Mobius: "mobius",
    th.mixings.AdditiveCoupling: "additive-coupling",
    th.mixings.Fold: "fold",
}
_CONDITIONALS = {
    th.conditionals.VonMisesFisher: "vmf",
    th.conditionals.Normal: "normal",
    th.conditionals.Laplace: "laplace",
    th.conditionals.ContentStyle: "content-style",
    th.conditionals.GeneralizedNormal: "generalized-normal",
    th.conditionals.AnisotropicNormal: "anisotropic-normal",
}
_CONDITIONAL_NEIGHBOURS = {
    "vmf": ("laplace",),
    "normal": ("laplace",),
    "laplace": ("normal",),
    "content-style": ("normal",),
    "generalized-normal": ("laplace",),
    "anisotropic-normal": ("vmf",),
    "none": (),
}


def space_for(theorem: th.Theorem) -> SearchSpace:
    """The theorem's registered search space, else one derived from its canonical process."""
    if theorem.name in SPACES:
        return SPACES[theorem.name]
    return derive_space(theorem)


def derive_space(theorem: th.Theorem) -> SearchSpace:
    """A search space around ``theorem``'s canonical process (see the module docstring)."""
    if theorem.canonical is None:
        raise InvalidArgument(
            f"theorem {theorem.name!r} has no canonical process, so no search space can be "
            "derived; give it one (canonical=...) or register a space with "
            "verification.spaces.register_space"
        )
    process = theorem.canonical_process()
    n = process.dim
    latent = _latent_name(theorem, process.latent)
    mixing, own_map = _mixing_name(theorem, process.mixing)
    conditional = (
        "none" if process.conditional is None else _conditional_name(theorem, process.conditional)
    )
    lowest = 2 if latent in ("uniform-sphere", "cluster-sphere") else 1
    if isinstance(process.conditional, th.conditionals.ContentStyle):
        lowest = max(lowest, process.conditional.content + 1)
    dims = (n, n) if own_map else (max(lowest, n - 1), n)
    mixings = (mixing, *(m for m in ("linear", "fold") if m != mixing))
    conditionals = (conditional, *_CONDITIONAL_NEIGHBOURS.get(conditional, ()))
    cond = process.conditional
    kappa = float(getattr(cond, "kappa", 0.0) or 0.0)
    scale = float(getattr(cond, "scale", 0.0) or 0.0)
    return SearchSpace(
        dims=dims,
        latents=(latent, *_LATENT_NEIGHBOURS.get(latent, ())),
        mixings=mixings,
        conditionals=conditionals,
        kappa=(kappa / 2, kappa * 2) if kappa > 0 else SearchSpace.kappa,
        scale=(scale / 2, scale * 2) if scale > 0 else SearchSpace.scale,
        content=int(getattr(cond, "content", 1) or 1),
        learner_options=_learner_options(theorem, process),
    )


def _latent_name(theorem: th.Theorem, latent: th.latents.Latent) -> str:
    if isinstance(latent, th.latents.Segmented):
        return "segmented-normal" if latent.base == "normal" else "segmented"
    name = _LATENTS.get(type(latent))
    if name is None:
        raise _not_drawable(theorem, "latent", latent, sst.LATENTS)
    return name


def _mixing_name(theorem: th.Theorem, mixing: th.mixings.Mixing) -> tuple[str, bool]:
    """The canonical mixing's family name, and whether it is the user's own map (then
    registered as the family "THEOREM:canonical", existing in its dimension only)."""
    name = _MIXINGS.get(type(mixing))
    if name is not None:
        return name, False
    family = f"{theorem.name}:canonical"
    sst.register_mixing(
        family, lambda n, seed, mixing=mixing: mixing, dims=(mixing.n_in, mixing.n_in), replace=True
    )
    return family, True


def _conditional_name(theorem: th.Theorem, conditional: th.conditionals.Conditional) -> str:
    name = _CONDITIONALS.get(type(conditional))
    if name is None:
        raise _not_drawable(theorem, "conditional", conditional, sst.CONDITIONALS)
    return name


def _not_drawable(theorem: th.Theorem, part: str, spec, known) -> InvalidArgument:
    return InvalidArgument(
        f"cannot derive a search space for theorem {theorem.name!r}: its canonical {part} "
        f"{type(spec).__name__} is not a family the search can draw ({', '.join(known)}); "
        "register a space with verification.spaces.register_space"
    )


def _learner_options(theorem: th.Theorem, process: th.Process) -> dict[str, tuple]:
    """The theorem's own learner settings first, then a smaller one, per known knob."""
    learner = L.for_theorem(theorem)
    names = set(option_names(learner))
    options: dict[str, tuple[Any, ...]] = {}
    train = getattr(learner, "train", None)
    if train is not None and "train.steps" in names:
        steps = train.steps
        if steps is None and hasattr(learner, "default_steps"):
            steps = int(learner.default_steps(process))
        if steps:
            options["train.steps"] = (int(steps), max(1, int(steps) // 4))
    if train is not None and "train.batch_size" in names:
        batch = train.batch_size
        if batch is None:  # the learner's own, derived from the process where it says so
            default = getattr(learner, "default_batch", None)
            batch = int(default(process)) if default is not None else DEFAULT_BATCH
        options["train.batch_size"] = (batch, max(2, batch // 4))
    if train is not None and "train.lr" in names:
        lr = train.lr
        if lr is None:  # the learner's own, derived from the process where it says so
            lr = learner.default_lr(process) if hasattr(learner, "default_lr") else DEFAULT_LR
        options["train.lr"] = (lr, lr / 3)
    encoder = getattr(learner, "encoder", None)
    if encoder is not None and "encoder.width" in names:
        options["encoder.width"] = (encoder.width, max(1, encoder.width // 4))
    if "n_train" in names and isinstance(getattr(learner, "n_train", None), int):
        options["n_train"] = (learner.n_train, max(100, learner.n_train // 10))
    if (
        "tau_kappa" in names
        and getattr(learner, "tau", None) is None
        and getattr(learner, "critic", None) == "cosine"
        and isinstance(process.conditional, th.conditionals.VonMisesFisher)
    ):
        first = learner.tau_kappa
        options["tau_kappa"] = (first, *(v for v in (1.0, 3.0) if v != first))
    return options


__all__ = ["derive_space", "space_for"]
