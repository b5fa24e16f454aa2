"""Assumptions: named predicates about a Process, stated symbolically.

Jacobian conditions are sympy statements over a matrix symbol ``J`` (the Jacobian of
the mixing at a point): ``residual(J)`` is zero exactly when the condition holds, and
``normaliser(J)`` makes its size scale-free. Density conditions are statements about
the log-density (its Hessian, its family). Conditional conditions are about the
augmentation. ``verification.check`` decides each one and returns Evidence.

Users define their own Jacobian condition from a sympy statement::

    JacobianCondition("unit-diagonal", residual=lambda J: sp.Trace(J) - J.shape[0])
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from theory import _validate as valid
from theory._spec import Spec
from theory.errors import InvalidArgument
from theory.registry import Registry


class Assumption(Spec):
    """Base class. ``name`` is the catalogue name, ``cite`` the source.

    ``about_mixing``: the assumption is about the mixing g (injective, immersion, a
    Jacobian condition). On a process with a view-specific mixing for the positive view
    (``Process.view_mixing``) it is an assumption about every view's mixing, and the
    check decides it once per view (the worst verdict counts).
    """

    kind = "assumption"
    name: ClassVar[str] = "assumption"
    cite: ClassVar[str] = ""
    description: ClassVar[str] = ""
    about_mixing: ClassVar[bool] = False

    def statement(self, n: int, m: int | None = None) -> sp.Basic:
        """The assumption as a sympy statement for a process of dimension n (-> m)."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name


class JacobianAssumption(Assumption):
    """An assumption on the Jacobian J = Dg(z) at every z in the support."""

    about_mixing: ClassVar[bool] = True

    tolerance: float

    def residual(self, J: sp.MatrixSymbol) -> sp.Basic:
        raise NotImplementedError

    def normaliser(self, J: sp.MatrixSymbol) -> sp.Basic:
        return sp.S.One

    def statement(self, n: int, m: int | None = None) -> sp.Basic:
        J = sp.MatrixSymbol("J", m or n, n)
        r = self.residual(J)
        zero = sp.ZeroMatrix(*r.shape) if getattr(r, "is_Matrix", False) else sp.S.Zero
        return sp.Eq(r, zero, evaluate=False)


def _gram(J: sp.MatrixSymbol) -> sp.MatrixExpr:
    return J.T * J


@dataclass
class Conformal(JacobianAssumption):
    """J^T J = lambda(z) I: g preserves angles (Buchholz et al. 2022, conformal maps)."""

    tolerance: float = 1e-6
    name: ClassVar[str] = "conformal"
    cite: ClassVar[str] = (
        "Buchholz, Besserve & Schölkopf 2022, 'Function classes for identifiable nonlinear "
        "ICA', NeurIPS (conformal maps); Hyvärinen & Pajunen 1999"
    )
    description: ClassVar[str] = "J(z)^T J(z) = λ(z) I for a scalar λ(z) > 0"

    def residual(self, J):
        n = J.shape[1]
        return _gram(J) - sp.Trace(_gram(J)) / n * sp.Identity(n)

    def normaliser(self, J):
        return sp.Trace(_gram(J)) / J.shape[1]


@dataclass
class OrthogonalColumns(JacobianAssumption):
    """J^T J diagonal: the IMA principle (Gresele et al. 2021)."""

    tolerance: float = 1e-6
    name: ClassVar[str] = "orthogonal-columns"
    cite: ClassVar[str] = (
        "Gresele, von Kügelgen, Stimper, Schölkopf & Besserve 2021, 'Independent mechanism "
        "analysis, a new concept?', NeurIPS"
    )
    description: ClassVar[str] = "J(z)^T J(z) is diagonal (columns of J orthogonal)"

    def residual(self, J):
        n = J.shape[1]
        off = sp.OneMatrix(n, n) - sp.Identity(n)
        return sp.HadamardProduct(_gram(J), off)

    def normaliser(self, J):
        return sp.Trace(_gram(J)) / J.shape[1]


@dataclass
class VolumePreserving(JacobianAssumption):
    """|det J| = 1 (Yang et al. 2022, volume-preserving flows; NICE)."""

    tolerance: float = 1e-6
    name: ClassVar[str] = "volume-preserving"
    cite: ClassVar[str] = (
        "Yang, Cheng, Ma & Dong 2022, 'Nonlinear ICA using volume-preserving "
        "transformations', ICLR; Dinh, Krueger & Bengio 2015 (NICE)"
    )
    description: ClassVar[str] = "|det J(z)| = 1"

    def residual(self, J):
        return sp.Abs(sp.Determinant(J)) - 1

    def statement(self, n, m=None):
        if m is not None and m != n:
            raise InvalidArgument("volume preservation needs a square Jacobian")
        return super().statement(n, m)


class JacobianCondition(JacobianAssumption):
    """A user-defined Jacobian condition: ``residual(J) = 0``, sized by ``normaliser(J)``.

    ``residual`` and ``normaliser`` take a sympy ``MatrixSymbol`` J of shape (m, n) and
    return sympy (matrix) expressions, e.g. ``lambda J: J.T * J - sp.Identity(J.shape[1])``
    for an isometry.
    """

    def __init__(
        self,
        name: str,
        residual: Callable[[sp.MatrixSymbol], sp.Basic],
        normaliser: Callable[[sp.MatrixSymbol], sp.Basic] | None = None,
        *,
        cite: str = "",
        description: str = "",
        tolerance: float = 1e-6,
    ) -> None:
        if not callable(residual):
            raise InvalidArgument("residual must be a function of the Jacobian matrix symbol J")
        self.name = name  # type: ignore[misc]
        self.cite = cite  # type: ignore[misc]
        self.description = description  # type: ignore[misc]
        self.tolerance = tolerance
        self._residual, self._normaliser = residual, normaliser
        # the module that stated it (a reproduce line imports it)
        self.module = sys._getframe(1).f_globals.get("__name__", "__main__")
        self.statement(2)  # fail early on a statement sympy cannot build

    def residual(self, J):
        return self._residual(J)

    def normaliser(self, J):
        return sp.S.One if self._normaliser is None else self._normaliser(J)

    def to_dict(self):
        return {"type": "JacobianCondition", "name": self.name, "statement": str(self.statement(2))}

    def __repr__(self) -> str:
        return f"JacobianCondition({self.name!r})"


@dataclass
class Injective(Assumption):
    """g(z) = g(z') implies z = z' on the support.

    A rank-deficient Jacobian does not contradict it: (z1³, z2) is a homeomorphism whose
    Jacobian is singular on z1 = 0. Full rank everywhere is the separate assumption
    :class:`Immersion`.
    """

    name: ClassVar[str] = "injective"
    about_mixing: ClassVar[bool] = True
    cite: ClassVar[str] = "Standard in every identifiability result, e.g. Zimmermann et al. 2021"
    description: ClassVar[str] = (
        "g(z) = g(z') ⇒ z = z' on the support; decided exactly for linear maps (rank), "
        "else violated only by a verified collision found by a search"
    )

    def statement(self, n, m=None):
        z, w = coordinates(n, "z", "w")
        g = sp.Function("g")
        return sp.Implies(
            sp.Eq(g(*z), g(*w)), sp.And(*[sp.Eq(a, b) for a, b in zip(z, w, strict=True)])
        )


@dataclass
class Immersion(Assumption):
    """J(z) has full column rank n at every z in the support.

    With m = n, g is then a local diffeomorphism onto its image (inverse function
    theorem); it says nothing global: a fold away from its crease is an immersion and
    not injective, and (z1³, z2) is injective and not an immersion. ``tolerance`` is the
    σ_min/σ_max of J below which J counts as (numerically) rank-deficient.
    """

    tolerance: float = 1e-6
    name: ClassVar[str] = "immersion"
    about_mixing: ClassVar[bool] = True
    cite: ClassVar[str] = (
        "Lee 2013, 'Introduction to Smooth Manifolds', 2nd ed., Ch. 4 (immersions; inverse "
        "function theorem, Thm 4.5); assumed with injectivity by e.g. Zimmermann et al. 2021"
    )
    description: ClassVar[str] = (
        "rank J(z) = n for every z in the support (det JᵀJ ≠ 0); numerically "
        "σ_min/σ_max of J above the tolerance"
    )

    def statement(self, n, m=None):
        J = sp.MatrixSymbol("J", m or n, n)
        return sp.Ne(sp.Determinant(J.T * J), 0)


@dataclass
class LinearMixing(Assumption):
    """g is affine: J(z) does not depend on z (linear ICA, Comon 1994)."""

    tolerance: float = 1e-9
    name: ClassVar[str] = "linear-mixing"
    about_mixing: ClassVar[bool] = True
    cite: ClassVar[str] = "Comon 1994, 'Independent component analysis, a new concept?'"
    description: ClassVar[str] = "∂J(z)/∂z = 0 (J constant: x = A z + b)"

    def statement(self, n, m=None):
        (z,) = coordinates(n, "z")
        J = sp.Function("J")
        return sp.Eq(sp.Derivative(J(*z), z[0]), 0)


def coordinates(n: int, *names: str) -> tuple[tuple[sp.Symbol, ...], ...]:
    """Real symbols ``name1 .. name{n}`` for each of ``names`` (a statement's points)."""
    return tuple(sp.symbols(f"{name}1:{n + 1}", real=True) for name in names)


def _log_density_symbol(n: int):
    (z,) = coordinates(n, "z")
    return z, sp.Function("log_p")(*z)


@dataclass
class Factorized(Assumption):
    """Independent latents: log p(z) = Σ_i log p_i(z_i) on a product support.

    ``tolerance`` sizes the log-density Hessian's off-diagonal entries; ``level`` is the
    significance level of the sample independence test used without a log-density.
    """

    tolerance: float = 1e-8
    level: float = 0.01
    name: ClassVar[str] = "factorized"
    cite: ClassVar[str] = (
        "Comon 1994; Hyvärinen, Karhunen & Oja 2001, 'Independent Component Analysis'"
    )
    description: ClassVar[str] = (
        "∂² log p(z) / ∂z_i ∂z_j = 0 for all i ≠ j, on a support that is a product set; "
        "without a log-density, an HSIC independence test per pair of coordinates"
    )

    def __post_init__(self) -> None:
        valid.finite_float("Factorized", "tolerance", self.tolerance, low=0.0)
        valid.finite_float("Factorized", "level", self.level, low=0.0, high=1.0, low_open=True)

    def statement(self, n, m=None):
        z, logp = _log_density_symbol(n)
        return (
            sp.And(
                *[
                    sp.Eq(sp.Derivative(logp, z[i], z[j]), 0)
                    for i in range(n)
                    for j in range(i + 1, n)
                ]
            )
            if n > 1
            else sp.true
        )


@dataclass
class NonGaussian(Assumption):
    """At most one latent component is Gaussian (Comon 1994, Theorem 11).

    ``level`` is the significance level of the per-component normality test used when
    the latent's family does not say which components are Gaussian.
    """

    max_gaussian: int = 1
    level: float = 0.01
    name: ClassVar[str] = "non-gaussian"
    cite: ClassVar[str] = "Comon 1994, Theorem 11 (Darmois–Skitovich)"
    description: ClassVar[str] = (
        "#{i : log p_i(z_i) is a quadratic polynomial} ≤ 1; numerically, a component "
        "counts as Gaussian unless an Anderson–Darling normality test rejects it"
    )

    def __post_init__(self) -> None:
        self.max_gaussian = valid.positive_int(
            "NonGaussian", "max_gaussian", self.max_gaussian, minimum=0
        )
        valid.finite_float("NonGaussian", "level", self.level, low=0.0, high=1.0, low_open=True)

    def statement(self, n, m=None):
        k = sp.Symbol("k_gauss", integer=True, nonnegative=True)
        return sp.Le(k, self.max_gaussian)


@dataclass
class SmoothPositiveDensity(Assumption):
    """p(z) is a smooth, continuous density with p(z) > 0 almost everywhere on its support.

    von Kügelgen et al. 2021, Theorem 4.2 (ii) (used by their Theorem 4.4): "p_z is a
    smooth, continuous density on Z with p_z(z) > 0 almost everywhere"; Daunhawer et al.
    2023, Theorem 1: "p_z is a smooth and continuous density on Z with p_z(z) > 0 almost
    everywhere". A Laplace latent, whose log-density has a kink at 0, is not smooth.
    """

    name: ClassVar[str] = "smooth-positive-density"
    cite: ClassVar[str] = (
        "von Kügelgen et al. 2021, NeurIPS, Theorem 4.2 (ii); Daunhawer et al. 2023, ICLR, Theorem 1"
    )
    description: ClassVar[str] = "p(z) is smooth (C^∞) and continuous, with p(z) > 0 a.e. on Z"

    def statement(self, n, m=None):
        return sp.Symbol("p_z in C^oo(Z), p_z > 0 a.e.")


@dataclass
class UniformOnSphere(Assumption):
    """The latent marginal is uniform on the unit sphere (Zimmermann et al. 2021, Thm 2)."""

    name: ClassVar[str] = "uniform-on-sphere"
    cite: ClassVar[str] = (
        "Zimmermann et al. 2021, 'Contrastive learning inverts the data generating process', ICML, Theorem 2"
    )
    description: ClassVar[str] = "p(z) = const on S^{n-1}"

    def statement(self, n, m=None):
        (z,) = coordinates(n, "z")
        return sp.Eq(sum(s**2 for s in z), 1)


@dataclass
class UniformOnConvexBody(Assumption):
    """The latent marginal is uniform on a convex body M ⊂ R^n (compact, convex, with
    nonempty interior): Zimmermann et al. 2021, Sec. 4, the convex-body theorem (a box
    [a, b]^n is one; the sphere is not, its interior is empty; R^n is not, it is
    unbounded and carries no uniform law)."""

    name: ClassVar[str] = "uniform-on-convex-body"
    cite: ClassVar[str] = (
        "Zimmermann et al. 2021, 'Contrastive learning inverts the data generating "
        "process', ICML, Theorem 5 (convex bodies)"
    )
    description: ClassVar[str] = "p(z) = 1/vol(M) on a convex body M (e.g. a box)"

    def statement(self, n, m=None):
        (z,) = coordinates(n, "z")
        return sp.Eq(sp.Function("p")(*z), 1 / sp.Symbol("vol_M", positive=True))


@dataclass
class ConditionalFamily(Assumption):
    """The positive-pair conditional belongs to a named family (e.g. von Mises–Fisher)."""

    family: str = "VonMisesFisher"
    name: ClassVar[str] = "conditional-family"
    cite: ClassVar[str] = "Zimmermann et al. 2021, Theorem 2 (vMF conditional)"
    description: ClassVar[str] = "p(z'|z) belongs to the named family (e.g. ∝ exp(κ zᵀz'))"

    def statement(self, n, m=None):
        z, w = coordinates(n, "z", "w")
        kappa = sp.Symbol("kappa", positive=True)
        if self.family == "VonMisesFisher":
            return sp.Eq(
                sp.Function("p")(*w, *z),
                sp.Function("C")(kappa)
                * sp.exp(kappa * sum(a * b for a, b in zip(z, w, strict=True))),
            )
        return sp.Symbol(f"p(z'|z) in {self.family}")


@dataclass
class ContentInvariance(Assumption):
    """Content is invariant and every style coordinate changes (von Kügelgen et al. 2021).

    With ``content=None`` the content block is the one declared by the conditional.
    """

    content: int | None = None
    name: ClassVar[str] = "content-invariance"
    cite: ClassVar[str] = (
        "von Kügelgen et al. 2021, 'Self-supervised learning with data augmentations provably "
        "isolates content from style', NeurIPS, Assumptions 3.1 and 3.2, Theorem 4.2 (iii)"
    )
    description: ClassVar[str] = (
        "z'_c = z_c almost surely for content c, and P(z'_s ≠ z_s) > 0 for each style s, "
        "with a random (not deterministic) style change"
    )

    def statement(self, n, m=None):
        k = self.content if self.content is not None else sp.Symbol("n_c", integer=True)
        i = sp.Symbol("i", integer=True)
        zp, z = sp.IndexedBase("z'"), sp.IndexedBase("z")
        return sp.Eq(zp[i], z[i]) if k is None else sp.Implies(sp.Lt(i, k), sp.Eq(zp[i], z[i]))


@dataclass
class SufficientVariability(Assumption):
    """The auxiliary variable modulates the latents enough (TCL / iVAE).

    Hyvärinen & Morioka 2016, Theorem 1; Khemakhem et al. 2020, Theorem 1: with natural
    parameters eta[u] (one row per segment u), the matrix L = [eta[u] - eta[0]]_{u>=1}
    has full column rank n. It is about latents with an auxiliary variable (segments);
    for any other latent it does not apply.
    """

    tolerance: float = 1e-6
    name: ClassVar[str] = "sufficient-variability"
    cite: ClassVar[str] = (
        "Hyvärinen & Morioka 2016, 'Unsupervised feature extraction by time-contrastive "
        "learning and nonlinear ICA', NeurIPS, Thm 1; Khemakhem et al. 2020 (iVAE), Thm 1"
    )
    description: ClassVar[str] = "rank [η(u_k) − η(u_0)]_k = n"

    def statement(self, n, m=None):
        k = sp.Symbol("k", integer=True, positive=True)
        L = sp.MatrixSymbol("L", k, n)
        return sp.Eq(sp.Function("rank")(L), n)


CATALOGUE: Registry = Registry(
    "assumption",
    {
        cls.name: cls
        for cls in (
            Injective,
            Immersion,
            Conformal,
            OrthogonalColumns,
            VolumePreserving,
            LinearMixing,
            Factorized,
            SmoothPositiveDensity,
            NonGaussian,
            UniformOnSphere,
            UniformOnConvexBody,
            ConditionalFamily,
            ContentInvariance,
            SufficientVariability,
        )
    },
)


def get(name: str) -> Assumption:
    """A catalogue assumption by name, with default parameters."""
    entry = CATALOGUE.get(name)
    return entry() if isinstance(entry, type) else entry


def register(assumption: Assumption | type[Assumption], *, replace: bool = False):
    """Add an assumption (an instance, or a class with default parameters) to the catalogue,
    so ``get`` and ``sith check NAME`` find it. An existing name is refused unless
    ``replace=True``. Checking it needs a check: ``verification.register_check``."""
    is_class = isinstance(assumption, type) and issubclass(assumption, Assumption)
    if not is_class and not isinstance(assumption, Assumption):
        raise InvalidArgument(f"register expects an Assumption, got {assumption!r}")
    name = assumption.name
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"an assumption needs a name, got {name!r}")
    return CATALOGUE.register(name, assumption, replace=replace)


def names() -> list[str]:
    return CATALOGUE.names()


__all__ = [
    "CATALOGUE",
    "Assumption",
    "ConditionalFamily",
    "Conformal",
    "ContentInvariance",
    "Factorized",
    "Immersion",
    "Injective",
    "JacobianAssumption",
    "JacobianCondition",
    "LinearMixing",
    "NonGaussian",
    "OrthogonalColumns",
    "SmoothPositiveDensity",
    "SufficientVariability",
    "UniformOnConvexBody",
    "UniformOnSphere",
    "VolumePreserving",
    "get",
    "names",
    "register",
]
