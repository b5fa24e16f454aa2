"""``sith report``: re-render a search's, a sweep's or an alignment's report."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import click

from verification.cli import _options as opt
from verification.cli._common import echo, fail, prepare_out

#: a run directory's document -> (its reports module, loader, LaTeX tables); any other
#: directory holds a search's report.json
DOCUMENTS = {
    "align.json": ("verification._align.reports", "load_align", "align_tables"),
    "sweep.json": ("verification._sweep.reports", "load_sweep", "sweep_tables"),
}


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False))
@opt.shown(
    ("--format", "fmt"),
    "md",
    click.Choice(["md", "html", "json", "latex"]),
    "latex: booktabs tables to \\input into a paper (needs \\usepackage{booktabs}).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    help="Write to this file instead of standard output.",
)
@opt.packed("outputs", opt.Outputs, opt.figures)
def report_command(run_dir, fmt, out_file, outputs):
    """Re-render a search's report (RUN_DIR/report.json), a sweep's (RUN_DIR/sweep.json) or
    an alignment's (RUN_DIR/align.json), and redraw its figures in RUN_DIR/figures from
    the document (a search's with the records it names in RUN_DIR/evaluations).

    --format latex gives booktabs tables (quadrants and counterexamples; the claim metric
    by setting with 95% intervals; alignment matrices), every string escaped and every
    number rounded to its uncertainty. --figures pdf,svg also writes the figures as
    vector files for a paper.

    \b
    Examples:
      sith report runs/cl-ica-s0 --format html --out report.html
      sith report runs/bs --format latex --out bs-table.tex --figures pdf
    """
    from verification import latex_tables
    from verification._files import write_atomic
    from verification._runs import figures_of
    from verification._search import reports as search_reports

    prepare_out(out_file)
    run = Path(run_dir)
    document = "report.json"
    found = [d for d in DOCUMENTS if (run / d).is_file() and not (run / document).is_file()]
    if found:
        document = found[0]
        module_name, loader, latex = DOCUMENTS[document]
        reports = importlib.import_module(module_name)
        report = getattr(reports, loader)(run_dir)
        as_markdown = lambda r: reports.render_markdown(r, figures_of(run))  # noqa: E731
        as_html = lambda r: reports.render_html(r, figures_of(run))  # noqa: E731
        as_latex = getattr(latex_tables, latex)
        redraw = reports.render_plots
    else:
        report = search_reports.load_report(run_dir)
        as_markdown = lambda r: search_reports.render_markdown(r, figures_of(run))  # noqa: E731
        as_html = lambda r: search_reports.render_html(  # noqa: E731
            r, [run / f for f in figures_of(run)]
        )
        as_latex = latex_tables.search_tables

        def redraw(r, figures, formats):  # from report.json and the records it names
            return search_reports.render_plots(
                r, figures, formats, search_reports.load_records(run, r)
            )

    formats = outputs.formats()
    render = {
        "md": as_markdown,
        "html": as_html,
        "json": lambda r: json.dumps(r, indent=2),
        "latex": as_latex,
    }
    try:
        if report.get("status") != "running":  # figures are drawn from the document
            try:
                redraw(report, run / "figures", formats)
            except OSError as err:  # a directory this user may not write: render as it is
                if formats:
                    fail(f"--figures: cannot write {run / 'figures'}: {err.strerror or err}")
        text = render[fmt](report)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        fail(f"{run_dir}/{document} is malformed: {type(err).__name__}: {err}")
    if out_file:
        write_atomic(Path(out_file), text)
    else:
        echo(text)
