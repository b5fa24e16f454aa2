"""Rebuild a sympy expression from its ``srepr`` text without running code.

Process files are shared between researchers and store user expressions as
``sympy.srepr`` strings. A shared file is *data, never code*: loading one must not be
able to run a program, and must not hang or exhaust memory either. ``eval`` (even with a
whitelist of names) fails both tests: sympy itself exposes ``sympify``, ``S`` and
``parse_expr``, which turn a string argument back into code, and numbers such as
``Pow(Integer(10), Pow(Integer(10), Integer(10)))`` never finish evaluating.

:func:`parse_srepr` therefore parses the text with :func:`ast.parse` (syntax only, no code
object is made) and walks the tree over a fixed set of constructors, calling the real
sympy classes bottom-up. Nothing is ever looked up by a name taken from the text: every
accepted name maps to a sympy class through the literal dictionaries below.

What is accepted
----------------
- ``Symbol('z1', real=True, ...)`` and ``Dummy('z', dummy_index=3, ...)``: the name is a
  string literal matching ``[A-Za-z][A-Za-z0-9_]{0,63}``; keywords are sympy's
  assumption names with a literal ``True``/``False`` (plus an integer ``dummy_index``).
- ``Integer(n)``, ``Rational(p, q)`` with integer literals (a leading minus allowed),
  ``Float('1.25', precision=53)`` with a decimal string literal and an integer precision.
- The functions the torch compiler (:mod:`theory.compile`) translates, as positional
  calls: ``Add Mul Pow exp log sin cos tan asin acos atan atan2 sinh cosh tanh asinh
  acosh atanh Abs sign Heaviside Max Min erf floor ceiling Mod loggamma``, and the
  structure of piecewise functions: ``Piecewise ExprCondPair StrictLessThan LessThan
  StrictGreaterThan GreaterThan Equality Unequality And Or Not ITE``.
- The bare constants srepr prints: ``pi E EulerGamma Catalan GoldenRatio true false``.

Everything else is refused with :class:`theory.errors.UnsafeInput` naming the construct:
other names (``sympify``, ``S``, ``Function``, ``oo``, ``I``, ...), attributes,
subscripts, operators, lambdas, comprehensions, f-strings, starred or ``**`` arguments,
calls of calls (``Function('f')(x)``), strings anywhere but the two places above, bare
numbers, and results that are complex, infinite or undefined (the compiler emits real
torch code).

Caps (and why)
--------------
- text at most ``MAX_TEXT_CHARS`` (100 000) characters, checked before parsing;
- bracket nesting at most ``MAX_DEPTH`` (100), checked by a linear scan before
  :func:`ast.parse` (deeply nested input crashes the parser);
- at most ``MAX_NODES`` (20 000) syntax nodes;
- integer literals at most ``MAX_INT_DIGITS`` (60) digits; Float strings at most
  ``MAX_FLOAT_CHARS`` characters, finite, magnitude at most 1e300, precision at most
  ``MAX_FLOAT_PRECISION`` bits;
- exact numbers at most ``MAX_NUMBER_BITS`` (20 000) bits: a power ``b**e`` of a rational
  ``b`` is refused before it is computed when its size (bits of ``b`` times ``|e|``) is
  above the cap, and so are ``Add``/``Mul`` whose rational part would be. sympy also
  builds such powers by itself (``exp(n*log(2))`` is ``2**n``, ``(2**(n*x))**(1/x)`` is
  ``2**n``), so while a text is read, sympy's ``Integer``/``Rational`` ``_eval_power``
  are wrapped by a guard that applies the same estimate; the guard is a no-op outside
  :func:`parse_srepr` and in other threads (it lives in :mod:`theory._power_guard`);
- every constant sub-expression (no free symbols) must evaluate to a finite real number of
  magnitude at most 1e300: sympy evaluates ``sin``, ``floor``, comparisons, ... of huge
  constants such as ``exp(10**59)`` with a working precision proportional to their size,
  which never finishes;
- ``loggamma`` of a rational above 1000 is refused (sympy evaluates it as a factorial);
  ``Max``/``Min`` take at most 16 arguments, ``And``/``Or``/``Piecewise`` at most 32
  (after flattening): sympy compares their arguments pairwise;
- a wall-clock deadline (``time_limit`` seconds, default 2) checked at every node built.
"""

from __future__ import annotations

import ast
import math
import re
import time

import mpmath
import sympy as sp
from sympy.core.cache import clear_cache
from sympy.functions.elementary.piecewise import ExprCondPair

from theory._power_guard import (
    _GUARD,
    MAX_NUMBER_BITS,
    _bits,
    _install_power_guard,
    _power_refusal,
    _Refusal,
    _short,
)
from theory.errors import InvalidArgument, UnsafeInput

MAX_TEXT_CHARS = 100_000
MAX_DEPTH = 100
MAX_NODES = 20_000
MAX_INT_DIGITS = 60
MAX_FLOAT_CHARS = 400
MAX_FLOAT_MAGNITUDE = 1e300
MAX_FLOAT_PRECISION = 4096
MAX_LOGGAMMA_ARG = 1000
MAX_DUMMY_INDEX = 10**18

# The functions and structure that srepr prints for expressions the torch compiler
# (theory/compile.py) translates. An explicit literal: no name from the text is ever
# looked up anywhere else.
FUNCTIONS: dict[str, type] = {
    "Add": sp.Add,
    "Mul": sp.Mul,
    "Pow": sp.Pow,
    "exp": sp.exp,
    "log": sp.log,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "atan2": sp.atan2,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "asinh": sp.asinh,
    "acosh": sp.acosh,
    "atanh": sp.atanh,
    "Abs": sp.Abs,
    "sign": sp.sign,
    "Heaviside": sp.Heaviside,
    "Max": sp.Max,
    "Min": sp.Min,
    "erf": sp.erf,
    "floor": sp.floor,
    "ceiling": sp.ceiling,
    "Mod": sp.Mod,
    "loggamma": sp.loggamma,
    "Piecewise": sp.Piecewise,
    "ExprCondPair": ExprCondPair,
    "StrictLessThan": sp.StrictLessThan,
    "LessThan": sp.LessThan,
    "StrictGreaterThan": sp.StrictGreaterThan,
    "GreaterThan": sp.GreaterThan,
    "Equality": sp.Equality,
    "Unequality": sp.Unequality,
    "And": sp.And,
    "Or": sp.Or,
    "Not": sp.Not,
    "ITE": sp.ITE,  # sympy writes some nested Piecewise conditions as ITE
}

# Atoms and numbers, handled by dedicated readers (keywords and literal arguments).
ATOMS: dict[str, type] = {
    "Symbol": sp.Symbol,
    "Dummy": sp.Dummy,
    "Integer": sp.Integer,
    "Rational": sp.Rational,
    "Float": sp.Float,
}

# Singletons srepr prints as bare names.
CONSTANTS: dict[str, sp.Basic] = {
    "pi": sp.pi,
    "E": sp.E,
    "EulerGamma": sp.EulerGamma,
    "Catalan": sp.Catalan,
    "GoldenRatio": sp.GoldenRatio,
    "true": sp.true,
    "false": sp.false,
}

# sympy's assumption names (sympy.core.assumptions._assume_defined), spelled out.
ASSUMPTIONS: frozenset[str] = frozenset(
    {
        "algebraic",
        "antihermitian",
        "commutative",
        "complex",
        "composite",
        "even",
        "extended_negative",
        "extended_nonnegative",
        "extended_nonpositive",
        "extended_nonzero",
        "extended_positive",
        "extended_real",
        "finite",
        "hermitian",
        "imaginary",
        "infinite",
        "integer",
        "irrational",
        "negative",
        "noninteger",
        "nonnegative",
        "nonpositive",
        "nonzero",
        "odd",
        "polar",
        "positive",
        "prime",
        "rational",
        "real",
        "transcendental",
        "zero",
    }
)

# Functions whose arguments sympy compares pairwise: cap on the flattened count.
MAX_ARGS: dict[str, int] = {"Max": 16, "Min": 16, "And": 32, "Or": 32, "Piecewise": 32}

_NOT_REAL_NAMES = frozenset(
    {"oo", "zoo", "nan", "I", "Infinity", "NegativeInfinity", "ComplexInfinity", "NaN"}
)
_NOT_REAL = (sp.I, sp.nan, sp.zoo, sp.oo, -sp.oo)
_SYMBOL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_FLOAT_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")
# a run of digits outside string literals (not after a quote, letter, dot or sign)
_LONG_INTEGER = re.compile(rf"(?<![\w.'\"+-])-?\d{{{MAX_INT_DIGITS + 1},}}")
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")


def parse_srepr(text: str, *, time_limit: float = 2.0) -> sp.Expr:
    """Rebuild the expression ``sympy.srepr`` printed as ``text``, running no code.

    See the module docstring for what is accepted, the caps and why. Raises
    :class:`~theory.errors.UnsafeInput` (one line naming the offending construct) for
    anything else, including malformed text ("not a sympy srepr: ...") and input that
    would take more than ``time_limit`` seconds or too much memory to build.
    """
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)):
        raise InvalidArgument(f"time_limit must be a number of seconds, got {time_limit!r}")
    if not (math.isfinite(time_limit) and time_limit > 0):
        raise InvalidArgument(f"time_limit must be positive and finite, got {time_limit!r}")
    if not isinstance(text, str):
        raise UnsafeInput(f"not a sympy srepr: expected a string, got {type(text).__name__}")
    reader = _Reader(time_limit)
    tree = _parse(text)
    _install_power_guard()
    previous = getattr(_GUARD, "reader", None)
    _GUARD.reader = reader
    try:
        expr = reader.build(tree.body, 0)
    except _Refusal as refusal:
        # sympy may have been interrupted half-way through caching assumptions of objects
        # it built for this text; drop its caches so that nothing half-built is reused.
        clear_cache()
        raise UnsafeInput(str(refusal.args[0])) from None
    except (RecursionError, MemoryError) as err:
        raise UnsafeInput(f"expression is too large to build ({type(err).__name__})") from None
    finally:
        _GUARD.reader = previous
    if not isinstance(expr, sp.Expr):
        raise UnsafeInput(f"not a sympy srepr of an expression: it builds a {type(expr).__name__}")
    try:
        bad = [str(c) for c in _NOT_REAL if expr.has(c)]
    except (RecursionError, MemoryError) as err:
        raise UnsafeInput(f"expression is too large to check ({type(err).__name__})") from None
    if bad:
        raise UnsafeInput(
            f"expression contains {', '.join(bad)}: complex, infinite and undefined values "
            "have no real torch translation"
        )
    return expr


# --------------------------------------------------------------------------- parsing


def _parse(text: str) -> ast.Expression:
    """Size checks, then :func:`ast.parse` (syntax only); mapped errors."""
    if len(text) > MAX_TEXT_CHARS:
        raise UnsafeInput(
            f"expression text has {len(text)} characters, above the limit of {MAX_TEXT_CHARS}"
        )
    depth = 0
    for char in text:
        if char in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise UnsafeInput(f"expression nesting exceeds the limit of {MAX_DEPTH} levels")
        elif char in _CLOSE:
            depth -= 1
    long_integer = _LONG_INTEGER.search(text)
    if long_integer is not None:
        raise UnsafeInput(_digits_message(len(long_integer.group().lstrip("-"))))
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        where = f" (column {err.offset})" if err.offset else ""
        raise UnsafeInput(f"not a sympy srepr: {err.msg}{where}") from None
    except (RecursionError, MemoryError) as err:
        # CPython's parser gives up on deep operator chains (x.y.y.y..., - - - x, ...)
        raise UnsafeInput(
            f"not a sympy srepr: nested too deeply to parse ({type(err).__name__})"
        ) from None
    except (ValueError, OverflowError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise UnsafeInput(f"not a sympy srepr: {_short(reason, 120)}") from None
    count = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.expr_context):
            count += 1
            if count > MAX_NODES:
                raise UnsafeInput(f"expression has more than {MAX_NODES} syntax nodes")
    return tree


def _digits_message(digits: int) -> str:
    return f"integer literal with {digits} digits exceeds the limit of {MAX_INT_DIGITS} digits"


def _describe(node: ast.AST) -> str:
    """One line saying why a syntax node is refused."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            return "string arguments are allowed only as symbol names (and Float digits)"
        if isinstance(value, (bool, int, float, complex)):
            return (
                f"bare number {value!r} is not allowed: srepr writes numbers as "
                "Integer(...), Rational(...) or Float('...')"
            )
        return f"literal {type(value).__name__} is not allowed"
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}' is not allowed"
    if isinstance(node, ast.Subscript):
        return "subscripts ([...]) are not allowed"
    if isinstance(node, ast.Lambda):
        return "lambda expressions are not allowed"
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return "comprehensions are not allowed"
    if isinstance(node, ast.NamedExpr):
        return "assignment expressions (:=) are not allowed"
    if isinstance(node, (ast.JoinedStr, ast.FormattedValue)):
        return "f-strings are not allowed"
    if isinstance(node, ast.Starred):
        return "starred arguments (*args) are not allowed"
    if isinstance(node, (ast.BinOp, ast.BoolOp, ast.Compare)):
        return (
            f"Python operator expression ({type(node).__name__}) is not allowed: srepr "
            "writes Add(...), Mul(...), Pow(...), relationals and And/Or as calls"
        )
    if isinstance(node, ast.UnaryOp):
        return "unary operators are allowed only as the sign of a number literal"
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return f"{type(node).__name__.lower()} literals are not allowed"
    if isinstance(node, ast.Call):
        return "calling the result of an expression (e.g. Function('f')(x)) is not allowed"
    return f"unsupported syntax ({type(node).__name__})"


# ------------------------------------------------------------------------------ reader


class _Reader:
    """Builds sympy objects bottom-up from a checked syntax tree."""

    def __init__(self, time_limit: float):
        self.time_limit = time_limit
        self.deadline = time.perf_counter() + time_limit
        self.numeric: dict[sp.Basic, bool] = {}

    def tick(self) -> None:
        if time.perf_counter() > self.deadline:
            raise UnsafeInput(f"parsing took longer than {self.time_limit} s")

    def build(self, node: ast.AST, depth: int) -> sp.Basic:
        if depth > MAX_DEPTH:
            raise UnsafeInput(f"expression nesting exceeds the limit of {MAX_DEPTH} levels")
        self.tick()
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        raise UnsafeInput(_describe(node))

    def name(self, name: str) -> sp.Basic:
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in _NOT_REAL_NAMES:
            raise UnsafeInput(
                f"unsupported name {name!r} in expression: complex, infinite and undefined "
                "values have no real torch translation"
            )
        if name in FUNCTIONS or name in ATOMS:
            raise UnsafeInput(f"{name!r} must be called, not used as a value")
        raise UnsafeInput(f"unsupported name {_short(name)!r} in expression")

    def call(self, node: ast.Call, depth: int) -> sp.Basic:
        if not isinstance(node.func, ast.Name):  # x.f(...), f(...)(...), (lambda: 0)(), ...
            raise UnsafeInput(_describe(node.func))
        name = node.func.id
        if name in ("Symbol", "Dummy"):
            return self.symbol(name, node)
        if name == "Integer":
            (value,) = self.literal_args(name, node, 1)
            return self.construct(name, lambda: sp.Integer(value))
        if name == "Rational":
            p, q = self.literal_args(name, node, 2)
            if q == 0:
                raise UnsafeInput("Rational(...) with a zero denominator is not allowed")
            return self.construct(name, lambda: sp.Rational(p, q))
        if name == "Float":
            return self.float(node)
        cls = FUNCTIONS.get(name)
        if cls is None:
            if name in CONSTANTS:
                raise UnsafeInput(f"constant {name!r} cannot be called")
            return self.name(name)
        for keyword in node.keywords:
            raise UnsafeInput(self.keyword_message(name, keyword))
        args = [self.build(arg, depth + 1) for arg in node.args]
        self.precheck(name, args)
        result = self.construct(name, lambda: cls(*args))
        self.postcheck(name, result)
        return result

    # -- atoms ------------------------------------------------------------------------

    @staticmethod
    def keyword_message(name: str, keyword: ast.keyword) -> str:
        if keyword.arg is None:
            return f"**keyword unpacking is not allowed in {name}(...)"
        return f"keyword argument {_short(keyword.arg)!r} is not allowed in {name}(...)"

    def symbol(self, kind: str, node: ast.Call) -> sp.Basic:
        if len(node.args) != 1:
            raise UnsafeInput(f"{kind}(...) takes exactly one name argument")
        (arg,) = node.args
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            if isinstance(arg, ast.Starred):
                raise UnsafeInput(_describe(arg))
            raise UnsafeInput(f"{kind} name must be a string literal")
        symbol_name = arg.value
        if not _SYMBOL_NAME.fullmatch(symbol_name):
            raise UnsafeInput(
                f"invalid symbol name {_short(symbol_name)!r}: expected a letter followed "
                "by at most 63 letters, digits or underscores"
            )
        options: dict[str, object] = {}
        for keyword in node.keywords:
            key = keyword.arg
            if key == "dummy_index" and kind == "Dummy":
                index = self.int_literal(keyword.value, "dummy_index")
                if not 0 <= index <= MAX_DUMMY_INDEX:
                    raise UnsafeInput(f"dummy_index {index} is out of range")
                options[key] = index
                continue
            if key is None:
                raise UnsafeInput(self.keyword_message(kind, keyword))
            if key not in ASSUMPTIONS:
                raise UnsafeInput(f"unknown symbol assumption {_short(key)!r}")
            value = keyword.value
            if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
                raise UnsafeInput(f"assumption {key!r} must be True or False")
            options[key] = value.value
        cls = ATOMS[kind]
        return self.construct(kind, lambda: cls(symbol_name, **options))

    def literal_args(self, name: str, node: ast.Call, count: int) -> list[int]:
        if node.keywords:
            raise UnsafeInput(self.keyword_message(name, node.keywords[0]))
        values = [self.int_literal(arg, name) for arg in node.args]
        if len(values) != count:
            raise UnsafeInput(f"{name}(...) takes exactly {count} integer literal(s)")
        return values

    @staticmethod
    def int_literal(node: ast.AST, where: str) -> int:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if not (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                raise UnsafeInput("string arguments are allowed only as symbol names")
            raise UnsafeInput(f"{where}(...) expects an integer literal")
        value = node.value
        if abs(value) >= 10**MAX_INT_DIGITS:
            bits = abs(value).bit_length()
            digits = len(str(abs(value))) if bits < 14_000 else int(bits * math.log10(2)) + 1
            raise UnsafeInput(_digits_message(digits))
        return sign * value

    def float(self, node: ast.Call) -> sp.Basic:
        if len(node.args) != 1:
            raise UnsafeInput("Float(...) takes exactly one string literal")
        (arg,) = node.args
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise UnsafeInput("Float(...) expects its digits as a string literal")
        digits = arg.value
        if len(digits) > MAX_FLOAT_CHARS:
            raise UnsafeInput(f"Float literal longer than {MAX_FLOAT_CHARS} characters")
        if not _FLOAT_TEXT.fullmatch(digits):
            raise UnsafeInput(f"Float literal {_short(digits)!r} is not a finite decimal number")
        try:
            value = float(digits)
        except (ValueError, OverflowError):
            value = math.inf
        if not math.isfinite(value) or abs(value) > MAX_FLOAT_MAGNITUDE:
            raise UnsafeInput(
                f"Float literal {_short(digits)!r} exceeds the magnitude limit of "
                f"{MAX_FLOAT_MAGNITUDE:g}"
            )
        options: dict[str, int] = {}
        for keyword in node.keywords:
            if keyword.arg != "precision":
                raise UnsafeInput(self.keyword_message("Float", keyword))
            precision = self.int_literal(keyword.value, "precision")
            if not 1 <= precision <= MAX_FLOAT_PRECISION:
                raise UnsafeInput(
                    f"Float precision {precision} is outside 1..{MAX_FLOAT_PRECISION} bits"
                )
            options["precision"] = precision
        return self.construct("Float", lambda: sp.Float(digits, **options))

    # -- checks -----------------------------------------------------------------------

    def construct(self, name: str, make) -> sp.Basic:
        self.tick()
        try:
            result = make()
        except (UnsafeInput, _Refusal):
            raise
        except Exception as err:  # sympy's own refusals: TypeError, ValueError, ...
            reason = " ".join(str(err).split())
            raise UnsafeInput(
                f"sympy refused {name}(...): {type(err).__name__}: {_short(reason, 120)}"
            ) from None
        self.tick()
        return result

    def precheck(self, name: str, args: list[sp.Basic]) -> None:
        """Refuse a call whose evaluation is known to blow up, before sympy runs it."""
        if name == "Pow" and len(args) == 2:
            message = _power_refusal(args[0], args[1])
            if message is not None:
                raise UnsafeInput(message)
        elif name in ("Add", "Mul"):
            bits = 0
            for arg in args:
                if isinstance(arg, sp.Rational):
                    bits += _bits(arg)
                elif isinstance(arg, (sp.Add, sp.Mul)) and isinstance(arg.args[0], sp.Rational):
                    bits += _bits(arg.args[0])
            if bits > MAX_NUMBER_BITS:
                raise UnsafeInput(
                    f"{name}(...) of numbers with {bits} bits in all exceeds the limit of "
                    f"{MAX_NUMBER_BITS} bits"
                )
        elif (
            name == "loggamma"
            and len(args) == 1
            and isinstance(args[0], sp.Rational)
            and abs(args[0]) > MAX_LOGGAMMA_ARG
        ):
            raise UnsafeInput(
                f"loggamma of a rational above {MAX_LOGGAMMA_ARG} is refused "
                "(sympy evaluates it as a factorial)"
            )
        if name in MAX_ARGS:
            count = 0
            for arg in args:
                if name == "Piecewise" and isinstance(arg, ExprCondPair):
                    inner = arg.args[0]
                    count += len(inner.args) if isinstance(inner, sp.Piecewise) else 1
                elif type(arg) is FUNCTIONS[name]:
                    count += len(arg.args)
                else:
                    count += 1
            if count > MAX_ARGS[name]:
                raise UnsafeInput(
                    f"{name}(...) with {count} arguments exceeds the limit of {MAX_ARGS[name]}"
                )

    def postcheck(self, name: str, result: sp.Basic) -> None:
        """Refuse non-real values, oversized exact numbers and huge constants."""
        if any(result is c or result == c for c in _NOT_REAL):
            raise UnsafeInput(
                f"{name}(...) evaluates to {result}: complex, infinite and undefined values "
                "have no real torch translation"
            )
        if isinstance(result, sp.Rational):
            if _bits(result) > MAX_NUMBER_BITS:
                raise UnsafeInput(
                    f"{name}(...) gives a number of {_bits(result)} bits, above the limit of "
                    f"{MAX_NUMBER_BITS} bits"
                )
            return
        if (
            isinstance(result, sp.Expr)
            and not isinstance(result, sp.NumberSymbol)
            and self.is_numeric(result)
        ):
            self.check_constant(name, result)

    def is_numeric(self, obj: sp.Basic) -> bool:
        """Whether ``obj`` has no symbols (memoised over the objects of this text)."""
        known = self.numeric.get(obj)
        if known is not None:
            return known
        if isinstance(obj, sp.Symbol):
            answer = False
        else:
            answer = all(self.is_numeric(arg) for arg in obj.args)
        self.numeric[obj] = answer
        return answer

    def check_constant(self, name: str, value: sp.Expr) -> None:
        """A symbol-free value must be a finite real number of magnitude <= 1e300.

        Its arguments passed this check already, so evaluating it to 15 digits is cheap.
        """
        if isinstance(value, sp.Float):
            number = value
        else:
            self.tick()
            try:
                number = value.evalf(15)
            except Exception as err:
                raise UnsafeInput(
                    f"constant {name}(...) cannot be evaluated: {type(err).__name__}"
                ) from None
            self.tick()
        if isinstance(number, sp.Rational):
            magnitude = abs(mpmath.mpf(int(number.p)) / int(number.q))
        elif isinstance(number, sp.Float):
            magnitude = abs(mpmath.mpf(number._mpf_))
        else:
            raise UnsafeInput(
                f"constant {_short(value, 60)} is not a finite real number "
                "(complex, infinite and undefined values have no real torch translation)"
            )
        if not mpmath.isfinite(magnitude) or magnitude > MAX_FLOAT_MAGNITUDE:
            raise UnsafeInput(
                f"constant {name}(...) has magnitude above the limit of {MAX_FLOAT_MAGNITUDE:g}"
            )


__all__ = [
    "ASSUMPTIONS",
    "ATOMS",
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_ARGS",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_NODES",
    "MAX_NUMBER_BITS",
    "MAX_TEXT_CHARS",
    "parse_srepr",
]
