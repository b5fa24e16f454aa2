"""Search reports: one canonical, versioned JSON; Markdown, HTML and plots rendered from it.

``build_report`` turns a :class:`SearchResult` into the ``sith.report/1`` document; it
reads nothing from disk. The renderers take that document, and the figures take it with
the records it names (``evaluated``, read from the run's store by :func:`load_records`),
so ``sith report`` re-renders and redraws a report.json written anywhere. Writing files
is the run directory's job (``rundir.RunDirectory.write_report``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from theory.theorems import defined_in
from verification import _reproduce as reproduce
from verification import citations, provenance
from verification._runs import (
    Evaluation,
    ResultStore,
    escape,
    load_document,
    pyplot,
    save_figure,
    tight_layout,
)
from verification._search.records import SearchResult

SCHEMA = "sith.report/1"
SCHEMA_FILE = Path(__file__).parent.parent / "schemas" / "report.schema.json"


def build_report(result: SearchResult, process_path: Callable[[str], Path]) -> dict[str, Any]:
    """The report document of ``result``; ``process_path(key)`` is where the run directory
    keeps each counterexample's process (the input of its reproduce line)."""
    entries = {}
    for label, items in (
        ("counterexamples", result.counterexamples),
        ("rejected", result.rejected),
    ):
        out = []
        for cx in items:
            d = cx.to_dict()
            d["options"] = {k: d["params"][k] for k in result.learner_options if k in d["params"]}
            d["reproduce"] = reproduce.command(
                "recover",
                result.theorem,
                process_path=str(process_path(d["key"])),
                seed=d["seed"],
                process=d["process"],
                defined_in=[defined_in(result.theorem)],
                options=d["options"],
                extra=["--oracle"] if result.oracle else [],
            )
            out.append(d)
        entries[label] = out
    return {
        "schema": SCHEMA,
        "theorem": result.theorem,
        "seed": result.seed,
        "budget": result.budget,
        "kinds": list(result.kinds),
        "status": result.status,
        "oracle": result.oracle,
        "executor": result.executor or {"name": "serial"},
        "evaluations": result.evaluations,
        "new_evaluations": result.new_evaluations,
        "seconds": round(result.seconds, 2),
        "counts": {
            "gap": len(result.gaps),
            "failure": len(result.failures),
            "rejected": len(result.rejected),
        },
        "quadrants": result.quadrants,
        "inside": result.inside,
        "plan": result.plan,
        "necessity": result.necessity,
        "text_checks": result.text_checks,
        "failures_by_diagnosis": result.failures_by_diagnosis,
        "errors": result.errors,
        "space": result.space,
        "evaluated": sorted(result.evaluated),
        **entries,
        "provenance": result.provenance or provenance.collect(seed=result.seed),
    }


REQUIRED = {
    "theorem": str,
    "seed": int,
    "budget": int,
    "kinds": list,
    "status": str,
    "evaluations": int,
    "seconds": (int, float),
    "counts": dict,
    "quadrants": dict,
    "counterexamples": list,
    "rejected": list,
    "space": dict,
}
CX_REQUIRED = {
    "kind": str,
    "key": str,
    "process": dict,
    "evidence": list,
    "claim_metric": dict,
    "params": dict,
    "spread": dict,
    "reproduce": str,
}


def load_report(run_dir: str | Path) -> dict[str, Any]:
    """Read RUN_DIR/report.json, checking the structure the renderers rely on."""
    entries = {"counterexamples": CX_REQUIRED, "rejected": CX_REQUIRED}
    return load_document(run_dir, "report.json", SCHEMA, "search", REQUIRED, entries)


def load_records(run_dir: str | Path, report: dict[str, Any]) -> list[Evaluation]:
    """The records ``report`` names (its ``evaluated`` keys, and its counterexamples'),
    read from RUN_DIR's store; a missing or unreadable one is left out."""
    keys = [k for k in report.get("evaluated") or [] if isinstance(k, str)]
    keys += [cx.get("key") for cx in report["counterexamples"] if isinstance(cx.get("key"), str)]
    if not (Path(run_dir) / "evaluations").is_dir():
        return []
    store = ResultStore(run_dir)
    found = (store.get(key) for key in dict.fromkeys(keys))
    return [e for e in found if e is not None]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "n/a" if value is None else str(value)


def process_line(process: dict[str, Any]) -> str:
    def short(spec):
        if spec is None:
            return "none"
        args = ", ".join(
            f"{k}={_fmt(v)}"
            for k, v in spec.items()
            if k != "type" and not isinstance(v, (list, dict))
        )
        return f"{spec['type']}({args})"

    view = process.get("view_mixing")
    return (
        f"latent {short(process['latent'])}, mixing {short(process['mixing'])}, "
        f"conditional {short(process.get('conditional'))}"
        + ("" if view is None else f", view mixing {short(view)}")
    )


def violations_line(cx: dict[str, Any]) -> str:
    parts = [
        e["assumption"] + ("" if e["statistic"] is None else f" ({_fmt(e['statistic'])})")
        for e in cx["evidence"]
        if e["verdict"] in ("violated", "inconclusive", "not-applicable")
    ]
    return ", ".join(parts) or "none"


def rate_line(cx: dict[str, Any]) -> str:
    """'failure on 2 of 3 seeds (rate 0.67, 95% CI 0.21–0.94; kept above 0.2)'."""
    rate = cx.get("rate")
    if not rate:
        return "rate not recorded"
    return (
        f"{cx['kind']} on {rate['agree']} of {rate['seeds']} seeds (rate {rate['value']:.2f}, "
        f"95% CI {rate['low']:.2f}–{rate['high']:.2f}; kept when the lower bound exceeds "
        f"{rate['level']:g})"
    )


def shrink_note(cx: dict[str, Any]) -> str:
    found = cx.get("found_as") or {}
    origin = f"found as {', '.join(f'{k}={_fmt(v)}' for k, v in found.items())}; " if found else ""
    if cx.get("minimal", True):
        return origin + "shrunk to the end"
    return origin + "shrinking stopped when the budget ran out: it may not be minimal"


def _budget_note(cx: dict[str, Any]) -> bool:
    check = cx.get("budget_check")
    return isinstance(check, dict) and bool(check.get("note"))


def inside_lines(report: dict[str, Any]) -> list[str]:
    """'16 of 40 evaluations (40%) lay inside the theorem (planned: 16 aimed inside).'"""
    inside = report.get("inside")
    if not isinstance(inside, dict):
        return []
    planned = inside.get("planned")
    phases = (report.get("plan") or {}).get("phases") or []
    aimed = any(p.get("aims") for p in phases)
    decided = report["evaluations"] - (report.get("quadrants") or {}).get("errors", 0)
    return [
        f"{inside.get('evaluations', 0)} of {decided} evaluations with a verdict "
        f"({100 * float(inside.get('share') or 0):.0f}%) lay inside the theorem (every "
        "assumption held)"
        + (
            f"; the plan aimed {planned} of the budget inside, the rest at one violation"
            if aimed and planned is not None
            else ""
        )
        + ".",
        "",
    ]


def necessity_rows(report: dict[str, Any]) -> list[list[str]]:
    """The necessity table as rows of text: assumption, lone violations, recovered,
    rate (95% interval), verdict, note."""
    rows = []
    for row in report.get("necessity") or []:
        rate = row.get("rate") or {}
        if rate.get("value") is None:
            shown = "n/a"
        else:
            shown = f"{rate['value']:.2f} ({rate['low']:.2f}–{rate['high']:.2f})"
        rows.append(
            [
                str(row.get("assumption")),
                str(row.get("evaluations")),
                str(row.get("recovered")),
                shown,
                str(row.get("verdict")),
                str(row.get("note")),
            ]
        )
    return rows


NECESSITY_HEADER = ["assumption", "alone violated", "recovered", "rate (95% CI)", "verdict", "note"]


def necessity_markdown(report: dict[str, Any]) -> list[str]:
    rows = necessity_rows(report)
    if not rows:
        return []
    lines = [
        "## Necessity: each assumption violated alone",
        "",
        "| " + " | ".join(NECESSITY_HEADER) + " |",
        "|" + "---|" * len(NECESSITY_HEADER),
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(report: dict[str, Any], figures: Sequence[str] = ()) -> str:
    """The report as Markdown; ``figures`` (``figures/NAME.png``) are linked at the end."""
    q = report["quadrants"]
    lines = [
        f"# sith search: {report['theorem']}",
        "",
        f"Status **{report['status']}** ({_mode(report)}): {report['evaluations']} evaluations "
        f"(budget {report['budget']}, seed {report['seed']}) in {report['seconds']:.0f} s. "
        f"Found **{report['counts']['gap']} gap(s)** and **{report['counts']['failure']} "
        f"failure(s)**; {report['counts']['rejected']} candidate(s) rejected as noise.",
        "",
        "| | recovered | not recovered |",
        "|---|---|---|",
        f"| assumptions hold | {q['holds_recovered']} (consistent) | "
        f"{q['holds_not_recovered']} (**failures**) |",
        f"| assumptions violated | {q['violated_recovered']} (**gaps**) | "
        f"{q['violated_not_recovered']} (consistent) |",
        "",
    ]
    lines += inside_lines(report)
    lines += necessity_markdown(report)
    by_diagnosis = report.get("failures_by_diagnosis") or {}
    if by_diagnosis:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(by_diagnosis.items()))
        lines += [
            f"Failures by diagnosis: {parts} (not-converged: optimisation; "
            "converged-not-recovered: identifiability).",
            "",
        ]
    if not report["counterexamples"]:
        lines += ["No counterexample survived re-evaluation within the budget.", ""]
    for i, cx in enumerate(report["counterexamples"], 1):
        claim = cx["claim_metric"]
        spread = cx["spread"]
        spread_text = (
            f" (over {spread['n']} seeds: {spread['min']:.3f}–{spread['max']:.3f})"
            if spread
            else ""
        )
        lines += [
            f"## {i}. {cx['kind']}: {process_line(cx['process'])}",
            "",
            f"- violated assumptions: {violations_line(cx)}",
            f"- {claim['name']} = {_fmt(claim['value'])} (threshold {claim['threshold']})"
            f"{spread_text}; recovered: {cx['recovered']}"
            + (f"; diagnosis: {cx['diagnosis']}" if cx.get("diagnosis") else ""),
            f"- {rate_line(cx)}",
            *([f"- more training: {cx['budget_check']['note']}"] if _budget_note(cx) else []),
            f"- searched parameters: {', '.join(f'{k}={_fmt(v)}' for k, v in cx['params'].items())}",
            f"- {shrink_note(cx)}",
            f"- reproduce: `{cx['reproduce']}`",
            "",
        ]
    if report["rejected"]:
        lines += ["## Rejected: not a counterexample often enough", ""]
        for cx in report["rejected"]:
            lines.append(f"- {process_line(cx['process'])}: {rate_line(cx)}")
        lines.append("")
    lines += text_check_lines(report)
    for path in figures:
        lines += [f"![{Path(path).stem}]({path})", ""]
    lines.append(citations.markdown_section(report["theorem"], report.get("provenance")))
    return "\n".join(lines)


def text_check_lines(report: dict[str, Any]) -> list[str]:
    """'## The statement, checked against the paper' with one line per part."""
    rows = report.get("text_checks") or []
    if not rows:
        return []
    lines = ["## The statement, checked against the paper", ""]
    for row in rows:
        status = "verified" if row.get("verified") else "unverified"
        differs = f" (sith differs: {row['differs']})" if row.get("differs") else ""
        lines.append(f"- {row.get('part')}: {status}: {row.get('where')}{differs}")
    return [*lines, ""]


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    "table{border-collapse:collapse;margin:0.5em 0 1em}th{background:#f4f4f4}"
    "code{background:#f4f4f4;padding:1px 4px;word-break:break-all}"
    ".violated{color:#b00020}.holds,.proved{color:#1b5e20}.inconclusive{color:#8a6d00}"
    ".not-applicable{color:#666}"
    "figure{display:inline-block;margin:0 1em 1em 0}img{max-width:100%;border:1px solid #ddd}"
)


def render_html(report: dict[str, Any], figures: list[Path] | None = None) -> str:
    """A standalone HTML page with everything the Markdown report has: the quadrant
    table, each counterexample with its evidence, spread, rate over seeds and reproduce
    command, the rejected candidates, and ``figures`` (PNG files) embedded as data URIs.

    Every value from the report is escaped: a report is data from a run directory that
    may come from someone else. Numbers are rounded for people (report.json is exact).
    """
    e = escape
    q, counts = report["quadrants"], report["counts"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>sith search: {e(report['theorem'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>sith search: {e(report['theorem'])}</h1>",
        f"<p>Status <b>{e(report['status'])}</b> ({e(_mode(report))}): "
        f"{e(report['evaluations'])} evaluations "
        f"(budget {e(report['budget'])}, seed {e(report['seed'])}) in "
        f"{e(_fmt(float(report['seconds'])))} s. Found <b>{e(counts.get('gap'))} gap(s)</b> and "
        f"<b>{e(counts.get('failure'))} failure(s)</b>; {e(counts.get('rejected'))} "
        "candidate(s) rejected as noise.</p>",
        "<table><tr><th></th><th>recovered</th><th>not recovered</th></tr>"
        f"<tr><th>assumptions hold</th><td>{e(q.get('holds_recovered'))} (consistent)</td>"
        f"<td>{e(q.get('holds_not_recovered'))} (<b>failures</b>)</td></tr>"
        f"<tr><th>assumptions violated</th><td>{e(q.get('violated_recovered'))} "
        f"(<b>gaps</b>)</td><td>{e(q.get('violated_not_recovered'))} (consistent)</td></tr>"
        f"<tr><th>errors</th><td colspan='2'>{e(q.get('errors', 0))}</td></tr></table>",
    ]
    inside = [line for line in inside_lines(report) if line]
    if inside:
        parts.append(f"<p>{e(inside[0])}</p>")
    rows = necessity_rows(report)
    if rows:
        parts.append("<h2>Necessity: each assumption violated alone</h2><table><tr>")
        parts += [f"<th>{e(h)}</th>" for h in NECESSITY_HEADER]
        parts.append("</tr>")
        for row in rows:
            parts.append(
                "<tr>"
                + "".join(
                    f"<td class='{e(cell)}'>{e(cell)}</td>" if i == 4 else f"<td>{e(cell)}</td>"
                    for i, cell in enumerate(row)
                )
                + "</tr>"
            )
        parts.append("</table>")
    by_diagnosis = report.get("failures_by_diagnosis") or {}
    if by_diagnosis:
        text = ", ".join(f"{k} {v}" for k, v in sorted(by_diagnosis.items()))
        parts.append(f"<p>Failures by diagnosis: {e(text)}.</p>")
    parts.append("<h2>Counterexamples</h2>")
    if not report["counterexamples"]:
        parts.append("<p>No counterexample survived re-evaluation within the budget.</p>")
    for i, cx in enumerate(report["counterexamples"], 1):
        parts.append(_html_counterexample(i, cx))
    if report["rejected"]:
        parts.append("<h2>Rejected: not a counterexample often enough</h2><ul>")
        parts += [
            f"<li>{e(process_line(cx['process']))}: {e(rate_line(cx))}</li>"
            for cx in report["rejected"]
        ]
        parts.append("</ul>")
    checks = text_check_lines(report)
    if checks:
        parts.append(f"<h2>{e(checks[0][3:])}</h2><ul>")
        parts += [f"<li>{e(line[2:])}</li>" for line in checks[2:] if line]
        parts.append("</ul>")
    if report.get("errors"):
        parts.append("<h2>Evaluation errors (first few)</h2><ul>")
        parts += [f"<li><code>{e(x.get('error'))}</code></li>" for x in report["errors"]]
        parts.append("</ul>")
    if figures:
        parts.append("<h2>Figures</h2>")
        for path in figures:
            data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
            parts.append(
                f"<figure><img alt='{e(Path(path).stem)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{e(Path(path).stem)}</figcaption></figure>"
            )
    parts.append(citations.html_section(report["theorem"], report.get("provenance")))
    parts.append("</body></html>")
    return "".join(parts)


def _html_counterexample(i: int, cx: dict[str, Any]) -> str:
    e = escape
    claim, spread = cx["claim_metric"], cx.get("spread") or {}
    spread_text = (
        f" (over {spread['n']} seeds: {_fmt(spread['min'])}–{_fmt(spread['max'])})"
        if spread
        else ""
    )
    evidence = "".join(
        f"<tr><td>{e(x.get('assumption'))}</td>"
        f"<td class='{e(x.get('verdict'))}'>{e(x.get('verdict'))}</td>"
        f"<td>{e(_fmt(x.get('statistic')))}</td><td>{e(_fmt(x.get('tolerance')))}</td>"
        f"<td>{e(x.get('method'))}</td><td>{e(x.get('message'))}</td></tr>"
        for x in cx["evidence"]
    )
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in cx["params"].items())
    diagnosis = f"; diagnosis: {cx['diagnosis']}" if cx.get("diagnosis") else ""
    return (
        f"<h3>{i}. {e(cx['kind'])}: {e(process_line(cx['process']))}</h3><ul>"
        f"<li>{e(claim['name'])} = {e(_fmt(claim.get('value')))} (threshold "
        f"{e(claim.get('threshold'))}){e(spread_text)}; recovered: {e(cx.get('recovered'))}"
        f"{e(diagnosis)}</li>"
        f"<li>{e(rate_line(cx))}</li>"
        + (f"<li>more training: {e(cx['budget_check']['note'])}</li>" if _budget_note(cx) else "")
        + f"<li>searched parameters: {e(params)}</li>"
        f"<li>{e(shrink_note(cx))}</li>"
        f"<li>reproduce: <code>{e(cx['reproduce'])}</code></li></ul>"
        "<table><tr><th>assumption</th><th>verdict</th><th>statistic</th><th>tolerance</th>"
        f"<th>how</th><th>detail</th></tr>{evidence}</table>"
    )


def _mode(report: dict[str, Any]) -> str:
    """Which mode trained the learners: nothing from the truth steered practice mode."""
    return "oracle mode" if report.get("oracle") else "practice mode"


def render_plots(
    report: dict[str, Any],
    figures: Path,
    formats: Sequence[str] = (),
    records: Iterable[Evaluation] = (),
) -> list[Path]:
    """PNG figures of the ``sith.report/1`` document ``report`` and the ``records`` it
    names (:func:`load_records`; needs the ``plots`` extra): true vs recovered latents per
    counterexample (from its record's held-out sample), and the claim metric against each
    numeric searched parameter. Returns the written paths."""
    plt = pyplot()
    if plt is None:
        return []
    import numpy as np

    by_key = {e.key: e for e in records}
    written = []
    for i, cx in enumerate(report["counterexamples"], 1):
        record = by_key.get(cx["key"])
        sample = ((record.recovery if record is not None else None) or {}).get("sample") or {}
        if not sample.get("z"):
            continue
        z, z_hat = np.asarray(sample["z"]), np.asarray(sample["z_hat"])
        n = z.shape[1]
        corr = np.abs(np.corrcoef(z.T, z_hat.T)[:n, n:])
        fig, axes = plt.subplots(1, n, figsize=(3 * n, 3), squeeze=False)
        for k in range(n):
            j = int(np.nanargmax(corr[k])) if np.isfinite(corr[k]).any() else 0
            axes[0, k].scatter(z[:, k], z_hat[:, j], s=4)
            axes[0, k].set_xlabel(f"true z{k + 1}")
            axes[0, k].set_ylabel(f"recovered ẑ{j + 1}")
        claim = cx.get("claim_metric") or {}
        fig.suptitle(f"{cx['kind']} {i}: {claim.get('name')} = {_fmt(claim.get('value'))}")
        tight_layout(fig)
        written.append(save_figure(fig, figures / f"counterexample-{i}.png", formats, dpi=80))
    evaluated = set(report.get("evaluated") or ())
    scored = [e for k, e in sorted(by_key.items()) if k in evaluated and e.claim_value is not None]
    numeric = sorted(
        {
            k
            for e in scored
            for k, v in e.params.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        }
    )
    if scored and numeric:
        fig, axes = plt.subplots(1, len(numeric), figsize=(3 * len(numeric), 3), squeeze=False)
        for ax, key in zip(axes[0], numeric, strict=True):
            for holds, colour in ((True, "tab:blue"), (False, "tab:red")):
                pts = [
                    (e.params[key], e.claim_value)
                    for e in scored
                    if e.holds is holds and key in e.params
                ]
                if pts:
                    xs, ys = zip(*pts, strict=True)
                    ax.scatter(
                        xs, ys, s=10, c=colour, label="assumptions hold" if holds else "violated"
                    )
            ax.set_xlabel(key)
            ax.set_ylabel(scored[0].claim["name"])
        axes[0, 0].legend(fontsize=7)
        tight_layout(fig)
        written.append(save_figure(fig, figures / "metric-vs-parameters.png", formats, dpi=80))
    return written


__all__ = [
    "SCHEMA",
    "SCHEMA_FILE",
    "build_report",
    "load_records",
    "load_report",
    "necessity_rows",
    "process_line",
    "render_html",
    "render_markdown",
    "render_plots",
    "violations_line",
]
