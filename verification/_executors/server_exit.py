"""Preloaded by the local pool's forkserver (:data:`warm.WORKER_MODULES`): when the
forkserver leaves, skip the interpreter's teardown.

The forkserver leaves when the process that started it (the ``sith`` driver) has gone.
It then tore down torch, sympy and the rest for 0.9 s on a 2-core machine, and it holds
the driver's standard output and error (its forks, the pool workers, write there), so a
pipe from ``sith`` (``sith sweep ... | tee log``, a subprocess capturing the output) stayed
open that long after the command had finished. Nothing in the forkserver needs the
teardown: its children are separate processes, which leave through ``os._exit`` anyway.

Registers its exit handler only inside the forkserver (recognised by its command line),
so importing this module anywhere else changes nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

#: how multiprocessing starts the forkserver: ``python -c 'from multiprocessing.forkserver
#: import main; main(...)'``
FORKSERVER_COMMAND = "from multiprocessing.forkserver import main"


def in_forkserver(argv: list[str] | None = None) -> bool:
    """Whether this process is a multiprocessing forkserver (from its command line)."""
    argv = list(sys.orig_argv if argv is None else argv)
    return any(FORKSERVER_COMMAND in word for word in argv)


def _leave_now() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(0)


if in_forkserver():
    atexit.register(_leave_now)
