"""The encoders' forward-mode Jacobian (``body_jacobian``) against ``vmap(jacrev)``."""

import pytest
import torch
from torch import nn

from verification.learners.encoders import (
    ACTIVATIONS,
    Encoder,
    EncoderConfig,
    body_jacobian,
)


def _reverse_mode(body: nn.Module, h: torch.Tensor) -> torch.Tensor:
    return torch.func.vmap(torch.func.jacrev(lambda v: body(v[None])[0]))(h)


def _randomised(config: EncoderConfig, n: int, seed: int = 0) -> Encoder:
    """An encoder whose zero-initialised layers are given random weights (at init the
    residual MLPs are zero, and their Jacobian would be trivially the linear part)."""
    torch.manual_seed(seed)
    model = Encoder(n, n, config, torch.randn(256, n, dtype=torch.float64)).double()
    with torch.no_grad():
        for p in model.body.parameters():
            p.copy_(torch.randn_like(p) / p.shape[-1] ** 0.5)
    return model


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("residual", [True, False])
def test_body_jacobian_equals_reverse_mode_values_and_gradients(activation, residual):
    config = EncoderConfig(width=16, depth=2, activation=activation, residual=residual)
    model = _randomised(config, n=4)
    h = torch.randn(32, 4, dtype=torch.float64)
    forward = body_jacobian(model.body, h)
    reverse = _reverse_mode(model.body, h)
    torch.testing.assert_close(forward, reverse, rtol=1e-10, atol=1e-12)
    # the fold guard differentiates a function of J with respect to the parameters
    params = list(model.body.parameters())
    g_forward = _gradients(torch.linalg.slogdet(forward)[1].sum(), params)
    g_reverse = _gradients(torch.linalg.slogdet(reverse)[1].sum(), params)
    for a, b in zip(g_forward, g_reverse, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


def _gradients(value: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    """d value / d params, zero for a parameter J does not depend on (the last bias)."""
    grads = torch.autograd.grad(value, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]


def test_body_jacobian_of_a_linear_map_is_its_matrix():
    layer = nn.Linear(3, 5).double()
    h = torch.randn(7, 3, dtype=torch.float64)
    J = body_jacobian(layer, h)
    assert J.shape == (7, 5, 3)
    torch.testing.assert_close(J, layer.weight.expand(7, 5, 3))


def test_body_jacobian_falls_back_to_reverse_mode_for_other_modules():
    body = nn.Sequential(nn.Linear(3, 3), nn.Softplus(), nn.Linear(3, 2)).double()
    h = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(body_jacobian(body, h), _reverse_mode(body, h))
