"""What the reports of every run kind share: reading a run's document back (checked),
the figures a run directory holds, matplotlib when the ``plots`` extra is there, and
escaping for HTML.

Reports are rendered from the saved documents (report.json, sweep.json, align.json and
the store's records), never from live objects, so ``sith report RUN_DIR`` re-renders
and redraws them anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from theory.errors import InvalidArgument
from verification._figures import save_vector
from verification._files import figures_of, read_document, require_fields
from verification._text import escape


def load_document(
    directory: str | Path,
    name: str,
    schema: str,
    kind: str,
    required: Mapping[str, Any],
    entries: Mapping[str, Mapping[str, Any]] = {},
) -> dict[str, Any]:
    """DIRECTORY/NAME, checked: its ``schema``, its ``required`` fields (name -> type),
    and each object of its lists ``entries`` (list name -> the fields of each object)."""
    doc = read_document(directory, name, schema, kind)
    path = Path(directory) / name
    require_fields(doc, dict(required), str(path))
    for what, fields in entries.items():
        for i, entry in enumerate(doc[what]):
            if not isinstance(entry, dict):
                raise InvalidArgument(f"{path}: {what}[{i}] is not an object")
            require_fields(entry, dict(fields), f"{path}: {what}[{i}]")
    return doc


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, or None without the ``plots`` extra."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def tight_layout(fig: Any) -> None:
    """``fig.tight_layout()``, but without leaving a layout engine on ``fig``.
    matplotlib's ``tight_layout`` leaves a placeholder engine behind, and for a figure
    with an engine every ``savefig`` draws the figure twice (a dry run first, so that
    the engine can measure it); the PNG is the same, byte for byte, and takes 15 %
    less time. A figure without an engine is also laid out again by
    :func:`~verification._figures.save_vector` once it is resized for a paper."""
    from matplotlib.layout_engine import TightLayoutEngine

    TightLayoutEngine().execute(fig)


def preload_plotting() -> None:
    """Import matplotlib (Agg) in a background thread: a driver that hands its work to
    pool workers waits idle for them, and its report needs matplotlib at the end (0.5 s
    of imports on the critical path otherwise). Harmless without the ``plots`` extra."""
    threading.Thread(target=pyplot, name="sith-preload-matplotlib", daemon=True).start()


def save_figure(fig: Any, path: Path, formats: Sequence[str] = (), dpi: int = 90) -> Path:
    """Save ``fig`` as the PNG ``path`` and a copy in each vector ``formats`` beside it
    (``verification._figures``), then close it; returns ``path``."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    save_vector(fig, path, formats)  # PDF/SVG beside it, for a paper (--figures)
    plt.close(fig)
    return path


__all__ = [
    "escape",
    "figures_of",
    "load_document",
    "preload_plotting",
    "pyplot",
    "save_figure",
    "tight_layout",
]
