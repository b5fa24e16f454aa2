"""The non-contrastive learners (VICReg, Barlow Twins): they keep the learner contract,
their losses are the papers', they race initialisations (the racing shared with
InfoNCE), and on a theorem about InfoNCE they are outside it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import theory as th
import verification
from theory.errors import InvalidArgument
from verification import learners as L
from verification.learners.barlow import BarlowTwins, barlow_twins_loss
from verification.learners.base import TrainConfig, Training
from verification.learners.racing import race_length, run_race
from verification.learners.vicreg import VICReg, vicreg_loss
from verification.testing import check_learner

CL_ICA = th.theorems.get("cl-ica")


@pytest.mark.parametrize("name", ["vicreg", "barlow-twins"])
def test_they_are_registered_and_keep_the_learner_contract(name):
    learner = L.get(name)
    assert learner.name == name and name in L.LEARNERS
    check_learner(learner)


def test_the_vicreg_loss_is_the_papers():
    torch.manual_seed(0)
    h, h_pos = torch.randn(256, 3), torch.randn(256, 3)
    d = h.shape[1]

    def var(a):
        return torch.relu(1 - torch.sqrt(a.var(0) + 1e-4)).mean()

    def cov(a):
        c = torch.cov(a.T)
        return (c.square().sum() - c.diagonal().square().sum()) / d

    mse = ((h - h_pos) ** 2).sum(1).mean() / d
    expected = 25 * mse + 25 * (var(h) + var(h_pos)) + cov(h) + cov(h_pos)
    assert torch.allclose(vicreg_loss(h, h_pos), expected, atol=1e-5)
    # identical views with unit-variance, uncorrelated dimensions: (almost) zero loss
    z = torch.randn(4096, 3) * 1.5
    assert float(vicreg_loss(z, z)) < 0.05
    # collapse is penalised by the variance hinge: 25 * 2 * (1 - sqrt(eps))
    zero = torch.zeros(64, 3)
    assert math.isclose(float(vicreg_loss(zero, zero)), 50 * (1 - 1e-2), rel_tol=1e-5)


def test_the_barlow_twins_loss_is_the_papers():
    torch.manual_seed(0)
    h = torch.randn(512, 3)
    # identical standardised views with uncorrelated dimensions: C ~ I, loss ~ 0
    assert float(barlow_twins_loss(h, h, 5e-3)) < 0.05
    # two copies of one direction: C_01 = C_10 = 1 costs 2 lambda
    same = torch.cat([h[:, :1], h[:, :1]], 1)
    assert math.isclose(float(barlow_twins_loss(same, same, 0.5)), 1.0, rel_tol=1e-3)
    # independent views: the diagonal term is ~ d
    assert float(barlow_twins_loss(h, torch.randn(512, 3), 0.0)) > 2.5


def test_options_are_validated_and_lambda_is_the_papers_or_one_over_d():
    with pytest.raises(InvalidArgument):
        VICReg(lam=-1.0)
    with pytest.raises(InvalidArgument):
        VICReg(projector=0)
    with pytest.raises(InvalidArgument):
        BarlowTwins(lam=math.nan)
    with pytest.raises(InvalidArgument):
        BarlowTwins(eps=0.0)
    process = CL_ICA.canonical_process()
    assert BarlowTwins().resolved_lam(process) == 5e-3
    assert BarlowTwins(lam=None).resolved_lam(process) == 1 / process.dim
    assert BarlowTwins(lam=None, projector=16).resolved_lam(process) == 1 / 16


def test_non_finite_training_data_is_a_diverged_fit():
    process = CL_ICA.canonical_process()
    sample_pairs = process.sample_pairs

    def poisoned(n, rng):
        z, z_pos, x, x_pos = sample_pairs(n, rng)
        x = x.clone()
        x[0, 0] = math.nan
        return z, z_pos, x, x_pos

    object.__setattr__(process, "sample_pairs", poisoned)
    for learner in (VICReg(), BarlowTwins()):
        fit = learner.fit(process, seed=0)
        assert fit.status == "diverged" and "non-finite" in fit.message


def test_vicreg_on_cl_ica_runs_and_is_outside_the_theorem():
    process = CL_ICA.canonical_process()
    result = verification.recover(
        "cl-ica",
        learner="vicreg",
        seed=0,
        learner_options={"train.steps": 200},
        fast_metrics=True,
    )
    assert result.status == "ok" and result.steps >= 200
    assert math.isfinite(result.claim_metric) and math.isfinite(result.metrics["r2_linear"])
    evidence = {
        e.assumption: e for e in verification.check(CL_ICA, process, learner="vicreg", n_points=64)
    }
    objective = evidence["learner-objective"]
    assert objective.verdict == "violated"
    assert objective.witness == {"objective": "vicreg"}


# ------------------------------------------------------------- racing initialisations


class _Quadratic:
    """A racing candidate whose training minimises (p - target)²."""

    def __init__(self, target: float, steps: int, diverge: bool = False) -> None:
        self.p = torch.nn.Parameter(torch.zeros(()))

        def loss(step):
            if diverge and step > 2:
                return self.p * math.nan
            return (self.p - target) ** 2

        config = TrainConfig(steps=steps, lr=0.1, extend=1.0, log_every=1)
        self.training = Training(loss, [self.p], config)

    def fit(self):
        curve, steps, seconds, status, message = self.training.result()
        return L.Fit(lambda x: x, list(curve), steps, seconds, status, message, {})


def test_run_race_keeps_the_lowest_selection_loss_and_skips_diverged_runs():
    runs = [_Quadratic(1.0, 20), _Quadratic(2.0, 20, diverge=True), _Quadratic(3.0, 20)]
    scores = {id(runs[0]): 0.7, id(runs[2]): 0.2}
    fit = run_race(runs, race_length(0.25, 20), lambda run: scores[id(run)])
    assert fit.extras["kept"] == 2 and fit.extras["attempts"] == 3
    assert fit.extras["race_steps"] == 5
    assert fit.extras["race_losses"] == [0.7, math.inf, 0.2]
    assert [r.training.step for r in runs] == [5, 3, 20]  # the kept one trains on
    assert fit.steps == 28 and "kept #2" in fit.message
    single = _Quadratic(1.0, 20)
    alone = run_race([single], 5, lambda run: pytest.fail("one candidate is not scored"))
    assert alone.extras["attempts"] == 1 and single.training.step == 20


@pytest.mark.parametrize("cls", [VICReg, BarlowTwins])
def test_pair_learners_race_initialisations_deterministically(cls):
    """restarts + 1 candidates race; the kept one is exactly a lone run with its seed
    (seed + 7919 k), trained on; two fits with one seed encode identically."""
    process = CL_ICA.canonical_process()
    small = {"train": TrainConfig(steps=30, batch_size=64, extend=1.0), "race": 0.5}
    assert cls().restarts == 2 and cls().race == 1.0  # the measured defaults
    with pytest.raises(InvalidArgument):
        cls(race=1.5)
    with pytest.raises(InvalidArgument):
        cls(restarts=-1)
    fit = cls(**small).fit(process, seed=3)
    assert fit.extras["attempts"] == 3 and fit.extras["race_steps"] == 15
    losses = fit.extras["race_losses"]
    assert len(losses) == 3 and fit.extras["kept"] == int(np.argmin(losses))
    assert fit.steps == 2 * 15 + 30 and "initialisations raced" in fit.message
    probe = process.sample(64, np.random.default_rng(7))[1]
    again = cls(**small).fit(process, seed=3)
    assert torch.equal(fit.encode(probe), again.encode(probe))
    kept = fit.extras["kept"]
    lone = cls(**small, restarts=0).fit(process, seed=3 + 7919 * kept)
    assert torch.equal(fit.encode(probe), lone.encode(probe))


def test_sith_recover_says_whether_the_learner_is_covered_by_the_theorem():
    """`sith recover cl-ica --learner vicreg` trains VICReg and says it is outside the
    theorem (learner-objective violated); InfoNCE at the matched τ = 1/κ is inside."""
    import json

    from click.testing import CliRunner

    from verification.cli import main

    def run(*args):
        result = CliRunner().invoke(
            main, ["recover", "cl-ica", "--json", "--set", "train.steps=30", *args]
        )
        assert result.exit_code in (0, 1), result.output
        return json.loads(result.output)

    outside = run("--learner", "vicreg")
    assert outside["learner_covered"] is False
    verdicts = {a["assumption"]: a["verdict"] for a in outside["learner_assumptions"]}
    assert verdicts["learner-objective"] == "violated"
    inside = run("--set", "tau=0.1")  # κ = 10: τ = 1/κ
    assert inside["learner_covered"] is True
    assert {a["verdict"] for a in inside["learner_assumptions"]} <= {"proved", "holds"}
