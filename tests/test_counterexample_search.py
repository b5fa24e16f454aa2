"""Counterexample search on tiny, fast planted cases (FastICA learner: milliseconds)."""

import html as html_module
import json
from dataclasses import dataclass

import jsonschema
import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings

import theory as th
from theory.errors import InvalidArgument, RunDirectoryError, UnknownName
from verification import learners as L
from verification import strategies as sst
from verification._search import SCHEMA_FILE, CorruptRecordWarning, ResultStore, load_report, search
from verification.cli import main
from verification.spaces import SearchSpace

# Conformal is violated by every random linear map, yet FastICA recovers Laplace sources.
PLANTED_GAP = th.Theorem(
    "planted-gap",
    (th.assumptions.Conformal(),),
    "fastica",
    th.claims.permutation_scaling(0.9),
    cite="test",
)
# Linear mixing holds, yet the claim is never met: an MCC of exactly 1 needs correlations
# of exactly 1 from finite samples. A failure by construction, at every dimension and on
# every machine (a planted failure must not hang on FastICA's coin flip on Gaussians).
PLANTED_FAILURE = th.Theorem(
    "planted-failure",
    (th.assumptions.LinearMixing(),),
    "fastica",
    th.claims.permutation_scaling(1.0),
    cite="test",
)
LAPLACE_SPACE = SearchSpace(
    dims=(2, 4),
    latents=("laplace",),
    mixings=("linear",),
    conditionals=("none",),
    learner_options={"n_train": (3000,)},
)
GAUSS_SPACE = LAPLACE_SPACE.narrow(latents=("normal",))
SCHEMA = json.loads(SCHEMA_FILE.read_text())


def test_finds_and_shrinks_a_planted_gap(tmp_path):
    result = search(
        PLANTED_GAP,
        LAPLACE_SPACE,
        budget=12,
        seed=0,
        kinds=("gap",),
        out=tmp_path / "gap",
        reseeds=1,
    )
    assert result.gaps and not result.failures
    cx = result.gaps[0]
    assert list(cx.evaluation.violated) == ["conformal"] and cx.evaluation.recovered
    assert cx.confirmed and cx.minimal
    assert cx.evaluation.params["dim"] <= cx.found_as["dim"]  # shrinking never grows it
    report = load_report(tmp_path / "gap")
    jsonschema.validate(report, SCHEMA)
    assert report["counterexamples"][0]["kind"] == "gap"
    assert "sith recover planted-gap" in report["counterexamples"][0]["reproduce"]


def test_finds_a_planted_failure(tmp_path):
    result = search(
        PLANTED_FAILURE,
        GAUSS_SPACE,
        budget=12,
        seed=0,
        kinds=("failure",),
        out=tmp_path / "fail",
        reseeds=1,
    )
    assert result.failures and not result.gaps
    cx = result.failures[0]
    assert cx.confirmed and cx.evaluation.holds and not cx.evaluation.recovered
    assert cx.evaluation.params["dim"] <= cx.found_as["dim"]
    assert cx.spread()["n"] == 2


def test_no_counterexample_where_theory_and_practice_agree(tmp_path):
    # linear ICA's own setting: Laplace sources, a linear map, MCC >= 0.9 (met with margin)
    faithful = th.Theorem(
        "faithful",
        (th.assumptions.LinearMixing(),),
        "fastica",
        th.claims.permutation_scaling(0.9),
        cite="test",
    )
    result = search(
        faithful,
        LAPLACE_SPACE,
        budget=5,
        seed=0,
        kinds=("failure",),
        out=tmp_path / "none",
        reseeds=1,
    )
    assert result.counterexamples == [] and result.status == "complete"
    assert result.quadrants["holds_recovered"] == result.evaluations


def test_resume_skips_finished_work_and_gives_the_same_report(tmp_path):
    run = tmp_path / "run"
    first = search(PLANTED_GAP, LAPLACE_SPACE, budget=6, seed=1, out=run, reseeds=1)
    assert first.new_evaluations > 0
    again = search(PLANTED_GAP, LAPLACE_SPACE, budget=6, seed=1, out=run, reseeds=1, resume=True)
    assert again.new_evaluations == 0
    assert [c.evaluation.key for c in again.counterexamples] == [
        c.evaluation.key for c in first.counterexamples
    ]
    with pytest.raises(RunDirectoryError, match="resume"):
        search(PLANTED_GAP, LAPLACE_SPACE, budget=6, seed=1, out=run)


def test_interruption_keeps_a_valid_report(tmp_path):
    run = tmp_path / "run"
    seen = set()

    def interrupt_after_three(evaluation, fresh):
        seen.add(evaluation.key)
        if len(seen) == 3:
            raise KeyboardInterrupt

    result = search(
        PLANTED_GAP, LAPLACE_SPACE, budget=20, seed=0, out=run, on_record=interrupt_after_three
    )
    assert result.status == "interrupted"
    report = load_report(run)
    jsonschema.validate(report, SCHEMA)
    assert report["status"] == "interrupted"
    assert len(list((run / "evaluations").glob("*.json"))) == 3  # finished work is kept


def _without_timings(value):
    if isinstance(value, dict):
        return {
            k: _without_timings(v) for k, v in value.items() if k not in ("seconds", "provenance")
        }
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def test_same_seed_same_report(tmp_path):
    search(PLANTED_GAP, LAPLACE_SPACE, budget=5, seed=3, out=tmp_path / "a", reseeds=1)
    search(PLANTED_GAP, LAPLACE_SPACE, budget=5, seed=3, out=tmp_path / "b", reseeds=1)
    a, b = load_report(tmp_path / "a"), load_report(tmp_path / "b")
    for report in (a, b):
        for cx in report["counterexamples"]:
            cx["reproduce"] = cx["reproduce"].replace(str(tmp_path), "")
            cx["reproduce"] = cx["reproduce"].replace("/a/", "/").replace("/b/", "/")
    assert a["counterexamples"] and _without_timings(a) == _without_timings(b)


@settings(max_examples=5, database=None)
@given(
    sst.processes(
        dims=(2, 3),
        latent_families=("laplace", "uniform"),
        mixing_classes=("linear", "mobius"),
        conditional_families=("none",),
    )
)
def test_strategies_in_a_users_given_test(process):
    _, x = process.sample(16, seed=0)
    assert x.shape == (16, process.dim)


def test_strategy_arguments_are_validated():
    with pytest.raises(ValueError, match="unknown mixing classes"):
        sst.mixings(2, classes=("bogus",))
    with pytest.raises(ValueError, match="low <= high"):
        sst.processes(dims=(4, 2))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_search_report_and_exit_codes(tmp_path):
    out = tmp_path / "lica"
    args = ["search", "linear-ica", "--budget", 4, "--dim", "2..2", "--reseeds", 1, "--out", out]
    result = run(*args, "--quiet")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert (out / "report.md").exists()
    assert run(*args, "--quiet").exit_code == 2  # exists, no --resume
    resumed = run(*args, "--resume", "--json")
    assert resumed.exit_code == 0 and json.loads(resumed.output)["schema"] == "sith.report/1"
    html = run("report", out, "--format", "html")
    assert html.exit_code == 0 and "<html lang='en'>" in html.output
    md = run("report", out, "--format", "md")
    assert md.exit_code == 0 and "# sith search: linear-ica" in md.output


def test_the_html_report_holds_what_the_markdown_does(tmp_path):
    run_dir = tmp_path / "gap"
    search(PLANTED_GAP, LAPLACE_SPACE, budget=6, seed=0, kinds=("gap",), out=run_dir, reseeds=1)
    figures = tmp_path / "figures"
    figures.mkdir()
    # a tiny valid PNG (1x1), as the plots extra would write
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
    (figures / "metric-vs-parameters.png").write_bytes(png)
    report = load_report(run_dir)
    from verification._search.reports import render_html, render_markdown

    page = render_html(report, [figures / "metric-vs-parameters.png"])
    markdown = render_markdown(report)
    cx = report["counterexamples"][0]
    for text in (cx["reproduce"], "conformal", "gap on 2 of 2 seeds", "shrunk to the end"):
        assert text in markdown
        assert html_module.escape(text, quote=True) in page
    assert "<td class='violated'>violated</td>" in page  # the evidence table
    assert "data:image/png;base64," in page


def test_progress_lines_name_the_parameters_being_tried(tmp_path):
    out = tmp_path / "p"
    result = run("search", "linear-ica", "--budget", 3, "--dim", "2..3", "--reseeds", 0,
                 "--out", out)  # fmt: skip
    lines = (
        [x for x in result.stderr.splitlines() if x.startswith("[")] if result.stderr_bytes else []
    )
    lines = lines or [x for x in result.output.splitlines() if x.startswith("[")]
    assert lines and all("dim=" in x and "latent=" in x and "n_train=" in x for x in lines)


def test_cli_fail_on(tmp_path):
    result = run(
        "search",
        "linear-ica",
        "--budget",
        3,
        "--dim",
        "2..2",
        "--vary",
        "latent",
        "--reseeds",
        0,
        "--out",
        tmp_path / "x",
        "--fail-on",
        "any",
        "--quiet",
    )
    report = json.loads((tmp_path / "x" / "report.json").read_text())
    assert result.exit_code == (1 if report["counterexamples"] else 0)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--dim", "5..2"], "LOW <= HIGH"),
        (["--dim", "a..b"], "integers"),
        (["--kinds", "bugs"], "--kinds"),
        (["--vary", "colour"], "unknown axis"),
    ],
)
def test_cli_search_bad_options(tmp_path, args, message):
    result = run("search", "linear-ica", "--out", tmp_path / "r", *args)
    assert result.exit_code == 2 and message in result.output


def test_cli_report_missing_directory(tmp_path):
    result = run("report", tmp_path / "nothing")
    assert result.exit_code == 2 and "no report.json" in result.output


@dataclass
class _LinearOnly(L.Learner):
    """Inverts a linear mixing exactly; on any other map it learns nothing (noise).

    With Conformal as the assumption, a linear map is a gap and a Möbius map (conformal)
    a failure, both by construction: the kind of a counterexample is its mixing's."""

    name = "linear-only"

    def fit(self, process, *, seed=0, monitor=None):
        mixing = process.mixing
        if isinstance(mixing, th.mixings.Linear):
            inverse = torch.linalg.inv(torch.tensor(mixing.matrix, dtype=torch.float64))
            return L.Fit(lambda x: x.double() @ inverse.T, [(1, 0.0)], 1)
        gen = torch.Generator().manual_seed(seed)
        return L.Fit(
            lambda x: torch.randn(len(x), process.dim, generator=gen, dtype=torch.float64),
            [(1, 0.0)],
            1,
        )


def test_shrinking_never_turns_a_counterexample_into_another_kind(tmp_path, monkeypatch):
    monkeypatch.setitem(L.LEARNERS, "linear-only", _LinearOnly)
    theorem = th.Theorem(
        "planted-both",
        (th.assumptions.Conformal(),),
        "linear-only",
        th.claims.permutation_scaling(0.9),
        cite="test",
    )
    space = SearchSpace(
        dims=(2, 3),
        latents=("laplace",),
        mixings=("mobius", "linear"),  # shrinking moves toward Möbius: a failure
        conditionals=("none",),
    )
    result = search(theorem, space, budget=30, seed=0, out=tmp_path / "r", reseeds=1)
    assert {c.kind for c in result.counterexamples} == {"gap", "failure"}
    for cx in [*result.counterexamples, *result.rejected]:
        assert cx.evaluation.params["mixing"] == cx.found_as["mixing"]
        assert cx.kind == ("gap" if cx.found_as["mixing"] == "Linear" else "failure")


def test_resuming_with_other_settings_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    search(PLANTED_GAP, LAPLACE_SPACE, budget=3, seed=0, out=run_dir, reseeds=0)
    with pytest.raises(RunDirectoryError, match="seed differ"):
        search(PLANTED_GAP, LAPLACE_SPACE, budget=3, seed=1, out=run_dir, reseeds=0, resume=True)
    with pytest.raises(RunDirectoryError, match="space"):
        wider = LAPLACE_SPACE.narrow(latents=("laplace", "normal"))
        search(PLANTED_GAP, wider, budget=3, seed=0, out=run_dir, reseeds=0, resume=True)
    longer = search(
        PLANTED_GAP, LAPLACE_SPACE, budget=5, seed=0, out=run_dir, reseeds=0, resume=True
    )  # a larger budget continues the same search
    assert longer.status == "complete"


def test_the_store_ignores_temp_files_and_names_unreadable_records(tmp_path):
    run_dir = tmp_path / "run"
    first = search(PLANTED_GAP, LAPLACE_SPACE, budget=3, seed=0, out=run_dir, reseeds=0)
    store = ResultStore(run_dir)
    records = sorted(store.dir.glob("*.json"))
    (store.dir / ".tmp-leftover.json").write_text(records[0].read_text())  # a killed writer
    assert len(store) == len(records) and len(list(store)) == len(records)
    records[0].write_bytes(b"\xff\xfe not utf-8")
    tampered = json.loads(records[1].read_text())
    tampered["seed"] = 99  # no longer the record its name says
    records[1].write_text(json.dumps(tampered))
    with pytest.warns(CorruptRecordWarning, match=records[0].name):
        again = search(
            PLANTED_GAP, LAPLACE_SPACE, budget=3, seed=0, out=run_dir, reseeds=0, resume=True
        )
    assert again.new_evaluations == 2  # exactly the two unreadable records, recomputed
    assert again.quadrants == first.quadrants


def test_bad_learner_options_and_metrics_fail_before_any_evaluation(tmp_path):
    bad_option = LAPLACE_SPACE.narrow(learner_options={"n_train": (3000,), "no_such": (1,)})
    with pytest.raises(InvalidArgument, match="no_such"):
        search(PLANTED_GAP, bad_option, budget=2, out=tmp_path / "a")
    bad_value = LAPLACE_SPACE.narrow(learner_options={"n_train": (3000, -5)})
    with pytest.raises(InvalidArgument, match="n_train"):
        search(PLANTED_GAP, bad_value, budget=2, out=tmp_path / "b")
    unknown_metric = th.Theorem(
        "bad-metric",
        (th.assumptions.LinearMixing(),),
        "fastica",
        th.claims.Claim("made up", "no-such-metric", 0.9),
        cite="test",
    )
    with pytest.raises(UnknownName, match="no-such-metric"):
        search(unknown_metric, LAPLACE_SPACE, budget=2, out=tmp_path / "c")
    assert not any((tmp_path / d).exists() for d in "abc")  # nothing was started


@dataclass
class _Buggy(L.Learner):
    """A learner with a bug: a ValueError from deep inside its fit."""

    name = "buggy"

    def fit(self, process, *, seed=0, monitor=None):
        raise ValueError("shapes (3,) and (4,) not aligned")


def test_a_bug_is_never_filed_as_an_invalid_combination(tmp_path, monkeypatch):
    monkeypatch.setitem(L.LEARNERS, "buggy", _Buggy)
    theorem = th.Theorem(
        "buggy-theorem",
        (th.assumptions.LinearMixing(),),
        "buggy",
        th.claims.permutation_scaling(0.9),
        cite="test",
    )
    with pytest.raises(ValueError, match="not aligned"):
        search(theorem, LAPLACE_SPACE.narrow(learner_options={}), budget=2, out=tmp_path / "r")


def test_an_incoherent_candidate_is_a_stored_error_row(tmp_path):
    # InfoNCE needs positive pairs: a process without a conditional is an invalid
    # combination (InvalidProcess), recorded once and never retried
    theorem = th.Theorem(
        "pairs-needed",
        (th.assumptions.LinearMixing(),),
        ("infonce", {"train.steps": 5}),
        th.claims.permutation_scaling(0.9),
        cite="test",
    )
    result = search(theorem, LAPLACE_SPACE.narrow(learner_options={}), budget=2, out=tmp_path / "r")
    assert result.quadrants["errors"] == result.evaluations >= 1
    assert all("InvalidProcess" in e["error"] for e in result.errors)
    again = search(
        theorem, LAPLACE_SPACE.narrow(learner_options={}), budget=2, out=tmp_path / "r", resume=True
    )
    assert again.new_evaluations == 0


def test_wilson_interval_solves_the_score_equation():
    from verification._search.records import Z_95, wilson_interval

    assert wilson_interval(0, 0) == (0.0, 1.0)
    for k, n in ((0, 3), (2, 3), (3, 3), (7, 20), (20, 20)):
        low, high = wilson_interval(k, n)
        p_hat = k / n
        for bound in (low, high):  # each bound p solves (p_hat - p)^2 = z^2 p (1 - p) / n
            if 0.0 < bound < 1.0:
                lhs, rhs = (p_hat - bound) ** 2, Z_95**2 * bound * (1 - bound) / n
                assert lhs == pytest.approx(rhs, rel=1e-9)
        assert 0.0 <= low <= p_hat <= high <= 1.0


@dataclass
class _OddReseedRecovers(L.Learner):
    """Inverts a linear mixing exactly on the first re-seed only (seed 1000); noise on
    the seed that finds the process and on the second re-seed: a failure on 2 of 3."""

    name = "odd-reseed"

    def fit(self, process, *, seed=0, monitor=None):
        if seed % 2000 == 1000:
            inverse = torch.linalg.inv(torch.tensor(process.mixing.matrix, dtype=torch.float64))
            return L.Fit(lambda x: x.double() @ inverse.T, [(1, 0.0)], 1)
        gen = torch.Generator().manual_seed(seed)
        return L.Fit(
            lambda x: torch.randn(len(x), process.dim, generator=gen, dtype=torch.float64),
            [(1, 0.0)],
            1,
        )


@pytest.mark.parametrize("min_rate,kept", [(0.2, True), (0.3, False)])
def test_a_failure_is_a_rate_kept_above_a_stated_level(tmp_path, monkeypatch, min_rate, kept):
    monkeypatch.setitem(L.LEARNERS, "odd-reseed", _OddReseedRecovers)
    theorem = th.Theorem(
        "two-of-three",
        (th.assumptions.LinearMixing(),),
        "odd-reseed",
        th.claims.permutation_scaling(0.9),
        cite="test",
    )
    space = LAPLACE_SPACE.narrow(dims=(2, 2), learner_options={})
    result = search(
        theorem, space, budget=3, seed=0, kinds=("failure",), reseeds=2, min_rate=min_rate,
        out=tmp_path / "r",
    )  # fmt: skip
    found = (result.counterexamples if kept else result.rejected)[0]
    rate = found.rate()
    assert (rate["agree"], rate["seeds"]) == (2, 3)
    assert rate["low"] == pytest.approx(0.2077, abs=1e-3)
    report = load_report(tmp_path / "r")
    jsonschema.validate(report, SCHEMA)
    assert "failure on 2 of 3 seeds" in (tmp_path / "r" / "report.md").read_text()


def test_the_report_says_which_mode_trained_and_oracle_is_part_of_the_key(tmp_path):
    practice = search(PLANTED_GAP, LAPLACE_SPACE, budget=2, seed=0, reseeds=0, out=tmp_path / "p")
    report = load_report(tmp_path / "p")
    assert (
        report["oracle"] is False and "practice mode" in (tmp_path / "p" / "report.md").read_text()
    )
    assert practice.oracle is False
    with pytest.raises(InvalidArgument, match="oracle"):
        search(PLANTED_GAP, LAPLACE_SPACE, budget=2, oracle="yes", out=tmp_path / "x")
