"""The built-in learners as data, in one module that imports no torch: their registered
names, classes and tables of options.

A learner class declares its options as ``OPTIONS = tables.NAME`` (validation, ``--set``
parsing, sweep and search dimensions and error messages all read it:
``verification._options``), and ``verification.learners.LEARNERS`` registers the
built-in names of :data:`BUILT_IN`. Keeping both here lets ``sith learners`` list every
built-in learner and its options without importing torch (:func:`option_listing`).
"""

from __future__ import annotations

import math
import re

from theory.errors import InvalidArgument
from verification import _options as opt

TIME_BUDGET_HELP = "seconds for the whole fit (every raced start included); None: no limit"
TAU_HELP = "the temperature τ; None: τκ / κ (cosine critic) or 1 (lp critics)"
TAU_KAPPA_HELP = "cosine critic, tau None: τ = tau_kappa / κ (1: the theorem's); None: 3 or 2"
# the encoders' activations (verification.learners.encoders.ACTIVATIONS, by name)
ACTIVATION_NAMES = ("relu", "leaky_relu", "gelu", "silu", "tanh")
DEVICE_PATTERN = re.compile(r"^(cpu|auto|cuda(:\d{1,3})?)$")


def check_device(owner: str, device: object) -> str:
    """Validate the spelling of a ``device`` option (its availability is checked when
    training starts, on the machine that trains: ``devices.resolve_device``)."""
    if not isinstance(device, str) or not DEVICE_PATTERN.match(device):
        raise InvalidArgument(
            f"{owner}: device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}"
        )
    return device


# the ``device`` row of a learner's options table
DEVICE = opt.Option(
    "device",
    "text",
    "where it trains: cpu, cuda, cuda:N or auto",
    what="'cpu', 'cuda', 'cuda:N' or 'auto'",
    check=check_device,
)
# the options of the pair learners (VICReg, Barlow Twins) beside their loss weights
PAIR_OPTIONS = (
    opt.content_size(),
    opt.integer("projector", 1, 1 << 16, optional=True, help="projector width; None: none"),
    *opt.race_options(),
    DEVICE,
)

TRAIN = opt.table(
    opt.integer("steps", high=10**8, optional=True, help="training steps; None: the learner's"),
    opt.integer(
        "batch_size",
        2,
        10**7,
        optional=True,
        help="samples (or pairs) per step; None: the learner's (cosine InfoNCE: 256 at "
        "n <= 3), else 512",
    ),
    opt.number(
        "lr",
        0,
        math.inf,
        low_open=True,
        optional=True,
        what="a finite positive number",
        help="learning rate; None: the learner's rule (cosine InfoNCE: 2e-2 above n = 4, "
        "7e-3 from n = 16), else 1e-2",
    ),
    opt.choice("optimizer", "adam", "adamw", "sgd"),
    opt.choice("schedule", "warmup-cosine", "cosine", "constant"),
    opt.number("warmup", 0, 1, optional=True, help="warm-up fraction; None: the learner's"),
    opt.number("weight_decay", 0, math.inf, what="a finite number >= 0"),
    opt.number("time_budget", 0, 1e7, low_open=True, optional=True, help=TIME_BUDGET_HELP),
    opt.integer("log_every", 1, 10**8, help="steps between logged losses"),
    opt.integer("threads", 1, 1024, optional=True, help="torch threads; None: leave as is"),
    opt.number("extend", 1, 100, help="train on while the loss falls, up to this x steps"),
    opt.choice("precision", "fp32", "bf16", "fp16"),
    opt.number(
        "clip",
        0,
        1e6,
        optional=True,
        help="clip the gradient norm to this; 0: never; None: the learner's rule (cosine "
        "InfoNCE: 5 when its lr is above 1e-2), else never",
    ),
)
ENCODER = opt.table(
    opt.integer("width", 1, 1 << 16, help="hidden units per layer"),
    opt.integer("depth", 0, 64, help="hidden layers of each MLP"),
    opt.integer("blocks", 1, 64, help="residual blocks"),
    opt.choice("activation", *ACTIVATION_NAMES),
    opt.flag("residual", help="stacked linear + zero-initialised MLP blocks; False: a plain MLP"),
    opt.flag("whiten", help="whiten the inputs (fitted once on a training sample)"),
    opt.choice("init", "default", "orthogonal"),
)
INFONCE = opt.table(
    opt.choice("critic", "cosine", "lp", "lp-power", help="similarity of two outputs"),
    opt.number("tau", 0, 1e6, low_open=True, optional=True, help=TAU_HELP),
    opt.number("tau_kappa", 0, 1e3, low_open=True, optional=True, help=TAU_KAPPA_HELP),
    opt.choice("radius", "unit", "learnable", help="cosine critic: outputs on r S^(n-1)"),
    opt.number(
        "p", 0, 100, low_open=True, optional=True, help="lp exponent; None: the conditional's"
    ),
    opt.content_size(),
    opt.train_size(optional=True, help="fixed training set size; None: fresh pairs every step"),
    *opt.race_options(),
    opt.flag("oracle", help="the true latents' loss steers training (only when asked)"),
    opt.flag("early_stop", help="oracle mode: stop near the true latents' loss"),
    opt.number("target_tolerance", 0, 1e3, help="oracle mode: how near"),
    opt.flag("fold_guard", optional=True, help="early penalties against folds; None: n > 4"),
    opt.Option("fold_guard_weights", "floats", "(norm, Jacobian sign)", low=0, high=1e6, length=2),
    opt.number("fold_guard_fraction", 0, 1, help="the penalties decay to 0 over this fraction"),
    DEVICE,
)
ANINFONCE = {
    **INFONCE,
    "critic": opt.choice("critic", "anisotropic", help="a learnable diagonal Λ̂"),
}
FASTICA = opt.table(
    opt.train_size(),
    opt.integer("max_iter", 1, 10**6, help="FastICA's iterations"),
    opt.number("tol", 0, 1, low_open=True, help="FastICA's tolerance"),
)
TCL = opt.table(opt.train_size())
VICREG = opt.table(
    opt.number("lam", 0, 1e6, help="invariance weight λ"),
    opt.number("mu", 0, 1e6, help="variance weight μ"),
    opt.number("nu", 0, 1e6, help="covariance weight ν"),
    opt.number("gamma", 0, 1e6, low_open=True, help="target standard deviation per output"),
    opt.number("eps", 0, 1, low_open=True, help="inside the variance term's square root"),
    *PAIR_OPTIONS,
)
BARLOW_TWINS = opt.table(
    opt.number("lam", 0, 1e6, optional=True, help="off-diagonal weight λ; None: 1/d"),
    opt.number("eps", 0, 1, low_open=True, help="added to each dimension's batch std"),
    *PAIR_OPTIONS,
)
BYOL = opt.table(
    opt.content_size(),
    opt.integer("projector", 1, 1 << 16, help="width of the projector and predictor"),
    DEVICE,
    opt.number("momentum", 0, 1, help="the target's momentum m_0 at the first step"),
    *opt.race_options(),
)
CROSS_ENTROPY = opt.table(
    opt.train_size(optional=True, help="fixed training set size; None: fresh samples every step"),
    opt.integer("instances_per_class", 1, 10**4, optional=True, help="DIET: instance labels"),
)
MULTIVIEW = opt.table(
    opt.choice("critic", "lp", "lp-power", "cosine", help="similarity of two outputs"),
    opt.number("tau", 0, 1e6, low_open=True, optional=True, help="temperature; None: by critic"),
    opt.number("p", 0, 100, low_open=True, help="the lp critic's exponent"),
    opt.content_size(),
    opt.flag("shared", help="one encoder for both views"),
    opt.train_size(optional=True, help="fixed training set size; None: fresh pairs every step"),
    *opt.race_options(),
    opt.choice("init", "cca", "random", help="cca: encoders start as the views' CCA directions"),
)
IVAE = opt.table(
    opt.train_size(),
    opt.number("decoder_var", 0, 1e6, low_open=True, help="observation noise variance s²"),
    opt.integer("candidates", 1, 64, help="initialisations trained side by side"),
)
GCL = opt.table(
    opt.choice("psi", "quadratic", "mlp", help="the form of each psi_i(h, u)"),
    opt.integer("psi_width", 1, 4096, help="hidden units of each MLP_i (psi=mlp)"),
    opt.flag("baseline", help="add a(x) so the function class contains the optimum"),
    opt.train_size(),
    *opt.race_options(),
)

# every built-in learner: its registered name -> (its class, the options its factory sets)
BUILT_IN: dict[str, tuple[str, dict]] = {
    # the theorem's learner: τ = 1/κ (Zimmermann et al. 2021, Thm 2)
    "infonce": ("InfoNCE", {}),
    # the practical variant: τκ = 3 (n <= 4) or 2 (n > 4), outside the theorem
    "infonce-practical": ("InfoNCE", {"tau_kappa": None}),
    "infonce-lp": ("InfoNCE", {"critic": "lp"}),
    # the convex-body theorem's critic: δ = ‖·‖_α^α with α the conditional's exponent
    "infonce-lp-matched": ("InfoNCE", {"critic": "lp-power", "p": None}),
    # the content-block papers' estimator: τ = 1, sim(a, b) = −‖a − b‖₂²
    "infonce-content": ("InfoNCE", {"critic": "lp-power", "p": 2.0, "tau": 1.0}),
    "fastica": ("FastICA", {}),
    "tcl": ("TCL", {}),
    "vicreg": ("VICReg", {}),
    "barlow-twins": ("BarlowTwins", {}),
    "byol": ("BYOL", {}),
    "aninfonce": ("AnInfoNCE", {}),
    "cross-entropy": ("CrossEntropy", {}),
    "diet": ("CrossEntropy", {"instances_per_class": 10}),
    "multiview-infonce": ("MultiviewInfoNCE", {}),
    "ivae": ("IVAE", {}),
    "gcl": ("GCL", {}),
}
# the configurations a learner holds, each with its own table (``encoder.width``, ...)
NESTED = {"encoder": ENCODER, "train": TRAIN}
_TRAINED = ("encoder", "train")
# every built-in class: (its table, the nested configurations it holds)
CLASSES: dict[str, tuple[dict[str, opt.Option], tuple[str, ...]]] = {
    "InfoNCE": (INFONCE, _TRAINED),
    "AnInfoNCE": (ANINFONCE, _TRAINED),
    "FastICA": (FASTICA, ()),
    "TCL": (TCL, _TRAINED),
    "VICReg": (VICREG, _TRAINED),
    "BarlowTwins": (BARLOW_TWINS, _TRAINED),
    "BYOL": (BYOL, _TRAINED),
    "CrossEntropy": (CROSS_ENTROPY, _TRAINED),
    "MultiviewInfoNCE": (MULTIVIEW, _TRAINED),
    "IVAE": (IVAE, _TRAINED),
    "GCL": (GCL, _TRAINED),
}


def option_listing(class_name: str) -> list[str]:
    """Every option (``--set KEY``) of a built-in learner class: its own, then those of
    its nested configurations, dotted (``train.steps``)."""
    table, nested = CLASSES[class_name]
    return [*table, *(f"{part}.{key}" for part in nested for key in NESTED[part])]


__all__ = [
    "ACTIVATION_NAMES",
    "ANINFONCE",
    "BARLOW_TWINS",
    "BUILT_IN",
    "BYOL",
    "CLASSES",
    "CROSS_ENTROPY",
    "DEVICE",
    "ENCODER",
    "FASTICA",
    "GCL",
    "INFONCE",
    "IVAE",
    "MULTIVIEW",
    "NESTED",
    "PAIR_OPTIONS",
    "TAU_HELP",
    "TAU_KAPPA_HELP",
    "TCL",
    "TIME_BUDGET_HELP",
    "TRAIN",
    "VICREG",
    "check_device",
    "option_listing",
]
