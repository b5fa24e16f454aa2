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

``figures(size)`` (for ``python -m benchmarks``) measures, at 2 workers (issue 25's
floors are for the full size on an otherwise idle 2-core machine):

- ``scaling.sweep.local.efficiency`` / ``.dask.efficiency``: the fixed ``train`` sweep
  with 12 seeds (48 evaluations; quick: 1 seed, 4), warm executors, each taking turns
  with the serial run and compared with the serial times of its own turns (best of
  each; a fresh, warmed Dask cluster for each of its turns, none during the serial
  ones); floors 0.9 (local) and 0.8 (dask);
- ``scaling.cli.local/serial``: wall time of the whole ``sith sweep cl-ica --vary
  train.batch_size=64,128,256 --vary train.steps=300 --seeds 4`` command (start-up
  included) on ``--executor local --workers 2`` over the serial command, the median of
  3 turns of each (quick: 1), taken in turn; floor 0.6; ``scaling.cli.serial_seconds``
  / ``.local_seconds``: the two commands' median wall times;
- ``scaling.eval_cpu.pool/serial``: CPU seconds of one evaluation inside a pool worker
  over the same evaluation in this process (the per-evaluation cost of running in a
  pool: warm-up imports, thread settings; barely disturbed by other load), reference 1;
- ``scaling.search.local/serial``: evaluations per minute of the default ``sith search
  cl-ica`` (budget 40; quick: 6) on a local pool of 2 over the serial search; floor 1.5;
- ``...rows_identical`` / ``...report_identical``: 1 when the parallel run gave the
  serial rows (report), floor 1.

Run: python benchmarks/scaling.py [--sweep train|fast] [--workers 2] [--seeds 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verification._executors.warm import EVALUATION_MODULES
from verification._sweep import sweep
from verification._sweep.result import VOLATILE
from verification.executors import MissingExtra, get_executor

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


# --- figures for python -m benchmarks -----------------------------------------------

WORKERS = 2
CLI_SWEEP = ["cl-ica", "--vary", "train.batch_size=64,128,256", "--vary", "train.steps=300"]
SIZES = {  # seeds of the train sweep, turns, CLI sweep seeds, search budget, floors?
    "quick": {"seeds": 1, "repeats": 1, "cli_seeds": 1, "cli_turns": 1, "budget": 6, "floors": False},
    "full": {"seeds": 12, "repeats": 2, "cli_seeds": 4, "cli_turns": 3, "budget": 40, "floors": True},
}


def _figure(name, value, unit, better, floor, reference=None, note="", details=None) -> dict:
    return {
        "name": f"scaling.{name}",
        "value": float(value),
        "unit": unit,
        "better": better,
        "floor": floor,
        "reference": reference,
        "note": note,
        "details": details,
    }


def figures(size: str) -> list[dict]:
    """Parallel efficiency, start-up included ratio, per-evaluation CPU in a pool, search
    throughput, and identity with the serial runs (see the module docstring)."""
    cfg = SIZES[size]
    floors = cfg["floors"]
    out = sweep_figures(cfg["seeds"], cfg["repeats"], floors)
    out += cli_figures(cfg["cli_seeds"], floors, cfg["cli_turns"])
    out += eval_cpu_figures()
    out += search_figures(cfg["budget"], floors)
    return out


def sweep_figures(seeds: int, repeats: int, floors: bool) -> list[dict]:
    # the local pool preloads what the sith command's does (and the first preload counts)
    local = get_executor("local", WORKERS, 1, preload=EVALUATION_MODULES)
    executors = {"serial": get_executor("serial", 1, 1), "local": local}
    try:
        executors["dask"] = get_executor("dask", WORKERS, 1)
    except MissingExtra:  # the dask extra is not installed: no dask figure
        executors.pop("dask", None)
    rows: dict[str, list] = {}
    # each parallel executor takes turns with the serial run and is compared with the
    # serial times of its own turns: this VM's speed drifts by 10-20 % within minutes,
    # so a serial time from another stretch would bias the figure. The Dask cluster is
    # closed during the serial turns and started (and warmed) afresh for each of its
    # own: its scheduler and nannies use CPU even when idle, which would slow the serial
    # run. The local pool stays up: its idle workers wait on a queue and use no CPU.
    times: dict[str, float] = {}  # the best time of each parallel executor
    serial_times: dict[str, float] = {}  # the best serial time of its turns
    serial = executors["serial"]
    try:
        warm_up(serial, "train", 1)
        for name in [n for n in ("local", "dask") if n in executors]:
            executor = executors[name]
            restart = name == "dask"
            times[name] = serial_times[name] = float("inf")
            if not restart:
                warm_up(executor, "train", executor.workers)
            for _ in range(repeats):
                seconds, rows["serial"] = timed(serial, "train", seeds)
                serial_times[name] = min(serial_times[name], seconds)
                if restart:
                    warm_up(executor, "train", executor.workers)
                seconds, rows[name] = timed(executor, "train", seeds)
                times[name] = min(times[name], seconds)
                if restart:
                    executor.close()
            executor.close()
    finally:
        for executor in executors.values():
            executor.close()
    n = len(rows["serial"])
    out = [
        _figure(
            "sweep.serial.evals_per_min", 60 * n / min(serial_times.values()), "evals/min",
            "higher", None, note=f"{n} evaluations, warm",
        )
    ]  # fmt: skip
    baseline = comparable(rows["serial"])
    for name, floor in (("local", 0.9), ("dask", 0.8)):
        if name not in times:
            continue
        out.append(
            _figure(
                f"sweep.{name}.efficiency",
                serial_times[name] / (WORKERS * times[name]),
                "fraction",
                "higher",
                floor if floors else None,
                reference=1.0,
                note=f"serial / ({WORKERS} x {name}), {n} evaluations, warm workers, "
                f"best of {repeats} turns each (serial {serial_times[name]:.1f} s, "
                f"{name} {times[name]:.1f} s)",
            )
        )
        out.append(
            _figure(
                f"sweep.{name}.rows_identical",
                comparable(rows[name]) == baseline,
                "bool",
                "higher",
                1.0,
            )
        )
    return out


def _sith() -> list[str]:
    script = Path(sys.executable).with_name("sith")
    return [str(script)] if script.exists() else [sys.executable, "-m", "verification._entry"]


def run_cli_sweep(seeds: int, executor: list[str]) -> tuple[float, list]:
    """(wall seconds of the whole command, its rows) for the CLI sweep into a fresh dir."""
    with tempfile.TemporaryDirectory() as out:
        command = [*_sith(), "sweep", *CLI_SWEEP, "--seeds", str(seeds), "--out", out, *executor]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        rows = json.loads((Path(out) / "sweep.json").read_text())["rows"]
    return seconds, rows


def cli_figures(seeds: int, floors: bool, turns: int = 1) -> list[dict]:
    """The whole CLI sweep, serial and local x 2 in turn ``turns`` times: the ratio of the
    median times (one pair of runs moves by several per cent on a VM whose speed drifts)."""
    local_args = ["--executor", "local", "--workers", str(WORKERS)]
    serial_times, local_times, identical = [], [], True
    for _ in range(turns):
        seconds, serial_rows = run_cli_sweep(seeds, [])
        serial_times.append(seconds)
        seconds, local_rows = run_cli_sweep(seeds, local_args)
        local_times.append(seconds)
        identical = identical and comparable(local_rows) == comparable(serial_rows)
    serial, local = statistics.median(serial_times), statistics.median(local_times)
    n = len(serial_rows)
    each = (
        f"; turns: serial {', '.join(f'{t:.2f}' for t in serial_times)} s, "
        f"local {', '.join(f'{t:.2f}' for t in local_times)} s"
        if turns > 1
        else ""
    )
    return [
        _figure(
            "cli.local/serial",
            local / serial,
            "x",
            "lower",
            0.6 if floors else None,
            reference=1.0,
            note=f"whole `sith sweep` command, {n} evaluations, start-up included "
            f"(median of {turns}: serial {serial:.2f} s, local {local:.2f} s{each})",
        ),
        # the two times themselves, so that --compare flags a command that got slower
        # even where the ratio holds
        _figure("cli.serial_seconds", serial, "s", "lower", None),
        _figure("cli.local_seconds", local, "s", "lower", None),
        _figure("cli.rows_identical", identical, "bool", "higher", 1.0),
    ]


def evaluate_timed(item) -> tuple[dict, float, float]:
    """remote.evaluate with its (wall, CPU) seconds in the process that ran it."""
    from verification._runs import worker as remote

    wall, cpu = time.perf_counter(), time.process_time()
    value = remote.evaluate(item)
    return value, time.perf_counter() - wall, time.process_time() - cpu


def work_items(theorem: str, vary: dict, seeds: int) -> list:
    """The WorkItems a sweep would send (nothing evaluated), not using any store."""
    from verification.executors import SerialExecutor

    items: list = []

    class Capture(SerialExecutor):
        def _run(self, fn, indexed):
            for index, item in indexed:
                items.append(dataclasses.replace(item, store=None))
                yield index, None, RuntimeError("captured")

    with tempfile.TemporaryDirectory() as out:
        sweep(theorem, vary, seeds=seeds, executor=Capture(), out=out, plots=False)
    return items


VOLATILE_KEYS = ("seconds", "time_budget")  # timings, and the time left of a budget


def _stable(value):
    """An evaluation record without its timings (what must be identical)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if not k.endswith(VOLATILE_KEYS)}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def eval_cpu_figures() -> list[dict]:
    """CPU seconds per evaluation in a fresh pool (first items included; its forkserver
    preloaded what the sith command's does) over in this process (warmed up first, as a
    long serial run is)."""
    items = work_items("cl-ica", {"train.batch_size": [64, 128, 256], "train.steps": [300]}, 2)
    evaluate_timed(items[0])  # this process warm, as the pool's forkserver is
    with get_executor("serial", 1, 1) as serial:
        here = [o.value for o in serial.map_unordered(evaluate_timed, items)]
    with get_executor("local", WORKERS, 1, preload=EVALUATION_MODULES) as local:
        pool = [o.value for o in local.map_unordered(evaluate_timed, items)]
    cpu_here = sum(v[2] for v in here)
    same = sorted(json.dumps(_stable(v[0]), sort_keys=True) for v in here)
    cpu_pool = sum(v[2] for v in pool)
    return [
        _figure(
            "eval_cpu.pool/serial",
            cpu_pool / cpu_here,
            "x",
            "lower",
            None,
            reference=1.0,
            note=f"CPU s of {len(items)} evaluations: pool {cpu_pool:.1f}, here {cpu_here:.1f}",
        ),
        _figure(
            "eval_cpu.records_identical",
            same == sorted(json.dumps(_stable(v[0]), sort_keys=True) for v in pool),
            "bool",
            "higher",
            1.0,
        ),
    ]


def _search_summary(result) -> list:
    return [
        [e.key for e in result.records],
        [(c.kind, c.evaluation.key, [r.key for r in c.reseeds]) for c in result.counterexamples],
        [(c.kind, c.evaluation.key) for c in result.rejected],
        result.quadrants,
    ]


def search_figures(budget: int, floors: bool) -> list[dict]:
    from verification import search

    rates, summaries = {}, {}
    for name in ("serial", "local"):
        with tempfile.TemporaryDirectory() as out:
            options = {"executor": name, "workers": WORKERS} if name == "local" else {}
            start = time.perf_counter()
            result = search("cl-ica", budget=budget, seed=0, out=out, **options)
            seconds = time.perf_counter() - start
        rates[name] = 60 * len(result.records) / seconds
        summaries[name] = _search_summary(result)
    return [
        _figure(
            "search.local/serial",
            rates["local"] / rates["serial"],
            "x",
            "higher",
            1.5 if floors else None,
            reference=1.0,
            note=f"evaluations per minute, cl-ica default space, budget {budget}, seed 0 "
            f"(serial {rates['serial']:.1f}/min, local {rates['local']:.1f}/min)",
        ),
        _figure(
            "search.report_identical",
            summaries["local"] == summaries["serial"],
            "bool",
            "higher",
            1.0,
        ),
    ]


if __name__ == "__main__":
    main()
