"""``sith check``: check an assumption or a theorem's assumptions on a process."""

from __future__ import annotations

import json
import sys

import click

from verification.cli import _common as common
from verification.cli import _options as opt

#: sampled points per numeric check (``verification.checks.DEFAULT_POINTS``; a test
#: keeps the two equal, so that ``--help`` needs no torch)
DEFAULT_POINTS = 1024


@click.command("check")
@click.argument("name")
@opt.process("The Process to check (default for a theorem: its canonical process).")
@opt.as_json
@opt.shown("--n-points", DEFAULT_POINTS, click.IntRange(2), "Sampled points per numeric check.")
@opt.seed
@opt.shown("--time-limit", 2.0, click.FloatRange(0), "Seconds for each exact sympy attempt.")
@opt.shown(
    "--adversarial-steps",
    60,
    click.IntRange(0),
    "Steps of the adversarial search that tries to break a Jacobian condition.",
)
@opt.learner_options
@opt.out_file
@opt.quiet
def check_command(
    name,
    process_spec,
    as_json,
    n_points,
    seed,
    time_limit,
    adversarial_steps,
    learner_name,
    settings_,
    out_file,
    quiet,
):
    """Check assumption or theorem NAME on a process.

    Exit code 0 when every assumption is proved or holds, 1 when one is violated or
    inconclusive, 2 on bad input. A theorem's assumptions about its learner are
    checked for its own learner, or for --learner with --set options.

    \b
    Examples:
      sith check cl-ica
      sith check cl-ica --set tau=0.1
      sith check injective --process my_spec.py:process --json
    """
    import theory as th
    from verification.checks import check, resolve
    from verification.evidence import EvidenceSet

    process = common.load_process(process_spec, None) if process_spec else None
    target = common.named(name, resolve, th.Theorem, th.Assumption)
    learner = common.cli_learner(target, learner_name, settings_)
    common.prepare_out(out_file)
    process = process or common.load_process(process_spec, target)
    result = check(
        target,
        process,
        n_points=n_points,
        seed=seed,
        time_limit=time_limit,
        adversarial_steps=adversarial_steps,
        learner=learner,
    )
    items = list(result) if isinstance(result, EvidenceSet) else [result]
    payload = {
        "target": name,
        "process": process.to_dict(),
        "evidence": [e.to_dict() for e in items],
    }
    common.write_json(out_file, payload)
    if as_json:
        common.echo(json.dumps(payload, indent=2))
    elif not quiet:
        print_evidence(name, process, items)
    sys.exit(0 if all(e.satisfied for e in items) else 1)


def print_evidence(name: str, process, items) -> None:
    out = common.table(
        f"{common.m(name)} on {common.m(process.describe())}",
        ("assumption", "verdict", "statistic", "tolerance", "points", "how", "detail"),
        title_justify="left",
    )
    for e in items:
        out.add_row(
            common.cell(e.assumption),
            f"[{common.VERDICT_STYLE[e.verdict]}]{e.verdict}[/]",
            "" if e.statistic is None else f"{e.statistic:.3g}",
            "" if e.tolerance is None else f"{e.tolerance:.3g}",
            str(e.n_points),
            common.cell(e.method),
            common.cell(
                e.message + ("" if not e.witness else f"  witness: {short_witness(e.witness)}")
            ),
        )
    common.console().print(out)


def short_witness(witness: dict) -> str:
    """A witness for a table cell: key=value pairs, floats to 3 significant digits."""

    def fmt(v):
        if isinstance(v, list):
            return "[" + ", ".join(f"{x:.3g}" if isinstance(x, float) else str(x) for x in v) + "]"
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    return ", ".join(f"{k}={fmt(v)}" for k, v in witness.items())
