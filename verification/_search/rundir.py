"""A search's run directory: its layout, the settings it was made with, and a lock.

::

    OUT/run.json                 the settings of the search that owns the directory
    OUT/.lock                    held (flock) while a search runs here; names its pid
    OUT/evaluations/KEY.json     the result store, one record per evaluation
    OUT/counterexamples/KEY.json the process of each counterexample (reproduce input)
    OUT/report.json, report.md   rewritten after every new evaluation (atomic)
    OUT/figures/*.png            at the end (plots extra), drawn from report.json and
                                 the store's records, so ``sith report`` redraws them

Resuming is allowed only with the same settings (theorem, seed, kinds, reseeds, search
space); a larger or smaller ``budget`` continues or re-reads the same search. Anything
else is refused, naming the settings that differ, so two searches never mix in one
report. A directory a sweep or an alignment marked is refused
(:class:`~verification._runs.LockedDirectory`), and so is a second search on a directory
in use, naming the process that holds it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from theory._json import load_json
from theory._spec import canonical_json
from theory.errors import RunDirectoryError, SithError
from verification._files import write_atomic
from verification._runs import LockedDirectory
from verification._search.records import SearchResult
from verification._search.reports import build_report, render_markdown, render_plots

SETTINGS_SCHEMA = "sith.run/1"
RESUMABLE = frozenset({"budget"})  # settings a resumed search may change


class RunDirectory(LockedDirectory):
    """Owns the layout of ``root``; use as a context manager around one search."""

    KIND = "search"

    def __init__(self, root: str | os.PathLike, *, formats: Sequence[str] = ()) -> None:
        super().__init__(root, formats=formats)  # the store: OUT/evaluations

    # --- layout ---------------------------------------------------------------------
    settings_path = LockedDirectory.document  # run.json

    @property
    def report_json(self) -> Path:
        return self.root / "report.json"

    @property
    def report_md(self) -> Path:
        return self.root / "report.md"

    def counterexample_path(self, key: str) -> Path:
        return self.root / "counterexamples" / f"{key}.json"

    # --- reports --------------------------------------------------------------------
    def write_report(self, result: SearchResult, *, plots: bool = True) -> dict[str, Any]:
        """Write each counterexample's process, report.json, the PNG figures at the end
        (when matplotlib is installed; drawn from the report and its records), and
        report.md listing them; return the report."""
        report = build_report(result, self.counterexample_path)
        for cx in (*result.counterexamples, *result.rejected):
            path = self.counterexample_path(cx.evaluation.key)
            if not path.exists():
                write_atomic(path, canonical_json(cx.evaluation.process))
        write_atomic(self.report_json, json.dumps(report, indent=2, sort_keys=True))
        figures: list[str] = []
        if plots and result.status != "running":
            drawn = render_plots(report, self.figures, self.figure_formats, result.records)
            figures = [f"figures/{p.name}" for p in drawn]
        write_atomic(self.report_md, render_markdown(report, figures))
        return report

    # --- ownership ------------------------------------------------------------------
    def open(self, settings: dict[str, Any], *, resume: bool) -> RunDirectory:  # type: ignore[override]
        """Lock the directory and record (or compare) the search's settings."""
        super().open()
        try:
            self._claim(json.loads(canonical_json(settings)), resume)
        except BaseException:
            self.close()
            raise
        return self

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


__all__ = ["SETTINGS_SCHEMA", "RunDirectory"]
