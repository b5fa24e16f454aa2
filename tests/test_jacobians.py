import torch

import theory as th
from verification.jacobians import finite_difference_jacobian, hessian, jacobian


def test_forward_reverse_and_finite_differences_agree():
    g = th.mixings.InvertibleMLP(4, seed=0)
    z = torch.randn(64, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    fwd = jacobian(g, z, mode="forward")
    rev = jacobian(g, z, mode="reverse")
    per_sample = jacobian(g, z, batched=False)
    torch.testing.assert_close(fwd, rev)
    torch.testing.assert_close(fwd, per_sample)
    torch.testing.assert_close(fwd, finite_difference_jacobian(g, z), rtol=1e-5, atol=1e-6)


def test_chunking_gives_the_same_result():
    g = th.mixings.Mobius(3)
    z = torch.randn(50, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(jacobian(g, z), jacobian(g, z, chunk_size=7))
    torch.testing.assert_close(jacobian(g, z), jacobian(g, z, chunk_size=7, batched=False))


def test_non_square_jacobian_shape():
    g = th.mixings.Linear([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    J = jacobian(g, torch.zeros(5, 2))
    assert J.shape == (5, 3, 2) and J.dtype == torch.float64
    torch.testing.assert_close(J[0], torch.tensor(g.matrix, dtype=torch.float64))


def test_hessian_of_a_quadratic():
    A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    H = hessian(
        lambda z: z @ A @ z / 2, torch.randn(6, 2, generator=torch.Generator().manual_seed(2))
    )
    torch.testing.assert_close(H, A.expand(6, 2, 2))


def test_reverse_mode_wide_maps_constant_maps_and_no_grad():
    """Reverse mode (m backward passes): a wide map's exact Jacobian, a map that ignores
    its input, and a caller inside no_grad."""
    A = [[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]]  # 2 x 3: n >= m, reverse mode
    z = torch.randn(7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        J = jacobian(th.mixings.Linear(A), z)
    torch.testing.assert_close(J, torch.tensor(A, dtype=torch.float64).expand(7, 2, 3))
    zero = jacobian(lambda x: torch.ones(len(x), 2, dtype=x.dtype), z, batched=True)
    assert zero.shape == (7, 2, 3) and not zero.any()


def test_batched_reverse_mode_imports_no_dynamo():
    """torch.func.vjp imports torch._dynamo on first use (1-2 s a process); the engine's
    reverse mode does not, so a check or a pool worker does not pay for it."""
    import subprocess
    import sys

    code = (
        "import sys, torch, theory as th\n"
        "from verification.jacobians import jacobian\n"
        "jacobian(th.mixings.InvertibleMLP(3, seed=0), torch.zeros(4, 3))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_pinv_solve_matches_the_pseudo_inverse():
    """The collision search's Gauss-Newton step: A⁺ b without forming A⁺, on full-rank,
    rank-deficient and wide batches (a second method: torch.linalg.pinv)."""
    from verification.checks.injective import pinv_solve

    gen = torch.Generator().manual_seed(3)
    full = torch.randn(5, 4, 4, dtype=torch.float64, generator=gen)
    low = full.clone()
    low[:, :, 3] = low[:, :, 0] + low[:, :, 1]  # rank 3
    wide = torch.randn(5, 2, 4, dtype=torch.float64, generator=gen)
    for a in (full, low, wide):
        b = torch.randn(5, a.shape[1], dtype=torch.float64, generator=gen)
        expected = (torch.linalg.pinv(a) @ b.unsqueeze(-1)).squeeze(-1)
        torch.testing.assert_close(pinv_solve(a, b), expected)


def test_the_immersion_gradient_matches_autograd_through_the_svd():
    """∇ log σ_min/σ_max by dσ_k = u_kᵀ dJ v_k (one SVD and a double backward pass) equals
    autograd through a per-sample SVD, and finite differences, on a smooth mixing."""
    from torch.func import grad, jacfwd, vmap

    from verification.checks.injective import _log_ratio_grad, _log_ratios

    g = th.mixings.Mobius(3)
    z = 0.3 * torch.randn(16, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))

    def log_ratio(x):
        sv = torch.linalg.svdvals(jacfwd(g)(x))
        return torch.log(sv[-1]) - torch.log(sv[0])

    torch.testing.assert_close(_log_ratios(g, z), vmap(log_ratio)(z))
    expected = vmap(grad(log_ratio))(z)
    torch.testing.assert_close(_log_ratio_grad(g, z), expected)
    eps = 1e-6
    steps = eps * torch.eye(3, dtype=torch.float64)
    fd = torch.stack(
        [
            (_log_ratios(g, z + steps[k]) - _log_ratios(g, z - steps[k])) / (2 * eps)
            for k in range(3)
        ],
        -1,
    )
    torch.testing.assert_close(_log_ratio_grad(g, z), fd, rtol=1e-5, atol=1e-6)
    # a piecewise linear map: J is locally constant, the gradient is zero
    mlp = th.mixings.InvertibleMLP(3, seed=0)
    assert not _log_ratio_grad(mlp, z).any()
