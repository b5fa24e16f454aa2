"""A small ResNet-style CNN encoder for rendered images, and the hook that picks it.

Observations of an image mixing (one with ``image_shape`` = (C, H, W), e.g.
``th.mixings.Sprites``) are flattened images; the vector encoder's ZCA whitening would
need the (C·H·W)² covariance, and an MLP ignores that neighbouring pixels belong
together. ``ConvEncoder`` instead normalises each channel (mean and standard deviation
from the reference sample), then: a stride-2 3×3 convolution stem, stride-2 3×3 convolutions
that halve the side and double the channels down to 4×4, then a residual block (He et
al. 2016, 'Deep residual learning for image recognition', CVPR; two 3×3 convolutions,
the second zero-initialised so that the block starts as the identity, like the vector
encoder's zero-initialised MLP) where it is cheap; the final feature map is flattened (not pooled,
so absolute position is kept) and a two-layer head maps it to the outputs. No
normalisation layers: the encoder is a plain function of one image (what a Jacobian of
h = f∘g assumes), the same in training and evaluation.

``build_encoder(process, n_out, config, x_ref, normalize)`` returns this CNN when the
process's mixing has an ``image_shape``, else the vector ``Encoder``: the one line each
learner changes to train on pixels.
"""

from __future__ import annotations

import torch
from torch import nn

from verification.learners.encoders import ACTIVATIONS, Encoder, EncoderConfig

REFERENCE_IMAGES = 512  # images whose channel statistics normalise the input
POOL_BYTES = 64 * 2**20  # float64 memory of the image pairs a learner draws at once
FINAL_SIDE = 4  # feature maps are halved until their side is at most this


def image_shape(process) -> tuple[int, int, int] | None:
    """(C, H, W) when the process observes images (its mixing says so), else None."""
    shape = getattr(process.mixing, "image_shape", None)
    return None if shape is None else tuple(int(s) for s in shape)


def reference_size(process, default: int = 10_000) -> int:
    """How many observations a learner draws to set up its encoder: ``default`` for
    vectors (whitening), ``REFERENCE_IMAGES`` for images (channel statistics only)."""
    return default if image_shape(process) is None else min(default, REFERENCE_IMAGES)


def pool_pairs(process, default: int) -> int:
    """How many fresh pairs a learner draws at a time: ``default`` for vectors; for
    images as many as fit in ``POOL_BYTES`` (about 1300 pairs at 32×32, 340 at 64×64),
    a learner still drawing at least one batch."""
    shape = image_shape(process)
    if shape is None:
        return default
    per_pair = 2 * 8 * shape[0] * shape[1] * shape[2]
    return max(1, min(default, POOL_BYTES // per_pair))


class _Residual(nn.Module):
    """h + conv(act(conv(h))), the second convolution zero at initialisation."""

    def __init__(self, channels: int, activation: str) -> None:
        super().__init__()
        self.first = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = ACTIVATIONS[activation]()
        self.second = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.second.weight)
        nn.init.zeros_(self.second.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.second(self.act(self.first(h)))


class ConvEncoder(nn.Module):
    """Flattened images (B, C·H·W) -> (B, n_out) (see the module docstring).

    ``width``: channels after the stem, doubled by every further stride-2 convolution
    until the side is at most 4 (32×32: 16 → 8 → 4, width → 4·width); ``blocks``:
    residual blocks at that final resolution; ``hidden``: the head's hidden width. ``normalize``: outputs on the unit sphere (``pre`` gives them before).
    """

    def __init__(
        self,
        shape: tuple[int, int, int],
        n_out: int,
        x_sample: torch.Tensor,
        *,
        width: int = 8,
        blocks: int = 1,
        hidden: int = 128,
        activation: str = "relu",
        normalize: bool = False,
    ) -> None:
        super().__init__()
        channels, height, side = shape
        self.shape, self.normalize = shape, normalize
        images = x_sample.reshape(-1, *shape)
        self.register_buffer("mean", images.mean((0, 2, 3)).reshape(1, -1, 1, 1))
        std = images.std((0, 2, 3)).clamp_min(1e-6)
        self.register_buffer("inv_std", (1 / std).reshape(1, -1, 1, 1))
        act = ACTIVATIONS[activation]
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, stride=2, padding=1), act()]
        c, size = width, (min(height, side) + 1) // 2
        while size > FINAL_SIDE:  # stride-2 convolutions doubling the channels
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), act()]
            c, size = 2 * c, (size + 1) // 2
        layers += [_Residual(c, activation) for _ in range(blocks)]
        self.body = nn.Sequential(*layers)
        with torch.no_grad():
            flat = self.body(torch.zeros(1, *shape)).numel()
        self.head = nn.Sequential(nn.Linear(flat, hidden), act(), nn.Linear(hidden, n_out))

    def pre(self, x: torch.Tensor) -> torch.Tensor:
        """The output before normalisation onto the sphere."""
        images = (x.reshape(-1, *self.shape) - self.mean) * self.inv_std
        return self.head(self.body(images).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pre(x)
        return nn.functional.normalize(y, dim=-1) if self.normalize else y


def build_encoder(
    process,
    n_out: int,
    config: EncoderConfig,
    x_ref: torch.Tensor,
    normalize: bool = False,
) -> nn.Module:
    """The encoder a learner trains on ``process``: ``ConvEncoder`` for images (its
    ``width`` channels = ``config.width`` / 8, at least 4; hidden width
    2·``config.width``; ``config.activation``), else
    the vector ``Encoder`` with ``config``."""
    shape = image_shape(process)
    if shape is None:
        return Encoder(x_ref.shape[1], n_out, config, x_ref, normalize=normalize)
    return ConvEncoder(
        shape,
        n_out,
        x_ref,
        width=max(4, config.width // 8),
        hidden=2 * config.width,
        activation=config.activation,
        normalize=normalize,
    )


__all__ = [
    "POOL_BYTES",
    "REFERENCE_IMAGES",
    "ConvEncoder",
    "build_encoder",
    "image_shape",
    "pool_pairs",
    "reference_size",
]
