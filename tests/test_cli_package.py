"""The CLI as a package (issue 22): lazy commands that answer without torch, options
defined once, one meaning of --quiet, one decider of learner coverage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner

import theory as th
from verification.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]

# runs the console script's code as `sith`, then reports (on stderr, at exit) whether
# torch was imported
PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write("
    "'\\nTORCH-LOADED=%s\\n' % ('torch' in sys.modules)))\n"
    "sys.argv[0] = 'sith'\n"
    "from verification._entry import main\n"
    "main()\n"
)


def probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, **(env or {})}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["--help"], 0, "Commands:"),
        (["search", "--help"], 0, "--evaluation-time-limit"),
        (["--version"], 0, "sith, version"),
        (["theorems"], 0, "cl-ica"),
        (["assumptions"], 0, "conformal"),
        (["search", "--bogus"], 2, "No such option '--bogus'"),
        (["sweep", "cl-ica", "--vary", "dim=2", "--executor", "nowhere"], 2, "nowhere"),
        (["learners"], 0, "infonce"),
    ],
)
def test_commands_that_compute_nothing_import_no_torch(args, code, expected):
    done = probe(*args)
    assert done.returncode == code, done.stderr
    assert expected in done.stdout + done.stderr
    assert "TORCH-LOADED=False" in done.stderr, done.stderr[-2000:]


def test_the_learner_specs_are_the_registry():
    """``sith learners`` reads the built-ins from their specs without torch: every
    built-in name, class and option there is what the live registry builds."""
    from verification import _learner_specs as specs
    from verification import learners
    from verification._options import options_of
    from verification.spaces import option_names

    assert set(specs.BUILT_IN) <= set(learners.LEARNERS.names())
    for name, (cls, options) in specs.BUILT_IN.items():
        learner = learners.get(name)
        assert type(learner).__name__ == cls
        assert options_of(learner) is specs.CLASSES[cls][0]
        assert sorted(specs.option_listing(cls)) == sorted(option_names(learner)), name
        for key, value in options.items():
            assert getattr(learner, key) == value
    from verification.learners import encoders

    assert tuple(encoders.ACTIVATIONS) == specs.ACTIVATION_NAMES


def test_sith_learners_lists_the_same_without_and_with_the_registry(tmp_path):
    """The torch-free listing equals the registry's; a learner registered by user code
    (--import) is listed too."""
    plain = probe("learners", "--json")
    assert plain.returncode == 0, plain.stderr
    user = tmp_path / "mine.py"
    user.write_text(
        "from verification import learners\n"
        "learners.register('mine', lambda: learners.get('vicreg'))\n"
    )
    both = probe("--import", str(user), "learners", "--json")
    assert both.returncode == 0, both.stderr
    listed = {item["name"]: item for item in json.loads(both.stdout)}
    assert [i for i in json.loads(plain.stdout)] == [
        listed[n] for n in sorted(listed) if n != "mine"
    ]
    assert listed["mine"]["class"] == "VICReg" and "train.steps" in listed["mine"]["options"]


def test_shell_completion_imports_no_torch():
    done = probe(env={"_SITH_COMPLETE": "bash_complete", "COMP_WORDS": "sith s", "COMP_CWORD": "1"})
    assert done.returncode == 0, done.stderr
    assert {"plain,search", "plain,sweep"} <= set(done.stdout.split())
    assert "TORCH-LOADED=False" in done.stderr


def test_python_dash_m_runs_the_command_line():
    for module in ("verification", "verification.cli"):
        done = subprocess.run(
            [sys.executable, "-m", module, "--version"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0 and done.stdout.startswith("sith, version"), done.stderr


def test_every_command_is_one_lazily_named_module():
    assert set(COMMANDS) == set(main.list_commands(None))
    for name, spec in COMMANDS.items():
        module, _, attribute = spec.partition(":")
        assert module == f"verification.cli.{name}" and attribute == f"{name}_command"
        assert main.get_command(None, name).name == name


def test_the_help_default_of_n_points_is_the_checks_default():
    from verification.checks import DEFAULT_POINTS
    from verification.cli import check

    assert check.DEFAULT_POINTS == DEFAULT_POINTS


def _option(command: str, name: str):
    return next(p for p in main.get_command(None, command).params if name in p.opts)


@pytest.mark.parametrize("name", ["--quiet", "--seed", "--oracle", "--evaluation-time-limit"])
def test_a_shared_option_means_one_thing_everywhere(name):
    commands = [
        c for c in COMMANDS if any(name in p.opts for p in main.get_command(None, c).params)
    ]
    assert len(commands) >= 2
    if name == "--evaluation-time-limit":  # the unit of work is named: an evaluation, a model
        helps = {_option(c, name).help.split(" may take")[1] for c in commands}
    else:
        helps = {_option(c, name).help for c in commands}
    assert len(helps) == 1, helps


def test_every_executor_option_has_a_choice_list():
    """sweep's --executor had none (issue 22): a typo ran to the driver."""
    for command in ("search", "sweep", "align"):
        option = _option(command, "--executor")
        assert {"serial", "local", "dask"} <= set(option.type.choices)
    assert "slurm" in _option("sweep", "--executor").type.choices
    refused = CliRunner().invoke(main, ["sweep", "cl-ica", "--vary", "dim=2", "--executor", "locl"])
    assert refused.exit_code == 2 and "'locl' is not one of" in refused.output


def test_sweep_accepts_an_executor_registered_by_a_users_module():
    from verification.cli._options import ExecutorChoice
    from verification.executors import EXECUTORS

    choice = ExecutorChoice(["serial"], registered=True)
    registered = next(n for n in EXECUTORS.names() if n != "serial")
    assert choice.convert(registered, None, None) == registered
    strict = ExecutorChoice(["serial"])
    with pytest.raises(click.BadParameter):
        strict.convert(registered, None, None)


# --- one decider of learner coverage ------------------------------------------------


class _UndecidedCondition(th.learner_conditions.LearnerAssumption):
    """A learner condition its check cannot decide (inconclusive)."""

    name = "test-undecided-learner-condition"
    description = "a learner condition no check can decide"
    cite = "tests"

    def statement(self, n, m=None):
        import sympy as sp

        return sp.true


def _register_undecided_check():
    from verification.checks import has_check, register_check
    from verification.evidence import Evidence

    if has_check(_UndecidedCondition):
        return

    @register_check(_UndecidedCondition)
    def _undecided(assumption, ctx):
        return Evidence(assumption.name, "inconclusive", message="cannot be decided")


def _align_covered(evidence, conditions: frozenset[str]) -> bool | None:
    """An alignment's ``covered`` for a model whose evaluation has this evidence."""
    from verification._align.driver import model_entry
    from verification._search.records import Evaluation

    evaluation = Evaluation(
        key="k",
        theorem="t",
        process={},
        learner={},
        seed=0,
        params={},
        evidence=tuple(e.to_dict() for e in evidence),
        violated=tuple(e.assumption for e in evidence if e.verdict == "violated"),
    )
    item = SimpleNamespace(seed=0, key="k")
    model = SimpleNamespace(
        id="m", label="l", params={}, item=item, process=SimpleNamespace(hash="h")
    )
    return model_entry(model, evaluation, None, True, conditions)["covered"]


@pytest.mark.parametrize("verdicts", [("inconclusive",), ("not-applicable",), ("proved", "holds")])
def test_recover_and_align_decide_learner_coverage_alike(verdicts):
    """``sith recover`` said an inconclusive learner condition leaves the learner
    outside the theorem, an alignment said inside (it counted only violations)."""
    from verification.checks.learner import learner_covered
    from verification.evidence import Evidence

    evidence = [Evidence(f"condition-{i}", v) for i, v in enumerate(verdicts)]
    covered = _align_covered(evidence, frozenset(e.assumption for e in evidence))
    assert covered == learner_covered(verdicts) == all(v != "inconclusive" for v in verdicts)


def test_an_undecided_learner_condition_puts_the_learner_outside_in_recover_and_align():
    import dataclasses

    from verification import learners
    from verification._align.driver import learner_conditions
    from verification.checks import check
    from verification.checks.learner import learner_coverage

    _register_undecided_check()
    base = th.theorems.get("linear-ica")
    theorem = dataclasses.replace(base, assumptions=(_UndecidedCondition(),))
    process = base.canonical_process()
    learner = learners.for_theorem(theorem)
    coverage = learner_coverage(theorem, process, learner, seed=0)
    assert coverage["learner_assumptions"][0]["verdict"] == "inconclusive"
    evidence = check(theorem, process, learner=learner, seed=0)
    covered = _align_covered(list(evidence), learner_conditions(theorem))
    assert covered is coverage["learner_covered"] is False


def test_recover_json_keeps_its_coverage_fields(tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        main, ["recover", "linear-ica", "--set", "n_train=500", "--quiet", "--out", str(out)]
    )
    assert result.exit_code in (0, 1), result.output
    assert result.output == ""  # --quiet: nothing on the terminal, the file is written
    payload = json.loads(out.read_text())
    assert isinstance(payload["learner_covered"], bool)
    assert all(
        {"assumption", "verdict", "message"} <= set(a) for a in payload["learner_assumptions"]
    )


@pytest.mark.parametrize("module", ["verification.__main__", "verification.cli.__main__"])
def test_python_dash_m_is_named_sith_in_provenance(monkeypatch, module):
    import importlib.util

    from verification import provenance

    monkeypatch.setattr(sys, "argv", [importlib.util.find_spec(module).origin, "cite"])
    assert provenance.collect(seed=None)["command"] == ["sith", "cite"]


def test_a_bad_slurm_option_is_named_as_given():
    refused = CliRunner().invoke(
        main, ["sweep", "cl-ica", "--vary", "dim=2", "--slurm-option", "account"]
    )
    assert refused.exit_code == 2
    assert "--slurm-option expects KEY=VALUE, got 'account'" in refused.output
