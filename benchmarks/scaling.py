"""Evaluations per minute of one fixed sweep on the serial, local and dask executors.

Two fixed sweeps (``--sweep``):

- ``train`` (default): cl-ica with short InfoNCE runs (train.steps x train.batch_size,
  1-3 s an evaluation on one core): training dominates, as in real sweeps;
- ``fast``: linear-ica (FastICA, ~0.5 s an evaluation, half of it assumption checks
  that fork a child per sympy attempt): the worst case for per-evaluation overheads.

Each executor is started and warmed up first (a sweep on other seeds, so every worker
has imported torch and warmed its caches); then the fixed sweep runs into a fresh store
(nothing cached) ``--repeats`` times per executor, the executors taking turns, and each
one's best time counts (the least disturbed by other work on the machine).

Prints evaluations per minute per executor, the parallel efficiency of each parallel
executor (serial time / (workers x its time); floor 0.8 at 2 workers on 2 cores) with
the fraction of the time its workers spent evaluating (what the executor itself
controls: near 100 % when it keeps every worker busy, whatever else the cores run), and
dask's per-evaluation overhead over the local pool ((dask time - local time) / local
time; floor 10 %; also from no-op items, which other load barely disturbs), and checks
that every executor gives the serial rows. The load average is printed too: on a
machine shared with other work the efficiency floor cannot be met (two workers then
share the cores with it), so run this on an otherwise idle machine.

Run: python benchmarks/scaling.py [--sweep train|fast] [--workers 2] [--seeds 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from verification._sweep import sweep
from verification._sweep.result import VOLATILE
from verification.executors import get_executor

SWEEPS = {  # name: (theorem, the fixed sweep, the warm-up sweep)
    "train": (
        "cl-ica",
        {"train.steps": [100, 200], "train.batch_size": [128, 256]},
        {"train.steps": [50]},
    ),
    "fast": (
        "linear-ica",
        {"learner.n_train": [1000, 2000, 4000, 8000], "dim": [3, 4, 5]},
        {"learner.n_train": [1000]},
    ),
}


def comparable(rows):
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


def warm_up(executor, which: str, workers: int) -> None:
    """Start the workers and warm their caches on other seeds (nothing timed)."""
    theorem, _, warm_vary = SWEEPS[which]
    with tempfile.TemporaryDirectory() as warm:
        sweep(theorem, warm_vary, seeds=list(range(1000, 1000 + 2 * workers)),
              executor=executor, out=warm, plots=False)  # fmt: skip


def timed(executor, which: str, seeds: int) -> tuple[float, list]:
    """(seconds, rows) of the fixed sweep into a fresh store (nothing cached)."""
    theorem, vary, _ = SWEEPS[which]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = sweep(theorem, vary, seeds=seeds, executor=executor, out=out, plots=False)
        seconds = time.perf_counter() - start
    assert result.new_evaluations == len(result.rows), "the store was not fresh"
    return seconds, result.rows


def noop(item: int) -> int:
    return item


def round_trip(executor, n: int = 200) -> float:
    """Seconds per no-op item through the executor (its own per-item overhead)."""
    list(executor.map_unordered(noop, list(range(20))))
    start = time.perf_counter()
    list(executor.map_unordered(noop, list(range(n))))
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", choices=sorted(SWEEPS), default="train")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["serial", "local", "dask"])
    args = parser.parse_args()
    theorem, vary, _ = SWEEPS[args.sweep]
    print(
        f"{theorem}: {vary} x {args.seeds} seeds; {args.workers} workers, 1 thread each; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start"
    )
    executors = {}
    for name in args.backends:
        workers = 1 if name == "serial" else args.workers
        executors[name] = get_executor(name, workers, 1)
        warm_up(executors[name], args.sweep, workers)
    # the backends take turns, so a burst of other work on the machine hits them alike;
    # each one's best time counts
    times = dict.fromkeys(executors, float("inf"))
    occupancy = dict.fromkeys(executors, 0.0)
    rows: dict[str, list] = {}
    overheads = {}
    try:
        for _ in range(args.repeats):
            for name, executor in executors.items():
                seconds, rows[name] = timed(executor, args.sweep, args.seeds)
                times[name] = min(times[name], seconds)
                busy = sum(r["seconds"] for r in rows[name]) / (executor.workers * seconds)
                occupancy[name] = max(occupancy[name], busy)
        overheads = {name: round_trip(executor) for name, executor in executors.items()}
    finally:
        for executor in executors.values():
            executor.close()
    baseline = comparable(rows[args.backends[0]])
    for name, seconds in times.items():
        n = len(rows[name])
        same = "  rows identical" if comparable(rows[name]) == baseline else "  ROWS DIFFER"
        print(
            f"{name:>7}: {n} evaluations in {seconds:6.2f} s = {60 * n / seconds:6.1f} per "
            f"minute ({seconds / n:.3f} s each){same}"
        )
    serial = times.get("serial")
    for name in ("local", "dask"):
        if serial and name in times:
            efficiency = serial / (args.workers * times[name])
            verdict = "ok" if efficiency >= 0.8 else "BELOW the 0.8 floor"
            print(
                f"parallel efficiency, {name} x{args.workers}: {efficiency:.2f} ({verdict}); "
                f"workers busy {occupancy[name]:.0%} of the time"
            )
    if "local" in times and "dask" in times:
        overhead = (times["dask"] - times["local"]) / times["local"]
        verdict = "ok" if overhead <= 0.10 else "ABOVE the 10 % floor"
        print(f"dask per-evaluation overhead over local: {overhead:+.1%} ({verdict})")
    per_eval = times.get("serial", min(times.values())) / len(baseline)
    print(
        "per-item executor overhead (no-op items): "
        + ", ".join(f"{k} {1000 * v:.2f} ms" for k, v in overheads.items())
    )
    if "local" in overheads and "dask" in overheads:
        extra = overheads["dask"] - overheads["local"]
        print(
            f"dask over local, from no-op items: {1000 * extra:+.2f} ms an item = "
            f"{extra / per_eval:+.2%} of a {per_eval:.2f} s evaluation (insensitive to "
            "other load on the machine)"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
