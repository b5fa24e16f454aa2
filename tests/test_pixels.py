"""Rendered image mixings (theory/sprites.py): known answers for the renderer and for
the checks on pixels (injectivity witnesses a reader recognises, immersion, Jacobian
statistics)."""

import colorsys
import math

import numpy as np
import pytest
import torch

import theory as th
from theory.errors import InvalidArgument, InvalidProcess
from theory.sprites import hsv_to_rgb
from verification import check
from verification.jacobians import finite_difference_jacobian, jacobian

S = th.mixings.Sprites
FAST = {"n_points": 192, "adversarial_steps": 10}


def process(mixing):
    return th.Process(th.latents.Uniform(mixing.n_in), mixing)


def centred(mixing, **physical):
    """Latents putting every factor at the given physical values (default: centre)."""
    z = torch.zeros(1, mixing.n_in, dtype=torch.float64)
    for k, name in enumerate(mixing.factors):
        if name in physical:
            z[0, k] = mixing.to_latent(torch.tensor(physical[name], dtype=torch.float64), name)
        else:
            z[0, k] = mixing.to_latent(torch.tensor(th.sprites.DEFAULTS[name]), name)
    return z


# --- the renderer ---------------------------------------------------------------------


def test_public_form_round_trip_and_hash():
    g = S(size=32, shape="square", factors=("x", "y", "scale"))
    assert (g.n_in, g.n_out, g.image_shape) == (3, 3 * 32 * 32, (3, 32, 32))
    p = th.Process(th.latents.Uniform(3), g)
    q = th.Process.from_json(p.to_json())
    assert q == p and q.hash == p.hash
    z = p.latent.sample(16, 0)
    assert torch.equal(q.mixing(z), g(z))
    other = th.Process(th.latents.Uniform(3), S(size=32, shape="disc", factors=("x", "y", "scale")))
    assert other.hash != p.hash
    many = S(
        size=16,
        shape="morph",
        factors=("x", "shape"),
        objects=3,
        ranges={"x": (-0.5, 0.5)},
        fixed={"hue": 0.3},
        background=(0.1, 0.2, 0.3),
    )
    again = th.mixings.Mixing.from_dict(many.to_dict())
    assert again.to_dict() == many.to_dict()
    assert many.factor_names == ["x1", "shape1", "x2", "shape2", "x3", "shape3"]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"factors": ("x", "colour")}, "unknown factor 'colour'"),
        ({"shape": "star"}, "unknown shape"),
        ({"factors": ("shape",)}, 'needs shape="morph"'),
        ({"size": 4}, "size"),
        ({"objects": 4}, "objects"),
        ({"ranges": {"x": (1.0, 0.0)}}, "low < high"),
        ({"fixed": {"x": 0.1}}, "latent factor"),
        ({"factors": ("x", "x")}, "repeat"),
        ({"background": (0.0, 2.0, 0.0)}, "background"),
    ],
)
def test_bad_input_is_one_clear_error(kwargs, needle):
    with pytest.raises(InvalidArgument, match=needle):
        S(**kwargs)


def test_a_file_cannot_smuggle_parameters():
    data = S(size=16).to_dict() | {"code": "import os"}
    with pytest.raises(InvalidProcess, match="unknown parameter"):
        th.mixings.Mixing.from_dict(data)


@pytest.mark.parametrize(
    ("shape", "area"),
    [("disc", math.pi), ("square", 4.0), ("triangle", 3 * math.sqrt(3) / 4)],
)
def test_coverage_is_the_shapes_area(shape, area):
    """Mean coverage of the canvas [-1, 1]² (area 4) = area(shape) r² / 4, for a red
    object on black (the red channel is the coverage). The sigmoid edge conserves area
    along a straight edge; vertices (where the distance is a bound) and pixel sampling
    leave a few per cent."""
    g = S(size=64, shape=shape, factors=("scale", "rotation"))
    for r, turn in ((0.3, 0.0), (0.4, 0.7)):
        red = g.images(centred(g, scale=r, rotation=turn))[0, 0]
        assert float(red.mean()) == pytest.approx(area * r * r / 4, rel=0.05)


def test_position_moves_the_centroid():
    g = S(size=64, shape="disc", factors=("x", "y"))
    t = (torch.arange(64, dtype=torch.float64) * 2 + 1) / 64
    u, v = t - 1, 1 - t  # columns rightwards, rows upwards
    for x, y in ((0.3, -0.2), (-0.5, 0.4)):
        red = g.images(centred(g, x=x, y=y))[0, 0]
        assert float((red.sum(0) * u).sum() / red.sum()) == pytest.approx(x, abs=1e-3)
        assert float((red.sum(1) * v).sum() / red.sum()) == pytest.approx(y, abs=1e-3)


def test_hue_is_hsv_like_colorsys():
    h = torch.linspace(0, 1, 97, dtype=torch.float64)
    v = torch.linspace(0.5, 1, 97, dtype=torch.float64)
    got = hsv_to_rgb(h, 0.8, v).numpy()
    want = np.array(
        [colorsys.hsv_to_rgb(a % 1.0, 0.8, b) for a, b in zip(h.tolist(), v.tolist(), strict=True)]
    )
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_morph_ends_are_the_shapes():
    z = torch.zeros(3, 2, dtype=torch.float64)
    z[:, 0] = torch.tensor([0.1, -0.3, 0.5])
    for t, shape in ((0.0, "square"), (0.5, "disc"), (1.0, "triangle")):
        morph = S(size=16, shape="morph", factors=("x", "rotation"), fixed={"shape": t})
        assert torch.allclose(morph(z), S(size=16, shape=shape, factors=("x", "rotation"))(z))


def test_rows_are_independent_and_autodiff_matches_finite_differences():
    g = S(
        size=16,
        shape="triangle",
        factors=("x", "y", "scale", "rotation", "hue"),
        objects=2,
        background=(0.2, 0.2, 0.2),
    )
    z = th.latents.Uniform(g.n_in).sample(6, 3)
    x = g(z)
    assert torch.allclose(torch.cat([g(z[k : k + 1]) for k in range(6)]), x)
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    auto = jacobian(g, z)  # one jvp per latent direction (forward mode: n < m)
    assert auto.shape == (6, g.n_out, g.n_in)
    fd = finite_difference_jacobian(g, z, eps=1e-6)
    assert float((auto - fd).abs().max()) < 1e-5 * float(auto.abs().max())


def test_stated_symmetries_render_the_same_image():
    z = th.latents.Uniform(8).sample(32, 1)
    g = S(size=16, shape="square", factors=("x", "y", "scale", "rotation"), objects=2)
    pairs = g.symmetric_pairs(z)
    assert len(pairs) == 2
    for _, a, b in pairs:
        assert float((a - b).norm(dim=1).min()) > 0.1
        assert torch.allclose(g(a), g(b), atol=1e-12)


# --- checks on pixels -----------------------------------------------------------------


def test_a_discs_rotation_is_not_injective_nor_an_immersion():
    g = S(size=32, shape="disc", factors=("x", "y", "rotation"))
    p = process(g)
    e = check("injective", p, **FAST)
    assert e.verdict == "violated" and e.method == "symmetry"
    assert "disc turned" in e.witness["symmetry"]
    a, b = (torch.tensor(e.witness[k], dtype=torch.float64)[None] for k in ("z", "z_prime"))
    assert torch.allclose(g(a), g(b), atol=1e-12) and float((a - b).norm()) > 0.1
    assert torch.allclose(a[0, :2], b[0, :2])  # only the rotation differs
    imm = check("immersion", p, **FAST)
    assert imm.verdict == "violated"
    null = torch.tensor(imm.witness["null_direction"]).abs()
    assert int(null.argmax()) == 2  # the rotation direction


def test_a_squares_quarter_turn_is_a_witness_and_a_restricted_rotation_is_injective():
    full = process(S(size=32, shape="square", factors=("x", "y", "rotation")))
    e = check("injective", full, **FAST)
    assert e.verdict == "violated" and "square turned by 90°" in e.witness["symmetry"]
    angle = [
        full.mixing.to_physical(torch.tensor(e.witness[k][2]), "rotation") for k in ("z", "z_prime")
    ]
    assert float(abs(angle[1] - angle[0])) == pytest.approx(math.pi / 2)
    # [0, 0.45π]: less than a quarter turn, so no two angles give the same image
    part = process(
        S(
            size=32,
            shape="square",
            factors=("x", "y", "rotation"),
            ranges={"rotation": (0.0, 0.45 * math.pi)},
        )
    )
    assert check("injective", part, **FAST).verdict == "holds"
    assert check("immersion", part, **FAST).verdict == "holds"


def test_two_identical_objects_swapped_collide_and_distinct_ones_are_not_called_so():
    same = process(S(size=32, shape="square", factors=("x", "y", "scale"), objects=2))
    e = check("injective", same, **FAST)
    assert e.verdict == "violated" and "swapped" in e.witness["symmetry"]
    z, zp = (np.array(e.witness[k]) for k in ("z", "z_prime"))
    np.testing.assert_allclose(z[:3], zp[3:])
    coloured = S(
        size=32, shape="square", factors=("x", "y", "hue"), objects=2, ranges={"hue": (0.0, 0.5)}
    )
    assert coloured.symmetric_pairs(torch.zeros(4, 6, dtype=torch.float64)) == []


def test_jacobian_statistics_on_pixels():
    """Scale and position move different numbers of pixels: not conformal; the x and y
    columns of a centred disc are orthogonal by its mirror symmetry."""
    p = process(S(size=32, shape="square", factors=("x", "y", "scale")))
    assert check("conformal", p, **FAST).verdict == "violated"
    assert check("orthogonal-columns", p, **FAST).verdict == "violated"
    g = S(size=32, shape="disc", factors=("x", "y"))
    J = jacobian(g, torch.zeros(1, 2, dtype=torch.float64))[0]
    gram = J.T @ J
    assert abs(float(gram[0, 1])) < 1e-10 * float(gram[0, 0])
    assert float(gram[0, 0]) == pytest.approx(float(gram[1, 1]), rel=1e-10)
