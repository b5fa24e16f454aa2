"""sith's performance benchmarks, and the one command that runs them all.

``python -m benchmarks`` (from a checkout) runs every benchmark at the ``quick`` size
(minutes; what to run after a change) or with ``--size full`` (the sizes the floors are
stated for), prints one table (figure, value, floor, reference, pass/short), saves the
figures as JSON (``--json``, default ``benchmarks-SIZE.json``), and with ``--compare
OLD.json`` flags every figure more than 20 % worse than in OLD (exit code 1). Each script
also runs alone (``python benchmarks/jacobians.py ...``) with its own options and output.

The interface (how a benchmark joins the table)
-----------------------------------------------

A benchmark is a module ``benchmarks/NAME.py`` with a function::

    def figures(size: str) -> list[dict]:  # size: "quick" or "full"

listed in :data:`BENCHMARKS` below. Each figure is a plain dict (so the scripts stay
runnable alone, without importing this package):

==============  =====================================================================
key             meaning
==============  =====================================================================
``name``        unique, dotted: ``"jacobians.d50.engine/analytic"``
``value``       the measured number (float)
``unit``        ``"s"``, ``"x"``, ``"evals/min"``, ``"fraction"``, ...
``better``      ``"higher"`` or ``"lower"``: the direction of an improvement
``floor``       the bound to meet (``value >= floor`` when higher is better, ``<=`` when
                lower is), or None: reported only
``reference``   a number to read the value against where one exists (the analytic
                Jacobian's time, the serial run's, a paper's figure), or None
``note``        optional: what was measured, in a few words
``details``     optional: anything JSON-able kept in the saved file (verdicts, rows)
==============  =====================================================================

A figure ``passes`` when it meets its floor and is ``short`` when it does not. The
runner records the machine (CPU, cores, load average before and after, torch and
Python versions, and the seconds of a fixed reference workload before and after:
``benchmarks._speed``): timing floors are for an otherwise idle machine, a figure
measured under load says so in the load column of the saved JSON, and ``--compare``
reads times and rates at the old run's machine speed too. Tests never assert
timings (``tests/test_benchmarks.py`` checks the table, JSON and comparison logic on a
fake benchmark).

To add figures (e.g. the recovery speed of a learner), add a ``figures(size)`` to a
module here and its name to :data:`BENCHMARKS`.
"""

from __future__ import annotations

#: benchmark name -> module (``benchmarks.NAME``), run in this order
BENCHMARKS: dict[str, str] = {
    "jacobians": "benchmarks.jacobians",
    "checks": "benchmarks.checks",
    "scaling": "benchmarks.scaling",
    "recovery": "benchmarks.recovery",
    "paper_tables": "benchmarks.paper_tables",
    "startup": "benchmarks.startup",
}

SIZES = ("quick", "full")

__all__ = ["BENCHMARKS", "SIZES"]
