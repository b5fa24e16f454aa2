"""Sweep reports, rendered from the ``sith.sweep/1`` document (never from live objects, so
``sith report OUT`` re-renders a sweep.json written anywhere): Markdown, HTML, figures.

Figures (matplotlib, the ``plots`` extra; skipped without it), in ``OUT/figures/``:

- ``vary-KEY.png`` for each key with several values: the claim metric against it (the median over
  seeds, a band from the lowest to the highest seed, the seeds as points; one line per
  combination of the other keys), the recovered fraction, and how the seeds ended
  (recovered, each diagnosis, errors);
- ``claim-along-training.png``: the claim metric along training for each setting, when
  the recovery records carry a claim curve.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from theory.errors import InvalidArgument
from verification import citations
from verification._runs import escape, figures_of, load_document, pyplot, save_figure, tight_layout
from verification._sweep.result import SCHEMA, outcome_label, summarise

REQUIRED = {
    "theorem": str,
    "claim": dict,
    "vary": dict,
    "seeds": list,
    "status": str,
    "settings": list,
    "rows": list,
}
ROW_REQUIRED = {"setting": int, "params": dict, "seed": int, "metrics": dict}


def load_sweep(out: str | Path) -> dict[str, Any]:
    """Read OUT/sweep.json, checking the structure the renderers rely on."""
    doc = load_document(out, "sweep.json", SCHEMA, "sweep", REQUIRED, {"rows": ROW_REQUIRED})
    path = Path(out) / "sweep.json"
    for i, row in enumerate(doc["rows"]):
        if not 0 <= row["setting"] < len(doc["settings"]):
            raise InvalidArgument(f"{path}: rows[{i}] names no setting")
    return doc


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.3e}"
    return "n/a" if value is None else str(value)


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _claim_line(doc: dict[str, Any]) -> str:
    claim = doc["claim"]
    op = "≥" if claim.get("higher_is_better", True) else "≤"
    return f"{claim.get('name')} {op} {_fmt(claim.get('threshold'))}"


def _executor_line(doc: dict[str, Any]) -> str:
    ex = doc.get("executor") or {}
    if not ex:
        return "?"
    workers = ex.get("workers")
    return f"{ex.get('name')} ({workers} worker{'s' if workers != 1 else ''})"


def table_rows(doc: dict[str, Any]) -> list[list[str]]:
    """The summary table: one line per setting."""
    keys = list(doc["vary"])
    out = []
    for s in summarise(doc["rows"], doc["settings"]):
        spread = f"{_fmt(s['q25'])}–{_fmt(s['q75'])}" if s["median"] is not None else "n/a"
        frac = s["recovered_fraction"]
        out.append(
            [
                *(_fmt(s["params"].get(k)) for k in keys),
                str(s["n"]),
                _fmt(s["median"]),
                spread,
                f"{_fmt(s['min'])}–{_fmt(s['max'])}" if s["median"] is not None else "n/a",
                "n/a" if frac is None else f"{frac:.0%}",
                ", ".join(f"{k} {v}" for k, v in s["outcomes"].items()),
            ]
        )
    return out


def table_header(doc: dict[str, Any]) -> list[str]:
    name = doc["claim"].get("name")
    return [
        *doc["vary"],
        "seeds",
        f"median {name}",
        "IQR",
        "range",
        "recovered",
        "outcomes",
    ]


def _intro(doc: dict[str, Any]) -> str:
    return (
        f"Status {doc['status']}: {len(doc['rows'])} evaluations "
        f"({doc.get('new_evaluations', 0)} new) of {len(doc['settings'])} settings × "
        f"{len(doc['seeds'])} seeds ({doc.get('mode', 'grid')}) in {doc.get('seconds', 0):.0f} s "
        f"on {_executor_line(doc)}, device {doc.get('device', 'cpu')}, "
        f"{'oracle' if doc.get('oracle') else 'practice'} mode. "
        f"Recovered means {_claim_line(doc)} on held-out samples."
    )


def render_markdown(doc: dict[str, Any], figures: list[str] = ()) -> str:
    header = table_header(doc)
    lines = [
        f"# sith sweep: {doc['theorem']}",
        "",
        _intro(doc),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(doc)]
    lines.append("")
    errors = [r for r in doc["rows"] if r.get("error")]
    if errors:
        lines += [f"{len(errors)} evaluation(s) failed; the first:", ""]
        lines += [
            f"- {_params(r['params'])}, seed {r['seed']}: {' '.join(str(r['error']).split())}"
            for r in errors[:5]
        ]
        lines.append("")
    for path in figures:
        lines += [f"![{Path(path).stem}]({path})", ""]
    lines.append(citations.markdown_section(doc["theorem"], doc.get("provenance")))
    return "\n".join(lines)


def render_html(doc: dict[str, Any], figures: list[str] = ()) -> str:
    """A standalone page; every value from the document is escaped (a sweep.json is
    data from a directory that may come from someone else)."""
    e = escape
    head = "".join(f"<th>{e(h)}</th>" for h in table_header(doc))
    body = "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>" for cells in table_rows(doc)
    )
    errors = [r for r in doc["rows"] if r.get("error")]
    error_items = "".join(
        f"<li>{e(_params(r['params']))}, seed {e(r['seed'])}: {e(r['error'])}</li>"
        for r in errors[:5]
    )
    images = "".join(
        f"<figure><img src='{e(path)}' alt='{e(Path(path).stem)}'></figure>" for path in figures
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>sith sweep: {e(doc['theorem'])}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;"
        "padding:4px 8px}table{border-collapse:collapse}img{max-width:100%}</style>"
        "</head><body>"
        f"<h1>sith sweep: {e(doc['theorem'])}</h1><p>{e(_intro(doc))}</p>"
        f"<table><tr>{head}</tr>{body}</table>"
        + (f"<h2>Errors ({len(errors)})</h2><ul>{error_items}</ul>" if errors else "")
        + images
        + citations.html_section(doc["theorem"], doc.get("provenance"))
        + "</body></html>"
    )


def figure_name(key: str) -> str:
    return "vary-" + re.sub(r"[^A-Za-z0-9_.]+", "-", key) + ".png"


def render_plots(doc: dict[str, Any], figures: Path, formats: Sequence[str] = ()) -> list[Path]:
    """PNG figures (needs the ``plots`` extra; none without it), and a copy of each in
    every vector ``formats`` ("pdf", "svg") sized for a paper. Returns the PNGs."""
    plt = pyplot()
    if plt is None:
        return []
    written = []
    for key in doc["vary"]:
        if len({_hashable(s[key]) for s in doc["settings"]}) < 2:
            continue  # one value: nothing to plot against
        written.append(
            save_figure(_vary_figure(plt, doc, key), figures / figure_name(key), formats)
        )
    curves = [r for r in doc["rows"] if r.get("claim_curve")]
    if curves:
        fig = _curve_figure(plt, doc, curves)
        written.append(save_figure(fig, figures / "claim-along-training.png", formats))
    return written


def _positions(values: list[Any]) -> tuple[list[float], list[str] | None, bool]:
    """x positions for a key's values: the numbers themselves (log scale when they span
    a factor of 8 or more), else evenly spaced categories with labels."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric:
        log = min(values) > 0 and max(values) >= 8 * min(values)
        return [float(v) for v in values], None, log
    return list(range(len(values))), [_fmt(v) for v in values], False


def _vary_figure(plt, doc: dict[str, Any], key: str):
    claim = doc["claim"]
    summary = summarise(doc["rows"], doc["settings"])
    values = list(dict.fromkeys(s[key] for s in doc["settings"]))
    xs, labels, log = _positions(values)
    x_of = {_hashable(v): x for v, x in zip(values, xs, strict=True)}
    others = [k for k in doc["vary"] if k != key]
    groups: dict[tuple, list[dict[str, Any]]] = {}
    raw: dict[tuple, list[Any]] = {}
    for s in summary:
        group = tuple(_hashable(s["params"][k]) for k in others)
        groups.setdefault(group, []).append(s)
        raw.setdefault(group, [s["params"][k] for k in others])
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    metric_ax, frac_ax, outcome_ax = axes
    for g, (group, items) in enumerate(groups.items()):
        items = sorted(items, key=lambda s: x_of[_hashable(s["params"][key])])
        label = ", ".join(f"{k}={_fmt(v)}" for k, v in zip(others, raw[group], strict=True))
        colour = f"C{g % 10}"
        pts = [s for s in items if s["median"] is not None]
        if pts:
            px = [x_of[_hashable(s["params"][key])] for s in pts]
            metric_ax.plot(
                px, [s["median"] for s in pts], "-o", color=colour, label=label or None, ms=4
            )
            metric_ax.fill_between(
                px, [s["min"] for s in pts], [s["max"] for s in pts], color=colour, alpha=0.2
            )
        seed_x, seed_y = [], []
        for r in doc["rows"]:
            params = doc["settings"][r["setting"]]
            if (
                r["claim_metric"] is not None
                and tuple(_hashable(params[k]) for k in others) == group
            ):
                seed_x.append(x_of[_hashable(params[key])])
                seed_y.append(r["claim_metric"])
        metric_ax.scatter(seed_x, seed_y, s=8, color=colour, alpha=0.6)
        fr = [s for s in items if s["recovered_fraction"] is not None]
        if fr:
            frac_ax.plot(
                [x_of[_hashable(s["params"][key])] for s in fr],
                [s["recovered_fraction"] for s in fr],
                "-o",
                color=colour,
                label=label or None,
                ms=4,
            )
    threshold = claim.get("threshold")
    if isinstance(threshold, (int, float)) and math.isfinite(threshold):
        metric_ax.axhline(threshold, color="grey", ls="--", lw=1, label="claim threshold")
    metric_ax.set_ylabel(str(claim.get("name")))
    metric_ax.set_title("median over seeds; band: min–max", fontsize=9)
    frac_ax.set_ylabel("recovered fraction")
    frac_ax.set_ylim(-0.05, 1.05)
    # outcomes, over every combination of the other keys
    outcomes = sorted({outcome_label(r) for r in doc["rows"]})
    bottoms = [0] * len(values)
    for o, name in enumerate(outcomes):
        counts = [
            sum(
                1
                for r in doc["rows"]
                if _hashable(doc["settings"][r["setting"]][key]) == _hashable(v)
                and outcome_label(r) == name
            )
            for v in values
        ]
        positions = list(range(len(values)))
        outcome_ax.bar(
            positions, counts, bottom=bottoms, label=name, color=_outcome_colour(name, o)
        )
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    outcome_ax.set_xticks(list(range(len(values))), [_fmt(v) for v in values], rotation=30)
    outcome_ax.set_ylabel("seeds")
    outcome_ax.legend(fontsize=7)
    for ax in (metric_ax, frac_ax):
        if log:
            ax.set_xscale("log")
        if labels is not None:
            ax.set_xticks(xs, labels, rotation=30)
        elif len(values) <= 8:  # the swept values themselves
            ax.set_xticks(xs, [_fmt(v) for v in values])
            ax.minorticks_off()
        ax.set_xlabel(key)
    outcome_ax.set_xlabel(key)
    if others:
        metric_ax.legend(fontsize=7)
    fig.suptitle(f"{doc['theorem']}: {claim.get('name')} against {key}")
    tight_layout(fig)
    return fig


def _outcome_colour(name: str, index: int) -> str:
    return {"recovered": "tab:green", "error": "tab:grey"}.get(name, f"C{(index + 3) % 10}")


def _curve_figure(plt, doc: dict[str, Any], rows: list[dict[str, Any]]):
    claim = doc["claim"]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    seen: set[int] = set()
    for r in rows:
        index = r["setting"]
        points = [(s, v) for s, v in r["claim_curve"] if v is not None]
        if not points:
            continue
        steps, values = zip(*points, strict=True)
        label = None
        if index not in seen and len(seen) < 12:
            label = _params(doc["settings"][index])
            seen.add(index)
        ax.plot(steps, values, color=f"C{index % 10}", alpha=0.7, lw=1, label=label)
    threshold = claim.get("threshold")
    if isinstance(threshold, (int, float)) and math.isfinite(threshold):
        ax.axhline(threshold, color="grey", ls="--", lw=1)
    ax.set_xlabel("training step")
    ax.set_ylabel(claim.get("name"))
    ax.legend(fontsize=7)
    ax.set_title(f"{doc['theorem']}: {claim.get('name')} along training (one line per seed)")
    tight_layout(fig)
    return fig


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return (type(value).__name__, value)


__all__ = [
    "figure_name",
    "figures_of",
    "load_sweep",
    "render_html",
    "render_markdown",
    "render_plots",
]
