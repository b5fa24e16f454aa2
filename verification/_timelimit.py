"""Run a (sympy) computation with a wall-clock limit."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class TimeLimitExceeded(Exception):
    pass


class NoTimeLimitHere(TimeLimitExceeded):
    """No way to bound the call here (not the main thread, or no SIGALRM)."""


def time_limited(fn: Callable[[], T], seconds: float) -> T:
    """Call ``fn`` and abort it after ``seconds`` (SIGALRM; main thread on Unix only).

    Elsewhere (worker threads, Windows) the call runs without a limit only when
    ``seconds`` is infinite; otherwise TimeLimitExceeded is raised at once, so a
    symbolic attempt is skipped rather than allowed to hang.
    """
    if seconds == float("inf"):
        return fn()
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        raise NoTimeLimitHere("no time limit available here (not the main thread?)")

    def _raise(signum, frame):
        raise TimeLimitExceeded(f"exceeded {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
