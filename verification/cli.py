"""The ``sith`` command line: check assumptions and theorems, list the catalogue.

Thin by design: every command calls the same functions a Python user calls.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import PackageNotFoundError, version

import click
from rich.console import Console
from rich.table import Table

import theory as th
from verification._loading import LoadError, load_attribute
from verification.checks import DEFAULT_POINTS, check, resolve
from verification.evidence import Evidence, EvidenceSet

VERDICT_STYLE = {
    "proved": "bold green",
    "holds": "green",
    "violated": "bold red",
    "inconclusive": "yellow",
}


def _version() -> str:
    try:
        return version("sith-toolkit")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def _console() -> Console:
    tty = sys.stdout.isatty()
    return Console(highlight=False, width=None if tty else 140, no_color=not tty)


class BadInput(click.ClickException):
    """Bad user input: one clear line on stderr, exit code 2."""

    exit_code = 2


def _fail(message: str) -> None:
    raise BadInput(message)


def _load_process(spec: str | None, target) -> th.Process:
    if spec is None:
        if isinstance(target, th.Theorem) and target.canonical is not None:
            return target.canonical_process()
        _fail(
            "--process FILE.py:ATTR is required for an assumption (theorems default to "
            "their canonical process)"
        )
    try:
        obj = load_attribute(spec)
    except LoadError as err:
        _fail(str(err))
    if callable(obj) and not isinstance(obj, th.Process):
        obj = obj()
    if not isinstance(obj, th.Process):
        _fail(f"{spec} is a {type(obj).__name__}, not a theory.Process")
    return obj


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="sith")
def main() -> None:
    """sith: state identifiability assumptions, check them, measure the gap.

    \b
    Examples:
      sith theorems
      sith check cl-ica                              # canonical process of the theorem
      sith check conformal --process spec.py:process --json
    """


@main.command("check")
@click.argument("name")
@click.option(
    "--process",
    "process_spec",
    metavar="FILE.py:ATTR",
    help="The Process to check (an object or a function returning one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--n-points",
    default=DEFAULT_POINTS,
    show_default=True,
    type=click.IntRange(2),
    help="Sampled points per numeric check.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for every draw.")
@click.option(
    "--time-limit",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds for each exact sympy attempt.",
)
@click.option("--quiet", is_flag=True, help="No output; the exit code says it all.")
def check_command(name, process_spec, as_json, n_points, seed, time_limit, quiet):
    """Check assumption or theorem NAME on a process.

    Exit code 0 when every assumption is proved or holds, 1 when one is violated or
    inconclusive, 2 on bad input.

    \b
    Examples:
      sith check cl-ica
      sith check injective --process my_spec.py:process --json
    """
    try:
        target = resolve(name)
    except KeyError as err:
        _fail(err.args[0])
    process = _load_process(process_spec, target)
    try:
        result = check(target, process, n_points=n_points, seed=seed, time_limit=time_limit)
    except (ValueError, TypeError) as err:
        _fail(f"cannot check {name}: {err}")
    items = list(result) if isinstance(result, EvidenceSet) else [result]
    if as_json:
        payload = {
            "target": name,
            "process": process.to_dict(),
            "evidence": [e.to_dict() for e in items],
        }
        click.echo(json.dumps(payload, indent=2))
    elif not quiet:
        _print_evidence(name, process, items)
    sys.exit(0 if all(e.satisfied for e in items) else 1)


def _print_evidence(name: str, process: th.Process, items: list[Evidence]) -> None:
    table = Table(title=f"{name} on {process.describe()}", title_justify="left")
    for column in ("assumption", "verdict", "statistic", "tolerance", "points", "how", "detail"):
        table.add_column(column, overflow="fold")
    for e in items:
        table.add_row(
            e.assumption,
            f"[{VERDICT_STYLE[e.verdict]}]{e.verdict}[/]",
            "" if e.statistic is None else f"{e.statistic:.3g}",
            "" if e.tolerance is None else f"{e.tolerance:.3g}",
            str(e.n_points),
            e.method,
            e.message + ("" if not e.witness else f"  witness: {_short(e.witness)}"),
        )
    _console().print(table)


def _short(witness: dict) -> str:
    def fmt(v):
        if isinstance(v, list):
            return "[" + ", ".join(f"{x:.3g}" if isinstance(x, float) else str(x) for x in v) + "]"
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    return ", ".join(f"{k}={fmt(v)}" for k, v in witness.items())


@main.command("theorems")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def theorems_command(as_json):
    """List the theorem catalogue."""
    items = th.theorems.catalogue()
    if as_json:
        click.echo(json.dumps([t.to_dict() for t in items], indent=2))
        return
    table = Table(title="theorems")
    for column in ("name", "assumptions", "learner", "claim", "source"):
        table.add_column(column, overflow="fold")
    for t in items:
        table.add_row(
            t.name, ", ".join(a.name for a in t.assumptions), t.learner, str(t.claim), t.cite
        )
    _console().print(table)


@main.command("assumptions")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def assumptions_command(as_json):
    """List the assumption catalogue."""
    items = [th.assumptions.get(n) for n in th.assumptions.names()]
    if as_json:
        click.echo(
            json.dumps(
                [{"name": a.name, "statement": a.description, "cite": a.cite} for a in items],
                indent=2,
            )
        )
        return
    table = Table(title="assumptions")
    for column in ("name", "statement", "source"):
        table.add_column(column, overflow="fold")
    for a in items:
        table.add_row(a.name, a.description, a.cite)
    _console().print(table)


if __name__ == "__main__":  # pragma: no cover
    main()
