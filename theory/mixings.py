"""Mixing functions g: R^n -> R^m, x = g(z).

Every mixing is a pure torch function of z with shape (..., n) (so ``torch.func``
transforms apply), evaluated in z's dtype, and a dataclass spec whose init fields
(matrices, seeds) determine it. ``sympy_form()`` gives exact expressions where they
exist, used for proofs and to cross-check autodiff.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from theory import _validate as valid
from theory._lazy import torch
from theory._random import as_rng
from theory._resources import require_memory
from theory._safe_expr import parse_srepr
from theory._spec import Spec
from theory.errors import InvalidArgument, InvalidProcess, UnsafeInput
from theory.latents import latent_symbols
from theory.sprites import SpriteRenderer


class Mixing(Spec):
    kind = "mixing"

    @property
    def n_in(self) -> int:
        return self.n  # type: ignore[attr-defined]

    @property
    def n_out(self) -> int:
        return self.n_in

    @property
    def family(self) -> str:
        return type(self).__name__

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[-1] != self.n_in:
            raise InvalidArgument(
                f"{self.family} expects inputs of dimension {self.n_in}, got {z.shape[-1]}"
            )
        return self.forward(z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def symbolic_size(self) -> int | None:
        """About how many leaves the expression trees of ``sympy_form`` have in all, known
        without building them (None: not estimated). Checks skip an exact attempt above
        a size limit, the same on every machine (``verification.checks._core``)."""
        return None

    def sympy_form(self, symbols: tuple[sp.Symbol, ...] | None = None) -> list[sp.Expr] | None:
        """Exact expressions of the outputs in ``symbols`` (default z1..zn), if any."""
        return None


def _check_n(owner: str, n, minimum: int = 1, maximum: int = valid.MAX_DIM, why: str = "") -> int:
    return valid.positive_int(owner, "n", n, minimum=minimum, maximum=maximum, why=why)


def _param(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(array, dtype=like.dtype, device=like.device)


@dataclass(eq=False)
class Linear(Mixing):
    """x = A z with a fixed matrix A (m x n)."""

    matrix: list[list[float]]

    def __post_init__(self) -> None:
        a = valid.finite_matrix("Linear", "matrix", self.matrix)
        self.matrix = a.tolist()
        self._a = a

    @classmethod
    def random(cls, n: int, seed: int = 0, max_condition: float = 10.0) -> Linear:
        """A random square matrix U diag(s) V^T with condition number <= ``max_condition``.

        U, V are Haar-random orthogonal matrices and s is log-uniform in
        [1, max_condition] (with both ends attained), so the bound holds by construction.
        """
        n = _check_n("Linear.random", n)
        seed = valid.seed("Linear.random", "seed", seed)
        valid.finite_float("Linear.random", "max_condition", max_condition, low=1.0, high=1e12)
        rng = as_rng(seed)
        u, v = _random_orthogonal(n, rng), _random_orthogonal(n, rng)
        s = np.exp(rng.uniform(0.0, np.log(max_condition), n))
        if n > 1:
            s[0], s[-1] = 1.0, max_condition
        return cls((u * s) @ v.T)

    @property
    def n_in(self) -> int:
        return self._a.shape[1]

    @property
    def n_out(self) -> int:
        return self._a.shape[0]

    def forward(self, z):
        return z @ _param(self._a, z).T

    def sympy_form(self, symbols=None):
        z = sp.Matrix(symbols or latent_symbols(self.n_in))
        return list(sp.Matrix(self._a) * z)


_CALIBRATION_DRAWS = 1000  # random matrices whose condition numbers set the threshold
_CHUNK_BYTES = 32 * 2**20  # memory for one chunk of them
MAX_MLP_DIM = 512  # 1000 SVDs of n x n matrices, ~n^3 each: about a minute at n = 512


def _calibration_chunk(n: int) -> int:
    return max(1, min(_CALIBRATION_DRAWS, _CHUNK_BYTES // (8 * n * n)))


def _condition_threshold(
    n: int, rng: np.random.Generator, quantile: float, chunk: int | None = None
) -> float:
    """The ``quantile`` of cond(W) over 1000 random n x n matrices with N(0, 1) entries.

    The matrices are drawn ``chunk`` at a time (default: about 32 MiB each time), so memory
    is O(chunk n^2), not O(1000 n^2). ``Generator.standard_normal`` fills its output in C
    order from one stream, so consecutive draws of (k, n, n) give exactly the numbers of a
    single (1000, n, n) draw, and the threshold and the generator state after it are the
    same as unchunked (tested).
    """
    chunk = _calibration_chunk(n) if chunk is None else chunk
    conds = np.empty(_CALIBRATION_DRAWS)
    for start in range(0, _CALIBRATION_DRAWS, chunk):
        k = min(chunk, _CALIBRATION_DRAWS - start)
        conds[start : start + k] = np.linalg.cond(rng.standard_normal((k, n, n)))
    return float(np.quantile(conds, quantile))


@dataclass(eq=False)
class InvertibleMLP(Mixing):
    """Invertible leaky-ReLU MLP with condition-number-bounded square layers.

    x = W_depth σ(... σ(W_1 z)), σ = leaky ReLU with ``negative_slope``; each W_k has
    i.i.d. N(0, 1) entries, is redrawn until its condition number is below the
    ``cond_quantile`` quantile of 1000 random matrices (Hyvärinen & Morioka 2016;
    Zimmermann et al. 2021), and has unit-norm rows. Invertible, not conformal.
    """

    n: int
    depth: int = 3
    seed: int = 0
    negative_slope: float = 0.2
    cond_quantile: float = 0.25
    weights: list[np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        owner = "InvertibleMLP"
        self.n = _check_n(
            owner,
            self.n,
            maximum=MAX_MLP_DIM,
            why="construction takes 1000 SVDs of n x n matrices, ~n^3 each: "
            "about a minute at the cap",
        )
        self.depth = valid.positive_int(owner, "depth", self.depth, maximum=valid.MAX_DEPTH)
        self.seed = valid.seed(owner, "seed", self.seed)
        # (0, 1] for invertibility
        valid.finite_float(
            owner, "negative_slope", self.negative_slope, low=0.0, high=1.0, low_open=True
        )
        # a low quantile means ~1/quantile redraws per layer
        valid.finite_float(owner, "cond_quantile", self.cond_quantile, low=0.01, high=1.0)
        n2 = 8 * self.n * self.n
        require_memory(
            (self.depth + 4 + 3 * _calibration_chunk(self.n)) * n2,
            f"InvertibleMLP(n={self.n}, depth={self.depth}) (weights and condition-number "
            "calibration)",
            "use a smaller n",
        )
        rng = as_rng(self.seed)
        threshold = _condition_threshold(self.n, rng, self.cond_quantile)
        self.weights = []
        for _ in range(self.depth):
            while True:
                w = rng.standard_normal((self.n, self.n))
                if np.linalg.cond(w) <= threshold:
                    break
            self.weights.append(w / np.linalg.norm(w, axis=1, keepdims=True))

    def forward(self, z):
        h = z
        for k, w in enumerate(self.weights):
            if k > 0:
                h = torch.nn.functional.leaky_relu(h, self.negative_slope)
            h = h @ _param(w, z).T
        return h

    def symbolic_size(self) -> int:
        """n outputs of n terms, each layer after the first doubling them (Max(e, a e))
        and multiplying them by n: n² (2n)^(depth − 1)."""
        return self.n**2 * (2 * self.n) ** (self.depth - 1)

    def sympy_form(self, symbols=None):
        h = sp.Matrix(symbols or latent_symbols(self.n))
        slope = sp.nsimplify(self.negative_slope)
        for k, w in enumerate(self.weights):
            if k > 0:
                h = h.applyfunc(lambda e: sp.Max(e, slope * e))
            h = sp.Matrix(w) * h
        return list(h)


def _random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@dataclass(eq=False)
class Mobius(Mixing):
    """A Möbius transformation, conformal: g(z) = b + alpha A (z - a) / |z - a|^2.

    A orthogonal, alpha > 0; J = alpha A (I - 2 u u^T) / |z - a|^2 with u the unit
    vector along z - a, so J^T J = (alpha / |z - a|^2)^2 I (Liouville's theorem: these
    are the conformal maps for n >= 3). The pole a is placed at distance 3 sqrt(n) from
    the origin, outside the unit box and sphere.
    """

    n: int
    seed: int = 0

    def __post_init__(self) -> None:
        self.n = _check_n("Mobius", self.n)
        self.seed = valid.seed("Mobius", "seed", self.seed)
        rng = as_rng(self.seed)
        direction = rng.standard_normal(self.n)
        self._pole = 3 * np.sqrt(self.n) * direction / np.linalg.norm(direction)
        self._rotation = _random_orthogonal(self.n, rng)
        self._shift = rng.standard_normal(self.n)
        self._alpha = float(np.linalg.norm(self._pole) ** 2)  # keeps |J| near 1 on the support

    def forward(self, z):
        d = z - _param(self._pole, z)
        y = d / (d * d).sum(-1, keepdim=True)
        return _param(self._shift, z) + self._alpha * y @ _param(self._rotation, z).T

    def sympy_form(self, symbols=None):
        z = sp.Matrix(symbols or latent_symbols(self.n))
        d = z - sp.Matrix(self._pole)
        y = d / (d.T * d)[0, 0]
        return list(sp.Matrix(self._shift) + sp.Float(self._alpha) * sp.Matrix(self._rotation) * y)


@dataclass(eq=False)
class AdditiveCoupling(Mixing):
    """Stack of additive coupling layers (NICE, Dinh et al. 2015): volume-preserving.

    Each layer splits z = (z_a, z_b) and sets z_b <- z_b + t(z_a) with
    t(z_a) = V tanh(U z_a + c); the Jacobian is unit triangular, det J = 1 exactly.
    Layers alternate which half is updated; n >= 2.
    """

    n: int
    seed: int = 0
    depth: int = 2
    hidden: int = 8
    layers: list[tuple] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        owner = "AdditiveCoupling"
        self.n = _check_n(owner, self.n, minimum=2)
        self.seed = valid.seed(owner, "seed", self.seed)
        self.depth = valid.positive_int(owner, "depth", self.depth, maximum=valid.MAX_DEPTH)
        self.hidden = valid.positive_int(owner, "hidden", self.hidden, maximum=valid.MAX_HIDDEN)
        require_memory(
            8 * self.depth * (self.hidden * (self.n + 1) + self.hidden),
            f"AdditiveCoupling(n={self.n}, depth={self.depth}, hidden={self.hidden}) (weights)",
            "use a smaller depth or hidden",
        )
        rng = as_rng(self.seed)
        self.layers = []
        half = self.n // 2
        first, second = slice(0, half), slice(half, self.n)
        for k in range(self.depth):
            a, b = (first, second) if k % 2 == 0 else (second, first)
            na, nb = a.stop - a.start, b.stop - b.start
            u = rng.standard_normal((self.hidden, na)) / np.sqrt(na)
            c = 0.1 * rng.standard_normal(self.hidden)
            v = rng.standard_normal((nb, self.hidden)) / np.sqrt(self.hidden)
            self.layers.append((a, b, u, c, v))

    def forward(self, z):
        h = z
        for a, b, u, c, v in self.layers:
            shift = torch.tanh(h[..., a] @ _param(u, z).T + _param(c, z)) @ _param(v, z).T
            parts = [h[..., a], h[..., b] + shift]
            h = torch.cat(parts if a.start == 0 else parts[::-1], dim=-1)
        return h

    def sympy_form(self, symbols=None):
        h = sp.Matrix(symbols or latent_symbols(self.n))
        for a, b, u, c, v in self.layers:
            pre = sp.Matrix(u) * h[a, :] + sp.Matrix(c)
            shift = sp.Matrix(v) * pre.applyfunc(sp.tanh)
            new_b = h[b, :] + shift
            h = (
                sp.Matrix.vstack(h[a, :], new_b)
                if a.start == 0
                else sp.Matrix.vstack(new_b, h[a, :])
            )
        return list(h)


@dataclass(eq=False)
class Polar(Mixing):
    """Polar coordinates (r, theta) -> (r cos theta, r sin theta) in R^2.

    Jacobian columns (cos, sin) and r (-sin, cos) are orthogonal with norms 1 and r:
    it satisfies the IMA condition (orthogonal columns) but is conformal only at r = 1.
    """

    offset: float = 2.0

    def __post_init__(self) -> None:
        valid.bounded_float("Polar", "offset", self.offset)

    @property
    def n_in(self) -> int:
        return 2

    def forward(self, z):
        r = z[..., 0] + self.offset
        return torch.stack([r * torch.cos(z[..., 1]), r * torch.sin(z[..., 1])], dim=-1)

    def sympy_form(self, symbols=None):
        z1, z2 = symbols or latent_symbols(2)
        r = z1 + sp.nsimplify(self.offset)
        return [r * sp.cos(z2), r * sp.sin(z2)]


@dataclass(eq=False)
class Fold(Mixing):
    """Non-injective fold z -> (z1^2, z2, ..., zn): z and its mirror image collide.

    The Jacobian is full rank except on the hyperplane z1 = 0, so a rank test alone
    does not reveal the non-injectivity; a collision search does.
    """

    n: int = 2

    def __post_init__(self) -> None:
        self.n = _check_n("Fold", self.n)

    def forward(self, z):
        return torch.cat([z[..., :1] ** 2, z[..., 1:]], dim=-1)

    def sympy_form(self, symbols=None):
        z = symbols or latent_symbols(self.n)
        return [z[0] ** 2, *z[1:]]


@dataclass(eq=False)
class Symbolic(Mixing):
    """A user's map given as sympy expressions in the given input symbols.

    Compiled to torch with :func:`theory.compile.compile_exprs`; on construction the
    autodiff Jacobian is checked against ``sympy.Matrix.jacobian`` at random points.
    """

    exprs: list
    symbols: list

    def __post_init__(self) -> None:
        self.exprs = [sp.sympify(e) for e in self.exprs]
        self.symbols = [sp.Symbol(s, real=True) if isinstance(s, str) else s for s in self.symbols]
        if not self.symbols or not all(isinstance(s, sp.Symbol) for s in self.symbols):
            raise InvalidArgument("symbols must be a non-empty list of sympy Symbols")
        if len(set(self.symbols)) != len(self.symbols):
            raise InvalidArgument("symbols must be distinct")
        # sympy symbols created without assumptions differ from real ones: unify by name
        real = {s: sp.Symbol(s.name, real=True) for s in self.symbols}
        by_name = {s.name: real[s] for s in self.symbols}
        self.exprs = [
            e.xreplace({f: by_name[f.name] for f in e.free_symbols if f.name in by_name})
            for e in self.exprs
        ]
        self.symbols = [real[s] for s in self.symbols]
        from theory.compile import compile_exprs  # sympy's torch printer imports torch

        self._fn = compile_exprs(self.exprs, self.symbols)
        self._self_check()

    def _self_check(self, n_points: int = 8, seed: int = 0) -> None:
        from theory._selfcheck import check_against_sympy

        check_against_sympy(self._fn, self.exprs, self.symbols, n_points=n_points, seed=seed)

    @property
    def n_in(self) -> int:
        return len(self.symbols)

    @property
    def n_out(self) -> int:
        return len(self.exprs)

    def forward(self, z):
        return self._fn(z)

    def sympy_form(self, symbols=None):
        if symbols is None:
            return list(self.exprs)
        subs = dict(zip(self.symbols, symbols, strict=True))
        return [e.xreplace(subs) for e in self.exprs]

    def params(self):
        return {
            "exprs": [sp.srepr(e) for e in self.exprs],
            "symbols": [s.name for s in self.symbols],
        }

    @classmethod
    def _from_params(cls, params):
        """Rebuild from a file: expressions are parsed by a whitelist, never evaluated as code."""
        exprs, symbols = params.get("exprs"), params.get("symbols")
        if not isinstance(exprs, list) or not all(isinstance(e, str) for e in exprs):
            raise UnsafeInput("Symbolic: 'exprs' must be a list of sympy srepr strings")
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            raise UnsafeInput("Symbolic: 'symbols' must be a list of symbol names")
        return cls([parse_srepr(e) for e in exprs], list(symbols))


@dataclass(eq=False)
class Torch(Mixing):
    """Any torch code as a mixing: an ``nn.Module`` or a function z -> x, batched over rows.

    ``Torch(module_or_function, n, m=None, name=None)``: ``n`` inputs, ``m`` outputs
    (found by a probe call when None). It runs in the dtype of z (a module's parameters
    are copied to it), so every check (float64 autodiff Jacobians), ``recover`` and
    ``search`` use it; having no symbolic form, it is never ``proved``.

    Its JSON names it (``name``, default the function's or class's qualified name) and
    carries a digest of the code and weights, so two different networks never share a
    hash (nor cached results). A file cannot carry code: rebuilding a process that holds
    a Torch mixing finds it among the Torch mixings built in this process (the module that
    defines it must be imported: ``--import``) and checks the digest.
    """

    fn: object
    n: int
    m: int | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise InvalidArgument(
                f"Torch: expected a torch.nn.Module or a function z -> x, got {self.fn!r}"
            )
        self.n = valid.positive_int("Torch", "n", self.n)
        if self.name is None:  # "<module that built it>.<function or class name>"
            target = self.fn if not isinstance(self.fn, torch.nn.Module) else type(self.fn)
            caller = sys._getframe(2).f_globals.get("__name__", "__main__")
            self.name = f"{caller}.{getattr(target, '__qualname__', type(target).__name__)}"
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgument(f"Torch: name must be a non-empty string, got {self.name!r}")
        self._copies: dict[torch.dtype, object] = {}
        out = self._probe()
        if self.m is None:
            self.m = int(out.shape[-1])
        self.m = valid.positive_int("Torch", "m", self.m)
        if out.shape != (4, self.m):
            raise InvalidArgument(
                f"Torch {self.name}: inputs of shape (4, {self.n}) gave outputs of shape "
                f"{tuple(out.shape)}, expected (4, {self.m}); the function must map rows"
            )
        self.digest = _torch_digest(self.fn, self.name)
        _TORCH_MIXINGS[(self.name, self.digest)] = self

    def _probe(self) -> torch.Tensor:
        z = torch.linspace(-0.5, 0.5, 4 * self.n, dtype=torch.float64).reshape(4, self.n)
        try:
            out = self.forward(z)
        except Exception as err:
            raise InvalidArgument(
                f"Torch {self.name}: calling it on a batch of shape (4, {self.n}) failed: "
                f"{type(err).__name__}: {err}"
            ) from None
        if not isinstance(out, torch.Tensor) or out.ndim != 2:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise InvalidArgument(
                f"Torch {self.name}: inputs of shape (4, {self.n}) gave outputs of shape "
                f"{shape}; expected a 2-D tensor with one row per input row"
            )
        return out

    @property
    def n_out(self) -> int:
        return self.m

    def _for_dtype(self, dtype: torch.dtype):
        if not isinstance(self.fn, torch.nn.Module):
            return self.fn
        if dtype not in self._copies:
            import copy

            module = copy.deepcopy(self.fn).to(dtype)
            module.requires_grad_(False)
            self._copies[dtype] = module.eval()
        return self._copies[dtype]

    def forward(self, z):
        return self._for_dtype(z.dtype)(z)

    def params(self):
        return {"name": self.name, "n": self.n, "m": self.m, "digest": self.digest}

    @classmethod
    def file_fields(cls) -> set[str]:
        return {"name", "n", "m", "digest"}

    @classmethod
    def _from_params(cls, params):
        key = (params.get("name"), params.get("digest"))
        if key in _TORCH_MIXINGS:
            return _TORCH_MIXINGS[key]
        names = sorted({name for name, _ in _TORCH_MIXINGS})
        module = str(params.get("name", "")).rsplit(".", 1)[0]
        raise InvalidProcess(
            f"Torch mixing {params.get('name')!r} (digest {params.get('digest')}) is not built "
            f"in this process; import the module that defines it (CLI: sith --import {module} "
            f"...). Torch mixings built here: {', '.join(names) or 'none'}"
        )


_TORCH_MIXINGS: dict[tuple[str, str], Torch] = {}


def _torch_digest(fn, name: str) -> str:
    """sha256 of what determines the map: its name, code and weights."""
    import hashlib

    h = hashlib.sha256(name.encode())
    if isinstance(fn, torch.nn.Module):
        h.update(type(fn).__qualname__.encode())
        for key, tensor in sorted(fn.state_dict().items()):
            h.update(key.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    else:
        code = getattr(fn, "__code__", None)
        if code is not None:
            h.update(code.co_code)
            h.update(repr(code.co_consts).encode())
        for cell in getattr(fn, "__closure__", None) or ():
            value = cell.cell_contents
            if isinstance(value, torch.Tensor):
                h.update(value.detach().cpu().contiguous().numpy().tobytes())
            elif isinstance(value, torch.nn.Module):
                h.update(_torch_digest(value, name).encode())
            elif isinstance(value, (int, float, str, bool)):
                h.update(repr(value).encode())
    return h.hexdigest()[:16]


@dataclass(eq=False)
class Sprites(SpriteRenderer, Mixing):
    """Rendered images: ``Sprites(size=32, shape="square", factors=("x", "y", "scale"))``.

    x = g(z) ∈ R^{3·size²} is an RGB picture of 1–3 sprites (disc, square, triangle or a
    morph between them) whose position, scale, rotation, hue, value and shape are the
    latents, rendered differentiably by soft signed-distance rasterisation; flattened in
    (channel, row, column) order, with ``image_shape`` = (3, size, size). Its fields and
    the renderer are ``theory.sprites.SpriteRenderer`` (documented there).
    """

__all__ = [
    "AdditiveCoupling",
    "Fold",
    "InvertibleMLP",
    "Linear",
    "Mixing",
    "Mobius",
    "Polar",
    "Sprites",
    "Symbolic",
    "Torch",
]
