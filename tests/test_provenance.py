"""Every result says what produced it: report.json, sweep.json, align.json and
``sith recover --json`` carry a ``provenance`` object, as their schemas require."""

from __future__ import annotations

import datetime
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from verification import provenance
from verification.cli import main

SCHEMAS = Path(__file__).resolve().parents[1] / "verification" / "schemas"


def provenance_schema(name: str) -> dict:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return {"$defs": schema["$defs"], "$ref": "#/$defs/provenance"}


def check(made_by: dict, *, seed, command: list[str] | None = None) -> None:
    jsonschema.validate(made_by, provenance_schema("report"))
    assert set(made_by) == set(provenance.FIELDS)
    assert made_by["seed"] == seed
    assert made_by["python"] == platform.python_version()
    import numpy
    import torch

    assert made_by["numpy"] == numpy.__version__
    assert made_by["torch"] == torch.__version__
    created = datetime.datetime.fromisoformat(made_by["created"].replace("Z", "+00:00"))
    age = datetime.datetime.now(datetime.timezone.utc) - created
    assert datetime.timedelta(0) <= age < datetime.timedelta(minutes=10)
    if command is not None:
        assert made_by["command"] == command


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_commit_and_dirty_flag_of_the_working_directory(tmp_path):
    repo = tmp_path / "paper"
    repo.mkdir()
    assert provenance.git_state(repo) is None or provenance.git_state(repo)["commit"]
    git(repo, "init", "-q")
    (repo / "a.txt").write_text("one")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "first")
    head = git(repo, "rev-parse", "HEAD")
    clean = provenance.collect(seed=1, directory=repo, command=["sith", "sweep"])
    check(clean, seed=1, command=["sith", "sweep"])
    assert clean["git"] == {"commit": head, "dirty": False}
    (repo / "a.txt").write_text("two")
    sub = repo / "sub"
    sub.mkdir()  # any directory inside the working tree
    assert provenance.git_state(sub) == {"commit": head, "dirty": True}


def test_outside_a_repository_git_is_null(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert provenance.collect(seed=None, directory=tmp_path)["git"] is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert provenance.git_state(Path.cwd()) is None


def test_the_command_is_argv_as_run(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/sith", "sweep", "cl-ica", "--vary", "dim=2,3"])
    made_by = provenance.collect(seed=[0, 1], device="cpu")
    assert made_by["command"] == ["sith", "sweep", "cl-ica", "--vary", "dim=2,3"]
    assert made_by["seed"] == [0, 1] and made_by["device"] == "cpu"
    jsonschema.validate(made_by, provenance_schema("sweep"))


def test_recover_json_carries_provenance(tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        main, ["recover", "linear-ica", "--seed", "4", "--json", "--out", str(out)]
    )
    assert result.exit_code in (0, 1), result.output
    printed = json.loads(result.output)
    check(printed["provenance"], seed=4)
    assert json.loads(out.read_text())["provenance"] == printed["provenance"]


def test_search_report_carries_provenance(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["search", "linear-ica", "--budget", "2", "--seed", "5", "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, json.loads((SCHEMAS / "report.schema.json").read_text()))
    check(report["provenance"], seed=5)
    markdown = (out / "report.md").read_text()
    assert "## Cite" in markdown and "comon1994independent" in markdown
    assert f"git {report['provenance']['git']['commit'][:12]}" in markdown or (
        "not in a git repository" in markdown
    )


def test_sweep_and_align_documents_carry_provenance(tmp_path):
    from verification import align, sweep

    swept = sweep(
        "linear-ica", {"learner.n_train": [100]}, seeds=2, seed=3, out=tmp_path / "s", plots=False
    )
    doc = json.loads((swept.out / "sweep.json").read_text())
    jsonschema.validate(doc, json.loads((SCHEMAS / "sweep.schema.json").read_text()))
    check(doc["provenance"], seed=[3, 4])
    assert doc["provenance"]["device"] == "cpu"
    for name in ("report.md", "report.html"):
        assert "@misc{sith," in (swept.out / name).read_text()

    aligned = align("linear-ica", seeds=2, out=tmp_path / "a", plots=False)
    doc = json.loads((aligned.out / "align.json").read_text())
    jsonschema.validate(doc, json.loads((SCHEMAS / "align.schema.json").read_text()))
    check(doc["provenance"], seed=[0, 1])
    assert "comon1994independent" in (aligned.out / "report.md").read_text()


def test_a_document_without_provenance_is_refused_by_its_schema(tmp_path):
    made_by = provenance.collect(seed=0)
    for name in ("report", "sweep", "align"):
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
        assert "provenance" in schema["properties"]
        with pytest.raises(jsonschema.ValidationError, match="provenance"):
            jsonschema.validate({}, {"allOf": schema["allOf"]})
        bad = {**made_by, "git": {"commit": "not a sha", "dirty": False}}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, provenance_schema(name))


def test_sith_run_as_a_module_is_named_sith(monkeypatch):
    import verification._entry as entry

    monkeypatch.setattr(sys, "argv", [entry.__file__, "cite"])
    assert provenance.collect(seed=None)["command"] == ["sith", "cite"]
