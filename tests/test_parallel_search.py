"""A search on several workers: its look-ahead evaluates what hypothesis generates before
each round's first counterexample in parallel, and the search's records, counterexamples
and report are those of the serial search with the same seed."""

from __future__ import annotations

import json
import os
import time

import pytest
from click.testing import CliRunner

import theory as th
from theory.errors import InvalidArgument
from verification import search
from verification._search.parallel import LookAhead
from verification.cli import main
from verification.spaces import default_space

THEOREM = "linear-ica"
BUDGET = 8
# small and fast: FastICA on 2-3 sources, a second or less an evaluation
SPACE = default_space(th.theorems.get(THEOREM)).narrow(
    dims=(2, 3), learner_options={"n_train": (1000, 300)}
)


def _summary(result):
    return (
        [e.key for e in result.records],
        [(c.kind, c.evaluation.key, [r.key for r in c.reseeds]) for c in result.counterexamples],
        [(c.kind, c.evaluation.key) for c in result.rejected],
        result.quadrants,
    )


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return search(THEOREM, SPACE, budget=BUDGET, seed=3, out=tmp_path_factory.mktemp("serial"))


def test_a_local_pool_finds_what_the_serial_search_finds(serial, tmp_path):
    parallel = search(
        THEOREM, SPACE, budget=BUDGET, seed=3, executor="local", workers=2, out=tmp_path / "local"
    )
    assert _summary(parallel) == _summary(serial)
    assert parallel.executor["name"] == "local" and parallel.executor["batches"] >= 1
    assert parallel.executor["look_ahead"] >= 2  # at least one batch ran two at once
    assert parallel.new_evaluations == serial.new_evaluations
    report = json.loads((tmp_path / "local" / "report.json").read_text())
    assert report["executor"]["name"] == "local"
    assert json.loads((serial.out / "report.json").read_text())["executor"] == {"name": "serial"}


def test_dask_finds_what_the_serial_search_finds(serial, tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    parallel = search(
        THEOREM, SPACE, budget=BUDGET, seed=3, executor="dask", workers=2, out=tmp_path
    )
    assert _summary(parallel) == _summary(serial)


def test_the_look_ahead_follows_hypothesis_generation(serial, tmp_path):
    """The candidates predicted for round 0 are the ones the search evaluated first, in
    the same order (up to its first counterexample)."""
    from verification._runs.evaluator import Evaluator
    from verification._search.driver import _round, plan
    from verification.executors import SerialExecutor

    theorem = th.theorems.get(THEOREM)
    evaluator = Evaluator(theorem, None, 3)  # keys only: nothing is evaluated
    ahead = LookAhead(SerialExecutor(), evaluator, BUDGET)
    first_phase = plan(SPACE, BUDGET, ("gap", "failure"))[0]  # what round 0 draws from
    strategy = SPACE.strategy(first_phase.aims) if first_phase.aims else SPACE.strategy()
    ahead.predict(lambda record: _round(strategy, BUDGET, 3, 0, record))
    predicted = [key for key, _ in ahead.predicted]
    touched = [e.key for e in serial.records]
    first = next(
        (touched.index(c.evaluation.key) for c in [*serial.counterexamples, *serial.rejected]),
        len(touched),
    )
    first = min(first, first_phase.until)  # the round ends with its phase
    assert touched[:first] == predicted[:first] and first >= 2


def test_a_replay_stops_once_it_has_the_candidates_it_needs():
    """A look-ahead replays a round's generation up to the candidates it needs and stops
    hypothesis there (not at max_examples): the same candidates as the first ones of
    the whole round, no more generated, and hypothesis left usable."""
    from verification._runs.evaluator import Evaluator
    from verification._search.driver import _round
    from verification.executors import SerialExecutor

    evaluator = Evaluator(th.theorems.get(THEOREM), None, 3)  # keys only
    ahead = LookAhead(SerialExecutor(), evaluator, BUDGET)
    strategy = SPACE.strategy()
    whole: list = []
    _round(strategy, BUDGET, 3, 1, whole.append)
    assert len(whole) == BUDGET  # a round that never fails generates max_examples
    seen: list = []

    def generate(record) -> None:
        _round(strategy, BUDGET, 3, 1, lambda c: (seen.append(c), record(c)))

    for count in (1, 2, 5):
        seen.clear()
        got = [key for key, _ in ahead._generated(generate, count)]
        assert got == [evaluator.key(c) for c in whole[:count]] and len(seen) == count
    again: list = []
    _round(strategy, BUDGET, 3, 1, again.append)
    assert [evaluator.key(c) for c in again] == [evaluator.key(c) for c in whole]


def test_the_next_phase_is_predicted_for_the_last_candidate_of_a_phase(
    serial, tmp_path, monkeypatch
):
    """The first round of the next phase (the round index after this one, the next
    phase's strategy) is predicted at the start of every round: its first new candidate
    is the one the serial search evaluates first in that phase; the last phase predicts
    none."""
    from verification._search.driver import plan

    phases = plan(SPACE, BUDGET, ("gap", "failure"))
    assert len(phases) >= 2
    predicted: dict[int, list[str]] = {}
    real_predict = LookAhead.predict

    def predict(self, *args, **kwargs):
        real_predict(self, *args, **kwargs)
        predicted[self.limit] = [key for key, _ in self.next_phase]  # a phase's last round

    monkeypatch.setattr(LookAhead, "predict", predict)
    parallel = search(
        THEOREM, SPACE, budget=BUDGET, seed=3, executor="local", workers=2, out=tmp_path
    )
    assert _summary(parallel) == _summary(serial)
    touched = [e.key for e in serial.records]
    until = phases[0].until
    new = [key for key in predicted[until] if key not in touched[:until]]
    assert new and new[0] == touched[until]
    assert predicted[phases[-1].until] == []


def test_the_last_candidate_of_a_phase_starts_the_next_phases_first(monkeypatch):
    """What idle workers start while the search computes a candidate itself: the next
    round's first candidates, the next phase's for the phase's last candidate, and
    nothing for the few before it (they would run past the phase) nor beside busy
    workers."""

    class Known:  # the evaluator, as far as speculate() looks: what is known
        seed = 0

        def __init__(self) -> None:
            self.records: dict[str, None] = {}

        def known(self, key: str) -> bool:
            return key in self.records

    class Pool:
        name, workers, threads, background = "local", 2, 1, True

    started: list[str] = []
    monkeypatch.setattr(LookAhead, "defer", lambda self, c, *a, **k: started.append(c) or True)
    ahead = LookAhead(Pool(), Known(), 10)  # type: ignore[arg-type]
    ahead.following = [("f1", "F1"), ("f2", "F2")]
    ahead.next_phase = [("n1", "N1"), ("n2", "N2")]
    ahead.limit = 6
    for made, expected in ((0, ["F1"]), (4, []), (5, ["N1"])):
        started.clear()
        ahead.evaluator.records = dict.fromkeys(map(str, range(made)))
        ahead.speculate()
        assert started == expected, made
    ahead.evaluator.records = dict.fromkeys(["0", "1", "2", "3", "n1"])  # n1 known: n2
    started.clear()
    ahead.speculate()
    assert started == ["N2"]
    monkeypatch.setattr(LookAhead, "running", lambda self: 1)  # the spare worker is busy
    started.clear()
    ahead.speculate()
    assert started == []


def test_bad_executors_are_refused_before_anything_runs(tmp_path):
    with pytest.raises(InvalidArgument, match="sweep on slurm instead"):
        search(THEOREM, budget=2, executor="slurm", out=tmp_path / "a")
    with pytest.raises(InvalidArgument, match="one worker"):
        search(THEOREM, budget=2, executor="serial", workers=2, out=tmp_path / "b")
    with pytest.raises(InvalidArgument, match="address is the dask"):
        search(THEOREM, budget=2, executor="local", address="tcp://x:1", out=tmp_path / "c")
    copy = th.Theorem(**{**vars(th.theorems.get(THEOREM)), "name": "my-linear-ica"})
    with pytest.raises(InvalidArgument, match="workers find theorems by name"):
        search(copy, SPACE, budget=2, executor="local", workers=2, out=tmp_path / "d")
    assert not any((tmp_path / d).exists() for d in "abcd")


def test_the_cli_searches_on_a_pool(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "search",
            THEOREM,
            "--budget",
            "4",
            "--executor",
            "local",
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "report.json").read_text())["executor"]["workers"] == 2
    bad = CliRunner().invoke(main, ["search", THEOREM, "--executor", "slurm"])
    assert bad.exit_code == 2 and "slurm" in bad.output


# a failure at once: 30 steps of InfoNCE on a circle learn nothing (its budget check,
# 120 steps, is a real retraining)
SHORT_TRAINING = default_space(th.theorems.get("cl-ica")).narrow(
    dims=(2, 2),
    latents=("uniform-sphere",),
    mixings=("linear",),
    conditionals=("vmf",),
    kappa=(10.0, 10.0),
    learner_options={
        "tau_kappa": (1.0,),
        "train.steps": (30,),
        "train.batch_size": (64,),
        "train.lr": (0.01,),
        "encoder.width": (16,),
    },
)


def _with_checks(result):
    return (*_summary(result), [c.budget_check for c in result.counterexamples])


def test_a_counterexamples_reseeds_and_budget_check_run_at_once(tmp_path):
    """The re-seeds and the budget check of a failure run on the pool while the search
    goes on, and the counterexample (re-seeds, confirmation, budget check) is the serial
    search's."""
    serial = search("cl-ica", SHORT_TRAINING, budget=3, seed=1, out=tmp_path / "serial")
    parallel = search(
        "cl-ica", SHORT_TRAINING, budget=3, seed=1, executor="local", workers=2,
        out=tmp_path / "local",
    )  # fmt: skip
    assert _with_checks(parallel) == _with_checks(serial)
    (found,) = parallel.counterexamples
    assert found.kind == "failure" and found.budget_check["key"]
    # in the background: one re-seed (this process computes the other) and the 4x
    # retraining (settled when the search ends)
    assert parallel.executor["look_ahead"] >= 2


# --- shrinking on two cores: a fork of the search computes the shrinker's next step ---


def _fork_answering(*messages: bytes):
    """A fork of this process (as the search makes one) that writes ``messages`` on its
    pipe and leaves; the parent's handle."""
    from verification._search import shadow as forks

    handle, answer_on = forks.start()
    if answer_on is None:
        return handle
    try:  # the child: never returns
        for message in messages:
            os.write(answer_on, message)
    finally:
        os._exit(0)


def _collected(pid: int) -> bool:
    """Whether this process's child ``pid`` has been collected (it is no child any more)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _naming_then_hanging():
    """A fork that names its candidate and then never answers; the parent's handle."""
    from verification._search import shadow as forks

    handle, answer_on = forks.start()
    if answer_on is None:
        return handle
    try:  # the child: never returns
        os.write(answer_on, b'{"key": "k"}\n')
        time.sleep(600)
    finally:
        os._exit(0)


def test_a_fork_names_its_candidate_then_answers_as_a_worker():
    answer = {"evaluation": {"key": "k"}, "fresh": True}
    handle = _fork_answering(b'{"key": "k"}\n', json.dumps(answer).encode())
    try:
        assert handle.key() == "k"
        assert handle.result() == answer
    finally:
        handle.kill()  # already collected: nothing happens
    assert _collected(handle.pid)


def test_a_fork_that_dies_or_names_nothing_gives_no_answer():
    silent = _fork_answering()
    assert silent.key() is None
    with pytest.raises(RuntimeError, match="died without an answer"):
        silent.result()
    nothing = _fork_answering(b'{"key": null, "error": "ValueError: no"}\n')
    assert nothing.key() is None
    with pytest.raises(RuntimeError):
        nothing.result()


def test_a_fork_still_computing_is_ended_and_collected():
    from verification._search import shadow as forks

    handle = _naming_then_hanging()
    try:
        assert handle.key() == "k" and not handle.done()
    finally:
        forks.end_all()  # every fork not collected yet: this one
    assert _collected(handle.pid) and handle.done()  # ended: no longer running


# short trainings fail at once and shrink over dimension, depth, mixing and options
SHRINKING = default_space(th.theorems.get("cl-ica")).narrow(
    dims=(2, 3),
    depth=(1, 2),
    latents=("uniform-sphere",),
    mixings=("linear", "invertible-mlp"),
    conditionals=("vmf",),
    kappa=(10.0, 20.0),
    learner_options={
        "tau_kappa": (1.0,),
        "train.steps": (30, 20),
        "train.batch_size": (64, 32),
        "train.lr": (0.01,),
        "encoder.width": (16, 8),
    },
)


def test_forks_compute_shrinking_steps_and_the_search_is_the_serial_one(tmp_path, monkeypatch):
    """While a round shrinks on a local pool, a fork of the search computes the step the
    shrinker takes next if the candidate being computed is no counterexample: the search
    takes it when it asks for that key (and ends the fork otherwise), and finds what the
    serial search finds. Every fork is collected."""
    from verification._search import parallel
    from verification._search import shadow as forks

    serial = search("cl-ica", SHRINKING, budget=10, seed=5, out=tmp_path / "serial")
    # a fork whenever the round shrinks (not only when the pool happens to be idle), also
    # where an earlier test in this process has used a GPU
    monkeypatch.setattr(parallel.LookAhead, "running", lambda self: 0)
    monkeypatch.setattr(parallel, "_cuda_initialised", lambda: False)
    started = []
    real_start = forks.start

    def start():
        handle, answer_on = real_start()
        if handle is not None:
            started.append(handle.pid)
        return handle, answer_on

    monkeypatch.setattr(forks, "start", start)
    pooled = search(
        "cl-ica", SHRINKING, budget=10, seed=5, executor="local", workers=2,
        out=tmp_path / "local",
    )  # fmt: skip
    assert _with_checks(pooled) == _with_checks(serial)
    assert len(serial.counterexamples) >= 1
    assert pooled.executor["shrink_forks"] == len(started) >= 2
    assert pooled.executor["shrink_forks_taken"] >= 1
    assert all(_collected(pid) for pid in started)  # none left running, no zombie


def test_a_fork_that_gives_no_answer_in_time_is_ended():
    handle = _naming_then_hanging()
    try:
        with pytest.raises(RuntimeError, match=r"no answer within 0\.2 s"):
            handle.result(0.2)
    finally:
        handle.kill()
    assert _collected(handle.pid)
