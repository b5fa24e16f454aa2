"""The local executor: a process pool on this machine (forkserver, else spawn).

Private: the public names live in :mod:`verification.executors`."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future
from typing import Any

from theory.errors import InvalidArgument
from verification._executors import warm
from verification._executors.base import Executor, WorkerLost, _pinned_call


class LocalExecutor(Executor):
    """A pool of ``workers`` processes on this machine (forkserver, else spawn).

    ``preload``: modules the forkserver imports once (torch, sith's executors, and
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
        # the pool's first items go through a starter thread (see submit)
        self._starting_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._starter = None
        self._started = False
        if method == "forkserver":
            warm.start_forkserver(self.preload, self.threads)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "method": self.method}

    @property
    def starting(self) -> bool:
        """True until the pool is made: its workers then start, as forks of a forkserver
        that may still be importing torch (ready about 1.2 s after the ``sith``
        command's start on 2 cores)."""
        return self._pool is None

    def _ensure_pool(self):
        with self._pool_lock:  # the starter thread and the caller may both get here
            return self._make_pool()

    def _make_pool(self):
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context(self.method)
            if self.method == "forkserver":
                warm.start_forkserver(self.preload, self.threads)  # no-op when already running
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

        futures: dict = {}  # future -> (index, the pool running it)
        pending = iter(indexed)
        # every worker busy and one item waiting, so that a worker that frees takes the
        # next at once; the rest is chosen when a place frees (see map_unordered's order)
        window = self.workers + 1

        def top_up() -> None:
            while len(futures) < window:
                following = next(pending, None)
                if following is None:
                    return
                pool, future = self._submit_to_pool(fn, following[1])
                futures[future] = (following[0], pool)

        try:
            top_up()
            while futures:
                done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                for future in done:
                    index, pool = futures.pop(future)
                    try:
                        value = future.result()
                    except BrokenProcessPool:
                        self._discard_pool(pool)
                        yield index, None, WorkerLost("a worker process died")
                    except Exception as err:
                        yield index, None, err
                    else:
                        yield index, value, None
                    top_up()
        except BaseException:
            self.close(kill=True)
            raise
        finally:
            if futures:  # left behind by a stop: never leave them to run
                for future in futures:
                    future.cancel()

    background = True

    def submit(self, fn, item):
        """``fn(item)`` on a worker, in the background: a concurrent.futures Future.

        Does not wait for the first pool to start: until its first worker is up (the
        forkserver may still be importing torch, seconds), items go to the pool from a
        starter thread and the caller gets a future at once, so a search computes its own
        candidate meanwhile. (A pool started again after a worker's death starts in the
        caller's thread: a fork of the warm forkserver, milliseconds.)"""
        with self._starting_lock:
            if self._started:
                return self._submit_now(fn, item)
            if self._starter is None:
                from concurrent.futures import ThreadPoolExecutor

                self._starter = ThreadPoolExecutor(1, thread_name_prefix="sith-pool-start")
            outer: Future = Future()
            self._starter.submit(self._forward, fn, item, outer)
            return outer

    def _forward(self, fn, item, outer: Future) -> None:
        """The starter thread: hand ``item`` to the pool (which starts its workers), and
        ``outer`` follows the pool's future."""
        if not outer.set_running_or_notify_cancel():  # cancelled while waiting here
            return
        try:
            inner = self._submit_now(fn, item)
        except BaseException as err:
            outer.set_exception(err)
            return
        self._started = True
        inner.add_done_callback(lambda done: _copy_outcome(done, outer))

    def _submit_now(self, fn, item):
        return self._submit_to_pool(fn, item)[1]

    def _submit_to_pool(self, fn, item):
        """``(pool, future)`` of ``item`` handed to the pool. A pool that a worker's death
        broke (an item sent earlier, in this batch or before) takes nothing more: a fresh
        one takes the item, which has not started, so no attempt is charged for it."""
        from concurrent.futures.process import BrokenProcessPool

        pool = self._ensure_pool()
        try:
            return pool, pool.submit(_pinned_call, fn, item, self.threads)
        except BrokenProcessPool:
            self._discard_pool(pool)
            pool = self._ensure_pool()
            return pool, pool.submit(_pinned_call, fn, item, self.threads)

    def _discard_pool(self, broken) -> None:
        """A broken pool cannot be used again: the next item starts a fresh one (unless
        another thread has replaced ``broken`` already). Its workers are ended
        (:func:`_end_broken_pool`)."""
        with self._pool_lock:
            if self._pool is broken:
                self._pool = None
        _end_broken_pool(broken, wait=False)

    def close(self, kill: bool = False) -> None:
        """Stop the pool (idempotent); ``kill``: terminate the items running (an
        interrupt). The items still on their way to a starting pool get there first, so
        none is lost: a close in the pool's first seconds waits for it to start."""
        with self._starting_lock:
            starter, self._starter = self._starter, None
        if starter is not None:
            starter.shutdown(wait=True)
        with self._starting_lock:  # after the starter: it may have set it meanwhile
            self._started = False
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if getattr(pool, "_broken", False):  # a worker died since the last batch
            _end_broken_pool(pool, wait=True)
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        if kill:  # an interrupt: stop the evaluations in flight at once
            for process in processes:
                with contextlib.suppress(Exception):
                    process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _end_broken_pool(pool, wait: bool) -> None:
    """Shut ``pool`` (broken: one of its workers died) down and terminate every worker it
    started; ``wait``: until its manager thread has finished.

    CPython's own clean-up of a broken pool (``concurrent.futures.process``,
    ``terminate_broken``, 3.11) marks it broken without the lock that ``submit`` holds,
    so a submit already under way can start a worker after the clean-up terminated the
    others. The manager thread then waits for that idle worker forever, and so does the
    interpreter's exit (seen: a test run that printed its summary and never exited).
    ``shutdown`` takes that lock, so no worker starts after it; every worker in the
    pool's table, a late one included, is then terminated."""
    processes = getattr(pool, "_processes", None) or {}  # shutdown forgets the table
    manager = getattr(pool, "_executor_manager_thread", None)
    with contextlib.suppress(Exception):
        pool.shutdown(wait=False, cancel_futures=True)
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            process.terminate()
    if wait and manager is not None:
        manager.join()


def _copy_outcome(done: Future, outer: Future) -> None:
    """``outer`` ends as ``done`` did (a pool future cancelled: CancelledError)."""
    if done.cancelled():
        outer.set_exception(CancelledError())
    elif done.exception() is not None:
        outer.set_exception(done.exception())
    else:
        outer.set_result(done.result())
