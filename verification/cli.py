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


@main.command("recover")
@click.argument("name")
@click.option(
    "--process",
    "process_spec",
    metavar="FILE.py:ATTR",
    help="The Process to learn from (default: the theorem's canonical process).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for every draw.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a summary.")
@click.option("--steps", type=click.IntRange(1), help="Training steps (learner default if unset).")
@click.option("--batch-size", type=click.IntRange(2), help="Training batch size.")
@click.option("--lr", type=click.FloatRange(0, min_open=True), help="Learning rate.")
@click.option(
    "--time-budget",
    type=click.FloatRange(0, min_open=True),
    help="Stop training after this many seconds.",
)
@click.option("--quiet", is_flag=True, help="No output; the exit code says it all.")
def recover_command(name, process_spec, seed, as_json, steps, batch_size, lr, time_budget, quiet):
    """Train NAME's learner on a process and measure recovery up to its claim.

    Exit code 0 when the claim is recovered, 1 when it is not, 2 on bad input.

    \b
    Examples:
      sith recover cl-ica --seed 0
      sith recover linear-ica --process spec.py:p --json
    """
    from verification import learners
    from verification.recovery import recover

    try:
        theorem = th.theorems.get(name)
    except KeyError as err:
        _fail(err.args[0])
    process = _load_process(process_spec, theorem)
    try:
        learner = learners.get(theorem.learner)
        train = getattr(learner, "train", None)
        overrides = {"steps": steps, "batch_size": batch_size, "lr": lr, "time_budget": time_budget}
        for key, value in overrides.items():
            if value is not None:
                if train is None:
                    _fail(f"--{key.replace('_', '-')} does not apply to learner {learner.name}")
                setattr(train, key, value)
        if theorem.claim.content and hasattr(learner, "content"):
            learner.content = theorem.claim.content
        result = recover(theorem, process, seed=seed, learner=learner)
    except (ValueError, TypeError) as err:
        _fail(f"cannot recover {name}: {err}")
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif not quiet:
        _print_recovery(result)
    sys.exit(0 if result.recovered else 1)


def _print_recovery(result) -> None:
    verdict = "[bold green]recovered[/]" if result.recovered else "[bold red]not recovered[/]"
    op = "≥" if result.higher_is_better else "≤"
    console = _console()
    console.print(
        f"{result.theorem}: {verdict}  {result.claim_metric} = "
        f"{result.claim_value:.4f} (claim: {op} {result.threshold})  "
        f"status={result.status}  {result.steps} steps in {result.train_seconds:.1f} s"
    )
    if result.message:
        console.print(f"  {result.message}")
    table = Table(title="held-out metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in sorted(result.metrics.items()):
        table.add_row(key, f"{value:.4f}")
    console.print(table)


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
