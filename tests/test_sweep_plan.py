"""A sweep states its plan before any work, and a huge one asks first (--yes)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from verification._sweep import plan as P
from verification._sweep import sweep
from verification._sweep.settings import Range
from verification.cli import main

THEOREM = "linear-ica"  # FastICA: well under a second an evaluation


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def lines_of(result) -> list[str]:
    """The plan and progress lines (a learner's warning, e.g. FastICA's convergence
    note on some machines, may come between them)."""
    return [line for line in result.output.splitlines() if line.startswith(("plan:", "["))]


def test_a_million_evaluations_are_counted_and_refused_before_anything_exists(tmp_path):
    values = ",".join(str(100 + i) for i in range(2000))
    out = tmp_path / "huge"
    result = run(
        "sweep", THEOREM, "--vary", f"learner.n_train={values}", "--seeds", 500, "--out", out
    )
    assert result.exit_code == 2, result.output
    assert "1,000,000 evaluations (2,000 settings x 500 seeds)" in result.output
    assert "--yes" in result.output and "nothing was run" in result.output
    assert not out.exists()
    with pytest.raises(P.PlanTooLarge, match="1,000,000"):
        sweep(
            THEOREM,
            {"learner.n_train": list(range(100, 2100))},
            seeds=500,
            out=tmp_path / "api",
            max_evaluations=P.CONFIRM_ABOVE,
        )
    assert not (tmp_path / "api").exists()


def test_yes_runs_what_the_limit_refuses(tmp_path, monkeypatch):
    monkeypatch.setattr(P, "CONFIRM_ABOVE", 3)
    args = ("sweep", THEOREM, "--vary", "learner.n_train=100,200", "--seeds", 2, "--no-plots")
    refused = run(*args, "--out", tmp_path / "a")
    assert refused.exit_code == 2 and "more than 3" in refused.output
    done = run(*args, "--out", tmp_path / "b", "--yes")
    assert done.exit_code == 0, done.output
    assert "4 evaluations (4 new)" in done.output


def test_the_plan_comes_before_the_first_row_and_then_the_estimate(tmp_path):
    args = (
        "sweep",
        THEOREM,
        "--vary",
        "learner.n_train=100,200",
        "--seeds",
        2,
        "--no-plots",
        "--out",
        tmp_path / "s",
    )
    lines = lines_of(run(*args))
    assert lines[0] == "plan: 4 evaluations (2 settings x 2 seeds) on serial (1 worker)"
    assert lines[1] == (
        "plan: 0 already in the store, 4 to run; time estimated after the first evaluation"
    )
    assert lines[2].startswith("[1] new ")
    assert lines[3].startswith("plan: roughly ") and "for the 3 evaluations left" in lines[3]
    assert "(the first evaluation took " in lines[3]
    again = lines_of(run(*args))
    assert again[1] == "plan: 4 already in the store, 0 to run"
    more = run(
        "sweep",
        THEOREM,
        "--vary",
        "learner.n_train=100,200,300",
        "--seeds",
        2,
        "--no-plots",
        "--out",
        tmp_path / "s",
    )
    more = lines_of(more)
    assert more[0].startswith("plan: 6 evaluations (3 settings x 2 seeds)")
    assert more[1].startswith("plan: 4 already in the store, 2 to run; roughly ")
    assert "(median of 4 stored evaluations, " in more[1]
    assert not any(line.startswith("plan: roughly") for line in more)  # estimated once
    assert not lines_of(run(*args, "--quiet"))


def test_plans_given_to_the_api():
    seen: list[P.SweepPlan] = []
    result = sweep(THEOREM, {"learner.n_train": [100]}, seeds=2, plots=False, on_plan=seen.append)
    assert [p.stage for p in seen] == ["counted", "stored", "timed"]
    assert seen[0].evaluations == 2 and seen[1].cached == 0 and seen[1].estimate is None
    timed = seen[2]
    assert timed.cached == 1 and timed.to_run == 1
    assert any(abs(timed.seconds_each - r["seconds"]) < 1e-3 for r in result.rows)


def test_counting_and_the_estimate_are_exact_arithmetic():
    grid = {"a": [1, 2, 3], "b": [1, 2], "c": list(range(2000))}
    assert P.count_settings(grid, None) == 12_000
    assert P.count_settings({"a": Range(0.1, 1.0)}, 50) == 50
    plan = P.SweepPlan(settings=10, seeds=5, random=False, workers=4, cached=10, stage="stored")
    assert plan.evaluations == 50 and plan.to_run == 40
    assert plan.with_timing(2.0, "x").estimate == pytest.approx(40 * 2.0 / 4)
    assert (
        P.SweepPlan(settings=3, seeds=1, random=True)
        .describe()
        .startswith("plan: at most 3 evaluations (3 random settings x 1 seeds)")
    )
    P.check_size(plan, 50)
    with pytest.raises(P.PlanTooLarge):
        P.check_size(plan, 49)
    assert [P.duration(s) for s in (0.2, 40, 720, 3.5 * 3600, 3 * 86400)] == [
        "under 1 s",
        "40 s",
        "12 min",
        "3.5 h",
        "3.0 days",
    ]


def test_a_random_sample_of_many_settings_is_deduplicated_in_linear_time():
    from verification._sweep.settings import make_settings

    settings = make_settings({"a": list(range(5)), "b": [0, 1]}, random=20_000, seed=0)
    assert len(settings) == 10  # every combination, each once
    assert len({tuple(s.items()) for s in settings}) == 10
