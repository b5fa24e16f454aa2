"""The sith command's imports without garbage collection (verification._startup_gc)."""

from __future__ import annotations

import gc

import pytest
from click.testing import CliRunner

from verification import _startup_gc
from verification.cli import main


@pytest.fixture
def collector():
    """The collector as it was, and nothing left frozen, after the test."""
    enabled = gc.isenabled()
    yield
    _startup_gc._paused = False
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("argv", [["sweep", "cl-ica"], ["--debug", "search", "x"], ["align"]])
def test_a_run_command_pauses_the_collector_until_it_resumes(collector, argv):
    assert _startup_gc.pause(argv) is True and not gc.isenabled()
    _startup_gc.resume()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    _startup_gc.resume()  # once only
    assert gc.isenabled()


@pytest.mark.parametrize("argv", [["check", "cl-ica"], ["--help"], []])
def test_other_commands_and_a_resume_without_pause_change_nothing(collector, argv):
    gc.unfreeze()
    assert _startup_gc.pause(argv) is False and gc.isenabled()
    _startup_gc.resume()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_collector_the_user_disabled_stays_disabled(collector):
    gc.disable()
    assert _startup_gc.pause(["sweep", "cl-ica"]) is False
    _startup_gc.resume()
    assert not gc.isenabled()


def test_a_sweep_resumes_it_before_it_computes(collector, tmp_path, monkeypatch):
    seen = []
    import verification._sweep as sweeps

    real = sweeps.sweep

    def sweep(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(sweeps, "sweep", sweep)
    _startup_gc.pause(["sweep"])
    result = CliRunner().invoke(
        main,
        ["sweep", "linear-ica", "--vary", "learner.n_train=100", "--seeds", "1", "--out",
         str(tmp_path), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert seen == [True] and gc.isenabled()


def test_a_command_word_that_was_an_options_value_resumes_it(collector):
    """``sith --import align theorems``: the early look took "align" for the command;
    the command that runs is ``theorems``, so the collector runs again."""
    assert _startup_gc.pause(["--import", "align", "theorems"]) is True
    result = CliRunner().invoke(main, ["theorems"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled()
