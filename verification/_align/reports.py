"""Alignment reports, rendered from the ``sith.align/1`` document (never from live objects,
so ``sith report OUT`` re-renders an align.json written anywhere): Markdown, HTML, figures.

Figures (matplotlib, the ``plots`` extra; skipped without it), in ``OUT/figures/``:

- ``pairwise.png``: heatmaps of pairwise linear CKA, mutual k-NN and agreement up to the
  theorem's indeterminacy, models ordered by learner, setting and seed;
- ``agreement-vs-truth.png``: each pair's CKA and indeterminacy score against the worse
  of its two models' recovery of the truth, coloured by whether both, one or neither
  model recovers the latents (does agreement rise as the models approach the truth?).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from theory.errors import InvalidArgument
from verification import citations
from verification._align.result import GROUPS, SCHEMA
from verification._figures import save_vector
from verification._files import figures_of, read_document, require_fields
from verification._text import escape as _escape

REQUIRED = {
    "theorem": str,
    "claim": dict,
    "models": list,
    "pairs": list,
    "truth": list,
    "summary": dict,
    "k": int,
    "aligned_score": str,
}
COLOURS = {"recovered": "#2a9d8f", "mixed": "#e9c46a", "not-recovered": "#e76f51"}


def load_align(out: str | Path) -> dict[str, Any]:
    """Read OUT/align.json, checking the structure the renderers rely on."""
    doc = read_document(out, "align.json", SCHEMA, "alignment")
    path = Path(out) / "align.json"
    require_fields(doc, REQUIRED, str(path))
    for what, fields in (
        ("models", {"id": str, "learner": str, "seed": int}),
        ("pairs", {"a": str, "b": str}),
        ("truth", {"model": str}),
    ):
        for i, entry in enumerate(doc[what]):
            if not isinstance(entry, dict):
                raise InvalidArgument(f"{path}: {what}[{i}] is not an object")
            require_fields(entry, fields, f"{path}: {what}[{i}]")
    return doc


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "n/a"}[value]
    if isinstance(value, float):
        return f"{value:.3f}" if math.isfinite(value) else "n/a"
    return str(value)


def model_rows(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    truth = {t["model"]: t for t in doc["truth"]}
    header = [
        "model",
        "recovered",
        doc["claim"].get("name", "claim"),
        "covered",
        "CKA to z",
        f"{doc['aligned_score']} to z",
        "diagnosis",
    ]
    rows = []
    for m in doc["models"]:
        t = truth.get(m["id"], {})
        rows.append(
            [
                m["id"],
                _fmt(m.get("recovered")),
                _fmt(m.get("claim_metric")),
                _fmt(m.get("covered")),
                _fmt(t.get("cka")),
                _fmt(t.get("aligned")),
                m.get("error") or _fmt(m.get("diagnosis")),
            ]
        )
    return header, rows


def pair_rows(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = [
        "a",
        "b",
        "both recover",
        "CKA",
        f"mutual {doc['k']}-NN",
        "R² a→b",
        "R² b→a",
        "Procrustes",
        doc["aligned_score"],
    ]
    rows = [
        [
            p["a"],
            p["b"],
            _fmt(p.get("group")),
            *(
                _fmt(p.get(s))
                for s in ("cka", "mutual_knn", "r2_a_to_b", "r2_b_to_a", "procrustes", "aligned")
            ),
        ]
        for p in doc["pairs"]
    ]
    return header, rows


def _intro(doc: dict[str, Any]) -> str:
    claim = doc["claim"]
    return (
        f"Theorem {doc['theorem']}: claim {claim.get('indeterminacy')} "
        f"({claim.get('name')}, threshold {claim.get('threshold')}); learners "
        f"{', '.join(doc.get('learners', []))}; seeds {doc.get('seeds')}; "
        f"{'oracle' if doc.get('oracle') else 'practice'} mode; common held-out set of "
        f"{doc.get('n_eval')} rows; mutual k-NN with k = {doc['k']} on unit-normalised rows. "
        f"Status {doc.get('status')}."
    )


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    cell = lambda v: " ".join(str(v).split()).replace("|", "\\|")  # noqa: E731
    return [
        "| " + " | ".join(map(cell, header)) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(map(cell, r)) + " |" for r in rows),
        "",
    ]


def render_markdown(doc: dict[str, Any], figures: list[str] = ()) -> str:
    lines = [
        f"# sith align: {doc['theorem']}",
        "",
        _intro(doc),
        "",
        "**Summary.** " + str(doc["summary"].get("statement", "")),
        "",
        "## Models",
        "",
        *_md_table(*model_rows(doc)),
        "## Pairs",
        "",
        *_md_table(*pair_rows(doc)),
    ]
    for path in figures:
        lines += [f"![{Path(path).stem}]({path})", ""]
    lines.append(citations.markdown_section(doc["theorem"], doc.get("provenance")))
    return "\n".join(lines)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    e = _escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(doc: dict[str, Any], figures: list[str] = ()) -> str:
    """A standalone page; every value from the document is escaped."""
    e = _escape
    images = "".join(
        f"<figure><img src='{e(path)}' alt='{e(Path(path).stem)}'></figure>" for path in figures
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>sith align: {e(doc['theorem'])}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;"
        "padding:4px 8px}table{border-collapse:collapse}img{max-width:100%}</style>"
        "</head><body>"
        f"<h1>sith align: {e(doc['theorem'])}</h1><p>{e(_intro(doc))}</p>"
        f"<p><b>Summary.</b> {e(doc['summary'].get('statement', ''))}</p>"
        f"<h2>Models</h2>{_html_table(*model_rows(doc))}"
        f"<h2>Pairs</h2>{_html_table(*pair_rows(doc))}"
        + images
        + citations.html_section(doc["theorem"], doc.get("provenance"))
        + "</body></html>"
    )


def render_plots(doc: dict[str, Any], figures: Path, formats: Sequence[str] = ()) -> list[Path]:
    """PNG figures (needs the ``plots`` extra; none without it), and a copy of each in
    every vector ``formats`` ("pdf", "svg") sized for a paper. Returns the PNGs."""
    if not doc["pairs"]:
        return []
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    figures.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (("pairwise.png", _heatmaps), ("agreement-vs-truth.png", _scatter)):
        fig = draw(plt, doc)
        path = figures / name
        fig.savefig(path, dpi=90)
        save_vector(fig, path, formats)
        plt.close(fig)
        written.append(path)
    return written


def _matrix(doc: dict[str, Any], ids: list[str], score: str) -> list[list[float]]:
    index = {m: i for i, m in enumerate(ids)}
    size = len(ids)
    grid = [[math.nan] * size for _ in range(size)]
    for i in range(size):
        grid[i][i] = 1.0 if score != "procrustes" else 0.0
    for p in doc["pairs"]:
        value = p.get(score)
        if p["a"] in index and p["b"] in index and isinstance(value, (int, float)):
            grid[index[p["a"]]][index[p["b"]]] = grid[index[p["b"]]][index[p["a"]]] = value
    return grid


def _heatmaps(plt, doc: dict[str, Any]):
    ids = [m["id"] for m in doc["models"] if any(m["id"] in (p["a"], p["b"]) for p in doc["pairs"])]
    recovered = {m["id"]: m.get("recovered") for m in doc["models"]}
    scores = [
        ("cka", "linear CKA"),
        ("mutual_knn", f"mutual {doc['k']}-NN"),
        ("aligned", doc["aligned_score"]),
    ]
    size = max(4.0, 0.45 * len(ids) + 2.5)
    fig, axes = plt.subplots(1, 3, figsize=(3 * size, size), constrained_layout=True)
    labels = [f"{'✓' if recovered.get(i) else '✗'} {i}" for i in ids]
    for ax, (score, title) in zip(axes, scores, strict=True):
        image = ax.imshow(_matrix(doc, ids, score), vmin=0, vmax=1, cmap="viridis")
        ax.set_title(title)
        ax.set_xticks(range(len(ids)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(ids)), labels, fontsize=7)
        fig.colorbar(image, ax=ax, shrink=0.7)
    fig.suptitle(f"{doc['theorem']}: pairwise agreement (✓ recovers the latents)")
    return fig


def _scatter(plt, doc: dict[str, Any]):
    truth = {t["model"]: t for t in doc["truth"]}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    for ax, score, title in (
        (axes[0], "cka", "linear CKA between the two models"),
        (axes[1], "aligned", f"{doc['aligned_score']} between the two models"),
    ):
        for group in GROUPS:
            xs, ys = [], []
            for p in doc["pairs"]:
                ta = truth.get(p["a"], {}).get("aligned")
                tb = truth.get(p["b"], {}).get("aligned")
                value = p.get(score)
                if p.get("group") == group and None not in (ta, tb, value):
                    xs.append(min(ta, tb))
                    ys.append(value)
            if xs:
                ax.scatter(xs, ys, s=22, color=COLOURS[group], label=f"{group} ({len(xs)})")
        ax.set_xlabel(f"worse model's {doc['aligned_score']} to the true latents")
        ax.set_ylabel(title)
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=8, title="pairs", title_fontsize=8)
    fig.suptitle(f"{doc['theorem']}: does agreement rise as both models approach the truth?")
    return fig


__all__ = ["figures_of", "load_align", "render_html", "render_markdown", "render_plots"]
