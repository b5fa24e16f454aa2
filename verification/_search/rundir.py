"""A search's run directory: its layout, the settings it was made with, and a lock.

::

    OUT/run.json                 the settings of the search that owns the directory
    OUT/.lock                    held (flock) while a search runs here; names its pid
    OUT/evaluations/KEY.json     the result store, one record per evaluation
    OUT/counterexamples/KEY.json the process of each counterexample (reproduce input)
    OUT/report.json, report.md   rewritten after every new evaluation (atomic)
    OUT/figures/*.png            at the end (plots extra)

Resuming is allowed only with the same settings (theorem, seed, kinds, reseeds, search
space); a larger or smaller ``budget`` continues or re-reads the same search. Anything
else is refused, naming the settings that differ, so two searches never mix in one
report. A second search on a directory in use is refused at once, naming the process
that holds it; the lock dies with its process, so a killed search leaves no stale lock.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from theory._json import load_json
from theory._spec import canonical_json
from theory.errors import RunDirectoryError, SithError
from verification._search.records import SearchResult
from verification._search.reports import build_report, render_markdown, render_plots
from verification._search.store import ResultStore, write_atomic

try:  # POSIX advisory locks; elsewhere the directory is not locked
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

SETTINGS_SCHEMA = "sith.run/1"
RESUMABLE = frozenset({"budget"})  # settings a resumed search may change


def hold_lock(root: Path, what: str) -> int | None:
    """Take ROOT/.lock (flock, non-blocking) for one ``what`` ("search", "sweep") and
    write this pid into it; returns the descriptor whose closing releases it (None where
    there are no POSIX locks). A lock held by a live process is refused, naming its pid;
    a dead holder's lock is released by the kernel, so it never goes stale."""
    if fcntl is None:
        return None
    path = root / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = path.read_text(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunDirectoryError(
            f"{root} is in use by another {what} (pid {holder}); wait for it, or "
            "choose another --out"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


class LockedDirectory:
    """The OUT directory of a sweep or an alignment: created on ``open``, refused when it
    holds another kind of run (``OTHERS``: file -> kind), locked (:func:`hold_lock`)
    until ``close``. ``check_existing`` refuses what a previous run left there."""

    KIND = "run"
    OTHERS: tuple[tuple[str, str], ...] = (("run.json", "search"),)

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._fd: int | None = None

    def open(self) -> LockedDirectory:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunDirectoryError(
                f"cannot create the {self.KIND} directory {self.root}: {err.strerror or err}"
            ) from None
        for name, kind in self.OTHERS:
            if (self.root / name).exists():
                raise RunDirectoryError(
                    f"{self.root} holds a {kind} ({name}); {self.KIND} into another --out, "
                    f"and pass --store {self.root} to share its evaluations"
                )
        self.check_existing()
        self._fd = hold_lock(self.root, self.KIND)
        return self

    def check_existing(self) -> None:
        """Refuse a directory a previous run of this kind left unusable (default: none)."""

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> LockedDirectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RunDirectory:
    """Owns the layout of ``root``; use as a context manager around one search."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._lock_fd: int | None = None
        self._store: ResultStore | None = None
        self.figure_formats: tuple[str, ...] = ()  # vector copies of the figures (pdf, svg)

    # --- layout ---------------------------------------------------------------------
    @property
    def settings_path(self) -> Path:
        return self.root / "run.json"

    @property
    def report_json(self) -> Path:
        return self.root / "report.json"

    @property
    def report_md(self) -> Path:
        return self.root / "report.md"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    def counterexample_path(self, key: str) -> Path:
        return self.root / "counterexamples" / f"{key}.json"

    @property
    def store(self) -> ResultStore:
        if self._store is None:
            self._store = ResultStore(self.root)
        return self._store

    # --- reports --------------------------------------------------------------------
    def write_report(self, result: SearchResult, *, plots: bool = True) -> dict[str, Any]:
        """Write each counterexample's process, report.json and report.md (and PNG
        figures at the end, when matplotlib is installed); return the report."""
        report = build_report(result, self.counterexample_path)
        for cx in (*result.counterexamples, *result.rejected):
            path = self.counterexample_path(cx.evaluation.key)
            if not path.exists():
                write_atomic(path, canonical_json(cx.evaluation.process))
        write_atomic(self.report_json, json.dumps(report, indent=2, sort_keys=True))
        write_atomic(self.report_md, render_markdown(report))
        if plots and result.status != "running":
            render_plots(result, self.figures, self.figure_formats)
        return report

    # --- ownership ------------------------------------------------------------------
    def open(self, settings: dict[str, Any], *, resume: bool) -> RunDirectory:
        """Lock the directory and record (or compare) the search's settings."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunDirectoryError(
                f"cannot create the run directory {self.root}: {err.strerror or err}"
            ) from None
        self._lock()
        try:
            self._claim(json.loads(canonical_json(settings)), resume)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _lock(self) -> None:
        self._lock_fd = hold_lock(self.root, "search")

    def _claim(self, settings: dict[str, Any], resume: bool) -> None:
        previous = self.read_settings()
        has_work = bool(self.store.keys())
        if (previous is not None or has_work) and not resume:
            raise RunDirectoryError(
                f"{self.root} already holds a search; pass resume=True (--resume) to "
                "continue it, or choose another directory"
            )
        if previous is not None:
            differ = sorted(
                key
                for key in set(previous) | set(settings)
                if key not in RESUMABLE and previous.get(key) != settings.get(key)
            )
            if differ:
                raise RunDirectoryError(
                    f"{self.root} holds a search with other settings ({', '.join(differ)} "
                    "differ); resume it with the same settings, or choose another --out"
                )
        write_atomic(self.settings_path, json.dumps(settings, indent=2, sort_keys=True))

    def read_settings(self) -> dict[str, Any] | None:
        if not self.settings_path.exists():
            return None
        try:
            data = load_json(self.settings_path.read_bytes(), what=str(self.settings_path))
        except (OSError, SithError) as err:
            raise RunDirectoryError(f"cannot read {self.settings_path}: {err}") from None
        if not isinstance(data, dict) or data.get("schema") != SETTINGS_SCHEMA:
            raise RunDirectoryError(f"{self.settings_path} is not a sith run settings file")
        return data


__all__ = ["SETTINGS_SCHEMA", "RunDirectory", "hold_lock"]
