"""``sith search``: hunt gaps and failures of a theorem around its canonical process."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from pathlib import Path

import click

from verification import _startup_gc
from verification.cli import _common as common
from verification.cli import _options as opt

#: --vary axes -> the SearchSpace fields they stand for
SPACE_AXES = {"latent": "latents", "mixing": "mixings", "conditional": "conditionals"}


@click.command("search")
@click.argument("name")
@opt.shown(
    "--budget", 40, click.IntRange(1), "Number of evaluations (process + learner + seed) to spend."
)
@opt.seed
@opt.run_directory(
    "Run directory for the result store and reports (default: runs/NAME-sSEED-HASH, "
    "one per distinct search, resumed when it exists)."
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@opt.shown("--kinds", "gap,failure", None, "Which counterexamples to hunt: gap, failure or both.")
@click.option("--dim", "dims", metavar="N|LOW..HIGH", help="Latent dimensions to search.")
@click.option(
    "--inside-share",
    type=click.FloatRange(0, 1),
    default=None,
    help="Share of the budget spent inside the theorem hunting failures (default: the "
    "space's, 0.4); the rest goes to candidates that violate exactly one assumption.",
)
@click.option(
    "--vary",
    metavar="AXES",
    help="Only vary these axes (comma-separated: latent, mixing, conditional, learner); "
    "the others stay at their first (canonical) option.",
)
@opt.shown(
    "--reseeds",
    2,
    click.IntRange(0),
    "Fresh-seed re-evaluations of each counterexample (more: a tighter rate).",
)
@opt.shown(
    "--min-rate",
    0.2,
    click.FloatRange(0, 1, max_open=True),
    "Keep a counterexample when the lower 95% Wilson bound of its rate over seeds exceeds this.",
)
@opt.shown(
    "--fail-on",
    "none",
    click.Choice(["gap", "failure", "any", "none"]),
    "Exit 1 when such counterexamples are found (for CI).",
)
@opt.evaluation_time_limit()
@opt.oracle()
@opt.executor(
    "evaluations run",
    help_text="Where evaluations run: serial, local (a process pool) or dask. With workers, "
    "what hypothesis generates before each counterexample runs WORKERS at a time; the "
    "report is the serial search's.",
)
@opt.outputs
@opt.json_option("Print the report JSON.")
@opt.quiet
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="One line per evaluation naming its parameters, also on a terminal.",
)
def search_command(
    name,
    budget,
    seed,
    out,
    resume,
    kinds,
    dims,
    inside_share,
    vary,
    reseeds,
    min_rate,
    fail_on,
    evaluation_time_limit,
    oracle,
    run_on,
    outputs,
    as_json,
    quiet,
    verbose,
):
    """Search for gaps and failures of theorem NAME around its canonical process.

    A gap: an assumption is violated, yet the claim is recovered. A failure: all
    assumptions hold, yet it is not. Each is shrunk to a minimal process, confirmed
    with fresh seeds, and written to OUT/report.json and OUT/report.md.

    \b
    Examples:
      sith search cl-ica
      sith search cl-ica --budget 20 --dim 2..3 --vary conditional --out runs/clica
      sith search linear-ica --kinds failure --fail-on failure
    """
    from verification._runs import default_directory
    from verification._search import RunDirectory, build_report, search
    from verification._search.derive import space_for
    from verification.cli._progress import SearchProgress

    theorem = common.theorem_named(name)
    space = space_for(theorem)
    kinds_tuple = tuple(k.strip() for k in kinds.split(",") if k.strip())
    if not kinds_tuple or set(kinds_tuple) - {"gap", "failure"}:
        common.fail(f"--kinds expects gap, failure or gap,failure; got {kinds!r}")
    space = space.narrow(**_narrowing(space, dims, inside_share, vary))
    if out is None:
        # one directory per distinct search: rerunning the same command resumes it
        # (finished evaluations are reused, the report is the same), so it is idempotent
        config = {
            "space": space.to_dict(),
            "budget": budget,
            "kinds": kinds_tuple,
            "reseeds": reseeds,
            "min_rate": min_rate,
            "oracle": oracle,
        }
        out = default_directory("search", f"{name}-s{seed}", config)
        resume = True
    outputs.check()
    _startup_gc.resume()  # the command's imports are done (see verification._startup_gc)
    progress = None if quiet or as_json else SearchProgress(budget, verbose)
    with progress or contextlib.nullcontext(), common.sigterm_as_interrupt() as terminated:
        result = search(
            theorem,
            space,
            budget=budget,
            seed=seed,
            kinds=kinds_tuple,
            out=out,
            resume=resume,
            reseeds=reseeds,
            min_rate=min_rate,
            oracle=oracle,
            on_record=progress.update if progress else None,
            evaluation_time_limit=evaluation_time_limit,
            imports=common.root_imports(),
            figures=outputs.formats(),
            **dataclasses.asdict(run_on),
        )
    report = build_report(result, RunDirectory(out).counterexample_path)
    if as_json:
        common.echo(json.dumps(report, indent=2))
    elif not quiet:
        print_search(report, out)
    if outputs.tracked:
        from verification.tracking import Record

        common.track(
            outputs,
            command="search",
            theorem=result.theorem,
            records=[Record.from_evaluation(e) for e in result.records],
            provenance_=report.get("provenance"),
            artifacts=[Path(out) / "report.json", Path(out) / "report.md"],
            status=result.status,
            params={"seed": seed, "budget": budget, "kinds": ",".join(result.kinds)},
            quiet=quiet or as_json,
        )
    if result.status == "interrupted":  # the conventional codes, whatever --fail-on says
        sys.exit(common.EXIT_TERMINATED if terminated else common.EXIT_INTERRUPTED)
    if result.evaluations and result.quadrants.get("errors") == result.evaluations:
        first = result.errors[0]["error"] if result.errors else "unknown"
        common.fail(f"every evaluation failed; the first with {first}")
    found = {
        "gap": result.gaps,
        "failure": result.failures,
        "any": result.counterexamples,
        "none": [],
    }[fail_on]
    sys.exit(1 if found else 0)


def _narrowing(space, dims: str | None, inside_share: float | None, vary: str | None) -> dict:
    """The ``SearchSpace.narrow`` changes that --dim, --inside-share and --vary ask for."""
    changes: dict = {}
    if dims is not None:
        changes["dims"] = parse_range(dims, "dim")
    if inside_share is not None:
        changes["inside_share"] = inside_share
    if vary is not None:
        axes = {a.strip() for a in vary.split(",") if a.strip()}
        unknown = axes - {*SPACE_AXES, "learner"}
        if unknown:
            common.fail(
                f"--vary: unknown axis {', '.join(sorted(unknown))}; use latent, mixing, "
                "conditional, learner"
            )
        for axis, field_name in SPACE_AXES.items():
            if axis not in axes:
                changes[field_name] = getattr(space, field_name)[:1]
        if "mixing" not in axes and space.view_mixings:  # the positive view's mixing too
            changes["view_mixings"] = space.view_mixings[:1]
        if "learner" not in axes:
            changes["learner_options"] = {k: v[:1] for k, v in space.learner_options.items()}
    return changes


def parse_range(text: str | None, name: str) -> tuple[int, int] | None:
    """'2..5' -> (2, 5); '3' -> (3, 3)."""
    if text is None:
        return None
    low, sep, high = text.partition("..")
    try:
        pair = (int(low), int(high)) if sep else (int(low), int(low))
    except ValueError:
        common.fail(f"--{name} expects N or LOW..HIGH (integers), got {text!r}")
    if pair[0] > pair[1] or pair[0] < 1:
        common.fail(f"--{name} expects 1 <= LOW <= HIGH, got {text!r}")
    return pair


def print_search(report: dict, out: str) -> None:
    from verification._search.reports import (
        NECESSITY_HEADER,
        inside_lines,
        necessity_rows,
        process_line,
        violations_line,
    )

    screen = common.console()
    q = report["quadrants"]
    screen.print(
        f"[bold]{common.m(report['theorem'])}[/]: {report['evaluations']} evaluations in "
        f"{report['seconds']:.0f} s, status {report['status']}; "
        f"{report['counts']['gap']} gap(s), {report['counts']['failure']} failure(s), "
        f"{report['counts']['rejected']} rejected as noise"
    )
    screen.print(
        f"quadrants: holds&recovered {q['holds_recovered']}, holds&not "
        f"{q['holds_not_recovered']}, violated&recovered {q['violated_recovered']}, "
        f"violated&not {q['violated_not_recovered']}, errors {q['errors']}"
    )
    for line in inside_lines(report)[:1]:
        screen.print(common.m(line))
    rows = necessity_rows(report)
    if rows:
        necessity = common.table(
            "necessity: each assumption violated alone", NECESSITY_HEADER, title_justify="left"
        )
        for row in rows:
            necessity.add_row(*(common.cell(c) for c in row))
        screen.print(necessity)
    columns = (
        "#",
        "kind",
        "violated (statistic)",
        "claim metric",
        "rate over seeds",
        "minimal process",
        "reproduce",
    )
    found = common.table("counterexamples", columns, title_justify="left")
    for i, cx in enumerate(report["counterexamples"], 1):
        claim = cx["claim_metric"]
        found.add_row(
            str(i),
            common.cell(cx["kind"]),
            common.cell(violations_line(cx)),
            common.cell(f"{claim['name']}={claim['value']:.3f}"),
            f"{cx['rate']['agree']}/{cx['rate']['seeds']} "
            f"(CI {cx['rate']['low']:.2f}–{cx['rate']['high']:.2f})",
            common.cell(process_line(cx["process"])),
            common.cell(cx["reproduce"]),
        )
    screen.print(found)
    for i, cx in enumerate(report["counterexamples"], 1):
        budget_check = cx.get("budget_check") or {}
        if budget_check.get("note"):
            screen.print(
                common.m(
                    f"{i}. {cx['kind']}, diagnosis {cx.get('diagnosis')}: {budget_check['note']}"
                )
            )
    screen.print(f"report: {common.m(out)}/report.json, {common.m(out)}/report.md")
