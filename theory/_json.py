"""Strict JSON reading for files that come from other people (processes, stores, reports).

Standard JSON only: ``NaN``/``Infinity`` and numbers that overflow a float are refused,
as are texts above a size cap and nesting deeper than a cap (Python's parser would hit
its recursion limit). Every problem is one :class:`InvalidProcess`/:class:`UnsafeInput`
line naming the file's role; nothing in the text is ever executed.
"""

from __future__ import annotations

import json
import math
from typing import Any

from theory.errors import InvalidProcess, UnsafeInput

MAX_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64


def _refuse_constant(name: str) -> float:
    raise InvalidProcess(f"non-finite number {name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidProcess(f"number {text} overflows a 64-bit float")
    return value


def _depth(text: str) -> int:
    """Deepest nesting of [ and { outside strings (a linear scan, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_json(text: str | bytes, *, what: str = "JSON") -> Any:
    """Parse ``text`` as strict JSON, or raise one clear line about ``what`` is wrong."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InvalidProcess(
                f"{what} is not UTF-8 text ({err.reason} at byte {err.start})"
            ) from None
    if not isinstance(text, str):
        raise InvalidProcess(f"{what} must be text, got {type(text).__name__}")
    if len(text) > MAX_BYTES:
        raise UnsafeInput(f"{what} is larger than {MAX_BYTES // 2**20} MiB")
    if _depth(text) > MAX_DEPTH:
        raise UnsafeInput(f"{what} is nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except InvalidProcess as err:
        raise type(err)(f"{what}: {err}") from None
    except json.JSONDecodeError as err:
        raise InvalidProcess(f"{what} is not valid JSON: {err}") from None
    except (ValueError, RecursionError, MemoryError) as err:
        raise InvalidProcess(f"{what} cannot be read: {type(err).__name__}: {err}") from None
