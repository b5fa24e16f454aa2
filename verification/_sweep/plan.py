"""A sweep's plan, stated before any work: how many evaluations, where, and roughly how long.

The number of evaluations is counted from the ``vary`` values, never built: a grid of
2,000 values x 500 seeds is 1,000,000 evaluations in microseconds, so a sweep too large
to run by accident is refused (``max_evaluations``) before its settings, store keys or
executor exist. The time estimate is rough by design: the median time of evaluations of
the same theorem already in the store, else the first evaluation's time, times the
evaluations still to run, divided by the workers.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from theory._json import load_json
from theory.errors import InvalidArgument, SithError
from verification._runs import Evaluation
from verification._sweep.settings import Range

#: ``sith sweep`` refuses more evaluations than this without ``--yes``
CONFIRM_ABOVE = 10_000
STORE_SAMPLE = 50  # stored records read (at most) for the time estimate


class PlanTooLarge(InvalidArgument):
    """The sweep would run more evaluations than the caller allowed (nothing was run)."""


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep will do. ``settings`` is exact for a grid and an upper bound for a
    random sample (duplicates are dropped); ``cached`` and the estimate are known once
    the store keys are computed (None before)."""

    settings: int
    seeds: int
    random: bool
    executor: str = "serial"
    workers: int | None = 1  # None: the executor's default (known once it exists)
    cached: int | None = None
    seconds_each: float | None = None  # the estimate's time of one evaluation
    source: str | None = None  # where seconds_each comes from
    stage: str = "counted"  # "counted", "stored" (store read), "timed" (first evaluation)

    @property
    def evaluations(self) -> int:
        return self.settings * self.seeds

    @property
    def to_run(self) -> int:
        return self.evaluations - (self.cached or 0)

    @property
    def estimate(self) -> float | None:
        """Rough seconds for the evaluations still to run (None: nothing to go on yet)."""
        if self.seconds_each is None:
            return None
        return self.to_run * self.seconds_each / max(1, self.workers or 1)

    def with_timing(self, seconds_each: float, source: str) -> SweepPlan:
        return replace(self, seconds_each=float(seconds_each), source=source)

    def describe(self) -> str:
        """One line for a terminal, by ``stage``: "counted" (how many, where), "stored"
        (what the store holds, the estimate), "timed" (the estimate from the first
        evaluation)."""
        if self.stage == "timed":
            return (
                f"plan: roughly {duration(self.estimate or 0)} for the {self.to_run:,} "
                f"evaluations left ({self.source} {self.seconds_each:.2g} s)"
            )
        if self.stage == "stored":
            line = f"plan: {self.cached or 0:,} already in the store, {self.to_run:,} to run"
            if self.to_run == 0:
                return line
            if self.estimate is None:
                return line + "; time estimated after the first evaluation"
            return (
                f"{line}; roughly {duration(self.estimate)} ({self.source}, "
                f"{self.seconds_each:.2g} s each)"
            )
        bound = "at most " if self.random else ""
        what = "random settings" if self.random else "settings"
        workers = (
            ""
            if self.workers is None
            else f" ({self.workers} worker{'s' if self.workers != 1 else ''})"
        )
        return (
            f"plan: {bound}{self.evaluations:,} evaluations ({self.settings:,} {what} x "
            f"{self.seeds:,} seeds) on {self.executor}{workers}"
        )


def count_settings(vary: Mapping[str, list[Any] | Range], random: int | None) -> int:
    """The number of settings of ``vary``: the grid's size (the product of the value
    counts), or ``random`` (an upper bound: a random sample drops duplicates)."""
    if random is not None:
        return int(random)
    return math.prod(len(v) for v in vary.values())


def check_size(plan: SweepPlan, max_evaluations: int | None) -> None:
    """Refuse a plan above ``max_evaluations`` (None: no limit), before anything runs."""
    if max_evaluations is not None and plan.evaluations > max_evaluations:
        raise PlanTooLarge(
            f"this sweep plans {plan.evaluations:,} evaluations ({plan.settings:,} settings "
            f"x {plan.seeds:,} seeds), more than {max_evaluations:,}; nothing was run. "
            "Pass --yes (max_evaluations=None) to run it, or sweep fewer values or seeds"
        )


def stored_seconds(store_dir: str | os.PathLike, theorem: str) -> tuple[float, int] | None:
    """(median seconds, how many) of up to ``STORE_SAMPLE`` successful evaluations of
    ``theorem`` in the store directory ``store_dir/evaluations``; None if none. Bounded:
    it stops reading the directory after a few times that many entries."""
    folder = Path(store_dir) / "evaluations"
    if not folder.is_dir():
        return None
    times: list[float] = []
    with os.scandir(folder) as entries:
        for looked, entry in enumerate(entries):
            if looked >= 4 * STORE_SAMPLE or len(times) >= STORE_SAMPLE:
                break
            if entry.name.startswith(".") or not entry.name.endswith(".json"):
                continue
            evaluation = _read(Path(entry.path))
            if (
                evaluation is not None
                and evaluation.theorem == theorem
                and not evaluation.failed
                and evaluation.seconds > 0
            ):
                times.append(evaluation.seconds)
    return (statistics.median(times), len(times)) if times else None


def _read(path: Path) -> Evaluation | None:
    try:
        return Evaluation.from_dict(load_json(path.read_bytes(), what=str(path)))
    except (OSError, SithError):
        return None  # the store reports unreadable records itself when the sweep reads them


def duration(seconds: float) -> str:
    """``seconds`` for people: "40 s", "12 min", "3.5 h", "2.1 days"."""
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


__all__ = [
    "CONFIRM_ABOVE",
    "PlanTooLarge",
    "SweepPlan",
    "check_size",
    "count_settings",
    "duration",
    "stored_seconds",
]
