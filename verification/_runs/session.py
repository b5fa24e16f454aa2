"""One run, start to end: its directory held (locked), its workers able to find its
theorem, and its executor closed at the end when the run opened it. Sweeps and
alignments run inside :func:`open_run`; a search holds its directory the same way
(its settings are claimed as it opens)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import theory as th
from verification._runs.arguments import open_executor
from verification._runs.rundir import LockedDirectory
from verification._runs.worker import theorem_in_workers
from verification.executors import Executor


@contextlib.contextmanager
def open_run(
    directory: LockedDirectory,
    theorem: th.Theorem,
    executor: str | Executor,
    workers: int | None,
    threads: int | None,
    *,
    local: bool,
    **options: Any,
) -> Iterator[Executor]:
    """Open the executor (:func:`~verification._runs.arguments.open_executor` with
    ``options``), then hold ``directory`` while the block runs, with ``theorem`` found by
    name in this process's workers when ``local``; yield the executor. It is closed at
    the end unless it is the caller's (an :class:`Executor` object)."""
    pool = open_executor(executor, workers, threads, out=directory.root, **options)
    try:
        with theorem_in_workers(theorem, local), directory.open():
            yield pool
    finally:
        if not isinstance(executor, Executor):
            pool.close()


def claim_record(theorem: th.Theorem, *extra: str) -> dict[str, Any]:
    """The theorem's claim as a run's document states it: the metric's name, its
    threshold and direction, and the ``extra`` fields of the claim named."""
    claim = theorem.claim
    return {
        "name": claim.metric,
        **{name: getattr(claim, name) for name in extra},
        "threshold": claim.threshold,
        "higher_is_better": claim.higher_is_better,
    }


__all__ = ["claim_record", "open_run"]
