"""sith's one :class:`Registry` (defined in ``theory.registry``: the theorem and
assumption catalogues use it too, and ``theory`` must not import this side)."""

from theory.registry import Registry

__all__ = ["Registry"]
