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
from typing import Any, ClassVar, Literal

import torch

import theory as th
from theory.errors import InvalidArgument, InvalidProcess
from verification import _learner_specs as tables
from verification import _options as opt
from verification.learners import optimizers

Status = Literal["ok", "diverged", "collapsed"]
MAX_SAMPLES = opt.MAX_SAMPLES  # training set sizes
DEFAULT_WARMUP = 0.02  # warm-up fraction of a TrainConfig whose warmup is None
DEFAULT_LR = 1e-2  # learning rate of a TrainConfig whose lr is None (learners may differ)
DEFAULT_BATCH = 512  # batch size of a TrainConfig whose batch_size is None (learners may differ)


@dataclass
class TrainConfig:
    """Optimisation settings: the knobs a user sweeps as "inductive biases"."""

    steps: int | None = None  # None: the learner's default for the process
    # None: the learner's rule (InfoNCE with the cosine critic: 256 at n <= 3), else
    # DEFAULT_BATCH
    batch_size: int | None = None
    # None: the learner's rule (InfoNCE with the cosine critic: 2e-2 above n = 4, 7e-3
    # from n = 16), else
    # DEFAULT_LR; learners with their own fixed rate set it in their TrainConfig
    lr: float | None = None
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    schedule: Literal["warmup-cosine", "cosine", "constant"] = "warmup-cosine"
    # fraction of steps with a linear warm-up (warmup-cosine); None: the learner's default
    # (DEFAULT_WARMUP; InfoNCE: 0.15)
    warmup: float | None = None
    weight_decay: float = 0.0
    time_budget: float | None = None  # seconds; stop early when exceeded
    log_every: int = 50
    # torch intra-op threads while training: these models are small, one thread is as fast
    # as two and does not collapse when other processes compete for the cores
    threads: int | None = 1
    # adaptive budget: while the training loss still reaches new lows at the end of the
    # budget (see ``still_improving``), train on, up to ``extend`` x ``steps`` in all
    # (1: never); never past ``time_budget``. Decided from the training loss alone.
    extend: float = 2.0
    # mixed precision: the loss's forward pass under torch.autocast in bfloat16 or float16
    # (float16 with a gradient scaler); on a CUDA device only: "fp32" everywhere else
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    # clip the gradient's global L2 norm to this before each step; 0: never; None: the
    # learner's rule (cosine InfoNCE: 5 when its lr is above 1e-2), else never
    clip: float | None = None

    OPTIONS: ClassVar[dict[str, opt.Option]] = tables.TRAIN

    def __post_init__(self) -> None:
        opt.check_options(self)


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

    def __post_init__(self) -> None:
        """A dataclass learner validates its options from its table (``OPTIONS``,
        ``verification._options``); a learner without one checks nothing here."""
        opt.check_options(self)

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

    def optimality_gap(self, process: th.Process, fit: Fit, *, seed: int = 0) -> float | None:
        """A diagnostic, computed after training and never used by it: ``fit``'s
        training objective minus the objective the true latents reach, on the same fresh
        data. None (the default) where no such comparison is defined, e.g. a learner
        with no training loss (FastICA) or an encoder that cannot output the latents."""
        return None

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


def require_pairs(learner: Any, process: Any, who: str | None = None) -> None:
    """Refuse, in one line, a process without positive pairs (no conditional) or a
    ``content`` block (when the learner has one) outside 1..n; ``who`` names the learner
    in the message (default: its class name)."""
    who = who or type(learner).__name__
    if process.conditional is None:
        raise InvalidProcess(f"{who} needs positive pairs: the process has no conditional")
    content = getattr(learner, "content", None)
    if content is not None and not 1 <= content <= process.dim:
        raise InvalidProcess(f"content must be in 1..{process.dim}, got {content}")


def encoder_of(
    model: Callable[[torch.Tensor], torch.Tensor], device: torch.device | str | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``Fit.encode`` for a trained ``model``: x (any array) -> float64 on the CPU, no
    gradients; the input is cast to float32 (and moved to ``device`` when given)."""

    def encode(x_new: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            x = torch.as_tensor(x_new).float()
            return model(x if device is None else x.to(device)).double().cpu()

    return encode


class Run:
    """One initialisation of a learner that races (see ``racing.run_race``): its
    :class:`Training`, its ``encode`` and the Fit it makes at any point. ``parts`` are
    kept as attributes (the models a selection loss scores); ``extras`` go into every
    Fit, beside ``run_steps`` (this run's steps)."""

    def __init__(
        self,
        training: Training,
        encode: Callable[[torch.Tensor], torch.Tensor],
        extras: dict[str, Any] | None = None,
        **parts: Any,
    ) -> None:
        self.training, self.encode, self.extras = training, encode, dict(extras or {})
        for name, part in parts.items():
            setattr(self, name, part)

    def fit(self) -> Fit:
        curve, steps, seconds, status, message = self.training.result()
        extras = {**self.extras, "run_steps": steps}
        return Fit(self.encode, list(curve), steps, seconds, status, message, extras)


def make_optimizer(params, config: TrainConfig) -> tuple[torch.optim.Optimizer, Schedule]:
    """The optimiser and its learning-rate schedule for ``config`` (steps resolved).

    Adam and AdamW use PyTorch's fused implementation where it applies (several times
    faster per step than the default for these small models; the same update rule).
    The classes are torch.optim's without its import of ``torch._dynamo``
    (:mod:`verification.learners.optimizers`).
    """
    params = list(params)
    fused = _fusable(params)
    lr = DEFAULT_LR if config.lr is None else config.lr
    if config.optimizer == "sgd":
        opt = optimizers.SGD(params, lr=lr, momentum=0.9, weight_decay=config.weight_decay)
    elif config.optimizer in ("adam", "adamw"):
        cls = optimizers.Adam if config.optimizer == "adam" else optimizers.AdamW
        opt = cls(params, lr=lr, weight_decay=config.weight_decay, fused=fused or None)
    else:
        raise InvalidArgument(f"unknown optimizer {config.optimizer!r}; use adam, adamw or sgd")
    if config.schedule not in ("warmup-cosine", "cosine", "constant"):
        raise InvalidArgument(
            f"unknown schedule {config.schedule!r}; use warmup-cosine, cosine or constant"
        )
    return opt, Schedule(config)


def _fusable(params: list) -> bool:
    return bool(params) and all(
        p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64)
        for p in params
    )


class Schedule:
    """The learning-rate factor at each step; ``extend`` appends steps to the budget.

    ``warmup-cosine``: a linear warm-up over ``warmup`` of the steps, then cosine decay to
    0 at ``steps``; ``cosine``: cosine decay from the first step; ``constant``: 1. An
    extension of k steps (see ``train_loop``) decays once more, by a cosine from
    ``EXTENSION_LR`` of the peak to 0 over those k steps: enough to finish a descent
    that was under way when the rate had already decayed, without undoing the
    converged parts.
    """

    EXTENSION_LR = 0.1

    def __init__(self, config: TrainConfig) -> None:
        self.kind = config.schedule
        self.steps = int(config.steps)
        warmup = DEFAULT_WARMUP if config.warmup is None else config.warmup
        self.warm = max(1, int(warmup * self.steps)) if self.kind == "warmup-cosine" else 0
        self.extensions: list[tuple[int, int]] = []  # (first step, last step)

    @property
    def horizon(self) -> int:
        return self.extensions[-1][1] if self.extensions else self.steps

    def extend(self, steps: int) -> None:
        self.extensions.append((self.horizon + 1, self.horizon + steps))

    def factor(self, step: int) -> float:
        """The factor applied to ``lr`` at training step ``step`` (1-based)."""
        if self.kind == "constant":
            return 1.0
        if step > self.steps and self.extensions:
            first, last = next((a, b) for a, b in self.extensions if step <= b)
            progress = (step - first) / max(1, last - first + 1)
            return self.EXTENSION_LR * 0.5 * (1 + math.cos(math.pi * progress))
        s = step - 1  # steps taken before this one
        if s < self.warm:
            return (s + 1) / self.warm
        rest = max(1, self.steps - self.warm)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (s - self.warm) / rest)))


Monitor = Callable[[int], bool]


def still_improving(losses: list[float], window: int, tolerance: float) -> bool:
    """Is the loss still reaching new lows? (The training loss only.)

    True when the mean of the last ``window`` values is below the lowest mean of the
    earlier windows (consecutive, of the same size, counted back from the end) by more
    than ``tolerance`` (relative to the loss's size) and by more than twice the noise of
    that difference (its standard error from the per-step values). Comparing with the
    lowest earlier window, not just the one before, means a bump in the loss (e.g. when
    an extension raises the learning rate again) does not count as progress.
    """
    if window < 2 or len(losses) < 2 * window:
        return False
    values = torch.tensor(losses, dtype=torch.float64).flip(0)  # newest first
    windows = values[: (len(values) // window) * window].reshape(-1, window)
    means = windows.mean(1)
    best = int(torch.argmin(means[1:])) + 1
    drop = float(means[best] - means[0])
    noise = math.sqrt(float(windows[0].var() + windows[best].var()) / window)
    return drop > max(tolerance * max(abs(float(means[0])), 1e-8), 2 * noise)


def train_loop(
    loss_fn: Callable[[int], torch.Tensor | tuple[torch.Tensor, torch.Tensor]],
    params,
    config: TrainConfig,
    monitor: Monitor | None = None,
    **options: Any,
) -> tuple[list[tuple[int, float]], int, float, Status, str]:
    """Run ``config.steps`` optimisation steps of ``loss_fn(step)``, more while it helps:
    a :class:`Training` (``options``: its ``monitor_every``, ``converged``) run to the
    end. Returns (curve, steps, seconds, status, message)."""
    training = Training(loss_fn, params, config, monitor, **options)
    training.run()
    return training.result()


IMPROVING_WINDOW = 0.25  # the fraction of the steps compared, last against the one before
IMPROVING_TOLERANCE = 0.002  # relative fall of the mean loss that counts as improving


class Training:
    """An optimisation run that can be advanced in stages (``run(until=step)``), so a
    learner can train several candidates a little, keep one, and finish it.

    Adaptive budget: at the end of the budget, while the training loss still reaches new
    lows (:func:`still_improving`, windows of ``IMPROVING_WINDOW`` of the steps), the
    budget grows by one such window (a short extra decay, see :class:`Schedule`), up to
    ``config.extend`` x ``config.steps`` in all; never past ``config.time_budget``. Stops
    early on a non-finite loss (status "diverged", keeping the curve so far), when
    ``config.time_budget`` is spent, when ``monitor(step)`` returns True (called every
    ``monitor_every`` steps, default ``config.log_every``, and at the last step; its own
    time is not counted: benchmarks use it to time reaching a threshold, recover to draw
    the claim metric along training), or when ``converged(mean loss since the last log)``
    is True (InfoNCE's oracle mode). ``seconds`` counts only time spent in ``run``.
    """

    def __init__(
        self,
        loss_fn: Callable[[int], torch.Tensor | tuple[torch.Tensor, torch.Tensor]],
        params,
        config: TrainConfig,
        monitor: Monitor | None = None,
        monitor_every: int | None = None,
        converged: Callable[[float], bool] | None = None,
    ) -> None:
        if config.steps is None:
            raise InvalidArgument("TrainConfig.steps must be resolved (an integer) before training")
        self.loss_fn, self.config, self.monitor, self.converged = (
            loss_fn,
            config,
            monitor,
            converged,
        )
        self.monitor_every = config.log_every if monitor_every is None else monitor_every
        with torch_threads(config.threads):  # before any clock: a one-off import
            self.opt, self.schedule = make_optimizer(params, config)
        self.groups = [(g, g["lr"]) for g in self.opt.param_groups]
        self.precision = MixedPrecision(config.precision, self.opt, config.clip or 0.0)
        self.cap = max(config.steps, math.floor(config.extend * config.steps))
        self.window = max(2, round(IMPROVING_WINDOW * config.steps))
        self.curve: list[tuple[int, float]] = []
        self.losses: list[float] = []
        self.step = 0
        self.seconds = 0.0
        self.status: Status = "ok"
        self.message = ""
        self.done = False
        self._running, self._since = 0.0, 0

    def run(self, until: int | None = None) -> bool:
        """Train up to step ``until`` (None: to the end); True once training is over."""
        if self.done:
            return True
        with torch_threads(self.config.threads):
            clock = _Clock()
            try:
                self._advance(until, clock)
            finally:
                self.seconds += clock.elapsed()
        return self.done

    def result(self) -> tuple[list[tuple[int, float]], int, float, Status, str]:
        return self.curve, self.step, self.seconds, self.status, self.message

    def _stop(self, status: Status, message: str) -> None:
        if self._since:
            self.curve.append((self.step, self._running / self._since))
            self._running, self._since = 0.0, 0
        self.status, self.message, self.done = status, message, True

    def _advance(self, until: int | None, clock: _Clock) -> None:
        config, schedule = self.config, self.schedule
        while self.step < schedule.horizon and (until is None or self.step < until):
            self.step = step = self.step + 1
            for group, lr in self.groups:
                group["lr"] = lr * schedule.factor(step)
            with self.precision.autocast():
                out = self.loss_fn(step)  # a loss, or (loss to optimise, loss to log)
            loss, logged = out if isinstance(out, tuple) else (out, out)
            value = float(logged.detach())
            if not math.isfinite(value):
                self.curve.append((step, value))
                self.status, self.done = "diverged", True
                self.message = f"non-finite loss at step {step}"
                return
            self.opt.zero_grad(set_to_none=True)
            self.precision.step(loss)
            self.losses.append(value)
            self._running, self._since = self._running + value, self._since + 1
            end = step == schedule.horizon
            if (
                end
                and schedule.horizon < self.cap
                and still_improving(self.losses, self.window, IMPROVING_TOLERANCE)
            ):
                schedule.extend(min(self.cap - schedule.horizon, self.window))
                end = False
            if step % config.log_every == 0 or end:
                self.curve.append((step, self._running / self._since))
                self._running, self._since = 0.0, 0
                if self.converged is not None and not end and self.converged(self.curve[-1][1]):
                    return self._stop("ok", f"converged at step {step}")
            if (
                config.time_budget is not None
                and self.seconds + clock.elapsed() > config.time_budget
            ):
                return self._stop("ok", "time budget reached")
            if self.monitor is not None and (step % self.monitor_every == 0 or end):
                with clock.paused():
                    stop = self.monitor(step)
                if stop:
                    return self._stop("ok", "stopped by monitor")
        if self.step >= schedule.horizon:
            self.done = True
            if schedule.extensions:
                self.message = (
                    f"budget extended to {self.step} steps (the training loss was still "
                    f"falling at {config.steps})"
                )


class MixedPrecision:
    """``TrainConfig.precision`` for one optimiser: the forward pass under
    ``torch.autocast`` on the device of the parameters (CUDA only: on a CPU, or for
    "fp32", it is full precision and a plain backward and step), and for float16 a
    ``torch.amp.GradScaler`` that scales the loss so small gradients do not underflow.
    ``clip`` > 0 clips the gradient's global L2 norm to it before each step
    (``TrainConfig.clip``)."""

    DTYPES: ClassVar[dict[str, Any]] = {"bf16": torch.bfloat16, "fp16": torch.float16}

    def __init__(
        self, precision: str, optimizer: torch.optim.Optimizer, clip: float = 0.0
    ) -> None:
        params = [p for g in optimizer.param_groups for p in g["params"]]
        on_cuda = bool(params) and params[0].device.type == "cuda"
        self.optimizer, self.params, self.clip = optimizer, params, clip
        self.dtype = self.DTYPES.get(precision) if on_cuda else None
        self.scaler = (
            torch.amp.GradScaler("cuda") if self.dtype is torch.float16 else None
        )

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.dtype)

    def step(self, loss: torch.Tensor) -> None:
        """Backward, clip the gradient norm to ``clip`` (when > 0), step."""
        if self.scaler is None:
            loss.backward()
            if self.clip > 0:
                torch.nn.utils.clip_grad_norm_(self.params, self.clip)
            self.optimizer.step()
            return
        self.scaler.scale(loss).backward()
        if self.clip > 0:
            self.scaler.unscale_(self.optimizer)  # clip the true gradient, not the scaled one
            torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()


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


def resolved(
    config: TrainConfig,
    default_steps: int,
    default_warmup: float | None = None,
    default_lr: float | None = None,
    default_clip: float | None = None,
    default_batch: int | None = None,
) -> TrainConfig:
    """A copy of ``config`` with ``steps``, ``batch_size``, ``warmup``, ``lr`` and ``clip``
    filled in where they were left to the learner (None); ``config`` itself when nothing
    was."""
    changes: dict[str, Any] = {}
    if config.steps is None:
        changes["steps"] = default_steps
    if config.batch_size is None:
        changes["batch_size"] = DEFAULT_BATCH if default_batch is None else default_batch
    if config.warmup is None:
        changes["warmup"] = DEFAULT_WARMUP if default_warmup is None else default_warmup
    if config.lr is None:
        changes["lr"] = DEFAULT_LR if default_lr is None else default_lr
    if config.clip is None:
        changes["clip"] = 0.0 if default_clip is None else default_clip
    return dataclasses.replace(config, **changes) if changes else config


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
