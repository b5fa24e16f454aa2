"""The exact sympy attempt's time limit: it cannot hang, be swallowed, or touch the
caller's timers and signal handlers (it runs in a child process killed at the limit)."""

import gc
import math
import signal
import threading
import time

import pytest
import sympy as sp

import theory as th
from theory.errors import InvalidArgument
from verification import check
from verification._timelimit import ChildError, TimeLimitExceeded, time_limited

pytestmark = pytest.mark.timeout(60)  # no case may hang

z1, z2 = sp.symbols("z1 z2", real=True)
FAST = {"n_points": 64, "adversarial_steps": 5}


def test_a_result_comes_back_and_an_error_is_named():
    assert time_limited(lambda: ["proved", [1, 2, 0.5]], 5) == ["proved", [1, 2, 0.5]]
    with pytest.raises(ChildError, match="ZeroDivisionError"):
        time_limited(lambda: 1 / 0, 5)
    assert time_limited(lambda: 7, math.inf) == 7  # no limit: runs here


def test_a_hang_is_cut_at_the_limit():
    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        time_limited(lambda: time.sleep(60), 0.3)
    assert time.monotonic() - start < 5


def test_a_limit_cannot_be_swallowed_by_code_that_catches_everything():
    def stubborn():
        while True:
            try:
                time.sleep(60)
            except BaseException:  # what a gc callback or a broad except would do
                continue

    gc.callbacks.append(lambda *args: None)
    try:
        start = time.monotonic()
        with pytest.raises(TimeLimitExceeded):
            time_limited(stubborn, 0.3)
        assert time.monotonic() - start < 5
    finally:
        gc.callbacks.pop()


@pytest.mark.parametrize("bad", [math.nan, -1.0, "2"])
def test_bad_limits_are_refused(bad):
    with pytest.raises(InvalidArgument):
        time_limited(lambda: 1, bad)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX timers")
def test_the_callers_timer_and_handler_are_left_alone():
    fired = []

    def handler(signum, frame):
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.5)
        with pytest.raises(TimeLimitExceeded):
            time_limited(lambda: time.sleep(60), 0.2)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining < 1.5  # still armed, not cancelled
        assert signal.getsignal(signal.SIGALRM) is handler
        time.sleep(remaining + 0.3)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_slow_exact_attempt_leaves_a_numeric_verdict_in_time(monkeypatch):
    from verification.checks import jacobian as checks

    monkeypatch.setattr(checks, "_prove_jacobian", lambda *a: time.sleep(60))
    g = th.mixings.Symbolic([z1 + z2**3, z2], [z1, z2])
    p = th.Process(th.latents.Uniform(2), g)
    start = time.monotonic()
    e = check(th.assumptions.VolumePreserving(), p, time_limit=0.3, **FAST)
    assert time.monotonic() - start < 20
    assert e.verdict == "holds" and "undecided within the 0.3 s time limit" in e.message


def test_a_failing_exact_attempt_is_never_silent(monkeypatch):
    from verification.checks import jacobian as checks

    def broken(*args):
        raise sp.PolynomialError("no luck")

    monkeypatch.setattr(checks, "_prove_jacobian", broken)
    p = th.Process(th.latents.Uniform(2), th.mixings.Symbolic([z1 + z2**3, z2], [z1, z2]))
    e = check(th.assumptions.VolumePreserving(), p, **FAST)
    assert e.verdict == "holds" and "PolynomialError: no luck" in e.message


def test_works_off_the_main_thread():
    out = {}
    thread = threading.Thread(target=lambda: out.update(v=time_limited(lambda: 3, 5)))
    thread.start()
    thread.join()
    assert out["v"] == 3
