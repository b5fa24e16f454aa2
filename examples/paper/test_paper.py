"""The paper's claims, enforced by its CI through sith's pytest plugin."""

import pytest
from hypothesis import HealthCheck, given, settings
from paper import process, theorem, twist, unit_columns

import theory as th
from verification import strategies as sst
from verification.learners import InfoNCE, TrainConfig

box = th.Process(th.latents.Uniform(3), twist)


def test_our_map_is_injective(sith):
    sith.assert_holds(th.assumptions.Injective(), process)


def test_our_map_is_not_conformal_in_general(sith):
    sith.assert_violated(th.assumptions.Conformal(), box)


def test_assumption_1_does_not_hold_for_the_twist(sith):
    # the third column picks up the twist's derivative: Assumption 1 is genuinely restrictive
    sith.assert_violated(unit_columns, box)


def test_theorem_assumptions_hold(sith):
    sith.assert_holds(theorem, process)


def test_theorem_1_recovers(sith):
    learner = InfoNCE(train=TrainConfig(steps=400, batch_size=256))
    sith.assert_recovers(theorem, process, seeds=2, learner=learner)


@pytest.mark.sith(budget=4, kinds=["gap"])
def test_gaussian_sources_defeat_linear_ica(sith):
    gauss = th.Process(th.latents.Normal(6), th.mixings.Linear.random(6, seed=0))
    sith.assert_violated("linear-ica", gauss)
    sith.assert_not_recovered("linear-ica", gauss)


@settings(
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    sst.processes(
        dims=(2, 3),
        latent_families=("laplace",),
        mixing_classes=("linear", "mobius"),
        conditional_families=("none",),
    )
)
def test_lemma_3_linear_and_mobius_maps_are_injective(sith, process):
    sith.assert_holds(th.assumptions.Injective(), process)
