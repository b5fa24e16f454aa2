"""The ``sith`` group: commands named as ``"module:attribute"`` strings, imported when
used (click's documented lazy group, pytest's ``default_plugins`` habit).

``sith --help``, ``--version``, a usage error or shell completion import click and
the command modules (each imports only click and its siblings at module level), never
torch; a command imports what it computes with when it runs.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from verification import _startup_gc
from verification.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    echo,
    one_line,
    package_version,
)

#: command name -> "module:attribute", in the order ``sith --help`` lists them
COMMANDS: dict[str, str] = {
    "check": "verification.cli.check:check_command",
    "recover": "verification.cli.recover:recover_command",
    "search": "verification.cli.search:search_command",
    "sweep": "verification.cli.sweep:sweep_command",
    "align": "verification.cli.align:align_command",
    "report": "verification.cli.report:report_command",
    "cite": "verification.cli.cite:cite_command",
    "theorems": "verification.cli.theorems:theorems_command",
    "assumptions": "verification.cli.assumptions:assumptions_command",
    "learners": "verification.cli.learners:learners_command",
}


class SithGroup(click.Group):
    """The ``sith`` group: lazy commands, and one top-level handler for every way a
    command can end.

    - bad input (any :class:`SithError`, a usage error): one line on stderr, exit 2;
    - Ctrl-C (or SIGTERM): exit 130, after the command kept what it finished;
    - anything else is a bug in sith: one line naming it, exit 3, and a hint to rerun
      with ``--debug`` for the traceback.
    """

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        eager = [name for name in super().list_commands(ctx) if name not in self.lazy_commands]
        return [*self.lazy_commands, *sorted(eager)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _startup_gc.COMMANDS:
            _startup_gc.resume()  # paused for a command word that was an option's value
        if cmd_name in self.lazy_commands:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
        module = importlib.import_module(module_name)
        command = getattr(module, attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring bug
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        return command

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        try:
            from verification._terminal import plain_warnings

            with plain_warnings():
                return super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as err:
            sys.exit(err.exit_code)
        except click.UsageError as err:  # one line, as every other refusal
            hint = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
            echo(f"Error: {one_line(err.format_message())}{hint}", err=True)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            echo(f"Error: {one_line(err.format_message())}", err=True)
            sys.exit(err.exit_code)
        except (click.Abort, KeyboardInterrupt):
            echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as err:
            if _is_sith_error(err):
                echo(f"Error: {one_line(err)}", err=True)
                sys.exit(EXIT_BAD_INPUT)
            if debug:
                raise
            echo(
                f"Internal error (a bug in sith): {type(err).__name__}: {one_line(err)} "
                "(rerun with --debug for the traceback, and please report it)",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)


def _is_sith_error(err: BaseException) -> bool:
    """Whether ``err`` is a :class:`SithError`: only sith raises one, so its module is
    loaded if it is (and an error before any import need not load theory to say no)."""
    errors = sys.modules.get("theory.errors")
    return errors is not None and isinstance(err, errors.SithError)


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"sith, version {package_version()}")
        ctx.exit()


@click.group(
    cls=SithGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
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
    from verification._loading import import_from_env, import_user, load_catalogue_entry_points

    load_catalogue_entry_points()
    import_from_env()
    for target in imports:
        import_user(target)
