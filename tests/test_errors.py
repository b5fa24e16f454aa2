"""One error hierarchy: every error sith raises on purpose is a SithError (issue 22),
and keeps the builtin base a user may already catch."""

import importlib

import pytest
import sympy as sp
import torch

from theory.errors import InvalidArgument, SithError

PUBLIC_MODULES = (
    "theory",
    "theory.compile",
    "theory._selfcheck",
    "theory.errors",
    "verification",
    "verification.errors",
    "verification.executors",
    "verification.testing",
    "verification.recovery",
    "verification.metrics",
    "verification.registry",
    "verification._loading",
)
# a pytest assertion failure of the plugin's fixture, not an error sith refuses with
NOT_REFUSALS = {"SithFailure"}


def _exception_classes():
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr in dir(module):
            value = getattr(module, attr)
            if (
                isinstance(value, type)
                and issubclass(value, Exception)
                and not attr.startswith("_")
                and value.__module__.split(".")[0] in ("theory", "verification")
                and attr not in NOT_REFUSALS
            ):
                yield f"{name}.{attr}", value


def test_every_public_error_is_a_sith_error():
    outside = [name for name, cls in _exception_classes() if not issubclass(cls, SithError)]
    assert not outside


def test_unsupported_function_is_a_sith_error_and_still_a_value_error():
    from theory.compile import UnsupportedFunctionError, compile_exprs

    z = sp.symbols("z1:3")
    with pytest.raises(SithError, match="besselj") as info:
        compile_exprs([sp.besselj(1, z[0]), z[1]], list(z))
    assert isinstance(info.value, UnsupportedFunctionError)
    assert isinstance(info.value, ValueError) and isinstance(info.value, InvalidArgument)


def test_compiler_mismatch_is_a_sith_error_and_still_a_runtime_error():
    from theory._selfcheck import CompilerMismatchError, check_against_sympy

    z = sp.symbols("z1:3")
    wrong = lambda v: torch.stack([v[..., 0] * 2.0, v[..., 1]], dim=-1)  # noqa: E731
    with pytest.raises(SithError) as info:
        check_against_sympy(wrong, [z[0], z[1]], list(z))
    assert isinstance(info.value, CompilerMismatchError) and isinstance(info.value, RuntimeError)


def test_learner_contract_and_lost_worker_errors_keep_their_builtin_bases():
    from verification.executors import WorkerLost
    from verification.testing import LearnerContractError

    assert issubclass(LearnerContractError, AssertionError)
    assert issubclass(LearnerContractError, SithError) and issubclass(WorkerLost, SithError)
