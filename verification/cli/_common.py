"""What every command shares: printing, refusing bad input, loading a process or a
catalogue entry, the learner of a command, tracking.

Imports at module level only the standard library and click (``sith --help`` loads
every command module to list them, and must stay fast): theory, torch and rich come in
inside the functions that use them.
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
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console
    from rich.text import Text

    import theory as th

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


def package_version() -> str:
    """The installed version of sith, ``0+unknown`` in a source tree."""
    try:
        return version("sith-toolkit")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def console() -> Console:
    """A console for stdout: colours on a terminal, 140 columns otherwise."""
    from verification._terminal import SafeConsole

    tty = sys.stdout.isatty()
    return SafeConsole(highlight=False, width=None if tty else 140, no_color=not tty)


def m(value: object) -> str:
    """Data (a name, a message) inside a rich markup string: shown as written, never
    read as markup (a name with ``[/]`` or ``[link=...]`` is text)."""
    from rich.markup import escape

    from verification._terminal import printable

    return escape(printable(value))


def cell(value: object) -> Text:
    """A table cell of data: plain text, control characters visible."""
    from rich.text import Text

    from verification._terminal import printable

    return Text(printable(value))


def echo(message: object = "", **kwargs) -> None:
    """click.echo, with control characters from users' names and files made visible."""
    from verification._terminal import printable

    click.echo(printable(message), **kwargs)


def one_line(err: BaseException | str) -> str:
    """A message on one line, at most 2,000 characters."""
    from verification._terminal import printable

    text = " ".join(printable(err).split())
    return text if len(text) <= 2000 else text[:2000] + " ..."


class BadInput(click.ClickException):
    """Bad user input: one clear line on stderr, exit code 2."""

    exit_code = EXIT_BAD_INPUT


def fail(message: str) -> None:
    raise BadInput(message)


def root_imports() -> list[str]:
    """The ``--import`` targets given to ``sith`` itself."""
    return list(click.get_current_context().find_root().params.get("imports") or ())


def prepare_out(path: str | None) -> None:
    """Make sure ``--out FILE`` can be written, before any computation starts."""
    if not path:
        return
    parent = Path(path).resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        fail(f"--out: cannot create the folder {parent}: {err.strerror or err}")
    if not os.access(parent, os.W_OK):
        fail(f"--out: the folder {parent} is not writable")


def write_json(path: str | None, payload: dict) -> None:
    from verification._files import write_atomic

    if path:
        write_atomic(Path(path), json.dumps(payload, indent=2))


def load_process(spec: str | None, target) -> th.Process:
    """The process of ``--process`` (a FILE.py:ATTR, a factory, or a process JSON), or
    the theorem's canonical one when none is given."""
    import theory as th
    from theory._json import load_json
    from theory.errors import SithError
    from verification._loading import load_attribute

    if spec is None:
        if isinstance(target, th.Theorem) and target.canonical is not None:
            return target.canonical_process()
        fail(
            "--process FILE.py:ATTR is required for an assumption (theorems default to "
            "their canonical process)"
        )
    if spec.endswith(".json"):
        try:
            data = Path(spec).read_bytes()
        except FileNotFoundError:
            fail(f"file not found: {spec}")
        except OSError as err:
            fail(f"cannot read {spec}: {err.strerror or err}")
        try:
            return th.Process.from_dict(load_json(data, what=spec))
        except SithError as err:
            fail(f"{spec} is not a valid process JSON: {err}")
    obj = load_attribute(spec)
    if callable(obj) and not isinstance(obj, th.Process):
        try:
            obj = obj()
        except SithError:
            raise
        except Exception as err:  # the user's factory failed: one line, not a traceback
            fail(f"calling {spec} failed: {type(err).__name__}: {err}")
    if not isinstance(obj, th.Process):
        fail(f"{spec} is a {type(obj).__name__}, not a theory.Process")
    return obj


def named(name: str, lookup, *kinds: type):
    """A catalogue entry by name, else a theorem/assumption of that name defined in a
    module the user imported (``--import``, ``--process``), registered or not."""
    from theory.errors import UnknownName
    from verification._loading import find_user_object

    try:
        return lookup(name)
    except UnknownName:
        for kind in kinds:
            found = find_user_object(name, kind)
            if found is not None:
                return found
        raise


def theorem_named(name: str):
    """The theorem NAME of the catalogue or of a module the user imported."""
    import theory as th

    return named(name, th.theorems.get, th.Theorem)


def parse_settings(items: tuple[str, ...], option: str = "--set") -> dict:
    """KEY=VALUE pairs of ``option``; values parsed as JSON where possible (numbers,
    booleans, null), otherwise kept as strings. Non-finite numbers are refused."""
    from theory._json import load_json
    from theory.errors import SithError

    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            fail(f"{option} expects KEY=VALUE, got {item!r}")
        try:
            out[key] = load_json(raw, what=f"{option} {key}")
        except SithError as err:
            if "non-finite" in str(err) or "overflows" in str(err):
                fail(f"{option} {key}: {raw} is not a finite number")
            out[key] = raw
    return out


def cli_learner(target, learner_name, settings_):
    """The learner NAME's command is about: the theorem's own (or --learner), with
    --set options applied and validated before anything is computed; None for an
    assumption when no learner was asked for."""
    import theory as th
    from verification import learners
    from verification._options import parse_options
    from verification.spaces import apply_options

    if learner_name is not None:
        learners.LEARNERS.get(learner_name)  # an unknown name fails here, in milliseconds
    if isinstance(target, th.Theorem):
        if learner_name is not None:
            target = dataclasses.replace(target, learner=learner_name)
        learner = learners.for_theorem(target)
    elif learner_name is not None:
        learner = learners.get(learner_name)
    elif settings_:
        fail("--set needs a learner: name one with --learner, or check a theorem")
    else:
        return None
    apply_options(learner, parse_options(learner, settings_))
    return learner


def track(
    outputs,
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
    if not outputs.tracked:
        return
    from verification import tracking

    track_uri, tensorboard_dir = outputs.track_uri, outputs.tensorboard_dir
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
            echo(
                f"tracked: {len(records)} evaluation run(s) under run {run_id} of experiment "
                f"sith/{theorem} in {track_uri}",
                err=True,
            )
    if tensorboard_dir is not None:
        written = tracking.log_tensorboard(tensorboard_dir, records)
        if not quiet:
            echo(f"tensorboard: {len(written)} curve(s) in {tensorboard_dir}", err=True)


@contextlib.contextmanager
def sigterm_as_interrupt():
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


def table(title: str | None = None, columns=(), **kwargs: Any):
    """A rich table with these columns (folded, never cut)."""
    from rich.table import Table

    out = Table(title=title, **kwargs)
    for column in columns:
        out.add_column(column, overflow="fold")
    return out
