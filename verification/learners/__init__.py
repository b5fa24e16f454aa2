"""Learners: one module per family. ``get(name)`` builds a learner with defaults."""

from __future__ import annotations

from theory.errors import UnknownName
from verification.learners.base import Fit, Learner, TrainConfig
from verification.learners.encoders import Encoder, EncoderConfig
from verification.learners.fastica import FastICA
from verification.learners.infonce import InfoNCE, infonce_loss
from verification.learners.tcl import TCL

LEARNERS = {
    "infonce": InfoNCE,
    "infonce-lp": lambda: InfoNCE(critic="lp"),
    "infonce-content": lambda: InfoNCE(critic="lp"),
    "fastica": FastICA,
    "tcl": TCL,
}


def get(name: str) -> Learner:
    if name not in LEARNERS:
        raise UnknownName(f"unknown learner {name!r}; known: {', '.join(sorted(LEARNERS))}")
    return LEARNERS[name]()


def for_theorem(theorem) -> Learner:
    """The theorem's default learner, sized to its claim (e.g. the content block)."""
    learner = get(theorem.learner)
    if theorem.claim.content and hasattr(learner, "content"):
        learner.content = theorem.claim.content
    return learner


__all__ = [
    "LEARNERS",
    "TCL",
    "Encoder",
    "EncoderConfig",
    "FastICA",
    "Fit",
    "InfoNCE",
    "Learner",
    "TrainConfig",
    "for_theorem",
    "get",
    "infonce_loss",
]
