"""Run a (sympy) computation with a wall-clock limit that cannot be swallowed.

The computation runs in a forked child process; the parent waits for its answer at most
``seconds`` and kills the child (SIGKILL) when the time is up. Unlike a SIGALRM timer
this works off the main thread, cannot be swallowed by code that catches exceptions
(a gc callback, a broad ``except``), and leaves the caller's own timers and signal
handlers (pytest-timeout, a user's watchdog) untouched.

The child's answer comes back as JSON, so ``fn`` must return JSON-able values (tuples
come back as lists). An exception in the child comes back as :class:`ChildError` with
its type and message.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from theory.errors import InvalidArgument

_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class TimeLimitExceeded(Exception):
    pass


class NoTimeLimitHere(TimeLimitExceeded):
    """No way to bound the call on this platform (no ``os.fork``)."""


class ChildError(Exception):
    """The computation raised in the child; the message is 'TypeName: message'."""


def time_limited(fn: Callable[[], Any], seconds: float) -> Any:
    """Return ``fn()``, computed in a child process killed after ``seconds``.

    ``seconds = inf`` runs ``fn`` in this process, without a limit.
    """
    if not isinstance(seconds, (int, float)) or math.isnan(seconds) or seconds < 0:
        raise InvalidArgument(f"time limit must be a number >= 0 (or inf), got {seconds!r}")
    if seconds == math.inf:
        return fn()
    if seconds == 0:
        raise TimeLimitExceeded("time limit is 0 s")
    if not hasattr(os, "fork"):
        raise NoTimeLimitHere("no os.fork on this platform: cannot bound the computation")
    read_end, write_end = os.pipe()
    pid, held = fork_holding_signals()
    if pid == 0:  # the child: compute, answer, and leave without running any cleanup
        code = 0
        try:
            os.close(read_end)
            for signum in _HELD_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            try:
                answer = ["ok", fn()]
            except BaseException as err:
                answer = ["error", f"{type(err).__name__}: {err}"]
            try:
                payload = json.dumps(answer, allow_nan=True).encode()
            except (TypeError, ValueError) as err:
                payload = json.dumps(["error", f"unserialisable result: {err}"]).encode()
            view = memoryview(payload)
            while view:
                view = view[os.write(write_end, view) :]
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    os.close(write_end)
    try:
        payload = _read_until(read_end, time.monotonic() + seconds)
    finally:
        os.close(read_end)
        _reap(pid)
    if payload is None:
        raise TimeLimitExceeded(f"exceeded {seconds:g} s")
    if not payload:
        raise ChildError("the computation's process died without an answer")
    status, value = json.loads(payload)
    if status == "error":
        raise ChildError(value)
    return value


def fork_holding_signals() -> tuple[int, Any]:
    """``os.fork()`` with Ctrl-C and SIGTERM held across it: a KeyboardInterrupt raised
    inside the interpreter's at-fork handlers would be swallowed ("Exception ignored"),
    and the stop lost. Returns ``(pid, mask)``: parent and child each restore ``mask``
    (``signal.pthread_sigmask(signal.SIG_SETMASK, mask)``) once their handlers are set,
    and the held signals are delivered then, at a safe point."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        return os.fork(), held
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise


def _read_until(fd: int, deadline: float) -> bytes | None:
    """Everything written to ``fd`` until EOF, or None when ``deadline`` passes first."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int) -> None:
    """Kill the child if it still runs, and collect it (no zombie left behind)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except ChildProcessError:  # already collected
        pass
