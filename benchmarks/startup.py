"""How fast the ``sith`` command answers when it computes nothing, against ``import torch``.

Each command is run in a fresh subprocess through the console script's own code
(``verification._entry.main``, the interpreter's start-up included), as is
``python -c "import torch"``; each figure is the median wall time over ``runs`` runs, and
each command's ratio to torch's median. Floor (issue 22): ``sith --help``,
``--version``, ``theorems``, ``learners``, a usage error (``sith search --bogus``) and
shell completion each within half of ``import torch`` (ratio <= 0.5), on the same machine and at the
same time; the runs are interleaved, so that a change in load touches both sides alike.
The machine's load average is saved beside the figures.

Run: python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = 0.5  # a command's median time over torch's
COMMANDS: dict[str, list[str]] = {
    "help": ["--help"],
    "version": ["--version"],
    "theorems": ["theorems"],
    "learners": ["learners"],
    "usage_error": ["search", "--bogus"],
    "completion": [],  # bash completion of "sith s" (COMPLETION's variables)
}
COMPLETION = {"_SITH_COMPLETE": "bash_complete", "COMP_WORDS": "sith s", "COMP_CWORD": "1"}
TORCH = [sys.executable, "-c", "import torch"]
SIZES = {"quick": 3, "full": 7}


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def sith(name: str) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment of the command ``name`` of COMMANDS: the
    console script's code (``verification._entry``) under the name ``sith``, so that
    click reads ``_SITH_COMPLETE``."""
    run = "import sys; sys.argv[0] = 'sith'; from verification._entry import main; main()"
    return [sys.executable, "-c", run, *COMMANDS[name]], COMPLETION if name == "completion" else {}


def seconds(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of one fresh run of ``argv`` (its output discarded; any exit code)."""
    start = time.perf_counter()
    subprocess.run(
        argv,
        cwd=ROOT,
        env=_environment(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - start


def measure(runs: int) -> dict[str, list[float]]:
    """{"torch": [...], command: [...]}: ``runs`` wall times each, interleaved."""
    times: dict[str, list[float]] = {"torch": [], **{name: [] for name in COMMANDS}}
    for _ in range(runs):
        times["torch"].append(seconds(TORCH))
        for name in COMMANDS:
            times[name].append(seconds(*sith(name)))
    return times


def figures(size: str) -> list[dict]:
    """Median seconds of each command and of ``import torch``, and their ratios (floor:
    0.5; see benchmarks/__init__)."""
    runs = SIZES[size]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    times = measure(runs)
    torch = statistics.median(times["torch"])
    out = [
        {
            "name": "startup.import_torch_s",
            "value": torch,
            "unit": "s",
            "better": "lower",
            "note": f"python -c 'import torch', median of {runs}",
            "details": {"runs": times["torch"], "load_average": load},
        }
    ]
    for name, args in COMMANDS.items():
        median = statistics.median(times[name])
        command = " ".join(["sith", *args]) if args else "completion of 'sith s'"
        out.append(
            {
                "name": f"startup.{name}_s",
                "value": median,
                "unit": "s",
                "better": "lower",
                "reference": torch,
                "note": f"{command}, median of {runs}",
                "details": {"runs": times[name], "load_average": load},
            }
        )
        out.append(
            {
                "name": f"startup.{name}/torch",
                "value": median / torch,
                "unit": "x",
                "better": "lower",
                "floor": FLOOR,
                "note": f"{command} over import torch",
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=SIZES["full"], help="runs of each command")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    times = measure(args.runs)
    torch = statistics.median(times["torch"])
    print(f"load average {load:.2f}; median of {args.runs} fresh runs each")
    label = 'python -c "import torch"'
    print(f"{label:<28} {torch:7.3f} s")
    short = []
    for name, command in COMMANDS.items():
        median = statistics.median(times[name])
        ratio = median / torch
        if ratio > FLOOR:
            short.append(name)
        label = " ".join(["sith", *command]) if command else "completion of 'sith s'"
        print(f"{label:<28} {median:7.3f} s  {ratio:5.2f} x torch (floor {FLOOR})")
    print("all within the floor" if not short else f"over the floor: {', '.join(short)}")
    return 0 if not short else 1


if __name__ == "__main__":
    sys.exit(main())
