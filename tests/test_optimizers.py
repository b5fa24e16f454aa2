"""sith's optimisers are torch.optim's, less the import of torch._dynamo: the same
parameters bit for bit, the same grad mode, hooks and state, and no torch._dynamo."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from verification.learners import optimizers

CASES = [
    (optimizers.Adam, torch.optim.Adam, {"lr": 1e-2}),
    (optimizers.Adam, torch.optim.Adam, {"lr": 1e-2, "fused": True, "weight_decay": 1e-3}),
    (optimizers.Adam, torch.optim.Adam, {"lr": 3e-3, "amsgrad": True}),
    (optimizers.AdamW, torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1, "fused": True}),
    (optimizers.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4}),
]


def _train(cls, options: dict, steps: int = 25) -> list[torch.Tensor]:
    """A seeded MLP regression, ``steps`` updates with ``cls``; its parameters after."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    x, y = torch.randn(64, 4), torch.randn(64, 3)
    opt = cls(model.parameters(), **options)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize(("ours", "torchs", "options"), CASES)
def test_the_parameters_are_torchs_bit_for_bit(ours, torchs, options):
    mine, theirs = _train(ours, options), _train(torchs, options)
    assert all(torch.equal(a, b) for a, b in zip(mine, theirs, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(mine, _train(ours, options, 24), strict=True))


def test_grad_mode_closure_hooks_and_state_work_as_in_torch():
    """The step runs without grad (an in-place update of a leaf that requires grad
    raises otherwise) and restores the caller's mode; a closure's loss is returned;
    step hooks run; state_dict round-trips into a fresh optimiser."""
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = optimizers.Adam([w], lr=0.1)
    seen: list[bool] = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(torch.is_grad_enabled()))

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure).detach()) == pytest.approx(5.0)
    assert torch.is_grad_enabled() and seen == [True]
    twin = optimizers.Adam([torch.nn.Parameter(w.detach().clone())], lr=0.1)
    twin.load_state_dict(opt.state_dict())
    assert int(twin.state_dict()["state"][0]["step"]) == 1


def test_training_imports_no_dynamo():
    """torch.optim's optimisers import torch._dynamo (0.8 s) on first use; these do not,
    nor does a whole recovery of cl-ica (data, InfoNCE training, metrics)."""
    code = (
        "import sys\n"
        "from verification import recover\n"
        "from verification.learners import InfoNCE, TrainConfig\n"
        "learner = InfoNCE(train=TrainConfig(steps=20, batch_size=64))\n"
        "print(recover('cl-ica', seed=0, learner=learner).status)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
