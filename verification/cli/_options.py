"""Options that several commands take, each defined once.

A command composes the ones it needs as decorators; what differs between commands
(what ``--out`` holds, which executors run its work) is a parameter, never a copy.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import click

Decorator = Callable[[Callable], Callable]

#: executors that run a search's or an alignment's evaluations; a sweep also has slurm
#: and any executor registered in ``verification.executors.EXECUTORS`` (``--import``)
EXECUTOR_CHOICES = ("serial", "local", "dask")


def stack(*decorators: Decorator) -> Decorator:
    """Several option decorators as one, in the order they are listed (as ``--help``
    shows them)."""

    def apply(fn: Callable) -> Callable:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def shown(name: str | tuple[str, ...], default: Any, kind: Any, help_text: str) -> Decorator:
    """An option (``name``: its flag, or its flags and destination) of type ``kind``
    whose default ``--help`` shows."""
    decls = (name,) if isinstance(name, str) else name
    return click.option(*decls, default=default, show_default=True, type=kind, help=help_text)


def packed(name: str, kind: type, *decorators: Decorator) -> Decorator:
    """Options that travel together: the command receives their values as one argument
    ``name``, ``kind(**values)`` (a dataclass whose fields are the options' names)."""
    probe = stack(*decorators)(lambda: None)
    fields = [param.name for param in probe.__click_params__]

    def apply(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def command(*args, **kwargs):
            kwargs[name] = kind(**{field: kwargs.pop(field) for field in fields})
            return fn(*args, **kwargs)

        return stack(*decorators)(command)

    return apply


class ExecutorChoice(click.Choice):
    """The built-in executors by name; with ``registered``, also any name in
    ``EXECUTORS`` (imported only to look up a name that is not built in)."""

    def __init__(self, choices: Sequence[str], registered: bool = False) -> None:
        super().__init__(list(choices))
        self.registered = registered

    def convert(self, value, param, ctx):
        if self.registered and isinstance(value, str) and value not in self.choices:
            from verification.executors import EXECUTORS

            if value in EXECUTORS.names():
                return value
        return super().convert(value, param, ctx)


seed = shown("--seed", 0, click.IntRange(0, 2**32 - 1), "Seed for every draw (0 to 2**32 - 1).")

quiet = click.option(
    "--quiet",
    is_flag=True,
    help="Nothing on the terminal but errors and what --json asks for: no progress, table "
    "or summary. Files (--out, reports) are still written; the exit code says the outcome.",
)

as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def json_option(help_text: str) -> Decorator:
    """``--json`` with a command's own wording of what it prints."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


out_file = click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    help="Also write the JSON result to this file.",
)


def process(help_text: str) -> Decorator:
    """``--process``: a process for the command, described by ``help_text``."""
    return click.option(
        "--process",
        "process_spec",
        metavar="FILE.py:ATTR|FILE.json",
        help=f"{help_text} A theory.Process, a function returning one, or a process JSON.",
    )


def run_directory(help_text: str) -> Decorator:
    """``--out DIR``: the run directory (``help_text`` says what it holds and its
    default)."""
    return click.option("--out", type=click.Path(file_okay=False), default=None, help=help_text)


def store(help_text: str) -> Decorator:
    """``--store DIR``: another directory's result store."""
    return click.option("--store", type=click.Path(file_okay=False), default=None, help=help_text)


def evaluation_time_limit(what: str = "one evaluation (checks + training)") -> Decorator:
    return shown(
        "--evaluation-time-limit",
        600.0,
        click.FloatRange(0, min_open=True, max=1e7),
        f"Seconds {what} may take; past it, an error row.",
    )


def oracle(dest: str = "oracle", detail: str = " (e.g. stop at their loss)") -> Decorator:
    """``--oracle`` (stored under ``dest``, as each command's Python name has it)."""
    return click.option(
        "--oracle",
        dest,
        is_flag=True,
        help=f"Oracle mode: the true latents may steer training{detail}. "
        "Off by default; every result says which mode produced it.",
    )


no_plots = click.option("--no-plots", is_flag=True, help="Do not draw figures.")


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """A sweep's or an alignment's run directory and how its evaluations run."""

    out: str | None = None
    store: str | None = None
    evaluation_time_limit: float = 600.0
    oracle: bool = False
    no_plots: bool = False


def run_settings(out_help: str, store_help: str, unit: str) -> Decorator:
    """--out, --store, --evaluation-time-limit (``unit``: what it limits), --oracle and
    --no-plots, given to the command as ``run: RunSettings``."""
    return packed(
        "run",
        RunSettings,
        run_directory(out_help),
        store(store_help),
        evaluation_time_limit(unit),
        oracle(),
        no_plots,
    )


figures = click.option(
    "--figures",
    "figure_formats",
    metavar="pdf,svg",
    help="Also write each figure as PDF and/or SVG beside its PNG, sized and lettered for "
    "a two-column paper.",
)

track = click.option(
    "--track",
    "track_uri",
    metavar="URI",
    help="Log to MLflow (the 'track' extra): a run for the command with one nested run per "
    "evaluation (params, metrics and training curves, verdicts as tags, the report as "
    "artifact). URI: sqlite:///mlruns.db, file:./mlruns or http://HOST:PORT.",
)

tensorboard = click.option(
    "--tensorboard",
    "tensorboard_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Write each evaluation's training curves as TensorBoard scalars under DIR.",
)


@dataclasses.dataclass(frozen=True)
class Outputs:
    """What a run command also writes: figures as PDF/SVG (``--figures``), an MLflow
    run (``--track``), TensorBoard curves (``--tensorboard``)."""

    figure_formats: str | None = None
    track_uri: str | None = None
    tensorboard_dir: str | None = None

    @property
    def tracked(self) -> bool:
        return self.track_uri is not None or self.tensorboard_dir is not None

    def formats(self) -> tuple[str, ...]:
        """--figures, checked (before anything is computed)."""
        from verification._figures import parse_formats

        return parse_formats(self.figure_formats)

    def check(self) -> None:
        """--track and --tensorboard, checked before anything is computed."""
        if not self.tracked:
            return
        from verification import tracking

        if self.track_uri is not None:
            tracking.check_uri(self.track_uri)
        if self.tensorboard_dir is not None:
            tracking.check_tensorboard(self.tensorboard_dir)


#: --figures, --track, --tensorboard, given to the command as ``outputs: Outputs``
outputs = packed("outputs", Outputs, figures, track, tensorboard)

learner = click.option(
    "--learner",
    "learner_name",
    metavar="NAME",
    help="Use this registered learner instead of the theorem's (see `sith learners`).",
)

settings = click.option(
    "--set",
    "settings_",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a learner option, e.g. --set train.steps=200 --set encoder.width=64.",
)

#: --learner NAME and --set KEY=VALUE
learner_options = stack(learner, settings)


def vary(help_text: str) -> Decorator:
    """``--vary KEY=V1,V2,...`` (repeatable): a process field or learner option."""
    return click.option(
        "--vary", "vary_items", multiple=True, metavar="KEY=V1,V2,...", help=help_text
    )


def seeds(help_text: str) -> Decorator:
    return shown("--seeds", 3, click.IntRange(1), help_text)


def executor(
    where: str,
    choices: Sequence[str] = EXECUTOR_CHOICES,
    *,
    registered: bool = False,
    help_text: str | None = None,
    workers_help: str = "Worker processes (local, dask).",
    threads_help: str = "torch/BLAS threads per worker.",
    address_help: str = "Dask scheduler to use.",
) -> Decorator:
    """``--executor``, ``--workers``, ``--threads``, ``--address``: ``where`` (e.g.
    "evaluations run") says what runs on the executor. ``choices`` are the built-in executors the command accepts;
    ``registered`` also accepts executors registered by ``--import``. The command
    receives them as one argument, ``run_on: Executor``."""
    names = ", ".join(choices[:-1]) + f" or {choices[-1]}"
    return packed(
        "run_on",
        Executor,
        shown(
            "--executor",
            "serial",
            ExecutorChoice(choices, registered=registered),
            help_text or f"Where {where}: {names} (local: a process pool).",
        ),
        click.option("--workers", type=click.IntRange(1), help=workers_help),
        shown("--threads", 1, click.IntRange(1), threads_help),
        click.option("--address", metavar="tcp://HOST:PORT", help=address_help),
    )


@dataclasses.dataclass(frozen=True)
class Executor:
    """Where a command's work runs: the keyword arguments ``search``, ``sweep`` and
    ``align`` take for it."""

    executor: str = "serial"
    workers: int | None = None
    threads: int = 1
    address: str | None = None
