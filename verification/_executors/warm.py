"""Warm workers: import once, pin threads once, start the forkserver early.

Why a worker pool used to waste its second core (measured on a 2-core machine,
``sith sweep cl-ica ... --executor local --workers 2``):

- *Import time.* ``import verification._runs.worker`` takes 4-5 s of one core (torch,
  sympy, scipy, scikit-learn). The pool's forkserver imported it only when the first
  item was submitted, after the driver had spent the same time importing the same
  modules: 5 s of start-up on the critical path before any evaluation began.
- *A lazy import in every worker.* ``torch.func``'s reverse mode (``vjp``, ``grad``,
  used by the checks' Jacobians) imports ``torch._dynamo`` on first use: 1-2 s (325
  modules). The serial run pays it once; each pool worker paid it again in its first
  evaluation (3.3 s instead of 1.6 s).
- Threads were already pinned (torch 1 thread, OpenBLAS / OpenMP 1 through
  threadpoolctl, per item), so oversubscription was not the cause; it stays pinned.

So the forkserver preloads :data:`WORKER_MODULES`, every worker is a fork of that warm
process, and the ``sith`` console script starts the forkserver (:func:`prestart`) before
it imports its own modules, so the two imports run side by side on two cores instead of
one after the other.

Since then (issue 25) the workers' imports shrank from 5.4 s to about 1.5 s:

- nothing an InfoNCE evaluation runs imports scikit-learn (1.5 s, with pandas and
  scipy.stats) or scipy.stats (0.7 s) any more; they are imported where used (FastICA,
  kernel ridge, Spearman, the density tests);
- the checks' Jacobians use plain autograd instead of ``torch.func.vjp``, and sith's
  optimisers (:mod:`verification.learners.optimizers`) are torch.optim's without its
  import of ``torch._dynamo`` (0.8 s), so an InfoNCE evaluation never imports it and
  the forkserver no longer preloads it. A worker whose check needs ``torch.func``'s
  reverse mode (a density's Hessian) imports it then, once, beside the other workers.

torch (0.8 s) and sith's evaluation modules (0.5 s, sympy and scipy.optimize among
them) are what is left, and they bound how soon a fresh pool evaluates anything.

*Idle BLAS threads that spin.* OpenBLAS starts one thread per extra core when it loads
(numpy and scipy each bring their own OpenBLAS), and an idle OpenBLAS thread spins for
2**28 CPU cycles (about 0.1 s) before it sleeps (``THREAD_TIMEOUT`` in its
``blas_server.c``). So every process that imported numpy and scipy burned about 0.25 s
of CPU on a 2-core machine, on the core the other process needed: the driver's threads
beside the forkserver's imports, the forkserver's beside the driver's, and each worker's
(started again after the fork) beside the other worker (measured: a fork's first
InfoNCE evaluation took 0.63 s of CPU, and 0.47 s with its BLAS at 1 thread). Now:

- the forkserver starts with the thread variables at the workers' count
  (:func:`thread_environment`), so with 1 thread a worker has no BLAS threads at all;
- a pool command's driver, whose computing the workers do, lets its OpenBLAS threads
  sleep at once (``OPENBLAS_THREAD_TIMEOUT``, :data:`QUIET_BLAS`) without changing how
  many it has, so its numbers stay those of a serial run.

*Garbage collections during the imports.* The preload creates hundreds of thousands of
objects and no garbage, and each full collection it triggers walks all of them (0.15 s
in all): it runs between :data:`GC_PAUSE` and :data:`GC_RESUME`, which freezes it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence

#: imported once by the forkserver; every local worker is a fork of it.
#: verification._executors.server_exit: the forkserver leaves without tearing torch down
WORKER_MODULES = (
    "torch",
    "verification.executors",
    "verification._executors.server_exit",
)
#: what a sweep's or a search's workers run (verification._runs.worker.evaluate), with
#: what an evaluation imports where it is used (so that a driver that only plans and
#: keys evaluations does without them): the checks, the recovery and its metrics' scipy
EVALUATION_MODULES = (
    "verification._runs.worker",
    "verification.checks",
    "verification.recovery",
    "scipy.linalg",
    "scipy.optimize",
    "scipy.spatial",
)

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)

#: a pool command's driver: its idle OpenBLAS threads sleep after 2**4 cycles (OpenBLAS's
#: least) instead of 2**28 (about 0.1 s of spinning per thread, beside the workers)
QUIET_BLAS = {"OPENBLAS_THREAD_TIMEOUT": "4"}

#: the commands whose --executor local runs a process pool
POOL_COMMANDS = ("sweep", "search", "align")


#: the first and last modules of every preload: the garbage collector pauses while the
#: forkserver imports, and what it imported is then frozen (see the two modules)
GC_PAUSE = "verification._executors.gc_pause"
GC_RESUME = "verification._executors.gc_resume"


def preload_list(extra: Sequence[str] = ()) -> list[str]:
    """The forkserver's preload: :data:`WORKER_MODULES`, then ``extra``, each once,
    between :data:`GC_PAUSE` and :data:`GC_RESUME`."""
    modules = dict.fromkeys((*WORKER_MODULES, *extra))
    modules.pop(GC_PAUSE, None)
    modules.pop(GC_RESUME, None)
    return [GC_PAUSE, *modules, GC_RESUME]


@contextlib.contextmanager
def thread_environment(threads: int | None) -> Iterator[None]:
    """While the block runs, every :data:`THREAD_VARIABLES` is ``threads`` in this
    process's environment, so a process started in the block inherits them; afterwards
    each is as before. ``None``: the environment is left alone."""
    if threads is None:
        yield
        return
    before = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_forkserver(preload: Sequence[str], threads: int | None = 1) -> bool:
    """Start this process's forkserver now, importing ``preload`` (in the background:
    this returns at once), with the thread variables at ``threads`` (the workers' count;
    None: this process's environment as is). False where there is no forkserver or it
    already runs (the first preload and count are the ones that count, as for any
    forkserver; each worker pins its own threads anyway, :func:`worker_init`)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    from multiprocessing import forkserver

    server = forkserver._forkserver  # type: ignore[attr-defined]
    if getattr(server, "_forkserver_pid", None) is not None:
        return False
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))
    with thread_environment(threads):  # read once, when numpy and torch load
        forkserver.ensure_running()
    return True


def pool_requested(argv: Sequence[str]) -> bool:
    """Whether a ``sith`` command line runs a local process pool (``sweep``, ``search``
    or ``align`` with ``--executor local``). A cheap look at the words: click parses
    them properly later, and a wrong guess costs only an idle forkserver."""
    words = list(argv)
    command = next((w for w in words if not w.startswith("-")), None)
    if command not in POOL_COMMANDS:
        return False
    for i, word in enumerate(words):
        if word == "--executor" and i + 1 < len(words) and words[i + 1] == "local":
            return True
        if word == "--executor=local":
            return True
    return False


def requested_threads(argv: Sequence[str]) -> int:
    """The ``--threads`` of a ``sith`` command line (default 1), by the same cheap look
    as :func:`pool_requested`; 1 where it is not a positive integer (click rejects it
    later)."""
    words = list(argv)
    for i, word in enumerate(words):
        value = None
        if word == "--threads" and i + 1 < len(words):
            value = words[i + 1]
        elif word.startswith("--threads="):
            value = word.partition("=")[2]
        if value is not None:
            return int(value) if value.isdigit() and int(value) > 0 else 1
    return 1


def prestart(argv: Sequence[str]) -> bool:
    """Called by the ``sith`` console script before it imports the CLI: when the command
    runs a local pool, start its forkserver now, so that it imports the workers'
    modules on another core while this process imports its own, and let this process's
    idle BLAS threads sleep (:data:`QUIET_BLAS`, before numpy loads; a value the user
    set stays). Never raises."""
    try:
        if pool_requested(argv):
            started = start_forkserver(preload_list(EVALUATION_MODULES), requested_threads(argv))
            for name, value in QUIET_BLAS.items():  # after: workers keep OpenBLAS's own
                os.environ.setdefault(name, value)
            return started
    except Exception:  # an optimisation only: the pool starts its forkserver itself later
        pass
    return False


def pin_process(threads: int | None) -> None:
    """Pin this process to ``threads`` threads for good: the thread variables (read by
    libraries loaded later), torch's intra-op and inter-op pools, and every BLAS and
    OpenMP pool already loaded (threadpoolctl)."""
    if threads is None:
        return
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    import torch

    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # only settable before inter-op work started
        torch.set_num_interop_threads(threads)
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)


def worker_init(threads: int | None) -> None:
    """Pool workers: pinned threads, and no Ctrl-C (the driver stops the workers itself,
    so an interrupt leaves no tracebacks behind)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pin_process(threads)


def warm_worker(modules: Sequence[str], threads: int | None) -> list[str]:
    """A Dask worker's warm-up: import ``modules`` and pin the threads; the names."""
    import importlib

    for name in modules:
        importlib.import_module(name)
    pin_process(threads)
    return list(modules)


__all__ = [
    "EVALUATION_MODULES",
    "GC_PAUSE",
    "GC_RESUME",
    "POOL_COMMANDS",
    "QUIET_BLAS",
    "THREAD_VARIABLES",
    "WORKER_MODULES",
    "pin_process",
    "pool_requested",
    "preload_list",
    "prestart",
    "requested_threads",
    "start_forkserver",
    "thread_environment",
    "warm_worker",
    "worker_init",
]
