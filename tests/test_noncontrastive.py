"""The non-contrastive learners (VICReg, Barlow Twins): they keep the learner contract,
their losses are the papers', and on a theorem about InfoNCE they are outside it."""

from __future__ import annotations

import math

import pytest
import torch

import theory as th
import verification
from theory.errors import InvalidArgument
from verification import learners as L
from verification.learners.barlow import BarlowTwins, barlow_twins_loss
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
