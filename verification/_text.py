"""Text for people, once per job: an error or value on one line, a value escaped for HTML."""

from __future__ import annotations

import html
from typing import Any


def one_line(value: Any, limit: int | None = None) -> str:
    """``str(value)`` with every run of whitespace (newlines included) made one space;
    longer than ``limit`` characters, cut there and marked `` ...``."""
    text = " ".join(str(value).split())
    return text if limit is None or len(text) <= limit else text[:limit] + " ..."


def escape(value: Any) -> str:
    """``str(value)`` escaped for HTML text and attribute values (quotes included)."""
    return html.escape(str(value), quote=True)


__all__ = ["escape", "one_line"]
