"""Hypothesis strategies for theory objects, for searches and for users' own ``@given`` tests.

Each strategy lists its options simplest first, so hypothesis shrinks toward small
dimensions and the simplest families::

    from hypothesis import given
    from verification import strategies as sst

    @given(sst.processes(dims=(2, 4), mixing_classes=("linear", "mobius")))
    def test_my_claim(process): ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import hypothesis
import numpy as np
from hypothesis import strategies as st

import theory as th
from theory.errors import InvalidArgument
from verification.registry import Registry

LATENTS = (
    "uniform-sphere",
    "laplace",
    "uniform",
    "normal",
    "generalized-normal",
    "segmented",
    "cluster-sphere",
    "segmented-normal",
)
MIXINGS = ("linear", "invertible-mlp", "mobius", "additive-coupling", "fold")
CONDITIONALS = (
    "vmf",
    "normal",
    "laplace",
    "content-style",
    "generalized-normal",
    "anisotropic-normal",
    "none",
)
# drawn by ``processes`` only: built on the mixing they augment (rendered images)
IMAGE_CONDITIONALS = ("augment",)
IMAGE_MIXINGS = {"sprites"}  # the mixing families whose images "augment" can augment
BETAS = (1.0, 2.0, 1.5, 3.0)  # generalized-normal exponents, Laplace first


@dataclass(frozen=True)
class MixingFamily:
    """A user's mixing family: ``factory(n, seed) -> Mixing`` for n in ``dims``."""

    factory: Callable[[int, int], th.mixings.Mixing]
    dims: tuple[int, int] = (1, 4096)


MIXING_FAMILIES = Registry("mixing family")


def register_mixing(
    name: str,
    factory: Callable[[int, int], th.mixings.Mixing],
    *,
    dims: tuple[int, int] = (1, 4096),
    replace: bool = False,
) -> MixingFamily:
    """Make a mixing family searchable by name (in ``SearchSpace(mixings=...)``).

    ``factory(n, seed)`` returns a mixing R^n -> R^n (seeds 0..9 are drawn; a fixed map
    may ignore the seed); ``dims`` are the dimensions it exists in (e.g. ``(3, 3)`` for
    a paper's 3-d map). A built-in name, or a registered one, is refused unless
    ``replace=True`` (built-ins cannot be replaced).
    """
    if name in MIXINGS:
        raise InvalidArgument(f"{name!r} is a built-in mixing class; choose another name")
    if not callable(factory):
        raise InvalidArgument(f"a mixing family needs a factory(n, seed), got {factory!r}")
    low, high = _range(dims, "dims")
    family = MixingFamily(factory, (int(low), int(high)))
    MIXING_FAMILIES.register(name, family, replace=replace)
    return family


def _registered_mixing(name: str, n: int, seed: int) -> th.mixings.Mixing:
    mixing = MIXING_FAMILIES[name].factory(n, seed)
    if not isinstance(mixing, th.mixings.Mixing) or mixing.n_in != n:
        raise InvalidArgument(
            f"mixing family {name!r}: factory({n}, {seed}) returned {mixing!r}, not a Mixing "
            f"of dimension {n}"
        )
    return mixing


def _check(names: Sequence[str], known: Sequence[str], what: str) -> tuple[str, ...]:
    names = tuple(names)
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise InvalidArgument(f"unknown {what} {bad or names!r}; choose from {', '.join(known)}")
    return names


def _range(bounds: tuple[float, float], name: str) -> tuple[float, float]:
    low, high = bounds
    if not low <= high:
        raise InvalidArgument(f"{name} range must have low <= high, got {bounds}")
    return low, high


def latents(n: int, families: Sequence[str] = LATENTS) -> st.SearchStrategy[th.latents.Latent]:
    """Latent distributions of dimension n."""
    families = _check(families, LATENTS, "latent families")
    options = []
    for family in families:
        if family == "uniform-sphere":
            if n >= 2:
                options.append(st.just(th.latents.UniformSphere(n)))
        elif family == "laplace":
            options.append(st.just(th.latents.Laplace(n)))
        elif family == "uniform":
            options.append(st.just(th.latents.Uniform(n)))
        elif family == "normal":
            options.append(st.just(th.latents.Normal(n)))
        elif family == "generalized-normal":
            options.append(
                st.sampled_from([0.5, 1.5, 3.0]).map(
                    lambda beta: th.latents.GeneralizedNormal(n, beta=beta)
                )
            )
        elif family == "segmented":
            options.append(
                st.builds(
                    lambda k, spread, seed: th.latents.Segmented(
                        n, n_segments=k, spread=spread, seed=seed
                    ),
                    st.integers(max(2, n + 1), max(12, n + 1)),
                    st.sampled_from([1.5, 0.5, 0.0]),
                    st.integers(0, 3),
                )
            )
        elif family == "segmented-normal":
            # Gaussian segments with moving means and variances (iVAE): t = (z, z²), so
            # sufficient variability needs 2n + 1 segments; location/spread 0 break it
            options.append(
                st.builds(
                    lambda k, location, spread, seed: th.latents.Segmented(
                        n,
                        n_segments=k,
                        base="normal",
                        location=location,
                        spread=spread,
                        seed=seed,
                    ),
                    st.sampled_from([40, 2 * n + 1, 2 * n, 2]),
                    st.sampled_from([1.0, 0.0, 3.0]),
                    st.sampled_from([1.5, 0.5, 0.0]),
                    st.integers(0, 3),
                )
            )
        elif family == "cluster-sphere" and n >= 2:
            # Reizinger et al. 2025: at least n + 1 clusters affinely span R^n; n and 2 do not
            options.append(
                st.builds(
                    lambda k, kappa, seed: th.latents.ClusterSphere(
                        n, n_clusters=k, kappa=kappa, seed=seed
                    ),
                    st.sampled_from([100, n + 1, 10, n, 2]),
                    st.sampled_from([10.0, 5.0, 50.0]),
                    st.integers(0, 3),
                )
            )
    if not options:
        raise InvalidArgument(f"no latent family in {families} supports dimension {n}")
    return st.one_of(options)


def mixings(
    n: int, classes: Sequence[str] = MIXINGS, depth: tuple[int, int] = (1, 3)
) -> st.SearchStrategy[th.mixings.Mixing]:
    """Mixing functions R^n -> R^n; seeds are drawn too."""
    classes = _check(classes, (*MIXINGS, *MIXING_FAMILIES), "mixing classes")
    low, high = _range(depth, "depth")
    seeds = st.integers(0, 9)
    options = []
    for cls in classes:
        if cls == "linear":
            options.append(seeds.map(lambda s: th.mixings.Linear.random(n, seed=s)))
        elif cls == "invertible-mlp":
            options.append(
                st.builds(
                    lambda d, s: th.mixings.InvertibleMLP(n, depth=d, seed=s),
                    st.integers(low, high),
                    seeds,
                )
            )
        elif cls == "mobius":
            options.append(seeds.map(lambda s: th.mixings.Mobius(n, seed=s)))
        elif cls == "additive-coupling" and n >= 2:
            options.append(
                st.builds(
                    lambda d, s: th.mixings.AdditiveCoupling(n, depth=d, seed=s),
                    st.integers(max(1, low), high),
                    seeds,
                )
            )
        elif cls == "fold":
            options.append(st.just(th.mixings.Fold(n)))
        elif cls in MIXING_FAMILIES:
            family_low, family_high = MIXING_FAMILIES[cls].dims
            if family_low <= n <= family_high:
                options.append(seeds.map(lambda s, cls=cls: _registered_mixing(cls, n, s)))
    if not options:
        raise InvalidArgument(f"no mixing class in {classes} supports dimension {n}")
    return st.one_of(options)


def conditionals(
    families: Sequence[str] = CONDITIONALS,
    kappa: tuple[float, float] = (1.0, 50.0),
    scale: tuple[float, float] = (0.05, 1.0),
    content: int = 1,
    n: int | None = None,
    betas: Sequence[float] = BETAS,
    *,
    _images: bool = False,
) -> st.SearchStrategy[th.conditionals.Conditional | None]:
    """Positive-pair conditionals ("none" draws None: no augmentation).

    "generalized-normal": exponent β in ``betas`` (default 1, 2, 1.5, 3: Laplace first),
    ``scale``;
    "anisotropic-normal": n concentrations linearly spaced from λ (in ``kappa``) to
    r λ, r in (2, 5, 15) (pairwise distinct), for the latent dimension ``n`` (2 where
    no dimension is given, as when a search space is validated)."""
    families = _check(
        families, CONDITIONALS + (IMAGE_CONDITIONALS if _images else ()), "conditional families"
    )
    k_low, k_high = _range(kappa, "kappa")
    s_low, s_high = _range(scale, "scale")
    kappas = st.floats(k_low, k_high).map(lambda k: round(k, 2))
    scales = st.floats(s_low, s_high).map(lambda s: round(s, 3))
    options = []
    for family in families:
        if family == "vmf":
            options.append(kappas.map(th.conditionals.VonMisesFisher))
        elif family == "normal":
            options.append(scales.map(th.conditionals.Normal))
        elif family == "laplace":
            options.append(scales.map(th.conditionals.Laplace))
        elif family == "content-style":
            options.append(
                st.sampled_from([0.75, 0.5, 0.25]).map(
                    lambda p: th.conditionals.ContentStyle(content=content, p=p)
                )
            )
        elif family == "generalized-normal":
            options.append(
                st.builds(
                    lambda beta, s: th.conditionals.GeneralizedNormal(beta=beta, scale=s),
                    st.sampled_from([float(b) for b in betas]),
                    scales,
                )
            )
        elif family == "anisotropic-normal":
            dim = 2 if n is None else n
            options.append(
                st.builds(
                    lambda lam, r, dim=dim: th.conditionals.AnisotropicNormal(
                        tuple(float(v) for v in np.linspace(lam, r * lam, dim))
                    ),
                    kappas.filter(lambda k: k > 0),
                    st.sampled_from([2.0, 5.0, 15.0]),
                )
            )
        elif family == "none":
            options.append(st.none())
        elif family == "augment":
            options.append(st.sampled_from(range(len(AUGMENTATIONS))).map(_AugmentChoice))
    return st.one_of(options)


@dataclass(frozen=True)
class _AugmentChoice:
    """An image augmentation drawn before the mixing it augments: ``processes`` turns it
    into ``Augment.for_mixing(mixing, *AUGMENTATIONS[index]())``."""

    index: int


def _augmentations():
    from theory.augmentations import ColorJitter, Crop, Translate

    return (
        lambda: (Translate(shift=0.3), ColorJitter(hue=0.15)),  # content: scale (and value)
        lambda: (Translate(shift=0.3),),  # content: scale, hue (and value)
        lambda: (Crop(scale=(0.6, 1.0)), ColorJitter(hue=0.15)),  # crops change the scale too
    )


# "augment": pixel-space augmentations of a rendered image (theory/augmentations.py), each
# stating the latents it changes (the content is the rest); only for mixings with named
# factors (the "sprites" family)
AUGMENTATIONS = _augmentations()


def _augmented(conditional, mixing: th.mixings.Mixing):
    """``conditional``, with an augmentation choice applied to ``mixing`` (rejected, so
    hypothesis draws again, when the mixing has no named factors to augment)."""
    if not isinstance(conditional, _AugmentChoice):
        return conditional
    if not hasattr(mixing, "factor_names"):
        hypothesis.reject()
    from theory.augmentations import Augment

    return Augment.for_mixing(mixing, *AUGMENTATIONS[conditional.index]())


def processes(
    dims: tuple[int, int] = (2, 5),
    latent_families: Sequence[str] = LATENTS,
    mixing_classes: Sequence[str] = MIXINGS,
    conditional_families: Sequence[str] = CONDITIONALS,
    *,
    depth: tuple[int, int] = (1, 3),
    kappa: tuple[float, float] = (1.0, 50.0),
    scale: tuple[float, float] = (0.05, 1.0),
    content: int = 1,
    view_mixing_classes: Sequence[str] = (),
    betas: Sequence[float] = (),
) -> st.SearchStrategy[th.Process]:
    """Whole data-generating processes, dimension first (so it shrinks first).

    ``view_mixing_classes`` (default none): also draw a view-specific mixing for the
    positive view (``Process.view_mixing``) from these classes; the conditionals must
    then all make positive pairs (not "none")."""
    low, high = _range(dims, "dims")
    if view_mixing_classes and "none" in conditional_families:
        raise InvalidArgument(
            "a view mixing observes positive pairs: conditional_families may not include 'none'"
        )

    @st.composite
    def build(draw):
        n = draw(st.integers(low, high))
        latent = draw(latents(n, latent_families))
        mixing = draw(mixings(n, mixing_classes, depth))
        conditional = draw(
            conditionals(
                conditional_families,
                kappa,
                scale,
                min(content, n),
                n=n,
                betas=betas or BETAS,
                _images=True,
            )
        )
        view = draw(mixings(n, view_mixing_classes, depth)) if view_mixing_classes else None
        return th.Process(latent, mixing, _augmented(conditional, mixing), view_mixing=view)

    return build()


__all__ = ["CONDITIONALS", "LATENTS", "MIXINGS", "conditionals", "latents", "mixings", "processes"]


# --- rendered images ------------------------------------------------------------------
SPRITE_FACTORS = ("scale", "x", "y", "hue", "value")
SPRITE_SHAPES = ("disc", "square", "triangle")


def sprites_family(n: int, seed: int) -> th.mixings.Mixing:
    """``th.mixings.Sprites`` at 16×16 whose n latents drive the first n of
    ``SPRITE_FACTORS`` (no rotation: its symmetries are known collisions), the shape
    chosen by the seed, the hue range short of a full turn (so it does not wrap)."""
    return th.mixings.Sprites(
        size=16,
        shape=SPRITE_SHAPES[seed % len(SPRITE_SHAPES)],
        factors=SPRITE_FACTORS[:n],
        ranges={"hue": (0.0, 0.75)},
    )


register_mixing("sprites", sprites_family, dims=(1, len(SPRITE_FACTORS)))
