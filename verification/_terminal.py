"""What reaches a terminal: text from users' modules and files, made harmless.

Names and messages come from data sith did not write (a paper's module, a process
JSON, a store record). A control character in them (ESC starting an ANSI sequence,
a C1 CSI, a bidirectional override) could repaint the terminal or hide text, so every
line the CLI prints goes through :func:`printable`, which writes each one as a visible
escape (``\\x1b``). Python warnings are shown as one plain line (:func:`plain_warnings`),
not as ``file.py:87: Category: ...`` followed by a line of source.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator

from rich.console import Console

# C0 controls except tab and newline, DEL, C1 controls, and the Unicode format
# characters that reorder or hide text (bidi embeddings, overrides, isolates; zero-width)
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_UNSAFE_IN_NAME = re.compile(_UNSAFE.pattern[:-1] + "\t\n]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` with every control character written as a visible escape (newlines and
    tabs kept: a message may span lines)."""
    return _UNSAFE.sub(_visible, str(text))


def printable_name(text: object) -> str:
    """A name (theorem, assumption, key) on one line: newlines and tabs escaped too."""
    return _UNSAFE_IN_NAME.sub(_visible, str(text))


class SafeConsole(Console):
    """A rich Console whose every string (``print`` arguments, table cells) is
    :func:`printable` before rich renders it."""

    def render_str(self, text: str, **kwargs):  # type: ignore[override]
        return super().render_str(printable(text), **kwargs)


@contextlib.contextmanager
def plain_warnings() -> Iterator[None]:
    """Inside, a warning that reaches the terminal is one line, ``Warning: MESSAGE``
    (control characters visible), not Python's ``file.py:87: Category: MESSAGE`` and a
    line of source. Only the format changes: the filters still decide what is shown,
    and whoever records warnings (pytest) still records them."""
    previous = warnings.formatwarning

    def one_line(message, category, filename, lineno, line=None) -> str:
        return "Warning: " + " ".join(printable(message).split()) + "\n"

    warnings.formatwarning = one_line
    try:
        yield
    finally:
        warnings.formatwarning = previous


__all__ = ["SafeConsole", "plain_warnings", "printable", "printable_name"]
