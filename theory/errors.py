"""One error hierarchy for everything sith refuses on purpose.

Every error a user can cause by what they pass (a bad argument, a malformed or unsafe
process file, a request too large for this machine) is a :class:`SithError`. Front
doors map it to one clear line (the CLI: exit code 2); anything else that escapes is a
bug in sith and is reported as such. The classes also derive from the builtin
exception a Python user would expect (``InvalidArgument`` is a ``ValueError``), so
``except ValueError`` keeps working.

It lives in ``theory/`` because the symbolic side raises it too and must not import
``verification/``; ``verification.errors`` re-exports it.
"""

from __future__ import annotations


class SithError(Exception):
    """Base class: an error sith raises on purpose, with a message for people."""

    def __str__(self) -> str:  # a plain message, also for the KeyError subclasses
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class InvalidArgument(SithError, ValueError):
    """An argument has the wrong type, shape or value (non-finite, out of range, ...)."""


class UnknownName(InvalidArgument, KeyError):
    """A name (theorem, assumption, learner, metric, spec type, ...) is not registered."""


class InvalidProcess(InvalidArgument):
    """A process, or a process file, that cannot be built: malformed or incoherent."""


class UnsafeInput(InvalidProcess):
    """Input refused because reading it could run code, hang or exhaust memory."""


class ResourceLimit(InvalidArgument):
    """A request that cannot fit this machine (the message gives the estimate)."""


class RunDirectoryError(SithError):
    """A run directory is locked by another process, or holds a different run."""


class EvaluationTimeout(SithError):
    """An evaluation ran past its wall-clock limit."""


__all__ = [
    "EvaluationTimeout",
    "InvalidArgument",
    "InvalidProcess",
    "ResourceLimit",
    "RunDirectoryError",
    "SithError",
    "UnknownName",
    "UnsafeInput",
]
