import json
import sys
import textwrap

import pytest
from click.testing import CliRunner

from verification.cli import main

SPEC = textwrap.dedent("""
    import sympy as sp
    import theory as th
    z1, z2 = sp.symbols("z1 z2")
    process = th.Process(th.latents.Uniform(2), th.mixings.Symbolic([z1 + z2**3, z2], [z1, z2]))
    bad = th.Process(th.latents.Uniform(2), th.mixings.Symbolic([sp.log(z1), z2], [z1, z2]))
    not_a_process = 3
""")


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "my_spec.py"
    path.write_text(SPEC)
    return path


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_check_json_shape(spec):
    result = run("check", "conformal", "--process", f"{spec}:process", "--json", "--n-points", "64")
    assert result.exit_code == 1  # violated
    payload = json.loads(result.output)
    (item,) = payload["evidence"]
    assert set(item) >= {"assumption", "verdict", "statistic", "tolerance", "n_points", "witness"}
    assert item["verdict"] == "violated" and len(item["witness"]["z"]) == 2


def test_check_proved_exits_zero(spec):
    result = run("check", "volume-preserving", "--process", f"{spec}:process")
    assert result.exit_code == 0, result.output
    assert "proved" in result.output


def test_check_theorem_table_on_canonical_process():
    # the default learner is the theorem's (tau = 1/kappa, Zimmermann et al.'s Theorem 2):
    # every assumption holds; the practical variant (tau = 3/kappa) is outside it
    result = run("check", "cl-ica", "--n-points", "128")
    assert result.exit_code == 0, result.output
    for name in ("uniform-on-sphere", "conditional-family", "injective", "matched-temperature"):
        assert name in result.output
    practical = run(
        "check", "cl-ica", "--n-points", "128", "--learner", "infonce-practical", "--json"
    )
    assert practical.exit_code == 1, practical.output
    verdicts = {e["assumption"]: e["verdict"] for e in json.loads(practical.output)["evidence"]}
    assert verdicts["matched-temperature"] == "violated"


def test_check_learner_options_need_a_learner(spec):
    result = run("check", "conformal", "--process", f"{spec}:process", "--set", "tau=0.1")
    assert result.exit_code == 2 and "--set needs a learner" in result.output


@pytest.mark.parametrize(
    "args,message",
    [
        (["check", "conformal", "--process", "missing.py:process"], "file not found"),
        (["check", "conformal", "--process", "{spec}:nope"], "has no attribute 'nope'"),
        (["check", "conformal", "--process", "{spec}:not_a_process"], "not a theory.Process"),
        (["check", "conformal", "--process", "{spec}:bad"], "non-finite output"),
        (["check", "conformal"], "--process FILE.py:ATTR is required"),
        (["check", "nonsense", "--process", "{spec}:process"], "unknown assumption or theorem"),
        (["check", "conformal", "--process", "{spec}"], "expected FILE.py:ATTR"),
    ],
)
def test_bad_input_gives_one_clear_line(spec, args, message):
    result = run(*[a.format(spec=spec) for a in args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_dimension_mismatch_in_user_file(tmp_path):
    path = tmp_path / "mismatch.py"
    path.write_text(
        "import theory as th\np = th.Process(th.latents.Laplace(2), th.mixings.Mobius(3))\n"
    )
    result = run("check", "conformal", "--process", f"{path}:p")
    assert result.exit_code == 2 and "dimension mismatch" in result.output


def test_catalogue_listings():
    result = run("theorems", "--json")
    assert result.exit_code == 0
    assert {t["name"] for t in json.loads(result.output)} >= {"cl-ica", "linear-ica"}
    result = run("assumptions")
    assert result.exit_code == 0 and "conformal" in result.output
    assert run("--version").exit_code == 0


def test_out_writes_the_json_result(spec, tmp_path):
    out = tmp_path / "evidence.json"
    result = run("check", "volume-preserving", "--process", f"{spec}:process", "--out", out)
    assert result.exit_code == 0
    assert json.loads(out.read_text())["evidence"][0]["verdict"] == "proved"


def test_process_json_and_bad_process_json(spec, tmp_path):
    import theory as th

    path = tmp_path / "p.json"
    path.write_text(th.theorems.get("cl-ica").canonical_process().to_json())
    assert run("check", "injective", "--process", path, "--n-points", "64").exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"latent": {"type": "Nope"}}')
    result = run("check", "injective", "--process", bad)
    assert result.exit_code == 2 and "not a valid process JSON" in result.output
    evil = tmp_path / "evil.json"
    data = json.loads(path.read_text())
    data["mixing"] = {"type": "Symbolic", "exprs": ["__import__('os').getcwd()"], "symbols": ["z1"]}
    evil.write_text(json.dumps(data))
    result = run("check", "injective", "--process", evil)
    assert result.exit_code == 2 and "is not allowed" in result.output


def test_learners_lists_every_registered_learner_with_its_options():
    result = run("learners", "--json")
    assert result.exit_code == 0, result.output
    items = {item["name"]: item for item in json.loads(result.output)}
    assert {"fastica", "infonce", "tcl"} <= set(items)
    assert "n_train" in items["fastica"]["options"]
    assert "train.steps" in items["infonce"]["options"]


def test_recover_with_another_learner():
    result = run("recover", "linear-ica", "--learner", "fastica", "--set", "n_train=2000", "--json")
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["learner"]["name"] == "fastica"


def test_recover_with_an_unknown_learner_is_one_line():
    result = run("recover", "linear-ica", "--learner", "no-such-learner")
    assert result.exit_code == 2
    assert "unknown learner 'no-such-learner'" in result.output
    assert "Traceback" not in result.output


def test_recover_says_its_mode_and_diagnosis():
    result = run("recover", "linear-ica", "--set", "n_train=2000")
    assert result.exit_code in (0, 1), result.output
    assert "practice mode" in result.output and "diagnosis:" in result.output
    payload = json.loads(run("recover", "linear-ica", "--set", "n_train=2000", "--json").output)
    assert payload["oracle"] is False and payload["diagnosis"] in ("recovered", "not-recovered")


def test_search_verbose_prints_lines_even_on_a_terminal(monkeypatch):
    from verification.cli._progress import SearchProgress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert SearchProgress(3).tty  # a progress bar on a terminal ...
    assert not SearchProgress(3, verbose=True).tty  # ... one line each with -v
    assert "-v, --verbose" in run("search", "--help").output
