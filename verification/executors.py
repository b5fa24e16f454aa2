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
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theory.errors import InvalidArgument, SithError
from verification._executors import warm
from verification.registry import Registry

#: the environment variables a pinned worker sets (libraries loaded later read them)
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
    """While the block runs, torch and the BLAS libraries use ``n`` threads (None: as is)."""
    if n is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn depends on it
            yield
        else:
            with threadpool_limits(limits=n):
                yield
    finally:
        torch.set_num_threads(previous)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
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
        self, fn: Callable[[Any], Any], items: Sequence[Any], *, retries: int = 1
    ) -> Iterator[Outcome]:
        """Run ``fn`` on every item; an item whose worker died is retried ``retries`` times."""
        _check_int("retries", retries, 0)
        attempts = dict.fromkeys(range(len(items)), 0)
        pending = list(range(len(items)))
        while pending:
            for index in pending:
                attempts[index] += 1
            retry = []
            first = all(attempts[i] == 1 for i in pending)
            if first or not self.isolate_retries:
                runs = self._run(fn, [(i, items[i]) for i in pending])
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
        self, fn: Callable[[Any], Any], indexed: list[tuple[int, Any]]
    ) -> Iterator[tuple[int, Any, BaseException | None]]:
        raise NotImplementedError

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


class LocalExecutor(Executor):
    """A pool of ``workers`` processes on this machine (forkserver, else spawn).

    ``preload``: modules the forkserver imports once (torch, ``torch._dynamo``, and
    these: see :mod:`verification._executors.warm`), so each worker starts as a fork of
    a process that already has them: importing them takes seconds, a fork milliseconds.
    The forkserver starts importing as soon as the executor is made (in the background),
    so its imports overlap whatever the caller does before the first item. It is one per
    process, so the first pool's preload is the one that counts (the ``sith`` command
    starts it before importing anything, with the evaluations' modules)."""

    name = "local"
    isolate_retries = True

    def __init__(
        self,
        workers: int | None = None,
        threads: int | None = 1,
        *,
        method: str | None = None,
        preload: Sequence[str] = (),
    ) -> None:
        super().__init__(workers, threads)
        methods = multiprocessing.get_all_start_methods()
        if method is None:
            method = "forkserver" if "forkserver" in methods else "spawn"
        if method not in ("forkserver", "spawn") or method not in methods:
            raise InvalidArgument(
                f"start method must be forkserver or spawn (available here: "
                f"{', '.join(m for m in methods if m != 'fork')}), got {method!r}"
            )
        self.method = method
        self.preload = tuple(warm.preload_list(preload))
        self._pool = None
        if method == "forkserver":
            warm.start_forkserver(self.preload)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "method": self.method}

    def _ensure_pool(self):
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context(self.method)
            if self.method == "forkserver":
                warm.start_forkserver(self.preload)  # no-op when already running
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=warm.worker_init,
                initargs=(self.threads,),
            )
        return self._pool

    def _run(self, fn, indexed):
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pool = self._ensure_pool()
        futures = {pool.submit(_pinned_call, fn, item, self.threads): i for i, item in indexed}
        try:
            while futures:
                done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                for future in done:
                    index = futures.pop(future)
                    try:
                        value = future.result()
                    except BrokenProcessPool:
                        self._discard_pool()
                        yield index, None, WorkerLost("a worker process died")
                    except Exception as err:
                        yield index, None, err
                    else:
                        yield index, value, None
        except BaseException:
            self.close(kill=True)
            raise
        finally:
            if futures:  # left behind by a stop: never leave them to run
                for future in futures:
                    future.cancel()

    def _discard_pool(self) -> None:
        """A broken pool cannot be used again: the next batch starts a fresh one."""
        if self._pool is not None:
            with contextlib.suppress(Exception):
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self, kill: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        if kill:  # an interrupt: stop the evaluations in flight at once
            for process in processes:
                with contextlib.suppress(Exception):
                    process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _pinned_call(fn: Callable[[Any], Any], item: Any, threads: int | None) -> Any:
    with pinned_threads(threads):
        return fn(item)


class DaskExecutor(Executor):
    """Items as tasks of a Dask cluster: ``address`` (``tcp://host:8786``) or, without one,
    a ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1.

    ``shared_filesystem``: whether the workers see this machine's files (a LocalCluster
    does; for a remote scheduler the default is False: results come back to the driver,
    which writes them).

    Workers are warmed once, when the client connects: each imports torch,
    ``torch._dynamo`` and ``preload`` and pins its threads (``Client.run``, on all
    workers at once), so no item pays for an import."""

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        threads: int | None = 1,
        *,
        address: str | None = None,
        shared_filesystem: bool | None = None,
        preload: Sequence[str] = (),
    ) -> None:
        super().__init__(workers, threads)
        require_extra("distributed", "dask", "the dask executor")
        self.preload = tuple(warm.preload_list(preload))
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise InvalidArgument(f"address must be a scheduler address, got {address!r}")
        self.address = address
        self.shared_filesystem = address is None if shared_filesystem is None else shared_filesystem
        self._client = None
        self._cluster = None

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "address": self.address}

    def _ensure_client(self):
        if self._client is None:
            import distributed

            if self.address is not None:
                try:
                    self._client = distributed.Client(self.address, timeout="30s")
                except OSError as err:
                    raise InvalidArgument(
                        f"cannot reach the Dask scheduler at {self.address}: {err}"
                    ) from None
            else:
                import logging

                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                self._client = distributed.Client(self._cluster)
            # an optimisation only: a worker that cannot import them fails its items
            # with the import's own error
            self._client.run(warm.warm_worker, self.preload, self.threads, on_error="ignore")
        return self._client

    def _run(self, fn, indexed):
        import distributed

        client = self._ensure_client()
        futures = {
            client.submit(_pinned_call, fn, item, self.threads, pure=False): i
            for i, item in indexed
        }
        try:
            for future in distributed.as_completed(list(futures)):
                index = futures.pop(future)
                try:
                    value = future.result()
                except distributed.KilledWorker as err:
                    yield index, None, WorkerLost(f"the Dask worker died ({err})")
                except Exception as err:
                    yield index, None, err
                else:
                    yield index, value, None
                future.release()
        finally:
            if futures:
                with contextlib.suppress(Exception):
                    client.cancel(list(futures))

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        for thing in (client, cluster):
            if thing is not None:
                with contextlib.suppress(Exception):
                    thing.close()


class SlurmExecutor(Executor):
    """Items as submitit jobs: one SLURM job array, at most ``workers`` tasks at a time,
    each with ``threads`` CPUs, ``time`` minutes and ``partition``.

    ``cluster``: "slurm" (sbatch), "local" (the same jobs as subprocesses here, at most
    ``workers`` at a time: what the tests run), "debug" (in this process), or None
    (submitit's choice: slurm where ``sbatch`` exists, else local). ``folder`` holds the
    jobs' pickles and logs: it must be on a filesystem the nodes share. ``options`` go to
    ``update_parameters`` as they are (e.g. ``{"slurm_account": "lab"}``).
    """

    name = "slurm"

    def __init__(
        self,
        workers: int | None = None,
        threads: int | None = 1,
        *,
        folder: str | os.PathLike | None = None,
        partition: str | None = None,
        time: float = 60,
        cluster: str | None = None,
        gpus: int = 0,
        options: dict[str, Any] | None = None,
        poll: float = 1.0,
    ) -> None:
        super().__init__(workers, threads)
        require_extra("submitit", "slurm", "the slurm executor")
        if cluster not in (None, "slurm", "local", "debug"):
            raise InvalidArgument(f"cluster must be slurm, local or debug, got {cluster!r}")
        if isinstance(time, bool) or not isinstance(time, (int, float)) or not 0 < time < math.inf:
            raise InvalidArgument(f"time must be a positive number of minutes, got {time!r}")
        if options is not None and not isinstance(options, dict):
            raise InvalidArgument(f"options must be a dict, got {options!r}")
        _check_int("gpus", gpus, 0)
        self.folder = Path(folder) if folder is not None else None
        self.partition, self.time, self.cluster = partition, time, cluster
        self.gpus, self.options, self.poll = gpus, dict(options or {}), poll
        self._jobs: list[Any] = []

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "cluster": self.cluster or "auto",
            "partition": self.partition,
            "time_min": self.time,
        }

    def _executor(self):
        import tempfile

        import submitit

        folder = self.folder or Path(tempfile.mkdtemp(prefix="sith-slurm-"))
        executor = submitit.AutoExecutor(folder=str(folder / "%j"), cluster=self.cluster)
        params: dict[str, Any] = {
            "timeout_min": max(1, math.ceil(self.time)),  # submitit takes whole minutes
            "cpus_per_task": self.threads or 1,
            "name": "sith-sweep",
            "slurm_array_parallelism": self.workers,
        }
        if self.partition:
            params["slurm_partition"] = self.partition
        if self.gpus:
            params["gpus_per_node"] = self.gpus
        params.update(self.options)
        try:
            executor.update_parameters(**params)
        except (ValueError, TypeError, NameError, AssertionError) as err:
            raise InvalidArgument(f"submitit refused the job parameters: {err}") from None
        return executor

    def _run(self, fn, indexed):
        from submitit.core.utils import FailedJobError, UncompletedJobError

        executor = self._executor()
        array = executor.cluster == "slurm"
        queue = list(indexed)
        running: dict[Any, int] = {}
        vanish: dict[str, float] = {}  # job id -> when it was first missing from squeue
        try:
            if array:  # one sbatch; SLURM keeps at most `workers` tasks running
                items = [item for _, item in queue]
                threads = [self.threads] * len(items)
                jobs = executor.map_array(_pinned_call, [fn] * len(items), items, threads)
                running = {job: i for job, (i, _) in zip(jobs, queue, strict=True)}
                queue = []
            while running or queue:
                while queue and len(running) < self.workers:
                    index, item = queue.pop(0)
                    running[executor.submit(_pinned_call, fn, item, self.threads)] = index
                self._jobs = list(running)
                finished = [job for job in running if job.done()]
                vanished = [] if finished or not array else self._vanished(running, vanish)
                if not finished and not vanished:
                    time.sleep(self.poll)
                    continue
                for job in vanished:
                    index = running.pop(job)
                    yield (
                        index,
                        None,
                        WorkerLost(
                            f"job {job.job_id} left the queue without a result (cancelled or "
                            "killed; the cluster's accounting, sacct, did not say)"
                        ),
                    )
                for job in finished:
                    index = running.pop(job)
                    try:
                        value = job.result()
                    except FailedJobError as err:  # fn raised (a subclass: caught first)
                        yield index, None, RuntimeError(_last_line(str(err)))
                    except UncompletedJobError as err:  # killed, timed out, node lost
                        yield index, None, WorkerLost(f"job {job.job_id} did not finish: {err}")
                    except Exception as err:
                        yield index, None, err
                    else:
                        yield index, value, None
        finally:
            for job in running:
                with contextlib.suppress(Exception):
                    job.cancel(check=False)
            self._jobs = []

    def close(self) -> None:
        for job in self._jobs:
            with contextlib.suppress(Exception):
                job.cancel(check=False)
        self._jobs = []

    def _vanished(self, running: dict[Any, int], first_missing: dict[str, float]) -> list[Any]:
        """Jobs that left the queue without a result, where ``sacct`` cannot say so.

        submitit learns a job's end from the cluster's accounting (``sacct``); where that
        is not kept (a SLURM without a database), a cancelled or killed job stays
        "UNKNOWN" forever and would be waited for forever. Such a job is lost once it
        has been missing from ``squeue`` (and its result from the shared folder) for
        ``VANISH_GRACE`` seconds. Checked every ``VANISH_EVERY`` seconds only.
        """
        now = time.monotonic()
        if now - first_missing.get("", 0.0) < VANISH_EVERY:
            return []
        first_missing[""] = now
        unknown = [job for job in running if job.state == "UNKNOWN"]
        if not unknown:
            return []
        queued = _squeue_ids()
        if queued is None:  # squeue itself failed: no evidence either way
            return []
        lost = []
        for job in unknown:
            if job.job_id in queued or job.paths.result_pickle.exists():
                first_missing.pop(job.job_id, None)
                continue
            since = first_missing.setdefault(job.job_id, now)
            if now - since >= VANISH_GRACE and not job.done(force_check=True):
                lost.append(job)
        return lost


VANISH_EVERY = 5.0  # seconds between squeue checks for jobs sacct cannot report
VANISH_GRACE = 20.0  # seconds a job must be gone from squeue (and without result) to be lost


def _squeue_ids() -> set[str] | None:
    """Every queued or running job id (array tasks one per line), or None if squeue fails."""
    import subprocess

    try:
        out = subprocess.run(
            ["squeue", "-h", "-r", "-o", "%i"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return {line.strip() for line in out.stdout.splitlines() if line.strip()}


def _last_line(text: str) -> str:
    """The exception line of a job's remote traceback (submitit puts the traceback
    between dashed lines, followed by where the logs are)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if starts:
        block = []
        for line in lines[starts[-1] + 1 :]:
            if line.startswith("-----"):
                break
            block.append(line)
        block = [line for line in block if line]
        if block:
            return block[-1]
    shown = [line for line in lines if line]
    return shown[0] if shown else "the job failed"


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgument(f"{name} must be an integer >= {minimum}, got {value!r}")


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
