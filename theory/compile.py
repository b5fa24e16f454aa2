"""sympy -> torch compiler.

``compile_exprs(exprs, symbols)`` turns a list of sympy expressions into a pure torch
function ``f(z)`` with z of shape (..., n) and output (..., len(exprs)), usable under
``torch.func`` transforms (vmap, jacfwd, jacrev, hessian).

It subclasses sympy's ``TorchPrinter`` where the stock printer is unsafe for autodiff:
- a sympy Matrix prints as ``torch.tensor([...])``, which builds a *new leaf* and silently
  drops gradients: vector outputs are instead stacked with ``torch.stack`` after
  broadcasting (constants become tensors shaped like the input);
- ``Max``/``Min`` print as ``torch.max(a, b)``, which fails when one side is a Python
  number: we emit ``torch.maximum``/``torch.minimum`` on tensors;
- ``Transpose`` prints as ``torch.transpose(J).t()`` (wrong arity) and ``Trace`` as
  ``torch.trace`` (2-D only): we emit batch-safe forms for matrix statements.

Unsupported functions raise :class:`UnsupportedFunctionError` naming the function.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import sympy as sp
import torch
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.pytorch import TorchPrinter

from theory.errors import InvalidArgument


class UnsupportedFunctionError(InvalidArgument):
    """A sympy expression uses a function with no torch translation (a ``SithError`` and,
    as before, a ``ValueError``)."""


# matrix statements, batch-safe: a template of the printed arguments per sympy class
_MATRIX_TEMPLATES = {
    "Transpose": ("torch.transpose({0}, -1, -2)", ("arg",)),
    "Trace": ("torch.diagonal({0}, dim1=-2, dim2=-1).sum(-1)", ("arg",)),
    "Determinant": ("torch.linalg.det({0})", ("arg",)),
    "Identity": ("_eye({0})", ("rows",)),
    "OneMatrix": ("_ones({0}, {1})", ("rows", "cols")),
    "ZeroMatrix": ("0.0 * _ones({0}, {1})", ("rows", "cols")),
}


class SympyTorchPrinter(TorchPrinter):
    """TorchPrinter made safe for autodiff and batching (see module docstring)."""

    def __init__(self, settings=None):
        super().__init__({"strict": True, **(settings or {})})

    def _print_Max(self, expr):
        return self._fold("torch.maximum", expr.args)

    def _print_Min(self, expr):
        return self._fold("torch.minimum", expr.args)

    def _fold(self, fn: str, args) -> str:
        out = f"_t({self._print(args[0])})"
        for arg in args[1:]:
            out = f"{fn}({out}, _t({self._print(arg)}))"
        return out

    def _print_matrix_statement(self, expr):
        # by the nearest class that has a template (a subclass prints as its base)
        name = next(c.__name__ for c in type(expr).__mro__ if c.__name__ in _MATRIX_TEMPLATES)
        template, fields = _MATRIX_TEMPLATES[name]
        return template.format(*(self._print(getattr(expr, f)) for f in fields))

    _print_Transpose = _print_Trace = _print_Determinant = _print_matrix_statement
    _print_Identity = _print_OneMatrix = _print_ZeroMatrix = _print_matrix_statement

    def _print_sign(self, expr):
        return f"torch.sign(_t({self._print(expr.args[0])}))"

    def _print_Heaviside(self, expr):
        arg = f"_t({self._print(expr.args[0])})"
        return f"torch.heaviside({arg}, torch.full_like({arg}, 0.5))"

    def _print_Exp1(self, expr):
        return repr(math.e)

    def _print_Pi(self, expr):
        return repr(math.pi)

    def _print_ImaginaryUnit(self, expr):
        raise UnsupportedFunctionError("complex numbers (I) are not supported")

    def _print_MatrixBase(self, expr):
        rows = ", ".join(
            f"torch.stack(torch.broadcast_tensors({', '.join(f'_t({self._print(e)})' for e in expr.row(i))}), -1)"
            for i in range(expr.rows)
        )
        return f"torch.stack(torch.broadcast_tensors({rows}), dim=-2)"

    _print_ImmutableDenseMatrix = _print_MatrixBase
    _print_MutableDenseMatrix = _print_MatrixBase


def _unsupported_function(exprs: Sequence[sp.Basic], printer: SympyTorchPrinter) -> str | None:
    """Name of the first function in ``exprs`` that the printer cannot translate."""
    known = set(getattr(printer, "known_functions", {}))
    for expr in exprs:
        for fn in sorted(expr.atoms(sp.Function), key=str):
            specific = itertools.takewhile(lambda c: c is not sp.Function, type(fn).__mro__)
            if not any(
                c.__name__ in known or hasattr(printer, f"_print_{c.__name__}") for c in specific
            ):
                return type(fn).__name__
    return None


def _fold_constants(expr: sp.Basic) -> sp.Basic:
    """Evaluate constant subexpressions like tanh(2) (torch functions reject numbers)."""
    return expr.replace(
        lambda e: e.is_number and not e.is_Atom and e.is_real is True,
        lambda e: sp.Float(e.evalf(17), 17),
    )


_counter = itertools.count()


def _namespace(like: torch.Tensor | None = None) -> dict:
    def as_tensor(x):
        return x if isinstance(x, torch.Tensor) else torch.tensor(float(x), dtype=torch.float64)

    def stack(items, z):
        """Stack outputs on a last axis, broadcasting constants to z's batch shape."""
        items = [as_tensor(x) for x in items]
        shaped = [x.dtype for x in items if x.ndim > 0]
        dtype = shaped[0] if shaped else z.dtype
        batch = z.shape[:-1]
        return torch.stack([torch.broadcast_to(x.to(dtype), batch) for x in items], dim=-1)

    return {
        "torch": torch,
        "_t": as_tensor,
        "_stack": stack,
        "_eye": lambda n: torch.eye(int(n), dtype=torch.float64),
        "_ones": lambda r, c: torch.ones(int(r), int(c), dtype=torch.float64),
    }


def to_source(exprs: Sequence[sp.Basic], args: Sequence[sp.Basic]) -> str:
    """Python source of a function ``_f(z)`` computing ``exprs`` from z[..., i] = args[i]."""
    printer = SympyTorchPrinter()
    bad = _unsupported_function(exprs, printer)
    if bad is not None:
        raise UnsupportedFunctionError(
            f"sympy function '{bad}' has no torch translation; rewrite the expression "
            f"without it (e.g. .rewrite(...)) or use a torch Mixing instead"
        )
    exprs = [_fold_constants(sp.sympify(e)) for e in exprs]
    names = [f"_x{i}" for i in range(len(args))]
    subs = dict(zip(args, [sp.Symbol(n, real=True) for n in names], strict=True))
    try:
        body = [printer.doprint(sp.sympify(e).xreplace(subs)) for e in exprs]
    except PrintMethodNotImplementedError as err:
        raise UnsupportedFunctionError(str(err).splitlines()[0]) from None
    lines = ["def _f(z):"]
    lines += [f"    {n} = z[..., {i}]" for i, n in enumerate(names)]
    lines.append(f"    return _stack([{', '.join(body)}], z)")
    return "\n".join(lines)


def compile_exprs(
    exprs: Sequence[sp.Basic], symbols: Sequence[sp.Symbol]
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Compile sympy expressions to a batched torch function of z (..., len(symbols))."""
    exprs = [sp.sympify(e) for e in exprs]
    free = set().union(*(e.free_symbols for e in exprs)) - set(symbols)
    if free:
        names = ", ".join(sorted(map(str, free)))
        raise InvalidArgument(f"expressions use symbols that are not inputs: {names}")
    source = to_source(exprs, symbols)
    namespace = _namespace()
    exec(compile(source, f"<sith-compiled-{next(_counter)}>", "exec"), namespace)
    fn = namespace["_f"]
    fn.__doc__ = f"Compiled from sympy: {[str(e) for e in exprs]}"
    return fn


def compile_matrix_statement(
    expr: sp.Basic, matrix: sp.MatrixSymbol
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Compile a (matrix- or scalar-valued) expression in a MatrixSymbol to torch.

    The result maps a single matrix (m, n) to the value of ``expr``; apply it under
    ``torch.vmap`` for batches. Used to evaluate assumption statements on Jacobians.
    """
    printer = SympyTorchPrinter()
    bad = _unsupported_function([expr], printer)
    if bad is not None:
        raise UnsupportedFunctionError(f"sympy function '{bad}' has no torch translation")
    try:
        body = printer.doprint(expr)
    except PrintMethodNotImplementedError as err:
        raise UnsupportedFunctionError(str(err).splitlines()[0]) from None
    source = f"def _f({matrix.name}):\n    return _t({body})"
    namespace = _namespace()
    exec(compile(source, f"<sith-statement-{next(_counter)}>", "exec"), namespace)
    return namespace["_f"]


__all__ = [
    "SympyTorchPrinter",
    "UnsupportedFunctionError",
    "compile_exprs",
    "compile_matrix_statement",
    "to_source",
]
