"""Experiment trackers: a command's evaluations in MLflow (``--track URI``) and their
training curves in TensorBoard (``--tensorboard DIR``). Both need the ``track`` extra.

MLflow: one run per command (``sith sweep cl-ica``), and one run per evaluation nested
under it (tag ``mlflow.parentRunId``), in the experiment ``sith/THEOREM``:

- params: ``theorem``, ``process`` (its canonical JSON), ``latent``, ``mixing``,
  ``dim``, ``learner`` and each ``learner.OPTION``, ``seed``, ``hash`` (the store key),
  and each swept or searched parameter as ``param.KEY``;
- metrics: ``claim_metric`` (and under its own name, e.g. ``mcc_crossfit_min``), every
  held-out metric (``r2_linear``, ``mcc``, ...), ``final_loss``, ``optimality_gap``,
  ``seconds``; the training curves by step as ``train_loss`` and ``claim_curve``;
- tags: the verdicts (``recovered``, ``holds``, ``kind``, ``quadrant``, ``violated``,
  ``diagnosis``, ``oracle``, ``error``);
- the parent holds the command line, the provenance (``sith.*`` tags) and the report
  (report.json / sweep.json / align.json and report.md, or recover's JSON) as artifacts.

A ``file:`` or ``sqlite:`` URI is a local store (for SQLite, artifacts go beside the
database, in ``mlartifacts/``); ``http(s):`` is a tracking server. ``mlflow ui
--backend-store-uri URI`` shows and compares the runs.

TensorBoard: one sub-directory per evaluation (``THEOREM/KEY``), with the scalars
``train/loss`` and ``train/claim_metric`` by training step.

Runs are logged when the command's evaluations are done (or it was interrupted: what
finished is logged), from the same records the reports are made of.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from theory._spec import canonical_json
from theory.errors import InvalidArgument
from verification._runs.records import EvaluationId
from verification._text import one_line

PARAM_LIMIT = 6000  # characters of one MLflow param value (longer ones are cut, marked)
BATCH = 900  # metrics per log_batch call (MLflow accepts 1000)
SCHEMES = ("file", "sqlite", "http", "https", "postgresql", "mysql", "databricks")


def _require(module: str, option: str):
    try:
        return __import__(module)
    except ImportError:
        raise InvalidArgument(
            f"{option} needs {module}, the 'track' extra: pip install 'sith-toolkit[track]'"
        ) from None


def check_uri(uri: str) -> str:
    """A tracking URI sith can log to (checked before anything runs)."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidArgument("--track needs a URI, e.g. sqlite:///mlruns.db or file:./mlruns")
    scheme = urlparse(uri).scheme
    if scheme not in SCHEMES:
        raise InvalidArgument(
            f"--track {uri!r}: expected a URI such as sqlite:///mlruns.db, file:./mlruns or "
            f"http://HOST:5000 (schemes: {', '.join(SCHEMES)})"
        )
    _require("mlflow", "--track")
    if scheme == "file":  # MLflow 3 keeps its file store behind an opt-in; asking is opting in
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    if scheme in ("file", "sqlite"):  # a local store: open it now, before any work
        _quiet_mlflow()
        if uri.startswith("sqlite:///"):  # its folder, as a file: store makes its own
            Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        try:
            from mlflow.tracking import MlflowClient

            MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
        except Exception as err:
            raise InvalidArgument(
                f"--track {uri}: cannot open the store: {one_line(err, 300)}"
            ) from None
    return uri


def _quiet_mlflow() -> None:
    for name in ("mlflow", "alembic"):  # their INFO lines (creating tables) are not sith's
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class Record(EvaluationId):
    """One evaluation as trackers see it (from a store record or a recover result): the
    fields that name an :class:`~verification._runs.Evaluation`, and its verdicts."""

    recovery: dict[str, Any] | None
    holds: bool | None = None
    violated: tuple[str, ...] = ()
    kind: str | None = None
    error: str | None = None
    seconds: float = 0.0

    @classmethod
    def from_evaluation(cls, evaluation: Any) -> Record:
        shared = {f.name: getattr(evaluation, f.name) for f in fields(cls)}
        return cls(
            **{**shared, "params": dict(evaluation.params), "violated": tuple(evaluation.violated)}
        )

    @property
    def recovered(self) -> bool | None:
        return None if self.recovery is None else bool(self.recovery.get("recovered"))

    @property
    def quadrant(self) -> str:
        if self.error or self.recovery is None:
            return "error"
        if self.holds is None:
            return "recovered" if self.recovered else "not_recovered"
        return (
            f"{'holds' if self.holds else 'violated'}_{'' if self.recovered else 'not_'}recovered"
        )

    @property
    def curve(self) -> list[tuple[int, float]]:
        train = (self.recovery or {}).get("train") or {}
        return _pairs(train.get("curve"))

    @property
    def claim_curve(self) -> list[tuple[int, float]]:
        return _pairs((self.recovery or {}).get("claim_curve"))

    @property
    def label(self) -> str:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.theorem} {shown + ' ' if shown else ''}seed {self.seed}"


def _pairs(value: Any) -> list[tuple[int, float]]:
    out = []
    for item in value or []:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            step, v = item
            if isinstance(v, (int, float)) and math.isfinite(v) and isinstance(step, (int, float)):
                out.append((int(step), float(v)))
    return out


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "…"))
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "…"


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _param_key(key: str) -> str:
    """MLflow keys: letters, digits, ``_ - . / space``; anything else becomes ``_``."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", key)[:250]


def _param_value(value: Any) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    return text if len(text) <= PARAM_LIMIT else text[: PARAM_LIMIT - 14] + " …(truncated)"


def record_params(record: Record) -> dict[str, str]:
    process = record.process or {}
    latent, mixing = process.get("latent") or {}, process.get("mixing") or {}
    out: dict[str, Any] = {
        "theorem": record.theorem,
        "process": process,
        "latent": latent.get("type"),
        "mixing": mixing.get("type"),
        "dim": latent.get("n"),
        "learner": record.learner.get("name"),
        "seed": record.seed,
        "hash": record.key,
    }
    for name, value in _flatten({k: v for k, v in record.learner.items() if k != "name"}):
        out[f"learner.{name}"] = value
    for name, value in record.params.items():
        out[f"param.{name}"] = value
    return {_param_key(k): _param_value(v) for k, v in out.items() if v is not None}


def _flatten(options: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested learner options as dotted names (``train.steps``)."""
    out = []
    for name, value in options.items():
        if isinstance(value, Mapping) and value and "type" not in value:
            out += _flatten(value, f"{prefix}{name}.")
        else:
            out.append((f"{prefix}{name}", value))
    return out


def record_metrics(record: Record) -> dict[str, float]:
    recovery = record.recovery or {}
    claim = recovery.get("claim_metric") or {}
    found: dict[str, Any] = {
        "claim_metric": claim.get("value"),
        "final_loss": (recovery.get("train") or {}).get("final_loss"),
        "optimality_gap": recovery.get("optimality_gap"),
        "seconds": record.seconds,
    }
    for name, value in (recovery.get("metrics") or {}).items():
        found[name] = value
    if claim.get("name"):
        found[claim["name"]] = claim.get("value")
    return {_param_key(k): v for k, v in found.items() if _finite(v) is not None}


def record_tags(record: Record) -> dict[str, str]:
    recovery = record.recovery or {}
    tags = {
        "recovered": record.recovered,
        "holds": record.holds,
        "kind": record.kind or ("consistent" if record.recovery is not None else None),
        "quadrant": record.quadrant,
        "violated": ", ".join(record.violated) if record.violated else None,
        "diagnosis": recovery.get("diagnosis"),
        "oracle": recovery.get("oracle"),
        "error": record.error,
    }
    return {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in tags.items()
        if v is not None
    }


# --- MLflow -------------------------------------------------------------------------------


def log_mlflow(
    uri: str,
    *,
    command: str,
    theorem: str,
    records: Iterable[Record],
    provenance: Mapping[str, Any] | None = None,
    artifacts: Sequence[str | Path] = (),
    status: str = "complete",
    parent_params: Mapping[str, Any] | None = None,
) -> str:
    """Log a command and its evaluations; returns the parent run's id. A store that
    fails on the way is one clear error (the results are saved already)."""
    check_uri(uri)
    _quiet_mlflow()
    try:
        return _log_mlflow(
            uri, command, theorem, records, provenance, artifacts, status, parent_params
        )
    except InvalidArgument:
        raise
    except Exception as err:  # a server that went away, a store that refused a write
        raise InvalidArgument(
            f"logging to {uri} failed ({type(err).__name__}: {one_line(err, 300)}); the results "
            "are saved: rerun the same command with --track to log them (nothing is recomputed)"
        ) from None


def _log_mlflow(uri, command, theorem, records, provenance, artifacts, status, parent_params):
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = _experiment(client, uri, f"sith/{theorem}")
    now = int(time.time() * 1000)
    argv = list((provenance or {}).get("command") or [])
    parent_tags = {
        "mlflow.runName": f"sith {command} {theorem}",
        "sith.command": " ".join(argv) or f"sith {command} {theorem}",
        "sith.status": status,
    }
    for name, value in (provenance or {}).items():
        if name == "git" and isinstance(value, dict):
            parent_tags["sith.git_commit"] = str(value.get("commit"))
            parent_tags["sith.git_dirty"] = str(value.get("dirty")).lower()
        elif name != "command":
            parent_tags[f"sith.{name}"] = _param_value(value)
    parent = client.create_run(experiment, start_time=now, tags=parent_tags)
    parent_id = parent.info.run_id
    client.log_batch(
        parent_id,
        params=[
            Param(_param_key(k), _param_value(v))
            for k, v in {"theorem": theorem, **(parent_params or {})}.items()
            if v is not None
        ],
    )
    count = 0
    try:
        for record in records:
            count += 1
            tags = {"mlflow.parentRunId": parent_id, "mlflow.runName": record.label}
            tags.update(record_tags(record))
            child = client.create_run(experiment, start_time=now, tags=tags)
            run_id = child.info.run_id
            params = [Param(k, v) for k, v in record_params(record).items()]
            for i in range(0, len(params), 100):
                client.log_batch(run_id, params=params[i : i + 100])
            metrics = [Metric(k, v, now, 0) for k, v in record_metrics(record).items()]
            metrics += [Metric("train_loss", v, now, s) for s, v in record.curve]
            metrics += [Metric("claim_curve", v, now, s) for s, v in record.claim_curve]
            for i in range(0, len(metrics), BATCH):
                client.log_batch(run_id, metrics=metrics[i : i + BATCH])
            client.set_terminated(run_id, "FAILED" if record.error else "FINISHED")
        client.log_batch(parent_id, metrics=[Metric("evaluations", count, now, 0)])
        for path in artifacts:
            if Path(path).is_file():
                client.log_artifact(parent_id, str(path))
    except BaseException:
        client.set_terminated(parent_id, "FAILED")
        raise
    client.set_terminated(parent_id, "FINISHED" if status == "complete" else "KILLED")
    return parent_id


def _experiment(client: Any, uri: str, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if uri.startswith("sqlite:///"):  # artifacts beside the database, not in the cwd
        database = Path(uri[len("sqlite:///") :])  # sqlite:////abs.db -> /abs.db
        folder = database.resolve().parent / "mlartifacts" / re.sub(r"[^\w.-]", "_", name)
        location = folder.as_uri()
    return client.create_experiment(name, artifact_location=location)


# --- TensorBoard --------------------------------------------------------------------------


def check_tensorboard(directory: str | Path) -> Path:
    _require("tensorboard", "--tensorboard")
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise InvalidArgument(f"--tensorboard {directory}: not a directory")
    return path


def log_tensorboard(directory: str | Path, records: Iterable[Record]) -> list[Path]:
    """Write each record's training curves as scalars under DIRECTORY/THEOREM/KEY."""
    root = check_tensorboard(directory)
    from torch.utils.tensorboard import SummaryWriter

    written = []
    for record in records:
        if not record.curve and not record.claim_curve:
            continue
        folder = root / re.sub(r"[^\w.-]", "_", record.theorem) / record.key
        writer = SummaryWriter(log_dir=str(folder))
        try:
            for step, value in record.curve:
                writer.add_scalar("train/loss", value, step)
            for step, value in record.claim_curve:
                writer.add_scalar("train/claim_metric", value, step)
            writer.add_text("evaluation", json.dumps(record_params(record), indent=1))
        finally:
            writer.close()
        written.append(folder)
    return written


__all__ = [
    "Record",
    "check_tensorboard",
    "check_uri",
    "log_mlflow",
    "log_tensorboard",
    "record_metrics",
    "record_params",
    "record_tags",
]
