"""sith's error hierarchy (defined in ``theory.errors``, which must not import this side)."""

from theory.errors import (
    EvaluationTimeout,
    InvalidArgument,
    InvalidProcess,
    ResourceLimit,
    RunDirectoryError,
    SithError,
    UnknownName,
    UnsafeInput,
)

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
