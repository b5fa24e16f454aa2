"""Pixel-space augmentations as conditionals (theory/augmentations.py): each op's stated
latent effect is what the augmented image shows; seeded, serialisable, composable."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import theory as th
from theory import augmentations as au
from theory.errors import InvalidArgument, InvalidProcess
from verification import check

FACTORS = ("scale", "rotation", "x", "y", "hue")


def sprites(**kw):
    kw = {"size": 32, "shape": "square", "factors": FACTORS, **kw}
    kw.setdefault("ranges", {"rotation": (0.0, math.pi / 4)})
    return th.mixings.Sprites(**kw)


def pairs(*ops, n=256, seed=0, latent=None, mixing=None):
    g = mixing or sprites()
    p = th.Process(
        th.latents.Uniform(g.n_in, -0.5, 0.5), g, au.Augment.for_mixing(g, *ops, latent=latent)
    )
    return g, p.sample_pairs(n, seed)


def relative(a, b):
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize(
    ("op", "bound"),
    [
        (au.Flip(p=1.0), 1e-7),  # exact (float32 pixel work): the pixel grid is symmetric
        (au.ColorJitter(hue=0.2), 1e-6),  # exact on black, up to kornia's HSV epsilon
        (au.Translate(shift=0.2), 0.06),  # bilinear resampling
        (au.Crop(scale=(0.6, 1.0)), 0.15),
    ],
)
def test_the_stated_latent_effect_is_what_the_image_shows(op, bound):
    """g(z'') ≈ a(g(z')) for the latent equivalent z'' the pair reports; the anchor's own
    latents (as if the op changed nothing) are far off."""
    g, (z, z_pos, _, x_pos) = pairs(op)
    error = relative(g(z_pos), x_pos)
    assert error < bound
    assert relative(g(z), x_pos) > max(4 * error, 0.05)
    changed = (z_pos - z).abs().amax(0) > 1e-12
    stated = {g.factors[k] for k in range(len(FACTORS)) if changed[k]}
    assert stated == set(op.factors_changed())


def test_nuisances_change_pixels_and_no_latent():
    g, (z, z_pos, _, x_pos) = pairs(
        au.Blur(sigma=(0.5, 1.0)), au.ColorJitter(hue=0.0, brightness=0.2)
    )
    assert torch.equal(z, z_pos)
    assert relative(g(z), x_pos) > 0.05


def test_seeded_and_serialisable():
    g = sprites()
    cond = au.Augment.for_mixing(g, au.Crop(), au.ColorJitter(hue=0.1, saturation=0.2), au.Blur())
    p = th.Process(th.latents.Uniform(5), g, cond)
    a, b = p.sample_pairs(64, 3), p.sample_pairs(64, 3)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert not torch.equal(a[3], p.sample_pairs(64, 4)[3])
    q = th.Process.from_json(p.to_json())
    assert q == p and q.hash == p.hash
    assert all(torch.equal(u, v) for u, v in zip(q.sample_pairs(64, 3), a, strict=True))
    assert torch.equal(p.positive_latents(a[0], 5), p.positive_latents(a[0], 5))


def test_content_is_what_no_op_touches_and_the_check_agrees():
    g = sprites()
    cond = au.Augment.for_mixing(g, au.Translate(0.2), au.ColorJitter(hue=0.1))
    assert cond.content == 2 and cond.changed() == [False, False, True, True, True]
    p = th.Process(th.latents.Uniform(5), g, cond)
    assert check("content-invariance", p, n_points=256).verdict == "holds"
    # a crop changes the scale, the first factor: rotation, left alone, is then "style"
    # that never changes
    crop = th.Process(
        th.latents.Uniform(5), g, au.Augment.for_mixing(g, au.Crop(), au.ColorJitter())
    )
    assert crop.conditional.content == 0
    e = check("content-invariance", crop, n_points=256)
    assert e.verdict == "violated" and e.witness == {"coordinate": 1}


def test_composes_with_a_latent_conditional():
    latent = th.conditionals.ContentStyle(content=3, p=1.0, scale=0.1)
    g, (z, z_pos, _, _) = pairs(au.ColorJitter(hue=0.1), latent=latent)
    moved = (z_pos - z).abs().amax(0) > 1e-12
    assert moved.tolist() == [False, False, False, True, True]  # y by ContentStyle, hue by jitter
    cond = au.Augment.for_mixing(g, au.ColorJitter(hue=0.1), latent=latent)
    assert cond.content == 3


def test_bad_input_is_one_clear_error():
    g = sprites()
    with pytest.raises(InvalidProcess, match="differ from the mixing"):
        th.Process(
            th.latents.Uniform(5),
            g,
            au.Augment((au.Flip(),), ("x", "y", "scale", "rotation", "hue")),
        )
    with pytest.raises(InvalidProcess, match="image mixing"):
        th.Process(
            th.latents.Uniform(2), th.mixings.Mobius(2), au.Augment((au.Flip(),), ("x", "y"))
        )
    with pytest.raises(InvalidArgument, match="kernel must be odd"):
        au.Blur(kernel=4)
    with pytest.raises(InvalidArgument, match="hue"):
        au.ColorJitter(hue=0.9)
    with pytest.raises(InvalidArgument, match="ops"):
        au.Augment(("crop",), FACTORS)
    data = th.Process(th.latents.Uniform(5), g, au.Augment.for_mixing(g, au.Flip())).to_dict()
    data["conditional"]["ops"][0]["exec"] = "x"
    with pytest.raises(InvalidProcess, match="unknown parameter"):
        th.Process.from_dict(data)


def test_the_core_import_does_not_load_kornia():
    code = "import sys, theory; assert 'kornia' not in sys.modules, 'kornia imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_pixel_search_space_draws_image_augmentations_of_its_own_renderer():
    """The "augment" family is built on the mixing it augments (Augment.for_mixing), so
    its content is the latents the ops leave alone; it is refused for a mixing without
    named factors (hypothesis draws again)."""
    from hypothesis import HealthCheck, given, settings

    from verification import strategies as sst
    from verification.spaces import PIXEL_SPACES

    assert "augment" in PIXEL_SPACES["content-style-pixels"].conditionals
    drawn = []

    @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(sst.processes((3, 5), ("uniform",), ("sprites", "linear"), ("augment",)))
    def draw(process):
        assert isinstance(process.conditional, au.Augment)
        assert process.conditional.factors == tuple(process.mixing.factor_names)
        changed = process.conditional.changed()
        assert changed[1] and changed[2]  # every choice moves the position (x, y)
        _, _, x, x_pos = process.sample_pairs(4, np.random.default_rng(0))
        assert x_pos.shape == x.shape and bool(torch.isfinite(x_pos).all())
        drawn.append(tuple(type(op).__name__ for op in process.conditional.ops))

    draw()
    assert len(set(drawn)) >= 2


def test_augment_without_an_image_mixing_is_one_clear_line():
    from verification.spaces import SearchSpace

    with pytest.raises(InvalidArgument, match=r"augment.*image mixing"):
        SearchSpace(
            dims=(2, 3), latents=("uniform",), mixings=("linear",), conditionals=("augment",)
        ).validate()
