"""The executor interface: every backend gives each item one outcome, pins threads, and
retries an item whose worker died once before reporting it as lost."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
import torch

from theory.errors import InvalidArgument, UnknownName
from verification._executors.warm import GC_PAUSE, GC_RESUME
from verification.executors import (
    EXECUTORS,
    Executor,
    LocalExecutor,
    MissingExtra,
    SerialExecutor,
    WorkerLost,
    get_executor,
    pinned_threads,
    require_extra,
)

# --- work functions: top level, so a worker process can import them by name ------------


def square(x: int) -> int:
    return x * x


def trim_threshold(_: object) -> str | None:
    """The worker's glibc trimming setting (Dask's nanny sets it before the process)."""
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not welcome")
    return x


def threads_seen(_: object) -> tuple[int, int | None]:
    from threadpoolctl import threadpool_info

    blas = [p["num_threads"] for p in threadpool_info()]
    return torch.get_num_threads(), max(blas) if blas else None


def worker_state(_: object) -> dict:
    """What a pool worker holds before it runs anything of its own."""
    return {
        # imported by the forkserver only (nothing this test module imports imports it)
        "preloaded": "verification._executors.server_exit" in sys.modules,
        # what an InfoNCE evaluation never needs (sith's optimisers do not import it)
        "dynamo": "torch._dynamo" in sys.modules,
        "torch_threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "omp_env": os.environ.get("OMP_NUM_THREADS"),
        "gc_enabled": gc.isenabled(),
        "gc_frozen": gc.get_freeze_count(),
    }


def die_once(item: dict) -> int:
    """Kill the worker process the first time an item is seen (a marker file remembers)."""
    marker = Path(item["marker"])
    if item.get("die") == "always" or (item.get("die") == "once" and not marker.exists()):
        marker.touch()
        os._exit(17)
    return item["value"]


# --- the interface ----------------------------------------------------------------------


def test_registry_names_and_unknown_names():
    assert set(EXECUTORS) >= {"serial", "local", "dask", "slurm"}
    with pytest.raises(UnknownName, match="known: dask, local, serial, slurm"):
        get_executor("nope")
    ex = SerialExecutor()
    assert get_executor(ex) is ex
    with pytest.raises(InvalidArgument, match="workers must be an integer >= 1"):
        get_executor("local", 0)
    with pytest.raises(InvalidArgument, match="threads must be"):
        get_executor("serial", 1, 0)
    with pytest.raises(InvalidArgument, match="executor 'serial'"):
        get_executor("serial", address="tcp://x:1")


def test_serial_runs_in_order_and_reports_errors_without_retrying():
    with SerialExecutor() as ex:
        outcomes = list(ex.map_unordered(fail_on_three, [1, 2, 3, 4]))
    assert [o.index for o in outcomes] == [0, 1, 2, 3]
    assert [o.value for o in outcomes] == [1, 2, None, 4]
    bad = outcomes[2]
    assert not bad.ok and bad.error == "ValueError: three is not welcome"
    assert bad.attempts == 1 and not bad.lost


def test_pinned_threads_sets_and_restores_torch_threads():
    before = torch.get_num_threads()
    with pinned_threads(1):
        assert torch.get_num_threads() == 1
        assert threads_seen(None)[1] in (None, 1)
    assert torch.get_num_threads() == before
    with pinned_threads(None):
        assert torch.get_num_threads() == before


class _Flaky(Executor):
    """Loses every listed item's worker on its first attempts (``losses`` times)."""

    name = "flaky"

    def __init__(self, losses: dict[int, int]) -> None:
        super().__init__(1, 1)
        self.losses = dict(losses)
        self.calls: list[int] = []

    def _run(self, fn, indexed):
        for index, item in indexed:
            self.calls.append(index)
            if self.losses.get(index, 0) > 0:
                self.losses[index] -= 1
                yield index, None, WorkerLost("worker killed")
            else:
                yield index, fn(item), None


def test_a_lost_item_is_retried_once_then_reported_lost():
    ex = _Flaky({0: 1, 2: 5})
    outcomes = {o.index: o for o in ex.map_unordered(square, [1, 2, 3])}
    assert outcomes[0].value == 1 and outcomes[0].attempts == 2  # lost once, retried
    assert outcomes[1].value == 4 and outcomes[1].attempts == 1
    assert outcomes[2].lost and outcomes[2].attempts == 2 and "worker killed" in outcomes[2].error
    assert sorted(ex.calls) == [0, 0, 1, 2, 2]
    none = {o.index: o for o in _Flaky({0: 1}).map_unordered(square, [1], retries=0)}
    assert none[0].lost and none[0].attempts == 1


def test_an_order_chooses_each_next_item_when_it_is_asked_for():
    """The serial executor asks before every item: here, the last pending one first."""
    asked = []

    def last(pending):
        asked.append(list(pending))
        return list(pending)[-1]

    outcomes = list(get_executor("serial", 1).map_unordered(square, [1, 2, 3, 4], order=last))
    assert [o.index for o in outcomes] == [3, 2, 1, 0]
    assert [o.value for o in outcomes] == [16, 9, 4, 1]
    assert asked == [[0, 1, 2, 3], [0, 1, 2], [0, 1], [0]]
    with pytest.raises(InvalidArgument, match="order chose item 7, which is not pending"):
        list(get_executor("serial", 1).map_unordered(square, [1, 2], order=lambda p: 7))


def test_missing_extras_name_the_extra(monkeypatch):
    with pytest.raises(MissingExtra, match=r"pip install 'sith-toolkit\[dask\]'"):
        require_extra("sith_no_such_module", "dask", "the dask executor")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(MissingExtra, match=r"the dask executor needs the 'dask' extra"):
        get_executor("dask", 2)
    monkeypatch.setitem(sys.modules, "submitit", None)
    with pytest.raises(MissingExtra, match=r"'slurm' extra"):
        get_executor("slurm", 2)


# --- real worker processes --------------------------------------------------------------


@pytest.fixture(scope="module")
def local_pool():
    with LocalExecutor(workers=2) as ex:
        yield ex


def test_local_pool_runs_everything_and_pins_threads(local_pool):
    outcomes = sorted(local_pool.map_unordered(square, list(range(6))), key=lambda o: o.index)
    assert [o.value for o in outcomes] == [i * i for i in range(6)]
    seen = [o.value for o in local_pool.map_unordered(threads_seen, [0, 1, 2, 3])]
    assert all(torch_threads == 1 and blas in (None, 1) for torch_threads, blas in seen)
    errors = [o for o in local_pool.map_unordered(fail_on_three, [3]) if not o.ok]
    assert errors[0].error == "ValueError: three is not welcome" and not errors[0].lost


def test_submit_runs_in_the_background_on_a_pool_and_at_once_in_process(local_pool):
    """``submit`` (a search's background work): a future per item, pinned like a mapped
    item; the serial executor computes it at once, errors included."""
    futures = [local_pool.submit(square, i) for i in range(4)]
    assert local_pool.background and [f.result(timeout=120) for f in futures] == [0, 1, 4, 9]
    assert local_pool.submit(threads_seen, 0).result(timeout=120)[0] == 1
    serial = SerialExecutor()
    assert not serial.background and serial.submit(square, 5).result() == 25
    with pytest.raises(ValueError, match="three is not welcome"):
        serial.submit(fail_on_three, 3).result()


def test_submit_never_waits_for_the_pool_to_start(monkeypatch):
    """A search's first background item must not hold it while the pool starts (the
    forkserver imports torch for seconds): ``submit`` returns a pending future at once,
    an item cancelled before it reached the pool never runs, and the rest arrive."""
    import threading

    gate = threading.Event()
    ex = LocalExecutor(workers=2)
    original = ex._submit_now

    def slow_start(fn, item):
        assert gate.wait(timeout=120)  # a pool that takes its time to start
        return original(fn, item)

    monkeypatch.setattr(ex, "_submit_now", slow_start)
    try:
        first, second = ex.submit(square, 3), ex.submit(square, 4)
        assert not first.done() and second.cancel()  # returned while the pool "starts"
        third = ex.submit(square, 5)
        gate.set()
        assert first.result(timeout=120) == 9 and third.result(timeout=120) == 25
        assert second.cancelled()
        assert ex.submit(square, 6).result(timeout=120) == 36  # started: straight to the pool
    finally:
        gate.set()
        ex.close()


def test_local_pool_workers_start_warm_and_pinned(local_pool):
    """Workers are forks of a forkserver that imported torch and sith's modules once: no
    worker pays for them in its first item. torch._dynamo (0.8 s) is left to the
    worker that needs it (torch.func's reverse mode): nothing in an InfoNCE evaluation
    does, and preloading it made every pool start about 0.5 s later."""
    assert set(local_pool.preload) >= {"torch", "verification.executors"}
    assert "torch._dynamo" not in local_pool.preload
    states = [o.value for o in local_pool.map_unordered(worker_state, [0, 1, 2, 3])]
    assert all(s["preloaded"] and not s["dynamo"] for s in states)
    assert all(s["torch_threads"] == 1 and s["omp_env"] == "1" for s in states)
    assert all(s["interop_threads"] == 1 for s in states)
    # the preload ran without collections and was then frozen (verification/_executors/
    # gc_pause.py, gc_resume.py): collecting works, and leaves the inherited heap alone
    assert local_pool.preload[0] == GC_PAUSE and local_pool.preload[-1] == GC_RESUME
    assert all(s["gc_enabled"] and s["gc_frozen"] > 10_000 for s in states)
    from verification._executors.warm import start_forkserver

    assert start_forkserver(["json"]) is False  # running: its preload stays


def test_a_local_pool_takes_items_as_places_free(local_pool):
    """Every worker busy and one item waiting: the order is asked for 3 items before the
    first outcome (2 workers), then for one more as each outcome comes back, so it can
    use what came back. Every item is computed, whatever the order."""
    asked = []

    def last(pending):
        asked.append(len(pending))
        return list(pending)[-1]

    list(local_pool.map_unordered(square, [0]))  # the pool is up
    assert local_pool.starting is False
    outcomes = local_pool.map_unordered(square, list(range(8)), order=last)
    first = next(outcomes)
    assert asked == [8, 7, 6] and first.index in (7, 6, 5)  # only those handed out
    rest = list(outcomes)
    assert asked == [8, 7, 6, 5, 4, 3, 2, 1]
    assert sorted(o.value for o in [first, *rest]) == [i * i for i in range(8)]


def test_a_new_local_pool_is_starting_until_its_first_item():
    with LocalExecutor(workers=1) as ex:
        assert ex.starting is True
        assert [o.value for o in ex.map_unordered(square, [3])] == [9]
        assert ex.starting is False
    assert get_executor("serial", 1).starting is False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads Linux's /proc")
def test_the_forkserver_starts_with_the_workers_thread_count(local_pool):
    """The forkserver imports numpy, scipy and torch with the thread variables at the
    workers' count (1), so they start no idle BLAS threads, which spin for about 0.1 s
    each beside the other processes; its forks (the workers) inherit the variables. A
    process started the same way runs numpy and scipy on its one thread."""
    from multiprocessing import forkserver

    from verification._executors.warm import thread_environment

    list(local_pool.map_unordered(square, [1]))  # the forkserver is up
    pid = forkserver._forkserver._forkserver_pid
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"OPENBLAS_NUM_THREADS=1" in environ and b"OMP_NUM_THREADS=1" in environ
    count = "import os, numpy, scipy.linalg, torch; print(len(os.listdir('/proc/self/task')))"
    with thread_environment(1):
        out = subprocess.run([sys.executable, "-c", count], capture_output=True, text=True)
    assert out.stdout.strip() == "1", out.stderr


def test_the_thread_environment_is_set_for_the_block_only(monkeypatch):
    from verification._executors.warm import THREAD_VARIABLES, thread_environment

    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with thread_environment(2):
        assert all(os.environ[name] == "2" for name in THREAD_VARIABLES)
    assert os.environ["OMP_NUM_THREADS"] == "7" and "OPENBLAS_NUM_THREADS" not in os.environ
    with thread_environment(None):
        assert os.environ["OMP_NUM_THREADS"] == "7" and "OPENBLAS_NUM_THREADS" not in os.environ


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["sweep", "cl-ica", "--executor", "local", "--threads", "2"], 2),
        (["search", "cl-ica", "--threads=3", "--executor", "local"], 3),
        (["sweep", "cl-ica", "--executor", "local"], 1),
        (["sweep", "cl-ica", "--threads", "zero"], 1),
        (["sweep", "cl-ica", "--threads", "0"], 1),
        (["sweep", "cl-ica", "--threads"], 1),
    ],
)
def test_the_early_start_reads_the_workers_thread_count(argv, expected):
    from verification._executors.warm import requested_threads

    assert requested_threads(argv) == expected


def test_a_pool_commands_driver_lets_its_idle_blas_threads_sleep(monkeypatch):
    """Before numpy loads: OpenBLAS reads OPENBLAS_THREAD_TIMEOUT once. A value the user
    set stays, and a command without a pool is left alone."""
    from verification._executors import warm

    monkeypatch.setattr(warm, "start_forkserver", lambda preload, threads: True)
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    assert warm.prestart(["sweep", "cl-ica"]) is False
    assert "OPENBLAS_THREAD_TIMEOUT" not in os.environ
    assert warm.prestart(["sweep", "cl-ica", "--executor", "local"]) is True
    assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "4"
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "12")
    warm.prestart(["search", "cl-ica", "--executor", "local"])
    assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "12"


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["sweep", "cl-ica", "--executor", "local", "--workers", "2"], True),
        (["--debug", "search", "cl-ica", "--executor=local"], True),
        (["align", "cl-ica", "--executor", "local"], True),
        (["sweep", "cl-ica"], False),
        (["sweep", "cl-ica", "--executor", "dask"], False),
        (["check", "cl-ica", "--executor", "local"], False),
        (["sweep", "cl-ica", "--executor"], False),
        ([], False),
    ],
)
def test_the_cli_starts_a_pool_early_only_for_a_local_pool(argv, expected):
    from verification._executors.warm import pool_requested

    assert pool_requested(argv) is expected


def test_the_early_start_never_raises(monkeypatch):
    from verification._executors import warm

    def broken(preload, threads):
        raise OSError("no forkserver here")

    monkeypatch.setattr(warm, "start_forkserver", broken)
    assert warm.prestart(["sweep", "x", "--executor", "local"]) is False


def test_local_pool_retries_an_item_whose_worker_died(local_pool, tmp_path):
    items = [
        {"marker": str(tmp_path / "a"), "die": "once", "value": 1},
        {"marker": str(tmp_path / "b"), "value": 2},
        {"marker": str(tmp_path / "c"), "value": 3},
    ]
    outcomes = {o.index: o for o in local_pool.map_unordered(die_once, items)}
    assert {i: o.value for i, o in outcomes.items()} == {0: 1, 1: 2, 2: 3}
    assert outcomes[0].attempts == 2 and all(o.ok for o in outcomes.values())
    # the pool was rebuilt: it still works
    assert [o.value for o in local_pool.map_unordered(square, [5])] == [25]


def test_a_background_item_whose_worker_died_leaves_a_pool_that_still_works(tmp_path):
    """``submit`` after a worker died (a search's background work): the dead item's future
    raises, and the next item gets a fresh pool instead of the broken one's error."""
    from concurrent.futures.process import BrokenProcessPool

    with LocalExecutor(workers=2) as ex:
        dead = ex.submit(die_once, {"marker": str(tmp_path / "a"), "die": "always", "value": 1})
        with pytest.raises(BrokenProcessPool):
            dead.result(timeout=120)
        assert ex.submit(square, 6).result(timeout=120) == 36


def test_items_a_broken_pool_refused_go_to_a_fresh_one(monkeypatch):
    """An item that kills its worker can break the pool before the rest of its batch was
    handed over (the pool then refuses them): those have not started, so a fresh pool
    takes them, in the same batch, with no attempt charged (a stand-in pool that breaks
    after taking one item)."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    class BreaksAfterOne:
        def __init__(self):
            self.taken = 0

        def submit(self, fn, *args):
            self.taken += 1
            if self.taken > 1:
                raise BrokenProcessPool("a child process terminated abruptly")
            done = Future()
            done.set_result(fn(*args))
            return done

    ex = LocalExecutor(workers=2)
    made = []

    def make_pool():
        if ex._pool is None:
            ex._pool = BreaksAfterOne()
            made.append(ex._pool)
        return ex._pool

    monkeypatch.setattr(ex, "_make_pool", make_pool)
    outcomes = sorted(ex.map_unordered(square, [2, 3, 4]), key=lambda o: o.index)
    assert [o.value for o in outcomes] == [4, 9, 16]
    assert [o.attempts for o in outcomes] == [1, 1, 1] and len(made) == 3


class _Worker:
    """A stand-in worker process: alive until terminated."""

    def __init__(self):
        import threading

        self.ended = threading.Event()

    def terminate(self):
        self.ended.set()


class _BrokenPool:
    """A stand-in for a pool a worker's death broke, in the state CPython's clean-up can
    leave it in: one worker started by a submit under way after the clean-up terminated
    the others, and a manager thread that waits for every worker to end (as its
    ``join_executor_internals`` does). ``shutdown`` forgets the worker table, as
    CPython's does."""

    def __init__(self):
        import threading

        self._broken = "A child process terminated abruptly"
        self._processes = {1: _Worker(), 2: _Worker()}  # 2: started late, never ended
        self._processes[1].terminate()  # the clean-up ended the workers it knew of
        workers = list(self._processes.values())
        self._executor_manager_thread = threading.Thread(
            target=lambda: all(w.ended.wait(timeout=60) for w in workers), daemon=True
        )
        self._executor_manager_thread.start()
        self.shutdowns = []

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.shutdowns.append(wait)
        if wait:
            self._executor_manager_thread.join()
        self._processes = None


@pytest.mark.parametrize("how", ["discard", "close"])
def test_a_broken_pool_ends_every_worker_it_started(how):
    """CPython marks a broken pool broken without the lock its submit holds, so a submit
    under way can start a worker after the clean-up ended the others; the pool's
    manager thread (and the interpreter's exit) then waits for it forever. Discarding or
    closing a broken pool ends every worker in its table, that one included, and does
    not wait for anything before (a stand-in pool in that state)."""
    import threading

    pool = _BrokenPool()
    workers = list(pool._processes.values())
    ex = LocalExecutor(workers=2)
    ex._pool = pool
    done = threading.Thread(
        target=ex._discard_pool if how == "discard" else ex.close,
        args=(pool,) if how == "discard" else (),
        daemon=True,
    )
    done.start()
    done.join(timeout=30)
    assert not done.is_alive(), "it waited for a worker that nothing ends"
    assert all(w.ended.is_set() for w in workers)
    assert pool.shutdowns[0] is False  # no worker can start after this, nothing waited
    pool._executor_manager_thread.join(timeout=30)
    assert not pool._executor_manager_thread.is_alive() and ex._pool is None


def test_local_pool_reports_an_item_that_always_kills_its_worker(local_pool, tmp_path):
    items = [
        {"marker": str(tmp_path / "a"), "die": "always", "value": 1},
        {"marker": str(tmp_path / "b"), "value": 2},
    ]
    outcomes = {o.index: o for o in local_pool.map_unordered(die_once, items)}
    assert outcomes[0].lost and outcomes[0].attempts == 2
    assert "WorkerLost" in outcomes[0].error
    # retries run one at a time: the item that shared the pool with it is not charged
    assert outcomes[1].ok and outcomes[1].value == 2


def test_local_executor_refuses_plain_fork():
    with pytest.raises(InvalidArgument, match="forkserver or spawn"):
        LocalExecutor(workers=1, method="fork")


def test_dask_local_cluster_runs_items(monkeypatch):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with get_executor("dask", 2) as ex:
        outcomes = sorted(ex.map_unordered(fail_on_three, [1, 2, 3]), key=lambda o: o.index)
        assert ex.describe()["address"] is None and ex.shared_filesystem
        assert ex.background and ex.submit(square, 7).result(timeout=120) == 49
        # Dask's own default (65536) makes every evaluating thread re-fault its memory
        # (verification._executors.dask_client.WORKER_ENVIRON): not set for our workers
        assert [o.value for o in ex.map_unordered(trim_threshold, [0, 1])] == [None, None]
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ  # nor left in the driver's
    assert [o.value for o in outcomes[:2]] == [1, 2]
    assert outcomes[2].error == "ValueError: three is not welcome"


def test_submitit_local_runs_items(tmp_path, monkeypatch):
    pytest.importorskip("submitit", reason="the slurm extra is not installed")
    # the jobs are fresh interpreters: they import this module by name
    here = str(Path(__file__).parent)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    )
    ex = get_executor("slurm", 2, folder=tmp_path, cluster="local", time=5, poll=0.2)
    outcomes = sorted(ex.map_unordered(fail_on_three, [2, 3]), key=lambda o: o.index)
    assert outcomes[0].value == 2
    # the job's own exception, not retried (only a job that did not finish is)
    assert outcomes[1].error == "RuntimeError: ValueError: three is not welcome"
    assert outcomes[1].attempts == 1
    assert any(tmp_path.rglob("*.out")) or any(tmp_path.rglob("*.pkl"))


class _FakeJob:
    """A submitit job as the SLURM executor sees it: done(), result(), cancel()."""

    def __init__(self, job_id, fn, args, fate):
        self.job_id, self.fn, self.args, self.fate = job_id, fn, args, fate
        self.cancelled = False

    def done(self):
        return True

    def result(self):
        from submitit.core.utils import FailedJobError, UncompletedJobError

        if self.fate == "killed":
            raise UncompletedJobError(f"job {self.job_id} was killed by the scheduler")
        if self.fate == "failed":
            raise FailedJobError("Traceback (most recent call last):\nValueError: boom")
        return self.fn(*self.args)

    def cancel(self, check=True):
        self.cancelled = True


class _FakeAutoExecutor:
    """Stands in for submitit.AutoExecutor on a SLURM cluster: records the parameters and
    the job arrays; ``fates`` says how each submission of an item ends."""

    arrays: ClassVar[list] = []
    parameters: ClassVar[dict] = {}
    fates: ClassVar[dict] = {}

    def __init__(self, folder, cluster=None):
        self.cluster = "slurm"
        self.folder = folder

    def update_parameters(self, **params):
        type(self).parameters = params

    def map_array(self, fn, *iterables):
        jobs = []
        for args in zip(*iterables, strict=True):
            item = args[1]
            fate = self.fates.get(item, ["ok"]).pop(0) if self.fates.get(item) else "ok"
            jobs.append(_FakeJob(f"{len(self.arrays)}_{len(jobs)}", fn, args, fate))
        type(self).arrays.append(jobs)
        return jobs


def test_slurm_job_arrays_parameters_and_retries(monkeypatch, tmp_path):
    submitit = pytest.importorskip("submitit", reason="the slurm extra is not installed")
    # items 2 and 3: their jobs are killed once and twice; item 4's job raises
    _FakeAutoExecutor.arrays = []
    _FakeAutoExecutor.fates = {2: ["killed"], 3: ["killed", "killed"], 4: ["failed"]}
    monkeypatch.setattr(submitit, "AutoExecutor", _FakeAutoExecutor)
    ex = get_executor(
        "slurm", 3, 2, folder=tmp_path, partition="gpu", time=30, gpus=1,
        options={"slurm_account": "lab"}, poll=0,
    )  # fmt: skip
    outcomes = {o.index: o for o in ex.map_unordered(square, [1, 2, 3, 4])}
    assert _FakeAutoExecutor.parameters == {
        "timeout_min": 30,
        "cpus_per_task": 2,
        "name": "sith-sweep",
        "slurm_array_parallelism": 3,
        "slurm_partition": "gpu",
        "gpus_per_node": 1,
        "slurm_account": "lab",
    }
    # one array for all items, then one for the items whose jobs were killed
    assert [len(a) for a in _FakeAutoExecutor.arrays] == [4, 2]
    assert outcomes[0].value == 1 and outcomes[0].attempts == 1
    assert outcomes[1].value == 4 and outcomes[1].attempts == 2  # killed once, resubmitted
    assert outcomes[2].lost and outcomes[2].attempts == 2
    assert "killed by the scheduler" in outcomes[2].error
    assert outcomes[3].error == "RuntimeError: ValueError: boom" and not outcomes[3].lost


def test_a_slurm_job_that_leaves_the_queue_without_accounting_is_lost(monkeypatch, tmp_path):
    """Without SLURM accounting, submitit sees a cancelled job as UNKNOWN forever: the
    executor declares it lost once squeue no longer lists it and no result appeared
    (found on a single-node SLURM without a database, where a scancel hung a sweep)."""
    pytest.importorskip("submitit", reason="the slurm extra is not installed")
    import verification._executors.slurm as E

    class Paths:
        def __init__(self, name):
            self.result_pickle = tmp_path / f"{name}_result.pkl"

    class Job:
        state = "UNKNOWN"

        def __init__(self, job_id):
            self.job_id, self.paths = job_id, Paths(job_id)

        def done(self, force_check=False):
            return False

    gone, queued, finished = Job("7_0"), Job("7_1"), Job("7_2")
    finished.paths.result_pickle.write_bytes(b"")
    monkeypatch.setattr(E, "VANISH_EVERY", 0.0)
    monkeypatch.setattr(E, "VANISH_GRACE", 0.0)
    monkeypatch.setattr(E, "_squeue_ids", lambda: {"7_1"})
    ex = E.SlurmExecutor(2, 1, cluster="local")
    running = {gone: 0, queued: 1, finished: 2}
    assert ex._vanished(running, {}) == [gone]
    monkeypatch.setattr(E, "_squeue_ids", lambda: None)  # squeue failed: no evidence
    assert ex._vanished(running, {}) == []
    monkeypatch.setattr(E, "VANISH_GRACE", 3600.0)  # missing, but not for long enough
    monkeypatch.setattr(E, "_squeue_ids", lambda: set())
    assert ex._vanished(running, {}) == []
