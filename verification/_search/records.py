"""The search's records: a counterexample with its re-seeds, and a search's result.

Both are made of :class:`~verification._runs.Evaluation` s, the record every run kind
shares (``verification._runs.records``).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verification._runs import KINDS, QUADRANTS, Evaluation

Z_95 = 1.959963984540054  # the two-sided 95% normal quantile


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a binomial rate (Wilson 1927): the centre
    (p + z²/2n) / (1 + z²/n) plus or minus z √(p(1-p)/n + z²/4n²) / (1 + z²/n)."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


@dataclass
class Counterexample:
    """A gap or failure, with the fresh-seed re-evaluations it had to survive."""

    kind: str
    evaluation: Evaluation
    reseeds: list[Evaluation] = field(default_factory=list)
    confirmed: bool = True
    # shrinking ran to the end (False: the budget ran out first, so it may not be minimal)
    minimal: bool = True
    found_as: dict[str, Any] = field(default_factory=dict)  # params before shrinking
    min_rate: float = 0.0  # the level the rate's lower bound had to exceed
    # a confirmed failure retrained with more steps: does more budget fix it? (driver)
    budget_check: dict[str, Any] | None = None

    @property
    def seeds(self) -> list[Evaluation]:
        """Every evaluation of this process that gave a verdict: the one found, re-seeds."""
        return [e for e in (self.evaluation, *self.reseeds) if not e.failed]

    def rate(self) -> dict[str, Any]:
        """How often this process is a counterexample of its kind, over its seeds, with a
        95% Wilson interval. The seed that found it counts (so the rate leans high: it
        was found because it failed); the level applies to the lower bound."""
        seeds = self.seeds
        agree = sum(e.kind == self.kind for e in seeds)
        low, high = wilson_interval(agree, len(seeds))
        return {
            "agree": agree,
            "seeds": len(seeds),
            "value": agree / len(seeds) if seeds else 0.0,
            "low": low,
            "high": high,
            "level": self.min_rate,
        }

    @property
    def claim_values(self) -> list[float]:
        return [
            e.claim_value for e in (self.evaluation, *self.reseeds) if e.claim_value is not None
        ]

    def spread(self) -> dict[str, float]:
        values = self.claim_values
        if not values:
            return {}
        return {
            "mean": statistics.fmean(values),
            "min": min(values),
            "max": max(values),
            "std": statistics.pstdev(values),
            "n": len(values),
        }

    def to_dict(self) -> dict[str, Any]:
        e = self.evaluation
        return {
            "kind": self.kind,
            "key": e.key,
            "confirmed": self.confirmed,
            "process": e.process,
            "learner": e.learner,
            "params": e.params,
            "seed": e.seed,
            "evidence": list(e.evidence),
            "violated": list(e.violated),
            "recovered": e.recovered,
            "claim_metric": e.claim,
            "metrics": e.recovery["metrics"] if e.recovery else {},
            "status": e.recovery["train"]["status"] if e.recovery else None,
            "spread": self.spread(),
            "rate": self.rate(),
            "diagnosis": e.recovery.get("diagnosis") if e.recovery else None,
            "reseeds": [r.seed for r in self.reseeds],
            "minimal": self.minimal,
            "found_as": self.found_as,
            "budget_check": self.budget_check,
        }


@dataclass
class SearchResult:
    """What a search found, and every evaluation it touched (cached or new)."""

    theorem: str
    seed: int
    budget: int
    kinds: tuple[str, ...]
    space: dict[str, Any]
    counterexamples: list[Counterexample]
    rejected: list[Counterexample]
    new_evaluations: int
    seconds: float
    status: str  # "running" | "complete" | "interrupted"
    out: Path | None = None
    records: tuple[Evaluation, ...] = ()
    learner_options: tuple[str, ...] = ()  # the searched learner options, by name
    oracle: bool = False  # trained in oracle mode (the truth could steer training)
    # where evaluations ran: the executor and what its look-ahead did (None: serial)
    executor: dict[str, Any] | None = None
    # how the budget was spent: the inside share and the phases (aims, evaluations)
    plan: dict[str, Any] | None = None
    # per assumption, its lone violations and their recovery (_search.necessity)
    necessity: list[dict[str, Any]] = field(default_factory=list)
    # which parts of the theorem were checked against its paper's text (Theorem.text_check_table)
    text_checks: list[dict[str, Any]] = field(default_factory=list)
    # what produced it (verification/provenance.py; None: collected when reported)
    provenance: dict[str, Any] | None = None

    @property
    def evaluations(self) -> int:
        return len(self.records)

    @property
    def evaluated(self) -> list[str]:
        """Store keys of every evaluation."""
        return [e.key for e in self.records]

    @property
    def gaps(self) -> list[Counterexample]:
        return [c for c in self.counterexamples if c.kind == "gap"]

    @property
    def failures(self) -> list[Counterexample]:
        return [c for c in self.counterexamples if c.kind == "failure"]

    @property
    def quadrants(self) -> dict[str, int]:
        """Counts of the evaluations this search touched, by quadrant."""
        counts = dict.fromkeys(QUADRANTS, 0)
        for e in self.records:
            counts[e.quadrant] += 1
        return counts

    @property
    def inside(self) -> dict[str, Any]:
        """How many evaluations lay inside the theorem (every assumption held), and
        their share of the evaluations that gave a verdict."""
        decided = [e for e in self.records if not e.failed]
        inside = sum(bool(e.holds) for e in decided)
        planned = None
        if self.plan:
            planned = sum(
                p["evaluations"] for p in self.plan.get("phases", []) if p.get("aims") == ["inside"]
            )
        return {
            "evaluations": inside,
            "share": inside / len(decided) if decided else 0.0,
            "planned": planned,
        }

    @property
    def failures_by_diagnosis(self) -> dict[str, int]:
        """Evaluations where the assumptions hold and the claim is not recovered, by the
        recovery's diagnosis: optimisation ("not-converged") or identifiability
        ("converged-not-recovered"); "unknown" where the learner gives none."""
        counts: dict[str, int] = {}
        for e in self.records:
            if e.holds and e.recovered is False:
                diagnosis = (e.recovery or {}).get("diagnosis") or "unknown"
                counts[diagnosis] = counts.get(diagnosis, 0) + 1
        return counts

    @property
    def errors(self) -> list[dict[str, str]]:
        """The first few evaluation errors, with their keys."""
        return [{"key": e.key, "error": e.error} for e in self.records if e.error][:5]


__all__ = ["KINDS", "Counterexample", "SearchResult", "wilson_interval"]
