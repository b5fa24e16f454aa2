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
