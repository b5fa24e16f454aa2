"""The ``python -m benchmarks`` command's logic on tiny fake benchmarks: figures are
checked, tabulated, saved as JSON, and compared (no timing is asserted anywhere)."""

from __future__ import annotations

import importlib
import io
import json
import math
import sys
from pathlib import Path

import pytest
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import BENCHMARKS, SIZES  # noqa: E402
from benchmarks import _runner as runner  # noqa: E402


def fake(size: str) -> list[dict]:
    """Two figures with floors (one met, one not) and one without, per size."""
    scale = 1.0 if size == "quick" else 2.0
    return [
        {"name": "fake.speed", "value": 10.0 * scale, "unit": "x", "better": "higher",
         "floor": 5.0, "reference": 1.0},
        {"name": "fake.seconds", "value": 3.0, "unit": "s", "better": "lower", "floor": 2.0},
        {"name": "fake.info", "value": 0.5, "unit": "", "better": "lower", "floor": None,
         "details": {"verdicts": ["holds"]}},
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def a_steady_machine(monkeypatch):
    """The machine's reference workload takes 1 s in every run here (the real one is
    timed in its own test)."""
    monkeypatch.setattr(runner, "reference_seconds", lambda: 1.0)


def broken(size: str) -> list[dict]:
    raise RuntimeError("the benchmark fell over")


def quiet() -> Console:
    return Console(record=True, width=200, file=io.StringIO())


def test_the_command_tabulates_and_saves_every_figure(tmp_path):
    out = tmp_path / "quick.json"
    console = quiet()
    code = runner.main(
        ["--json", str(out)], registry={"fake": fake, "broken": broken}, console=console
    )
    assert code == 0
    document = json.loads(out.read_text())
    assert document["schema"] == runner.SCHEMA and document["size"] == "quick"
    assert {"cpu", "cores", "load_average", "load_average_after"} <= set(document["machine"])
    by_name = {f["name"]: f for f in document["figures"]}
    assert set(by_name) == {"fake.speed", "fake.seconds", "fake.info"}
    assert [runner.verdict(by_name[n]) for n in ("fake.speed", "fake.seconds", "fake.info")] == [
        "pass",
        "short",
        "",
    ]
    assert by_name["fake.info"]["details"] == {"verdicts": ["holds"]}
    assert "RuntimeError: the benchmark fell over" in document["benchmarks"]["broken"]["error"]
    text = console.export_text()
    for expected in ("fake.speed", "≥ 5", "pass", "short", "≤ 2", "broken (failed)"):
        assert expected in text


def test_compare_flags_a_figure_more_than_20_percent_worse(tmp_path):
    old = tmp_path / "old.json"
    runner.main(["--json", str(old)], registry={"fake": fake}, console=quiet())
    document = json.loads(old.read_text())
    by_name = {f["name"]: f for f in document["figures"]}
    by_name["fake.speed"]["value"] = 13.0  # now 10: 23 % worse (higher is better)
    by_name["fake.seconds"]["value"] = 2.6  # now 3: 15 % worse, within the tolerance
    by_name["fake.info"]["value"] = 1.0  # now 0.5: better
    old.write_text(json.dumps(document))
    console = quiet()
    code = runner.main(
        ["--json", str(tmp_path / "new.json"), "--compare", str(old)],
        registry={"fake": fake},
        console=console,
    )
    assert code == 1
    rows = {
        r["name"]: r
        for r in runner.compare(document, json.loads((tmp_path / "new.json").read_text()))
    }
    assert rows["fake.speed"]["flagged"] and rows["fake.speed"]["worse_by"] == pytest.approx(3 / 13)
    assert not rows["fake.seconds"]["flagged"]
    assert rows["fake.info"]["worse_by"] == pytest.approx(-0.5)
    assert "WORSE" in console.export_text()
    # nothing worse: exit 0
    same = runner.main(
        ["--json", str(tmp_path / "again.json"), "--compare", str(tmp_path / "new.json")],
        registry={"fake": fake},
        console=quiet(),
    )
    assert same == 0


def test_worse_by_handles_zero_and_nan():
    assert runner.worse_by(0.0, 0.0, "lower") == 0.0
    assert runner.worse_by(0.0, 1.0, "lower") == math.inf
    assert runner.worse_by(0.0, 1.0, "higher") == -math.inf
    assert runner.worse_by(1.0, math.nan, "higher") == math.inf
    assert runner.worse_by(2.0, 1.0, "higher") == pytest.approx(0.5)


def test_sizes_and_selection(tmp_path):
    out = tmp_path / "full.json"
    code = runner.main(
        ["--size", "full", "--only", "fake", "--json", str(out)],
        registry={"fake": fake, "broken": broken},
        console=quiet(),
    )
    document = json.loads(out.read_text())
    assert code == 0 and document["size"] == "full" and list(document["benchmarks"]) == ["fake"]
    assert {f["name"]: f["value"] for f in document["figures"]}["fake.speed"] == 20.0


@pytest.mark.parametrize(
    "figure, message",
    [
        ({"name": "x", "value": 1.0, "better": "up"}, "better must be"),
        ({"name": "x", "value": "fast", "better": "lower"}, "value must be a number"),
        ({"name": "x", "better": "lower"}, "value is missing"),
        ({"value": 1.0, "better": "lower"}, "needs a name"),
        ({"name": "x", "value": 1.0, "better": "lower", "colour": "red"}, "unknown figure keys"),
    ],
)
def test_bad_figures_are_refused_with_their_reason(figure, message):
    with pytest.raises(runner.BadFigure, match=message):
        runner.normalise(figure, "fake")


def test_repeated_figure_names_are_refused():
    with pytest.raises(runner.BadFigure, match="unique"):
        runner.run({"a": fake, "b": fake}, "quick", echo=lambda line: None)


def test_a_saved_document_must_name_its_schema(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"figures": []}))
    with pytest.raises(SystemExit, match="not a benchmark document"):
        runner.read_document(path)


def test_every_registered_benchmark_exposes_figures():
    assert SIZES == ("quick", "full")
    for name, module in BENCHMARKS.items():
        assert callable(importlib.import_module(module).figures), name


def test_recovery_floors_read_each_case_the_way_it_states():
    """Every case's theorem resolves (a name or a Theorem), and the floor is read as the
    case says: claim and R², the claim alone for a block claim, or R² alone."""
    recovery = importlib.import_module("benchmarks.recovery")
    row = {"claim_value": 0.5, "r2_linear": 0.97}
    for case in recovery.CASES:
        floored = recovery.floored_on(case)
        assert floored in ("claim", "claim and R²", "R²")
        assert recovery.at_floor(case, row, 0.95) is (floored == "R²")
    assert recovery.floored_on("cl-ica-20") == "R²"
    assert recovery.floored_on("cl-ica-10-unseen") == "claim and R²"
    assert recovery.floored_on("multiview-4") == "claim"


def test_the_recovery_profile_finds_its_phases():
    """``--profile``: each phase is found in one real (short) recover call, and the
    figures say which shares of the call they are."""
    recovery = importlib.import_module("benchmarks.recovery")
    profile = recovery.profile_case("cl-ica-3")
    phases = profile["phases"]
    assert set(phases) == {name for name, _ in recovery.PHASES}
    for phase in ("data generation (pairs)", "encoder forward", "loss (InfoNCE)", "backward",
                  "optimiser step", "race scoring", "metric evaluation"):  # fmt: skip
        assert phases[phase] > 0, phase
    assert phases["fold guard (Jacobian sign)"] == 0  # no guard at n = 3
    assert all(seconds <= profile["total_s"] for seconds in phases.values())
    assert profile["row"]["case"] == "cl-ica-3"


def test_compare_never_flags_a_profile_share():
    """Shares of a profile describe where time went; a tiny share moves by more than
    20 % between runs, so --compare leaves them out."""
    old = {"figures": [{"name": "p.backward", "value": 0.001, "unit": "share", "better": "lower"},
                       {"name": "p.seconds", "value": 1.0, "unit": "s", "better": "lower"}]}
    new = {"figures": [{"name": "p.backward", "value": 0.01, "unit": "share", "better": "lower"},
                       {"name": "p.seconds", "value": 2.0, "unit": "s", "better": "lower"}]}  # fmt: skip
    rows = runner.compare(old, new)
    assert [r["name"] for r in rows] == ["p.seconds"]
    assert rows[0]["flagged"]


def test_the_reference_workload_is_timed_and_leaves_torch_threads_alone():
    import torch

    from benchmarks._speed import reference_seconds

    threads = torch.get_num_threads()
    seconds = reference_seconds(repeats=2, steps=5)
    assert math.isfinite(seconds) and seconds > 0
    assert torch.get_num_threads() == threads


def test_every_run_saves_the_machine_reference_before_and_after():
    times = iter([0.5, 0.7])
    document = runner.run({"fake": fake}, "quick", echo=lambda line: None,
                          reference=lambda: next(times))  # fmt: skip
    assert document["machine"]["reference_seconds"] == 0.5
    assert document["machine"]["reference_seconds_after"] == 0.7
    from benchmarks._speed import machine_reference

    assert machine_reference(document["machine"]) == pytest.approx(0.6)


def _document(reference: float | None, **values: tuple[float, str, str]) -> dict:
    machine = {} if reference is None else {"reference_seconds": reference,
                                             "reference_seconds_after": reference}
    return {"machine": machine, "figures": [
        {"name": name, "value": value, "unit": unit, "better": better}
        for name, (value, unit, better) in values.items()
    ]}  # fmt: skip


def test_compare_reads_times_and_rates_at_the_old_machine_speed():
    """The new run's machine took twice as long for the reference workload: a time that
    doubled and a rate that halved are the machine's; a time that tripled is not, and a
    ratio of two times measured together is not rescaled."""
    old = _document(1.0, t=(3.0, "s", "lower"), worse=(3.0, "s", "lower"),
                    rate=(60.0, "evals/min", "higher"), ratio=(1.5, "x", "higher"))  # fmt: skip
    new = _document(2.0, t=(6.0, "s", "lower"), worse=(9.0, "s", "lower"),
                    rate=(30.0, "evals/min", "higher"), ratio=(1.0, "x", "higher"))  # fmt: skip
    rows = {r["name"]: r for r in runner.compare(old, new)}
    assert rows["t"]["flagged"] and rows["t"]["worse_by"] == pytest.approx(1.0)
    assert rows["t"]["at_old_speed"] == pytest.approx(3.0)
    assert rows["t"]["worse_at_old_speed"] == pytest.approx(0.0)
    assert rows["t"]["machine_explains"]
    assert rows["rate"]["at_old_speed"] == pytest.approx(60.0) and rows["rate"]["machine_explains"]
    assert rows["worse"]["worse_at_old_speed"] == pytest.approx(0.5)
    assert rows["worse"]["flagged"] and not rows["worse"]["machine_explains"]
    assert rows["ratio"]["flagged"] and rows["ratio"]["at_old_speed"] is None
    assert not rows["ratio"]["machine_explains"]

    console = quiet()
    from benchmarks._speed import speed_ratio

    console.print(runner.comparison_table(list(rows.values()), ratio=speed_ratio(old, new)))
    text = console.export_text()
    assert "2.00x as long" in text and "WORSE (the machine)" in text

    # a document saved without the reference: compared as before, nothing rescaled
    rows = runner.compare(_document(None, t=(3.0, "s", "lower")), new)
    assert rows[0]["flagged"] and rows[0]["at_old_speed"] is None
    assert not rows[0]["machine_explains"]
