"""Encoders: whitening, a linear path plus a zero-initialised MLP residual.

Why this shape: a plain MLP trained by InfoNCE from a random init spends most of its
budget undoing the mixing's linear part (and stalls; e.g. linear R² ≈ 0.67 at n = 3).
Starting as an exact linear map of whitened inputs (the residual's last layer is zero)
makes the linear part trivial and lets the MLP learn only the nonlinear correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

ACTIVATIONS = {
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


@dataclass
class EncoderConfig:
    width: int = 128
    depth: int = 2
    activation: Literal["leaky_relu", "relu", "gelu", "silu", "tanh"] = "leaky_relu"
    residual: bool = True  # linear path + zero-initialised MLP; False: a plain MLP
    whiten: bool = True
    init: Literal["default", "orthogonal"] = "default"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; use {sorted(ACTIVATIONS)}")
        if self.width < 1 or self.depth < 0:
            raise ValueError("width must be >= 1 and depth >= 0")


class Whitening(nn.Module):
    """x -> W (x - mean) with W = cov^{-1/2} (ZCA), fitted once on a sample."""

    def __init__(self, x: torch.Tensor, eps: float = 1e-6) -> None:
        super().__init__()
        mean = x.mean(0)
        cov = torch.cov((x - mean).T).reshape(x.shape[1], x.shape[1])
        vals, vecs = torch.linalg.eigh(cov)
        w = vecs @ torch.diag((vals.clamp_min(0) + eps * vals.max()).rsqrt()) @ vecs.T
        self.register_buffer("mean", mean)
        self.register_buffer("w", w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) @ self.w.T


class Encoder(nn.Module):
    def __init__(
        self,
        n_in: int,
        n_out: int,
        config: EncoderConfig,
        x_sample: torch.Tensor,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        self.normalize = normalize
        self.whitening = Whitening(x_sample) if config.whiten else nn.Identity()
        layers: list[nn.Module] = []
        width_in = n_in
        for _ in range(config.depth):
            layers += [nn.Linear(width_in, config.width), ACTIVATIONS[config.activation]()]
            width_in = config.width
        last = nn.Linear(width_in, n_out)
        layers.append(last)
        self.mlp = nn.Sequential(*layers)
        if config.init == "orthogonal":
            for layer in self.mlp:
                if isinstance(layer, nn.Linear):
                    nn.init.orthogonal_(layer.weight)
        self.linear = nn.Linear(n_in, n_out) if config.residual else None
        if self.linear is not None:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            if n_in == n_out:
                nn.init.eye_(self.linear.weight)
                nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.whitening(x)
        y = self.mlp(h) if self.linear is None else self.linear(h) + self.mlp(h)
        return nn.functional.normalize(y, dim=-1) if self.normalize else y
