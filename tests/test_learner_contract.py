"""The learner contract (verification.testing): every built-in learner keeps it, and a
learner that breaks one rule fails that rule's check with a message saying why."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import theory as th
from verification import learners as L
from verification.learners import Fit, Learner, data_problem, failed_fit
from verification.recovery import TEST_STREAM
from verification.testing import (
    CHECKS,
    LearnerContractError,
    check_learner,
    contract_process,
    learner_checks,
    shrunk,
)

BUILT_IN = sorted(
    name
    for name, factory in L.LEARNERS.items()
    if getattr(factory, "__module__", "").startswith("verification.")
)


def test_the_built_in_learners_are_all_checked():
    assert {"fastica", "infonce", "infonce-lp", "infonce-content", "tcl"} <= set(BUILT_IN)


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_built_in_learner_keeps_the_contract(name):
    check_learner(L.get(name))


def test_a_theorem_configured_learner_keeps_the_contract():
    learner = L.for_theorem(th.theorems.get("content-style"))  # content block of 2 outputs
    check_learner(learner)


# --------------------------------------------------------------- a user's learner


@dataclass
class Whitener(Learner):
    """A minimal correct learner: ZCA-whitening fitted on its own training samples."""

    n_train: int = 500
    name = "whitener"

    def fit(self, process, *, seed=0, monitor=None):
        _, x = process.sample(self.n_train, np.random.default_rng([seed, 21]))
        return self.fit_on(x, process.dim)

    def fit_on(self, x, dim):
        problem = data_problem(x)
        if problem is not None:
            return failed_fit(dim, problem)
        mean = x.mean(0)
        vals, vecs = torch.linalg.eigh(torch.cov((x - mean).T))
        w = vecs @ torch.diag(vals.rsqrt()) @ vecs.T

        def encode(x_new):
            return (torch.as_tensor(x_new, dtype=torch.float64) - mean) @ w

        return Fit(encode, [(1, 0.0)], 1, 0.0)


def test_a_users_learner_keeps_the_contract():
    learner = Whitener()
    check_learner(learner)
    assert learner.n_train == 500  # the checks train copies, never the learner itself


@pytest.mark.parametrize(("name", "check"), learner_checks(Whitener()))
def test_the_checks_parametrize_pytest(name, check):
    assert check.__name__ == name
    check()


def test_learner_checks_lists_every_check_in_order():
    assert [name for name, _ in learner_checks(Whitener())] == list(CHECKS)


def test_shrunk_copies_with_a_small_budget():
    learner = L.get("tcl")
    small = shrunk(learner)
    assert small.train.steps <= 25 and small.train.batch_size <= 64 and small.n_train <= 2000
    assert learner.train.steps == 3000 and learner.n_train == 100_000


def test_bad_arguments_are_refused_at_once():
    with pytest.raises(ValueError, match="seed must be"):
        learner_checks(Whitener(), seed=-1)
    with pytest.raises(ValueError, match="process must be"):
        learner_checks(Whitener(), process="cl-ica")


# --------------------------------------------------------------- broken learners


def failure(learner, **kwargs) -> LearnerContractError:
    with pytest.raises(LearnerContractError) as info:
        check_learner(learner, **kwargs)
    assert isinstance(info.value, AssertionError)
    return info.value


class NotALearner:
    name = "impostor"

    def fit(self, process, *, seed=0):
        return None


@dataclass
class Unseeded(Whitener):
    """Rotates its output by a matrix from the global torch state."""

    name = "unseeded"

    def fit(self, process, *, seed=0, monitor=None):
        fit = super().fit(process, seed=seed)
        q, _ = torch.linalg.qr(torch.randn(process.dim, process.dim, dtype=torch.float64))
        inner = fit.encode
        return dataclasses.replace(fit, encode=lambda x: inner(x) @ q)


@dataclass
class WrongShape(Whitener):
    name = "wrong-shape"

    def fit(self, process, *, seed=0, monitor=None):
        fit = super().fit(process, seed=seed)
        inner = fit.encode
        return dataclasses.replace(fit, encode=lambda x: inner(x)[:, :-1])


@dataclass
class PeeksAtTheHeldOutStream(Whitener):
    """Trains on the very samples recover holds out."""

    name = "peeks-stream"

    def fit(self, process, *, seed=0, monitor=None):
        _, x = process.sample(self.n_train, np.random.default_rng([seed, TEST_STREAM]))
        return self.fit_on(x, process.dim)


@dataclass
class ClonesTheHeldOutGenerator(Whitener):
    """Same samples as the held-out stream, through a generator with another seed."""

    name = "peeks-rows"

    def fit(self, process, *, seed=0, monitor=None):
        rng = np.random.default_rng(12345)
        rng.bit_generator.state = np.random.default_rng([seed, TEST_STREAM]).bit_generator.state
        _, x = process.sample(self.n_train, rng)
        return self.fit_on(x, process.dim)


@dataclass
class GeneratesTheHeldOutRows(Whitener):
    """Makes recover's held-out observations itself, bypassing Process.sample."""

    name = "peeks-latents"

    def fit(self, process, *, seed=0, monitor=None):
        z = process.latent.sample(4000, np.random.default_rng([seed, TEST_STREAM]))
        return self.fit_on(process.observe(z)[: self.n_train], process.dim)


@dataclass
class Oracle(Whitener):
    """Encodes with the process it was trained on (reads the truth at encoding time)."""

    name = "oracle"

    def fit(self, process, *, seed=0, monitor=None):
        fit = super().fit(process, seed=seed)
        inner = fit.encode
        return dataclasses.replace(fit, encode=lambda x: inner(x)[:, : process.dim])


@dataclass
class BatchStatistics(Whitener):
    """Standardises each batch by its own statistics (evaluation data leaks in)."""

    name = "batch-statistics"

    def fit(self, process, *, seed=0, monitor=None):
        fit = super().fit(process, seed=seed)
        inner = fit.encode

        def encode(x):
            h = inner(x)
            return (h - h.mean(0)) / (h.std(0) if len(h) > 1 else 1.0)

        return dataclasses.replace(fit, encode=encode)


@dataclass
class Adapts(Whitener):
    """Keeps a running mean of everything it has encoded."""

    name = "adapts"

    def fit(self, process, *, seed=0, monitor=None):
        fit = super().fit(process, seed=seed)
        inner = fit.encode
        state = {"mean": 0.0}

        def encode(x):
            h = inner(x)
            state["mean"] = 0.5 * state["mean"] + 0.5 * h.mean(0)
            return h - state["mean"]

        return dataclasses.replace(fit, encode=encode)


@dataclass
class RaisesOnDivergence(Whitener):
    """No guard: a torch error escapes on non-finite training data."""

    name = "raises"

    def fit_on(self, x, dim):
        torch.linalg.eigh(torch.cov(x.float().T))
        return super().fit_on(torch.nan_to_num(x), dim)


@dataclass
class SilentNaN(Whitener):
    """Says "ok" and hands out NaNs after training on non-finite data."""

    name = "silent-nan"

    def fit_on(self, x, dim):
        fit = super().fit_on(torch.nan_to_num(x, posinf=0.0), dim)
        if torch.isfinite(x).all():
            return fit
        return dataclasses.replace(fit, encode=lambda x_new: torch.full((len(x_new), dim), np.nan))


@dataclass
class DivergesWithoutSaying(Whitener):
    name = "mute"

    def fit_on(self, x, dim):
        fit = super().fit_on(x, dim)
        return dataclasses.replace(fit, message="")


@dataclass
class Opaque(Whitener):
    name = "opaque"
    handle: object = dataclasses.field(default_factory=object)


@dataclass
class RemembersItsData(Whitener):
    name = "remembers"
    fitted_mean: list | None = None

    def fit(self, process, *, seed=0, monitor=None):
        fit = super().fit(process, seed=seed)
        self.fitted_mean = [1.0] * process.dim
        return fit


@dataclass
class NeedsPairs(Whitener):
    name = "needs-pairs"

    def fit(self, process, *, seed=0, monitor=None):
        if isinstance(process.latent, th.latents.Segmented):
            raise th.errors.InvalidArgument("needs a sphere")
        return super().fit(process, seed=seed)


BROKEN = [
    (NotALearner(), "is_learner", "not a verification.learners.Learner"),
    (Opaque(), "config_json", "not JSON-serialisable"),
    (RemembersItsData(), "fit_result", "fit changed the learner's config"),
    (Unseeded(), "deterministic", "encode a probe differently"),
    (WrongShape(), "encode_shape", r"to shape \(37, 2\), expected \(37, 3\)"),
    (BatchStatistics(), "encode_rowwise", "depends on the other observations of its batch"),
    (Adapts(), "encode_rowwise", "changed the encoding of a fixed probe"),
    (PeeksAtTheHeldOutStream(), "no_evaluation_data", r"rng\(\[seed, 7\]\)"),
    (ClonesTheHeldOutGenerator(), "no_evaluation_data", "or a generator in its state"),
    (GeneratesTheHeldOutRows(), "no_evaluation_data", "generated 4000 of the held-out"),
    (Oracle(), "no_evaluation_data", "encode read the process"),
    (RaisesOnDivergence(), "divergence", "NaN injected.*, fit raised _?LinAlgError"),
    (SilentNaN(), "divergence", "outputs non-finite values"),
    (DivergesWithoutSaying(), "divergence", "no message saying why"),
]


@pytest.mark.parametrize(
    ("learner", "check", "match"), BROKEN, ids=[learner.name for learner, _, _ in BROKEN]
)
def test_a_broken_learner_fails_the_right_check(learner, check, match):
    err = failure(learner)
    assert err.check == check, str(err)
    assert err.args[0].startswith(f"learner {learner.name!r} fails check {check!r}: ")
    assert "\n" not in err.args[0]
    assert re.search(match, err.reason), err.reason


def test_a_learner_that_needs_other_data_is_told_to_pass_a_process():
    err = failure(NeedsPairs())
    assert err.check == "fit_result" and "pass check_learner(..., process=...)" in err.reason
    sphere = th.theorems.get("cl-ica").canonical_process()
    check_learner(NeedsPairs(), process=sphere)


def test_the_contract_process_suits_every_kind_of_learner():
    process = contract_process(2)
    assert process.dim == 2 and process.conditional is not None
    assert isinstance(process.latent, th.latents.Segmented)
