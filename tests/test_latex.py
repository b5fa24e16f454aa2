"""Paper output: ``sith report RUN --format latex`` (booktabs tables that compile, every
special character escaped, numbers rounded to their uncertainty) and ``--figures
pdf,svg`` (vector figures sized for a two-column paper)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from scipy import stats

from verification import latex_tables as LT
from verification._latex import escape, round_to_uncertainty
from verification._search.records import wilson_interval
from verification.cli import main

ENGINES = ("pdflatex", "lualatex", "xelatex", "tectonic")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def columns(spec: str) -> int:
    """The number of columns of a tabular spec (l, r, c, p{...})."""
    return len(re.findall(r"[lrc]|p\{[^}]*\}", re.sub(r"p\{[^}]*\}", "p{}", spec)))


def check_latex(text: str) -> None:
    """Parse what sith writes: environments nest and close, braces balance, the special
    characters appear escaped (``&`` only between the cells of a tabular row, as many as
    it has columns, ``$`` in pairs), then compile it where a TeX engine is installed."""
    body = [line for line in text.splitlines() if not line.startswith("%")]
    stack: list[str] = []
    cols = None
    for line in body:
        unescaped = re.sub(r"\\[\\{}&%$#_]", "", line.replace(r"\textbackslash{}", ""))
        assert "%" not in unescaped and "#" not in unescaped, line
        assert "_" not in unescaped, line
        assert unescaped.count("$") % 2 == 0, line
        depth = 0
        for ch in unescaped:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0, line
        assert depth == 0, line
        for kind, name in re.findall(r"\\(begin|end)\{([^}]*)\}", line):
            if kind == "begin":
                stack.append(name)
            else:
                assert stack and stack.pop() == name, line
        spec = re.match(r"\\begin\{tabular\}\{(.*)\}$", line)
        if spec:
            cols = columns(spec.group(1))
        elif line.endswith("\\\\") and "tabular" in stack:
            assert unescaped.count("&") == cols - 1, (line, cols)
        else:
            assert "&" not in unescaped, line
    assert not stack, stack
    engine = next((e for e in ENGINES if shutil.which(e)), None)
    if engine is not None:  # no TeX here is fine: the parse above is the check
        compile_latex(engine, text)


def compile_latex(engine: str, text: str, tmp=None) -> None:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "tables.tex").write_text(text, encoding="utf-8")
        Path(folder, "paper.tex").write_text(
            "\\documentclass[twocolumn]{article}\n\\usepackage{booktabs}\n"
            "\\begin{document}\n\\input{tables.tex}\n\\end{document}\n",
            encoding="utf-8",
        )
        args = (
            [engine, "paper.tex"]
            if engine == "tectonic"
            else [engine, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"]
        )
        done = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-3000:]


# --- the pieces ---------------------------------------------------------------------------


def test_escape_writes_every_special_character_as_text():
    assert escape("a_b %c& #d $e {f} ~ ^ \\") == (
        r"a\_b \%c\& \#d \$e \{f\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    assert escape("κ ≥ 2 \x1b[2J") == r"\ensuremath{\kappa} \ensuremath{\geq} 2 [2J"
    assert escape("Hyvärinen ✓ ☃") == 'Hyv{\\"a}rinen yes [U+2603]'
    check_latex(escape("x_1 % 100 & #2 $ {") + " \\\\")  # one escaped cell, no table


@pytest.mark.parametrize(
    "value, uncertainty, expected",
    [
        (0.98765, 0.0123, "0.988"),  # leading digit 1: two significant digits
        (0.98765, 0.05, "0.99"),
        (0.98765, 0.0049, "0.988"),  # leading digit 4: one significant digit
        (0.98765, 0.0029, "0.9877"),
        (123.456, 12, "123"),
        (1234.5, 250, "1230"),
        (1234.5, 600, "1200"),
        (0.5, None, "0.5"),
        (float("nan"), 0.1, "--"),
    ],
)
def test_numbers_are_rounded_to_their_uncertainty(value, uncertainty, expected):
    assert round_to_uncertainty(value, uncertainty) == expected


def test_the_intervals_agree_with_a_second_method():
    values = [0.91, 0.95, 0.97, 0.99]
    mean, half = LT.mean_interval(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=stats.sem(values))
    assert half == pytest.approx((high - low) / 2)
    for k, n in ((0, 3), (2, 3), (3, 3), (7, 20)):
        assert LT.wilson(k, n) == pytest.approx(wilson_interval(k, n))
    assert LT.mean_interval([0.9]) == (0.9, None)
    assert LT.pm(0.98765, 0.0123) == r"$0.988 \pm 0.012$"


# --- the three documents ------------------------------------------------------------------


def hostile_search_report() -> dict:
    process = {
        "schema": "sith.process/1",
        "latent": {"type": "Normal_κ", "n": 2},
        "mixing": {"type": "Lin&ear", "n": 2},
    }
    evidence = [
        {
            "assumption": "non_gaussian #1",
            "verdict": "violated",
            "statistic": 0.01,
            "tolerance": 0.1,
            "n_points": 10,
            "witness": None,
        }
    ]
    cx = {
        "kind": "gap",
        "key": "k",
        "confirmed": True,
        "process": process,
        "evidence": evidence,
        "violated": ["non_gaussian #1"],
        "recovered": True,
        "claim_metric": {"name": "mcc_crossfit", "value": 0.97312, "threshold": 0.95},
        "metrics": {},
        "params": {},
        "spread": {"n": 3, "min": 0.96, "max": 0.981},
        "rate": {"agree": 2, "seeds": 3, "value": 0.67, "low": 0.21, "high": 0.94, "level": 0.2},
        "reproduce": "sith recover x",
    }
    return {
        "theorem": "my_thm 100% & #1 $x$ {y}",
        "seed": 0,
        "evaluations": 9,
        "quadrants": {
            "holds_recovered": 5,
            "holds_not_recovered": 1,
            "violated_recovered": 2,
            "violated_not_recovered": 1,
            "errors": 0,
        },
        "counterexamples": [cx],
    }


def test_search_tables_escape_everything_from_the_run():
    text = LT.search_tables(hostile_search_report())
    check_latex(text)
    assert r"\texttt{my\_thm 100\% \& \#1 \$x\$ \{y\}}" in text
    assert r"non\_gaussian \#1 (0.01)" in text and r"Normal\_\ensuremath{\kappa}" in text
    assert "2/3 [0.21, 0.94]" in text and "0.973 [0.96, 0.981]" in text
    assert r"assumptions violated & 2 & 1 \\" in text
    assert text.count(r"\begin{table*}") == 1  # the counterexamples span both columns


def test_sith_report_latex_of_a_search_and_a_sweep(tmp_path):
    run = tmp_path / "search"
    assert invoke("search", "linear-ica", "--budget", 2, "--out", run, "--quiet").exit_code == 0
    result = invoke("report", run, "--format", "latex")
    assert result.exit_code == 0, result.output
    check_latex(result.output)
    assert r"\label{tab:sith-search-linear-ica-quadrants}" in result.output
    redrawn = invoke("report", run, "--figures", "pdf")  # from report.json and its records
    assert redrawn.exit_code == 0, redrawn.output
    pngs = sorted(p.stem for p in (run / "figures").glob("*.png"))
    assert sorted(p.stem for p in (run / "figures").glob("*.pdf")) == pngs

    out = tmp_path / "sweep"
    made = invoke(
        "sweep",
        "linear-ica",
        "--vary",
        "learner.n_train=100,300",
        "--seeds",
        3,
        "--out",
        out,
        "--quiet",
        "--no-plots",
    )
    assert made.exit_code == 0, made.output
    tex = tmp_path / "table.tex"
    assert invoke("report", out, "--format", "latex", "--out", tex).exit_code == 0
    text = tex.read_text()
    check_latex(text)
    assert text.endswith(
        "% Cite: \\cite{sith,comon1994independent} (BibTeX: sith cite; sith cite linear-ica)\n"
    )
    doc = json.loads((out / "sweep.json").read_text())
    for setting in (0, 1):
        values = [r["claim_metric"] for r in doc["rows"] if r["setting"] == setting]
        expected = LT.pm(*LT.mean_interval(values))
        n_train = doc["settings"][setting]["learner.n_train"]
        assert f"{n_train} & 3 & {expected} & " in text


def test_sith_report_latex_of_an_alignment_and_its_vector_figures(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "align"
    made = invoke("align", "linear-ica", "--seeds", 3, "--out", out, "--quiet")
    assert made.exit_code == 0, made.output
    result = invoke("report", out, "--format", "latex", "--figures", "pdf,svg")
    assert result.exit_code == 0, result.output
    check_latex(result.output)
    for score in ("models", "cka", "mutual-knn", "aligned"):
        assert f"\\label{{tab:sith-align-linear-ica-{score}}}" in result.output
    assert r"\texttt{1} &  & " in result.output  # the diagonal is left empty
    figures = out / "figures"
    for name in ("pairwise", "agreement-vs-truth"):
        page = pypdf.PdfReader(figures / f"{name}.pdf").pages[0]
        assert float(page.mediabox.width) == pytest.approx(7.0 * 72)  # a two-column page
        fonts = page["/Resources"]["/Font"]
        assert all(f.get_object()["/Subtype"] != "/Type3" for f in fonts.values())  # TrueType
        svg = ET.parse(figures / f"{name}.svg").getroot()
        assert svg.get("width") == "504pt"
        sizes = set(re.findall(r"font-size: ([\d.]+)px", (figures / f"{name}.svg").read_text()))
        assert sizes <= {"7", "8"} and sizes
    assert invoke("report", out, "--figures", "eps").exit_code == 2


def test_sweep_writes_vector_figures_as_it_runs(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "s"
    made = invoke(
        "sweep",
        "linear-ica",
        "--vary",
        "learner.n_train=100,300",
        "--seeds",
        1,
        "--out",
        out,
        "--quiet",
        "--figures",
        "svg",
    )
    assert made.exit_code == 0, made.output
    names = sorted(p.name for p in (out / "figures").iterdir())
    assert "vary-learner.n_train.png" in names and "vary-learner.n_train.svg" in names
    assert not any(n.endswith(".pdf") for n in names)
    html = (out / "report.html").read_text()
    assert "figures/vary-learner.n_train.png" in html and ".svg" not in html  # PNGs on screen


@pytest.mark.parametrize(
    "bad",
    [
        "a_b \\\\",
        "100% \\\\",
        "\\begin{table}\n\\end{tabular}",
        "\\begin{tabular}{lr}\nx & y & z \\\\\n\\end{tabular}",
        "{ unclosed",
        "$x",
    ],
)
def test_the_parse_check_catches_what_would_not_compile(bad):
    with pytest.raises(AssertionError):
        check_latex(bad)
