"""Make the figures and numbers of docs/platonic.md with ``sith align`` (the ``plots`` extra).

Five alignments, each ``sith align THEOREM --process FILE.json --learners ... --seeds 3``
in practice mode. The figures the page shows are copied from each run's ``OUT/figures/``
next to this script as ``platonic-CASE-*.png``, a combined figure over all cases is
drawn from the runs' align.json, and each run's summary statement is printed. About 15
minutes on 2 CPU cores::

    python docs/figures/make_platonic.py [--out runs/platonic] [--cases sphere fold ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import theory as th

HERE = Path(__file__).resolve().parent
NON_CONTRASTIVE = "infonce,vicreg,barlow-twins"

# case: (theorem, process, learners, what the case shows)
CASES = {
    "sphere": (
        "cl-ica",
        th.theorems.get("cl-ica").canonical_process(),
        NON_CONTRASTIVE,
        "identifiable: the process assumptions of cl-ica hold",
    ),
    "laplace-conditional": (
        "cl-ica",
        th.Process(
            th.latents.UniformSphere(3),
            th.mixings.InvertibleMLP(3, depth=3, seed=0),
            th.conditionals.Laplace(scale=0.1),
        ),
        NON_CONTRASTIVE,
        "a gap: positives from a Laplace conditional, not vMF (conditional-family violated)",
    ),
    "fold": (
        "cl-ica",
        th.Process(
            th.latents.UniformSphere(3),
            th.mixings.Fold(3),
            th.conditionals.VonMisesFisher(kappa=10.0),
        ),
        NON_CONTRASTIVE,
        "not identifiable: a fold z1 -> z1^2 (injective violated)",
    ),
    "ica-laplace": (
        "linear-ica",
        th.Process(th.latents.Laplace(6), th.mixings.Linear.random(6, seed=0)),
        "fastica",
        "identifiable: Laplace sources, a linear mixing",
    ),
    "ica-gaussian": (
        "linear-ica",
        th.Process(th.latents.Normal(6), th.mixings.Linear.random(6, seed=0)),
        "fastica",
        "not identifiable: Gaussian sources (non-gaussian violated)",
    ),
}


# the per-case figures docs/platonic.md shows (sith align writes both for every case)
SHOWN = {
    "sphere": ("pairwise.png",),
    "fold": ("pairwise.png",),
    "laplace-conditional": ("agreement-vs-truth.png",),
}


def run(case: str, out: Path) -> dict:
    theorem, process, learners, _ = CASES[case]
    folder = out / case
    folder.mkdir(parents=True, exist_ok=True)
    process_file = folder / "process.json"
    process_file.write_text(process.to_json())
    command = [
        "sith", "align", theorem, "--process", str(process_file), "--learners", learners,
        "--seeds", "3", "--out", str(folder / "run"), "--quiet",
    ]  # fmt: skip
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    doc = json.loads((folder / "run" / "align.json").read_text())
    for name in SHOWN.get(case, ()):
        shutil.copyfile(folder / "run" / "figures" / name, HERE / f"platonic-{case}-{name}")
    return doc


def combined(out: Path) -> Path:
    """One figure over every case run so far: each pair's agreement against the worse of
    its two models' recovery of the truth (read from the cases' align.json)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    for case in CASES:
        path = out / case / "run" / "align.json"
        if not path.is_file():
            continue
        doc = json.loads(path.read_text())
        truth = {t["model"]: t["aligned"] for t in doc["truth"]}
        xs = [min(truth[p["a"]], truth[p["b"]]) for p in doc["pairs"]]
        for ax, score in zip(axes, ("cka", "aligned"), strict=True):
            ax.scatter(xs, [p[score] for p in doc["pairs"]], s=16, alpha=0.7, label=case)
    axes[0].set_ylabel("linear CKA between the two models")
    axes[1].set_ylabel("agreement up to the claim's indeterminacy")
    for ax in axes:
        ax.set_xlabel("worse model's recovery of the truth (same score)")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ax.legend(fontsize=8)
    fig.suptitle("Every pair of independently trained models, five processes")
    target = HERE / "platonic-all-cases.png"
    fig.savefig(target, dpi=90)
    plt.close(fig)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/platonic"))
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    args = parser.parse_args()
    for case in args.cases:
        doc = run(case, args.out)
        print(f"[{case}] {CASES[case][3]}\n  {doc['summary']['statement']}\n", flush=True)
    print("combined:", combined(args.out))
    sys.exit(0)


if __name__ == "__main__":
    main()
