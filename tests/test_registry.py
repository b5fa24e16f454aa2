"""One Registry class (theory.registry) behind every catalogue and extension point."""

import pytest

import theory as th
from theory.errors import InvalidArgument, UnknownName
from theory.registry import Registry


def test_every_registry_is_the_one_class():
    from verification import learners, metrics, spaces, strategies
    from verification.executors import EXECUTORS
    from verification.registry import Registry as Reexported

    assert Reexported is Registry
    for registry in (
        th.theorems._CATALOGUE,
        th.assumptions.CATALOGUE,
        learners.LEARNERS,
        metrics.METRICS,
        EXECUTORS,
        spaces.SPACES,
        strategies.MIXING_FAMILIES,
    ):
        assert isinstance(registry, Registry), registry


def test_theorem_and_assumption_catalogues_share_its_guard_and_messages():
    with pytest.raises(InvalidArgument, match="a theorem named 'cl-ica' is already registered"):
        th.theorems.register(th.Theorem("cl-ica", (), "fastica", th.claims.affine()))
    with pytest.raises(
        InvalidArgument, match="an assumption named 'injective' is already registered"
    ):
        th.assumptions.register(type("Other", (th.assumptions.Injective,), {}))
    with pytest.raises(UnknownName, match=r"unknown theorem 'nope'; known: .*cl-ica"):
        th.theorems.get("nope")
    with pytest.raises(UnknownName, match=r"unknown assumption 'nope'; known: .*injective"):
        th.assumptions.get("nope")
    same = th.theorems.get("cl-ica")
    assert th.theorems.register(same) is same  # the same object again is not a clash
