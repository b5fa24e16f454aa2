"""Sweeps for the empirical questions: a grid (or a random sample) of settings x seeds.

Bottom to top (each module imports only those above it):

- ``settings``  sweep keys (process fields, learner options), their validation, the
                grid or random settings, and the candidate process + options of each
- ``plan``      :class:`SweepPlan`: the evaluations counted (not built), a size limit,
                the executor and a rough time estimate, stated before any work
- ``result``    rows, their summary, :class:`SweepResult` (the ``sith.sweep/1`` document,
                CSV, a pandas frame)
- ``reports``   Markdown, HTML and figures rendered from the document
- ``driver``    :func:`sweep`: validate, skip what the store has, run the rest on an
                executor (``verification.executors``) as picklable
                ``verification._runs.WorkItem`` s (evaluated by the shared Evaluator of
                ``verification._runs``, so sweeps and searches share store records),
                write OUT as rows finish

The package name is private so that no submodule can shadow the public function
``verification.sweep``.
"""

from verification._sweep.driver import DEVICES, SweepDirectory, sweep
from verification._sweep.plan import CONFIRM_ABOVE, PlanTooLarge, SweepPlan
from verification._sweep.reports import load_sweep
from verification._sweep.result import SCHEMA, SCHEMA_FILE, SweepResult
from verification._sweep.settings import Range, SweepSpace, with_dimension

__all__ = [
    "CONFIRM_ABOVE",
    "DEVICES",
    "SCHEMA",
    "SCHEMA_FILE",
    "PlanTooLarge",
    "Range",
    "SweepDirectory",
    "SweepPlan",
    "SweepResult",
    "SweepSpace",
    "load_sweep",
    "sweep",
    "with_dimension",
]
