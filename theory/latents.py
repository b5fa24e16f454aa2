"""Latent distributions p(z): seeded samplers, supports and sympy log-densities.

Each latent is a dataclass spec. ``sample(n, seed)`` returns a float64 tensor of shape
(n, dim); ``log_density()`` returns a sympy expression in ``symbols()`` (or ``None``
where no Lebesgue density exists, e.g. the uniform distribution on the sphere);
``marginal_log_densities()`` returns one univariate log-density per coordinate for
factorised families (used to decide Gaussianity exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from theory import _validate as valid
from theory._lazy import stats, torch
from theory._random import RNG, as_rng, tensor
from theory._resources import require_memory
from theory._spec import Spec
from theory.errors import InvalidArgument
from theory.supports import Box, ProductSupport, RealSpace, Sphere, Support


def latent_symbols(n: int, start: int = 1) -> tuple[sp.Symbol, ...]:
    """Real symbols z1..zn (the names used across sith's symbolic layer)."""
    return tuple(sp.Symbol(f"z{i}", real=True) for i in range(start, start + n))


def _check_dim(owner: str, n, minimum: int = 1) -> int:
    return valid.positive_int(owner, "n", n, minimum=minimum)


def _check_interval(owner: str, low, high) -> None:
    valid.bounded_float(owner, "low", low)
    valid.bounded_float(owner, "high", high)
    if not high > low:
        raise InvalidArgument(f"{owner}: needs high > low, got low={low!r}, high={high!r}")


class Latent(Spec):
    """Base class: a distribution of latent vectors z in R^dim."""

    kind = "latent"

    @property
    def dim(self) -> int:
        return self.n  # type: ignore[attr-defined]

    @property
    def support(self) -> Support:
        return RealSpace(self.dim)

    @property
    def family(self) -> str:
        return type(self).__name__

    def symbols(self) -> tuple[sp.Symbol, ...]:
        return latent_symbols(self.dim)

    def sample(self, n: int, seed: RNG = 0) -> torch.Tensor:
        """Draw ``n`` samples, shape (n, dim), float64."""
        if n < 1:
            raise InvalidArgument(f"number of samples must be positive, got {n}")
        return tensor(self._draw(as_rng(seed), int(n)))

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    def log_density(self, symbols: tuple[sp.Symbol, ...] | None = None) -> sp.Expr | None:
        """log p(z) as a sympy expression, or None where there is no density on R^dim."""
        marginals = self.marginal_log_densities(symbols)
        return None if marginals is None else sp.Add(*marginals)

    def marginal_log_densities(
        self, symbols: tuple[sp.Symbol, ...] | None = None
    ) -> list[sp.Expr] | None:
        """One log-density per coordinate, for factorised families; else None."""
        return None

    def gaussian_components(self) -> list[bool] | None:
        """Which coordinates are Gaussian, when the family says so exactly."""
        return None


@dataclass
class Normal(Latent):
    """Multivariate normal N(0, cov); identity covariance when ``cov`` is None."""

    n: int
    cov: list[list[float]] | None = None

    def __post_init__(self) -> None:
        self.n = _check_dim("Normal", self.n)
        if self.cov is not None:
            cov = valid.finite_matrix("Normal", "cov", self.cov, shape=(self.n, self.n))
            if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() <= 0:
                raise InvalidArgument("Normal: cov must be symmetric positive definite")
            self.cov = cov.tolist()

    def _cov(self) -> np.ndarray:
        return np.eye(self.n) if self.cov is None else np.asarray(self.cov)

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.standard_normal((n, self.n)) @ np.linalg.cholesky(self._cov()).T

    def log_density(self, symbols: tuple[sp.Symbol, ...] | None = None) -> sp.Expr:
        z = sp.Matrix(symbols or self.symbols())
        if self.cov is None:
            precision, logdet = sp.eye(self.n), 0
        else:
            precision = sp.Matrix(np.linalg.inv(self._cov()))
            logdet = float(np.linalg.slogdet(self._cov())[1])
        quad = (z.T * precision * z)[0, 0]
        return -quad / 2 - sp.Rational(self.n, 2) * sp.log(2 * sp.pi) - sp.S(logdet) / 2

    def marginal_log_densities(self, symbols=None):
        if self.cov is not None and not np.allclose(self._cov(), np.diag(np.diag(self._cov()))):
            return None
        variances = np.diag(self._cov())
        syms = symbols or self.symbols()
        out = []
        for s, v in zip(syms, variances, strict=True):
            var = sp.nsimplify(float(v))
            out.append(-(s**2) / (2 * var) - sp.log(2 * sp.pi * var) / 2)
        return out

    def gaussian_components(self) -> list[bool]:
        return [True] * self.n


@dataclass
class Laplace(Latent):
    """Independent Laplace components with density exp(-|z_i|/scale) / (2 scale)."""

    n: int
    scale: float = 1.0

    def __post_init__(self) -> None:
        self.n = _check_dim("Laplace", self.n)
        valid.positive_float("Laplace", "scale", self.scale)

    def _draw(self, rng, n):
        return rng.laplace(0.0, self.scale, size=(n, self.n))

    def marginal_log_densities(self, symbols=None):
        b = sp.nsimplify(self.scale)
        return [-sp.Abs(s) / b - sp.log(2 * b) for s in (symbols or self.symbols())]

    def gaussian_components(self) -> list[bool]:
        return [False] * self.n


@dataclass
class GeneralizedNormal(Latent):
    """Independent generalized normal components, density ∝ exp(-|z_i/scale|^beta).

    beta = 2 is Gaussian, beta = 1 Laplace, beta -> inf approaches uniform.
    """

    n: int
    beta: float = 1.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        self.n = _check_dim("GeneralizedNormal", self.n)
        # beta >= 0.1 keeps draws finite: |z| ~ scale * Gamma(1/beta)^(1/beta)
        valid.finite_float("GeneralizedNormal", "beta", self.beta, low=0.1, high=1000.0)
        valid.positive_float("GeneralizedNormal", "scale", self.scale)

    def _draw(self, rng, n):
        return stats.gennorm.rvs(self.beta, scale=self.scale, size=(n, self.n), random_state=rng)

    def marginal_log_densities(self, symbols=None):
        beta, a = sp.nsimplify(self.beta), sp.nsimplify(self.scale)
        norm = sp.log(beta / (2 * a * sp.gamma(1 / beta)))
        return [-((sp.Abs(s) / a) ** beta) + norm for s in (symbols or self.symbols())]

    def gaussian_components(self) -> list[bool]:
        return [float(self.beta) == 2.0] * self.n


@dataclass
class Uniform(Latent):
    """Uniform on the box [low, high]^n."""

    n: int
    low: float = -1.0
    high: float = 1.0

    def __post_init__(self) -> None:
        self.n = _check_dim("Uniform", self.n)
        _check_interval("Uniform", self.low, self.high)

    @property
    def support(self) -> Support:
        return Box(self.n, self.low, self.high)

    def _draw(self, rng, n):
        return rng.uniform(self.low, self.high, size=(n, self.n))

    def marginal_log_densities(self, symbols=None):
        width = sp.nsimplify(self.high - self.low)
        return [-sp.log(width) + 0 * s for s in (symbols or self.symbols())]

    def gaussian_components(self) -> list[bool]:
        return [False] * self.n


@dataclass
class UniformSphere(Latent):
    """Uniform on the unit sphere S^{n-1} in R^n (Zimmermann et al. 2021)."""

    n: int

    def __post_init__(self) -> None:
        self.n = _check_dim("UniformSphere", self.n, minimum=2)

    @property
    def support(self) -> Support:
        return Sphere(self.n)

    def _draw(self, rng, n):
        z = rng.standard_normal((n, self.n))
        return z / np.linalg.norm(z, axis=1, keepdims=True)


@dataclass
class Product(Latent):
    """Independent blocks z = (z_block1, z_block2, ...), e.g. content and style."""

    blocks: tuple[Latent, ...]

    def __post_init__(self) -> None:
        self.blocks = valid.blocks("Product", self.blocks, Latent)

    @property
    def dim(self) -> int:
        return sum(b.dim for b in self.blocks)

    @property
    def support(self) -> Support:
        return ProductSupport(tuple(b.support for b in self.blocks))

    def _draw(self, rng, n):
        return np.concatenate([b._draw(rng, n) for b in self.blocks], axis=1)

    def _split(self, symbols):
        syms = symbols or self.symbols()
        out, start = [], 0
        for b in self.blocks:
            out.append(tuple(syms[start : start + b.dim]))
            start += b.dim
        return out

    def log_density(self, symbols=None):
        parts = [b.log_density(s) for b, s in zip(self.blocks, self._split(symbols), strict=True)]
        return None if any(p is None for p in parts) else sp.Add(*parts)

    def marginal_log_densities(self, symbols=None):
        parts = [
            b.marginal_log_densities(s)
            for b, s in zip(self.blocks, self._split(symbols), strict=True)
        ]
        return None if any(p is None for p in parts) else [m for p in parts for m in p]

    def gaussian_components(self):
        parts = [b.gaussian_components() for b in self.blocks]
        return None if any(p is None for p in parts) else [g for p in parts for g in p]


MAX_SPREAD = 50.0  # Segmented.spread: exp(2 * 50) is far from overflowing
MAX_LOCATION = 1e3  # Segmented.location: segment means; eta = mu / sigma^2 stays finite


@dataclass
class Segmented(Latent):
    """Nonstationary sources with an observed auxiliary segment label u.

    In segment u, component i is Laplace or Normal with scale sigma_{u,i} (log-uniform
    in [-spread, spread]); this is the data model of time-contrastive learning
    (Hyvärinen & Morioka 2016) and of iVAE (Khemakhem et al. 2020), where z | u is a
    factorised exponential family with natural parameters eta_{u,i} = -1/(2 sigma_{u,i}^2)
    (Normal) or -1/sigma_{u,i} (Laplace). ``spread=0`` removes all variability of the
    scales.

    ``location`` (Normal only; default 0): segment means mu_{u,i} uniform in
    [-location, location] (drawn after the scales from the same seed, so the scales do
    not depend on it), the setting of the iVAE experiments (Khemakhem et al. 2020,
    Sec. 6: Gaussian sources whose means and variances change across segments). Then
    z_i | u ~ N(mu_{u,i}, sigma_{u,i}^2) has sufficient statistics t(z_i) = (z_i, z_i^2)
    (k = 2 per source) and natural parameters (mu/sigma^2, -1/(2 sigma^2)). A Laplace
    with a moving location is no exponential family in z (|z - mu| is not linear in
    fixed statistics), so ``location > 0`` with ``base="laplace"`` is refused. At 0 the
    field is left out of ``to_dict`` (processes written before it existed keep their
    JSON and hash).
    """

    n: int
    n_segments: int = 10
    base: str = "laplace"
    spread: float = 1.5
    seed: int = 0
    location: float = 0.0
    scales: np.ndarray = field(init=False, repr=False, compare=False)
    means: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.n = _check_dim("Segmented", self.n)
        self.n_segments = valid.positive_int(
            "Segmented", "n_segments", self.n_segments, maximum=valid.MAX_SEGMENTS
        )
        valid.one_of("Segmented", "base", self.base, ("laplace", "normal"))
        # scales = exp(U[-spread, spread]) and eta = -1/(2 scales^2) stay finite
        valid.finite_float("Segmented", "spread", self.spread, low=0.0, high=MAX_SPREAD)
        self.seed = valid.seed("Segmented", "seed", self.seed)
        # a float, so location=1 and location=1.0 are one process (one hash)
        self.location = valid.finite_float(
            "Segmented", "location", self.location, low=0.0, high=MAX_LOCATION
        )
        if self.location > 0 and self.base != "normal":
            raise InvalidArgument(
                f"Segmented: location={self.location!r} needs base='normal' (segment means "
                "keep z | u in an exponential family only for Normal sources; a Laplace "
                "with a moving location is not one)"
            )
        require_memory(
            32 * self.n_segments * self.n,
            f"Segmented(n={self.n}, n_segments={self.n_segments}) (segment scales)",
            "use fewer segments",
        )
        rng = as_rng(self.seed)
        self.scales = np.exp(rng.uniform(-self.spread, self.spread, (self.n_segments, self.n)))
        if self.location > 0:
            self.means = rng.uniform(-self.location, self.location, (self.n_segments, self.n))
        else:
            self.means = np.zeros((self.n_segments, self.n))

    def params(self) -> dict:
        out = super().params()
        if out.get("location") == 0:
            del out["location"]  # the default: JSON (and hash) as before the field existed
        return out

    @property
    def statistics_per_source(self) -> int:
        """k, the number of sufficient statistics per source: 2 with segment means
        (z_i, z_i^2), else 1 (|z_i| or z_i^2)."""
        return 2 if self.location > 0 else 1

    def natural_parameters(self) -> np.ndarray:
        """eta[u, :], shape (n_segments, k n), for the sufficient statistics t(z) of
        :meth:`sufficient_statistics` (same column order): -1/sigma (|z_i|, Laplace) or
        -1/(2 sigma^2) (z_i^2, Normal); with segment means, the n coefficients
        mu/sigma^2 of z_1..z_n, then the n coefficients -1/(2 sigma^2) of z_1^2..z_n^2."""
        if self.base == "laplace":
            return -1.0 / self.scales
        quadratic = -0.5 / self.scales**2
        if self.location > 0:
            return np.concatenate([self.means / self.scales**2, quadratic], axis=1)
        return quadratic

    def sufficient_statistics(self, z):
        """t(z), shape (N, k n), a tensor or array like ``z``: |z| (Laplace), z^2
        (Normal), or (z, z^2) (Normal with segment means)."""
        if self.base == "laplace":
            return abs(z)
        if self.location > 0:
            if isinstance(z, torch.Tensor):
                return torch.cat([z, z**2], dim=-1)
            return np.concatenate([z, z**2], axis=-1)
        return z**2

    def sample_with_segments(self, n: int, seed: RNG = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples z (n, dim) and their segment labels u (n,), drawn uniformly at random."""
        rng = as_rng(seed)
        u = rng.integers(0, self.n_segments, size=n)
        scale = self.scales[u]
        if self.base == "laplace":
            z = rng.laplace(0.0, 1.0, size=(n, self.n)) * scale
        else:
            z = rng.standard_normal((n, self.n)) * scale
            if self.location > 0:
                z = z + self.means[u]
        return tensor(z), torch.from_numpy(u)

    def _draw(self, rng, n):
        return self.sample_with_segments(n, rng)[0].numpy()

    def gaussian_components(self):
        return None  # a scale mixture: not Gaussian, but not decidable from the family


MAX_CLUSTERS = 10_000  # ClusterSphere.n_clusters (the paper's largest setting has 10^4)


@dataclass
class ClusterSphere(Latent):
    """Cluster-centric latents on the sphere with observed class labels.

    Reizinger, Bizeul, Juhos, Vogt, Balestriero, Brendel & Klindt 2025, "Cross-entropy is
    all you need to invert the data generating process", ICLR, Assumption 3: a finite
    set of classes c = 0..n_clusters-1 with unit cluster vectors v_c in S^{n-1} (here
    drawn uniformly on the sphere from ``seed``, as in the paper's simulations); a
    sample's class C is uniform over the classes, and its latent is von Mises–Fisher
    around its class's cluster vector, p(z | C) ∝ exp(kappa v_Cᵀ z) (exact sampler:
    Wood 1994, as ``conditionals.VonMisesFisher``). The label y = C is observed with x
    (``sample_with_labels``); ``sample`` draws z alone (the marginal, a vMF mixture).

    The posterior of the class is P(C = c | z) = softmax_c(kappa v_cᵀ z)
    (:meth:`class_logits`): the Bayes-optimal classifier that cross-entropy training
    approaches. There is no density on R^n (the support is the sphere), so
    ``log_density`` is None, as for ``UniformSphere``.
    """

    n: int
    n_clusters: int = 100
    kappa: float = 10.0
    seed: int = 0
    centres: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.n = _check_dim("ClusterSphere", self.n, minimum=2)
        self.n_clusters = valid.positive_int(
            "ClusterSphere", "n_clusters", self.n_clusters, maximum=MAX_CLUSTERS
        )
        self.kappa = valid.positive_float(
            "ClusterSphere", "kappa", self.kappa, maximum=valid.MAX_KAPPA
        )
        self.seed = valid.seed("ClusterSphere", "seed", self.seed)
        require_memory(
            8 * self.n_clusters * self.n,
            f"ClusterSphere(n={self.n}, n_clusters={self.n_clusters}) (cluster vectors)",
            "use fewer clusters",
        )
        v = as_rng(self.seed).standard_normal((self.n_clusters, self.n))
        self.centres = v / np.linalg.norm(v, axis=1, keepdims=True)

    @property
    def support(self) -> Support:
        return Sphere(self.n)

    @property
    def n_classes(self) -> int:
        return self.n_clusters

    def sample_with_labels(self, n: int, seed: RNG = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples z (n, dim) and their class labels y (n,), y uniform over the classes."""
        if n < 1:
            raise InvalidArgument(f"number of samples must be positive, got {n}")
        from theory.conditionals import VonMisesFisher

        rng = as_rng(seed)
        y = rng.integers(0, self.n_clusters, size=n)
        z = VonMisesFisher(self.kappa)._draw(self.centres[y], rng)
        return tensor(z), torch.from_numpy(y)

    def class_logits(self, z: torch.Tensor) -> torch.Tensor:
        """kappa v_cᵀ z for every class c, shape (N, n_clusters): log P(C = c | z) up to a
        constant per row (the classes are equally likely)."""
        z = torch.as_tensor(z, dtype=torch.float64)
        return self.kappa * z @ torch.from_numpy(self.centres).T

    def _draw(self, rng, n):
        return self.sample_with_labels(n, rng)[0].numpy()


__all__ = [
    "ClusterSphere",
    "GeneralizedNormal",
    "Laplace",
    "Latent",
    "Normal",
    "Product",
    "Segmented",
    "Uniform",
    "UniformSphere",
    "latent_symbols",
]
