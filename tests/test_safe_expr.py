"""theory._safe_expr.parse_srepr: round trips, a hostile corpus, and the whitelist.

A process file is data, never code: reading an expression from one must not run code,
hang or exhaust memory, and must give back exactly the expression that was saved.
"""

from __future__ import annotations

import operator
import threading
import time

import pytest
import sympy as sp
import torch
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from sympy.core.assumptions import _assume_defined
from sympy.functions.elementary.piecewise import ExprCondPair

from theory import _safe_expr
from theory._safe_expr import ASSUMPTIONS, ATOMS, CONSTANTS, FUNCTIONS, parse_srepr
from theory.compile import compile_exprs
from theory.errors import UnsafeInput

pytestmark = pytest.mark.timeout(60)  # every hostile input is refused fast

z1, z2, z3 = sp.symbols("z1 z2 z3", real=True)
w = sp.Symbol("w")  # no assumptions
p = sp.Symbol("p", positive=True)
d = sp.Dummy("d", real=True)
BIG = 10**59  # the largest integer literals allowed have 60 digits


def _assumptions(expr: sp.Basic) -> dict:
    return {(s.name, type(s).__name__): s.assumptions0 for s in expr.free_symbols}


def assert_round_trip(expr: sp.Basic) -> None:
    text = sp.srepr(expr)
    back = parse_srepr(text)
    assert back == expr, text
    assert sp.srepr(back) == text
    assert _assumptions(back) == _assumptions(expr)


# -------------------------------------------------------------------------- round trip

ROUND_TRIP = [
    z1**3,
    1 / z2,
    sp.sqrt(z1**2 + 1),
    z1 ** sp.Rational(2, 3) - z2 ** sp.Rational(-5, 2),
    2**z1 + z2**z3,
    z1 * z2 - 3 * z3,
    sp.Rational(-7, 3) * z1 + sp.Rational(1, 2),
    -5 * z1 - 12,
    sp.Integer(-123456789012345678901234567890) * z2 + sp.Integer(BIG),
    sp.Float("1.234567890123456789012345678901", 32) * z1,
    sp.Float("-2.5e-7") * z2 + sp.Float("6.02214076e23"),
    sp.Float("1e299") * z3,
    sp.pi * z1 + sp.E,
    sp.EulerGamma * z1 + sp.Catalan - sp.GoldenRatio * z2,
    sp.sqrt(2) * z1 + sp.sqrt(3) / 2,
    w**2 + p,
    d + z1,
    sp.exp(-(z1**2) / 2) / sp.sqrt(2 * sp.pi),
    sp.log(p) + sp.log(1 + sp.exp(z1)),
    sp.sin(z1) + sp.cos(z2) * sp.tan(z3),
    sp.asin(z1) + sp.acos(z2) + sp.atan(z3),
    sp.atan2(z1, z2 - 3),
    sp.sinh(z1) + sp.cosh(z2) + sp.tanh(z1 + 2 * z2),
    sp.asinh(z1) + sp.acosh(z2**2 + 1) + sp.atanh(z3 / 2),
    sp.Abs(z1) * sp.sign(z2) + sp.Heaviside(z3) + sp.Heaviside(z1, 0),
    sp.Max(z1, z2, 0) + sp.Min(z1, 1),
    sp.erf(z1) + sp.floor(z2) + sp.ceiling(z3) + sp.Mod(z1, 2) + sp.loggamma(z2**2 + 1),
    sp.Piecewise((z1, z1 > 0), (0, True)),
    sp.Piecewise(
        (z1, sp.And(z1 > 0, z2 < 1)),
        (z2, sp.Or(z1 >= 2, sp.Eq(z3, 1))),
        (-z1, sp.Ne(z2, 0)),
        (z3, z1 <= -1),
        (0, True),
    ),
    sp.Piecewise((z1**2, sp.Not(sp.And(z1 > 0, z2 > 1))), (sp.sin(z2), True)),
    sp.Max(sp.Piecewise((z1, z1 > z2), (z2, True)), sp.exp(z3)) * sp.sqrt(sp.Abs(z1) + 1),
]


@pytest.mark.parametrize("expr", ROUND_TRIP, ids=[str(e)[:50] for e in ROUND_TRIP])
def test_round_trip(expr):
    assert_round_trip(expr)


def test_round_trip_keeps_symbol_assumptions():
    plain, real = sp.Symbol("x"), sp.Symbol("x", real=True)
    assert parse_srepr(sp.srepr(plain)) is plain
    assert parse_srepr(sp.srepr(real)) is real
    assert parse_srepr(sp.srepr(plain + real)) == plain + real
    assert parse_srepr(sp.srepr(p)).is_positive


_SYMBOLS = st.sampled_from([z1, z2, z3])
_CONSTANTS = st.sampled_from(
    [
        sp.Integer(2),
        sp.Integer(-7),
        sp.Rational(-3, 4),
        sp.Float("0.125"),
        sp.Float("-1.5e-3"),
        sp.pi,
    ]
)
_UNARY = [
    sp.exp,
    sp.log,
    sp.sin,
    sp.cos,
    sp.tanh,
    sp.atan,
    sp.asinh,
    sp.Abs,
    sp.sign,
    sp.erf,
    sp.sqrt,
    sp.Heaviside,
]


def _ordered(build):
    """``build`` for the constructors that order their arguments (Max, ``a > b``):
    sympy refuses to order a non-real constant (``zoo`` from ``(z - z)**-1``, ``nan``,
    ``I``) with a TypeError or ValueError, so such a draw is no expression: reject it
    and draw another, whatever the random seed or hypothesis profile."""

    def make(*args):
        try:
            return build(*args)
        except (TypeError, ValueError):
            reject()

    return make


def _extend(children):
    return st.one_of(
        st.builds(lambda f, a: f(a), st.sampled_from(_UNARY), children),
        st.builds(operator.add, children, children),
        st.builds(operator.mul, children, children),
        st.builds(operator.mul, _CONSTANTS, children),
        st.builds(operator.pow, children, st.sampled_from([-1, 2, 3, sp.Rational(1, 2)])),
        st.builds(_ordered(sp.Max), children, children),
        st.builds(sp.atan2, children, children),
        st.builds(_ordered(lambda a, b: sp.Piecewise((a, a > b), (b, True))), children, children),
        st.builds(
            _ordered(
                lambda a, b, c: sp.Piecewise(
                    (a, sp.And(b > 0, c <= 1)), (c, sp.Or(a < b, b > c)), (0, True)
                )
            ),
            children,
            children,
            children,
        ),
    )


_EXPRESSIONS = st.recursive(
    _SYMBOLS | st.builds(operator.add, _SYMBOLS, _CONSTANTS), _extend, max_leaves=10
)


def _has_huge_constant(expr: sp.Basic) -> bool:
    """Whether a symbol-free subexpression is beyond the loader's 1e300 magnitude cap."""
    for sub in sp.postorder_traversal(expr):
        if isinstance(sub, sp.Expr) and sub.is_number and not sub.is_Rational:
            value = sub.evalf(15)
            if not value.is_Number or abs(value) > 1e300:
                return True
    return False


@settings(max_examples=40, deadline=None)
@given(_EXPRESSIONS)
def test_round_trip_random_expressions(expr):
    text = sp.srepr(expr)
    if not isinstance(expr, sp.Expr) or expr.has(sp.I, sp.nan, sp.zoo, sp.oo, -sp.oo):
        with pytest.raises(UnsafeInput):
            parse_srepr(text, time_limit=30)
        return
    try:
        back = parse_srepr(text, time_limit=30)
    except UnsafeInput as err:
        # the one refusal this grammar can earn: a constant like exp(exp(exp(exp(1))))
        assert "magnitude" in str(err) and _has_huge_constant(expr), str(err)
        return
    assert back == expr, text
    assert sp.srepr(back) == text


@settings(max_examples=60, deadline=None, database=None)
@given(_extend(st.sampled_from([sp.zoo, sp.nan, sp.I, z1, z2])))
def test_the_expression_strategy_never_raises_on_non_real_constants(expr):
    # drawing Max(z1, zoo) or Piecewise((z1, z1 > zoo), ...) must not fail the draw (it
    # did outside the ci profile): the strategy rejects what sympy cannot build
    assert isinstance(expr, sp.Basic)


# ---------------------------------------------------------------------- hostile corpus

_X = "Symbol('x')"
_POSITIVE_X = "Symbol('x', positive=True)"
_COMMAND = '__import__("os").system("touch MARKER")'

HOSTILE = [
    # (id, text, words the one-line message must contain)
    ("sympify", f"sympify('{_COMMAND}')", "'sympify'"),
    ("S", f"S('{_COMMAND}')", "'S'"),
    ("parse_expr", f"parse_expr('{_COMMAND}')", "'parse_expr'"),
    ("sympify-nested", f"Add({_X}, sympify('{_COMMAND}'))", "'sympify'"),
    ("dunder-import", "__import__('os')", "'__import__'"),
    ("eval", "eval('1')", "'eval'"),
    ("exec", "exec('1')", "'exec'"),
    ("getattr", "getattr(Integer(1), '__class__')", "'getattr'"),
    ("attribute", f"{_X}.__class__", "attribute access '.__class__'"),
    ("attribute-of-call", "Integer(1).__class__", "attribute"),
    ("attribute-of-name", "Symbol.__init__", "attribute access '.__init__'"),
    ("subscript", f"Add({_X}, {_X}).args[0]", "subscript"),
    ("lambda", "lambda: 0", "lambda"),
    ("comprehension", "[x for x in ()]", "comprehension"),
    ("generator", f"Add(*(x for x in [{_X}]))", "starred"),
    ("walrus", "(y := 1)", "assignment expression"),
    ("f-string", 'f"{1}"', "f-string"),
    ("binop-power", "Integer(10)**Integer(10)", "operator"),
    ("binop-add", f"{_X} + Integer(1)", "operator"),
    ("conditional", f"{_X} if True else Integer(0)", "IfExp"),
    ("starred", f"Add(*[{_X}])", "starred"),
    ("double-star", "Symbol('x', **{'real': True})", "**keyword"),
    ("evaluate-keyword", f"Add({_X}, Integer(1), evaluate=False)", "keyword argument 'evaluate'"),
    ("call-of-call", f"Function('f')({_X})", "calling the result"),
    ("call-of-integer", "Integer(1)(Integer(2))", "calling the result"),
    ("function", "Function('f')", "'Function'"),
    ("power-tower", "Pow(Integer(10), Pow(Integer(10), Integer(10)))", "power 10**(10000000000)"),
    ("power-of-half", f"Pow(Rational(1, 2), Integer(-{BIG}))", "too large to evaluate"),
    ("power-rational-exponent", f"Pow(Integer(2), Rational({BIG}, 3))", "too large"),
    ("power-via-exp-log", f"exp(Mul(Integer({BIG}), log(Integer(2))))", "too large to evaluate"),
    ("power-via-exp-add", f"exp(Add({_X}, Mul(Integer(-{BIG}), log(Integer(3)))))", "too large"),
    (
        "power-via-nested-pow",
        f"Pow(Pow(Integer(2), Mul(Integer({BIG}), {_POSITIVE_X})), Pow({_POSITIVE_X}, Integer(-1)))",
        "too large",
    ),
    ("power-of-coefficient", f"Pow(Mul(Integer(3), {_X}), Integer({BIG}))", "too large"),
    ("factorial", "factorial(Integer(1000000))", "'factorial'"),
    ("gamma", "gamma(Integer(1000000))", "'gamma'"),
    ("loggamma-factorial", "loggamma(Integer(1000000000))", "loggamma"),
    ("sin-of-huge", f"sign(sin(exp(Integer({BIG}))))", "magnitude"),
    ("floor-of-huge", "floor(exp(Integer(1000000)))", "magnitude"),
    ("mod-of-huge", f"Mod(Pow(pi, Integer({BIG})), Integer(3))", "magnitude"),
    (
        "compare-huge",
        f"StrictGreaterThan(sin(Pow(Float('1e300'), Integer({BIG}))), Integer(0))",
        "magnitude",
    ),
    ("integer-200-digits", f"Integer({'9' * 200})", "200 digits exceeds the limit of 60"),
    ("integer-5000-digits", f"Integer({'9' * 5000})", "5000 digits"),
    ("negative-integer-100-digits", f"Integer(-{'9' * 100})", "100 digits"),
    ("hex-integer", f"Integer(0x{'f' * 60})", "digits exceeds"),
    ("huge-mul", "Mul(" + ", ".join([f"Integer({'9' * 60})"] * 200) + ")", "bits"),
    (
        "huge-add-of-fractions",
        "Add(" + ", ".join(f"Rational(1, {q})" for q in range(10**9, 10**9 + 1200)) + ")",
        "bits",
    ),
    ("float-1e400", "Float('1e400')", "magnitude"),
    ("float-nan", "Float('nan')", "not a finite decimal"),
    ("float-inf", "Float('inf')", "not a finite decimal"),
    ("float-huge-exponent", "Float('1e-99999999')", "not a finite decimal"),
    ("float-number-argument", "Float(1.5)", "string literal"),
    ("float-precision", "Float('1.5', precision=1000000)", "precision"),
    ("bare-float", f"Mul(1.5, {_X})", "bare number"),
    ("symbol-dunder", "Symbol('__class__')", "invalid symbol name"),
    ("symbol-space", "Symbol('x y')", "invalid symbol name 'x y'"),
    ("symbol-code", f"Symbol('{_COMMAND}')", "invalid symbol name"),
    ("symbol-too-long", f"Symbol('{'x' * 100}')", "invalid symbol name"),
    ("symbol-number", "Symbol(123)", "string literal"),
    ("symbol-assumption-symbol", "Symbol('x', real=Symbol('y'))", "must be True or False"),
    ("symbol-assumption-unknown", "Symbol('x', evil=True)", "unknown symbol assumption 'evil'"),
    ("symbol-inconsistent", "Symbol('x', positive=True, negative=True)", "sympy refused Symbol"),
    (
        "string-elsewhere",
        "Add('x', Integer(1))",
        "string arguments are allowed only as symbol names",
    ),
    ("rational-string", "Rational('1/2')", "string arguments are allowed only as symbol names"),
    ("rational-zero", "Rational(1, 0)", "zero denominator"),
    ("integer-bool", "Integer(True)", "integer literal"),
    ("oo", "oo", "'oo'"),
    ("zoo", "zoo", "'zoo'"),
    ("nan", "nan", "'nan'"),
    ("I", f"Mul(I, {_X})", "'I'"),
    ("sqrt-minus-one", "Pow(Integer(-1), Rational(1, 2))", "evaluates to I"),
    ("log-zero", "log(Integer(0))", "evaluates to zoo"),
    ("complex-constant", "Pow(Integer(-8), Rational(1, 3))", "not a finite real number"),
    ("matrix", "Matrix([[Integer(1)]])", "'Matrix'"),
    ("lambda-class", f"Lambda({_X}, {_X})", "'Lambda'"),
    ("integral", f"Integral({_X}, {_X})", "'Integral'"),
    ("sum", "Sum(Symbol('k'), Tuple(Symbol('k'), Integer(1), Integer(10)))", "'Sum'"),
    ("subs", f"Subs({_X}, {_X}, Integer(1))", "'Subs'"),
    ("tuple", f"({_X}, {_X})", "tuple literals"),
    ("list", f"[{_X}]", "list literals"),
    ("constant-called", "pi(Integer(1))", "cannot be called"),
    ("function-uncalled", "sin", "must be called"),
    (
        "max-too-many",
        "Max(" + ", ".join(f"Symbol('x{i}')" for i in range(40)) + ")",
        "exceeds the limit of 16",
    ),
    (
        "max-nested-too-many",
        "Max("
        + ", ".join(
            "Max(" + ", ".join(f"Symbol('x{i}{j}')" for j in range(6)) + ")" for i in range(4)
        )
        + ")",
        "24 arguments",
    ),
    (
        "piecewise-not-boolean",
        f"Piecewise(ExprCondPair({_X}, Add({_X}, Integer(1))))",
        "sympy refused",
    ),
    ("piecewise-bad-pair", f"Piecewise({_X})", "sympy refused Piecewise"),
    ("wrong-arity", f"sin({_X}, {_X})", "sympy refused sin"),
    (
        "boolean-result",
        f"StrictGreaterThan({_X}, Integer(0))",
        "not a sympy srepr of an expression",
    ),
    ("deep-nesting", "Add(" * 5000 + ")" * 5000, "nesting exceeds the limit of 100"),
    ("deep-unary", "-" * 99_000 + "Integer(1)", "not a sympy srepr"),
    ("binop-chain", "+".join([_X] * 200), "operator"),
    ("deep-binop-chain", "+".join([_X] * 8000), "not a sympy srepr"),
    ("deep-attribute-chain", "x" + ".y" * 49_000, "not a sympy srepr"),
    ("deep-call-chain", "f" + "()" * 49_000, "not a sympy srepr"),
    ("deep-not-chain", "not " * 24_000 + "x", "not a sympy srepr"),
    ("long-text", "x" * 200_000, "200000 characters"),
    ("many-nodes", "Add(" + ",".join(["pi"] * 20_001) + ")", "more than 20000 syntax nodes"),
    ("empty", "", "not a sympy srepr"),
    ("blank", "   \n  ", "not a sympy srepr"),
    ("bare-number", "1", "bare number 1"),
    ("statement", f"{_X}; {_X}", "not a sympy srepr"),
    ("null-byte", f"{_X}\x00", "not a sympy srepr"),
    ("unbalanced", "Add(Symbol('x')", "not a sympy srepr"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_input_is_refused(text, expected, tmp_path):
    marker = tmp_path / "MARKER"
    text = text.replace("MARKER", str(marker))
    start = time.perf_counter()
    with pytest.raises(UnsafeInput) as info:
        parse_srepr(text)
    elapsed = time.perf_counter() - start
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    assert not marker.exists()
    assert getattr(_safe_expr._GUARD, "reader", None) is None


def test_hostile_corpus_is_large():
    assert len(HOSTILE) >= 30
    assert len({h[0] for h in HOSTILE}) == len(HOSTILE)


def test_refusals_are_unsafe_input_and_value_error():
    with pytest.raises(ValueError):
        parse_srepr("sympify('1')")


def test_non_string_is_refused():
    with pytest.raises(UnsafeInput, match="expected a string"):
        parse_srepr(b"Symbol('x')")  # type: ignore[arg-type]


def test_time_limit_is_enforced():
    chain = "Integer(1)"
    for _ in range(90):
        chain = f"sin({chain})"
    with pytest.raises(UnsafeInput, match=r"parsing took longer than 0\.01 s"):
        parse_srepr(chain, time_limit=0.01)


def test_power_guard_only_acts_while_reading():
    with pytest.raises(UnsafeInput):
        parse_srepr(f"exp(Mul(Integer({BIG}), log(Integer(2))))")
    # outside parse_srepr sympy computes big powers as usual
    assert sp.Integer(2) ** 30_000 == sp.Integer(2**30_000)
    assert sp.Rational(1, 3) ** 20_000 == sp.Rational(1, 3**20_000)
    # and in another thread while a parse is under way
    results = []

    def other_thread():
        results.append(sp.Integer(3) ** 25_000 == sp.Integer(3**25_000))

    _safe_expr._GUARD.reader = object()  # pretend this thread is reading
    try:
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    finally:
        _safe_expr._GUARD.reader = None
    assert results == [True]


# ------------------------------------------------------------------------- whitelist

# One small expression per whitelisted function; srepr must print the name.
WHITELIST_EXAMPLES = {
    "Add": z1 + 1,
    "Mul": 2 * z1,
    "Pow": z1**3,
    "exp": sp.exp(z1),
    "log": sp.log(z1**2 + 1),
    "sin": sp.sin(z1),
    "cos": sp.cos(z1),
    "tan": sp.tan(z1),
    "asin": sp.asin(z1 / 2),
    "acos": sp.acos(z1 / 2),
    "atan": sp.atan(z1),
    "atan2": sp.atan2(z1, z1 - 3),
    "sinh": sp.sinh(z1),
    "cosh": sp.cosh(z1),
    "tanh": sp.tanh(z1),
    "asinh": sp.asinh(z1),
    "acosh": sp.acosh(z1**2 + 1),
    "atanh": sp.atanh(z1 / 2),
    "Abs": sp.Abs(z1),
    "sign": sp.sign(z1),
    "Heaviside": sp.Heaviside(z1),
    "Max": sp.Max(z1, 0),
    "Min": sp.Min(z1, 1),
    "erf": sp.erf(z1),
    "floor": sp.floor(z1),
    "ceiling": sp.ceiling(z1),
    "Mod": sp.Mod(z1, 2),
    "loggamma": sp.loggamma(z1**2 + 1),
    "Piecewise": sp.Piecewise((z1, z1 > 0), (0, True)),
    "ExprCondPair": sp.Piecewise((z1, z1 > 0), (0, True)),
    "StrictLessThan": sp.Piecewise((z1, z1 < 0), (0, True)),
    "LessThan": sp.Piecewise((z1, z1 <= 0), (0, True)),
    "StrictGreaterThan": sp.Piecewise((z1, z1 > 0), (0, True)),
    "GreaterThan": sp.Piecewise((z1, z1 >= 0), (0, True)),
    "Equality": sp.Piecewise((z1, sp.Eq(z1, 1)), (0, True)),
    "Unequality": sp.Piecewise((z1, sp.Ne(z1, 1)), (0, True)),
    "And": sp.Piecewise((z1, sp.And(z1 > 0, z1 < 1)), (0, True)),
    "Or": sp.Piecewise((z1, sp.Or(z1 < 0, z1 > 1)), (0, True)),
    "Not": sp.Piecewise((z1, sp.Not(sp.And(z1 > 0, z1 < 1))), (0, True)),
    "ITE": sp.Piecewise((z1, sp.ITE(z1 > 0, z1 < 1, z1 < -1)), (0, True)),
    "Symbol": z1,
    "Integer": z1 + 3,
    "Rational": z1 / 3,
    "Float": sp.Float("0.25") * z1,
}
CONSTANT_EXAMPLES = {
    "pi": sp.pi * z1,
    "E": sp.E * z1,
    "EulerGamma": sp.EulerGamma + z1,
    "Catalan": sp.Catalan + z1,
    "GoldenRatio": sp.GoldenRatio * z1,
    "true": sp.Piecewise((z1, z1 > 0), (0, True)),
}


def test_whitelist_is_what_was_specified():
    assert set(FUNCTIONS) | set(ATOMS) == set(WHITELIST_EXAMPLES) | {"Dummy"}
    assert set(CONSTANTS) == set(CONSTANT_EXAMPLES) | {"false"}
    assert frozenset(_assume_defined) == ASSUMPTIONS
    for name in ("sympify", "S", "parse_expr", "Function", "factorial", "gamma", "I", "oo"):
        assert name not in FUNCTIONS and name not in ATOMS and name not in CONSTANTS


@pytest.mark.parametrize("name", sorted({**FUNCTIONS, **ATOMS}))
def test_whitelisted_name_is_the_sympy_class_srepr_prints(name):
    cls = {**FUNCTIONS, **ATOMS}[name]
    assert isinstance(cls, type) and issubclass(cls, sp.Basic)
    assert cls.__name__ == name
    assert getattr(sp, name, ExprCondPair) is cls


@pytest.mark.parametrize("name", sorted(WHITELIST_EXAMPLES))
def test_whitelisted_function_round_trips_and_compiles(name):
    expr = WHITELIST_EXAMPLES[name]
    text = sp.srepr(expr)
    assert f"{name}(" in text
    assert_round_trip(expr)
    fn = compile_exprs([parse_srepr(text)], [z1])
    out = fn(torch.tensor([[0.25], [0.5]], dtype=torch.float64))
    assert out.shape == (2, 1)


@pytest.mark.parametrize("name", sorted(CONSTANT_EXAMPLES))
def test_whitelisted_constant_round_trips_and_compiles(name):
    expr = CONSTANT_EXAMPLES[name]
    text = sp.srepr(expr)
    assert name in text
    back = parse_srepr(text)
    assert back == expr
    compile_exprs([back], [z1])(torch.tensor([[0.25]], dtype=torch.float64))


def test_false_is_read():
    text = "Piecewise(ExprCondPair(Symbol('z1', real=True), false), ExprCondPair(Integer(0), true))"
    assert parse_srepr(text) == 0


def test_dummy_round_trips_and_compiles():
    text = sp.srepr(d * 2)
    assert "Dummy(" in text
    back = parse_srepr(text)
    assert back == d * 2
    assert compile_exprs([back], [d])(torch.tensor([[1.5]], dtype=torch.float64)).item() == 3.0
