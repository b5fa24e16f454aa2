"""Learners: one module per family. ``get(name)`` builds a learner with defaults."""

from __future__ import annotations

import copy

from theory.errors import InvalidArgument
from verification import _learner_specs as specs
from verification._options import Option, apply_options, check_options, normalise_options
from verification.learners.aninfonce import AnInfoNCE
from verification.learners.barlow import BarlowTwins
from verification.learners.base import Fit, Learner, TrainConfig, data_problem, failed_fit
from verification.learners.byol import BYOL
from verification.learners.crossentropy import CrossEntropy
from verification.learners.encoders import Encoder, EncoderConfig
from verification.learners.fastica import FastICA
from verification.learners.gcl import GCL
from verification.learners.infonce import InfoNCE, infonce_loss
from verification.learners.ivae import IVAE
from verification.learners.multiview import MultiviewInfoNCE, ViewFit
from verification.learners.tcl import TCL
from verification.learners.vicreg import VICReg
from verification.registry import Registry

_CLASSES = {
    cls.__name__: cls
    for cls in (
        InfoNCE,
        AnInfoNCE,
        FastICA,
        TCL,
        VICReg,
        BarlowTwins,
        BYOL,
        CrossEntropy,
        MultiviewInfoNCE,
        IVAE,
        GCL,
    )
}


def _factory(class_name: str, options: dict):
    """A built-in learner's factory: its class, or a function making it with ``options``."""
    cls = _CLASSES[class_name]
    if not options:
        return cls

    def build():
        return cls(**options)

    build.__qualname__ = f"{class_name}({', '.join(f'{k}={v!r}' for k, v in options.items())})"
    return build


# the built-in learners (verification._learner_specs.BUILT_IN, where their names live
# without torch, for ``sith learners``)
LEARNERS = Registry("learner", {name: _factory(*spec) for name, spec in specs.BUILT_IN.items()})


def register(name: str, factory=None, *, replace: bool = False):
    """Register a learner factory (a Learner class, or a function returning a Learner).

    Usable as a decorator (``@learners.register("my-learner")``); an existing name is
    refused unless ``replace=True``. Theorems, ``--learner`` and searches find it by name.
    """
    if factory is None:
        return LEARNERS.register(name, replace=replace)
    return LEARNERS.register(name, factory, replace=replace)


def get(name: str) -> Learner:
    """A fresh learner with its defaults."""
    learner = LEARNERS.get(name)()
    if not isinstance(learner, Learner):
        raise InvalidArgument(
            f"learner factory {name!r} returned {type(learner).__name__}, not a Learner"
        )
    return learner


def resolve(spec) -> Learner:
    """A fresh learner from a theorem's ``learner``: a registered name, a Learner
    instance (copied, so a run never changes the theorem), or ``(name, {option: value})``."""
    if isinstance(spec, str):
        return get(spec)
    if isinstance(spec, Learner):
        return copy.deepcopy(spec)
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        learner = get(spec[0])
        apply_options(learner, dict(spec[1]))
        return learner
    raise InvalidArgument(
        f"a theorem's learner must be a learner name, a Learner, or (name, options); got {spec!r}"
    )


def for_theorem(theorem, learner=None) -> Learner:
    """The theorem's learner (or ``learner``, a name/instance/(name, options) used in its
    place), sized to its claim (e.g. the content block)."""
    learner = resolve(theorem.learner if learner is None else learner)
    if theorem.claim.content and getattr(learner, "content", 0) is None:
        learner.content = theorem.claim.content
        if hasattr(learner, "__post_init__"):  # the learner may refuse a content block
            try:
                learner.__post_init__()
            except (ValueError, TypeError) as err:
                raise InvalidArgument(
                    f"learner {learner.name!r} cannot be sized to theorem "
                    f"{theorem.name!r}'s content block: {err}"
                ) from None
    return learner


__all__ = [
    "BYOL",
    "GCL",
    "IVAE",
    "LEARNERS",
    "TCL",
    "AnInfoNCE",
    "BarlowTwins",
    "CrossEntropy",
    "Encoder",
    "EncoderConfig",
    "FastICA",
    "Fit",
    "InfoNCE",
    "Learner",
    "MultiviewInfoNCE",
    "Option",
    "TrainConfig",
    "VICReg",
    "ViewFit",
    "check_options",
    "data_problem",
    "failed_fit",
    "for_theorem",
    "get",
    "infonce_loss",
    "normalise_options",
    "register",
    "resolve",
]
