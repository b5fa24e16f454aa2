"""Theorems on rendered images: the catalogue's classics with pixels as observations.

- ``content-style-pixels``: von Kügelgen et al. 2021, Theorem 4.4, with the positive view
  made by image augmentations (``theory.augmentations``): a translation moves the sprite
  and a colour jitter shifts its hue, so position and hue are style and the latent no
  augmentation touches (the scale) are the content block a contrastive encoder with as
  many outputs identifies.
- ``cl-ica-pixels``: Zimmermann et al. 2021, Theorem 2, on images: z uniform on the
  sphere, positives from a von Mises–Fisher conditional, x the rendered image; InfoNCE
  with a CNN encoder recovers z up to an orthogonal map.

Both canonical processes are 32×32 RGB images whose factor ranges keep the renderer
injective (no rotation, whose symmetries collide; a hue range that does not wrap), so
the injectivity assumption is the paper's, not violated by a symmetry of the shape. The
learners are the catalogue's, configured for images (batch 256, Adam lr 2e-3, two
threads): the CNN encoder is chosen because the mixing has an ``image_shape``.
Registered when ``theory`` is imported (its ``__init__`` imports this module after
``theory.theorems``).
"""

from __future__ import annotations

from theory import assumptions as A
from theory import claims as C
from theory import conditionals, latents, mixings
from theory import learner_conditions as LC
from theory.augmentations import Augment, ColorJitter, Translate
from theory.process import Process
from theory.references import lookup
from theory.theorems import Theorem, content_style, contrastive, register

# what the image learners change from the vector defaults (measured: benchmarks/pixels.py)
IMAGE_TRAINING = {"train.batch_size": 256, "train.lr": 2e-3, "train.threads": 2}


def content_style_sprites(size: int = 32) -> Process:
    """The scale (content) of a square; its position and hue (style) changed by a
    translation and a colour jitter of the image."""
    g = mixings.Sprites(
        size=size,
        shape="square",
        factors=("scale", "x", "y", "hue"),
        ranges={"hue": (0.0, 0.75)},
    )
    return Process(
        latents.Uniform(4),
        g,
        Augment.for_mixing(g, Translate(shift=0.3), ColorJitter(hue=0.15)),
    )


def cl_ica_sprites(size: int = 32) -> Process:
    """Position and scale of a disc from z uniform on S², positives from a vMF."""
    return Process(
        latents.UniformSphere(3),
        mixings.Sprites(size=size, shape="disc", factors=("x", "y", "scale")),
        conditionals.VonMisesFisher(kappa=10.0),
    )


register(
    Theorem(
        name="content-style-pixels",
        assumptions=content_style("infonce", density=False),
        # the L1 critic (the lp metric at p = 1) on images: docs/pixels.md's figures were
        # measured with it; the vector theorem's squared distance is untried on pixels
        learner=("infonce-content", {"critic": "lp", "p": 1.0, **IMAGE_TRAINING}),
        claim=C.block(content=1, threshold=0.9),
        cite="von Kügelgen, Sharma, Gresele, Brendel, Schölkopf, Besserve & Locatello 2021, "
        "'Self-supervised learning with data augmentations provably isolates content from "
        "style', NeurIPS, Theorem 4.4 (image augmentations as in their Causal3DIdent "
        "experiments, Sec. 5.2)",
        summary="On rendered images x = g(z) of a sprite, positive pairs made by augmenting "
        "the image (a random translation: position; a colour jitter: hue) keep the latents "
        "no augmentation touches (the scale: the content block) and change the style "
        "at random; for g injective and an immersion, an encoder with n_c = 1 output "
        "minimising alignment minus the entropy of its outputs (InfoNCE, here a CNN) "
        "block-identifies the content. The positive's latents are the augmentation's "
        "latent equivalent (theory.augmentations).",
        canonical=content_style_sprites,
        reference=lookup("content-style"),  # the same paper's theorem, on images
    )
)

register(
    Theorem(
        name="cl-ica-pixels",
        assumptions=contrastive(
            A.UniformOnSphere(), "VonMisesFisher", "infonce", LC.MatchedTemperature()
        ),
        learner=("infonce", dict(IMAGE_TRAINING)),
        claim=C.orthogonal(0.9),
        cite="Zimmermann, Sharma, Schneider, Bethge & Brendel 2021, 'Contrastive learning inverts "
        "the data generating process', ICML, Theorem 2",
        summary="cl-ica with images as observations: z uniform on S², positives from a vMF "
        "conditional (κ = 10) and x the rendered image of a disc whose position and size "
        "are z's coordinates; a minimiser of InfoNCE with an encoder onto the sphere (a "
        "CNN) recovers z up to an orthogonal map. The default learner is the theorem's "
        "(τ = 1/κ, derived from the process), as for cl-ica; `--set tau_kappa=3.0` is the "
        "practical temperature, outside the theorem.",
        canonical=cl_ica_sprites,
        reference=lookup("cl-ica"),
    )
)

__all__ = ["IMAGE_TRAINING", "cl_ica_sprites", "content_style_sprites"]
