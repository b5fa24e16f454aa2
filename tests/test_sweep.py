"""Sweeps: settings from keys, validation before compute, the store (resume, sharing),
identical rows on every backend, and the files a sweep writes."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import theory as th
import verification
from theory.errors import InvalidArgument, RunDirectoryError
from verification._search import ResultStore
from verification._sweep import SCHEMA_FILE, Range, SweepSpace, sweep, with_dimension
from verification._sweep.result import VOLATILE
from verification._sweep.settings import make_settings, normalise_vary
from verification.cli import main
from verification.executors import Executor, WorkerLost

# linear-ica (FastICA) evaluations take well under a second
THEOREM = "linear-ica"
GRID = {"learner.n_train": [100, 300]}
SEEDS = 2


def comparable(rows):
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The serial sweep every backend must reproduce."""
    out = tmp_path_factory.mktemp("serial")
    return sweep(THEOREM, GRID, seeds=SEEDS, out=out, plots=True)


# --- settings and validation -------------------------------------------------------------


def test_the_facade_exports_sweep():
    assert verification.sweep is sweep
    assert verification.SweepResult.__name__ == "SweepResult"
    assert {"sweep", "SweepResult"} <= set(verification.__all__)


def test_grid_rows_are_one_per_setting_and_seed(baseline):
    assert baseline.status == "complete" and baseline.new_evaluations == 4
    assert baseline.settings == [{"learner.n_train": 100}, {"learner.n_train": 300}]
    assert [(r["setting"], r["seed"]) for r in baseline.rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    row = baseline.rows[0]
    assert row["params"] == {"learner.n_train": 100}
    assert set(row) >= {
        "params",
        "seed",
        "recovered",
        "claim_metric",
        "metrics",
        "diagnosis",
        "oracle",
        "seconds",
    }
    assert isinstance(row["claim_metric"], float) and row["recovered"] in (True, False)
    assert row["oracle"] is False and row["device"] == "cpu" and row["error"] is None
    claim = th.theorems.get(THEOREM).claim
    assert baseline.claim == {
        "name": claim.metric,
        "threshold": claim.threshold,
        "higher_is_better": claim.higher_is_better,
    }


def test_grid_order_is_last_key_fastest_and_dim_rebuilds_the_process():
    space = SweepSpace(th.theorems.get(THEOREM), th.theorems.get(THEOREM).canonical_process())
    vary = normalise_vary(space, {"dim": [2, 3], "n_train": [100, 200]}, random=None)
    settings = make_settings(vary, random=None, seed=0)
    assert settings == [
        {"dim": 2, "learner.n_train": 100},
        {"dim": 2, "learner.n_train": 200},
        {"dim": 3, "learner.n_train": 100},
        {"dim": 3, "learner.n_train": 200},
    ]
    candidate = space.candidate(settings[2])
    assert candidate.process.dim == 3 and candidate.learner_options == {"n_train": 100}


def test_random_settings_are_seeded_and_sampled_from_ranges():
    space = SweepSpace(th.theorems.get("cl-ica"), th.theorems.get("cl-ica").canonical_process())
    vary = normalise_vary(
        space,
        {
            "train.lr": Range(1e-3, 1e-1, log=True),
            "conditional.kappa": Range(2, 50),
            "train.optimizer": ["adam", "sgd"],
        },
        random=5,
    )
    a = make_settings(vary, random=5, seed=3)
    assert a == make_settings(vary, random=5, seed=3)  # seeded
    assert a != make_settings(vary, random=5, seed=4)
    assert 1 <= len(a) <= 5
    for s in a:
        assert 1e-3 <= s["train.lr"] <= 1e-1 and isinstance(s["train.lr"], float)
        assert 2 <= s["conditional.kappa"] <= 50 and isinstance(s["conditional.kappa"], int)
        assert s["train.optimizer"] in ("adam", "sgd")
    as_json = normalise_vary(
        space, {"train.lr": {"low": 1e-3, "high": 1e-1, "log": True}}, random=5
    )
    assert as_json == {"train.lr": Range(1e-3, 1e-1, log=True)}
    with pytest.raises(InvalidArgument, match="a range is"):
        normalise_vary(space, {"train.lr": {"low": 1e-3}}, random=5)
    with pytest.raises(InvalidArgument, match="needs random=N"):
        normalise_vary(space, {"train.lr": Range(0.1, 0.2)}, random=None)
    with pytest.raises(InvalidArgument, match="lr must be a finite positive number"):
        normalise_vary(space, {"train.lr": Range(-1.0, 0.2)}, random=3)


def test_keys_have_one_spelling_and_values_the_declared_type():
    theorem = th.theorems.get("cl-ica")
    space = SweepSpace(theorem, theorem.canonical_process())
    assert space.canonical("latent.n") == "dim"
    assert space.canonical("n_train") == "learner.n_train"
    assert space.canonical("learner.train.batch_size") == "train.batch_size"
    assert space.canonical("learner.tau") == "learner.tau"
    # an integer for a float field names the same store record as the float
    vary = normalise_vary(space, {"conditional.kappa": [2, 2.0, 10]}, random=None)
    assert vary == {"conditional.kappa": [2.0, 10.0]}
    assert space.build_process({"conditional.kappa": 2.0}).conditional.kappa == 2.0
    assert normalise_vary(space, {"learner.tau": [1]}, random=None) == {"learner.tau": [1.0]}


def test_unknown_keys_and_bad_values_are_refused_before_anything_runs(tmp_path):
    out = tmp_path / "never"
    with pytest.raises(InvalidArgument, match=r"unknown sweep key 'foo'.*valid keys: dim, "):
        sweep(THEOREM, {"foo": [1]}, out=out)
    with pytest.raises(InvalidArgument, match=r"valid keys: .*learner\.n_train"):
        sweep(THEOREM, {"learner.nope": [1]}, out=out)
    with pytest.raises(InvalidArgument, match="expected int, got 'many'"):
        sweep(THEOREM, {"learner.n_train": [100, "many"]}, out=out)
    with pytest.raises(InvalidArgument, match="n_train must be an integer in"):
        sweep(THEOREM, {"learner.n_train": [1]}, out=out)
    with pytest.raises(InvalidArgument, match="kappa must be"):
        sweep("cl-ica", {"conditional.kappa": [-1]}, out=out)
    with pytest.raises(InvalidArgument, match="device must be"):
        sweep(THEOREM, GRID, device="tpu", out=out)
    with pytest.raises(InvalidArgument, match="not an option of the serial executor"):
        sweep(THEOREM, GRID, address="tcp://127.0.0.1:1", out=out)
    with pytest.raises(InvalidArgument, match="seeds must be"):
        sweep(THEOREM, GRID, seeds=0, out=out)
    with pytest.raises(InvalidArgument, match="oracle must be True or False"):
        sweep(THEOREM, GRID, oracle="yes", out=out)
    assert not out.exists()


def test_the_cli_refuses_bad_keys_with_exit_2(tmp_path):
    out = tmp_path / "never"
    result = run("sweep", THEOREM, "--vary", "foo=1,2", "--out", out)
    assert result.exit_code == 2
    assert "unknown sweep key 'foo'" in result.output and "learner.n_train" in result.output
    result = run("sweep", THEOREM, "--vary", "learner.n_train=100,lots", "--out", out)
    assert result.exit_code == 2 and "expected int, got 'lots'" in result.output
    result = run("sweep", THEOREM, "--vary", "learner.n_train=100..200", "--out", out)
    assert result.exit_code == 2 and "needs --random" in result.output
    result = run("sweep", THEOREM, "--vary", "n_train=1", "--vary", "n_train=2", "--out", out)
    assert result.exit_code == 2 and "given twice" in result.output
    result = run("sweep", THEOREM, "--out", out)
    assert result.exit_code == 2 and "--vary" in result.output
    assert not out.exists()


def test_dimension_changes_rebuild_the_whole_process():
    linear = th.theorems.get("linear-ica").canonical_process()
    # the canonical linear mixing was drawn with Linear.random(5, seed=0): kept
    assert with_dimension(linear.to_dict(), 5) == linear.to_dict()
    small = th.Process.from_dict(with_dimension(linear.to_dict(), 2))
    assert small.dim == 2 and small.mixing.n_out == 2
    clica = th.theorems.get("cl-ica").canonical_process()
    four = th.Process.from_dict(with_dimension(clica.to_dict(), 4))
    assert (four.latent.dim, four.mixing.n_in, four.mixing.depth) == (4, 4, 3)
    content = th.theorems.get("content-style")
    space = SweepSpace(content, content.canonical_process())
    with pytest.raises(InvalidArgument, match="dim=1"):
        normalise_vary(space, {"dim": [1]}, random=None)


# --- the store: resume and sharing ---------------------------------------------------------


def test_a_rerun_recomputes_nothing(baseline, tmp_path):
    shutil.copytree(baseline.out, tmp_path / "copy")
    again = sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path / "copy", plots=False)
    assert again.new_evaluations == 0 and again.status == "complete"
    assert comparable(again.rows) == comparable(baseline.rows)


def test_an_interrupted_sweep_resumes_where_it_stopped(tmp_path):
    def stop_after_two(row, fresh, seen=[]):  # noqa: B006 - a counter across calls
        seen.append(row)
        if len(seen) == 2:
            raise KeyboardInterrupt

    first = sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path, plots=False, on_row=stop_after_two)
    assert first.status == "interrupted" and len(first.rows) == 2
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert saved["status"] == "interrupted" and len(saved["rows"]) == 2
    second = sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path, plots=False)
    assert second.status == "complete" and len(second.rows) == 4
    assert second.new_evaluations == 2  # the two finished ones came from the store


def test_sweeps_sharing_a_store_share_results(baseline, tmp_path):
    more = sweep(
        THEOREM,
        {"learner.n_train": [300, 1000]},
        seeds=SEEDS,
        out=tmp_path / "other",
        store=baseline.out,
        plots=False,
    )
    assert more.new_evaluations == 2  # n_train=300 was in the baseline's store
    assert comparable(more.rows[:2]) == [{**r, "setting": 0} for r in comparable(baseline.rows[2:])]
    assert not (tmp_path / "other" / "evaluations").exists() or not list(
        (tmp_path / "other" / "evaluations").iterdir()
    )


def test_a_sweep_directory_is_locked_and_never_a_search(tmp_path):
    (tmp_path / "run.json").write_text("{}")
    with pytest.raises(RunDirectoryError, match="holds a search"):
        sweep(THEOREM, GRID, seeds=1, out=tmp_path)


class _LosesFirstAttempts(Executor):
    """Serial, but every item's worker dies ``losses`` times first."""

    name = "flaky"

    def __init__(self, losses: int) -> None:
        super().__init__(1, 1)
        self.losses: dict[int, int] = {}
        self.limit = losses

    def _run(self, fn, indexed):
        for index, item in indexed:
            lost = self.losses.get(index, 0)
            if lost < self.limit:
                self.losses[index] = lost + 1
                yield index, None, WorkerLost("worker killed")
            else:
                yield index, fn(item), None


def test_a_killed_worker_is_retried_or_reported_never_lost(tmp_path, baseline):
    retried = sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path / "a", executor=_LosesFirstAttempts(1))
    assert comparable(retried.rows) == comparable(baseline.rows)
    lost = sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path / "b", executor=_LosesFirstAttempts(5))
    assert len(lost.rows) == 4 and all(r["error"] for r in lost.rows)
    assert "WorkerLost" in lost.rows[0]["error"] and "rerun" in lost.rows[0]["error"]
    assert len(ResultStore(tmp_path / "b")) == 0  # never stored: a rerun retries them
    rerun = sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path / "b", plots=False)
    assert rerun.new_evaluations == 4 and not rerun.errors


class _CountsResults(Executor):
    """In this process, one item after another, as if on ``workers`` workers; counts the
    results handed back."""

    name = "counting"

    def __init__(self, workers: int) -> None:
        super().__init__(workers, 1)
        self.handed_back = 0
        self.started: list[int] = []

    def _run(self, fn, indexed):
        for index, item in indexed:
            self.started.append(index)
            value = fn(item)
            self.handed_back += 1
            yield index, value, None


@pytest.mark.parametrize("workers, expected", [(2, [3]), (4, [1]), (5, [0]), (1, [4])])
def test_the_report_imports_matplotlib_once_a_worker_has_nothing_left(
    tmp_path, monkeypatch, workers, expected
):
    """Four items: on 2 workers, one of them is idle from the third result on; on 4, from
    the first; on 5, from the start; a lone worker, only at the end."""
    import verification._sweep.driver as driver

    executor = _CountsResults(workers)
    calls = []
    monkeypatch.setattr(driver, "preload_plotting", lambda: calls.append(executor.handed_back))
    sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path / "a", executor=executor)
    assert calls == expected
    calls.clear()
    sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path / "b", executor=_CountsResults(2), plots=False)
    sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path / "c")  # serial: it imports when it plots
    assert calls == []


def test_a_pool_starts_one_seed_of_every_setting_first(tmp_path, baseline):
    """Items 0-1 are the first setting's two seeds, 2-3 the second's: on 2 workers the
    second setting starts second (then the slower setting, as measured, goes on); on one
    worker the order is the settings' own. The rows are the serial ones either way."""
    pool = _CountsResults(2)
    rows = sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path / "a", executor=pool, plots=False).rows
    assert pool.started[:2] == [0, 2] and sorted(pool.started) == [0, 1, 2, 3]
    assert comparable(rows) == comparable(baseline.rows)
    alone = _CountsResults(1)
    sweep(THEOREM, GRID, seeds=SEEDS, out=tmp_path / "b", executor=alone, plots=False)
    assert alone.started == [0, 1, 2, 3]


# --- the same rows on every backend -----------------------------------------------------


def test_local_pool_gives_identical_rows(baseline, tmp_path):
    local = sweep(
        THEOREM, GRID, seeds=SEEDS, executor="local", workers=2, out=tmp_path, plots=False
    )
    assert local.executor["name"] == "local" and local.new_evaluations == 4
    assert comparable(local.rows) == comparable(baseline.rows)


def test_dask_local_cluster_gives_identical_rows(baseline, tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    rows = sweep(
        THEOREM, GRID, seeds=SEEDS, executor="dask", workers=2, out=tmp_path, plots=False
    ).rows
    assert comparable(rows) == comparable(baseline.rows)


def test_submitit_local_executor_gives_identical_rows(baseline, tmp_path):
    pytest.importorskip("submitit", reason="the slurm extra is not installed")
    # one seed: each job is a fresh interpreter (seconds to start), two run at a time
    result = sweep(
        THEOREM,
        GRID,
        seeds=[0],
        executor="slurm",
        slurm_cluster="local",
        slurm_time=10,
        workers=2,
        out=tmp_path,
        plots=False,
    )
    seed0 = [r for r in baseline.rows if r["seed"] == 0]
    assert comparable(result.rows) == comparable(seed0)
    assert (tmp_path / "slurm").is_dir()  # the jobs' pickles and logs


# Opt-in: the same identity on a real cluster (docs/scaling.md). Not run here: no SLURM
# and no remote scheduler on the machines that run sith's CI.
@pytest.mark.skipif(
    not os.environ.get("SITH_SLURM_PARTITION"), reason="set SITH_SLURM_PARTITION to run on SLURM"
)
def test_real_slurm_gives_identical_rows(baseline):
    pytest.importorskip("submitit", reason="the slurm extra is not installed")
    # the jobs' folder and the store must be on a filesystem the nodes share
    shared = Path(os.environ.get("SITH_SLURM_DIR", Path.cwd() / ".sith-slurm-test"))
    out = shared / f"sweep-{os.getpid()}"
    result = sweep(
        THEOREM,
        GRID,
        seeds=SEEDS,
        executor="slurm",
        slurm_partition=os.environ["SITH_SLURM_PARTITION"],
        slurm_time=float(os.environ.get("SITH_SLURM_TIME", "10")),
        workers=2,
        out=out,
        plots=False,
    )
    assert comparable(result.rows) == comparable(baseline.rows)
    shutil.rmtree(out, ignore_errors=True)


@pytest.mark.skipif(
    not os.environ.get("SITH_DASK_ADDRESS"), reason="set SITH_DASK_ADDRESS to use a scheduler"
)
def test_remote_dask_scheduler_gives_identical_rows(baseline, tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    result = sweep(
        THEOREM,
        GRID,
        seeds=SEEDS,
        executor="dask",
        address=os.environ["SITH_DASK_ADDRESS"],
        out=tmp_path,
        plots=False,
    )
    assert comparable(result.rows) == comparable(baseline.rows)


def test_an_unregistered_theorem_object_runs_serially_only(tmp_path):
    import dataclasses

    mine = dataclasses.replace(th.theorems.get(THEOREM), learner=("fastica", {"n_train": 200}))
    with pytest.raises(InvalidArgument, match="not the one registered"):
        sweep(mine, {"dim": [2]}, seeds=1, executor="local", out=tmp_path / "x")
    result = sweep(mine, {"dim": [2]}, seeds=1, out=tmp_path / "y", plots=False)
    assert result.rows[0]["error"] is None and result.rows[0]["claim_metric"] is not None


# --- files -------------------------------------------------------------------------------


def test_sweep_json_matches_its_schema(baseline):
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads((baseline.out / "sweep.json").read_text())
    jsonschema.validate(doc, json.loads(SCHEMA_FILE.read_text()))
    assert doc["schema"] == "sith.sweep/1" and len(doc["rows"]) == 4
    assert comparable(doc["rows"]) == comparable(json.loads(json.dumps(baseline.rows)))


def test_csv_has_one_line_per_row(baseline):
    text = (baseline.out / "sweep.csv").read_text()
    assert len(text.splitlines()) == 1 + len(baseline.rows)
    records = list(csv.DictReader(text.splitlines()))
    assert [int(r["learner.n_train"]) for r in records] == [100, 100, 300, 300]
    assert {"seed", "recovered", "claim_metric", "metrics.mcc"} <= set(records[0])


def test_reports_and_figures(baseline):
    out = baseline.out
    md = (out / "report.md").read_text()
    assert "# sith sweep: linear-ica" in md and "| learner.n_train |" in md
    assert "<h1>sith sweep: linear-ica</h1>" in (out / "report.html").read_text()
    pytest.importorskip("matplotlib")
    assert (out / "figures" / "vary-learner.n_train.png").stat().st_size > 1000
    assert "figures/vary-learner.n_train.png" in md


def test_sith_report_renders_a_sweep_directory(baseline, tmp_path):
    result = run("report", baseline.out, "--format", "html")
    assert result.exit_code == 0, result.output
    assert "sith sweep: linear-ica" in result.output and "<img" in result.output
    result = run("report", baseline.out, "--format", "md")
    assert result.exit_code == 0 and "| learner.n_train |" in result.output
    (tmp_path / "sweep.json").write_text(json.dumps({"schema": "sith.sweep/1", "rows": 3}))
    result = run("report", tmp_path)
    assert result.exit_code == 2 and "malformed" in result.output


def test_to_frame_needs_pandas(baseline, monkeypatch):
    if "pandas" not in sys.modules:
        pytest.importorskip("pandas", reason="the frames extra is not installed")
    frame = baseline.to_frame()
    assert len(frame) == 4 and {"learner.n_train", "claim_metric", "metrics.mcc"} <= set(frame)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(InvalidArgument, match=r"'frames' extra"):
        baseline.to_frame()


def test_cli_sweep_writes_the_files_and_resumes(tmp_path):
    out = tmp_path / "cli"
    args = ("sweep", THEOREM, "--vary", "learner.n_train=100,300", "--seeds", 1, "--out", out)
    result = run(*args, "--no-plots")
    assert result.exit_code == 0, result.output
    assert "2 evaluations (2 new)" in result.output
    for name in ("sweep.json", "sweep.csv", "report.md", "report.html"):
        assert (out / name).is_file()
    again = run(*args, "--no-plots", "--json")
    assert again.exit_code == 0 and json.loads(again.output)["new_evaluations"] == 0


def test_cli_sweeps_around_a_process_file(tmp_path):
    process = th.Process(th.latents.Laplace(2), th.mixings.Linear.random(2, seed=3))
    path = tmp_path / "p.json"
    path.write_text(process.to_json())
    out = tmp_path / "out"
    result = run(
        "sweep", THEOREM, "--process", path, "--vary", "latent.scale=0.5,2", "--seeds", 1,
        "--out", out, "--no-plots", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["process"] == json.loads(process.to_json())
    assert [r["params"] for r in doc["rows"]] == [{"latent.scale": 0.5}, {"latent.scale": 2.0}]


def test_device_auto_is_recorded_and_learners_train_on_cpu(baseline):
    assert baseline.device == "cpu"  # auto, on a machine without a GPU
    assert all(r["device"] == "cpu" for r in baseline.rows)


def test_the_sweep_package_is_layered():
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from test_architecture import _graph
    finally:
        sys.path.pop(0)
    graph = _graph()
    order = ["settings", "result", "reports", "driver"]
    for i, name in enumerate(order):
        below = {f"verification._sweep.{n}" for n in order[i + 1 :]}
        assert not graph[f"verification._sweep.{name}"] & below, name
    # executors import no private room of sith but their own stdlib-only helpers
    private = {m for m in graph["verification.executors"] if m.startswith("verification._")}
    assert not {m for m in private if not m.startswith("verification._executors")}


def test_workers_import_the_users_modules(tmp_path):
    paper = tmp_path / "sweep_paper.py"
    paper.write_text(
        "import dataclasses\nimport theory as th\n\n"
        'mine = dataclasses.replace(th.theorems.get("linear-ica"), name="my-sweep-ica")\n'
    )
    out = tmp_path / "out"
    result = run(
        "--import", paper, "sweep", "my-sweep-ica", "--vary", "learner.n_train=100,200",
        "--seeds", 1, "--executor", "local", "--workers", 1, "--out", out, "--no-plots",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["theorem"] == "my-sweep-ica" and not doc["errors"] and len(doc["rows"]) == 2


def test_oracle_mode_is_asked_for_and_each_row_says_if_it_was_used(baseline, tmp_path):
    # FastICA has no oracle mode: it trains in practice mode, the same store record
    result = sweep(THEOREM, GRID, seeds=SEEDS, oracle=True, out=tmp_path, store=baseline.out)
    assert result.oracle and result.to_dict()["oracle"] is True
    assert result.new_evaluations == 0 and not any(r["oracle"] for r in result.rows)
    assert "oracle mode" in (tmp_path / "report.md").read_text()
