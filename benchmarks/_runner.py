"""The ``python -m benchmarks`` command: run, tabulate, save, compare (see ``__init__``)."""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import math
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import BENCHMARKS, SIZES
from benchmarks._speed import at_old_speed, reference_seconds, speed_ratio

SCHEMA = "sith.benchmarks/1"
TOLERANCE = 0.20  # --compare flags a figure more than 20 % worse
SHARE = "share"  # the unit of a profile's shares: reported, never compared
KEYS = {"name", "value", "unit", "better", "floor", "reference", "note", "details"}

Benchmark = Callable[[str], list[dict]]


class BadFigure(ValueError):
    """A benchmark returned something that is not a figure (the message says what)."""


def _number(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadFigure(f"{what} must be a number or None, got {value!r}")
    return float(value)


def normalise(figure: Mapping[str, Any], benchmark: str) -> dict[str, Any]:
    """A checked copy of one figure, with every optional key present."""
    if not isinstance(figure, Mapping):
        raise BadFigure(f"{benchmark}: a figure must be a dict, got {figure!r}")
    unknown = set(figure) - KEYS
    if unknown:
        raise BadFigure(f"{benchmark}: unknown figure keys {sorted(unknown)}")
    name = figure.get("name")
    if not isinstance(name, str) or not name:
        raise BadFigure(f"{benchmark}: a figure needs a name, got {name!r}")
    if figure.get("better") not in ("higher", "lower"):
        raise BadFigure(f"{name}: better must be 'higher' or 'lower'")
    value = _number(figure.get("value"), f"{name}: value")
    if value is None:
        raise BadFigure(f"{name}: value is missing")
    return {
        "name": name,
        "value": value,
        "unit": str(figure.get("unit", "")),
        "better": figure["better"],
        "floor": _number(figure.get("floor"), f"{name}: floor"),
        "reference": _number(figure.get("reference"), f"{name}: reference"),
        "note": str(figure.get("note", "")),
        "details": figure.get("details"),
        "benchmark": benchmark,
    }


def verdict(figure: Mapping[str, Any]) -> str:
    """``pass`` (the floor is met), ``short`` (it is not), or ``""`` (no floor)."""
    floor, value = figure.get("floor"), figure["value"]
    if floor is None:
        return ""
    if math.isnan(value):
        return "short"
    met = value >= floor if figure["better"] == "higher" else value <= floor
    return "pass" if met else "short"


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    info: dict[str, Any] = {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        # Linux's autogroup shares the CPU fairly between sessions, not processes: under
        # other sessions' load, a pool's workers share one session's slot
        "sched_autogroup": _read("/proc/sys/kernel/sched_autogroup_enabled"),
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return info


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load(name: str) -> Benchmark:
    """A registered benchmark's ``figures`` function."""
    module = importlib.import_module(BENCHMARKS[name])
    return module.figures


def run(
    registry: Mapping[str, Benchmark],
    size: str,
    *,
    echo: Callable[[str], None] = print,
    reference: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Run every benchmark of ``registry`` at ``size``; the document to save. A benchmark
    that raises is recorded with its error, and the others still run. ``reference``
    times the machine before and after (default :func:`benchmarks._speed.reference_seconds`)."""
    reference = reference or reference_seconds
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "size": size,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "benchmarks": {},
        "figures": [],
    }
    document["machine"]["reference_seconds"] = reference()
    echo(f"machine reference workload: {document['machine']['reference_seconds']:.3f} s")
    for name, benchmark in registry.items():
        echo(f"[{name}] running ({size}), load average {_load():.2f}")
        start = time.perf_counter()
        entry: dict[str, Any] = {"load_before": _load()}
        try:
            figures = [normalise(f, name) for f in benchmark(size)]
        except Exception as err:  # recorded, and the next benchmark runs
            entry["error"] = f"{type(err).__name__}: {err}"
            echo(f"[{name}] FAILED: {entry['error']}")
            echo(traceback.format_exc())
            figures = []
        entry["seconds"] = time.perf_counter() - start
        entry["load_after"] = _load()
        document["benchmarks"][name] = entry
        document["figures"].extend(figures)
    document["machine"]["load_average_after"] = list(os.getloadavg())
    document["machine"]["reference_seconds_after"] = reference()
    names = [f["name"] for f in document["figures"]]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BadFigure(f"figure names must be unique; repeated: {', '.join(repeated)}")
    return document


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if math.isnan(value):
        return "nan"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}"


def table(document: Mapping[str, Any]) -> Table:
    """One row per figure: value, floor (with its direction), reference, pass/short."""
    m = document.get("machine", {})
    out = Table(
        title=(
            f"sith benchmarks ({document.get('size')}): {m.get('cpu')}, {m.get('cores')} cores, "
            f"load {_fmt((m.get('load_average') or [math.nan])[0])} -> "
            f"{_fmt((m.get('load_average_after') or [math.nan])[0])}"
            + _reference_words(m)
        )
    )
    for column in ("figure", "value", "unit", "floor", "reference", "verdict"):
        out.add_column(
            column, justify="right" if column in ("value", "floor") else "left", no_wrap=True
        )
    for f in document.get("figures", []):
        floor = "" if f["floor"] is None else ("≥ " if f["better"] == "higher" else "≤ ")
        floor += _fmt(f["floor"])
        out.add_row(f["name"], _fmt(f["value"]), f["unit"], floor, _fmt(f["reference"]), verdict(f))
    for name, entry in document.get("benchmarks", {}).items():
        if entry.get("error"):
            out.add_row(f"{name} (failed)", "", "", "", "", entry["error"][:60])
    return out


def _reference_words(m: Mapping[str, Any]) -> str:
    before, after = m.get("reference_seconds"), m.get("reference_seconds_after")
    if before is None:
        return ""
    return f", reference workload {_fmt(before)} -> {_fmt(after)} s"


def compare(
    old: Mapping[str, Any], new: Mapping[str, Any], tolerance: float = TOLERANCE
) -> list[dict[str, Any]]:
    """Figures present in both documents: how much worse each got (a fraction of the
    old value, in the figure's own direction; negative: better), and ``flagged`` when
    more than ``tolerance`` worse. Shares of a profile (unit ``"share"``: where a run's
    time went) describe, they are not compared: a share of 0.1 % moves by more than
    20 % from run to run.

    Where both documents timed the machine (:mod:`benchmarks._speed`), a time or a rate
    is also read at the old run's machine speed: ``at_old_speed`` (the new value scaled
    by the two references), ``worse_at_old_speed``, and ``machine_explains``: flagged,
    yet within ``tolerance`` at the old speed (the machine was slower, not the code)."""
    ratio = speed_ratio(old, new)
    before = {f["name"]: f for f in old.get("figures", [])}
    rows = []
    for f in new.get("figures", []):
        previous = before.get(f["name"])
        if previous is None or f.get("unit") == SHARE:
            continue
        a, b = previous["value"], f["value"]
        worse = worse_by(a, b, f["better"])
        adjusted = at_old_speed(b, f.get("unit", ""), ratio)
        worse_adjusted = None if adjusted is None else worse_by(a, adjusted, f["better"])
        flagged = worse > tolerance
        rows.append(
            {
                "name": f["name"],
                "old": a,
                "new": b,
                "worse_by": worse,
                "flagged": flagged,
                "at_old_speed": adjusted,
                "worse_at_old_speed": worse_adjusted,
                "machine_explains": flagged
                and worse_adjusted is not None
                and worse_adjusted <= tolerance,
            }
        )
    return rows


def worse_by(old: float, new: float, better: str) -> float:
    """How much worse ``new`` is than ``old``, as a fraction of ``|old|`` (negative:
    better); inf when a finite figure became nan or left zero the wrong way."""
    if math.isnan(old):
        return 0.0
    if math.isnan(new):
        return math.inf
    change = new - old if better == "lower" else old - new
    if old == 0:
        return 0.0 if change == 0 else math.copysign(math.inf, change)
    return change / abs(old)


def comparison_table(
    rows: Sequence[Mapping[str, Any]],
    tolerance: float = TOLERANCE,
    ratio: float | None = None,
) -> Table:
    """The comparison; ``ratio``: the machine's reference time now over then."""
    title = f"against the old run (flagged: more than {tolerance:.0%} worse)"
    if ratio is not None:
        title += f"; the reference workload took {ratio:.2f}x as long as in the old run"
    out = Table(title=title)
    for column in ("figure", "old", "new", "worse by", "at the old speed", "flag"):
        out.add_column(column)
    for r in rows:
        flag = ""
        if r["flagged"]:
            flag = "WORSE (the machine)" if r.get("machine_explains") else "WORSE"
        out.add_row(
            r["name"],
            _fmt(r["old"]),
            _fmt(r["new"]),
            _percent(r["worse_by"]),
            "" if r.get("worse_at_old_speed") is None else _percent(r["worse_at_old_speed"]),
            flag,
        )
    return out


def _percent(fraction: float) -> str:
    return f"{fraction:+.1%}" if math.isfinite(fraction) else str(fraction)


def read_document(path: str | os.PathLike) -> dict[str, Any]:
    """A saved benchmark document (refused unless it names this schema)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SystemExit(f"cannot read {path}: {err}") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise SystemExit(f"{path} is not a benchmark document (schema {SCHEMA})")
    return document


def main(
    argv: Sequence[str] | None = None,
    registry: Mapping[str, Benchmark] | None = None,
    console: Console | None = None,
) -> int:
    """The command. Exit code 1 when --compare flags a figure, else 0."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run sith's benchmarks; one table."
    )
    parser.add_argument("--size", choices=SIZES, default="quick")
    names = list(registry or BENCHMARKS)
    parser.add_argument("--only", nargs="+", choices=names, help="these benchmarks only")
    parser.add_argument("--json", metavar="PATH", help="where to save (benchmarks-SIZE.json)")
    parser.add_argument("--compare", metavar="OLD.json", help="flag figures 20%% worse than OLD")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args(argv)
    console = console or (Console() if sys.stdout.isatty() else Console(width=160))
    if args.list:
        for name in names:
            console.print(name)
        return 0
    old = read_document(args.compare) if args.compare else None
    chosen = args.only or names
    if registry is None:
        registry = {name: load(name) for name in chosen}
    else:
        registry = {name: registry[name] for name in chosen}
    document = run(registry, args.size, echo=lambda line: console.print(line, markup=False))
    path = Path(args.json or f"benchmarks-{args.size}.json")
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    console.print(table(document))
    console.print(f"saved {path}")
    if old is None:
        return 0
    rows = compare(old, document)
    console.print(comparison_table(rows, ratio=speed_ratio(old, document)))
    flagged = [r["name"] for r in rows if r["flagged"]]
    if flagged:
        console.print(
            f"{len(flagged)} figure(s) more than {TOLERANCE:.0%} worse: {', '.join(flagged)}"
        )
        explained = [r["name"] for r in rows if r["machine_explains"]]
        if explained:
            console.print(
                f"of which within {TOLERANCE:.0%} at the old run's machine speed (the "
                f"machine ran slower, see 'at the old speed'): {', '.join(explained)}"
            )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
