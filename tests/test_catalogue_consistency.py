"""The shipped catalogue is consistent: every assumption can be checked, and every
theorem's learner, claim metric and default search space exist (so ``sith check``,
``sith recover`` and ``sith search`` work for each of them)."""

from __future__ import annotations

import pytest

import theory as th
from verification import learners as L
from verification import metrics as M
from verification.checks import has_check
from verification.spaces import SearchSpace, apply_options, default_space

ASSUMPTIONS = sorted(
    name
    for name in th.assumptions.names()
    if type(th.assumptions.get(name)).__module__.startswith("theory.")
)
THEOREMS = [
    name for name in th.theorems.names() if th.theorems.defined_in(name) == "theory.theorems"
]


def test_the_catalogue_is_not_empty():
    assert {"injective", "conformal"} <= set(ASSUMPTIONS)
    assert {"linear-ica", "cl-ica", "content-style", "tcl"} <= set(THEOREMS)


@pytest.mark.parametrize("name", ASSUMPTIONS)
def test_every_assumption_has_a_check(name):
    assert has_check(th.assumptions.get(name)), f"assumption {name!r} has no registered check"


@pytest.mark.parametrize("name", THEOREMS)
def test_every_theorem_assumption_has_a_check(name):
    for assumption in th.theorems.get(name).assumptions:
        assert has_check(assumption), f"{name}: assumption {assumption.name!r} has no check"


@pytest.mark.parametrize("name", THEOREMS)
def test_every_theorem_learner_resolves(name):
    theorem = th.theorems.get(name)
    learner = L.resolve(theorem.learner)
    assert isinstance(learner, L.Learner)
    assert isinstance(L.for_theorem(theorem), type(learner))
    if theorem.claim.content:
        assert getattr(L.for_theorem(theorem), "content", theorem.claim.content) is not None


@pytest.mark.parametrize("name", THEOREMS)
def test_every_claim_metric_is_registered(name):
    claim = th.theorems.get(name).claim
    info = M.check_claim_metric(claim, where=name)  # registered, same direction
    assert info.name == claim.metric and info.fn is not None


@pytest.mark.parametrize("name", THEOREMS)
def test_every_theorem_has_a_default_search_space(name):
    theorem = th.theorems.get(name)
    space = default_space(theorem)
    assert isinstance(space, SearchSpace)
    space.validate()
    learner = L.for_theorem(theorem)
    for key, values in space.learner_options.items():  # every searched option applies
        for value in values:
            apply_options(learner, {key: value})


@pytest.mark.parametrize("name", THEOREMS)
def test_every_theorem_has_a_canonical_process(name):
    process = th.theorems.get(name).canonical_process()
    assert isinstance(process, th.Process)
