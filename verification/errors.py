"""sith's error hierarchy (defined in ``theory.errors``, which must not import this side)."""

from theory.errors import *  # noqa: F403 -- the one hierarchy, re-exported as is
from theory.errors import __all__  # noqa: F401
