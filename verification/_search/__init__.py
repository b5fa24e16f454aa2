"""Counterexample search, bottom to top (each module imports only those above it):

- ``records``   :class:`Counterexample` and :class:`SearchResult`, made of the
                :class:`~verification._runs.Evaluation` s every run kind shares
- ``necessity`` the necessity table: each assumption's lone violations and their recovery
- ``reports``   the ``sith.report/1`` document built from a result, its renderers, and
                its figures drawn from the document and its records
- ``rundir``    the search's run directory: its settings, report files (a
                :class:`~verification._runs.LockedDirectory`)
- ``outside``   which values of a space lie outside the theorem, found by probing
- ``derive``    a theorem's search space derived from its canonical process
- ``parallel``  :class:`LookAhead`: what hypothesis will ask for, evaluated on workers
- ``driver``    :func:`search`: hypothesis rounds, targeting, shrinking, re-seeding

The evaluator, the store, the records and the workers are the run machinery every kind
of run shares (``verification._runs``). The search spaces and their hypothesis
strategies are public modules of their own (``verification.spaces``,
``verification.strategies``). The package name is private so that no submodule can
shadow the public function ``verification.search``.
"""

from verification._runs import (
    EVALUATION_SCHEMA,
    KINDS,
    QUADRANTS,
    CorruptRecordWarning,
    Evaluation,
    ResultStore,
    spec_key,
)
from verification._runs.evaluator import CHECK_SETTINGS, Evaluator
from verification._search.derive import derive_space, space_for
from verification._search.driver import plan, search
from verification._search.records import Counterexample, SearchResult
from verification._search.reports import (
    SCHEMA,
    SCHEMA_FILE,
    build_report,
    load_records,
    load_report,
    render_html,
    render_markdown,
    render_plots,
)
from verification._search.rundir import SETTINGS_SCHEMA, RunDirectory

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
    "load_records",
    "load_report",
    "plan",
    "render_html",
    "render_markdown",
    "render_plots",
    "search",
    "space_for",
    "spec_key",
]
