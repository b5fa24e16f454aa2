"""Make the figures of docs/gallery.md with sith's own plots (the ``plots`` extra).

Three tiny searches, each with a small budget and one re-seed per counterexample; the
figures every search writes into its run directory (``OUT/figures/``) are copied next
to this script as ``gallery-*.png``. About a minute on 2 CPU cores::

    python docs/figures/make_gallery.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# theorem, budget, {figure written by the search: name in the gallery}
SEARCHES = [
    (
        "cl-ica",
        6,
        {
            "counterexample-1.png": "gallery-cl-ica-gap.png",
            "metric-vs-parameters.png": "gallery-cl-ica-metric-vs-parameters.png",
        },
    ),
    (
        "linear-ica",
        8,
        {"metric-vs-parameters.png": "gallery-linear-ica-metric-vs-parameters.png"},
    ),
    (
        "ima-ica",
        8,
        {"counterexample-1.png": "gallery-ima-ica-gap.png"},
    ),
]


def _focus() -> dict:
    """cl-ica's gallery search looks only at the temperature: the one assumption a vMF
    process on the sphere can violate alone there, so its first counterexample is the
    gap the page describes (τκ = 3 recovers)."""
    from verification.spaces import DEFAULT_SPACES

    space = DEFAULT_SPACES["cl-ica"].narrow(
        latents=("uniform-sphere",), mixings=("linear", "invertible-mlp"), conditionals=("vmf",)
    )
    return {"cl-ica": {"space": space, "kinds": ("gap",)}}


def main() -> int:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("the gallery needs the plots extra: pip install 'sith-toolkit[plots]'")
        return 2
    sys.path.insert(0, str(ROOT / "examples" / "extending"))
    import ima_paper  # noqa: F401  (registers the tutorial's theorem ima-ica)

    from verification import search

    focus = _focus()

    with tempfile.TemporaryDirectory(prefix="sith-gallery-") as tmp:
        for theorem, budget, figures in SEARCHES:
            started = time.perf_counter()
            out = Path(tmp) / theorem
            options = focus.get(theorem, {})
            search(theorem, budget=budget, seed=0, out=out, reseeds=1, **options)
            for made, name in figures.items():
                if not (out / "figures" / made).is_file():
                    print(f"{theorem}: the search made no {made}")
                    return 1
                shutil.copyfile(out / "figures" / made, HERE / name)
                print(f"{theorem}: {name}")
            print(f"{theorem}: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
