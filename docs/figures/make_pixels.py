"""The figures of docs/pixels.md: rendered samples and augmented pairs.

Run from the repository root: python docs/figures/make_pixels.py [OUTDIR]
(default: docs/figures). Every draw is seeded, so the figures are reproducible.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import theory as th
from theory import augmentations as au

Sprites = th.mixings.Sprites


def show(ax, image, title=None):
    ax.imshow(np.clip(image.permute(1, 2, 0).numpy(), 0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def samples(out: Path) -> Path:
    """Rows: disc, square, triangle, the morph, three objects on a grey background."""
    factors = ("x", "y", "scale", "rotation", "hue")
    rows = [
        ("disc", Sprites(size=64, shape="disc", factors=factors)),
        ("square", Sprites(size=64, shape="square", factors=factors)),
        ("triangle", Sprites(size=64, shape="triangle", factors=factors)),
        ("morph", Sprites(size=64, shape="morph", factors=("shape", "scale", "hue"))),
        (
            "3 objects",
            Sprites(size=64, shape="triangle", factors=factors, objects=3, background=(0.3,) * 3),
        ),
    ]
    fig, axes = plt.subplots(len(rows), 8, figsize=(8, len(rows) * 1.1))
    for r, (name, g) in enumerate(rows):
        z = th.latents.Uniform(g.n_in, -0.9, 0.9).sample(8, r)
        if name == "morph":  # shape from square (left) to triangle (right)
            z[:, 0] = th.latents.Uniform(1).sample(8, 0)[:, 0].sort().values
        images = g.images(z)
        for c in range(8):
            show(axes[r, c], images[c], name if c == 0 else None)
    fig.tight_layout()
    path = out / "pixels-samples.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def pairs(out: Path) -> Path:
    """Anchor (top) and augmented positive (bottom) for each op, on the content-style
    theorem's 32×32 sprites."""
    g = th.theorems.get("content-style-pixels").canonical_process().mixing
    ops = [
        ("crop", au.Crop((0.5, 0.8))),
        ("translate", au.Translate(0.3)),
        ("flip", au.Flip(1.0)),
        ("hue jitter", au.ColorJitter(hue=0.3)),
        ("blur", au.Blur((1.0, 1.5))),
        ("all", None),
    ]
    fig, axes = plt.subplots(2, len(ops), figsize=(len(ops) * 1.3, 2.9))
    for c, (name, op) in enumerate(ops):
        chosen = (
            [op] if op is not None else [au.Translate(0.3), au.ColorJitter(hue=0.15), au.Blur()]
        )
        cond = au.Augment.for_mixing(g, *chosen)
        process = th.Process(th.latents.Uniform(g.n_in, -0.8, 0.8), g, cond)
        _, _, x, x_pos = process.sample_pairs(1, np.random.default_rng(c))
        show(axes[0, c], x[0].reshape(g.image_shape), name)
        show(axes[1, c], x_pos[0].reshape(g.image_shape))
    axes[0, 0].set_ylabel("x", fontsize=8)
    axes[1, 0].set_ylabel("x'", fontsize=8)
    fig.tight_layout()
    path = out / "pixels-pairs.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    for path in (samples(out), pairs(out)):
        print(path.name)


if __name__ == "__main__":
    main()
