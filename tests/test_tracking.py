"""Experiment trackers: ``--track URI`` logs a command to a real local MLflow store (read
back with MlflowClient) and ``--tensorboard DIR`` writes curves TensorBoard reads."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from verification.cli import main

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("tensorboard")

from mlflow.tracking import MlflowClient  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def runs_of(uri: str, theorem: str):
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(f"sith/{theorem}")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return client, parents, children


def test_a_sweep_tracked_in_sqlite_reads_back_run_by_run(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    out, board = tmp_path / "sweep", tmp_path / "tb"
    result = invoke(
        "sweep",
        "linear-ica",
        "--vary",
        "learner.n_train=100,300",
        "--seeds",
        2,
        "--out",
        out,
        "--no-plots",
        "--track",
        uri,
        "--tensorboard",
        board,
    )
    assert result.exit_code == 0, result.output
    assert "tracked: 4 evaluation run(s)" in result.output
    doc = json.loads((out / "sweep.json").read_text())

    client, parents, children = runs_of(uri, "linear-ica")
    (parent,) = parents
    assert parent.info.status == "FINISHED" and parent.info.run_name == "sith sweep linear-ica"
    assert parent.data.metrics["evaluations"] == 4
    assert parent.data.tags["sith.git_commit"] and parent.data.tags["sith.sith"]
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {
        "sweep.json",
        "report.md",
    }
    assert len(children) == 4
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    by_key = {c.data.params["hash"]: c for c in children}
    assert set(by_key) == {row["key"] for row in doc["rows"]}
    for row in doc["rows"]:
        child = by_key[row["key"]]
        assert child.data.params["learner"] == "fastica"
        assert child.data.params["seed"] == str(row["seed"])
        assert child.data.params["param.n_train"] == str(row["params"]["learner.n_train"])
        assert json.loads(child.data.params["process"])["latent"]["type"] == "Laplace"
        assert child.data.metrics["claim_metric"] == pytest.approx(row["claim_metric"])
        assert child.data.metrics["mcc_crossfit_min"] == pytest.approx(row["claim_metric"])
        assert child.data.metrics["r2_linear"] == pytest.approx(row["metrics"]["r2_linear"])
        assert child.data.tags["recovered"] == str(row["recovered"]).lower()
        assert child.data.tags["quadrant"].endswith("recovered")
        history = client.get_metric_history(child.info.run_id, "claim_curve")
        assert [(m.step, m.value) for m in history] == [tuple(p) for p in row["claim_curve"]]

    row = doc["rows"][0]
    events = EventAccumulator(str(board / "linear-ica" / row["key"]))
    events.Reload()
    scalars = events.Scalars("train/claim_metric")
    assert [(s.step, pytest.approx(s.value)) for s in scalars] == [
        (step, pytest.approx(value)) for step, value in row["claim_curve"]
    ]

    again = invoke(
        "sweep",
        "linear-ica",
        "--vary",
        "learner.n_train=100,300",
        "--seeds",
        2,
        "--out",
        out,
        "--no-plots",
        "--track",
        uri,
    )
    assert again.exit_code == 0, again.output
    _, parents, children = runs_of(uri, "linear-ica")
    assert len(parents) == 2 and len(children) == 8  # one parent per command


def test_a_recover_logs_its_training_loss_by_step(tmp_path):
    uri = (tmp_path / "store").as_uri()  # a file: store
    board = tmp_path / "tb"
    result = invoke(
        "recover",
        "cl-ica",
        "--steps",
        30,
        "--set",
        "train.log_every=5",
        "--json",
        "--track",
        uri,
        "--tensorboard",
        board,
    )
    assert result.exit_code in (0, 1), result.output
    payload = json.loads(result.output)
    client, (parent,), (child,) = runs_of(uri, "cl-ica")
    curve = payload["train"]["curve"]
    assert len(curve) >= 2
    history = client.get_metric_history(child.info.run_id, "train_loss")
    assert [(m.step, pytest.approx(m.value)) for m in history] == [
        (s, pytest.approx(v)) for s, v in curve
    ]
    assert child.data.params["learner"] == "infonce"
    assert child.data.tags["recovered"] == str(payload["recovered"]).lower()
    assert child.data.metrics["claim_metric"] == pytest.approx(payload["claim_metric"]["value"])
    assert [a.path for a in client.list_artifacts(parent.info.run_id)] == ["recover.json"]
    (folder,) = (board / "cl-ica").iterdir()
    events = EventAccumulator(str(folder))
    events.Reload()
    assert [s.step for s in events.Scalars("train/loss")] == [s for s, _ in curve]


@pytest.mark.parametrize(
    "args, message",
    [
        (("--track", "mlruns"), "expected a URI"),
        (("--track", "ftp://x"), "expected a URI"),
    ],
)
def test_a_bad_tracking_uri_is_refused_before_anything_runs(tmp_path, args, message):
    out = tmp_path / "s"
    result = invoke(
        "sweep", "linear-ica", "--vary", "learner.n_train=100", "--seeds", 1, "--out", out, *args
    )
    assert result.exit_code == 2 and message in result.output
    assert result.output.count("\n") == 1 and not out.exists()


def test_search_and_align_are_tracked_one_run_per_evaluation(tmp_path):
    uri = f"sqlite:///{tmp_path / 'runs' / 'mlruns.db'}"  # the folder is made for it
    search = invoke(
        "search", "linear-ica", "--budget", 2, "--out", tmp_path / "s", "--quiet", "--track", uri
    )
    assert search.exit_code == 0, search.output
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    client, (parent,), children = runs_of(uri, "linear-ica")
    assert parent.info.run_name == "sith search linear-ica"
    assert parent.data.params["budget"] == "2"
    assert sorted(c.data.params["hash"] for c in children) == sorted(report["evaluated"])
    assert {c.data.tags["quadrant"] for c in children} <= {
        "holds_recovered",
        "holds_not_recovered",
        "violated_recovered",
        "violated_not_recovered",
        "error",
    }
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {
        "report.json",
        "report.md",
    }

    align = invoke(
        "align", "linear-ica", "--seeds", 2, "--out", tmp_path / "a", "--quiet", "--track", uri
    )
    assert align.exit_code == 0, align.output
    doc = json.loads((tmp_path / "a" / "align.json").read_text())
    _, parents, children = runs_of(uri, "linear-ica")
    (aligned,) = [p for p in parents if p.info.run_name == "sith align linear-ica"]
    mine = [c for c in children if c.data.tags["mlflow.parentRunId"] == aligned.info.run_id]
    assert sorted(c.data.params["hash"] for c in mine) == sorted(m["key"] for m in doc["models"])
