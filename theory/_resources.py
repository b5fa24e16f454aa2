"""Memory guard: refuse a request clearly instead of asking the machine for 80 GB.

``require_memory(nbytes, what, hint)`` compares a (cheap, rough) estimate with the memory
available now and raises :class:`~theory.errors.ResourceLimit` when the request would take
more than ``SAFETY_FRACTION`` of it. The lookup, :func:`available_memory`, is a module
function so tests can monkeypatch it; when it cannot tell, the request is allowed.
"""

from __future__ import annotations

import os

from theory.errors import ResourceLimit

SAFETY_FRACTION = 0.5  # a request may use at most this share of the available memory


def available_memory() -> int | None:
    """Bytes of memory available now (Linux MemAvailable; else physical memory; else None)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def gib(nbytes: float) -> str:
    """A byte count in GiB for messages: '74.5 GiB', '0.0031 GiB'."""
    value = nbytes / 2**30
    return f"{value:.1f} GiB" if value >= 0.1 else f"{value:.2g} GiB"


def require_memory(nbytes: int, what: str, hint: str = "") -> None:
    """Raise ResourceLimit when ``what`` (needing about ``nbytes``) cannot fit in memory.

    ``what`` names the request (e.g. "InvertibleMLP(n=100000, depth=3) (weights and
    condition-number calibration)"), ``hint`` how to make it smaller ("use a smaller n").
    """
    available = available_memory()
    if available is None or nbytes <= SAFETY_FRACTION * available:
        return
    message = (
        f"{what} needs about {gib(nbytes)}; about {gib(available)} is available "
        f"(sith uses at most {SAFETY_FRACTION:.0%} of it)"
    )
    raise ResourceLimit(message + (f"; {hint}" if hint else ""))


__all__ = ["SAFETY_FRACTION", "available_memory", "gib", "require_memory"]
