"""Shrinking on two cores: a fork of the search computes the shrinker's next step.

Hypothesis shrinks a counterexample one candidate at a time, each chosen after the last
one's outcome, so a search cannot ask for two shrinking candidates at once. But the
shrinker is deterministic: given that the candidate being computed now (``current``)
is *no* counterexample, the candidate it asks for next is fixed. Replaying the round to
find it costs a second or more of hypothesis and candidate building (issue 25 measured
it), as much as an evaluation. A fork costs milliseconds and needs no replay: the child
is the search itself, in the middle of the round.

So, while the search computes ``current`` itself, :func:`start` forks it. The child
(:meth:`Shadow.step`, called by the round's test in place of the real one) takes
``current`` as no counterexample, lets hypothesis go on, judges each candidate the
search already knows as the round judges it, and at the first one nobody has computed
sends its store key up the pipe, evaluates it (as a pool worker does:
:func:`verification._runs.worker.evaluate`), sends the answer, and leaves
(``os._exit``: no clean-up, no report, nothing of the parent's touched). About half of
a shrinker's attempts are no counterexample (issue 25: 9 of 12 predictions right in the
default cl-ica search), so about half the time the search finds its next evaluation
done; otherwise the child is killed as soon as ``current`` turns out a counterexample.

The parent never trusts the child more than a worker: its answer is read like a
worker's (:func:`~verification._runs.worker.read_answer`), and it is taken only when
the search asks for that very key, so records, counterexamples and reports are those
of the serial search. The child computes with as many threads as a pool worker (one by default: it shares
the machine with the search and its pool), and leaves Ctrl-C to the parent, which ends
it. No fork is made once the search's process has initialised CUDA (a forked child
cannot use it): a search training on a GPU shrinks one candidate at a time, as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from verification._runs.evaluator import Evaluator
from verification._runs.records import Evaluation
from verification._timelimit import fork_holding_signals
from verification.spaces import Candidate

#: how long the search waits for its fork to name the candidate it computes (the fork
#: only replays hypothesis steps before it does: milliseconds)
ANNOUNCE_SECONDS = 30.0


#: every fork not collected yet: ended by :func:`end_all` whatever happened to its handle
#: (a Ctrl-C between the fork and its handle being kept, or while it is waited for)
_LIVE: dict[int, Shadow] = {}


def end_all() -> None:
    """End and collect every fork of this process not collected yet."""
    for shadow in list(_LIVE.values()):
        shadow.kill()


class Shadow:
    """The parent's handle on a forked continuation of the round (see the module
    docstring): ``key()`` names the candidate it computes (None: none, the round ended
    or its budget was spent first), ``done()``, ``result()`` (a worker's answer, or an
    exception) and ``kill()``."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self._buffer = b""
        self._key: str | None = None
        self._announced = False
        self._eof = False
        self._reaped = False
        _LIVE[pid] = self

    # --- the parent's side -------------------------------------------------------------

    def _read(self, timeout: float | None) -> bool:
        """Read what the child wrote (waiting at most ``timeout``); False when nothing
        more came in time."""
        if self._eof or self._reaped:  # (its pipe is closed once collected)
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def key(self, wait: float = ANNOUNCE_SECONDS) -> str | None:
        """The store key of the candidate the child computes, waiting at most ``wait``
        seconds for the child to name it; None when it names none (yet), or has died."""
        deadline = time.monotonic() + wait
        while not self._announced and b"\n" not in self._buffer:
            left = max(0.0, deadline - time.monotonic())
            if not self._read(left) and (self._eof or left == 0):
                break
        if not self._announced and b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self._announced = True
            try:
                self._key = json.loads(line).get("key")
            except (ValueError, AttributeError):
                self._key = None
        return self._key

    def done(self) -> bool:
        while self._read(0):
            pass
        return self._eof or self._reaped

    def result(self, timeout: float | None = None) -> dict[str, Any]:
        """The child's answer (``{"evaluation": ..., "fresh": ...}``, as a worker's),
        waiting for it (at most ``timeout`` seconds, then the child is ended); raises
        when the child died without one."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.key(ANNOUNCE_SECONDS if timeout is None else min(ANNOUNCE_SECONDS, timeout))
        while self._read(None if deadline is None else max(0.0, deadline - time.monotonic())):
            pass
        if not self._eof:  # out of time: a stuck child is not waited for
            self.kill()
            raise RuntimeError(f"the search's fork gave no answer within {timeout:g} s")
        self._reap()
        try:
            answer = json.loads(self._buffer)
        except ValueError:
            raise RuntimeError("the search's fork died without an answer") from None
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def cancel(self) -> bool:
        self.kill()
        return True

    def kill(self) -> None:
        """End the child (if it still runs) and collect it."""
        if not self._reaped:  # its group: the fork and the sympy children it forked
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self._reap()

    def _reap(self) -> None:
        if self._reaped:
            return
        self._reaped = True
        _LIVE.pop(self.pid, None)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)


def start() -> tuple[Shadow | None, int | None]:
    """Fork the search. In the parent: ``(Shadow, None)`` (or ``(None, None)`` where this
    platform cannot fork); in the child: ``(None, write_fd)``, and the caller goes on as
    :class:`ShadowRound`."""
    if not hasattr(os, "fork"):
        return None, None
    read_end, write_end = os.pipe()
    try:
        pid, held = fork_holding_signals()
    except BaseException:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:
        os.close(read_end)
        os.setpgid(0, 0)  # a group of its own: killing it ends its sympy children too
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it ends us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return None, write_end
    os.close(write_end)
    shadow = Shadow(pid, read_end)  # kept (``_LIVE``) before Ctrl-C can land
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return shadow, None


class ShadowRound:
    """The child's side: the rest of the round, as the search would run it if
    ``current`` were no counterexample, until the first candidate nobody computed."""

    def __init__(
        self,
        fd: int,
        evaluator: Evaluator,
        current: str,
        until: int,
        compute: Callable[[Candidate], dict[str, Any]],
        fresh_only: Callable[[str], bool],
        running_elsewhere: Callable[[str], bool],
    ) -> None:
        self.fd, self.evaluator, self.current, self.until = fd, evaluator, current, until
        self.compute, self.fresh_only = compute, fresh_only
        self.running_elsewhere = running_elsewhere
        # evaluations the search holds once ``current`` is computed (the budget's count)
        self.touched = len(evaluator.records) + 1
        self.counted = {current}

    def step(self, candidate: Candidate, judge: Callable[[Evaluation], None]) -> None:
        """The round's test in the child: judge what is known (its verdict raised as the
        round raises it, so hypothesis shrinks as in the search), compute the first
        candidate that is not, and leave.

        The budget is counted as the search counts it: every key it has not touched yet
        joins its records once asked for, and one that is new to the run (not in the
        store, or only looked ahead) is not computed once the phase's budget is spent."""
        try:
            key = self.evaluator.key(candidate)
            if key == self.current:
                return  # taken as no counterexample
            known = self.evaluator.records.get(key)
            if known is None:
                if self.running_elsewhere(key):
                    self.leave(None)  # the pool computes it: the search waits for that
                cached = self.evaluator.cached(candidate)
                new_here = cached is None or self.fresh_only(key)
                if new_here and self.touched >= self.until:
                    self.leave(None)  # the search's budget ends here: it computes nothing
                if cached is None:
                    self._send({"key": key})
                    self.leave(self.compute(candidate))
                known = cached
                if key not in self.counted:
                    self.counted.add(key)
                    self.touched += 1
        except Exception as err:  # anything unexpected: no answer, and out
            self.leave(None, error=f"{type(err).__name__}: {err}")
        judge(known)

    def _send(self, message: dict[str, Any]) -> None:
        view = memoryview(json.dumps(message, allow_nan=True).encode() + b"\n")
        while view:
            view = view[os.write(self.fd, view) :]

    def leave(self, answer: dict[str, Any] | None, error: str | None = None) -> None:
        """Send what there is (nothing named yet: no key) and end this process."""
        code = 0
        try:
            if answer is None:
                self._send({"key": None} if error is None else {"key": None, "error": error})
            else:
                self._send(answer)
        except BaseException:
            code = 1
        finally:
            os._exit(code)

