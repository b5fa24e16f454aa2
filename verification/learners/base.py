"""What every learner shares: configs, the fitted-encoder result, training status.

A learner is a pure function of (process, config, seed) -> :class:`Fit`: it draws its own
training data from the process (seeded), trains, and returns an encoder x -> z_hat with
the training curve. It never sees the true latents of the held-out evaluation set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch

import theory as th
from theory.errors import InvalidArgument

Status = Literal["ok", "diverged", "collapsed"]
MAX_SAMPLES = 10**8  # training set sizes


@dataclass
class TrainConfig:
    """Optimisation settings: the knobs a user sweeps as "inductive biases"."""

    steps: int | None = None  # None: the learner's default for the process
    batch_size: int = 512
    lr: float = 1e-2
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    schedule: Literal["warmup-cosine", "cosine", "constant"] = "warmup-cosine"
    warmup: float = 0.02  # fraction of steps with a linear warm-up (warmup-cosine)
    weight_decay: float = 0.0
    time_budget: float | None = None  # seconds; stop early when exceeded
    log_every: int = 50
    # torch intra-op threads while training: these models are small, one thread is as fast
    # as two and does not collapse when other processes compete for the cores
    threads: int | None = 1

    def __post_init__(self) -> None:
        problems = [
            (self.steps is not None and not 1 <= self.steps <= 10**8, "steps must be >= 1"),
            (not 2 <= self.batch_size <= 10**7, "batch_size must be in [2, 10**7]"),
            (not 0 < self.lr < math.inf, "lr must be a finite positive number"),
            (
                self.optimizer not in ("adam", "adamw", "sgd"),
                "optimizer must be adam, adamw or sgd",
            ),
            (
                self.schedule not in ("warmup-cosine", "cosine", "constant"),
                "schedule must be warmup-cosine, cosine or constant",
            ),
            (not 0 <= self.warmup <= 1, "warmup must be a fraction in [0, 1]"),
            (not 0 <= self.weight_decay < math.inf, "weight_decay must be finite and >= 0"),
            (
                self.time_budget is not None and not 0 < self.time_budget <= 1e7,
                "time_budget must be a positive number of seconds (or None)",
            ),
            (not 1 <= self.log_every <= 10**8, "log_every must be >= 1"),
            (
                self.threads is not None and not 1 <= self.threads <= 1024,
                "threads must be >= 1 (or None)",
            ),
        ]
        for bad, message in problems:
            if bad:
                raise InvalidArgument(message)


@dataclass
class Fit:
    """A trained encoder and how training went."""

    encode: Callable[[torch.Tensor], torch.Tensor]
    curve: list[tuple[int, float]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    status: Status = "ok"
    message: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def final_loss(self) -> float | None:
        return self.curve[-1][1] if self.curve else None


class Learner:
    """Base class: ``fit(process, seed) -> Fit``; ``config()`` describes it as JSON."""

    name: str = "learner"

    def fit(
        self,
        process: th.Process,
        *,
        seed: int = 0,
        monitor: Callable[[int, Callable], bool] | None = None,
    ) -> Fit:
        """Train on data drawn from ``process``. ``monitor(step, encode)``, if given, is
        called now and then and may stop training by returning True (not timed)."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **{k: _plain(v) for k, v in vars(self).items() if not k.startswith("_")},
        }


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


def data_problem(x: torch.Tensor, what: str = "training observations") -> str | None:
    """Why ``x`` cannot be trained on, or None: non-finite values, or values so large that
    their second moments (what whitening and the losses compute) overflow ``x.dtype``."""
    finite = torch.isfinite(x)
    if not finite.all():
        return f"the {what} contain {int((~finite).sum())} non-finite values (NaN or inf)"
    centred = x - x.mean(0)
    if not torch.isfinite(centred.square().sum(0)).all():
        return f"the {what} are too large for {x.dtype} training (their variance overflows)"
    return None


def failed_fit(
    n_out: int, message: str, *, status: Status = "diverged", seconds: float = 0.0
) -> Fit:
    """A Fit for training that could not start or run (``status`` says how; its encoder
    outputs NaN, and recover never uses it)."""

    def encode(x: torch.Tensor) -> torch.Tensor:
        return torch.full((len(x), n_out), math.nan, dtype=torch.float64)

    return Fit(encode, [], 0, seconds, status, message)


def make_optimizer(params, config: TrainConfig) -> tuple[torch.optim.Optimizer, Any]:
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    elif config.optimizer == "adamw":
        opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    elif config.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    else:
        raise InvalidArgument(f"unknown optimizer {config.optimizer!r}; use adam, adamw or sgd")
    if config.schedule == "warmup-cosine":
        warm = max(1, int(config.warmup * config.steps))
        rest = max(1, config.steps - warm)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / rest)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    elif config.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.steps)
    elif config.schedule == "constant":
        sched = None
    else:
        raise InvalidArgument(
            f"unknown schedule {config.schedule!r}; use warmup-cosine, cosine or constant"
        )
    return opt, sched


Monitor = Callable[[int], bool]


def train_loop(
    loss_fn: Callable[[int], torch.Tensor | tuple[torch.Tensor, torch.Tensor]],
    params,
    config: TrainConfig,
    monitor: Monitor | None = None,
    monitor_every: int = 25,
    converged: Callable[[float], bool] | None = None,
) -> tuple[list[tuple[int, float]], int, float, Status, str]:
    """Run ``config.steps`` optimisation steps of ``loss_fn(step)``.

    Stops early on a non-finite loss (status "diverged", keeping the curve so far), when
    ``config.time_budget`` is spent, or when ``monitor(step)`` returns True (checked every
    ``monitor_every`` steps; its own time is not counted: benchmarks use it to time
    reaching a threshold), or when ``converged(mean loss since the last log)`` is True.
    Returns (curve, steps, seconds, status, message).
    """
    if config.steps is None:
        raise InvalidArgument("TrainConfig.steps must be resolved (an integer) before training")
    with torch_threads(config.threads):
        return _train_loop(loss_fn, list(params), config, monitor, monitor_every, converged)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Temporarily set torch's intra-op thread count (None: leave it as it is)."""
    if n is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _train_loop(loss_fn, params, config, monitor, monitor_every, converged):
    opt, sched = make_optimizer(params, config)
    curve: list[tuple[int, float]] = []
    clock = _Clock()
    running, since = 0.0, 0
    for step in range(1, config.steps + 1):
        out = loss_fn(step)  # a loss, or (loss to optimise, loss to log)
        loss, logged = out if isinstance(out, tuple) else (out, out)
        value = float(logged.detach())
        if not math.isfinite(value):
            curve.append((step, value))
            return curve, step, clock.elapsed(), "diverged", f"non-finite loss at step {step}"
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        running, since = running + value, since + 1
        if step % config.log_every == 0 or step == config.steps:
            curve.append((step, running / since))
            running, since = 0.0, 0
            if converged is not None and step < config.steps and converged(curve[-1][1]):
                return curve, step, clock.elapsed(), "ok", f"converged at step {step}"
        if config.time_budget is not None and clock.elapsed() > config.time_budget:
            if since:
                curve.append((step, running / since))
            return curve, step, clock.elapsed(), "ok", "time budget reached"
        if monitor is not None and step % monitor_every == 0:
            with clock.paused():
                done = monitor(step)
            if done:
                if since:
                    curve.append((step, running / since))
                return curve, step, clock.elapsed(), "ok", "stopped by monitor"
    return curve, config.steps, clock.elapsed(), "ok", ""


def resolved(config: TrainConfig, default_steps: int) -> TrainConfig:
    """A copy of ``config`` with ``steps`` filled in when it was left to the learner."""
    return config if config.steps is not None else dataclasses.replace(config, steps=default_steps)


class _Clock:
    """Wall time that can be paused (monitor calls are not training time)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.excluded = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start - self.excluded

    def paused(self):
        clock = self

        class _Pause:
            def __enter__(self):
                self.t = time.perf_counter()

            def __exit__(self, *exc):
                clock.excluded += time.perf_counter() - self.t
                return False

        return _Pause()
