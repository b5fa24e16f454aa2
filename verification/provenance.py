"""What produced a result: the ``provenance`` object of every report.json, sweep.json,
align.json and ``sith recover --json``.

A paper's table or figure must be traceable to the exact software and command that made
it. :func:`collect` records the versions of sith, Python, torch and numpy, the platform,
the device that trained, the command line as run (``sys.argv``), the seed, the time
(UTC, ISO 8601) and, when the working directory is inside a git repository, its commit
and whether it had uncommitted changes (``git`` is None otherwise, or when git is not
installed). Nothing here imports torch: its version is read from the installed package
metadata, and a CUDA device is named only when torch is already loaded.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

#: The keys of a provenance object (the schemas of the three documents require them).
FIELDS = (
    "sith",
    "python",
    "torch",
    "numpy",
    "platform",
    "device",
    "command",
    "seed",
    "created",
    "git",
)
GIT_TIMEOUT = 5.0  # seconds; a slow or hung git leaves ``git`` null rather than wait


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name`` (None when it is not installed)."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def sith_version() -> str:
    """sith's version ("0+unknown" when running from a source tree that is not installed)."""
    return package_version("sith-toolkit") or "0+unknown"


def describe_device(device: str | None) -> str:
    """``device`` as trained on: "cpu", or "cuda:N (GPU name)" when torch is loaded and
    sees that GPU; "auto" is resolved the way the learners resolve it."""
    device = device or "cpu"
    torch = sys.modules.get("torch")
    if device == "auto":
        device = "cuda" if torch is not None and torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and torch is not None and torch.cuda.is_available():
        index = int(device.split(":")[1]) if ":" in device else 0
        if index < torch.cuda.device_count():
            return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return device


def git_state(directory: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """``{"commit": SHA, "dirty": bool}`` of the git working tree holding ``directory``
    (default: the current directory); None outside a repository or without git.
    ``dirty`` counts changes to tracked files and untracked files git does not ignore."""
    cwd = os.fspath(directory) if directory is not None else os.getcwd()

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
                env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "--verify", "HEAD")
    if commit is None:
        return None
    status = git("status", "--porcelain")
    return {"commit": commit.strip(), "dirty": None if status is None else bool(status.strip())}


def collect(
    *,
    seed: int | Sequence[int] | None,
    device: str | None = None,
    command: Sequence[str] | None = None,
    directory: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """The provenance object of a result made now.

    Arguments:
        seed: the seed the result was made with (a sweep's or alignment's list of seeds).
        device: where learners trained ("cpu", "cuda", "cuda:N", "auto"; default cpu).
        command: the command line (default: ``sys.argv`` as this process was started).
        directory: whose git state to record (default: the current directory).
    """
    argv = list(sys.argv if command is None else command)
    if argv and argv[0]:
        program = os.path.normpath(argv[0])
        # "sith", not the venv's absolute path; `python -m verification[._entry|.cli]` is
        # sith too
        is_sith = program.endswith(
            tuple(
                os.path.join("verification", *tail)
                for tail in (("_entry.py",), ("__main__.py",), ("cli", "__main__.py"))
            )
        )
        argv[0] = "sith" if is_sith else os.path.basename(program)
    return {
        "sith": sith_version(),
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "numpy": package_version("numpy"),
        "platform": platform.platform(),
        "device": describe_device(device),
        "command": [str(a) for a in argv],
        "seed": list(seed) if isinstance(seed, Sequence) else seed,
        "created": datetime.datetime.now(datetime.timezone.utc)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z"),
        "git": git_state(directory),
    }


__all__ = ["FIELDS", "collect", "describe_device", "git_state", "package_version", "sith_version"]
