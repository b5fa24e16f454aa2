"""``sith recover``: train a theorem's learner and measure recovery up to its claim."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from verification.cli import _common as common
from verification.cli import _options as opt


@click.command("recover")
@click.argument("name")
@opt.process("The Process to learn from (default: the theorem's canonical process).")
@opt.seed
@opt.json_option("Print JSON instead of a summary.")
@click.option("--steps", type=click.IntRange(1), help="Training steps (learner default if unset).")
@click.option("--batch-size", type=click.IntRange(2), help="Training batch size.")
@click.option("--lr", type=click.FloatRange(0, min_open=True), help="Learning rate.")
@click.option(
    "--time-budget",
    type=click.FloatRange(0, min_open=True),
    help="Stop training after this many seconds.",
)
@opt.learner_options
@opt.oracle()
@opt.out_file
@opt.packed("outputs", opt.Outputs, opt.track, opt.tensorboard)
@opt.quiet
def recover_command(
    name,
    process_spec,
    seed,
    as_json,
    steps,
    batch_size,
    lr,
    time_budget,
    learner_name,
    oracle,
    settings_,
    out_file,
    outputs,
    quiet,
):
    """Train NAME's learner on a process and measure recovery up to its claim.

    The default learner is the theorem's own, with the settings its paper analyses,
    derived from the process (cl-ica: InfoNCE at τ = 1/κ): use it to test the theorem.
    A named variant that works better in practice (cl-ica: --learner
    infonce-practical, τκ = 3) is reported as outside the theorem: use it for a good
    encoder, or to show which assumption was not needed. `sith learners` lists them.

    Exit code 0 when the claim is recovered, 1 when it is not, 2 on bad input.

    \b
    Examples:
      sith recover cl-ica --seed 0
      sith recover cl-ica --learner infonce-practical --seed 0
      sith recover linear-ica --process spec.py:p --json
      sith recover cl-ica --learner infonce-lp --set tau=0.2
    """
    from verification import provenance
    from verification.checks.learner import learner_coverage
    from verification.recovery import recover
    from verification.spaces import apply_options

    process = common.load_process(process_spec, None) if process_spec else None
    theorem = common.theorem_named(name)
    learner = common.cli_learner(theorem, learner_name, ())
    overrides = {"steps": steps, "batch_size": batch_size, "lr": lr, "time_budget": time_budget}
    options = {f"train.{k}": v for k, v in overrides.items() if v is not None}
    if options and getattr(learner, "train", None) is None:
        flags = ", ".join("--" + k.split(".")[1].replace("_", "-") for k in options)
        verb = "does" if len(options) == 1 else "do"
        common.fail(f"{flags} {verb} not apply to learner {learner.name}: it has no training loop")
    from verification._options import parse_options

    apply_options(learner, {**options, **parse_options(learner, settings_)})
    common.prepare_out(out_file)
    outputs.check()
    process = process or common.load_process(process_spec, theorem)
    result = recover(theorem, process, seed=seed, learner=learner, oracle=oracle)
    coverage = learner_coverage(theorem, process, learner, seed)
    made_by = provenance.collect(seed=seed, device=getattr(learner, "device", None))
    payload = {**result.to_dict(), **coverage, "provenance": made_by}
    common.write_json(out_file, payload)
    if as_json:
        common.echo(json.dumps(payload, indent=2))
    elif not quiet:
        print_recovery(result)
        print_coverage(coverage)
    if outputs.tracked:
        track_recovery(result, payload, outputs, quiet or as_json)
    sys.exit(0 if result.recovered else 1)


def track_recovery(result, payload: dict, outputs: opt.Outputs, quiet: bool) -> None:
    """One recover as a tracked command with one evaluation."""
    import tempfile

    from theory._spec import digest
    from verification.tracking import Record

    inputs = {k: payload[k] for k in ("theorem", "process", "learner", "seed", "oracle")}
    record = Record(
        key=digest(inputs, length=20),
        theorem=result.theorem,
        process=result.process,
        learner=result.learner,
        seed=result.seed,
        params={},
        recovery=payload,
        seconds=result.seconds,
    )
    with tempfile.TemporaryDirectory() as folder:
        artifact = Path(folder) / "recover.json"
        artifact.write_text(json.dumps(payload, indent=2))
        common.track(
            outputs,
            command="recover",
            theorem=result.theorem,
            records=[record],
            provenance_=payload["provenance"],
            artifacts=[artifact],
            params={"seed": result.seed, "learner_covered": payload.get("learner_covered")},
            quiet=quiet,
        )


def print_coverage(coverage: dict) -> None:
    out = common.console()
    if not coverage["learner_assumptions"]:
        out.print("  learner: the theorem states no assumption about its learner")
    elif coverage["learner_covered"]:
        out.print("  learner: inside the theorem's learner assumptions")
    else:
        out.print("  learner: [bold]outside the theorem[/] (a recovery here is a gap):")
        for item in coverage["learner_assumptions"]:
            if item["verdict"] in ("violated", "inconclusive"):
                out.print(
                    f"    {common.m(item['assumption'])} {item['verdict']}: {common.m(item['message'])}"
                )


def print_recovery(result) -> None:
    verdict = "[bold green]recovered[/]" if result.recovered else "[bold red]not recovered[/]"
    op = "≥" if result.higher_is_better else "≤"
    out = common.console()
    out.print(
        f"{common.m(result.theorem)}: {verdict}  {common.m(result.claim_name)} = "
        f"{result.claim_metric:.4f} (claim: {op} {result.threshold})  "
        f"status={result.status}  {result.steps} steps in {result.train_seconds:.1f} s"
    )
    gap = "" if result.optimality_gap is None else f", optimality gap {result.optimality_gap:.3g}"
    mode = "oracle mode" if result.oracle else "practice mode"
    out.print(f"  diagnosis: {common.m(result.diagnosis)}{gap} ({mode})")
    if result.message:
        out.print(f"  {common.m(result.message)}")
    metrics = common.table("held-out metrics", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for key, value in sorted(result.metrics.items()):
        metrics.add_row(common.cell(key), f"{value:.4f}")
    out.print(metrics)
