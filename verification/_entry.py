"""The ``sith`` console script (also ``python -m verification``): a guard around
importing and running the CLI.

The CLI itself imports only click (its commands import what they compute with when
they run), but a command pulls in sympy and torch (seconds); a Ctrl-C in that time must
end like any other interruption (exit 130, one line), not with a traceback from an
import.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
#: how long after a swallowed interrupt it is sent again (the hook has returned by then)
REDELIVERY_DELAY_S = 0.02


def main() -> None:
    install_interrupt_handling()
    try:
        # a local pool's forkserver imports the workers' modules on another core while
        # this process imports the CLI's (stdlib only until then)
        from verification import _startup_gc
        from verification._executors.warm import prestart

        _startup_gc.pause(sys.argv[1:])  # resumed by the command, its imports done
        prestart(sys.argv[1:])
        from verification.cli import main as cli

        cli()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        exit_now(EXIT_INTERRUPTED)
    except SystemExit as done:
        if done.code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            exit_now(done.code)
        finish(done.code)
        raise
    finish(0)


def install_interrupt_handling() -> None:
    """Ctrl-C handling for the whole command: :func:`on_interrupt` for SIGINT, and a
    :data:`sys.unraisablehook` that re-delivers an interrupt Python swallowed."""
    signal.signal(signal.SIGINT, on_interrupt)
    sys.unraisablehook = redeliver_swallowed_interrupts(sys.unraisablehook)


def redeliver_swallowed_interrupts(previous):
    """An unraisable hook that sends SIGINT again when the exception Python could not
    raise is a KeyboardInterrupt.

    A signal handler runs wherever the main thread is, and where that is a place whose
    exceptions Python ignores (a garbage-collector callback such as hypothesis's, a
    ``__del__``, a weakref callback), the KeyboardInterrupt is printed as "Exception
    ignored in ..." and dropped: the search went on and ended with exit code 0 after a
    Ctrl-C. So SIGINT is sent to the main thread again, a moment later, from another
    thread: a real signal wakes a blocking wait as Ctrl-C does, and the handler runs at
    the main thread's next step, outside the callback (raising the signal from here would
    run it inside this hook, where it is dropped again). Every other unraisable
    exception goes to ``previous``."""

    def hook(unraisable) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            main_thread = threading.main_thread().ident
            again = threading.Timer(
                REDELIVERY_DELAY_S, signal.pthread_kill, (main_thread, signal.SIGINT)
            )
            again.daemon = True
            again.start()
            return
        previous(unraisable)

    return hook


def on_interrupt(signum: int, frame) -> None:
    """Ctrl-C. Inside an import, leave at once with exit code 130: a native extension's
    initialisation (torch's, through pybind11) may be what Python is running, and a
    KeyboardInterrupt raised in its callbacks aborts the process ("terminate called after
    throwing ..."); nothing has been computed yet. Anywhere else, KeyboardInterrupt as
    usual, so that a search or sweep keeps what it has."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            sys.stderr.write("interrupted\n")
            exit_now(EXIT_INTERRUPTED)
        frame = frame.f_back
    raise KeyboardInterrupt


def finish(code: int | str | None) -> None:
    """Leave a finished command without the interpreter's teardown.

    Tearing down torch, sympy and the rest after a sweep took 1.4 s (serial) to 2.7 s
    (after a local pool) on a 2-core machine: time on every command's critical path that
    does nothing a finished command needs. So: the exit handlers run (``atexit``: logging,
    the trackers, temporary directories, multiprocessing's finalizers), the streams are
    flushed, and the process leaves with ``code`` at once. Where another non-daemon thread
    still runs, Python's own shutdown (which waits for it) is kept: this returns."""
    if any(
        thread.is_alive() and not thread.daemon and thread is not threading.main_thread()
        for thread in threading.enumerate()
    ):
        return
    if isinstance(code, str):  # sys.exit("message"): printed, exit code 1
        sys.stderr.write(code + "\n")
        code = 1
    atexit._run_exitfuncs()
    exit_now(0 if code is None else code)


def exit_now(code: int) -> None:
    """Flush and leave with ``code``. After Ctrl-C, Python may end the process by SIGINT
    itself (when the interrupt passed through C code that marks it unhandled), which
    would turn exit code 130 into death by signal; ``os._exit`` keeps the code."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
