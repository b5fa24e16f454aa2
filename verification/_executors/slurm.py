"""The SLURM executor: items as submitit jobs (a job array on a real cluster).

Private: the public names live in :mod:`verification.executors`."""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path
from typing import Any

from theory.errors import InvalidArgument
from verification._executors.base import (
    Executor,
    WorkerLost,
    _check_int,
    _pinned_call,
    require_extra,
)


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
