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


def main() -> None:
    signal.signal(signal.SIGINT, on_interrupt)
    try:
        # a local pool's forkserver imports the workers' modules on another core while
        # this process imports the CLI's (stdlib only until then)
        from verification._executors.warm import prestart

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
