"""A corpus of hostile and careless inputs: each is refused with exit code 2 and one line.

Every case runs the real CLI (in-process, through click's runner, so the corpus stays
fast); the code-execution attempts also assert that nothing happened. A few cases run
``sith`` as a subprocess to prove the exit-code contract end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

import theory as th
from verification.cli import main

pytestmark = pytest.mark.timeout(60)  # every hostile input is refused fast

CANONICAL = th.theorems.get("linear-ica").canonical_process().to_dict()


def run(*args: object, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def assert_refused(result, *fragments: str) -> None:
    """Exit 2, exactly one line on stderr, no traceback, and the line names the problem."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def process_with(**changes) -> dict:
    data = json.loads(json.dumps(CANONICAL))
    for dotted, value in changes.items():
        *path, leaf = dotted.split("__")
        target = data
        for part in path:
            target = target[part]
        target[leaf] = value
    return data


def symbolic(expr: str) -> dict:
    return {
        "schema": "sith.process/1",
        "latent": {"type": "Uniform", "n": 1, "low": -1.0, "high": 1.0},
        "mixing": {"type": "Symbolic", "exprs": [expr], "symbols": ["z1"]},
        "conditional": None,
    }


# (label, file text or bytes, fragment the message must contain)
PROCESS_FILES = [
    ("top-level list", "[]", "JSON object"),
    ("top-level null", "null", "JSON object"),
    ("top-level string", '"process"', "JSON object"),
    ("top-level number", "3", "JSON object"),
    ("empty file", "", "not valid JSON"),
    ("truncated", '{"latent": {"type": "Normal", "n": 2', "not valid JSON"),
    ("not UTF-8", b"\xff\xfe{\x00}", "not UTF-8"),
    ("deep nesting", "[" * 100_000 + "]" * 100_000, "nested"),
    ("deep nesting in a field", '{"latent": ' + "[" * 5000 + "]" * 5000 + "}", "nested"),
    ("missing mixing", '{"latent": {"type": "Normal", "n": 2}}', "'mixing'"),
    ("base class latent", process_with(latent={"type": "Latent"}), "unknown latent type"),
    ("base class mixing", process_with(mixing={"type": "Mixing"}), "unknown mixing type"),
    ("spec base", process_with(mixing={"type": "Spec"}), "unknown mixing type"),
    ("unknown type", process_with(mixing={"type": "Nope"}), "unknown mixing type"),
    ("type not a string", process_with(mixing={"type": ["Linear"]}), "'type' string"),
    ("user class", process_with(mixing={"type": "paper.Twist"}), "--import paper"),
    ("dunder type", process_with(mixing={"type": "__class__"}), "unknown mixing type"),
    ("unknown parameter", process_with(latent__evil=1), "unknown parameter"),
    ("unknown process key", {**CANONICAL, "run": "rm -rf /"}, "unknown process key"),
    ("wrong schema", {**CANONICAL, "schema": "sith.process/99"}, "schema"),
    ("Infinity", '{"latent": {"type": "Laplace", "n": 2, "scale": Infinity}}', "non-finite"),
    ("-Infinity", '{"latent": {"type": "Laplace", "n": 2, "scale": -Infinity}}', "non-finite"),
    ("NaN", '{"latent": {"type": "Laplace", "n": 2, "scale": NaN}}', "non-finite"),
    ("1e400", '{"latent": {"type": "Laplace", "n": 2, "scale": 1e400}}', "overflows"),
    ("1e308 scale", process_with(latent__scale=1e308), "scale"),
    ("negative scale", process_with(latent__scale=-1), "scale"),
    ("bool dimension", process_with(latent__n=True), "n"),
    ("float dimension", process_with(latent__n=2.5), "n"),
    ("huge dimension", process_with(latent__n=10**9), "n"),
    ("huge integer", '{"latent": {"type": "Laplace", "n": ' + "9" * 5000 + "}}", "cannot be read"),
    ("ragged matrix", process_with(mixing__matrix=[[1.0, 0.0], [1.0]]), "matrix"),
    ("matrix of strings", process_with(mixing__matrix=[["a", "b"], ["c", "d"]]), "matrix"),
    ("dimension mismatch", process_with(latent__n=3), "dimension"),
    (
        "vMF kappa Infinity",
        '{"latent": {"type": "UniformSphere", "n": 3}, "mixing": {"type": "Mobius", "n": 3},'
        ' "conditional": {"type": "VonMisesFisher", "kappa": Infinity}}',
        "non-finite",
    ),
    (
        "vMF kappa 1e308",
        '{"latent": {"type": "UniformSphere", "n": 3}, "mixing": {"type": "Mobius", "n": 3},'
        ' "conditional": {"type": "VonMisesFisher", "kappa": 1e308}}',
        "kappa",
    ),
    (
        "negative seed",
        '{"latent": {"type": "Normal", "n": 2}, "mixing": {"type": "Mobius", "n": 2, "seed": -1}}',
        "seed",
    ),
    (
        "MLP of a thousand layers",
        '{"latent": {"type": "Normal", "n": 2}, "mixing": {"type": "InvertibleMLP", "n": 2, '
        '"depth": 100000}}',
        "depth",
    ),
    ("symbolic: tower of powers", symbolic("Pow(Integer(10), Pow(Integer(10), Integer(10)))"), ""),
    ("symbolic: factorial", symbolic("factorial(Integer(1000000))"), ""),
    ("symbolic: expression not a string", symbolic(["Symbol('z1')"]), ""),
    ("symbolic: undefined function", symbolic("Function('f')(Symbol('z1'))"), ""),
]


@pytest.mark.parametrize("label,content,fragment", PROCESS_FILES, ids=[c[0] for c in PROCESS_FILES])
@pytest.mark.parametrize("command", ["check", "recover"])
def test_bad_process_files_are_refused(tmp_path, label, content, fragment, command):
    path = tmp_path / "process.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    target = "injective" if command == "check" else "linear-ica"
    assert_refused(run(command, target, "--process", path), fragment)


CODE_EXECUTION = [
    'sympify(\'__import__("os").system("touch {marker}")\')',
    'S(\'__import__("os").system("touch {marker}")\')',
    'parse_expr(\'__import__("os").system("touch {marker}")\')',
    "Symbol('z1').__class__.__init__.__globals__['os'].system('touch {marker}')",
    "__import__('os').system('touch {marker}')",
    'eval(\'__import__("os").system("touch {marker}")\')',
    "lambdify(Symbol('z1'), '__import__(\"os\").system(\"touch {marker}\")')",
    "Add(Symbol('z1'), sympify('__import__(\"os\").system(\"touch {marker}\")'))",
]


@pytest.mark.parametrize("template", CODE_EXECUTION)
@pytest.mark.parametrize("command", ["check", "recover"])
def test_a_process_file_cannot_run_code(tmp_path, template, command):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(symbolic(template.format(marker=marker))))
    target = "injective" if command == "check" else "linear-ica"
    assert_refused(run(command, target, "--process", path))
    assert not marker.exists()


def test_a_resumed_search_cannot_run_code_from_its_store(tmp_path):
    """Store records are data too: a planted process in a record is never executed."""
    out = tmp_path / "run"
    args = ["search", "linear-ica", "--budget", 2, "--dim", "2..2", "--reseeds", 0]
    assert run(*args, "--out", out, "--quiet").exit_code in (0, 1)
    marker = tmp_path / "pwned"
    for record_path in (out / "evaluations").glob("*.json"):
        record = json.loads(record_path.read_text())
        record["process"] = symbolic(f'sympify(\'__import__("os").system("touch {marker}")\')')
        record_path.write_text(json.dumps(record))
    run(*args, "--out", out, "--resume", "--quiet")
    assert not marker.exists()


BAD_OPTIONS = [
    (["recover", "linear-ica", "--set", "n_train=0"], "n_train"),
    (["recover", "cl-ica", "--set", "train.log_every=0"], "log_every"),
    (["recover", "cl-ica", "--set", "train.threads=0"], "threads"),
    (["recover", "cl-ica", "--set", "train.time_budget=-1"], "time_budget"),
    (["recover", "cl-ica", "--set", "train.lr=NaN"], "finite"),
    (["recover", "cl-ica", "--set", "train.lr=1e999"], "finite"),
    (["recover", "cl-ica", "--set", "train.steps=abc"], "train.steps"),
    (["recover", "cl-ica", "--set", "train.steps=2.5"], "train.steps"),
    (["recover", "cl-ica", "--set", "train.optimizer=lbfgs"], "train.optimizer"),
    (["recover", "cl-ica", "--set", "encoder.activation=bogus"], "encoder.activation"),
    (["recover", "cl-ica", "--set", "name=foo"], "no option 'name'"),
    (["recover", "cl-ica", "--set", "_private=1"], "no option"),
    (["recover", "cl-ica", "--set", "train=1"], "group of options"),
    (["recover", "cl-ica", "--set", "bogus.deep.key=1"], "no option"),
    (["recover", "cl-ica", "--set", "novalue"], "KEY=VALUE"),
    (["recover", "linear-ica", "--steps", "5"], "does not apply"),
    (["recover", "no-such-theorem"], "unknown theorem"),
    (["check", "no-such-thing"], "unknown assumption or theorem"),
    (["check", "linear-ica", "--time-limit", "nan"], "time_limit"),
    (["check", "linear-ica", "--n-points", "1"], "n-points"),
    (["check", "linear-ica", "--seed", "-1"], "seed"),
    (["recover", "linear-ica", "--seed", "-1"], "seed"),
    (["search", "linear-ica", "--seed", "-1"], "seed"),
    (["search", "linear-ica", "--budget", "0"], "budget"),
    (["search", "linear-ica", "--evaluation-time-limit", "nan"], "evaluation_time_limit"),
    (["search", "linear-ica", "--evaluation-time-limit", "0"], "evaluation-time-limit"),
    (["check", "conformal"], "--process"),
    (["check", "conformal", "--process", "missing.json"], "file not found"),
    (["check", "conformal", "--process", "missing.py:process"], "file not found"),
    (["check", "conformal", "--process", "no-colon"], "FILE.py:ATTR"),
    (["--import", "missing_module_xyz", "theorems"], "no module named"),
    (["--import", "missing_file.py", "theorems"], "file not found"),
    (["--import", "not a module!", "theorems"], "--import"),
]


@pytest.mark.parametrize("args,fragment", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_options_are_refused_before_any_work(tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    assert_refused(run(*args), fragment)


def test_out_in_an_unwritable_place_is_refused_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("check", "linear-ica", "--out", blocker / "sub" / "x.json")
    assert_refused(result, "--out")


def test_out_in_a_missing_folder_is_created(tmp_path):
    out = tmp_path / "new" / "folder" / "check.json"
    result = run("check", "linear-ica", "--n-points", 64, "--out", out)
    assert result.exit_code in (0, 1) and json.loads(out.read_text())["target"] == "linear-ica"


SPEC_FILES = [
    ("import sys\nsys.exit(0)\n", "sys.exit(0)"),
    ("import sys\nsys.exit('bye')\n", "sys.exit('bye')"),
    ("raise RuntimeError('broken spec')\n", "RuntimeError: broken spec"),
    ("import not_a_real_module_xyz\n", "not_a_real_module_xyz"),
    ("process = 42\n", "not a theory.Process"),
    ("def process():\n    raise ValueError('factory failed')\n", "factory failed"),
    ("x = (\n", "SyntaxError"),
]


@pytest.mark.parametrize("text,fragment", SPEC_FILES, ids=[f[1] for f in SPEC_FILES])
def test_bad_spec_files_are_refused(tmp_path, text, fragment):
    path = tmp_path / "hostile_spec.py"
    path.write_text(text)
    assert_refused(run("check", "injective", "--process", f"{path}:process"), fragment)
    if "process" not in text:  # the same file through --import
        assert_refused(run("--import", path, "theorems"), fragment)


def test_a_spec_imports_its_sibling_module(tmp_path):
    (tmp_path / "helpers_for_spec.py").write_text(
        "import theory as th\n"
        "def make():\n"
        "    return th.Process(th.latents.Uniform(2), th.mixings.Linear([[1.0, 0.0], [0.0, 2.0]]))\n"
    )
    (tmp_path / "sibling_spec.py").write_text(
        "from helpers_for_spec import make\nprocess = make()\n"
    )
    result = run("check", "linear-mixing", "--process", f"{tmp_path / 'sibling_spec.py'}:process")
    assert result.exit_code == 0, result.output


REPORTS = [
    ("not JSON", "{", "not valid JSON"),
    ("list", "[]", "not a sith report"),
    ("wrong schema", '{"schema": "other/1"}', "not a sith report"),
    ("missing fields", '{"schema": "sith.report/1"}', "field"),
    (
        "bad counterexample",
        json.dumps(
            {
                "schema": "sith.report/1",
                "theorem": "t",
                "seed": 0,
                "budget": 1,
                "kinds": ["gap"],
                "status": "complete",
                "evaluations": 1,
                "seconds": 1.0,
                "counts": {"gap": 1, "failure": 0, "rejected": 0},
                "quadrants": {},
                "counterexamples": [{"kind": "gap"}],
                "rejected": [],
                "space": {},
            }
        ),
        "counterexamples[0]",
    ),
    ("NaN", '{"schema": "sith.report/1", "seed": NaN}', "non-finite"),
]


@pytest.mark.parametrize("label,text,fragment", REPORTS, ids=[r[0] for r in REPORTS])
@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_malformed_reports_are_refused(tmp_path, label, text, fragment, fmt):
    (tmp_path / "report.json").write_text(text)
    assert_refused(run("report", tmp_path, "--format", fmt), fragment)


def test_report_that_is_not_utf8_is_refused(tmp_path):
    (tmp_path / "report.json").write_bytes(b"\xff\xfe\x00")
    assert_refused(run("report", tmp_path), "UTF-8")


def test_user_text_in_a_report_is_escaped_in_html(tmp_path):
    out = tmp_path / "run"
    assert run("search", "linear-ica", "--budget", 2, "--dim", "2..2", "--out", out, "--quiet")
    report = json.loads((out / "report.json").read_text())
    report["status"] = "<script>alert(1)</script>"
    report["theorem"] = "<img src=x onerror=alert(1)>"
    (out / "report.json").write_text(json.dumps(report))
    html = run("report", out, "--format", "html")
    assert html.exit_code == 0
    assert "<script>" not in html.stdout and "<img src=x" not in html.stdout
    assert "&lt;script&gt;" in html.stdout


def test_a_user_class_named_like_a_builtin_cannot_take_over(tmp_path):
    path = tmp_path / "impostor_spec.py"
    path.write_text(
        "from dataclasses import dataclass\n"
        "import theory as th\n"
        "@dataclass(eq=False)\n"
        "class Linear(th.mixings.Mixing):\n"
        "    n: int = 2\n"
        "    def forward(self, z):\n"
        "        raise SystemExit('impostor ran')\n"
    )
    from verification._loading import import_user

    import_user(str(path))
    rebuilt = th.Process.from_dict(CANONICAL)
    assert type(rebuilt.mixing) is th.mixings.Linear


def test_an_internal_error_is_one_line_with_exit_3(monkeypatch):
    import theory as th

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(th.theorems, "catalogue", broken)
    result = run("theorems")
    assert result.exit_code == 3
    assert "Internal error" in result.stderr and "--debug" in result.stderr
    assert "Traceback" not in result.output
    debug = run("--debug", "theorems")
    assert isinstance(debug.exception, ZeroDivisionError)


def test_the_exit_code_contract_holds_in_a_real_process(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    proc = subprocess.run(
        [sys.executable, "-m", "verification._entry", "check", "injective", "--process", bad],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "JSON object" in proc.stderr
