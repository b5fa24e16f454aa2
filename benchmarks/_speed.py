"""How fast the machine is right now: a fixed reference workload, timed.

A shared or virtual machine's speed drifts by far more than the 20 % that ``--compare``
flags (the 2-core development VM ran the same CPU-bound loop in 0.8 s at some hours and
2.1 s at others). So every run times :func:`reference_seconds` before and after its
benchmarks and saves both with the machine; ``--compare`` then reads a time or a rate
against the two runs' references too (:func:`speed_ratio`, :func:`at_old_speed`): a
figure that is worse only because the machine was slower says so.

The workload is what the figures spend their time on: a small MLP's forward, backward
and Adam step on CPU, one thread, seeded (best of a few repeats: the machine's speed,
not a moment's noise).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

#: units of a time (the value grows when the machine is slower) and of a rate (it shrinks)
TIME_UNITS = frozenset({"s", "ms", "µs"})
RATE_UNITS = frozenset({"evals/min"})


def reference_seconds(repeats: int = 3, steps: int = 400) -> float:
    """Best wall time of ``repeats`` runs of ``steps`` Adam steps of a seeded 16-64-64-16
    tanh MLP (batch 512, squared error), on one torch thread (the caller's thread count
    is restored)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    best = math.inf
    try:
        for _ in range(repeats):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                model = torch.nn.Sequential(
                    torch.nn.Linear(16, 64),
                    torch.nn.Tanh(),
                    torch.nn.Linear(64, 64),
                    torch.nn.Tanh(),
                    torch.nn.Linear(64, 16),
                )
                x = torch.randn(512, 16)
            optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
            start = time.perf_counter()
            for _ in range(steps):
                loss = (model(x) - x).pow(2).mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            best = min(best, time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return best


def machine_reference(machine: Mapping[str, Any]) -> float | None:
    """A run's reference seconds: the mean of those timed before and after it (either
    alone where only one was), None for a document saved without them."""
    values = [
        machine.get(key)
        for key in ("reference_seconds", "reference_seconds_after")
        if isinstance(machine.get(key), (int, float)) and machine.get(key) > 0
    ]
    return sum(values) / len(values) if values else None


def speed_ratio(old: Mapping[str, Any], new: Mapping[str, Any]) -> float | None:
    """How many times as long the new run's machine took for the reference workload as
    the old run's (above 1: slower now); None where either document lacks it."""
    before = machine_reference(old.get("machine") or {})
    after = machine_reference(new.get("machine") or {})
    if before is None or after is None:
        return None
    return after / before


def at_old_speed(value: float, unit: str, ratio: float | None) -> float | None:
    """``value`` as the old run's machine would have measured it: a time divided by
    ``ratio``, a rate multiplied by it; None for any other unit (a ratio of two times
    measured together, a fraction: the machine's speed cancels) or without a ratio."""
    if ratio is None:
        return None
    if unit in TIME_UNITS:
        return value / ratio
    if unit in RATE_UNITS:
        return value * ratio
    return None


__all__ = [
    "RATE_UNITS",
    "TIME_UNITS",
    "at_old_speed",
    "machine_reference",
    "reference_seconds",
    "speed_ratio",
]
