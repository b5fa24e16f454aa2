"""Learners on rendered images: the CNN encoder (verification/learners/cnn.py), the
learner contract on a pixel process, and the GPU path (skipped without a CUDA device)."""

import math

import numpy as np
import pytest
import torch

import theory as th
from theory import augmentations as au
from verification import learners as L
from verification.learners.cnn import ConvEncoder, build_encoder, image_shape, reference_size
from verification.learners.encoders import Encoder, EncoderConfig
from verification.testing import check_learner


def small_pixels(size=16):
    g = th.mixings.Sprites(
        size=size,
        shape="square",
        factors=("scale", "rotation", "x", "y", "hue"),
        ranges={"rotation": (0.0, math.pi / 4), "hue": (0.0, 0.75)},
    )
    cond = au.Augment.for_mixing(g, au.Translate(0.2), au.ColorJitter(hue=0.1))
    return th.Process(th.latents.Uniform(5), g, cond)


def test_the_hook_picks_a_cnn_for_images_and_the_vector_encoder_otherwise():
    pixels = small_pixels()
    _, x = pixels.sample(64, 0)
    assert image_shape(pixels) == (3, 16, 16) and reference_size(pixels) < 10_000
    cnn = build_encoder(pixels, 2, EncoderConfig(), x.float(), normalize=True)
    assert isinstance(cnn, ConvEncoder)
    h = cnn(x.float())
    assert h.shape == (64, 2) and torch.allclose(h.norm(dim=1), torch.ones(64))
    vectors = th.theorems.get("cl-ica").canonical_process()
    assert image_shape(vectors) is None and reference_size(vectors) == 10_000
    _, xv = vectors.sample(64, 0)
    assert isinstance(build_encoder(vectors, 3, EncoderConfig(), xv.float()), Encoder)


@pytest.mark.parametrize("size", [16, 32, 64])
def test_the_cnn_maps_rows_independently_down_to_four_by_four(size):
    x = torch.rand(6, 3 * size * size)
    cnn = ConvEncoder((3, size, size), 4, x)
    out = cnn(x)
    assert out.shape == (6, 4)
    assert torch.allclose(torch.cat([cnn(x[k : k + 1]) for k in range(6)]), out, atol=1e-6)
    feature = cnn.body(torch.zeros(1, 3, size, size))
    assert feature.shape[-1] <= 4 and feature.shape[1] == 8 * 2 ** (math.ceil(math.log2(size)) - 3)
    # the residual block starts as the identity (its second convolution is zero)
    block = cnn.body[-1]
    h = torch.randn(2, feature.shape[1], 4, 4)
    assert torch.equal(block(h), h)


@pytest.mark.parametrize("name", ["content-style-pixels", "cl-ica-pixels"])
def test_the_image_theorems_learners_keep_the_contract(name):
    theorem = th.theorems.get(name)
    process = small_pixels() if name == "content-style-pixels" else None
    if process is None:
        process = th.Process(
            th.latents.UniformSphere(3),
            th.mixings.Sprites(size=16, shape="disc", factors=("x", "y", "scale")),
            th.conditionals.VonMisesFisher(10.0),
        )
    check_learner(L.for_theorem(theorem), process=process)


@pytest.mark.parametrize("name", ["vicreg", "barlow-twins", "byol"])
def test_non_contrastive_learners_train_on_pixels(name):
    learner = L.get(name)
    learner.content = 2
    check_learner(learner, process=small_pixels())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_cnn_trains_on_the_gpu():
    learner = L.for_theorem(th.theorems.get("content-style-pixels"))
    learner.device = "cuda"
    learner.train.steps = 20
    fit = learner.fit(small_pixels(), seed=0)
    assert fit.status == "ok"
    _, x = small_pixels().sample(32, np.random.default_rng(5))
    assert fit.encode(x).shape == (32, 2)


def test_the_gpu_benchmark_runs_end_to_end_on_the_cpu():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    args = ["--device", "cpu", "--batches", "32", "--budget", "3", "--size", "16"]
    done = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "gpu.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    table = [line for line in done.stdout.splitlines() if line.startswith("| 32 |")]
    assert "device cpu" in done.stdout and len(table) == 1
    cells = [c.strip() for c in table[0].strip("|").split("|")]
    assert float(cells[1].replace(",", "")) > 0 and int(cells[4]) > 0  # img/s, steps
