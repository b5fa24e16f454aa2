"""The order a sweep hands its evaluations to a pool: longest first, as measured.

A pool of ``w`` workers finishes when its last worker does. Started in the order of the
settings, a sweep over sizes ends with its slowest items (the largest batch, dimension
or step count comes last), one worker computing while the others idle. Longest
processing time first (Graham, 1969, "Bounds on multiprocessing timing anomalies",
SIAM J. Appl. Math. 17(2)) keeps the finish within 4/3 of the best possible, and in
practice close to it: the short items fill the gaps at the end.

The times are not known before the sweep runs, so :class:`LongestFirst` learns them:
the first seed of every setting goes first (each setting's time is known early), then
the items of the slowest setting measured so far; a setting started but not measured
yet counts as the slowest. It orders work only: every evaluation is the same whatever
its place, and the rows keep the settings' order.
"""

from __future__ import annotations

from collections.abc import Sequence


class LongestFirst:
    """``order`` for :meth:`~verification.executors.Executor.map_unordered`: items
    (indices) grouped by setting, ``setting_of[i]`` the setting of item ``i``."""

    def __init__(self, setting_of: Sequence[int]) -> None:
        self.setting_of = list(setting_of)
        self.started: set[int] = set()
        self.seconds: dict[int, list[float]] = {}

    def record(self, index: int, seconds: float) -> None:
        """Item ``index`` took ``seconds`` (an evaluation's own time)."""
        self.seconds.setdefault(self.setting_of[index], []).append(float(seconds))

    def estimate(self, setting: int) -> float:
        """The mean measured seconds of ``setting``; infinite while none is measured."""
        times = self.seconds.get(setting)
        return sum(times) / len(times) if times else float("inf")

    def __call__(self, pending: Sequence[int]) -> int:
        """The item to start next: the first of a setting not started yet, else the
        first of the slowest setting (ties: the earlier item)."""
        fresh = [i for i in pending if self.setting_of[i] not in self.started]
        if fresh:
            chosen = fresh[0]
        else:
            chosen = min(pending, key=lambda i: (-self.estimate(self.setting_of[i]), i))
        self.started.add(self.setting_of[chosen])
        return chosen


__all__ = ["LongestFirst"]
