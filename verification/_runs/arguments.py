"""The arguments every kind of run takes, checked the same way for each: seeds, the
oracle flag, the time limit of one evaluation, and the executor (with its options).

Each is refused before anything runs, in one line naming the argument.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from theory.errors import InvalidArgument
from verification._executors.warm import EVALUATION_MODULES
from verification.executors import Executor, get_executor

SEED_LIMIT = 2**32  # numpy's seed range
#: the options only one executor takes: option -> that executor
EXECUTOR_OPTIONS = {
    "address": "dask",
    "slurm_partition": "slurm",
    "slurm_cluster": "slurm",
    "slurm_options": "slurm",
}
#: what a local pool's forkserver imports once: the worker function's module
WORKER_MODULE = "verification._runs.worker"


def seed_list(seeds: Any, first: Any) -> list[int]:
    """The seeds of a run: ``seeds`` seeds from ``first`` (a count), or the listed ones
    (distinct), each in [0, 2**32)."""

    def is_seed(v: Any) -> bool:
        return not isinstance(v, bool) and isinstance(v, numbers.Integral) and 0 <= v < SEED_LIMIT

    if not is_seed(first):
        raise InvalidArgument(f"seed must be an integer in [0, 2**32), got {first!r}")
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise InvalidArgument(f"seeds must be >= 1, got {seeds!r}")
        out = list(range(int(first), int(first) + int(seeds)))
    elif isinstance(seeds, Sequence) and not isinstance(seeds, (str, bytes)):
        out = [int(s) for s in seeds if is_seed(s)]
        if len(out) != len(seeds) or not out or len(set(out)) != len(out):
            raise InvalidArgument(
                f"seeds must be a count or distinct integers in [0, 2**32), got {seeds!r}"
            )
    else:
        raise InvalidArgument(f"seeds must be a count or a list of seeds, got {seeds!r}")
    if not all(is_seed(s) for s in out):
        raise InvalidArgument(f"seeds must lie in [0, 2**32), got {out[0]}..{out[-1]}")
    return out


def check_oracle(oracle: Any) -> bool:
    if not isinstance(oracle, bool):
        raise InvalidArgument(f"oracle must be True or False, got {oracle!r}")
    return oracle


def check_time_limit(seconds: Any) -> float | None:
    """The time limit of one evaluation: a positive, finite number of seconds, or None."""
    if seconds is not None and (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not 0 < seconds < math.inf
    ):
        raise InvalidArgument(
            f"evaluation_time_limit must be a positive number of seconds or None, got {seconds!r}"
        )
    return seconds


def open_executor(
    name: str | Executor,
    workers: int | None,
    threads: int | None,
    *,
    out: str | Path | None = None,
    gpus: int = 0,
    slurm_time: float = 60,
    **options: Any,
) -> Executor:
    """The executor ``name`` (an :class:`Executor` is the caller's, returned as it is).

    ``options``: ``address`` (dask), ``slurm_partition``, ``slurm_cluster``,
    ``slurm_options`` (slurm), each refused for another executor; ``out``: the run
    directory (slurm keeps its job logs in OUT/slurm)."""
    kind = name.name if isinstance(name, Executor) else name
    if not isinstance(name, (str, Executor)):
        raise InvalidArgument(f"executor must be a name or an Executor, got {name!r}")
    given = [k for k, v in options.items() if v is not None and v != {}]
    wrong = [k for k in given if isinstance(name, Executor) or EXECUTOR_OPTIONS[k] != kind]
    if wrong:
        raise InvalidArgument(
            f"{', '.join(wrong)}: not an option of the {kind} executor (address is the "
            "dask executor's; slurm_partition, slurm_cluster, slurm_options are slurm's)"
        )
    if isinstance(name, Executor):
        return name
    if name == "serial" and workers not in (None, 1):
        raise InvalidArgument(f"the serial executor has one worker, got workers={workers!r}")
    settings: dict[str, Any] = {}
    if name == "local":
        # the worker module and what an evaluation imports where it runs (as the sith
        # command's early forkserver has): warm workers, and a driver without them
        settings["preload"] = EVALUATION_MODULES
    elif name == "dask":
        settings["address"] = options.get("address")
    elif name == "slurm":
        settings.update(
            folder=Path(out if out is not None else ".").resolve() / "slurm",
            partition=options.get("slurm_partition"),
            time=slurm_time,
            cluster=options.get("slurm_cluster"),
            gpus=gpus,
            options=options.get("slurm_options"),
        )
    return get_executor(name, workers, threads, **settings)


__all__ = [
    "EXECUTOR_OPTIONS",
    "WORKER_MODULE",
    "check_oracle",
    "check_time_limit",
    "open_executor",
    "seed_list",
]
