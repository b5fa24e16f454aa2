"""The HTML report in a real browser: headless Chromium renders it, the screenshot is
not blank and the page logs nothing to the console (the report has no script at all)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import theory as th
from verification import search
from verification._search import RunDirectory, render_html
from verification._search.reports import build_report
from verification.spaces import SearchSpace

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
)


def test_a_real_report_renders_in_headless_chromium(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    theorem = th.Theorem(
        "browser-gap",
        (th.assumptions.Conformal(),),
        ("fastica", {"n_train": 3000}),
        th.claims.permutation_scaling(0.9),
        cite="test",
    )
    space = SearchSpace(
        dims=(2, 3), latents=("laplace",), mixings=("linear",), conditionals=("none",)
    )
    result = search(theorem, space, budget=4, seed=0, reseeds=1, out=tmp_path / "run")
    run = RunDirectory(tmp_path / "run")
    page = tmp_path / "report.html"
    page.write_text(
        render_html(
            build_report(result, run.counterexample_path), sorted(run.figures.glob("*.png"))
        )
    )
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
            "--v=0", f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.exists(), done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    pixels = image.imread(shot)
    assert pixels.std() > 0.01  # not a blank page
    assert (pixels[..., :3] < 0.5).mean() > 0.001  # some dark text on it
