"""A theorem's assumptions about its learner are checked like any other (issue: sound
verdicts): decided exactly from the configuration, and part of the search's quadrants."""

from __future__ import annotations

import pytest

import theory as th
from theory import learner_conditions as LC
from theory.errors import InvalidArgument
from verification import check, search
from verification.spaces import SearchSpace

CL_ICA = th.theorems.get("cl-ica")
SPHERE = th.Process(
    th.latents.UniformSphere(3),
    th.mixings.Linear.random(3, seed=0),
    th.conditionals.VonMisesFisher(kappa=10.0),
)


def _verdict(assumption, process, learner):
    return check(assumption, process, learner=learner, n_points=32)


def test_matched_temperature_is_decided_exactly_from_the_learner():
    matched = _verdict(LC.MatchedTemperature(), SPHERE, ("infonce", {"tau": 0.1}))
    assert matched.verdict == "proved" and matched.method == "config"
    assert matched.statistic == pytest.approx(0.0, abs=1e-12)
    default = _verdict(LC.MatchedTemperature(), SPHERE, "infonce")  # τ = 1/κ, derived
    assert default.verdict == "proved"
    practical = _verdict(LC.MatchedTemperature(), SPHERE, "infonce-practical")  # τ ≈ 3/κ
    assert practical.verdict == "violated"
    assert practical.witness["kappa"] == 10.0 and practical.witness["tau"] > 0.2
    lp = _verdict(LC.MatchedTemperature(), SPHERE, ("infonce-lp", {"tau": 0.1}))
    assert lp.verdict == "violated" and "critic" in lp.message
    no_vmf = th.Process(
        th.latents.UniformSphere(3),
        th.mixings.Linear.random(3, seed=0),
        th.conditionals.Normal(scale=0.1),
    )
    assert _verdict(LC.MatchedTemperature(), no_vmf, ("infonce", {"tau": 0.1})).verdict == (
        "violated"
    )


def test_the_catalogue_learner_is_inside_and_the_practical_variant_is_not():
    evidence = {e.assumption: e for e in check(CL_ICA, SPHERE, n_points=64)}
    assert evidence["learner-objective"].verdict == "proved"
    assert evidence["matched-temperature"].verdict == "proved"
    practical = {
        e.assumption: e.verdict
        for e in check(CL_ICA, SPHERE, n_points=64, learner="infonce-practical")
    }
    assert practical["matched-temperature"] == "violated"
    assert practical["learner-objective"] == "proved"


def test_objective_and_output_size():
    assert _verdict(LC.LearnerObjective(("infonce",)), SPHERE, "fastica").verdict == "violated"
    assert _verdict(LC.LearnerObjective(("fastica",)), SPHERE, "fastica").verdict == "proved"
    style = th.theorems.get("content-style")
    process = style.canonical_process()
    sized = {e.assumption: e.verdict for e in check(style, process, n_points=64)}
    assert sized["content-sized-encoder"] == "proved"  # the theorem sizes its learner
    unsized = _verdict(LC.ContentSizedEncoder(), process, "infonce")  # all 4 outputs
    assert unsized.verdict == "violated" and unsized.witness == {"outputs": 4, "content": 2}
    tcl = th.theorems.get("tcl")
    assert _verdict(LC.EnoughFeatures(), tcl.canonical_process(), "tcl").verdict == "proved"


def test_the_squared_euclidean_estimator_is_decided_from_critic_exponent_and_temperature():
    """von Kügelgen et al. 2021 (App. D) and Daunhawer et al. 2023 (Eq. 5): InfoNCE at
    τ = 1 with sim(a, b) = −‖a − b‖₂² estimates alignment minus entropy."""
    from verification.learners.multiview import MultiviewInfoNCE

    estimator = LC.SquaredEuclideanCritic()
    style = th.theorems.get("content-style")
    process = style.canonical_process()
    assert _verdict(estimator, process, "infonce-content").verdict == "proved"
    l1 = _verdict(estimator, process, ("infonce-content", {"critic": "lp", "p": 1.0}))
    assert l1.verdict == "violated" and l1.witness == {"critic": "lp", "critic_p": 1.0}
    cubic = _verdict(estimator, process, ("infonce-content", {"p": 3.0}))
    assert cubic.verdict == "violated" and "p = 3" in cubic.message
    hot = _verdict(estimator, process, ("infonce-content", {"tau": 0.2}))
    assert hot.verdict == "violated" and hot.witness == {"tau": 0.2}
    assert _verdict(estimator, process, MultiviewInfoNCE()).verdict == "proved"
    assert _verdict(estimator, process, MultiviewInfoNCE(critic="lp")).verdict == "violated"
    for name in ("content-style", "multiview"):
        theorem = th.theorems.get(name)
        verdicts = {
            e.assumption: e.verdict
            for e in check(theorem, theorem.canonical_process(), n_points=32)
            if e.assumption in ("squared-euclidean-critic", "learner-objective")
        }
        assert verdicts == {"squared-euclidean-critic": "proved", "learner-objective": "proved"}


def test_a_learnable_radius_matches_any_temperature():
    """Outputs on r S^{n-1}, r learnable: the critic's concentration r²/τ can meet κ."""
    learnable = ("infonce", {"radius": "learnable", "tau_kappa": 3.0})
    evidence = _verdict(LC.MatchedTemperature(), SPHERE, learnable)
    assert evidence.verdict == "proved" and "r² = τκ" in evidence.message
    with pytest.raises(InvalidArgument, match="radius"):
        check(LC.MatchedTemperature(), SPHERE, learner=("infonce", {"radius": "big"}))
    with pytest.raises(InvalidArgument, match="cosine critic"):
        check(
            LC.MatchedTemperature(),
            SPHERE,
            learner=("infonce-lp", {"radius": "learnable"}),
        )


def test_a_learner_assumption_without_a_learner_is_a_clear_error():
    with pytest.raises(InvalidArgument, match="about the learner"):
        check(LC.MatchedTemperature(), SPHERE, n_points=32)


def test_they_round_trip_and_state_the_paper():
    for cls in (
        LC.LearnerObjective,
        LC.MatchedTemperature,
        LC.ContentSizedEncoder,
        LC.SquaredEuclideanCritic,
    ):
        a = cls()
        assert th.assumptions.Assumption.from_dict(a.to_dict()) == a
        assert a.statement(3) is not None and a.cite
    with pytest.raises(InvalidArgument):
        LC.MatchedTemperature(rtol=-1)


def test_a_learner_outside_the_theorem_makes_its_recoveries_gaps(tmp_path):
    # FastICA recovers Laplace sources mixed linearly, but this theorem is about InfoNCE:
    # every recovery is a gap (the theorem's assumptions were not necessary), never a
    # confirmation of the theorem
    theorem = th.Theorem(
        "infonce-only",
        (th.assumptions.LinearMixing(), LC.LearnerObjective(("infonce",))),
        ("fastica", {"n_train": 3000}),
        th.claims.permutation_scaling(0.9),
        cite="test",
    )
    space = SearchSpace(
        dims=(2, 3), latents=("laplace",), mixings=("linear",), conditionals=("none",)
    )
    result = search(theorem, space, budget=3, seed=0, reseeds=0, out=tmp_path / "r")
    assert result.quadrants["holds_recovered"] == 0
    assert result.quadrants["violated_recovered"] >= 1
    assert result.gaps and "learner-objective" in result.gaps[0].evaluation.violated
