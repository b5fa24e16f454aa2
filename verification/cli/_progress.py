"""Progress of a running search, sweep or alignment on stderr: a live rich bar on a
terminal, one plain line per evaluation otherwise."""

from __future__ import annotations

import sys

from verification.cli._common import echo


def short(value) -> str:
    """A parameter value for a progress line: floats to 3 significant digits."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def say(line: str, progress=None) -> None:
    """One line on stderr, above a live progress bar when one is showing."""
    if progress is not None and progress.tty:
        progress.progress.console.print(line, markup=False, highlight=False)
    else:
        echo(line, err=True)


def _metric(value) -> str:
    return "" if value is None else f"{value:.3f}"


class _Progress:
    """A rich progress display on stderr (disabled off a terminal) as a context."""

    def __init__(self, *columns, total: int | None, tty: bool, **fields) -> None:
        from rich.progress import Progress

        from verification._terminal import SafeConsole

        self.tty = tty
        self.done = 0
        self.progress = Progress(*columns, console=SafeConsole(stderr=True), disable=not tty)
        self.task = self.progress.add_task("run", total=total, **fields)

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


class SearchProgress(_Progress):
    """A live progress bar (rich) on a TTY; one plain line per evaluation otherwise, or
    always with ``-v``."""

    def __init__(self, budget: int, verbose: bool = False) -> None:
        from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

        super().__init__(
            TextColumn("[bold]search"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} evaluations"),
            TextColumn("{task.fields[found]}"),
            TimeElapsedColumn(),
            total=budget,
            tty=sys.stderr.isatty() and not verbose,
            found="",
        )
        self.budget = budget
        self.counts = {"gap": 0, "failure": 0}

    def update(self, evaluation, fresh: bool) -> None:
        self.done += 1
        if evaluation.kind in self.counts:
            self.counts[evaluation.kind] += 1
        found = f"gap-like {self.counts['gap']}, failure-like {self.counts['failure']}"
        if self.tty:
            self.progress.update(self.task, completed=min(self.done, self.budget), found=found)
            return
        claim = evaluation.claim or {}
        tried = ", ".join(f"{k}={short(v)}" for k, v in evaluation.params.items())
        outcome = (
            f"error ({evaluation.error.split(':', 1)[0]})"
            if evaluation.failed
            else f"violated={list(evaluation.violated) or 'none'} "
            f"{claim.get('name')}={_metric(evaluation.claim_value)} "
            f"kind={evaluation.kind or '-'}"
        )
        echo(f"[{self.done}] {'new' if fresh else 'cached'} {tried}: {outcome}", err=True)


class SweepProgress(_Progress):
    """A live count (rich) on a TTY; one plain line per row otherwise."""

    label = "sweep"

    def __init__(self) -> None:
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        super().__init__(
            SpinnerColumn(),
            TextColumn(f"[bold]{self.label}"),
            TextColumn("{task.completed} evaluations"),
            TimeElapsedColumn(),
            total=None,
            tty=sys.stderr.isatty(),
        )

    def update(self, row: dict, fresh: bool) -> None:
        self.done += 1
        if self.tty:
            self.progress.update(self.task, completed=self.done)
            return
        echo(f"[{self.done}] {'new' if fresh else 'cached'} {self.describe(row)}", err=True)

    @staticmethod
    def outcome(row: dict) -> str:
        if row.get("error"):
            return f"error: {row['error']}"
        return f"claim={_metric(row.get('claim_metric'))} recovered={row['recovered']}"

    def describe(self, row: dict) -> str:
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        return f"{params} seed {row['seed']}: {self.outcome(row)}"


class AlignProgress(SweepProgress):
    """One line per trained model (a live count on a TTY)."""

    label = "align"

    def describe(self, model: dict) -> str:
        return f"{model['id']}: {self.outcome(model)}"
