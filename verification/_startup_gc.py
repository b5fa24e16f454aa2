"""The ``sith`` command's imports without garbage collection.

A command that sweeps, searches or aligns imports torch, sympy, scipy and sith's own
modules first: hundreds of thousands of objects and no garbage, and every full
collection those imports trigger walks all of them (about 0.15 s of a ``sith sweep``'s
start-up on the 2-core machine, five collections). The console script pauses the
collector for those commands (:func:`pause`, before it imports anything), and the
command resumes it once its imports are done, before it computes (:func:`resume`):
what was imported is frozen (:func:`gc.freeze`, left alone by every later collection)
and the collector runs as usual from then on (any other command resumes it when the CLI
resolves it). Nothing else changes: a process that did not pause it (the Python API,
the pytest plugin) is left as it is. Garbage made while it was paused (import-time
cycles, few) is frozen with the rest and never freed: a bounded cost, once per command.
"""

from __future__ import annotations

import gc

#: the commands whose imports run without collections (each resumes in its run)
COMMANDS = ("sweep", "search", "align")

_paused = False


def pause(argv: list[str]) -> bool:
    """Pause the collector when ``argv`` runs one of :data:`COMMANDS` (and it runs)."""
    global _paused
    command = next((word for word in argv if not word.startswith("-")), None)
    if command in COMMANDS and gc.isenabled():
        gc.disable()
        _paused = True
    return _paused


def resume() -> None:
    """Freeze what is imported and resume the collector, where :func:`pause` paused it."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


__all__ = ["COMMANDS", "pause", "resume"]
