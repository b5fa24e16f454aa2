"""Counterexample search, bottom to top (each module imports only those above it):

- ``records``   typed records: :class:`Evaluation` (frozen, ``to_dict``/``from_dict``),
                :class:`Counterexample`, :class:`SearchResult`
- ``store``     the result store: one atomic JSON file per evaluation
- ``reports``   the ``sith.report/1`` document built from a result, and its renderers
- ``rundir``    the run directory: its layout, settings, lock, and report files
- ``necessity`` the necessity table: each assumption's lone violations and their recovery
- ``evaluator`` one candidate -> one Evaluation (checks + recovery), through the store
- ``outside``   which values of a space lie outside the theorem, found by probing
- ``derive``    a theorem's search space derived from its canonical process
- ``driver``    :func:`search`: hypothesis rounds, targeting, shrinking, re-seeding

The search spaces and their hypothesis strategies are public modules of their own
(``verification.spaces``, ``verification.strategies``). The package name is private
so that no submodule can shadow the public function ``verification.search``.
"""

from verification._search.derive import derive_space, space_for
from verification._search.driver import plan, search
from verification._search.evaluator import CHECK_SETTINGS, Evaluator
from verification._search.records import (
    EVALUATION_SCHEMA,
    KINDS,
    QUADRANTS,
    Counterexample,
    Evaluation,
    SearchResult,
    spec_key,
)
from verification._search.reports import (
    SCHEMA,
    SCHEMA_FILE,
    build_report,
    load_report,
    render_html,
    render_markdown,
    render_plots,
)
from verification._search.rundir import SETTINGS_SCHEMA, RunDirectory
from verification._search.store import CorruptRecordWarning, ResultStore, write_atomic

__all__ = [
    "CHECK_SETTINGS",
    "EVALUATION_SCHEMA",
    "KINDS",
    "QUADRANTS",
    "SCHEMA",
    "SCHEMA_FILE",
    "SETTINGS_SCHEMA",
    "CorruptRecordWarning",
    "Counterexample",
    "Evaluation",
    "Evaluator",
    "ResultStore",
    "RunDirectory",
    "SearchResult",
    "build_report",
    "derive_space",
    "load_report",
    "plan",
    "render_html",
    "render_markdown",
    "render_plots",
    "search",
    "space_for",
    "spec_key",
    "write_atomic",
]
