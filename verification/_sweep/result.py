"""A sweep's result: one row per (setting, seed), their summary, and the sweep document.

A row is plain JSON read from the evaluation record, with ``.get`` for the recovery
fields that not every version writes (``diagnosis``, ``oracle``, ``claim_curve``,
``optimality_gap``): rows work with records written before and after they existed.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theory.errors import InvalidArgument
from verification import provenance
from verification._runs import Evaluation

SCHEMA = "sith.sweep/1"
SCHEMA_FILE = Path(__file__).parent.parent / "schemas" / "sweep.schema.json"
# what differs between two runs of the same rows (timing): left out when comparing
VOLATILE = ("seconds",)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def row_from_evaluation(
    setting: int, params: dict[str, Any], evaluation: Evaluation, device: str
) -> dict[str, Any]:
    """The row of one finished evaluation (or of one that could not be made)."""
    recovery = evaluation.recovery or {}
    claim = recovery.get("claim_metric") or {}
    train = recovery.get("train") or {}
    return {
        "setting": setting,
        "params": dict(params),
        "seed": evaluation.seed,
        "key": evaluation.key,
        "recovered": evaluation.recovered,
        "claim_metric": _num(claim.get("value")),
        "metrics": {k: _num(v) for k, v in (recovery.get("metrics") or {}).items()},
        "diagnosis": recovery.get("diagnosis"),
        "oracle": bool(recovery.get("oracle", False)),
        "optimality_gap": _num(recovery.get("optimality_gap")),
        "holds": evaluation.holds,
        "violated": list(evaluation.violated),
        "status": train.get("status"),
        "steps": train.get("steps"),
        "claim_curve": _curve(recovery.get("claim_curve")),
        "device": device,
        "error": evaluation.error,
        "seconds": round(float(evaluation.seconds), 4),
    }


def error_row(
    setting: int, params: dict[str, Any], seed: int, key: str, error: str, device: str
) -> dict[str, Any]:
    """A row for an evaluation that never came back (its worker died, or it raised)."""
    return {
        "setting": setting,
        "params": dict(params),
        "seed": seed,
        "key": key,
        "recovered": None,
        "claim_metric": None,
        "metrics": {},
        "diagnosis": None,
        "oracle": False,
        "optimality_gap": None,
        "holds": None,
        "violated": [],
        "status": None,
        "steps": None,
        "claim_curve": None,
        "device": device,
        "error": error,
        "seconds": 0.0,
    }


def _curve(value: Any) -> list[list[float]] | None:
    """A claim curve as [[step, value], ...] whatever shape the record gives it
    (pairs, or {"steps": [...], "values": [...]}); None when absent or unreadable."""
    if isinstance(value, dict):
        steps, values = value.get("steps"), value.get("values")
        if isinstance(steps, list) and isinstance(values, list) and len(steps) == len(values):
            value = list(zip(steps, values, strict=True))
        else:
            return None
    if not isinstance(value, list) or not value:
        return None
    out = []
    for point in value:
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            return None
        step, metric = point
        if isinstance(step, bool) or not isinstance(step, (int, float)):
            return None
        out.append([step, _num(metric)])
    return out


def outcome_label(row: dict[str, Any]) -> str:
    """How a row ended, for the breakdown: recovered, the diagnosis, or error."""
    if row.get("error"):
        return "error"
    if row.get("recovered"):
        return "recovered"
    return row.get("diagnosis") or "not recovered"


def summarise(rows: list[dict[str, Any]], settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per setting: the claim metric's median, quartiles and range over seeds, the
    recovered fraction, and how the seeds ended."""
    out = []
    for index, params in enumerate(settings):
        mine = [r for r in rows if r["setting"] == index]
        values = sorted(r["claim_metric"] for r in mine if r["claim_metric"] is not None)
        verdicts = [r["recovered"] for r in mine if r["recovered"] is not None]
        outcomes: dict[str, int] = {}
        for r in mine:
            label = outcome_label(r)
            outcomes[label] = outcomes.get(label, 0) + 1
        out.append(
            {
                "setting": index,
                "params": params,
                "n": len(mine),
                "errors": sum(1 for r in mine if r["error"]),
                "median": statistics.median(values) if values else None,
                "q25": _quantile(values, 0.25),
                "q75": _quantile(values, 0.75),
                "min": values[0] if values else None,
                "max": values[-1] if values else None,
                "recovered_fraction": (sum(verdicts) / len(verdicts)) if verdicts else None,
                "outcomes": dict(sorted(outcomes.items())),
            }
        )
    return out


def _quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between order statistics (numpy's default)."""
    if not values:
        return None
    position = q * (len(values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


@dataclass
class SweepResult:
    """What a sweep measured: ``rows`` (one per setting and seed, in that order)."""

    theorem: str
    claim: dict[str, Any]
    process: dict[str, Any]
    vary: dict[str, Any]
    settings: list[dict[str, Any]]
    seeds: list[int]
    rows: list[dict[str, Any]]
    random: int | None = None
    seed: int = 0
    executor: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    oracle: bool = False  # asked for oracle mode (each row says whether it was used)
    status: str = "complete"  # "running" | "complete" | "interrupted"
    new_evaluations: int = 0
    seconds: float = 0.0
    out: Path | None = None
    store: Path | None = None
    provenance: dict[str, Any] | None = None  # what produced it (verification/provenance.py)

    @property
    def evaluations(self) -> int:
        return len(self.rows)

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The rows that carry an error, with their keys."""
        return [r for r in self.rows if r.get("error")]

    def summary(self) -> list[dict[str, Any]]:
        return summarise(self.rows, self.settings)

    def to_dict(self) -> dict[str, Any]:
        """The ``sith.sweep/1`` document (what ``OUT/sweep.json`` holds)."""
        return {
            "schema": SCHEMA,
            "theorem": self.theorem,
            "claim": self.claim,
            "process": self.process,
            "vary": self.vary,
            "mode": "grid" if self.random is None else "random",
            "random": self.random,
            "seed": self.seed,
            "seeds": list(self.seeds),
            "executor": self.executor,
            "device": self.device,
            "oracle": self.oracle,
            "status": self.status,
            "evaluations": self.evaluations,
            "new_evaluations": self.new_evaluations,
            "errors": len(self.errors),
            "seconds": round(self.seconds, 2),
            "store": None if self.store is None else str(self.store),
            "settings": self.settings,
            "summary": self.summary(),
            "rows": self.rows,
            "provenance": self.provenance
            or provenance.collect(seed=list(self.seeds), device=self.device),
        }

    def flat_rows(self) -> list[dict[str, Any]]:
        return flat_rows(self.rows)

    def to_csv(self) -> str:
        return rows_csv(self.rows)

    def to_frame(self):
        """The rows as a pandas DataFrame (one column per parameter and per metric);
        needs pandas (the ``frames`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise InvalidArgument(
                "SweepResult.to_frame needs pandas, the 'frames' extra: "
                "pip install 'sith-toolkit[frames]' (or read sweep.csv / .rows)"
            ) from None
        return pd.DataFrame(self.flat_rows(), columns=columns(self.rows))


FIXED_COLUMNS = (
    "setting",
    "seed",
    "recovered",
    "claim_metric",
    "diagnosis",
    "oracle",
    "optimality_gap",
    "holds",
    "violated",
    "status",
    "steps",
    "device",
    "error",
    "seconds",
    "key",
)


def columns(rows: list[dict[str, Any]]) -> list[str]:
    params = list(dict.fromkeys(k for r in rows for k in r["params"]))
    metrics = sorted({k for r in rows for k in r["metrics"]})
    return [*params, *FIXED_COLUMNS, *(f"metrics.{m}" for m in metrics)]


def flat_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the parameters and metrics as columns (``metrics.NAME``); the claim
    curve is left out (it is in sweep.json)."""
    out = []
    for r in rows:
        flat = dict(r["params"])
        for name in FIXED_COLUMNS:
            value = r.get(name)
            flat[name] = ";".join(value) if name == "violated" else value
        flat.update({f"metrics.{k}": v for k, v in r["metrics"].items()})
        out.append(flat)
    return out


def rows_csv(rows: list[dict[str, Any]]) -> str:
    """A header and one line per row (text fields are made single-line)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(rows), lineterminator="\n")
    writer.writeheader()
    for flat in flat_rows(rows):
        writer.writerow(
            {
                k: (" ".join(v.split()) if isinstance(v, str) else "" if v is None else v)
                for k, v in flat.items()
            }
        )
    return buffer.getvalue()


__all__ = [
    "SCHEMA",
    "SCHEMA_FILE",
    "VOLATILE",
    "SweepResult",
    "error_row",
    "flat_rows",
    "outcome_label",
    "row_from_evaluation",
    "rows_csv",
    "summarise",
]
