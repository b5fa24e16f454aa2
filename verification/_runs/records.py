"""The record every run kind writes: one evaluation of a theorem on a process.

An :class:`Evaluation` is a pure function of (theorem, process, learner configuration,
seed), named by the hash of that spec (:func:`spec_key`). Searches, sweeps, alignments
and ``recover`` share it: it is written to the result store as soon as it finishes and
read back as data (``from_dict`` checks its shape; nothing in it is code).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from theory._spec import digest
from theory.errors import InvalidArgument

EVALUATION_SCHEMA = "sith.eval/1"
KINDS = ("gap", "failure")
QUADRANTS = (
    "holds_recovered",
    "holds_not_recovered",
    "violated_recovered",
    "violated_not_recovered",
    "errors",
)
SPEC_FIELDS = ("theorem", "process", "learner", "seed")


def spec_key(spec: Mapping[str, Any]) -> str:
    """The store key of an evaluation spec (theorem, process, learner config, seed)."""
    return digest(dict(spec), length=20)


@dataclass(frozen=True)
class EvaluationId:
    """What names an evaluation (its spec and store key) and the searched or swept
    parameters it was made with: the fields every view of an evaluation shares."""

    key: str
    theorem: str
    process: dict[str, Any]
    learner: dict[str, Any]
    seed: int
    params: dict[str, Any]


@dataclass(frozen=True)
class Evaluation(EvaluationId):
    """One evaluation of a theorem on a process: its checks, its recovery, its quadrant.

    ``kind`` is ``"gap"`` (assumptions violated, claim recovered), ``"failure"``
    (assumptions hold, claim not recovered) or None. ``error`` is set when the
    evaluation could not be made (``holds`` and ``recovered`` are then None);
    ``transient`` errors (time or memory) are never stored, so a later run retries them.
    """

    evidence: tuple[dict[str, Any], ...] = ()
    violated: tuple[str, ...] = ()
    holds: bool | None = None
    recovered: bool | None = None
    kind: str | None = None
    recovery: dict[str, Any] | None = None
    error: str | None = None
    transient: bool = False
    seconds: float = 0.0

    @property
    def spec(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in SPEC_FIELDS}

    @property
    def failed(self) -> bool:
        """No verdict: the evaluation raised (see ``error``)."""
        return self.holds is None

    @property
    def claim(self) -> dict[str, Any] | None:
        """The claim metric's record (name, value, threshold, higher_is_better)."""
        return None if self.recovery is None else self.recovery["claim_metric"]

    @property
    def claim_value(self) -> float | None:
        return None if self.claim is None else self.claim["value"]

    @property
    def quadrant(self) -> str:
        if self.failed:
            return "errors"
        holds = "holds" if self.holds else "violated"
        return f"{holds}_{'recovered' if self.recovered else 'not_recovered'}"

    def signature(self) -> tuple:
        """What makes two counterexamples distinct: kind, violated assumptions, families."""
        p = self.params
        return (
            self.kind,
            tuple(sorted(self.violated)),
            p.get("latent"),
            p.get("conditional"),
            p.get("mixing"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": EVALUATION_SCHEMA,
            "key": self.key,
            **self.spec,
            "params": self.params,
            "evidence": list(self.evidence),
            "violated": list(self.violated),
            "holds": self.holds,
            "recovered": self.recovered,
            "kind": self.kind,
            "recovery": self.recovery,
            "error": self.error,
            "transient": self.transient,
            "seconds": round(self.seconds, 4),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Evaluation:
        """Rebuild a stored evaluation, checking its shape and that its key is its spec's."""
        if not isinstance(data, dict) or data.get("schema") != EVALUATION_SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise InvalidArgument(f"not a sith evaluation record (schema {found!r})")
        types = {
            "key": str,
            "theorem": str,
            "process": dict,
            "learner": dict,
            "seed": int,
            "params": dict,
            "evidence": list,
            "violated": list,
        }
        for name, kind in types.items():
            value = data.get(name)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise InvalidArgument(f"evaluation record: field {name!r} is missing or malformed")
        for name in ("holds", "recovered"):
            if data.get(name) not in (True, False, None):
                raise InvalidArgument(f"evaluation record: field {name!r} must be a bool or null")
        if data.get("kind") not in (*KINDS, None):
            raise InvalidArgument(f"evaluation record: unknown kind {data.get('kind')!r}")
        recovery = data.get("recovery")
        if recovery is not None and not (
            isinstance(recovery, dict) and isinstance(recovery.get("claim_metric"), dict)
        ):
            raise InvalidArgument("evaluation record: field 'recovery' is malformed")
        if (data["holds"] is None) != (recovery is None):
            raise InvalidArgument("evaluation record: a verdict needs a recovery, and only then")
        seconds = data.get("seconds", 0.0)
        if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise InvalidArgument("evaluation record: field 'seconds' is malformed")
        evaluation = cls(
            key=data["key"],
            theorem=data["theorem"],
            process=data["process"],
            learner=data["learner"],
            seed=data["seed"],
            params=data["params"],
            evidence=tuple(data["evidence"]),
            violated=tuple(data["violated"]),
            holds=data["holds"],
            recovered=data["recovered"],
            kind=data["kind"],
            recovery=recovery,
            error=data.get("error"),
            transient=bool(data.get("transient", False)),
            seconds=float(seconds),
        )
        if spec_key(evaluation.spec) != evaluation.key:
            raise InvalidArgument("evaluation record: its key is not the hash of its spec")
        return evaluation


__all__ = [
    "EVALUATION_SCHEMA",
    "KINDS",
    "QUADRANTS",
    "SPEC_FIELDS",
    "Evaluation",
    "EvaluationId",
    "spec_key",
]
