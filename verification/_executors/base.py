"""The executor interface (``map_unordered`` with retries of lost items), its outcome,
thread pinning, and the serial executor.

Private: the public names live in :mod:`verification.executors`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from theory.errors import InvalidArgument, SithError
from verification._executors import warm
from verification._text import one_line

THREAD_VARIABLES = warm.THREAD_VARIABLES


@dataclass(frozen=True)
class Outcome:
    """What became of one item: its value, or an error line (``lost``: the worker died)."""

    index: int
    value: Any = None
    error: str | None = None
    lost: bool = False
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


class WorkerLost(SithError):
    """The worker running an item died before it answered (killed, out of memory, ...)."""


class MissingExtra(InvalidArgument):
    """An optional dependency is not installed; the message names the extra."""


def require_extra(module: str, extra: str, what: str) -> Any:
    """Import ``module``, or raise :class:`MissingExtra` naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(
            f"{what} needs the {extra!r} extra: pip install 'sith-toolkit[{extra}]'"
        ) from None


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def pinned_threads(n: int | None):
    """While the block runs, torch (:func:`verification.learners.base.torch_threads`) and
    the BLAS libraries (threadpoolctl) use ``n`` threads (None: as is)."""
    if n is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    from verification.learners.base import torch_threads

    with torch_threads(n), threadpool_limits(limits=n):
        yield


def _in_order(
    pending: Sequence[int], items: Sequence[Any], order: Callable[[Collection[int]], int] | None
) -> Iterator[tuple[int, Any]]:
    """``(index, item)`` of every pending item, the next one chosen by ``order`` (see
    :meth:`Executor.map_unordered`) when it is asked for. ``order`` sees the pending
    indices in their order, as a live view (constant-time ``in``; not to be kept)."""
    left = dict.fromkeys(pending)
    while left:
        index = next(iter(left)) if order is None else order(left.keys())
        if index not in left:
            raise InvalidArgument(f"order chose item {index!r}, which is not pending")
        del left[index]
        yield index, items[index]


def _pinned_call(fn: Callable[[Any], Any], item: Any, threads: int | None) -> Any:
    with pinned_threads(threads):
        return fn(item)


def _one_line(err: BaseException) -> str:
    text = one_line(err)
    name = type(err).__name__
    return f"{name}: {text}" if text else name


class Executor:
    """The interface: ``map_unordered(fn, items)`` yields one :class:`Outcome` per item,
    in completion order. Use it as a context manager (``close`` frees the workers)."""

    name = "executor"
    #: workers read and write the caller's files (the result store) directly
    shared_filesystem = True
    #: a worker's death takes down every item in flight (a process pool breaks), so
    #: retries run one at a time, charging only the item that kills its worker
    isolate_retries = False

    def __init__(self, workers: int | None = None, threads: int | None = 1) -> None:
        if workers is None:
            workers = default_workers()
        _check_int("workers", workers, 1)
        if threads is not None:
            _check_int("threads", threads, 1)
        self.workers = workers
        self.threads = threads

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "workers": self.workers, "threads": self.threads}

    def map_unordered(
        self,
        fn: Callable[[Any], Any],
        items: Sequence[Any],
        *,
        retries: int = 1,
        order: Callable[[Collection[int]], int] | None = None,
    ) -> Iterator[Outcome]:
        """Run ``fn`` on every item; an item whose worker died is retried ``retries`` times.

        ``order(pending)``: of the indices not started yet, the one to start next
        (default: the first), asked each time an item is handed out: by a local pool
        whenever a worker can take one, so it may use the outcomes seen so far; by the
        serial executor before each item; by Dask and SLURM for all items at the start.
        Scheduling only: every item is computed alike, whatever the order."""
        _check_int("retries", retries, 0)
        attempts = dict.fromkeys(range(len(items)), 0)
        pending = list(range(len(items)))
        while pending:
            for index in pending:
                attempts[index] += 1
            retry = []
            first = all(attempts[i] == 1 for i in pending)
            if first or not self.isolate_retries:
                runs = self._run(fn, _in_order(pending, items, order))
            else:  # one at a time: an item that kills its worker takes no other down
                runs = (r for i in pending for r in self._run(fn, [(i, items[i])]))
            for index, value, error in runs:
                if isinstance(error, WorkerLost) and attempts[index] <= retries:
                    retry.append(index)
                elif error is not None:
                    yield Outcome(
                        index,
                        error=_one_line(error),
                        lost=isinstance(error, WorkerLost),
                        attempts=attempts[index],
                    )
                else:
                    yield Outcome(index, value, attempts=attempts[index])
            pending = sorted(retry)

    def _run(
        self, fn: Callable[[Any], Any], indexed: Iterable[tuple[int, Any]]
    ) -> Iterator[tuple[int, Any, BaseException | None]]:
        """``(index, value, error)`` of each item of ``indexed`` (taken from it as late as
        the executor can: the next one is chosen when it is asked for)."""
        raise NotImplementedError

    #: whether :meth:`submit` runs in the background (the caller goes on meanwhile)
    background = False

    @property
    def starting(self) -> bool:
        """Whether this executor's workers on this machine are yet to start: until the
        first is up, the caller's own work (e.g. importing matplotlib for a report) runs
        beside their start-up instead of beside their evaluations. False here."""
        return False

    def submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        """Start ``fn(item)`` and return at once a future (``.result()`` waits for it and
        returns its value or raises). Here: computed now, in this process; executors with
        workers run it in the background."""
        from concurrent.futures import Future

        future: Future = Future()
        try:
            future.set_result(_pinned_call(fn, item, self.threads))
        except Exception as err:
            future.set_exception(err)
        return future

    def close(self) -> None:
        """Free the workers (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """One item after another, in this process."""

    name = "serial"

    def __init__(self, workers: int | None = 1, threads: int | None = 1) -> None:
        super().__init__(1 if workers is None else workers, threads)

    def _run(self, fn, indexed):
        for index, item in indexed:
            try:
                with pinned_threads(self.threads):
                    value = fn(item)
            except Exception as err:  # fn's own failure is the item's outcome
                yield index, None, err
            else:
                yield index, value, None


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgument(f"{name} must be an integer >= {minimum}, got {value!r}")
