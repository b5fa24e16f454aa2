"""Conditionals p(z' | z): how the positive view (augmentation) is made from z.

Each conditional maps a batch z (N, n) to z' (N, n) with a seeded numpy Generator, and
projects onto the latent's support when told to (``support``). ``check_coherent(latent)``
refuses (``InvalidProcess``) a latent the conditional cannot be drawn around at all; a
combination that can be drawn but is not the declared family (vMF around anchors off the
sphere, additive noise projected onto a bounded support) is left to the
``conditional-family`` check, which says ``violated``. ``GeneralizedNormal`` and
``AnisotropicNormal`` instead draw their law restricted to the support (truncated, no
atoms; ``theory._truncated``) where the support allows it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory import _truncated
from theory import _validate as valid
from theory._lazy import torch
from theory._random import RNG, as_rng, tensor
from theory._spec import Spec
from theory.errors import InvalidArgument, InvalidProcess
from theory.supports import Sphere, Support


class Conditional(Spec):
    kind = "conditional"

    @property
    def family(self) -> str:
        return type(self).__name__

    def sample(self, z: torch.Tensor, seed: RNG = 0, support: Support | None = None):
        """Draw z' ~ p(z' | z) for every row of z; float64 tensor of z's shape."""
        z = torch.as_tensor(z, dtype=torch.float64)
        if z.ndim != 2:
            raise InvalidArgument(f"z must have shape (N, n), got {tuple(z.shape)}")
        out = tensor(self._draw(z.numpy(), as_rng(seed)))
        return out if support is None else support.project(out)

    def _draw(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def check_coherent(self, latent) -> None:
        """Raise ``InvalidProcess`` when positives cannot be drawn around ``latent``."""

    def check_mixing(self, mixing) -> None:
        """Raise ``InvalidProcess`` when this conditional cannot act on ``mixing``'s
        observations (pixel augmentations need an image mixing: theory/augmentations.py)."""

    def augment(self, z_pos: torch.Tensor, x_pos, rng: np.random.Generator, mixing):
        """The positive view after any observation-space augmentation: (its latents, its
        observation); ``x_pos`` None asks for the latents alone. Latent-space
        conditionals change nothing here (and draw nothing from ``rng``)."""
        return z_pos, x_pos


@dataclass
class VonMisesFisher(Conditional):
    """von Mises–Fisher around z on the sphere: p(z'|z) ∝ exp(kappa z·z').

    Exact sampler: Wood (1994), "Simulation of the von Mises Fisher distribution",
    rejection sampling of w = z·z' followed by a uniform tangent direction. The rejection
    loop runs over rounds (each vectorised over all pending rows), not over samples.
    """

    kappa: float = 10.0

    def __post_init__(self) -> None:
        valid.positive_float("VonMisesFisher", "kappa", self.kappa, maximum=valid.MAX_KAPPA)

    def check_coherent(self, latent) -> None:
        if latent.dim < 2:
            raise InvalidProcess(
                f"VonMisesFisher needs a latent on the unit sphere S^(n-1) with n >= 2, got "
                f"{latent.family} of dimension {latent.dim}"
            )

    def _draw(self, z, rng):
        n, p = z.shape
        if p < 2:
            raise InvalidProcess("VonMisesFisher needs dimension >= 2")
        mu = z / np.linalg.norm(z, axis=1, keepdims=True)
        w = self._sample_w(n, p, rng)
        v = rng.standard_normal((n, p))
        v -= np.sum(v * mu, axis=1, keepdims=True) * mu
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return w[:, None] * mu + np.sqrt(np.clip(1 - w**2, 0, None))[:, None] * v

    def _sample_w(self, n: int, p: int, rng: np.random.Generator) -> np.ndarray:
        """Wood's rejection sampler for w = z·z'.

        Accept cand when kappa cand + (p-1) log(1 - x0 cand) - c >= log U, with
        c = kappa x0 + (p-1) log(1 - x0^2). For large kappa both sides are ~kappa and
        1 - x0^2 cancels, so the test uses the algebraically equal form
        kappa (cand - x0) + (p-1) log((1 - x0 cand) / (1 - x0^2))
          = 2 kappa b (1 - 2 beta) / ((1 + b) d) + (p-1) log((1 + b) / (2 d)),
        d = 1 - (1 - b) beta, which has no cancellation (kappa b <= (p-1)/4). The
        acceptance rate stays high for every kappa in (0, 1e6] and p <= 4096 (checked
        numerically), so the loop ends after a few rounds; a hard cap guards against bugs.
        """
        kappa = float(self.kappa)
        b = (p - 1) / (2 * kappa + np.sqrt(4 * kappa**2 + (p - 1) ** 2))  # stable form
        w = np.empty(n)
        pending = np.arange(n)
        for _ in range(_MAX_ROUNDS):
            if not pending.size:
                return w
            m = pending.size
            beta = rng.beta((p - 1) / 2, (p - 1) / 2, size=m)
            d = 1 - (1 - b) * beta
            cand = (1 - (1 + b) * beta) / d
            log_ratio = 2 * kappa * b * (1 - 2 * beta) / ((1 + b) * d) + (p - 1) * np.log(
                (1 + b) / (2 * d)
            )
            accept = log_ratio >= np.log(rng.uniform(size=m))
            w[pending[accept]] = cand[accept]
            pending = pending[~accept]
        if not pending.size:
            return w
        raise RuntimeError(  # a bug, not a user error: acceptance is high for valid kappa
            f"VonMisesFisher sampler did not finish in {_MAX_ROUNDS} rounds "
            f"(kappa={kappa}, dimension {p})"
        )


_MAX_ROUNDS = 10_000


@dataclass
class _AdditiveNoise(Conditional):
    """z' = z + noise of a fixed law with a positive ``scale`` (the subclass's ``_noise``)."""

    scale: float = 0.1

    def __post_init__(self) -> None:
        valid.positive_float(type(self).__name__, "scale", self.scale)

    def _draw(self, z, rng):
        return z + self._noise(rng, z.shape)

    def _noise(self, rng, shape):
        raise NotImplementedError


@dataclass
class Normal(_AdditiveNoise):
    """z' = z + scale * eps, eps ~ N(0, I)."""

    def _noise(self, rng, shape):
        return self.scale * rng.standard_normal(shape)


@dataclass
class Laplace(_AdditiveNoise):
    """z' = z + eps, eps_i ~ Laplace(0, scale) independently."""

    def _noise(self, rng, shape):
        return rng.laplace(0.0, self.scale, size=shape)


@dataclass
class ContentStyle(Conditional):
    """Content/style augmentation (von Kügelgen et al. 2021, Sec. 4).

    The first ``content`` coordinates are kept; each style coordinate is, independently
    with probability ``p``, resampled as s'_i = s_i + scale * eps_i, eps_i ~ N(0, 1)
    (so every subset of style coordinates changes with positive probability).
    """

    content: int
    p: float = 0.5
    scale: float = 1.0

    def __post_init__(self) -> None:
        self.content = valid.positive_int("ContentStyle", "content", self.content, minimum=0)
        valid.probability("ContentStyle", "p", self.p)
        valid.positive_float("ContentStyle", "scale", self.scale)

    def check_coherent(self, latent) -> None:
        self.content_indices(latent.dim)

    def content_indices(self, n: int) -> list[int]:
        if self.content > n:
            raise InvalidProcess(
                f"ContentStyle: content block of size {self.content} exceeds the latent "
                f"dimension {n}"
            )
        return list(range(self.content))

    def _draw(self, z, rng):
        n = z.shape[1]
        self.content_indices(n)
        change = rng.uniform(size=z.shape) < self.p
        change[:, : self.content] = False
        return z + change * self.scale * rng.standard_normal(z.shape)


def _vmf_cosines(kappa: float, m: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    return VonMisesFisher(kappa=kappa)._sample_w(m, dim, rng)


def _batch(z) -> torch.Tensor:
    z = torch.as_tensor(z, dtype=torch.float64)
    if z.ndim != 2:
        raise InvalidArgument(f"z must have shape (N, n), got {tuple(z.shape)}")
    return z


@dataclass
class GeneralizedNormal(Conditional):
    """Lp-exponential noise truncated to the latent's support (Zimmermann et al. 2021, Sec. 4).

    p(z'|z) = C(z)⁻¹ exp(−Σ_i |z'_i − z_i|^β / scale^β) on the support M (C(z) the
    integral over M): β = 1 is the Laplace conditional, β = 2 a normal one with standard
    deviation scale/√2. On a support that is a product of intervals (a box, R^n, or
    products of these) the truncated law is drawn exactly, coordinate by coordinate
    (``theory._truncated.truncated_generalized_normal``): nothing is projected, so there
    are no atoms on the boundary; on R^n it is the plain generalized normal. This is the
    conditional of Zimmermann et al.'s convex-body theorem (their reference code draws it
    by rejection). On any other support (a sphere) the noise is drawn on R^n and
    projected, like the other noise conditionals, and ``conditional-family`` says
    ``violated``.
    """

    beta: float = 1.0
    scale: float = 0.1

    def __post_init__(self) -> None:
        # beta >= 0.1 keeps the draws finite (|d| ~ scale Gamma(1/beta)^(1/beta))
        # floats, so beta=1 and beta=1.0 are one process (one hash)
        self.beta = valid.finite_float("GeneralizedNormal", "beta", self.beta, low=0.1, high=100.0)
        self.scale = valid.positive_float("GeneralizedNormal", "scale", self.scale)

    def sample(self, z, seed: RNG = 0, support: Support | None = None):
        z = _batch(z)
        rng = as_rng(seed)
        bounds = _truncated.intervals(support) if support is not None else None
        if support is not None and bounds is None:
            return support.project(tensor(self._draw(z.numpy(), rng)))
        low, high = bounds if bounds is not None else (-np.inf, np.inf)
        return tensor(
            _truncated.truncated_generalized_normal(
                z.numpy(), float(self.scale), float(self.beta), low, high, rng
            )
        )

    def _draw(self, z, rng):
        return _truncated.truncated_generalized_normal(
            z, float(self.scale), float(self.beta), -np.inf, np.inf, rng
        )


@dataclass
class AnisotropicNormal(Conditional):
    """Per-coordinate concentrations: p(z'|z) ∝ exp(−½ Σ_i λ_i (z'_i − z_i)²) on the support.

    Rusak, Reizinger, Juhos, Bringmann, Zimmermann & Brendel 2024 ("InfoNCE: identifying
    the gap between theory and practice", AnInfoNCE): the positive pair changes every
    latent, by an amount set per coordinate (a large λ_i: z_i barely changes; a small
    λ_i: z_i varies strongly). ``concentrations`` = (λ_1, ..., λ_n), one per latent.
    Drawn exactly from the law restricted to the support: on the unit sphere (the paper's
    setting; density with respect to surface measure, around z/|z|) by rejection from a
    von Mises–Fisher envelope (``theory._truncated.anisotropic_on_sphere``; the
    reference code instead accepts z + ε with |‖z + ε‖ − 1| < 0.1 and projects, an
    approximation); on a product of intervals by the truncated normal of each
    coordinate; on R^n it is N(z, Λ⁻¹). Elsewhere the noise is projected
    (``conditional-family``: ``violated``). On the sphere the sampler's acceptance rate
    is about Π_i sqrt(min λ / λ_i); a spread that makes it smaller than 1e-4 is refused.
    """

    concentrations: tuple[float, ...]

    def __post_init__(self) -> None:
        values = self.concentrations
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            raise InvalidArgument(
                f"AnisotropicNormal: concentrations must be a sequence of positive numbers, "
                f"got {values!r:.80}"
            )
        values = tuple(values)
        if not values or len(values) > valid.MAX_DIM:
            raise InvalidArgument(
                f"AnisotropicNormal: concentrations must have 1..{valid.MAX_DIM} entries, "
                f"got {len(values)}"
            )
        self.concentrations = tuple(
            valid.positive_float("AnisotropicNormal", "concentrations", v, maximum=valid.MAX_KAPPA)
            for v in values
        )

    @property
    def lam(self) -> np.ndarray:
        return np.asarray(self.concentrations, dtype=np.float64)

    def check_coherent(self, latent) -> None:
        if len(self.concentrations) != latent.dim:
            raise InvalidProcess(
                f"AnisotropicNormal has {len(self.concentrations)} concentrations but the "
                f"latent has dimension {latent.dim}: give one per latent"
            )
        if isinstance(latent.support, Sphere):
            rate = _truncated.acceptance_estimate(self.lam)
            if rate < _truncated.MIN_ACCEPTANCE:
                raise InvalidProcess(
                    f"AnisotropicNormal on the sphere: concentrations from "
                    f"{min(self.concentrations):g} to {max(self.concentrations):g} in "
                    f"dimension {latent.dim} give the exact sampler an acceptance rate of "
                    f"about {rate:.2g} (< {_truncated.MIN_ACCEPTANCE:g}); narrow their range"
                )

    def _check_width(self, z: torch.Tensor) -> None:
        if z.shape[1] != len(self.concentrations):
            raise InvalidProcess(
                f"AnisotropicNormal has {len(self.concentrations)} concentrations, z has "
                f"{z.shape[1]} coordinates"
            )

    def sample(self, z, seed: RNG = 0, support: Support | None = None):
        z = _batch(z)
        self._check_width(z)
        rng = as_rng(seed)
        if isinstance(support, Sphere):
            return tensor(_truncated.anisotropic_on_sphere(z.numpy(), self.lam, rng, _vmf_cosines))
        bounds = _truncated.intervals(support) if support is not None else None
        if support is not None and bounds is None:
            return support.project(tensor(self._draw(z.numpy(), rng)))
        low, high = bounds if bounds is not None else (-np.inf, np.inf)
        scale = np.sqrt(2.0 / self.lam)  # exp(-λ d² / 2) = exp(-(d / scale)²)
        return tensor(
            _truncated.truncated_generalized_normal(z.numpy(), scale, 2.0, low, high, rng)
        )

    def _draw(self, z, rng):
        self._check_width(torch.as_tensor(z))
        return z + rng.standard_normal(z.shape) / np.sqrt(self.lam)


def generalized_normal_form(conditional: Conditional | None) -> GeneralizedNormal | None:
    """The additive noise of ``conditional`` written as a generalized normal, or None.

    The densities coincide on R^n: Laplace(b), exp(−Σ|d_i| / b), is GeneralizedNormal(β = 1,
    scale = b); Normal(σ), exp(−Σ d_i² / 2σ²), is GeneralizedNormal(β = 2, scale = σ√2); a
    GeneralizedNormal is itself. They differ only in how a bounded support is handled
    (Laplace and Normal project onto it, GeneralizedNormal restricts its law to it), which
    the ``conditional-family`` check decides separately.
    """
    if isinstance(conditional, GeneralizedNormal):
        return conditional
    if isinstance(conditional, Laplace):
        return GeneralizedNormal(beta=1.0, scale=float(conditional.scale))
    if isinstance(conditional, Normal):
        return GeneralizedNormal(beta=2.0, scale=float(conditional.scale) * float(np.sqrt(2.0)))
    return None


def equivalent(
    conditional: Conditional | None,
    family: str,
    *,
    on_sphere: bool = False,
    dim: int | None = None,
) -> Conditional | None:
    """``conditional``'s law written as sith's class named ``family``, or None when that
    class cannot write it: Laplace(b) ↔ GeneralizedNormal(1, b) and Normal(σ) ↔
    GeneralizedNormal(2, σ√2), in both directions (see :func:`generalized_normal_form`).

    On the unit sphere (``on_sphere``, latents of dimension ``dim``) also
    VonMisesFisher(κ) ↔ AnisotropicNormal((κ, …, κ)): there ‖z' − z‖² = 2 − 2 zᵀz', so
    exp(−½ κ ‖z' − z‖²) ∝ exp(κ zᵀz'). Off the sphere the two laws differ (an
    equal-concentration AnisotropicNormal on R^n is N(z, I/κ)), and None is returned.
    """
    if conditional is None:
        return None
    if type(conditional).__name__ == family:
        return conditional
    if on_sphere:
        same = _sphere_equivalent(conditional, family, dim)
        if same is not None:
            return same
    form = generalized_normal_form(conditional)
    if form is None:
        return None
    if family == "GeneralizedNormal":
        return form
    if family == "Laplace" and form.beta == 1.0:
        return Laplace(scale=float(form.scale))
    if family == "Normal" and form.beta == 2.0:
        return Normal(scale=float(form.scale) / float(np.sqrt(2.0)))
    return None


def _sphere_equivalent(conditional: Conditional, family: str, dim: int | None):
    if family == "AnisotropicNormal" and isinstance(conditional, VonMisesFisher) and dim:
        return AnisotropicNormal((float(conditional.kappa),) * int(dim))
    if family == "VonMisesFisher" and isinstance(conditional, AnisotropicNormal):
        values = set(conditional.concentrations)
        if len(values) == 1 and (dim is None or len(conditional.concentrations) == dim):
            return VonMisesFisher(kappa=values.pop())
    return None


__all__ = [
    "AnisotropicNormal",
    "Conditional",
    "ContentStyle",
    "GeneralizedNormal",
    "Laplace",
    "Normal",
    "VonMisesFisher",
    "equivalent",
    "generalized_normal_form",
]
