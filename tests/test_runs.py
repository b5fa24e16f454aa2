"""The run machinery every kind of run shares (verification._runs): each run directory
refuses the other kinds, default directories and store keys come from normalised
settings, and every run's figures are redrawn by ``sith report`` from its saved
documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import theory as th
from theory.errors import RunDirectoryError
from verification import align, search, sweep
from verification._runs import (
    DOCUMENTS,
    ResultStore,
    default_directory,
    evaluation_key,
    evaluation_spec,
    spec_key,
)
from verification._runs.rundir import NAMES
from verification._sweep.settings import normalised_settings
from verification.cli import main
from verification.spaces import Candidate

THEOREM = "linear-ica"  # FastICA: evaluations take well under a second
LAPLACE = th.Process(th.latents.Laplace(2), th.mixings.Linear.random(2, seed=0))
FAST = {"learner.n_train": [400]}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


RUNS = {
    "search": lambda out: search(THEOREM, budget=1, out=out),
    "sweep": lambda out: sweep(THEOREM, FAST, seeds=1, out=out, plots=False),
    "align": lambda out: align(THEOREM, seeds=2, vary=FAST, n_eval=100, out=out, plots=False),
}
PAIRS = [(kind, other) for kind in RUNS for other in DOCUMENTS if other != kind]


# --- every run directory refuses the other kinds -----------------------------------------
@pytest.mark.parametrize("kind, other", PAIRS, ids=[f"{k}-into-{o}" for k, o in PAIRS])
def test_a_run_refuses_a_directory_of_another_kind(tmp_path, kind, other):
    """Each pair, with the other kind's document as it wrote it (a sweep into an
    alignment's folder went through, overwriting its report)."""
    marker = tmp_path / DOCUMENTS[other]
    marker.write_text('{"schema": "kept"}')
    with pytest.raises(RunDirectoryError) as refused:
        RUNS[kind](tmp_path)
    message = str(refused.value)
    assert f"holds {NAMES[other]} ({DOCUMENTS[other]})" in message and "\n" not in message
    assert f"{kind} into another --out" in message
    assert marker.read_text() == '{"schema": "kept"}'  # untouched
    assert not (tmp_path / "report.md").exists() and not (tmp_path / ".lock").exists()


def test_the_cli_refuses_a_sweep_into_an_alignment_in_one_line(tmp_path):
    (tmp_path / "align.json").write_text("{}")
    result = run("sweep", THEOREM, "--vary", "learner.n_train=400", "--out", tmp_path)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "holds an alignment (align.json); sweep into" in errors[0]


# --- keys and default directories from normalised settings -------------------------------
@pytest.mark.parametrize(
    "theorem, spellings",
    [
        ("cl-ica", [{"tau": [0.1]}, {"learner.tau": [0.1]}]),
        ("cl-ica", [{"conditional.kappa": [2]}, {"conditional.kappa": [2.0]}]),
        (THEOREM, [{"n_train": [400, 800]}, {"learner.n_train": [400, 800]}]),
        (THEOREM, [{"latent.n": [2, 3]}, {"dim": [2, 3]}]),
    ],
)
def test_one_sweep_however_spelled_is_one_directory(theorem, spellings):
    t = th.theorems.get(theorem)
    directories = {
        default_directory("sweep", theorem, {"vary": normalised_settings(t, vary), "seeds": 3})
        for vary in spellings
    }
    assert len(directories) == 1


def test_other_values_are_another_directory():
    t = th.theorems.get("cl-ica")
    a, b = (
        default_directory("sweep", "cl-ica", {"vary": normalised_settings(t, {"tau": [v]})})
        for v in (0.1, 0.2)
    )
    assert a != b and a.startswith("runs/sweep-cl-ica-")


def test_the_cli_runs_one_sweep_spelled_two_ways_in_one_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["sweep", THEOREM, "--seeds", 1, "--no-plots", "--quiet"]
    first = run(*base, "--vary", "n_train=400")
    assert first.exit_code == 0, first.output
    second = run(*base, "--vary", "learner.n_train=400", "--json")
    assert second.exit_code == 0, second.output
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [
        Path(
            default_directory(
                "sweep",
                THEOREM,
                {
                    "process": th.theorems.get(THEOREM).canonical_process().to_dict(),
                    "vary": {"learner.n_train": [400]},
                    "seeds": 1,
                    "seed": 0,
                    "random": None,
                    "oracle": False,
                },
            )
        ).name
    ]
    assert '"new_evaluations": 0' in second.output  # the second spelling resumed the first


def test_keys_need_no_store_and_are_the_stored_records_keys(tmp_path):
    theorem = th.theorems.get(THEOREM)
    result = sweep(theorem, FAST, seeds=[3], process=LAPLACE, out=tmp_path, plots=False)
    candidate = Candidate(LAPLACE, {"n_train": 400})
    key = evaluation_key(theorem, candidate, 3)
    assert key == spec_key(evaluation_spec(theorem, candidate, 3)[0])
    assert result.rows[0]["key"] == key and ResultStore(tmp_path).get(key) is not None
    assert evaluation_key(theorem, candidate, 4) != key  # the seed is part of it


# --- figures drawn from the saved documents ----------------------------------------------
def _listed(markdown: str) -> list[str]:
    return sorted(re.findall(r"\]\((figures/[^)]+\.png)\)", markdown))


@pytest.mark.parametrize("kind", ["search", "sweep", "align"])
def test_sith_report_redraws_the_figures_from_the_documents(tmp_path, kind):
    pytest.importorskip("matplotlib")
    out = tmp_path / kind
    if kind == "search":
        search(THEOREM, budget=3, out=out, reseeds=1)
    elif kind == "sweep":
        sweep(THEOREM, {"learner.n_train": [300, 600]}, seeds=1, out=out)
    else:
        align(THEOREM, seeds=2, process=LAPLACE, vary=FAST, n_eval=100, out=out)
    drawn = {p.name: p.read_bytes() for p in (out / "figures").glob("*.png")}
    assert drawn, "the run drew no figure"
    assert _listed((out / "report.md").read_text()) == sorted(f"figures/{n}" for n in drawn)
    for path in (out / "figures").iterdir():
        path.unlink()
    result = run("report", out, "--format", "md")
    assert result.exit_code == 0, result.output
    again = {p.name: p.read_bytes() for p in (out / "figures").glob("*.png")}
    assert again == drawn  # the same figures, drawn from the documents alone
    assert _listed(result.output) == sorted(f"figures/{n}" for n in drawn)
    vector = run("report", out, "--figures", "svg")
    assert vector.exit_code == 0, vector.output
    assert sorted(p.stem for p in (out / "figures").glob("*.svg")) == sorted(
        Path(n).stem for n in drawn
    )
