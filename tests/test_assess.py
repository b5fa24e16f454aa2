"""assess(): a claim scored on the user's own arrays, as recover() scores a trained learner."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.stats import ortho_group
from threadpoolctl import threadpool_limits

import theory as th
from theory.errors import InvalidArgument, UnknownName
from verification import assess
from verification.recovery import TEST_STREAM, RecoveryResult


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_blas():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _sphere(n: int = 2000, d: int = 3, seed: int = 0) -> np.ndarray:
    z = np.random.default_rng(seed).normal(size=(n, d))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def test_an_orthogonal_representation_is_recovered():
    z = _sphere()
    q = ortho_group.rvs(3, random_state=0)
    result = assess("cl-ica", z, 2.0 * z @ q.T + 1.0, seed=3)
    assert isinstance(result, RecoveryResult)
    assert result.recovered and result.status == "ok"
    assert result.claim_name == "r2_orthogonal_min" and result.claim_metric == pytest.approx(1.0)
    assert result.theorem == "cl-ica" and result.seed == 3
    assert {"r2_linear", "r2_orthogonal", "mcc", "mcc_crossfit", "mcc_null"} <= set(result.metrics)
    # nothing was trained, and the result says so
    assert result.learner == {"name": "user-arrays"}
    assert result.steps == 0 and result.curve == [] and result.final_loss is None
    assert "user arrays" in result.message and "2000 rows" in result.message
    payload = json.loads(json.dumps(result.to_dict()))  # the `sith recover --json` shape
    assert payload["learner"] == {"name": "user-arrays"} and payload["train"]["steps"] == 0
    assert payload["claim_metric"]["name"] == "r2_orthogonal_min" and payload["recovered"] is True
    assert len(payload["sample"]["z"]) == 200


def test_an_anisotropic_linear_map_is_not_orthogonal():
    z = _sphere()
    u, v = ortho_group.rvs(3, random_state=1), ortho_group.rvs(3, random_state=2)
    sheared = z @ (u @ np.diag([1.0, 1.0, 2.0]) @ v).T
    result = assess(th.theorems.get("cl-ica"), z, sheared)
    assert not result.recovered and result.status == "ok"
    assert result.metrics["r2_linear"] > 0.999  # what the old claim metric would have said
    assert result.claim_metric < 0.9 and result.metrics["r2_orthogonal"] < 0.93


def test_a_claim_is_assessed_directly():
    z = np.random.default_rng(0).laplace(size=(2000, 4))
    perm = z[:, [3, 1, 0, 2]] * np.array([1.0, -2.0, 0.5, 4.0])
    claim = th.claims.permutation_scaling(0.95)
    result = assess(claim, z, perm)
    assert result.recovered and result.claim_name == "mcc_crossfit_min"
    assert result.theorem == f"claim {claim}"
    unrelated = assess(claim, z, np.random.default_rng(1).laplace(size=(2000, 4)))
    assert not unrelated.recovered and unrelated.claim_metric < 0.05
    assert abs(unrelated.metrics["mcc_crossfit"]) < 0.05
    assert unrelated.metrics["mcc"] == pytest.approx(unrelated.metrics["mcc_null"], abs=0.02)


def test_torch_tensors_and_lists_are_accepted():
    z = _sphere(500)
    from_torch = assess("cl-ica", torch.from_numpy(z).float().requires_grad_(), torch.tensor(z))
    from_lists = assess("cl-ica", z.tolist(), z.tolist())
    assert from_torch.recovered and from_lists.recovered
    assert from_lists.metrics == assess("cl-ica", z, z).metrics


def test_same_metrics_as_recover_on_the_same_arrays():
    """A second path to the same numbers: recover()'s own held-out arrays, re-assessed."""
    from verification import learners as L
    from verification.recovery import recover

    theorem = th.theorems.get("linear-ica")
    process = theorem.canonical_process()
    trained = recover(theorem, process, seed=0, n_test=1000)
    fit = L.for_theorem(theorem).fit(process, seed=0)
    z, x = process.sample(1000, np.random.default_rng([0, TEST_STREAM]))
    result = assess(theorem, z, fit.encode(x), seed=0, process=process)
    assert result.recovered == trained.recovered
    assert result.claim_metric == pytest.approx(trained.claim_metric, abs=1e-9)
    for name, value in result.metrics.items():
        assert value == pytest.approx(trained.metrics[name], abs=1e-9), name
    assert set(trained.metrics) - set(result.metrics) == {"amari_distance"}  # needs the fit
    assert result.process == trained.process


def test_a_metric_that_needs_the_process():
    theorem = th.theorems.get("tcl")
    process = theorem.canonical_process()
    z, _ = process.sample(2000, 0)
    z_hat = np.abs(z.numpy()) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.3, 0.0, 2.0]])
    with pytest.raises(InvalidArgument, match=r"'r2_sufficient_stats' does not apply.*no process"):
        assess(theorem, z, z_hat)
    result = assess(theorem, z, z_hat, process=process)
    assert result.recovered and result.claim_metric > 0.99


def test_a_collapsed_representation_is_not_recovered():
    z = _sphere(500)
    result = assess("cl-ica", z, np.full((500, 3), 0.3))
    assert result.status == "collapsed" and not result.recovered
    assert "constant" in result.message


Z = _sphere(50)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("no-such-theorem", Z, Z), {}, UnknownName, "unknown theorem 'no-such-theorem'"),
        ((42, Z, Z), {}, InvalidArgument, "Theorem, a theorem's name or a theory.claims.Claim"),
        ((th.claims.Claim("x", "nope", 0.5), Z, Z), {}, UnknownName, "'nope' is not registered"),
        (("cl-ica", Z[:, 0], Z), {}, InvalidArgument, r"z must be 2-D .*reshape"),
        (("cl-ica", Z, Z[None]), {}, InvalidArgument, "z_hat must be 2-D"),
        (("cl-ica", Z, Z[:49]), {}, InvalidArgument, "same number of rows .* got 50 and 49"),
        (("cl-ica", Z[:3], Z[:3]), {}, InvalidArgument, "at least 4 rows"),
        (("cl-ica", Z, np.where(Z > 0.9, np.nan, Z)), {}, InvalidArgument, "non-finite"),
        (("cl-ica", Z, Z * 1j), {}, InvalidArgument, "must be real"),
        (("cl-ica", [["a", "b"]] * 5, Z[:5]), {}, InvalidArgument, "array of numbers"),
        (("cl-ica", np.zeros((50, 0)), Z), {}, InvalidArgument, "no columns"),
        (("cl-ica", np.c_[Z, np.ones(50)], Z), {}, InvalidArgument, r"constant columns \[3\]"),
        (("cl-ica", Z, Z[:, :2]), {}, InvalidArgument, "'r2_orthogonal_min' does not apply"),
        (("cl-ica", Z, Z), {"seed": -1}, InvalidArgument, "seed must be an integer"),
        (("cl-ica", Z, Z), {"process": "p"}, InvalidArgument, "process must be"),
    ],
)
def test_bad_inputs_are_one_line_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        assess(*args, **kwargs)
    assert "\n" not in str(info.value)


def test_the_facade_gives_the_function_not_the_module():
    import verification
    import verification.assessment

    assert verification.assess is verification.assessment.assess
    assert callable(verification.assess)
