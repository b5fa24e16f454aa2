"""The checks of what a learner is: a Learner with a name and a fit, a stable JSON
config, a deep copy with the same config.

Private: the public names live in :mod:`verification.testing`."""

from __future__ import annotations

import copy
import inspect
import json

from theory._spec import canonical_json
from verification._testing.harness import Harness, _describe
from verification.learners.base import Learner


def check_is_learner(h: Harness) -> None:
    check = "is_learner"
    h.require_learner(check)
    name = getattr(h.learner, "name", None)
    if not isinstance(name, str) or not name:
        raise h.fail(check, f"its name must be a non-empty string, got {name!r}")
    if type(h.learner).fit is Learner.fit:
        raise h.fail(check, "it does not implement fit(process, *, seed=0)")
    try:
        inspect.signature(h.learner.fit).bind(h.process, seed=h.seed)
    except TypeError as err:
        raise h.fail(
            check, f"fit cannot be called as fit(process, seed=...) as recover does: {err}"
        ) from None
    except ValueError:  # a signature inspect cannot read: the fit checks will tell
        pass


def check_config_json(h: Harness) -> None:
    check = "config_json"
    h.require_learner(check)
    config, text = h.config_of(check, h.learner)
    if config.get("name") != h.learner.name:
        raise h.fail(
            check,
            f"config()['name'] is {config.get('name')!r}, not the learner's name "
            f"{h.learner.name!r}",
        )
    _, again = h.config_of(check, h.learner)
    if again != text:
        raise h.fail(check, f"config() differs between two calls: {text} vs {again}")
    if canonical_json(json.loads(text)) != text:
        raise h.fail(check, "config() changes in a JSON round trip")


def check_config_deepcopy(h: Harness) -> None:
    check = "config_deepcopy"
    h.require_learner(check)
    try:
        clone = copy.deepcopy(h.learner)
    except Exception as err:
        raise h.fail(check, f"the learner cannot be deep-copied: {_describe(err)}") from err
    _, text = h.config_of(check, h.learner)
    _, cloned = h.config_of(check, clone)
    if cloned != text:
        raise h.fail(check, f"a deep copy has another config: {cloned} vs {text}")
