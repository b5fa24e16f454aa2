"""theory imports torch and scipy where it samples, not at import (issue 22)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "scipy.stats", "scipy.special", "sklearn", "pandas", "sympy.printing.pytorch")


def _fresh(code: str) -> str:
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_theory_and_its_catalogues_import_no_torch_or_scipy():
    loaded = _fresh(
        "import sys\n"
        "import theory as th, verification, verification.registry\n"
        "th.theorems.catalogue(); th.assumptions.names(); th.Process\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert loaded == "[]"


def test_sampling_imports_what_it_needs_and_draws_as_before():
    out = _fresh(
        "import sys, numpy as np, theory as th\n"
        "p = th.Process(th.latents.GeneralizedNormal(3, beta=1.5), th.mixings.Linear.random(3))\n"
        "z = p.latent.sample(5, seed=0)\n"
        "import torch\n"
        "print(type(z) is torch.Tensor, z.dtype, 'torch' in sys.modules, 'scipy.stats' in sys.modules)"
    )
    assert out == "True torch.float64 True True"


def test_the_compiler_is_served_on_first_use():
    import theory as th
    from theory import compile as compiled

    assert th.compile_exprs is compiled.compile_exprs
    assert th.UnsupportedFunctionError is compiled.UnsupportedFunctionError
    assert th.compile is compiled


def test_a_lazy_module_is_the_module_it_names():
    import json

    import torch

    from theory._lazy import LazyModule, lazy

    proxy = LazyModule("json")
    assert proxy.dumps is json.dumps and "dumps" in dir(proxy)
    assert lazy("json") is json  # already imported: the module itself
    import theory.augmentations as aug

    assert aug.PIXEL_DTYPE is torch.float32


def test_a_contrastive_evaluation_imports_neither_scikit_learn_nor_scipy_stats():
    """A pool worker imports what it evaluates with: a cl-ica evaluation needs neither
    scikit-learn nor scipy.stats (1.5 s and 0.7 s of imports in every worker), and a
    sweep needs no hypothesis (0.05 s, the search's strategies)."""
    loaded = _fresh(
        "import sys, tempfile\n"
        "from verification._sweep import sweep\n"
        "with tempfile.TemporaryDirectory() as out:\n"
        "    r = sweep('cl-ica', {'train.steps': [20]}, seeds=[0], out=out, plots=False)\n"
        "assert not r.errors and r.rows[0]['metrics'], r.rows\n"
        "print(sorted(m for m in ('sklearn', 'scipy.stats', 'pandas', 'hypothesis')"
        " if m in sys.modules))"
    )
    assert loaded == "[]"
