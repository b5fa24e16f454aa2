"""A paper's own theorem, assumption, check, torch mixing, learner settings and search
space work through every front door, and every reproduce line runs as printed."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import theory as th
import verification as v
from theory.errors import InvalidArgument, InvalidProcess, UnknownName
from verification import learners
from verification.checks import has_check
from verification.spaces import SPACES, default_space

PAPER = Path(__file__).parents[1] / "examples" / "extending" / "ima_paper.py"
SITH = [sys.executable, "-m", "verification._entry"]


def sith(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [*SITH, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        cwd=cwd,
    )


def run_as_printed(line: str, cwd: Path) -> subprocess.CompletedProcess:
    words = shlex.split(line)
    assert words[0] == "sith"
    return sith(*words[1:], cwd=cwd)


def test_a_papers_theorem_through_check_recover_and_search(tmp_path):
    listed = sith("--import", str(PAPER), "theorems", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "ima-ica" in [t["name"] for t in json.loads(listed.stdout)]

    checked = sith("--import", str(PAPER), "check", "ima-ica", "--json", "--n-points", "256")
    assert checked.returncode == 0, checked.stderr
    verdicts = {e["assumption"]: e["verdict"] for e in json.loads(checked.stdout)["evidence"]}
    assert verdicts == {"injective": "holds", "non-gaussian": "proved", "bounded-jacobian": "holds"}

    recovered = sith("--import", str(PAPER), "recover", "ima-ica", "--json")
    assert recovered.returncode == 0, recovered.stderr
    result = json.loads(recovered.stdout)
    assert result["learner"]["n_train"] == 3000  # the theorem's own learner settings

    out = tmp_path / "run"
    searched = sith(
        "--import", str(PAPER), "search", "ima-ica", "--budget", "8", "--reseeds", "1",
        "--out", str(out), "--json",
    )  # fmt: skip
    assert searched.returncode == 0, searched.stderr
    report = json.loads(searched.stdout)
    assert report["evaluations"] >= 1 and report["quadrants"]["errors"] == 0
    for cx in report["counterexamples"] + report["rejected"]:
        assert cx["process"]["mixing"]["type"] == "Torch"  # its own map, searched
        assert "--import" in cx["reproduce"]
        again = run_as_printed(cx["reproduce"], cwd=tmp_path)
        assert again.returncode in (0, 1), again.stderr  # runs: recovered or not


def test_a_papers_theorem_in_its_own_pytest_suite_prints_a_reproduce_line_that_runs(pytester):
    pytester.makepyfile(
        test_ima=f"""
import sys
sys.path.insert(0, {str(PAPER.parent)!r})
import ima_paper  # states and registers ima-ica

def test_ima_claimed_not_recovered(sith):
    sith.assert_not_recovered("ima-ica")  # wrong on purpose: the paper's claim holds
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    line = next(x for x in result.outlines if "reproduce: sith " in x).split("reproduce: ", 1)[1]
    assert "--import" in line and "ima_paper" in line
    again = run_as_printed(line, cwd=pytester.path)
    assert again.returncode == 0, again.stderr  # recovered, exactly as the failure said


def test_imports_come_from_the_environment_too(tmp_path):
    listed = sith("theorems", env={"SITH_IMPORT": str(PAPER)})
    assert listed.returncode == 0 and "ima-ica" in listed.stdout


def test_an_unregistered_theorem_in_an_imported_file_is_found_by_name(tmp_path):
    paper = tmp_path / "quiet_paper.py"
    paper.write_text(
        textwrap.dedent(
            """
            import theory as th
            theorem = th.Theorem(
                "quiet", (th.assumptions.LinearMixing(),), "fastica",
                th.claims.permutation_scaling(0.9),
                canonical=lambda: th.Process(th.latents.Laplace(2), th.mixings.Linear.random(2)),
            )
            """
        )
    )
    result = sith("--import", str(paper), "recover", "quiet", "--json")
    assert result.returncode == 0, result.stderr


def test_an_installed_package_registers_through_the_entry_point_group(tmp_path):
    package = tmp_path / "sith_demo_catalogue"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            import theory as th
            th.theorems.register(th.Theorem(
                "demo-ica", (th.assumptions.LinearMixing(),), "fastica",
                th.claims.permutation_scaling(0.9),
            ))
            """
        )
    )
    dist = tmp_path / "sith_demo_catalogue-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: sith-demo-catalogue\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text("[sith.catalogue]\ndemo = sith_demo_catalogue\n")
    pythonpath = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    listed = sith("theorems", "--json", env={"PYTHONPATH": pythonpath})
    assert listed.returncode == 0, listed.stderr
    assert "demo-ica" in [t["name"] for t in json.loads(listed.stdout)]


def test_every_catalogue_entry_has_what_it_needs():
    for name in th.assumptions.names():
        assert has_check(th.assumptions.get(name)), name
    for theorem in th.theorems.catalogue():
        learners.for_theorem(theorem)  # the learner exists (with its settings)
        for assumption in theorem.assumptions:
            assert has_check(assumption), (theorem.name, assumption.name)
        if theorem.name in SPACES:
            default_space(theorem).validate()


@dataclass
class _Unchecked(th.Assumption):
    name = "unchecked"


def test_bad_extensions_are_clear_errors():
    theorem = th.theorems.get("linear-ica")
    with pytest.raises(InvalidArgument, match="already registered; pass replace=True"):
        th.theorems.register(
            th.Theorem("linear-ica", theorem.assumptions, "fastica", theorem.claim)
        )
    with pytest.raises(InvalidArgument, match="already registered"):
        learners.register("fastica", lambda: learners.FastICA(n_train=10))
    with pytest.raises(InvalidArgument, match="already has a check"):
        v.register_check(th.assumptions.Injective)(lambda a, ctx: None)
    with pytest.raises(InvalidArgument, match="no check is registered for assumption 'unchecked'"):
        v.check(_Unchecked(), theorem.canonical_process())
    nameless = th.Theorem("nameless", (), "no-such-learner", theorem.claim)
    with pytest.raises(UnknownName, match="unknown learner 'no-such-learner'"):
        learners.for_theorem(nameless)


def test_a_registered_check_must_return_evidence():
    @dataclass
    class Sloppy(th.Assumption):
        name = "sloppy"

    v.register_check(Sloppy)(lambda assumption, ctx: True)
    with pytest.raises(InvalidArgument, match="returned bool, not Evidence"):
        v.check(Sloppy(), th.theorems.get("linear-ica").canonical_process())


def test_torch_mixings_hash_their_weights_and_name_their_module():
    torch.manual_seed(0)
    a = th.mixings.Torch(torch.nn.Linear(2, 2), 2, name="paper_x.net")
    b = th.mixings.Torch(torch.nn.Linear(2, 2), 2, name="paper_x.net")
    pa, pb = (th.Process(th.latents.Laplace(2), m) for m in (a, b))
    assert pa.hash != pb.hash  # different weights, different hash and cached results
    assert th.Process.from_json(pa.to_json()).mixing is a
    data = pa.to_dict()
    data["mixing"]["digest"] = "0" * 16
    with pytest.raises(InvalidProcess, match="sith --import paper_x"):
        th.Process.from_dict(data)


def test_torch_code_gets_a_hint_and_plain_subclasses_a_clear_error():
    with pytest.raises(InvalidArgument, match=r"theory\.mixings\.Torch"):
        th.Process(th.latents.Laplace(2), torch.nn.Linear(2, 2))

    class NotADataclass(th.mixings.Mixing):
        n = 2

        def forward(self, z):
            return z

    with pytest.raises(InvalidArgument, match="must be a dataclass"):
        th.Process(th.latents.Laplace(2), NotADataclass())
    with pytest.raises(InvalidArgument, match="outputs of shape"):
        th.mixings.Torch(lambda z: z.sum(), 2)


def test_the_public_facades_agree():
    """As hypothesis's _check_exports: __all__, the lazy table and __dir__ name the same
    things, and every one of them resolves."""
    import theory

    assert set(v.__all__) <= set(dir(v))
    for name in dir(v):
        assert getattr(v, name) is not None, name
    for name in theory.__all__:
        assert getattr(theory, name) is not None, name
