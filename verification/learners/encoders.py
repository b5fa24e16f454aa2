"""Encoders: whitening, then stacked blocks of a linear map plus a zero-initialised MLP.

Why this shape: a plain MLP trained by InfoNCE from a random init spends its budget
undoing the mixing's linear part and stalls (e.g. linear R² ≈ 0.67 at n = 3). Each block
computes h <- A h + b + MLP(h) with the MLP's last layer zero at init, so the encoder
starts as an affine map of whitened inputs and learns only the nonlinear correction.
Stacking two blocks (the default) was what made n = 10 reliable in our measurements
(see docs/reproductions.md); a single block folds latent directions more often.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import nn

from verification import _learner_specs as tables
from verification import _options as opt

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


@dataclass
class EncoderConfig:
    """Architecture knobs (the "inductive biases" a user may sweep).

    residual=True: ``blocks`` stacked [linear + zero-init MLP] blocks, each MLP with
    ``depth`` hidden layers of ``width`` units. residual=False: a plain MLP with
    ``depth`` hidden layers (the architecture of the published reference code).
    """

    width: int = 64
    depth: int = 1
    blocks: int = 2
    activation: Literal["relu", "leaky_relu", "gelu", "silu", "tanh"] = "relu"
    residual: bool = True
    whiten: bool = True
    init: Literal["default", "orthogonal"] = "default"

    OPTIONS: ClassVar[dict[str, opt.Option]] = tables.ENCODER

    def __post_init__(self) -> None:
        opt.check_options(self)


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


def _mlp(n_in: int, n_out: int, config: EncoderConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    width_in = n_in
    for _ in range(config.depth):
        layers += [nn.Linear(width_in, config.width), ACTIVATIONS[config.activation]()]
        width_in = config.width
    layers.append(nn.Linear(width_in, n_out))
    if config.init == "orthogonal":
        for layer in layers:
            if isinstance(layer, nn.Linear):
                nn.init.orthogonal_(layer.weight)
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """h -> A h + b + MLP(h), the MLP's last layer zero at init."""

    def __init__(self, n_in: int, n_out: int, config: EncoderConfig) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.mlp = _mlp(n_in, n_out, config)
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h) + self.mlp(h)


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
        if config.residual:
            dims = [n_in] + [n_out] * config.blocks
            self.body = nn.Sequential(
                *[ResidualBlock(a, b, config) for a, b in itertools.pairwise(dims)]
            )
        else:
            self.body = _mlp(n_in, n_out, config)

    def pre(self, x: torch.Tensor) -> torch.Tensor:
        """The output before normalisation onto the sphere."""
        return self.body(self.whitening(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pre(x)
        return nn.functional.normalize(y, dim=-1) if self.normalize else y


def _gelu_derivative(t: torch.Tensor, module: nn.Module) -> torch.Tensor:
    if getattr(module, "approximate", "none") != "none":
        raise _NoForwardJacobian
    return 0.5 * (1 + torch.erf(t / math.sqrt(2))) + t * torch.exp(-0.5 * t * t) / math.sqrt(
        2 * math.pi
    )


def _silu_derivative(t: torch.Tensor, module: nn.Module) -> torch.Tensor:
    s = torch.sigmoid(t)
    return s * (1 + t * (1 - s))


# σ'(t) of the elementwise activations (ACTIVATIONS), given the pre-activation t
_DERIVATIVES: dict[type, Callable[[torch.Tensor, nn.Module], torch.Tensor]] = {
    nn.ReLU: lambda t, m: (t > 0).to(t.dtype),
    nn.LeakyReLU: lambda t, m: torch.where(t > 0, 1.0, m.negative_slope * torch.ones_like(t)),
    nn.Tanh: lambda t, m: 1 - torch.tanh(t) ** 2,
    nn.GELU: _gelu_derivative,
    nn.SiLU: _silu_derivative,
}


class _NoForwardJacobian(Exception):
    """A module :func:`body_jacobian` has no rule for."""


def _propagate(
    module: nn.Module, h: torch.Tensor, J: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(module(h), ∂module(h)/∂h₀ · J) for a batch: h (B, n), J (B, n, k); J None is the
    identity (the body's input), never materialised."""
    if isinstance(module, nn.Sequential):
        for child in module:
            h, J = _propagate(child, h, J)
        return h, J
    if isinstance(module, ResidualBlock):
        h1, J1 = _propagate(module.linear, h, J)
        h2, J2 = _propagate(module.mlp, h, J)
        return h1 + h2, J1 + J2
    if isinstance(module, nn.Linear):
        w = module.weight
        return module(h), w.expand(h.shape[0], *w.shape) if J is None else w @ J
    derivative = _DERIVATIVES.get(type(module))
    if derivative is None:
        raise _NoForwardJacobian
    d = derivative(h, module)
    return module(h), torch.diag_embed(d) if J is None else d.unsqueeze(-1) * J


def body_jacobian(body: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """J_b = ∂body(h_b)/∂h_b for every row of ``h`` (B, n) -> (B, n_out, n).

    Forward-mode by the chain rule, one batched matrix product per layer: a linear
    layer W maps J to W J, an elementwise activation σ to diag(σ'(t)) J, a residual
    block adds its two branches' Jacobians. For the encoders built here (linear layers,
    the activations of ``ACTIVATIONS``, residual blocks) it equals ``vmap(jacrev(body))``,
    gradients with respect to the parameters included (tests/test_encoders.py), without
    a reverse pass per output; any other module falls back to ``vmap(jacrev)``.
    """
    try:
        return _propagate(body, h, None)[1]
    except _NoForwardJacobian:
        return torch.func.vmap(torch.func.jacrev(lambda v: body(v[None])[0]))(h)
