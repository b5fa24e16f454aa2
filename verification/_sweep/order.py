"""The order a sweep hands its evaluations to a pool: longest first, as measured.

A pool of ``w`` workers finishes when its last worker does. Started in the order of the
settings, a sweep over sizes ends with its slowest items (the largest batch, dimension
or step count comes last), one worker computing while the others idle. Longest
processing time first keeps the finish within 4/3 of the best possible (Graham, 1969,
"Bounds on multiprocessing timing anomalies", SIAM J. Appl. Math. 17(2): the bound as
textbooks state it; not checked against the paper's text here), and in practice close
to it: the short items fill the gaps at the end.

The times are not known before the sweep runs, so :class:`LongestFirst` learns them:
the first seed of every setting goes first (each setting's time is known early), then
the items of the slowest setting measured so far; a setting started but not measured
yet counts as the slowest. It orders work only: every evaluation is the same whatever
its place, and the rows keep the settings' order.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Collection, Sequence


class LongestFirst:
    """``order`` for :meth:`~verification.executors.Executor.map_unordered`: items
    (indices) grouped by setting, ``setting_of[i]`` the setting of item ``i``.

    A sweep may hold thousands of items: each setting keeps its items in a queue and
    the sum of its measured times, and the started settings wait in a heap by their
    estimate, so a choice costs a logarithm of the settings, not a scan of the items."""

    def __init__(self, setting_of: Sequence[int]) -> None:
        self.setting_of = list(setting_of)
        self.queues: dict[int, deque[int]] = {}
        for index, setting in enumerate(self.setting_of):
            self.queues.setdefault(setting, deque()).append(index)
        self.unstarted = deque(self.queues)  # settings, in their order
        self.totals: dict[int, tuple[float, int]] = {}  # setting -> (seconds, count)
        self.heap: list[tuple[float, int, int, int]] = []  # (-estimate, item, setting, version)
        self.version: dict[int, int] = {}  # a setting's live heap entry

    def record(self, index: int, seconds: float) -> None:
        """Item ``index`` took ``seconds`` (an evaluation's own time)."""
        setting = self.setting_of[index]
        total, count = self.totals.get(setting, (0.0, 0))
        self.totals[setting] = (total + float(seconds), count + 1)
        queue = self.queues.get(setting)
        if setting in self.version and queue:
            self._push(setting, queue[0])  # its new estimate

    def estimate(self, setting: int) -> float:
        """The mean measured seconds of ``setting``; infinite while none is measured."""
        total, count = self.totals.get(setting, (0.0, 0))
        return total / count if count else float("inf")

    def __call__(self, pending: Collection[int]) -> int:
        """The item to start next: the first of a setting not started yet, else the
        first of the slowest setting (ties: the earlier item); the first pending item
        where no queue holds one (a retry of an item handed out before)."""
        while self.unstarted:
            setting = self.unstarted.popleft()
            chosen = self._first_pending(setting, pending)
            if chosen is not None:
                return self._take(setting, chosen)
        while self.heap:
            _, first, setting, version = heapq.heappop(self.heap)
            if self.version.get(setting) != version:
                continue  # replaced by a newer entry
            current = self._first_pending(setting, pending)
            if current is None:
                del self.version[setting]
            elif current != first:
                self._push(setting, current)
            else:
                return self._take(setting, current)
        return next(iter(pending))

    def _first_pending(self, setting: int, pending: Collection[int]) -> int | None:
        queue = self.queues.get(setting)
        while queue and queue[0] not in pending:  # handed out already
            queue.popleft()
        return queue[0] if queue else None

    def _take(self, setting: int, index: int) -> int:
        queue = self.queues[setting]
        queue.popleft()  # index, the first pending of its queue
        if queue:
            self._push(setting, queue[0])
        else:
            self.version.pop(setting, None)
        return index

    def _push(self, setting: int, first: int) -> None:
        version = self.version.get(setting, 0) + 1
        self.version[setting] = version
        heapq.heappush(self.heap, (-self.estimate(setting), first, setting, version))


__all__ = ["LongestFirst"]
