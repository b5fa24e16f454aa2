"""The power guard of :func:`theory._safe_expr.parse_srepr`: while a reader is active in
this thread, sympy's exact ``Integer``/``Rational`` powers whose result would exceed
``MAX_NUMBER_BITS`` bits raise :class:`_Refusal` before sympy computes them (a power
like ``10**(10**10)`` would otherwise never finish). Other threads, and this thread
outside a parse, compute powers as usual."""

from __future__ import annotations

import math
import threading

import sympy as sp
from sympy.core import numbers as _numbers

MAX_NUMBER_BITS = 20_000


class _Refusal(BaseException):
    """Raised by the power guard from inside sympy.

    A BaseException so that sympy's own ``except Exception`` blocks cannot swallow it;
    :func:`parse_srepr` turns it into :class:`UnsafeInput`.
    """


_GUARD = threading.local()
_GUARD_LOCK = threading.Lock()


def _install_power_guard() -> None:
    """Wrap ``Integer/Rational._eval_power`` once; a no-op unless a reader is active."""
    with _GUARD_LOCK:
        for cls in (_numbers.Rational, _numbers.Integer):
            original = cls.__dict__.get("_eval_power")
            if original is None or getattr(original, "_sith_power_guard", False):
                continue
            cls._eval_power = _guarded_power(original)


def _guarded_power(original):
    def _eval_power(self, expt):
        reader = getattr(_GUARD, "reader", None)
        if reader is not None:
            message = _power_refusal(self, expt)
            if message is not None:
                raise _Refusal(message)
        return original(self, expt)

    _eval_power._sith_power_guard = True
    _eval_power.__wrapped__ = original
    _eval_power.__doc__ = original.__doc__
    return _eval_power


def _log2(n: int) -> float:
    return math.log2(abs(n)) if n else 0.0


def _bits(r: sp.Rational) -> int:
    return max(abs(int(r.p)).bit_length(), int(r.q).bit_length())


def _power_refusal(base, expt) -> str | None:
    """Message if the rational power ``base**expt`` would exceed ``MAX_NUMBER_BITS``."""
    if not isinstance(base, sp.Rational) or not isinstance(expt, sp.Rational):
        return None
    size = max(_log2(int(base.p)), _log2(int(base.q)))
    if size == 0:
        return None
    p, q = abs(int(expt.p)), int(expt.q)
    if p.bit_length() - q.bit_length() > 64:
        estimate = math.inf
    else:
        estimate = size * (p / q)
    if estimate <= MAX_NUMBER_BITS:
        return None
    shown = _short(base) if base.is_Integer and base >= 0 else f"({_short(base)})"
    if math.isfinite(estimate):
        detail = f"about {estimate:.3g} bits; the limit is {MAX_NUMBER_BITS}"
    else:
        detail = f"far more than the limit of {MAX_NUMBER_BITS} bits"
    return f"power {shown}**({_short(expt)}) is too large to evaluate ({detail})"


def _short(value, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
