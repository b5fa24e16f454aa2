"""Executors: run the same evaluations serially, in a process pool, on Dask or on SLURM.

One interface for every backend::

    with get_executor("local", workers=2) as ex:
        for outcome in ex.map_unordered(fn, items):
            outcome.index, outcome.value, outcome.error

- ``serial``  in this process, one item after another (the default; what tests use);
- ``local``   a process pool on this machine (``concurrent.futures`` with a forkserver
              context where there is one, else spawn: never a plain fork of a process
              that may hold threads);
- ``dask``    a ``distributed.Client``: a scheduler's address, or a ``LocalCluster`` of
              ``workers`` processes on the loopback interface (extra ``dask``);
- ``slurm``   submitit job arrays (extra ``slurm``); ``cluster="local"`` runs the same
              jobs as local subprocesses (tests), ``"debug"`` in this process.

``fn`` must be a top-level function and each item picklable: both travel to the workers.
Every worker pins torch and BLAS to ``threads`` threads (1 by default), so ``workers``
processes never oversubscribe the cores, and a backend gives the results the serial one
does. A worker that dies (killed, out of memory, a SLURM job killed) loses its item: the
item is retried ``retries`` times (once by default), then reported as an error outcome
with ``lost=True``, never silently dropped. A process pool breaks as a whole when one of
its workers dies, so the local executor retries one item at a time: an item that keeps
killing its worker is charged alone. An exception raised by ``fn`` is an error outcome,
not retried.

The backends live in the private package ``verification._executors`` (``base``: the
interface and the serial executor; ``local``, ``dask_client``, ``slurm``; ``warm``: the
stdlib-only worker warm-up); this module is their public face and their registry.
"""

from __future__ import annotations

from typing import Any

from theory.errors import InvalidArgument
from verification._executors.base import (
    Executor,
    MissingExtra,
    Outcome,
    SerialExecutor,
    WorkerLost,
    default_workers,
    pinned_threads,
    require_extra,
)
from verification._executors.dask_client import DaskExecutor
from verification._executors.local import LocalExecutor
from verification._executors.slurm import SlurmExecutor
from verification.registry import Registry

EXECUTORS = Registry(
    "executor",
    {
        "serial": SerialExecutor,
        "local": LocalExecutor,
        "dask": DaskExecutor,
        "slurm": SlurmExecutor,
    },
)


def get_executor(
    name: str | Executor,
    workers: int | None = None,
    threads: int | None = 1,
    **options: Any,
) -> Executor:
    """An executor by name (``serial``, ``local``, ``dask``, ``slurm`` or a registered
    one), with its own options (``address`` for dask; ``partition``, ``time``,
    ``cluster``, ``folder``, ``options`` for slurm). An Executor is returned as it is."""
    if isinstance(name, Executor):
        if options:
            raise InvalidArgument("executor options apply to an executor name, not an instance")
        return name
    factory = EXECUTORS.get(name)
    try:
        return factory(workers, threads, **options)
    except TypeError as err:
        raise InvalidArgument(f"executor {name!r}: {err}") from None


__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "MissingExtra",
    "Outcome",
    "SerialExecutor",
    "SlurmExecutor",
    "WorkerLost",
    "default_workers",
    "get_executor",
    "pinned_threads",
    "require_extra",
]
