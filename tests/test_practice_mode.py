"""Practice mode by default: the truth never steers training unless oracle mode is asked.

Also the diagnostics every recovery reports (optimality gap, claim curve, diagnosis) and
the training-loss-only machinery of practice mode (the race of initialisations, the
adaptive budget). Small budgets: every test takes seconds.
"""

import json
import math

import numpy as np
import pytest
import torch

import theory as th
from theory.errors import InvalidArgument
from verification import recover
from verification.learners import FastICA, Fit, InfoNCE, TrainConfig
from verification.learners import infonce as infonce_module
from verification.learners.base import Schedule, Training, still_improving
from verification.recovery import DIAGNOSES, GAP_TOLERANCE, RecoveryResult, diagnose


def small(**options) -> InfoNCE:
    train = TrainConfig(steps=40, batch_size=64, log_every=10, extend=1.0)
    return InfoNCE(train=train, **options)


def _no_truth(*args, **kwargs):
    raise AssertionError("the true latents' loss was computed")


@pytest.fixture
def truth_forbidden(monkeypatch):
    """The functions that compute the oracle target raise if called."""
    monkeypatch.setattr(InfoNCE, "target_loss", _no_truth)
    monkeypatch.setattr(infonce_module, "true_latents_loss", _no_truth)


def test_default_is_practice_mode(truth_forbidden):
    result = recover("cl-ica", learner=small(), fast_metrics=True)
    assert result.oracle is False and result.learner["oracle"] is False
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["oracle"] is False
    assert {"optimality_gap", "claim_curve", "diagnosis"} <= set(payload)
    assert payload["diagnosis"] in DIAGNOSES


def test_practice_mode_never_computes_the_oracle_target(truth_forbidden):
    # the same with restarts (a race of three initialisations) and with a fixed training set
    for learner in (small(restarts=2), small(restarts=0, n_train=500)):
        fit = learner.fit(th.theorems.get("cl-ica").canonical_process(), seed=1)
        assert fit.status == "ok" and fit.extras["oracle"] is False
        assert "target_loss" not in fit.extras


def test_the_optimality_gap_is_computed_after_training_only(monkeypatch):
    events = []
    fit, gap = InfoNCE.fit, InfoNCE.optimality_gap

    def fit_(self, *args, **kwargs):
        events.append("fit starts")
        out = fit(self, *args, **kwargs)
        events.append("fit ends")
        return out

    def gap_(self, *args, **kwargs):
        events.append("gap")
        return gap(self, *args, **kwargs)

    monkeypatch.setattr(InfoNCE, "fit", fit_)
    monkeypatch.setattr(InfoNCE, "optimality_gap", gap_)
    result = recover("cl-ica", learner=small(), fast_metrics=True)
    assert events == ["fit starts", "fit ends", "gap"]
    assert result.optimality_gap is not None and math.isfinite(result.optimality_gap)


def test_oracle_mode_uses_the_true_latents_loss(monkeypatch):
    calls = []
    original = InfoNCE.target_loss

    def recorded(self, *args, **kwargs):
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(InfoNCE, "target_loss", recorded)
    learner = small()
    result = recover("cl-ica", learner=learner, fast_metrics=True, oracle=True)
    assert calls and result.oracle is True and result.learner["oracle"] is True
    assert result.to_dict()["oracle"] is True
    assert learner.oracle is False  # the caller's learner is not changed
    # a learner configured for oracle mode is oracle mode too
    configured = recover("cl-ica", learner=small(oracle=True), fast_metrics=True)
    assert configured.oracle is True


def test_oracle_mode_with_a_learner_that_has_none():
    process = th.Process(th.latents.Laplace(3), th.mixings.Linear.random(3, seed=0))
    learner = FastICA(n_train=2000)
    result = recover("linear-ica", process, learner=learner, oracle=True, fast_metrics=True)
    assert result.oracle is False and "no oracle mode" in result.message
    # FastICA has no training loss: no gap, so the diagnosis is recovered / not-recovered
    assert result.optimality_gap is None and result.diagnosis == "recovered"
    # it ignores the monitor: the curve is the final encoder's value at its last step
    assert len(result.claim_curve) == 1 and math.isfinite(result.claim_curve[0][1])


def test_oracle_must_be_a_bool():
    with pytest.raises(InvalidArgument, match="oracle must be True or False"):
        recover("cl-ica", oracle="yes")
    with pytest.raises(InvalidArgument, match="oracle must be True or False"):
        InfoNCE(oracle=1)


@pytest.mark.parametrize(
    ("recovered", "gap", "expected"),
    [
        (True, None, "recovered"),
        (True, 10 * GAP_TOLERANCE, "recovered"),  # recovered wins, whatever the gap
        (False, None, "not-recovered"),  # no gap defined (e.g. FastICA)
        (False, math.nan, "not-recovered"),
        (False, 10 * GAP_TOLERANCE, "not-converged"),
        (False, 0.0, "converged-not-recovered"),
        (False, -GAP_TOLERANCE, "converged-not-recovered"),  # below the truth's loss
    ],
)
def test_diagnosis(recovered, gap, expected):
    assert diagnose(recovered, gap) == expected
    result = RecoveryResult(
        theorem="t",
        process={},
        learner={},
        seed=0,
        metrics={},
        claim_name="r2_linear",
        claim_metric=0.5,
        threshold=0.9,
        higher_is_better=True,
        recovered=recovered,
        status="ok",
        optimality_gap=gap,
        claim_curve=[(10, 0.2), (20, math.nan)],
    )
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["diagnosis"] == expected and payload["oracle"] is False
    assert payload["claim_curve"] == [[10, 0.2], [20, None]]


def test_the_claim_curve_follows_the_kept_run():
    result = recover("cl-ica", learner=small(restarts=1), fast_metrics=True)
    # the kept run's own log points, to its end (the race lasts 6 steps: none in it)
    assert [s for s, _ in result.claim_curve] == [10, 20, 30, 40]
    assert all(math.isfinite(v) for _, v in result.claim_curve)
    assert result.steps == 40 + 6  # the race's other candidate is counted in the steps


def test_gap_undefined_off_the_sphere_and_for_a_content_block():
    learner = small()
    off_sphere = th.Process(
        th.latents.Normal(3), th.mixings.InvertibleMLP(3, seed=0), th.conditionals.Normal(0.1)
    )
    fit = learner.fit(off_sphere, seed=0)
    assert learner.optimality_gap(off_sphere, fit) is None
    content = InfoNCE(critic="lp", content=2, train=TrainConfig(steps=20, batch_size=64))
    process = th.theorems.get("content-style").canonical_process()
    assert content.optimality_gap(process, content.fit(process, seed=0)) is None


class _StubTraining:
    """Stands in for a Training: records how far each candidate was told to train."""

    def __init__(self) -> None:
        self.seconds, self.step, self.status, self.until = 0.0, 0, "ok", []

    def run(self, until=None):
        self.until.append(until)
        self.step = until or 10
        return until is None


class _StubRun:
    def __init__(self) -> None:
        self.training = _StubTraining()

    def fit(self):
        return Fit(lambda x: x, [(self.training.step, 0.0)], self.training.step, extras={})


def test_the_race_keeps_the_lowest_training_loss(monkeypatch):
    made = []

    def start(self, *args, **kwargs):
        made.append(_StubRun())
        return made[-1]

    losses = iter([0.5, 0.2, 0.9])  # the candidates' training losses after the race
    monkeypatch.setattr(InfoNCE, "_start", start)
    monkeypatch.setattr(InfoNCE, "selection_loss", lambda *args: next(losses))
    learner = InfoNCE(restarts=2, race=0.5, train=TrainConfig(steps=10, batch_size=8))
    fit = learner.fit(th.theorems.get("cl-ica").canonical_process(), seed=0)
    assert fit.extras["kept"] == 1 and fit.extras["race_losses"] == [0.5, 0.2, 0.9]
    assert [r.training.until for r in made] == [[5], [5, None], [5]]  # only #1 goes on
    assert fit.steps == 5 + 10 + 5 and "kept #1" in fit.message


def test_still_improving_uses_the_loss_alone():
    falling = list(np.linspace(5.0, 4.0, 40))
    flat = [4.0] * 40
    noisy = list(4.0 + 0.5 * np.random.default_rng(0).standard_normal(40))
    assert still_improving(falling, 10, 0.002)
    assert not still_improving(flat, 10, 0.002)
    assert not still_improving(noisy, 10, 0.002)
    assert not still_improving(falling[:15], 10, 0.002)  # too short to tell


def _training(losses, config):
    values = iter(losses)

    def loss_fn(step):
        return w.sum() * 0 + next(values)

    w = torch.zeros(1, requires_grad=True)
    return Training(loss_fn, [w], config)


def test_the_budget_grows_while_the_loss_falls_up_to_the_cap():
    config = TrainConfig(steps=40, batch_size=8, extend=2.0)
    falling = _training(list(np.linspace(5.0, 1.0, 200)), config)
    falling.run()
    assert falling.step == 80 and "extended to 80 steps" in falling.message  # the 2x cap
    flat = _training([3.0] * 200, config)
    flat.run()
    assert flat.step == 40 and flat.message == ""
    never = _training(list(np.linspace(5.0, 1.0, 200)), TrainConfig(steps=40, extend=1.0))
    never.run()
    assert never.step == 40


def test_the_budget_never_outlasts_the_time_budget():
    config = TrainConfig(steps=40, batch_size=8, extend=3.0, time_budget=1e-9)
    run = _training(list(np.linspace(5.0, 1.0, 200)), config)
    run.run()
    assert run.step == 1 and run.message == "time budget reached"


def test_the_schedule_decays_again_over_an_extension():
    schedule = Schedule(TrainConfig(steps=100, warmup=0.1))
    assert schedule.factor(1) == pytest.approx(0.1) and schedule.factor(10) == pytest.approx(1.0)
    assert schedule.factor(100) < 1e-3
    schedule.extend(50)
    assert schedule.horizon == 150
    assert schedule.factor(101) == pytest.approx(Schedule.EXTENSION_LR)
    assert schedule.factor(150) < schedule.factor(125) < schedule.factor(101)


def test_staged_training_matches_one_run():
    def make():
        torch.manual_seed(0)
        w = torch.randn(3, requires_grad=True)
        return w, Training(lambda step: ((w - step / 10) ** 2).sum(), [w], TrainConfig(steps=30))

    w1, whole = make()
    whole.run()
    w2, staged = make()
    staged.run(until=7)
    assert staged.step == 7 and not staged.done
    staged.run()
    assert staged.done and torch.equal(w1, w2) and whole.curve == staged.curve


# --- the pytest plugin -------------------------------------------------------------


def _tiny() -> InfoNCE:
    return InfoNCE(restarts=0, train=TrainConfig(steps=20, batch_size=32, extend=1.0))


def test_plugin_recovers_in_practice_mode_unless_asked(sith):
    assert sith.oracle is False
    assert sith.recover("cl-ica", learner=_tiny(), fast_metrics=True).oracle is False
    asked = sith.recover("cl-ica", learner=_tiny(), fast_metrics=True, oracle=True)
    assert asked.oracle is True


@pytest.mark.sith(oracle=True)
def test_plugin_marker_asks_for_oracle_mode(sith):
    assert sith.oracle is True
    assert sith.recover("cl-ica", learner=_tiny(), fast_metrics=True).oracle is True


def test_plugin_option_asks_for_oracle_mode(pytester):
    pytester.makepyfile(
        test_mode="""
import pytest

def test_option(sith):
    assert sith.oracle is True

@pytest.mark.sith(oracle=False)
def test_marker_overrides(sith):
    assert sith.oracle is False
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sith-oracle")
    result.assert_outcomes(passed=2)


def _sphere_process(n: int) -> th.Process:
    return th.Process(
        th.latents.UniformSphere(n),
        th.mixings.InvertibleMLP(n, depth=2, seed=0),
        th.conditionals.VonMisesFisher(10.0),
    )


def test_the_learning_rate_is_derived_from_the_process_unless_given(monkeypatch):
    """train.lr None: 1e-2, and 2e-2 for cosine InfoNCE above n = 4 (7e-3, with more
    steps, from n = 16); a given lr is kept, and the optimiser really runs at the
    resolved one."""
    assert TrainConfig().lr is None
    assert InfoNCE().default_lr(_sphere_process(3)) == 1e-2
    assert InfoNCE().default_lr(_sphere_process(10)) == 2e-2
    assert InfoNCE(critic="lp").default_lr(_sphere_process(10)) == 1e-2
    seen = []
    # from n = 16 on: a smaller rate, for longer, and no clip (it is below 1e-2)
    large = _sphere_process(infonce_module.LARGE_DIM)
    assert InfoNCE().default_lr(large) == infonce_module.LARGE_LR < 1e-2
    assert InfoNCE().default_clip(large) == 0.0
    assert InfoNCE().default_steps(large) == infonce_module.LARGE_STEPS_PER_DIM * large.dim
    assert InfoNCE().default_steps(_sphere_process(10)) == 2000
    assert InfoNCE(critic="lp").default_steps(large) == 200 * large.dim
    # a given rate decides it: 2e-2 trains for 200 n there too
    assert InfoNCE(train=TrainConfig(lr=2e-2)).default_steps(large) == 200 * large.dim
    original = infonce_module.Training.__init__

    def spy(self, loss_fn, params, config, *args, **kwargs):
        seen.append(config.lr)
        original(self, loss_fn, params, config, *args, **kwargs)

    monkeypatch.setattr(infonce_module.Training, "__init__", spy)
    for learner in (
        InfoNCE(restarts=0, train=TrainConfig(steps=2)),
        InfoNCE(restarts=0, train=TrainConfig(steps=2, lr=5e-3)),
    ):
        learner.fit(_sphere_process(6), seed=0)
    assert seen == [2e-2, 5e-3]


def test_a_search_varies_the_learning_rate_the_learner_would_use():
    from verification._search.derive import _learner_options

    options = _learner_options(th.theorems.get("cl-ica"), _sphere_process(10))
    assert options["train.lr"] == (2e-2, 2e-2 / 3)
    assert options["train.batch_size"] == (512, 128)
    options = _learner_options(th.theorems.get("cl-ica"), _sphere_process(3))
    assert options["train.lr"] == (1e-2, 1e-2 / 3)
    assert options["train.batch_size"] == (256, 64)


def test_the_batch_size_is_derived_from_the_process_unless_given(monkeypatch):
    """train.batch_size None: 256 pairs (for 600 steps) for cosine InfoNCE at n <= 3,
    else 512 (and 400 steps for the other critics at n <= 3); a given size is kept, and
    training runs at the resolved size."""
    from verification.learners.base import DEFAULT_BATCH, resolved

    small, larger = _sphere_process(3), _sphere_process(4)
    assert TrainConfig().batch_size is None
    assert resolved(TrainConfig(), 10).batch_size == DEFAULT_BATCH == 512
    assert InfoNCE().default_batch(small) == infonce_module.SMALL_DIM_BATCH == 256
    assert InfoNCE().default_steps(small) == infonce_module.SMALL_DIM_STEPS == 600
    assert InfoNCE().default_batch(larger) == 512
    assert InfoNCE(critic="lp").default_batch(small) == 512
    assert InfoNCE(critic="lp").default_steps(small) == 400
    assert InfoNCE(train=TrainConfig(batch_size=64)).training_config(small).batch_size == 64
    # AnInfoNCE's learnable critic is not the cosine one: its batches are unchanged
    from verification.learners.aninfonce import AnInfoNCE

    assert AnInfoNCE().training_config(small).batch_size == 512
    seen = []
    original = infonce_module.Training.__init__

    def spy(self, loss_fn, params, config, *args, **kwargs):
        seen.append((config.batch_size, config.steps))
        original(self, loss_fn, params, config, *args, **kwargs)

    monkeypatch.setattr(infonce_module.Training, "__init__", spy)
    for learner in (
        InfoNCE(restarts=0, train=TrainConfig(steps=2)),
        InfoNCE(restarts=0, train=TrainConfig(steps=2, batch_size=96)),
    ):
        learner.fit(small, seed=0)
    assert seen == [(256, 2), (96, 2)]


def test_the_gradient_norm_is_clipped_where_the_config_says():
    """TrainConfig.clip: the step uses the gradient scaled to norm ``clip`` (0: as is);
    None resolves to the learner's (cosine InfoNCE above n = 4: 5; else 0)."""
    from verification.learners.base import MixedPrecision, resolved

    for clip, expected in ((1.0, [3 - 0.5**0.5, 4 - 0.5**0.5]), (0.0, [-97.0, -96.0])):
        p = torch.tensor([3.0, 4.0], requires_grad=True)
        sgd = torch.optim.SGD([p], lr=1.0)
        MixedPrecision("fp32", sgd, clip).step((100 * p).sum())  # gradient (100, 100)
        torch.testing.assert_close(p.detach(), torch.tensor(expected))
    assert TrainConfig().clip is None
    assert resolved(TrainConfig(), 10).clip == 0.0
    assert InfoNCE().default_clip(_sphere_process(10)) == 5.0
    assert InfoNCE().default_clip(_sphere_process(3)) == 0.0
    assert InfoNCE(critic="lp").default_clip(_sphere_process(10)) == 0.0
    assert resolved(TrainConfig(clip=0.5), 10, default_clip=1.0).clip == 0.5
    # the clip follows the rate the learner trains at, not the default rate
    assert InfoNCE(train=TrainConfig(lr=1e-3)).default_clip(_sphere_process(10)) == 0.0
    assert InfoNCE(train=TrainConfig(lr=2e-2)).default_clip(_sphere_process(3)) == 5.0
