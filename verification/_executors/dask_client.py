"""The Dask executor: items as tasks of a ``distributed.Client``.

Private: the public names live in :mod:`verification.executors`."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from theory.errors import InvalidArgument
from verification._executors import warm
from verification._executors.base import Executor, WorkerLost, _pinned_call, require_extra

#: Dask configuration for the workers of the LocalCluster this executor starts. Dask
#: starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (its
#: ``distributed.nanny.pre-spawn-environ``), so glibc hands freed memory above 64 KiB
#: back to the kernel at once. A worker evaluates in a thread, whose malloc arena then
#: returns and re-faults its tensors' pages on every training step: measured on 24
#: cl-ica evaluations (2 workers, 2 cores), 0.76 million minor page faults and 1.2 s of
#: system time in the evaluating threads against about 10 thousand and 0.1 s without
#: the setting (as in a local pool's workers), and the whole batch 15-20 % slower.
#: None unsets it (Dask's documented way); an explicit ``MALLOC_TRIM_THRESHOLD_`` in
#: the environment still wins. Workers that a remote scheduler's ``dask worker`` starts
#: read their own configuration: docs/scaling.md says how to do the same there.
WORKER_ENVIRON = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


class DaskExecutor(Executor):
    """Items as tasks of a Dask cluster: ``address`` (``tcp://host:8786``) or, without one,
    a ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1.

    ``shared_filesystem``: whether the workers see this machine's files (a LocalCluster
    does; for a remote scheduler the default is False: results come back to the driver,
    which writes them).

    Workers are warmed once, when the client connects: each imports torch,
    sith's executors and ``preload`` and pins its threads (``Client.run``, on all
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

                import dask

                # no trimming setting of Dask's own for the workers (see WORKER_ENVIRON)
                with dask.config.set(WORKER_ENVIRON):
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

    background = True

    def submit(self, fn, item):
        """``fn(item)`` on a Dask worker, in the background: a Dask future."""
        return self._ensure_client().submit(_pinned_call, fn, item, self.threads, pure=False)

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        for thing in (client, cluster):
            if thing is not None:
                with contextlib.suppress(Exception):
                    thing.close()
