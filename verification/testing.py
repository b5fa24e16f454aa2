"""A contract suite for learners: what every learner must do for ``recover`` to be honest.

Like scikit-learn's ``check_estimator``: run it on your own learner before you trust a
recovery result it produced::

    from verification.testing import check_learner
    check_learner(MyLearner())          # raises LearnerContractError on the first failure

or one pytest test per check::

    @pytest.mark.parametrize(("name", "check"), learner_checks(MyLearner()))
    def test_my_learner(name, check):
        check()

The contract, as ``recover`` relies on it (``verification/recovery.py``): a learner is
given a :class:`theory.Process` and a seed, draws its own training data from the process,
and returns a :class:`~verification.learners.Fit`; ``recover`` then draws held-out
samples from a separate stream (``rng([seed, TEST_STREAM])``), encodes their
observations with ``fit.encode`` and scores them against their latents. The checks:

``is_learner``
    a :class:`~verification.learners.Learner` with a ``name`` whose ``fit`` is its own
    and can be called as ``fit(process, seed=...)``.
``config_json``
    ``config()`` is a dict naming the learner, JSON-serialisable by
    :func:`theory._spec.canonical_json` (results are stored and hashed by it), the same
    on every call, and unchanged by a JSON round trip.
``config_deepcopy``
    the learner can be deep-copied (theorems hand out copies) and the copy has the same
    config.
``fit_result``
    ``fit`` returns a ``Fit`` whose fields have their documented types, with status
    "ok" on the contract process; and it leaves the learner's config as it was.
``deterministic``
    two fits with the same seed on the same process encode a probe identically, even
    when the global torch / numpy random state differs between them.
``encode_shape``
    ``encode`` maps ``m`` unseen observations (float64, as ``recover`` passes them) to a
    finite floating ``torch.Tensor`` of shape ``(m, latent_dim)``, also for ``m = 1``,
    without modifying its input.
``encode_rowwise``
    the fitted encoder maps each observation on its own: encoding other (evaluation)
    data first, or encoding a probe inside a different batch, does not change the
    probe's encoding. So evaluation data cannot leak into the representation.
``no_evaluation_data``
    ``fit`` never draws from the held-out stream ``recover`` evaluates on and never
    generates any of its observations; and once ``fit`` has returned, ``encode`` no
    longer touches the process (the true mixing and latents): an encoder sees x only.
``divergence``
    given training observations with NaN / inf injected, or so large that their
    variance overflows float32, ``fit`` does not raise: it returns a Fit whose status is
    not "ok" (saying why in its message), or an "ok" fit whose encoder is still finite.

The checks train on a small process (:func:`contract_process`: segmented Laplace
latents, an invertible MLP, Normal positive pairs, so that pair-based, label-based and
plain learners all accept it) and on a shrunk copy of the learner (:func:`shrunk`:
at most ``SMALL_STEPS`` steps, batches of at most 64, at most ``SMALL_TRAIN`` training
samples), so the whole contract takes seconds. Pass ``process=`` for a learner that needs
a different kind of data, and ``shrink=False`` to check the learner as configured.

A learner draws its training data from the process, so it may see training latents the
way the generative process makes them (TCL needs the segment labels; InfoNCE's oracle
mode, only when asked, compares with the true latents' loss): the contract forbids the
*evaluation* data and the truth at encoding time, not the generative process during
training. Whether truth-derived signals steer training is the learner's mode, reported
in ``Fit.extras["oracle"]`` and ``RecoveryResult.oracle`` (practice mode by default).

The suite lives by job in the private package ``verification._testing``: ``harness``
(the state the checks share), ``config``, ``fits`` and ``encode`` (the checks, each a
function of the harness) and ``watch`` (the watched process).
"""

from __future__ import annotations

from collections.abc import Callable

import theory as th
from verification._testing import config, encode, fits
from verification._testing.harness import (
    SMALL_BATCH,
    SMALL_STEPS,
    SMALL_TRAIN,
    STATUSES,
    Harness,
    LearnerContractError,
    contract_process,
    shrunk,
)
from verification.learners.base import Learner

# every check of the contract, in the order it runs
_CHECKS: dict[str, Callable[[Harness], None]] = {
    "is_learner": config.check_is_learner,
    "config_json": config.check_config_json,
    "config_deepcopy": config.check_config_deepcopy,
    "fit_result": fits.check_fit_result,
    "deterministic": fits.check_deterministic,
    "encode_shape": encode.check_encode_shape,
    "encode_rowwise": encode.check_encode_rowwise,
    "no_evaluation_data": encode.check_no_evaluation_data,
    "divergence": fits.check_divergence,
}
CHECKS = tuple(_CHECKS)


def learner_checks(
    learner: Learner,
    *,
    seed: int = 0,
    n: int = 3,
    process: th.Process | None = None,
    latent_dim: int | None = None,
    shrink: bool = True,
) -> list[tuple[str, Callable[[], None]]]:
    """``(name, check)`` for every check of the contract, in order; ``check()`` raises
    :class:`LearnerContractError` when the learner fails it.

    Arguments:
        learner: the learner to check (never modified: the checks train copies).
        seed: the seed every fit uses.
        n: the latent dimension of the default contract process.
        process: the process to train on (default: :func:`contract_process` of ``n``).
        latent_dim: the number of outputs ``encode`` must have (default: the learner's
            ``content`` if it is an integer, else the process's dimension).
        shrink: train a :func:`shrunk` copy (small budget) instead of a plain copy.

    The checks share one fitted copy (made on first use), so running all of them costs
    about three fits; each can also run on its own.
    """
    harness = Harness(learner, seed, n, process, latent_dim, shrink)
    out = []
    for name, check in _CHECKS.items():

        def run(check=check) -> None:
            check(harness)

        run.__name__ = run.__qualname__ = name
        out.append((name, run))
    return out


def check_learner(
    learner: Learner,
    *,
    seed: int = 0,
    n: int = 3,
    process: th.Process | None = None,
    latent_dim: int | None = None,
    shrink: bool = True,
) -> None:
    """Run every check of the contract (see the module docstring); raise
    :class:`LearnerContractError` on the first failure. Arguments as in
    :func:`learner_checks`."""
    for _, check in learner_checks(
        learner, seed=seed, n=n, process=process, latent_dim=latent_dim, shrink=shrink
    ):
        check()


# --------------------------------------------------------------------------- machinery


__all__ = [
    "CHECKS",
    "SMALL_BATCH",
    "SMALL_STEPS",
    "SMALL_TRAIN",
    "STATUSES",
    "LearnerContractError",
    "check_learner",
    "contract_process",
    "learner_checks",
    "shrunk",
]
