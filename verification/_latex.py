"""LaTeX text: escaping for tables and BibTeX, and rounding a number to its uncertainty.

Everything a report prints comes from data (theorem and assumption names, process
parameters from users' modules), so every string goes through :func:`escape` before it
lands in a ``.tex`` or ``.bib`` file: the ten characters LaTeX treats specially are
written as their commands, and control characters are dropped.
"""

from __future__ import annotations

import math
import unicodedata

# the characters TeX gives a meaning, and how to write them as text
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# combining marks -> the LaTeX accent command that writes them (for BibTeX, which sorts
# and abbreviates names by their ASCII letters)
_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0327": "c",
    "\u0328": "k",
}
_LETTERS = {
    "ß": r"{\ss}",
    "ø": r"{\o}",
    "Ø": r"{\O}",
    "æ": r"{\ae}",
    "Æ": r"{\AE}",
    "œ": r"{\oe}",
    "Œ": r"{\OE}",
    "ł": r"{\l}",
    "Ł": r"{\L}",
    "ı": r"{\i}",
}


def escape(value: object) -> str:
    """``value`` as LaTeX text: special characters escaped, control characters (ANSI
    escapes, newlines inside a cell) dropped; other Unicode kept (UTF-8 input, the
    default of LaTeX since 2018)."""
    out = []
    for ch in str(value):
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" " if ch in "\n\t\r" else "")
        else:
            out.append(ch)
    return "".join(out)


def ascii_accents(text: str) -> str:
    """Accented letters as LaTeX accent commands (``ü`` -> ``{\\"u}``), the form classic
    BibTeX sorts and abbreviates correctly; anything else unchanged."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _LETTERS:
            out.append(_LETTERS[ch])
            continue
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        if marks and base.isascii() and all(m in _ACCENTS for m in marks):
            word = base
            for mark in marks:
                command = _ACCENTS[mark]
                word = f"\\{command}{word}" if not command.isalpha() else f"\\{command}{{{word}}}"
            out.append("{" + word + "}")
        else:
            out.append(ch)
    return "".join(out)


def round_to_uncertainty(value: float, uncertainty: float | None, digits: int = 3) -> str:
    """``value`` printed to the decimal place of the first significant digit of
    ``uncertainty`` (two digits when that digit is 1 or 2, the Particle Data Group's
    rule); without an uncertainty, ``digits`` significant digits. NaN prints as "--"."""
    if value is None or not math.isfinite(value):
        return "--"
    if uncertainty is None or not math.isfinite(uncertainty) or uncertainty <= 0:
        return f"{value:.{digits}g}"
    exponent = math.floor(math.log10(uncertainty))
    leading = uncertainty / 10**exponent
    places = -exponent + (1 if leading < 3 else 0)
    if places <= 0:
        return f"{round(value, places):.0f}"
    return f"{value:.{places}f}"


__all__ = ["ascii_accents", "escape", "round_to_uncertainty"]
