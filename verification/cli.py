"""The ``sith`` command line: check assumptions and theorems, list the catalogue.

Thin by design: every command calls the same functions a Python user calls.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.table import Table
from rich.text import Text

import theory as th
from theory._json import load_json
from theory._spec import digest
from theory.errors import SithError, UnknownName
from verification import provenance
from verification._files import write_atomic
from verification._loading import (
    find_user_object,
    import_from_env,
    import_user,
    load_attribute,
    load_catalogue_entry_points,
)
from verification._options import parse_options
from verification._terminal import SafeConsole, plain_warnings, printable, printable_name
from verification.checks import DEFAULT_POINTS, check, resolve
from verification.evidence import Evidence, EvidenceSet
from verification.spaces import apply_options

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

VERDICT_STYLE = {
    "proved": "bold green",
    "holds": "green",
    "violated": "bold red",
    "inconclusive": "yellow",
    "not-applicable": "dim",
}


def _version() -> str:
    try:
        return version("sith-toolkit")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def _console() -> Console:
    tty = sys.stdout.isatty()
    return SafeConsole(highlight=False, width=None if tty else 140, no_color=not tty)


def _m(value: object) -> str:
    """Data (a name, a message) inside a rich markup string: shown as written, never
    read as markup (a name with ``[/]`` or ``[link=...]`` is text)."""
    return escape_markup(printable(value))


def _cell(value: object) -> Text:
    """A table cell of data: plain text, control characters visible."""
    return Text(printable(value))


def _echo(message: object = "", **kwargs) -> None:
    """click.echo, with control characters from users' names and files made visible."""
    click.echo(printable(message), **kwargs)


seed_option = click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(0, 2**32 - 1),
    help="Seed for every draw (0 to 2**32 - 1).",
)
quiet_option = click.option("--quiet", is_flag=True, help="No output; the exit code says it all.")
out_file_option = click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    help="Also write the JSON result to this file.",
)


def process_option(help_text: str):
    return click.option(
        "--process",
        "process_spec",
        metavar="FILE.py:ATTR|FILE.json",
        help=f"{help_text} A theory.Process, a function returning one, or a process JSON.",
    )


def _prepare_out(path: str | None) -> None:
    """Make sure ``--out FILE`` can be written, before any computation starts."""
    if not path:
        return
    parent = Path(path).resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _fail(f"--out: cannot create the folder {parent}: {err.strerror or err}")
    if not os.access(parent, os.W_OK):
        _fail(f"--out: the folder {parent} is not writable")


def _write_json(path: str | None, payload: dict) -> None:
    if path:
        write_atomic(Path(path), json.dumps(payload, indent=2))


class BadInput(click.ClickException):
    """Bad user input: one clear line on stderr, exit code 2."""

    exit_code = EXIT_BAD_INPUT


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
    if spec.endswith(".json"):
        try:
            data = Path(spec).read_bytes()
        except FileNotFoundError:
            _fail(f"file not found: {spec}")
        except OSError as err:
            _fail(f"cannot read {spec}: {err.strerror or err}")
        try:
            return th.Process.from_dict(load_json(data, what=spec))
        except SithError as err:
            _fail(f"{spec} is not a valid process JSON: {err}")
    obj = load_attribute(spec)
    if callable(obj) and not isinstance(obj, th.Process):
        try:
            obj = obj()
        except SithError:
            raise
        except Exception as err:  # the user's factory failed: one line, not a traceback
            _fail(f"calling {spec} failed: {type(err).__name__}: {err}")
    if not isinstance(obj, th.Process):
        _fail(f"{spec} is a {type(obj).__name__}, not a theory.Process")
    return obj


class SithGroup(click.Group):
    """The ``sith`` group, with one top-level handler for every way a command can end.

    - bad input (any :class:`SithError`, a usage error): one line on stderr, exit 2;
    - Ctrl-C (or SIGTERM): exit 130, after the command kept what it finished;
    - anything else is a bug in sith: one line naming it, exit 3, and a hint to rerun
      with ``--debug`` for the traceback.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        try:
            with plain_warnings():
                return super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as err:
            sys.exit(err.exit_code)
        except click.UsageError as err:  # one line, as every other refusal
            hint = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
            _echo(f"Error: {_one_line(err.format_message())}{hint}", err=True)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            _echo(f"Error: {_one_line(err.format_message())}", err=True)
            sys.exit(err.exit_code)
        except (click.Abort, KeyboardInterrupt):
            _echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except SithError as err:
            _echo(f"Error: {_one_line(err)}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except Exception as err:
            if debug:
                raise
            _echo(
                f"Internal error (a bug in sith): {type(err).__name__}: {_one_line(err)} "
                "(rerun with --debug for the traceback, and please report it)",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)


def _one_line(err: BaseException) -> str:
    text = " ".join(printable(err).split())
    return text if len(text) <= 2000 else text[:2000] + " ..."


@click.group(cls=SithGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="sith")
@click.option(
    "--import",
    "imports",
    multiple=True,
    metavar="FILE.py|MODULE",
    help="Import a paper's module first (its theorems, assumptions, mixings, learners); "
    f"repeatable. Also read from $SITH_IMPORT (separated by '{os.pathsep}').",
)
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
def main(imports, debug) -> None:
    """sith: state identifiability assumptions, check them, measure the gap.

    Exit codes: 0 success, 1 a negative answer (violated / not recovered / a
    counterexample with --fail-on), 2 bad input, 3 an internal error, 130 interrupted.

    \b
    Examples:
      sith theorems
      sith check cl-ica                              # canonical process of the theorem
      sith check conformal --process spec.py:process --json
      sith --import paper.py check my-theorem
    """
    load_catalogue_entry_points()
    import_from_env()
    for target in imports:
        import_user(target)


def _named(name: str, lookup, *kinds: type):
    """A catalogue entry by name, else a theorem/assumption of that name defined in a
    module the user imported (``--import``, ``--process``), registered or not."""
    try:
        return lookup(name)
    except UnknownName:
        for kind in kinds:
            found = find_user_object(name, kind)
            if found is not None:
                return found
        raise


figures_option = click.option(
    "--figures",
    "figure_formats",
    metavar="pdf,svg",
    help="Also write each figure as PDF and/or SVG beside its PNG, sized and lettered for "
    "a two-column paper.",
)


def _figure_formats(value: str | None) -> tuple[str, ...]:
    """--figures, checked before anything is computed."""
    from verification._figures import parse_formats

    return parse_formats(value)


track_option = click.option(
    "--track",
    "track_uri",
    metavar="URI",
    help="Log to MLflow (the 'track' extra): a run for the command with one nested run per "
    "evaluation (params, metrics and training curves, verdicts as tags, the report as "
    "artifact). URI: sqlite:///mlruns.db, file:./mlruns or http://HOST:PORT.",
)
tensorboard_option = click.option(
    "--tensorboard",
    "tensorboard_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Write each evaluation's training curves as TensorBoard scalars under DIR.",
)


def _check_tracking(track_uri: str | None, tensorboard_dir: str | None) -> None:
    """--track and --tensorboard, checked before anything is computed."""
    from verification import tracking

    if track_uri is not None:
        tracking.check_uri(track_uri)
    if tensorboard_dir is not None:
        tracking.check_tensorboard(tensorboard_dir)


def _track(
    track_uri: str | None,
    tensorboard_dir: str | None,
    *,
    command: str,
    theorem: str,
    records,
    provenance_: dict | None,
    artifacts=(),
    status: str = "complete",
    params: dict | None = None,
    quiet: bool = False,
) -> None:
    """Log what a command made to MLflow and TensorBoard (when asked)."""
    if track_uri is None and tensorboard_dir is None:
        return
    from verification import tracking

    records = list(records)
    if track_uri is not None:
        run_id = tracking.log_mlflow(
            track_uri,
            command=command,
            theorem=theorem,
            records=records,
            provenance=provenance_,
            artifacts=artifacts,
            status=status,
            parent_params=params,
        )
        if not quiet:
            _echo(
                f"tracked: {len(records)} evaluation run(s) under run {run_id} of experiment "
                f"sith/{theorem} in {track_uri}",
                err=True,
            )
    if tensorboard_dir is not None:
        written = tracking.log_tensorboard(tensorboard_dir, records)
        if not quiet:
            _echo(f"tensorboard: {len(written)} curve(s) in {tensorboard_dir}", err=True)


def _store_records(store_root, entries, theorem: str):
    """Tracker records of a sweep's rows or an alignment's models (from the store)."""
    from verification._search.store import ResultStore
    from verification.tracking import Record

    store = ResultStore(store_root)
    for entry in entries:
        evaluation = store.get(entry["key"]) if entry.get("key") else None
        if evaluation is not None:
            yield Record.from_evaluation(evaluation)
        else:
            yield Record(
                key=str(entry.get("key") or entry.get("id")),
                theorem=theorem,
                process={},
                learner={},
                seed=int(entry.get("seed", 0)),
                params=dict(entry.get("params") or {}),
                recovery=None,
                error=str(entry.get("error") or "not in the store"),
            )


oracle_option = click.option(
    "--oracle",
    is_flag=True,
    help="Oracle mode: the true latents may steer training (e.g. stop at their loss). "
    "Off by default; every result says which mode produced it.",
)
learner_option = click.option(
    "--learner",
    "learner_name",
    metavar="NAME",
    help="Use this registered learner instead of the theorem's (see `sith learners`).",
)
set_option = click.option(
    "--set",
    "settings_",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a learner option, e.g. --set train.steps=200 --set encoder.width=64.",
)


def _cli_learner(target, learner_name, settings_):
    """The learner NAME's command is about: the theorem's own (or --learner), with
    --set options applied and validated before anything is computed; None for an
    assumption when no learner was asked for."""
    from verification import learners

    if learner_name is not None:
        learners.LEARNERS.get(learner_name)  # an unknown name fails here, in milliseconds
    if isinstance(target, th.Theorem):
        if learner_name is not None:
            target = dataclasses.replace(target, learner=learner_name)
        learner = learners.for_theorem(target)
    elif learner_name is not None:
        learner = learners.get(learner_name)
    elif settings_:
        _fail("--set needs a learner: name one with --learner, or check a theorem")
    else:
        return None
    apply_options(learner, parse_options(learner, settings_))
    return learner


@main.command("check")
@click.argument("name")
@process_option("The Process to check (default for a theorem: its canonical process).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--n-points",
    default=DEFAULT_POINTS,
    show_default=True,
    type=click.IntRange(2),
    help="Sampled points per numeric check.",
)
@seed_option
@click.option(
    "--time-limit",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds for each exact sympy attempt.",
)
@click.option(
    "--adversarial-steps",
    default=60,
    show_default=True,
    type=click.IntRange(0),
    help="Steps of the adversarial search that tries to break a Jacobian condition.",
)
@learner_option
@set_option
@out_file_option
@quiet_option
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
    process = _load_process(process_spec, None) if process_spec else None
    target = _named(name, resolve, th.Theorem, th.Assumption)
    learner = _cli_learner(target, learner_name, settings_)
    _prepare_out(out_file)
    process = process or _load_process(process_spec, target)
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
    _write_json(out_file, payload)
    if as_json:
        _echo(json.dumps(payload, indent=2))
    elif not quiet:
        _print_evidence(name, process, items)
    sys.exit(0 if all(e.satisfied for e in items) else 1)


def _print_evidence(name: str, process: th.Process, items: list[Evidence]) -> None:
    table = Table(title=f"{_m(name)} on {_m(process.describe())}", title_justify="left")
    for column in ("assumption", "verdict", "statistic", "tolerance", "points", "how", "detail"):
        table.add_column(column, overflow="fold")
    for e in items:
        table.add_row(
            _cell(e.assumption),
            f"[{VERDICT_STYLE[e.verdict]}]{e.verdict}[/]",
            "" if e.statistic is None else f"{e.statistic:.3g}",
            "" if e.tolerance is None else f"{e.tolerance:.3g}",
            str(e.n_points),
            _cell(e.method),
            _cell(e.message + ("" if not e.witness else f"  witness: {_short_witness(e.witness)}")),
        )
    _console().print(table)


def _short_witness(witness: dict) -> str:
    """A witness for a table cell: key=value pairs, floats to 3 significant digits."""

    def fmt(v):
        if isinstance(v, list):
            return "[" + ", ".join(f"{x:.3g}" if isinstance(x, float) else str(x) for x in v) + "]"
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    return ", ".join(f"{k}={fmt(v)}" for k, v in witness.items())


@main.command("recover")
@click.argument("name")
@process_option("The Process to learn from (default: the theorem's canonical process).")
@seed_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a summary.")
@click.option("--steps", type=click.IntRange(1), help="Training steps (learner default if unset).")
@click.option("--batch-size", type=click.IntRange(2), help="Training batch size.")
@click.option("--lr", type=click.FloatRange(0, min_open=True), help="Learning rate.")
@click.option(
    "--time-budget",
    type=click.FloatRange(0, min_open=True),
    help="Stop training after this many seconds.",
)
@learner_option
@set_option
@oracle_option
@out_file_option
@track_option
@tensorboard_option
@quiet_option
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
    track_uri,
    tensorboard_dir,
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
    from verification.recovery import recover

    process = _load_process(process_spec, None) if process_spec else None
    theorem = _named(name, th.theorems.get, th.Theorem)
    learner = _cli_learner(theorem, learner_name, ())
    overrides = {"steps": steps, "batch_size": batch_size, "lr": lr, "time_budget": time_budget}
    options = {f"train.{k}": v for k, v in overrides.items() if v is not None}
    if options and getattr(learner, "train", None) is None:
        flags = ", ".join("--" + k.split(".")[1].replace("_", "-") for k in options)
        verb = "does" if len(options) == 1 else "do"
        _fail(f"{flags} {verb} not apply to learner {learner.name}: it has no training loop")
    apply_options(learner, {**options, **parse_options(learner, settings_)})
    _prepare_out(out_file)
    _check_tracking(track_uri, tensorboard_dir)
    process = process or _load_process(process_spec, theorem)
    result = recover(theorem, process, seed=seed, learner=learner, oracle=oracle)
    coverage = _learner_coverage(theorem, process, learner, seed)
    made_by = provenance.collect(seed=seed, device=getattr(learner, "device", None))
    payload = {**result.to_dict(), **coverage, "provenance": made_by}
    _write_json(out_file, payload)
    if as_json:
        _echo(json.dumps(payload, indent=2))
    elif not quiet:
        _print_recovery(result)
        _print_coverage(coverage)
    if track_uri or tensorboard_dir:
        _track_recovery(result, payload, track_uri, tensorboard_dir, quiet or as_json)
    sys.exit(0 if result.recovered else 1)


def _track_recovery(result, payload: dict, track_uri, tensorboard_dir, quiet: bool) -> None:
    """One recover as a tracked command with one evaluation."""
    import tempfile

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
        _track(
            track_uri,
            tensorboard_dir,
            command="recover",
            theorem=result.theorem,
            records=[record],
            provenance_=payload["provenance"],
            artifacts=[artifact],
            params={"seed": result.seed, "learner_covered": payload.get("learner_covered")},
            quiet=quiet,
        )


def _learner_coverage(theorem, process, learner, seed: int) -> dict:
    """Is the trained learner inside the theorem's assumptions about its learner
    (objective, temperature, critic, encoder size)? Decided from its configuration."""
    from verification.checks import check

    evidence = [
        check(a, process, seed=seed, learner=learner)
        for a in theorem.assumptions
        if isinstance(a, th.learner_conditions.LearnerAssumption)
    ]
    return {
        "learner_covered": all(
            e.verdict in ("proved", "holds", "not-applicable") for e in evidence
        ),
        "learner_assumptions": [
            {"assumption": e.assumption, "verdict": e.verdict, "message": e.message}
            for e in evidence
        ],
    }


def _print_coverage(coverage: dict) -> None:
    console = _console()
    if not coverage["learner_assumptions"]:
        console.print("  learner: the theorem states no assumption about its learner")
    elif coverage["learner_covered"]:
        console.print("  learner: inside the theorem's learner assumptions")
    else:
        console.print("  learner: [bold]outside the theorem[/] (a recovery here is a gap):")
        for item in coverage["learner_assumptions"]:
            if item["verdict"] == "violated":
                console.print(f"    {_m(item['assumption'])} violated: {_m(item['message'])}")


def _parse_settings(items: tuple[str, ...]) -> dict:
    """KEY=VALUE pairs; values parsed as JSON where possible (numbers, booleans, null),
    otherwise kept as strings. Non-finite numbers are refused."""
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            _fail(f"--set expects KEY=VALUE, got {item!r}")
        try:
            out[key] = load_json(raw, what=f"--set {key}")
        except SithError as err:
            if "non-finite" in str(err) or "overflows" in str(err):
                _fail(f"--set {key}: {raw} is not a finite number")
            out[key] = raw
    return out


def _print_recovery(result) -> None:
    verdict = "[bold green]recovered[/]" if result.recovered else "[bold red]not recovered[/]"
    op = "≥" if result.higher_is_better else "≤"
    console = _console()
    console.print(
        f"{_m(result.theorem)}: {verdict}  {_m(result.claim_name)} = "
        f"{result.claim_metric:.4f} (claim: {op} {result.threshold})  "
        f"status={result.status}  {result.steps} steps in {result.train_seconds:.1f} s"
    )
    gap = "" if result.optimality_gap is None else f", optimality gap {result.optimality_gap:.3g}"
    mode = "oracle mode" if result.oracle else "practice mode"
    console.print(f"  diagnosis: {_m(result.diagnosis)}{gap} ({mode})")
    if result.message:
        console.print(f"  {_m(result.message)}")
    table = Table(title="held-out metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in sorted(result.metrics.items()):
        table.add_row(_cell(key), f"{value:.4f}")
    console.print(table)


def _parse_range(text: str | None, name: str) -> tuple[int, int] | None:
    """'2..5' -> (2, 5); '3' -> (3, 3)."""
    if text is None:
        return None
    low, sep, high = text.partition("..")
    try:
        pair = (int(low), int(high)) if sep else (int(low), int(low))
    except ValueError:
        _fail(f"--{name} expects N or LOW..HIGH (integers), got {text!r}")
    if pair[0] > pair[1] or pair[0] < 1:
        _fail(f"--{name} expects 1 <= LOW <= HIGH, got {text!r}")
    return pair


SPACE_AXES = {"latent": "latents", "mixing": "mixings", "conditional": "conditionals"}


@main.command("search")
@click.argument("name")
@click.option(
    "--budget",
    default=40,
    show_default=True,
    type=click.IntRange(1),
    help="Number of evaluations (process + learner + seed) to spend.",
)
@seed_option
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Run directory for the result store and reports (default: runs/NAME-sSEED-HASH, "
    "one per distinct search, resumed when it exists).",
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
@click.option(
    "--evaluation-time-limit",
    default=600.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True, max=1e7),
    help="Seconds one evaluation (checks + training) may take; past it, an error row.",
)
@oracle_option
@click.option(
    "--executor",
    default="serial",
    show_default=True,
    type=click.Choice(["serial", "local", "dask"]),
    help="Where evaluations run: serial, local (a process pool) or dask. With workers, "
    "what hypothesis generates before each counterexample runs WORKERS at a time; the "
    "report is the serial search's.",
)
@click.option("--workers", type=click.IntRange(1), help="Worker processes (local, dask).")
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="torch/BLAS threads per worker.",
)
@click.option("--address", metavar="tcp://HOST:PORT", help="Dask scheduler to use.")
@figures_option
@track_option
@tensorboard_option
@click.option("--json", "as_json", is_flag=True, help="Print the report JSON.")
@click.option("--quiet", is_flag=True, help="No progress or table.")
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
    from verification._search import RunDirectory, build_report, search
    from verification._search.derive import space_for

    theorem = _named(name, th.theorems.get, th.Theorem)
    space = space_for(theorem)
    kinds_tuple = tuple(k.strip() for k in kinds.split(",") if k.strip())
    if not kinds_tuple or set(kinds_tuple) - {"gap", "failure"}:
        _fail(f"--kinds expects gap, failure or gap,failure; got {kinds!r}")
    changes = {}
    if dims is not None:
        changes["dims"] = _parse_range(dims, "dim")
    if inside_share is not None:
        changes["inside_share"] = inside_share
    if vary is not None:
        axes = {a.strip() for a in vary.split(",") if a.strip()}
        unknown = axes - {*SPACE_AXES, "learner"}
        if unknown:
            _fail(
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
    space = space.narrow(**changes)
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
    _check_tracking(track_uri, tensorboard_dir)
    progress = None if quiet or as_json else _SearchProgress(budget, verbose)
    with progress or _nullcontext(), _sigterm_as_interrupt() as terminated:
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
            imports=list(click.get_current_context().find_root().params.get("imports") or ()),
            figures=_figure_formats(figure_formats),
        )
    report = build_report(result, RunDirectory(out).counterexample_path)
    if as_json:
        _echo(json.dumps(report, indent=2))
    elif not quiet:
        _print_search(report, out)
    if track_uri or tensorboard_dir:
        from verification.tracking import Record

        _track(
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
        _fail(f"every evaluation failed; the first with {first}")
    found = {
        "gap": result.gaps,
        "failure": result.failures,
        "any": result.counterexamples,
        "none": [],
    }[fail_on]
    sys.exit(1 if found else 0)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While the block runs, SIGTERM stops it like Ctrl-C (keeping what finished).

    Yields a list that is non-empty once SIGTERM arrived (for the exit code 143)."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def handler(signum, frame):
        seen.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, previous)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _SearchProgress:
    """A live progress bar (rich) on a TTY; one plain line per evaluation otherwise, or
    always with ``-v``."""

    def __init__(self, budget: int, verbose: bool = False) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.tty = sys.stderr.isatty() and not verbose
        self.budget = budget
        self.counts = {"gap": 0, "failure": 0}
        self.done = 0
        self.progress = Progress(
            TextColumn("[bold]search"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} evaluations"),
            TextColumn("{task.fields[found]}"),
            TimeElapsedColumn(),
            console=SafeConsole(stderr=True),
            disable=not self.tty,
        )
        self.task = self.progress.add_task("search", total=budget, found="")

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def update(self, evaluation, fresh: bool) -> None:
        self.done += 1
        if evaluation.kind in self.counts:
            self.counts[evaluation.kind] += 1
        found = f"gap-like {self.counts['gap']}, failure-like {self.counts['failure']}"
        if self.tty:
            self.progress.update(self.task, completed=min(self.done, self.budget), found=found)
        else:
            claim, value = evaluation.claim or {}, evaluation.claim_value
            tried = ", ".join(f"{k}={_short(v)}" for k, v in evaluation.params.items())
            outcome = (
                f"error ({evaluation.error.split(':', 1)[0]})"
                if evaluation.failed
                else f"violated={list(evaluation.violated) or 'none'} "
                f"{claim.get('name')}={'' if value is None else f'{value:.3f}'} "
                f"kind={evaluation.kind or '-'}"
            )
            _echo(f"[{self.done}] {'new' if fresh else 'cached'} {tried}: {outcome}", err=True)


def _short(value) -> str:
    """A parameter value for a progress line: floats to 3 significant digits."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _print_search(report: dict, out: str) -> None:
    console = _console()
    q = report["quadrants"]
    console.print(
        f"[bold]{_m(report['theorem'])}[/]: {report['evaluations']} evaluations in "
        f"{report['seconds']:.0f} s, status {report['status']}; "
        f"{report['counts']['gap']} gap(s), {report['counts']['failure']} failure(s), "
        f"{report['counts']['rejected']} rejected as noise"
    )
    console.print(
        f"quadrants: holds&recovered {q['holds_recovered']}, holds&not "
        f"{q['holds_not_recovered']}, violated&recovered {q['violated_recovered']}, "
        f"violated&not {q['violated_not_recovered']}, errors {q['errors']}"
    )
    from verification._search.reports import NECESSITY_HEADER, inside_lines, necessity_rows

    for line in inside_lines(report)[:1]:
        console.print(_m(line))
    rows = necessity_rows(report)
    if rows:
        necessity = Table(title="necessity: each assumption violated alone", title_justify="left")
        for column in NECESSITY_HEADER:
            necessity.add_column(column, overflow="fold")
        for row in rows:
            necessity.add_row(*(_cell(cell) for cell in row))
        console.print(necessity)
    table = Table(title="counterexamples", title_justify="left")
    for column in (
        "#",
        "kind",
        "violated (statistic)",
        "claim metric",
        "rate over seeds",
        "minimal process",
        "reproduce",
    ):
        table.add_column(column, overflow="fold")
    from verification._search.reports import process_line, violations_line

    for i, cx in enumerate(report["counterexamples"], 1):
        claim = cx["claim_metric"]
        table.add_row(
            str(i),
            _cell(cx["kind"]),
            _cell(violations_line(cx)),
            _cell(f"{claim['name']}={claim['value']:.3f}"),
            f"{cx['rate']['agree']}/{cx['rate']['seeds']} "
            f"(CI {cx['rate']['low']:.2f}–{cx['rate']['high']:.2f})",
            _cell(process_line(cx["process"])),
            _cell(cx["reproduce"]),
        )
    console.print(table)
    for i, cx in enumerate(report["counterexamples"], 1):
        check = cx.get("budget_check") or {}
        if check.get("note"):
            console.print(
                _m(f"{i}. {cx['kind']}, diagnosis {cx.get('diagnosis')}: {check['note']}")
            )
    console.print(f"report: {_m(out)}/report.json, {_m(out)}/report.md")


def _parse_vary(items: tuple[str, ...], random_n: int | None) -> dict:
    """--vary KEY=V1,V2,... (values as JSON where they parse, else strings) or, with
    --random, KEY=LOW..HIGH[:log]."""
    from verification._sweep import Range

    vary: dict = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or not text.strip():
            _fail(f"--vary expects KEY=V1,V2,... (or KEY=LOW..HIGH with --random), got {item!r}")
        if key in vary:
            _fail(f"--vary {key} is given twice; list its values once: {key}=V1,V2,...")
        if ".." in text and "," not in text:
            if random_n is None:
                _fail(f"--vary {item}: a range needs --random N (a grid takes V1,V2,...)")
            try:
                vary[key] = Range.parse(text.strip())
            except SithError as err:
                _fail(f"--vary {item}: {err}")
            continue
        values = []
        for raw in text.split(","):
            raw = raw.strip()
            if not raw:
                _fail(f"--vary {item}: an empty value")
            try:
                values.append(load_json(raw, what=f"--vary {key}"))
            except SithError as err:
                if "non-finite" in str(err) or "overflows" in str(err):
                    _fail(f"--vary {key}: {raw} is not a finite number")
                values.append(raw)
        vary[key] = values
    if not vary:
        _fail("--vary KEY=V1,V2,... is required (repeat it for a grid)")
    return vary


def _say(line: str, progress=None) -> None:
    """One line on stderr, above a live progress bar when one is showing."""
    if progress is not None and progress.tty:
        progress.progress.console.print(line, markup=False, highlight=False)
    else:
        _echo(line, err=True)


class _SweepProgress:
    """A live progress bar (rich) on a TTY; one plain line per row otherwise."""

    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.tty = sys.stderr.isatty()
        self.done = 0
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]sweep"),
            TextColumn("{task.completed} evaluations"),
            TimeElapsedColumn(),
            console=SafeConsole(stderr=True),
            disable=not self.tty,
        )
        self.task = self.progress.add_task("sweep", total=None)

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def update(self, row: dict, fresh: bool) -> None:
        self.done += 1
        if self.tty:
            self.progress.update(self.task, completed=self.done)
            return
        value = row.get("claim_metric")
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        outcome = (
            f"error: {row['error']}"
            if row.get("error")
            else f"claim={'' if value is None else f'{value:.3f}'} recovered={row['recovered']}"
        )
        _echo(
            f"[{self.done}] {'new' if fresh else 'cached'} {params} seed {row['seed']}: {outcome}",
            err=True,
        )


@main.command("sweep")
@click.argument("name")
@click.option(
    "--vary",
    "vary_items",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="A process field (dim, conditional.kappa, mixing.depth, ...) or learner option "
    "(learner.n_train, train.batch_size, encoder.width, ...) and its values; repeat for a "
    "grid. With --random, also KEY=LOW..HIGH or KEY=LOW..HIGH:log.",
)
@click.option(
    "--seeds",
    default=3,
    show_default=True,
    type=click.IntRange(1),
    help="Seeds per setting: SEED, SEED+1, ...",
)
@seed_option
@click.option(
    "--random",
    "random_n",
    type=click.IntRange(1),
    help="Sample this many settings from the --vary values and ranges instead of the "
    "grid (seeded by --seed).",
)
@process_option("The Process to sweep around (default: the theorem's canonical process).")
@click.option(
    "--executor",
    default="serial",
    show_default=True,
    help="Where evaluations run: serial, local (a process pool), dask or slurm.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    help="Worker processes (local, dask) or jobs at a time (slurm); default: the cores.",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="torch/BLAS threads per worker (workers x threads should not exceed the cores).",
)
@click.option(
    "--address",
    metavar="tcp://HOST:PORT",
    help="Dask scheduler to use (default: a local cluster of --workers processes).",
)
@click.option("--slurm-partition", metavar="NAME", help="SLURM partition of the jobs.")
@click.option(
    "--slurm-time",
    default=60,
    show_default=True,
    type=click.IntRange(1),
    help="Minutes each SLURM job may run.",
)
@click.option(
    "--slurm-cluster",
    type=click.Choice(["slurm", "local", "debug"]),
    help="submitit backend (default: slurm where sbatch exists; local: the same jobs as "
    "subprocesses here, to try a setup).",
)
@click.option(
    "--slurm-option",
    "slurm_items",
    multiple=True,
    metavar="KEY=VALUE",
    help="Another submitit parameter, e.g. slurm_account=lab or mem_gb=8.",
)
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="Passed to learners that take a device option (auto: cuda when available): "
    "InfoNCE, VICReg and Barlow Twins; the other learners train on the CPU.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for sweep.json, sweep.csv, report.md/.html, figures/ and the store "
    "(default: runs/sweep-NAME-HASH, one per distinct sweep; rerunning resumes it).",
)
@click.option(
    "--store",
    type=click.Path(file_okay=False),
    default=None,
    help="Use the result store of this directory instead of OUT's (sweeps and searches "
    "sharing a store share their evaluations).",
)
@click.option(
    "--evaluation-time-limit",
    default=600.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True, max=1e7),
    help="Seconds one evaluation (checks + training) may take; past it, an error row.",
)
@click.option(
    "--oracle",
    "oracle_mode",
    is_flag=True,
    help="Oracle mode: the true latents may steer training. Off by default.",
)
@click.option("--no-plots", is_flag=True, help="Do not draw figures.")
@figures_option
@track_option
@tensorboard_option
@click.option(
    "--yes",
    is_flag=True,
    help="Run a sweep of more than 10,000 evaluations (refused without it: exit 2).",
)
@click.option("--json", "as_json", is_flag=True, help="Print sweep.json.")
@click.option("--quiet", is_flag=True, help="No progress or table.")
def sweep_command(
    name,
    vary_items,
    seeds,
    seed,
    random_n,
    process_spec,
    executor,
    workers,
    threads,
    address,
    slurm_partition,
    slurm_time,
    slurm_cluster,
    slurm_items,
    device,
    out,
    store,
    evaluation_time_limit,
    oracle_mode,
    no_plots,
    figure_formats,
    track_uri,
    tensorboard_dir,
    yes,
    as_json,
    quiet,
):
    """Sweep theorem NAME's recovery over a grid (or a random sample) of settings x seeds.

    Every evaluation goes through the result store: a stopped sweep resumes where it
    stopped when rerun, and never recomputes a finished (setting, seed). Writes
    OUT/sweep.json, sweep.csv, report.md, report.html and figures/.

    Before any work it prints its plan (evaluations, executor, a rough time estimate
    from the store or the first evaluation); above 10,000 evaluations it runs only
    with --yes.

    \b
    Examples:
      sith sweep cl-ica --vary train.batch_size=64,256,1024 --seeds 3 --out runs/bs
      sith sweep cl-ica --vary learner.n_train=100,1000,10000 --vary conditional.kappa=2,10 \\
          --executor local --workers 2 --out runs/finite
      sith sweep cl-ica --vary train.lr=0.001..0.1:log --random 8 --executor dask
      sith sweep cl-ica --vary dim=2,3,4 --executor slurm --slurm-partition gpu --slurm-time 30
    """
    from verification._sweep import sweep
    from verification._sweep.plan import CONFIRM_ABOVE
    from verification._sweep.reports import table_header, table_rows

    vary = _parse_vary(vary_items, random_n)
    slurm_options = _parse_settings(slurm_items) if slurm_items else None
    process = _load_process(process_spec, None) if process_spec else None
    theorem = _named(name, th.theorems.get, th.Theorem)
    process = process or _load_process(process_spec, theorem)
    imports = list(click.get_current_context().find_root().params.get("imports") or ())
    if process_spec and not process_spec.endswith(".json"):
        imports.append(process_spec.rsplit(":", 1)[0])
    if out is None:
        config = {
            "process": process.to_dict(),
            "vary": list(vary_items),
            "seeds": seeds,
            "seed": seed,
            "random": random_n,
            "oracle": oracle_mode,
        }
        out = f"runs/sweep-{name}-{digest(config, length=8)}"
    _check_tracking(track_uri, tensorboard_dir)
    progress = None if quiet or as_json else _SweepProgress()
    with progress or _nullcontext(), _sigterm_as_interrupt() as terminated:
        result = sweep(
            theorem,
            vary,
            seeds=seeds,
            seed=seed,
            random=random_n,
            process=process,
            executor=executor,
            workers=workers,
            threads=threads,
            address=address,
            slurm_partition=slurm_partition,
            slurm_time=slurm_time,
            slurm_cluster=slurm_cluster,
            slurm_options=slurm_options,
            device=device,
            out=out,
            store=store,
            imports=imports,
            evaluation_time_limit=evaluation_time_limit,
            oracle=oracle_mode,
            plots=not no_plots,
            on_row=progress.update if progress else None,
            max_evaluations=None if yes else CONFIRM_ABOVE,
            figures=_figure_formats(figure_formats),
            on_plan=None if quiet or as_json else (lambda plan: _say(plan.describe(), progress)),
        )
    doc = result.to_dict()
    if as_json:
        _echo(json.dumps(doc, indent=2))
    elif not quiet:
        console = _console()
        console.print(
            f"[bold]{_m(result.theorem)}[/]: {result.evaluations} evaluations "
            f"({result.new_evaluations} new) of {len(result.settings)} settings x "
            f"{len(result.seeds)} seeds in {result.seconds:.0f} s, status {result.status}"
        )
        table = Table(title="sweep", title_justify="left")
        for column in table_header(doc):
            table.add_column(column, overflow="fold")
        for cells in table_rows(doc):
            table.add_row(*map(_cell, cells))
        console.print(table)
        console.print(
            f"sweep: {_m(out)}/sweep.json, {_m(out)}/sweep.csv, {_m(out)}/report.md, "
            f"{_m(out)}/report.html"
        )
    _track(
        track_uri,
        tensorboard_dir,
        command="sweep",
        theorem=result.theorem,
        records=_store_records(result.store or result.out, result.rows, result.theorem),
        provenance_=doc.get("provenance"),
        artifacts=[Path(out) / "sweep.json", Path(out) / "report.md"],
        status=result.status,
        params={"vary": doc["vary"], "seeds": len(result.seeds), "seed": seed},
        quiet=quiet or as_json,
    )
    if result.status == "interrupted":
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    if result.rows and len(result.errors) == len(result.rows):
        _fail(f"every evaluation failed; the first with {result.errors[0]['error']}")


class _AlignProgress(_SweepProgress):
    """One line per trained model (a live count on a TTY)."""

    def update(self, model: dict, fresh: bool) -> None:
        self.done += 1
        if self.tty:
            self.progress.update(self.task, completed=self.done)
            return
        value = model.get("claim_metric")
        outcome = (
            f"error: {model['error']}"
            if model.get("error")
            else f"claim={'' if value is None else f'{value:.3f}'} recovered={model['recovered']}"
        )
        _echo(f"[{self.done}] {'new' if fresh else 'cached'} {model['id']}: {outcome}", err=True)


@main.command("align")
@click.argument("name", required=False)
@click.option(
    "--theorem",
    "theorem_name",
    metavar="NAME",
    help="The theorem (instead of the NAME argument): its claim says what recovering the "
    "latents and agreeing up to its indeterminacy mean.",
)
@click.option(
    "--learners",
    metavar="A,B,...",
    help="Registered learners to train (sith learners); default: the theorem's own.",
)
@click.option(
    "--vary",
    "vary_items",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="A process field or learner option and its values (as sith sweep); repeat for a "
    "grid. Models of different processes are not compared with each other.",
)
@click.option(
    "--seeds",
    default=3,
    show_default=True,
    type=click.IntRange(1),
    help="Independently trained models per learner and setting: SEED, SEED+1, ...",
)
@seed_option
@process_option("The Process (default: the theorem's canonical process).")
@click.option(
    "--n-eval",
    default=2000,
    show_default=True,
    type=click.IntRange(20, 10**6),
    help="Rows of the common held-out set every model encodes.",
)
@click.option(
    "-k",
    "--k",
    "k",
    default=10,
    show_default=True,
    type=click.IntRange(1),
    help="Neighbours of the mutual k-NN score (on unit-normalised rows, Huh et al. 2024).",
)
@click.option(
    "--executor",
    default="serial",
    show_default=True,
    type=click.Choice(["serial", "local", "dask"]),
    help="Where models train: serial, local (a process pool) or dask.",
)
@click.option("--workers", type=click.IntRange(1), help="Worker processes (local, dask).")
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="torch/BLAS threads per worker.",
)
@click.option("--address", metavar="tcp://HOST:PORT", help="Dask scheduler to use.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for align.json, report.md/.html, figures/, the store and the embeddings "
    "(default: runs/align-NAME-HASH; rerunning resumes it).",
)
@click.option(
    "--store",
    type=click.Path(file_okay=False),
    default=None,
    help="Use the result store of this directory (shared with sweeps and other alignments).",
)
@click.option(
    "--evaluation-time-limit",
    default=600.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True, max=1e7),
    help="Seconds one model (checks + training) may take.",
)
@click.option(
    "--oracle",
    "oracle_mode",
    is_flag=True,
    help="Oracle mode: the true latents may steer training. Off by default.",
)
@click.option("--no-plots", is_flag=True, help="Do not draw figures.")
@figures_option
@track_option
@tensorboard_option
@click.option("--json", "as_json", is_flag=True, help="Print align.json.")
@click.option("--quiet", is_flag=True, help="No progress or table.")
def align_command(
    name,
    theorem_name,
    learners,
    vary_items,
    seeds,
    seed,
    process_spec,
    n_eval,
    k,
    executor,
    workers,
    threads,
    address,
    out,
    store,
    evaluation_time_limit,
    oracle_mode,
    no_plots,
    figure_formats,
    track_uri,
    tensorboard_dir,
    as_json,
    quiet,
):
    """Do independently trained models agree with each other, and does identifiability
    predict when? Trains each (learner, setting, seed) once, encodes one common held-out
    set, and compares every pair of models (linear CKA, mutual k-NN, linear R² both ways,
    Procrustes, agreement up to the theorem's indeterminacy) and each model with the truth.

    Writes OUT/align.json, report.md, report.html and figures/ (pairwise heatmaps,
    agreement against recovery of the truth). Every model goes through the result store:
    rerunning trains nothing that finished.

    \b
    Examples:
      sith align cl-ica --learners infonce,vicreg,barlow-twins --seeds 3 --out runs/align
      sith align --process paper.py:process --theorem cl-ica --vary encoder.width=64,256
    """
    from verification._align import align

    if name and theorem_name and name != theorem_name:
        _fail(f"two theorems given: {name!r} and --theorem {theorem_name!r}")
    name = name or theorem_name
    if not name:
        _fail("name a theorem: sith align NAME (or --theorem NAME)")
    learner_list = None
    if learners is not None:
        learner_list = [part.strip() for part in learners.split(",")]
        if not all(learner_list):
            _fail(f"--learners expects A,B,... (registered learner names), got {learners!r}")
    vary = _parse_vary(vary_items, None) if vary_items else None
    process = _load_process(process_spec, None) if process_spec else None
    theorem = _named(name, th.theorems.get, th.Theorem)
    process = process or _load_process(process_spec, theorem)
    imports = list(click.get_current_context().find_root().params.get("imports") or ())
    if process_spec and not process_spec.endswith(".json"):
        imports.append(process_spec.rsplit(":", 1)[0])
    if out is None:
        config = {
            "process": process.to_dict(),
            "learners": learner_list,
            "vary": list(vary_items),
            "seeds": seeds,
            "seed": seed,
            "n_eval": n_eval,
            "oracle": oracle_mode,
        }
        out = f"runs/align-{name}-{digest(config, length=8)}"
    _check_tracking(track_uri, tensorboard_dir)
    progress = None if quiet or as_json else _AlignProgress()
    with progress or _nullcontext(), _sigterm_as_interrupt() as terminated:
        result = align(
            theorem,
            learner_list,
            seeds=seeds,
            seed=seed,
            vary=vary,
            process=process,
            n_eval=n_eval,
            k=k,
            executor=executor,
            workers=workers,
            threads=threads,
            address=address,
            out=out,
            store=store,
            imports=imports,
            evaluation_time_limit=evaluation_time_limit,
            oracle=oracle_mode,
            plots=not no_plots,
            on_model=progress.update if progress else None,
            figures=_figure_formats(figure_formats),
        )
    doc = result.to_dict()
    if as_json:
        _echo(json.dumps(doc, indent=2))
    elif not quiet:
        from verification._align.reports import model_rows

        console = _console()
        console.print(
            f"[bold]{_m(result.theorem)}[/]: {len(result.models)} models "
            f"({result.new_models} new), {len(result.pairs)} pairs in {result.seconds:.0f} s, "
            f"status {result.status}"
        )
        header, rows = model_rows(doc)
        table = Table(title="models", title_justify="left")
        for column in header:
            table.add_column(column, overflow="fold")
        for cells in rows:
            table.add_row(*map(_cell, cells))
        console.print(table)
        console.print(_m(result.summary.get("statement", "")))
        console.print(f"align: {_m(out)}/align.json, {_m(out)}/report.md, {_m(out)}/report.html")
    _track(
        track_uri,
        tensorboard_dir,
        command="align",
        theorem=result.theorem,
        records=_store_records(Path(store or out), result.models, result.theorem),
        provenance_=doc.get("provenance"),
        artifacts=[Path(out) / "align.json", Path(out) / "report.md"],
        status=result.status,
        params={"learners": ",".join(result.learners), "seeds": len(result.seeds)},
        quiet=quiet or as_json,
    )
    if result.status == "interrupted":
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    if result.models and all(m.get("error") for m in result.models):
        _fail(f"every model failed; the first with {result.models[0]['error']}")


@main.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json", "latex"]),
    default="md",
    show_default=True,
    help="latex: booktabs tables to \\input into a paper (needs \\usepackage{booktabs}).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    help="Write to this file instead of standard output.",
)
@figures_option
def report_command(run_dir, fmt, out_file, figure_formats):
    """Re-render a search's report (RUN_DIR/report.json), a sweep's (RUN_DIR/sweep.json) or
    an alignment's (RUN_DIR/align.json).

    --format latex gives booktabs tables (quadrants and counterexamples; the claim metric
    by setting with 95% intervals; alignment matrices), every string escaped and every
    number rounded to its uncertainty. --figures pdf,svg redraws a sweep's or an
    alignment's figures as vector files for a paper in RUN_DIR/figures.

    \b
    Examples:
      sith report runs/cl-ica-s0 --format html --out report.html
      sith report runs/bs --format latex --out bs-table.tex --figures pdf
    """
    from verification import latex_tables
    from verification._search.reports import load_report, render_html, render_markdown

    _prepare_out(out_file)
    run = Path(run_dir)
    document = "report.json"
    if (run / "align.json").is_file() and not (run / document).is_file():
        from verification._align import reports as align_reports

        document = "align.json"
        report = align_reports.load_align(run_dir)
        figures = align_reports.figures_of(run)
        as_markdown = lambda r: align_reports.render_markdown(r, figures)  # noqa: E731
        as_html = lambda r: align_reports.render_html(r, figures)  # noqa: E731
        as_latex = latex_tables.align_tables
        redraw = align_reports.render_plots
    elif (run / "sweep.json").is_file() and not (run / document).is_file():
        from verification._sweep import reports as sweep_reports

        document = "sweep.json"
        report = sweep_reports.load_sweep(run_dir)
        figures = sweep_reports.figures_of(run)
        as_markdown = lambda r: sweep_reports.render_markdown(r, figures)  # noqa: E731
        as_html = lambda r: sweep_reports.render_html(r, figures)  # noqa: E731
        as_latex = latex_tables.sweep_tables
        redraw = sweep_reports.render_plots
    else:
        report = load_report(run_dir)
        figures = sorted((run / "figures").glob("*.png"))
        as_markdown = render_markdown
        as_html = lambda r: render_html(r, figures)  # noqa: E731
        as_latex = latex_tables.search_tables
        redraw = None
    formats = _figure_formats(figure_formats)
    if formats and redraw is None:
        _fail(
            "--figures: a search draws its figures from its evaluations as it runs; rerun it "
            f"with --resume --figures {','.join(formats)} (nothing is recomputed)"
        )
    render = {
        "md": as_markdown,
        "html": as_html,
        "json": lambda r: json.dumps(r, indent=2),
        "latex": as_latex,
    }
    try:
        text = render[fmt](report)
        if formats:
            redraw(report, run / "figures", formats)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        _fail(f"{run_dir}/{document} is malformed: {type(err).__name__}: {err}")
    if out_file:
        write_atomic(Path(out_file), text)
    else:
        _echo(text)


@main.command("cite")
@click.argument("names", nargs=-1, metavar="[THEOREM]...")
def cite_command(names):
    """Print BibTeX: each THEOREM's paper(s), or sith's own entry when none is named.

    \b
    Examples:
      sith cite                  # sith itself
      sith cite cl-ica ivae      # the papers of two catalogue theorems
      sith --import paper.py cite my-theorem
    """
    from verification import citations

    if not names:
        _echo(citations.sith_bibtex(), nl=False)
        return
    theorems = [_named(name, th.theorems.get, th.Theorem) for name in names]
    _echo(citations.cite(theorems), nl=False)


@main.command("theorems")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--details",
    is_flag=True,
    help="For each theorem, which parts of its statement were checked against the paper's "
    "text (verified, with where and a quote) and which were not.",
)
def theorems_command(names, as_json, details):
    """List the theorem catalogue (or the NAMES given).

    \b
    Examples:
      sith theorems
      sith theorems content-style --details
    """
    items = [th.theorems.get(n) for n in names] if names else th.theorems.catalogue()
    if as_json:
        _echo(json.dumps([t.to_dict() for t in items], indent=2))
        return
    if details:
        console = _console()
        for t in items:
            table = Table(title=_m(f"{t.name}: {t.cite}"), title_justify="left")
            for column in ("part", "checked", "where", "quote", "sith differs"):
                table.add_column(column, overflow="fold")
            for row in t.text_check_table():
                table.add_row(
                    _cell(row["part"]),
                    "verified" if row["verified"] else "unverified",
                    _cell(row["where"]),
                    _cell(row["quote"]),
                    _cell(row["differs"]),
                )
            console.print(table)
        return
    table = Table(title="theorems")
    for column in ("name", "assumptions", "learner", "claim", "source"):
        table.add_column(column, overflow="fold")
    for t in items:
        cells = (
            printable_name(t.name),
            ", ".join(printable_name(a.name) for a in t.assumptions),
            t.learner_label,
            str(t.claim),
            t.cite,
        )
        table.add_row(*map(_cell, cells))
    _console().print(table)


@main.command("assumptions")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def assumptions_command(as_json):
    """List the assumption catalogue."""
    items = [th.assumptions.get(n) for n in th.assumptions.names()]
    if as_json:
        _echo(
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
        table.add_row(_cell(printable_name(a.name)), _cell(a.description), _cell(a.cite))
    _console().print(table)


@main.command("learners")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def learners_command(as_json):
    """List the registered learners and the options `--set` accepts for each."""
    from verification import learners
    from verification.spaces import option_names

    items = []
    for name in learners.LEARNERS.names():
        learner = learners.get(name)
        items.append(
            {"name": name, "class": type(learner).__name__, "options": option_names(learner)}
        )
    if as_json:
        _echo(json.dumps(items, indent=2))
        return
    table = Table(title="learners")
    for column in ("name", "class", "options (--set KEY=VALUE)"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(*map(_cell, (item["name"], item["class"], ", ".join(item["options"]))))
    _console().print(table)


if __name__ == "__main__":  # pragma: no cover
    main()
