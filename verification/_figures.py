"""Vector copies of a report's figures, sized and lettered for a two-column paper.

Reports draw PNGs for the screen. With ``--figures pdf,svg`` each figure is also saved
beside its PNG as ``NAME.pdf`` / ``NAME.svg``, after two changes to the same figure:
its width becomes a paper's column (3.4 in) or, for a wide figure, the text width of a
two-column page (7.0 in, for ``figure*``), the height scaled alike; and its text is set
in 8 pt (titles) and 7 pt (labels, ticks, legends), the sizes of a caption and smaller.
PDF fonts are embedded as TrueType (Type 42, which journals accept and editors can
change); SVG text stays text. Both are written without a creation date, so the same
figure gives the same file.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from theory.errors import InvalidArgument

FORMATS = ("pdf", "svg")
COLUMN = 3.4  # inches: one column of a two-column paper (NeurIPS, ICML, IEEE: 3.25-3.5)
PAGE = 7.0  # inches: the text width of a two-column page (figure*)
MAX_HEIGHT = 9.0
TITLE_PT, TEXT_PT = 8.0, 7.0


def parse_formats(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"pdf,svg"`` (or a sequence, or None) as a tuple of known vector formats."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in items:
        name = str(item).strip().lower().lstrip(".")
        if not name:
            continue
        if name == "png":
            continue  # always drawn
        if name not in FORMATS:
            raise InvalidArgument(
                f"figures: unknown format {item!r}; choose from {', '.join(FORMATS)} "
                "(PNG is always written)"
            )
        if name not in out:
            out.append(name)
    return tuple(out)


def save_vector(fig: Any, png: Path, formats: Sequence[str]) -> list[Path]:
    """Save ``fig`` (already saved as the PNG ``png``) as each of ``formats`` beside it,
    resized and relettered for a paper; returns the files written."""
    if not formats:
        return []
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from verification.provenance import sith_version

    width, height = fig.get_size_inches()
    target = PAGE if width > 4.5 else COLUMN
    fig.set_size_inches(target, min(height * target / width, MAX_HEIGHT))
    for text in fig.findobj(Text):
        text.set_fontsize(TITLE_PT if text.get_fontsize() >= 11 else TEXT_PT)
    if fig.get_layout_engine() is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tight_layout's "not compatible" notes
            fig.tight_layout()
    written = []
    rc = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none", "svg.hashsalt": "sith"}
    for fmt in formats:
        path = png.with_suffix(f".{fmt}")
        metadata = (
            {"Creator": f"sith {sith_version()}", "CreationDate": None}
            if fmt == "pdf"
            else {"Creator": f"sith {sith_version()}", "Date": None}
        )
        with plt.rc_context(rc):
            fig.savefig(path, format=fmt, metadata=metadata)  # exactly the column size
        written.append(path)
    return written


__all__ = ["COLUMN", "FORMATS", "PAGE", "parse_formats", "save_vector"]
