"""``sith search``: hunt gaps and failures of a theorem around its canonical process."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click

from verification.cli import _options as opt
from verification.cli._common import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    cell,
    check_tracking,
    console,
    echo,
    fail,
    m,
    root_imports,
    sigterm_as_interrupt,
    table,
    theorem_named,
    track,
)
from verification.cli._common import (
    figure_formats as parse_figures,
)

#: --vary axes -> the SearchSpace fields they stand for
SPACE_AXES = {"latent": "latents", "mixing": "mixings", "conditional": "conditionals"}


@click.command("search")
@click.argument("name")
@click.option(
    "--budget",
    default=40,
    show_default=True,
    type=click.IntRange(1),
    help="Number of evaluations (process + learner + seed) to spend.",
)
@opt.seed
@opt.run_directory(
    "Run directory for the result store and reports (default: runs/NAME-sSEED-HASH, "
    "one per distinct search, resumed when it exists)."
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@click.option(
    "--kinds",
    default="gap,failure",
    show_default=True,
    help="Which counterexamples to hunt: gap, failure or both.",
)
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
@click.option(
    "--reseeds",
    default=2,
    show_default=True,
    type=click.IntRange(0),
    help="Fresh-seed re-evaluations of each counterexample (more: a tighter rate).",
)
@click.option(
    "--min-rate",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0, 1, max_open=True),
    help="Keep a counterexample when the lower 95% Wilson bound of its rate over seeds "
    "exceeds this.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["gap", "failure", "any", "none"]),
    default="none",
    show_default=True,
    help="Exit 1 when such counterexamples are found (for CI).",
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
    executor,
    workers,
    threads,
    address,
    figure_formats,
    track_uri,
    tensorboard_dir,
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
    from theory._spec import digest
    from verification._search import RunDirectory, build_report, search
    from verification._search.derive import space_for
    from verification.cli._progress import SearchProgress

    theorem = theorem_named(name)
    space = space_for(theorem)
    kinds_tuple = tuple(k.strip() for k in kinds.split(",") if k.strip())
    if not kinds_tuple or set(kinds_tuple) - {"gap", "failure"}:
        fail(f"--kinds expects gap, failure or gap,failure; got {kinds!r}")
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
        out = f"runs/{name}-s{seed}-{digest(config, length=8)}"
        resume = True
    check_tracking(track_uri, tensorboard_dir)
    progress = None if quiet or as_json else SearchProgress(budget, verbose)
    with progress or contextlib.nullcontext(), sigterm_as_interrupt() as terminated:
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
            executor=executor,
            workers=workers,
            threads=threads,
            address=address,
            imports=root_imports(),
            figures=parse_figures(figure_formats),
        )
    report = build_report(result, RunDirectory(out).counterexample_path)
    if as_json:
        echo(json.dumps(report, indent=2))
    elif not quiet:
        print_search(report, out)
    if track_uri or tensorboard_dir:
        from verification.tracking import Record

        track(
            track_uri,
            tensorboard_dir,
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
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    if result.evaluations and result.quadrants.get("errors") == result.evaluations:
        first = result.errors[0]["error"] if result.errors else "unknown"
        fail(f"every evaluation failed; the first with {first}")
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
            fail(
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
        fail(f"--{name} expects N or LOW..HIGH (integers), got {text!r}")
    if pair[0] > pair[1] or pair[0] < 1:
        fail(f"--{name} expects 1 <= LOW <= HIGH, got {text!r}")
    return pair


def print_search(report: dict, out: str) -> None:
    from verification._search.reports import (
        NECESSITY_HEADER,
        inside_lines,
        necessity_rows,
        process_line,
        violations_line,
    )

    screen = console()
    q = report["quadrants"]
    screen.print(
        f"[bold]{m(report['theorem'])}[/]: {report['evaluations']} evaluations in "
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
        screen.print(m(line))
    rows = necessity_rows(report)
    if rows:
        necessity = table(
            "necessity: each assumption violated alone", NECESSITY_HEADER, title_justify="left"
        )
        for row in rows:
            necessity.add_row(*(cell(c) for c in row))
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
    found = table("counterexamples", columns, title_justify="left")
    for i, cx in enumerate(report["counterexamples"], 1):
        claim = cx["claim_metric"]
        found.add_row(
            str(i),
            cell(cx["kind"]),
            cell(violations_line(cx)),
            cell(f"{claim['name']}={claim['value']:.3f}"),
            f"{cx['rate']['agree']}/{cx['rate']['seeds']} "
            f"(CI {cx['rate']['low']:.2f}–{cx['rate']['high']:.2f})",
            cell(process_line(cx["process"])),
            cell(cx["reproduce"]),
        )
    screen.print(found)
    for i, cx in enumerate(report["counterexamples"], 1):
        budget_check = cx.get("budget_check") or {}
        if budget_check.get("note"):
            screen.print(
                m(f"{i}. {cx['kind']}, diagnosis {cx.get('diagnosis')}: {budget_check['note']}")
            )
    screen.print(f"report: {m(out)}/report.json, {m(out)}/report.md")
