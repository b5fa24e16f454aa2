"""Which values of a search space lie outside a theorem: found by probing, not declared.

A space's ``outside`` entries say which value of which axis violates which assumption,
so a search can aim candidates inside the theorem or at exactly one violation. Built-in
spaces declare them; a space without them (a user's, or one derived from a theorem's
canonical process) is probed once at the start of the search: for every value of every
axis, the simplest candidate of the largest dimension that takes that value and the
first (canonical) value on every other axis is checked with the search's own check settings, and the assumptions
it violates beyond those the all-canonical candidate already violates are that value's.
Deterministic (hypothesis ``find`` returns the minimal candidate; checks are seeded), and
cheap: one check per listed value.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings

import theory as th
from verification import learners as L
from verification.checks import check
from verification.spaces import Candidate, Outside, SearchSpace, apply_options

PROBE_TIME_LIMIT = 10.0  # seconds for each exact (sympy) attempt of a probe's checks
PROBE_SETTINGS = settings(
    database=None,
    deadline=None,
    phases=(Phase.generate, Phase.shrink),
    max_examples=5,
    suppress_health_check=list(HealthCheck),
)


def simplest(space: SearchSpace) -> Candidate:
    """The minimal candidate of ``space`` (where hypothesis shrinks to)."""
    return find(space.strategy(), lambda _: True, settings=PROBE_SETTINGS)


def violated(theorem: th.Theorem, candidate: Candidate, check_settings: dict[str, Any]) -> set[str]:
    """The theorem's assumptions that ``candidate`` violates (not holding or proved)."""
    learner = L.for_theorem(theorem)
    apply_options(learner, candidate.learner_options)
    evidence = check(theorem, candidate.process, seed=0, learner=learner, **check_settings)
    return {e.assumption for e in evidence if not e.satisfied}


def probe(theorem: th.Theorem, space: SearchSpace, check_settings: dict[str, Any]) -> SearchSpace:
    """``space`` with its ``outside`` entries found by checking one candidate per value
    (see the module docstring); a space that declares them is returned as it is."""
    if space.outside is not None:
        return space
    axes = space.axes()
    base = {axis: values[:1] for axis, values in axes.items()}
    # in the largest dimension: the canonical one of a derived space, and where a value
    # violates what it can (one Gaussian source of n = 1 is still identifiable)
    probing = dataclasses.replace(space, dims=(space.dims[1], space.dims[1]))
    # a generous limit for the exact attempts: a probe decided by a timeout would depend
    # on the machine's load, and the probed space is part of the search's settings
    check_settings = {**check_settings, "time_limit": max(PROBE_TIME_LIMIT, check_settings.get("time_limit") or 0)}
    already = violated(theorem, simplest(probing._restricted(base)), check_settings)
    entries: list[Outside] = []
    for axis, values in axes.items():
        for value in values[1:]:
            chosen = {**base, axis: (value,)}
            if axis == "beta":  # an exponent matters only to the generalized normal
                chosen["conditional"] = ("generalized-normal",)
            candidate = simplest(probing._restricted(chosen))
            names = violated(theorem, candidate, check_settings) - already
            if names:
                ordered = [a.name for a in theorem.assumptions if a.name in names]
                entries.append(Outside(axis, value, tuple(ordered)))
    return dataclasses.replace(space, outside=tuple(entries))


__all__ = ["probe", "simplest", "violated"]
