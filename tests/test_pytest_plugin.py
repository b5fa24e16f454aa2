"""The pytest plugin, exercised through pytester on small, fast claims."""

import json

import pytest

# Every inner run is a subprocess: pytester's in-process mode restores sys.modules after
# each run, and torch / numpy extension modules cannot be imported twice in one process.

PREAMBLE = """
import pytest
import sympy as sp
import theory as th

z = sp.symbols("z1:3")
my_map = th.mixings.Symbolic([z[0] * sp.exp(z[1] / 4), z[1]], list(z))
process = th.Process(th.latents.Laplace(2), my_map)
fold = th.Process(th.latents.Uniform(2), th.mixings.Fold(2))
laplace = th.Process(th.latents.Laplace(3), th.mixings.Linear.random(3, seed=0))
gauss = th.Process(th.latents.Normal(6), th.mixings.Linear.random(6, seed=0))
"""


@pytest.fixture
def suite(pytester):
    def make(body: str):
        pytester.makepyfile(test_paper=PREAMBLE + body)
        return pytester

    return make


def test_passing_and_failing_assumption_claims(suite):
    p = suite("""
def test_injective(sith):
    sith.assert_holds(th.assumptions.Injective(), process)

def test_fold_violated(sith):
    evidence = sith.assert_violated(th.assumptions.Injective(), fold)
    assert evidence.witness["z_prime"]

def test_wrong_claim(sith):
    sith.assert_holds(th.assumptions.Injective(), fold)
""")
    result = p.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*expected injective to hold*",
            "*injective: violated*",
            "*witness*z_prime*",
            "*reproduce: sith check injective --process *.json --seed 0*",
        ]
    )
    result.stdout.fnmatch_lines(["*= sith =*", "PASS holds*injective*", "FAIL holds*injective*"])


def test_recovery_claims_and_raw_results(suite):
    p = suite("""
def test_laplace_recovered(sith):
    results = sith.assert_recovers(th.theorems.get("linear-ica"), laplace, seeds=2)
    assert len(results) == 2 and results[0].metrics["mcc"] > 0.95

def test_gaussian_not_recovered(sith):
    sith.assert_not_recovered("linear-ica", gauss)

def test_gaussian_claimed_recovered(sith):
    sith.assert_recovers("linear-ica", gauss)
""")
    result = p.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*expected linear-ica to be recovered*",
            "*metrics: *mcc=*",
            "*reproduce: sith recover linear-ica --process*",
        ]
    )


def test_marker_budget_kinds_strict_markers_and_json_report(suite, tmp_path):
    report = tmp_path / "claims.json"
    p = suite("""
from verification.spaces import SearchSpace
space = SearchSpace(dims=(2, 2), latents=("laplace",), mixings=("linear",),
                    conditionals=("none",), learner_options={"n_train": (2000,)})

@pytest.mark.sith(budget=3, kinds=["failure"], seed=1)
def test_no_failure(sith):
    result = sith.assert_no_counterexample(th.theorems.get("linear-ica"), space)
    assert result.budget == 6 and result.kinds == ("failure",) and result.seed == 1
""")
    result = p.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--strict-markers",
        "--sith-budget",
        "2",
        f"--sith-report={report}",
    )
    result.assert_outcomes(passed=1)
    payload = json.loads(report.read_text())
    assert payload["schema"] == "sith.pytest/1"
    (claim,) = payload["claims"]
    assert claim["kind"] == "search" and claim["passed"] and claim["target"] == "linear-ica"


def test_counterexample_found_fails_the_test(suite):
    p = suite("""
from verification.spaces import SearchSpace
space = SearchSpace(dims=(4, 4), latents=("normal",), mixings=("linear",),
                    conditionals=("none",), learner_options={"n_train": (2000,)})
planted = th.Theorem("planted", (th.assumptions.LinearMixing(),), "fastica",
                     th.claims.permutation_scaling(0.95))

@pytest.mark.sith(budget=4, kinds=["failure"])
def test_planted(sith):
    sith.assert_no_counterexample(planted, space)
""")
    result = p.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*sith found 1 counterexample(s) of planted*", "*failure: violated=[]*"]
    )


def test_bad_marker_arguments(suite):
    p = suite("""
@pytest.mark.sith(bugdet=3)
def test_typo(sith):
    pass
""")
    result = p.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mark.sith takes keyword arguments*bugdet*"])


def test_junit_properties(suite, tmp_path):
    xml = tmp_path / "junit.xml"
    p = suite("""
def test_injective(sith):
    sith.assert_holds(th.assumptions.Injective(), process)
""")
    p.runpytest_subprocess("-p", "no:cacheprovider", f"--junitxml={xml}").assert_outcomes(passed=1)
    assert 'name="sith:holds:injective"' in xml.read_text()


def test_suite_without_sith_does_not_import_torch(pytester):
    pytester.makepyfile(
        test_plain="""
import sys

def test_plain():
    assert "torch" not in sys.modules and "sympy" not in sys.modules
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "sith" not in result.stdout.str().split("short test summary")[0].split("=")[-1]


def test_failures_show_the_evidence_not_the_plugin_and_run_folders_are_cleaned(suite, tmp_path):
    pytester = suite(
        """
def test_wrong(sith):
    sith.assert_holds("injective", fold)

def test_right(sith):
    sith.assert_holds("injective", laplace)
"""
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--basetemp={temp}")
    result.assert_outcomes(passed=1, failed=1)
    text = result.stdout.str()
    assert "expected injective to hold" in text
    assert "def _assert_evidence" not in text and "kwargs.setdefault" not in text
    assert "sith run folder kept" in text  # a failure's reproduce line reads from it

    passing = suite(
        """
def test_right(sith):
    sith.assert_holds("injective", laplace)
"""
    )
    import os

    env_tmp = tmp_path / "tmpdir"
    env_tmp.mkdir()
    os.environ["TMPDIR"] = str(env_tmp)
    try:
        result = passing.runpytest_subprocess("-p", "no:cacheprovider")
    finally:
        del os.environ["TMPDIR"]
    result.assert_outcomes(passed=1)
    assert not list(env_tmp.glob("sith-pytest-*"))  # nothing left behind
    assert "sith run folder kept" not in result.stdout.str()


def test_the_fixture_loads_installed_catalogue_entry_points_like_the_cli(
    suite, tmp_path, monkeypatch
):
    # an installed package (a dist-info folder on the path) registers a theorem through
    # the sith.catalogue group; the fixture must know it by name, as `sith` does
    site = tmp_path / "site"
    (site / "sith_plugin_demo").mkdir(parents=True)
    (site / "sith_plugin_demo" / "__init__.py").write_text(
        "import theory as th\n"
        "th.theorems.register(th.Theorem('plugin-demo-ica', (th.assumptions.LinearMixing(),),"
        " 'fastica', th.claims.permutation_scaling(0.9)))\n"
    )
    dist = site / "sith_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sith-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[sith.catalogue]\ndemo = sith_plugin_demo\n")
    import os

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    p = suite("""
def test_installed_theorem(sith):
    sith.assert_holds("plugin-demo-ica", laplace)
""")
    result = p.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
