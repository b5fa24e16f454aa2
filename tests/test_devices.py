"""Where learners train (``device``): the spelling is validated when the option is set,
availability when training starts (one clear line, never a CUDA traceback), and "auto"
on a machine without a GPU is the CPU run."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

import theory as th
from theory.errors import InvalidArgument, InvalidProcess
from verification import learners as L
from verification.cli import main
from verification.learners.devices import check_device, resolve_device
from verification.spaces import apply_options

NO_GPU = not torch.cuda.is_available()
SMALL = {"train.steps": 20, "train.batch_size": 64, "restarts": 0}


@pytest.mark.parametrize("good", ["cpu", "cuda", "cuda:1", "auto"])
def test_device_spellings_are_accepted(good):
    assert check_device("X", good) == good


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "CUDA", "", 0, None, "cuda:1:2"])
def test_bad_device_spellings_are_refused_when_set(bad):
    with pytest.raises(InvalidArgument, match="device must be"):
        check_device("X", bad)
    learner = L.get("infonce")
    with pytest.raises(InvalidArgument):
        apply_options(learner, {"device": bad})
    assert learner.device == "cpu"  # all or nothing


@pytest.mark.skipif(not NO_GPU, reason="this machine has a GPU")
def test_a_gpu_this_machine_lacks_is_one_clear_line():
    with pytest.raises(InvalidProcess, match="no CUDA GPU"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")
    result = CliRunner().invoke(main, ["recover", "cl-ica", "--set", "device=cuda"])
    assert result.exit_code == 2 and "no CUDA GPU" in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(not NO_GPU, reason="this machine has a GPU")
@pytest.mark.parametrize("name", ["infonce", "vicreg", "barlow-twins"])
def test_auto_on_a_machine_without_gpu_is_the_cpu_run(name):
    process = th.theorems.get("cl-ica").canonical_process()
    x = process.sample(64, 5)[1]
    encodings = []
    for device in ("cpu", "auto"):
        learner = L.get(name)
        apply_options(learner, {**SMALL, "device": device})
        fit = learner.fit(process, seed=0)
        encodings.append(fit.encode(x))
    assert encodings[0].device.type == "cpu" and encodings[0].dtype == torch.float64
    assert torch.equal(encodings[0], encodings[1])


@pytest.mark.skipif(NO_GPU, reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", ["infonce", "vicreg", "barlow-twins"])
def test_training_on_the_gpu_returns_a_cpu_encoder(name):
    process = th.theorems.get("cl-ica").canonical_process()
    learner = L.get(name)
    apply_options(learner, {**SMALL, "device": "cuda"})
    fit = learner.fit(process, seed=0)
    out = fit.encode(process.sample(64, 5)[1])
    assert out.device.type == "cpu" and torch.isfinite(out).all()


def test_mixed_precision_is_an_option_and_full_precision_on_a_cpu():
    """``train.precision`` (bf16/fp16) autocasts on a CUDA device only: on the CPU the run
    is the full-precision one, bit for bit."""
    process = th.theorems.get("cl-ica").canonical_process()
    x = process.sample(64, 5)[1]
    encodings = []
    for precision in ("fp32", "bf16", "fp16"):
        learner = L.get("infonce")
        apply_options(learner, {**SMALL, "train.precision": precision})
        encodings.append(learner.fit(process, seed=0).encode(x))
    assert torch.equal(encodings[0], encodings[1]) and torch.equal(encodings[0], encodings[2])
    with pytest.raises(InvalidArgument, match="precision"):
        apply_options(L.get("infonce"), {"train.precision": "fp8"})


@pytest.mark.skipif(NO_GPU, reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("name", ["infonce", "vicreg", "byol"])
def test_mixed_precision_trains_on_the_gpu(name, precision):
    process = th.theorems.get("cl-ica").canonical_process()
    learner = L.get(name)
    apply_options(learner, {**SMALL, "device": "cuda", "train.precision": precision})
    fit = learner.fit(process, seed=0)
    assert fit.status == "ok", fit.message
    out = fit.encode(process.sample(64, 5)[1])
    assert out.dtype == torch.float64 and torch.isfinite(out).all()
