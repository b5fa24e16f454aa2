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


# symbols sith's reports use, as LaTeX that pdfLaTeX, XeLaTeX and LuaLaTeX all accept
_SYMBOLS = {
    "≥": r"\ensuremath{\geq}",
    "≤": r"\ensuremath{\leq}",
    "≠": r"\ensuremath{\neq}",
    "±": r"\ensuremath{\pm}",
    "×": r"\ensuremath{\times}",
    "→": r"\ensuremath{\to}",
    "−": "-",
    "–": "--",
    "—": "---",
    "…": r"\ldots{}",
    "‖": r"\ensuremath{\|}",
    "∞": r"\ensuremath{\infty}",
    "⊂": r"\ensuremath{\subset}",
    "∈": r"\ensuremath{\in}",
    "✓": "yes",
    "✗": "no",
    "·": r"\ensuremath{\cdot}",
    "²": r"\textsuperscript{2}",
    "³": r"\textsuperscript{3}",
}
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau",
    "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma",
    "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}  # fmt: skip


def escape(value: object) -> str:
    """``value`` as LaTeX text that compiles with any engine: the ten special characters
    escaped, control characters (ANSI escapes, newlines in a cell) dropped, Greek
    letters and the symbols sith prints as math, accented Latin letters as accent
    commands, and any other non-ASCII character as its code point (``[U+2713]``)."""
    out = []
    for ch in str(value):
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch.isascii():
            out.append(ch if ch.isprintable() else (" " if ch in "\n\t\r" else ""))
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append("")
        elif ch in _SYMBOLS:
            out.append(_SYMBOLS[ch])
        elif ch in _GREEK:
            out.append(f"\\ensuremath{{\\{_GREEK[ch]}}}")
        else:
            accented = ascii_accents(ch)
            out.append(accented if accented.isascii() else f"[U+{ord(ch):04X}]")
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
