import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from theory.compile import UnsupportedFunctionError, compile_exprs, compile_matrix_statement
from verification.jacobians import finite_difference_jacobian, jacobian

z1, z2, z3 = sp.symbols("z1 z2 z3", real=True)
SYMS = [z1, z2, z3]


def test_vector_output_keeps_gradients():
    f = compile_exprs([z1 * z2, sp.sin(z3)], SYMS)
    z = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    f(z).sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all()


def test_constants_max_min_piecewise():
    f = compile_exprs(
        [sp.Max(z1, 0) + sp.pi, sp.Min(z2, 1), sp.Piecewise((z1, z1 > 0), (z3**2, True)), 7], SYMS
    )
    z = torch.tensor([[-1.0, 2.0, 3.0], [2.0, -1.0, 0.5]], dtype=torch.float64)
    out = f(z)
    expected = torch.tensor(
        [[torch.pi, 1.0, 9.0, 7.0], [2 + torch.pi, -1.0, 2.0, 7.0]], dtype=torch.float64
    )
    torch.testing.assert_close(out, expected)


def test_dtype_follows_input():
    f = compile_exprs([z1 + 1, sp.Integer(2)], SYMS)
    assert f(torch.zeros(2, 3, dtype=torch.float32)).dtype == torch.float32


@pytest.mark.parametrize(
    "expr,name",
    [
        (sp.besselj(0, z1), "besselj"),
        (sp.Function("mystery")(z1), "mystery"),
        (sp.LambertW(z2), "LambertW"),
    ],
)
def test_unsupported_function_is_named(expr, name):
    with pytest.raises(UnsupportedFunctionError, match=name):
        compile_exprs([expr], SYMS)


def test_free_symbols_must_be_inputs():
    with pytest.raises(ValueError, match="not inputs: a"):
        compile_exprs([z1 + sp.Symbol("a")], SYMS)


def test_matrix_statement_batches_under_vmap():
    J = sp.MatrixSymbol("J", 3, 3)
    f = compile_matrix_statement(J.T * J - sp.Trace(J.T * J) / 3 * sp.Identity(3), J)
    q, _ = torch.linalg.qr(torch.randn(4, 3, 3, dtype=torch.float64))
    out = torch.vmap(f)(2.0 * q)
    assert out.shape == (4, 3, 3)
    assert out.abs().max() < 1e-12


_leaf = st.sampled_from([z1, z2, z3, sp.Integer(2), sp.Rational(1, 3)])
_unary = st.sampled_from([sp.sin, sp.cos, sp.tanh, sp.exp, lambda e: e**2, lambda e: e**3])
_binary = st.sampled_from([sp.Add, sp.Mul, lambda a, b: a - b])
_exprs = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.builds(lambda f, e: f(e), _unary, inner),
        st.builds(lambda f, a, b: f(a, b), _binary, inner, inner),
    ),
    max_leaves=6,
)


@given(st.lists(_exprs, min_size=1, max_size=3), st.integers(0, 2**16))
def test_autodiff_jacobian_equals_sympy_exact(exprs, seed):
    """Property: the compiled map's autodiff Jacobian equals sympy's exact Jacobian."""
    f = compile_exprs(exprs, SYMS)
    z = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * 0.7
    auto = jacobian(f, z)
    exact_entries = sp.Matrix(exprs).jacobian(SYMS)
    entry_fns = [sp.lambdify(SYMS, e, modules="math") for e in exact_entries]
    exact = torch.tensor(
        [[fn(*row.tolist()) for fn in entry_fns] for row in z], dtype=torch.float64
    ).reshape(auto.shape)
    torch.testing.assert_close(auto, exact, rtol=1e-9, atol=1e-9)
    fd = finite_difference_jacobian(f, z)
    torch.testing.assert_close(auto, fd, rtol=1e-4, atol=1e-4)
