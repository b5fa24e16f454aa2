"""pytest plugin: theory papers test their identifiability claims in their own suites.

Installed with sith (entry point ``pytest11``). It imports nothing heavy at load time:
torch, sympy and the rest of sith are imported the first time a test uses the ``sith``
fixture, so suites that never use it pay nothing.

    def test_lemma_2(sith):
        sith.assert_holds(th.assumptions.Injective(), process)

    @pytest.mark.sith(budget=20, kinds=["failure"])
    def test_no_failure(sith):
        sith.assert_no_counterexample(th.theorems.get("cl-ica"))

Options: ``--sith-seed``, ``--sith-budget`` (a factor scaling every search budget),
``--sith-profile fast|thorough``, ``--sith-report PATH`` (JSON of every claim checked),
``--sith-oracle`` (recoveries in oracle mode: the learner may use the true latents while
training; the default is practice mode, and every recorded result says which). The
marker's ``oracle=`` or a call's ``oracle=`` keyword decides for one test or one call.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PROFILES: dict[str, dict[str, Any]] = {
    "fast": {"n_points": 256, "adversarial_steps": 20, "reseeds": 1, "budget": 10},
    "thorough": {"n_points": 2048, "adversarial_steps": 100, "reseeds": 3, "budget": 40},
}
MARKER_KEYS = {"budget", "seed", "kinds", "profile", "oracle"}
_RESULTS_KEY = pytest.StashKey[list]()
_LOADED_KEY = pytest.StashKey[bool]()
_DIR_KEY = pytest.StashKey[Path]()
_KEPT_KEY = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sith", "sith identifiability checks")
    group.addoption(
        "--sith-seed",
        type=int,
        default=None,
        help="seed for every sith check, recovery and search (default 0)",
    )
    group.addoption(
        "--sith-budget",
        type=float,
        default=1.0,
        help="factor that scales every search budget (default 1.0)",
    )
    group.addoption(
        "--sith-profile",
        choices=sorted(PROFILES),
        default="fast",
        help="fast (default) or thorough: sample sizes and search effort",
    )
    group.addoption(
        "--sith-oracle",
        action="store_true",
        default=False,
        help="recover in oracle mode (the learner may use the true latents while training); "
        "default: practice mode",
    )
    group.addoption(
        "--sith-keep",
        action="store_true",
        default=False,
        help="keep the session's run folder (searches, saved processes) even when every "
        "sith claim passed; it is kept anyway when one failed or --sith-report is given",
    )
    group.addoption(
        "--sith-report",
        default=None,
        metavar="PATH",
        help="write a JSON report of every claim checked in the session",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sith(budget=None, seed=None, kinds=None, profile=None, oracle=None): settings for the "
        "sith fixture in this test (search budget, seed, counterexample kinds, fast|thorough "
        "profile, oracle-mode recoveries)",
    )
    config.stash[_RESULTS_KEY] = []


@dataclass
class ClaimRecord:
    test: str
    kind: str
    target: str
    outcome: str
    passed: bool
    detail: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class SithFailure(AssertionError):
    """An identifiability assertion failed; the message carries the evidence."""


class Sith:
    """The ``sith`` fixture: assertions over checks, recovery and searches.

    Raw results are available too: :meth:`check`, :meth:`recover`, :meth:`search`.
    """

    def __init__(self, request: pytest.FixtureRequest) -> None:
        config = request.config
        marker = request.node.get_closest_marker("sith")
        settings = dict(marker.kwargs) if marker else {}
        unknown = set(settings) - MARKER_KEYS
        if unknown or (marker and marker.args):
            raise pytest.UsageError(
                f"@pytest.mark.sith takes keyword arguments {sorted(MARKER_KEYS)}; "
                f"got {sorted(unknown) or list(marker.args)}"
            )
        profile = settings.get("profile") or config.getoption("--sith-profile")
        if profile not in PROFILES:
            raise pytest.UsageError(f"unknown sith profile {profile!r}; use {sorted(PROFILES)}")
        self.profile = dict(PROFILES[profile], name=profile)
        cli_seed = config.getoption("--sith-seed")
        self.seed = settings.get("seed", cli_seed if cli_seed is not None else 0)
        self.budget_factor = config.getoption("--sith-budget")
        self.budget = settings.get("budget")
        self.kinds = tuple(settings.get("kinds") or ("gap", "failure"))
        oracle = settings.get("oracle")
        self.oracle = bool(config.getoption("--sith-oracle")) if oracle is None else oracle
        if not isinstance(self.oracle, bool):
            raise pytest.UsageError(
                f"@pytest.mark.sith(oracle=...) takes True or False, got {oracle!r}"
            )
        if not config.stash.get(_LOADED_KEY, False):  # once a session, as the CLI does
            from verification._loading import load_installed

            load_installed()
            config.stash[_LOADED_KEY] = True
        self._node = request.node
        self._records: list = config.stash[_RESULTS_KEY]
        self._dir = _session_dir(config)

    # --- raw results ---------------------------------------------------------------
    def check(self, target, process, **kwargs):
        from verification import check

        kwargs.setdefault("n_points", self.profile["n_points"])
        kwargs.setdefault("adversarial_steps", self.profile["adversarial_steps"])
        kwargs.setdefault("seed", self.seed)
        return check(target, process, **kwargs)

    def recover(self, theorem, process=None, **kwargs):
        from verification import recover

        kwargs.setdefault("seed", self.seed)
        kwargs.setdefault("oracle", self.oracle)
        return recover(_theorem(theorem), process, **kwargs)

    def search(self, theorem, space=None, *, budget=None, kinds=None, seed=None, **kwargs):
        from verification import search

        budget = budget or self.budget or self.profile["budget"]
        budget = max(1, round(budget * self.budget_factor))
        kwargs.setdefault("reseeds", self.profile["reseeds"])
        kwargs.setdefault("out", self._dir / f"search-{len(self._records)}")
        return search(
            _theorem(theorem),
            space,
            budget=budget,
            kinds=tuple(kinds or self.kinds),
            seed=self.seed if seed is None else seed,
            **kwargs,
        )

    # --- assertions ----------------------------------------------------------------
    def assert_holds(self, assumption, process, **kwargs):
        """Every assumption (or every assumption of a theorem) is proved or holds."""
        __tracebackhide__ = True  # the failure shows the evidence, not this frame
        return self._assert_evidence(assumption, process, want_satisfied=True, **kwargs)

    def assert_violated(self, assumption, process, **kwargs):
        """The assumption (or some assumption of a theorem) is violated."""
        __tracebackhide__ = True  # the failure shows the evidence, not this frame
        return self._assert_evidence(assumption, process, want_satisfied=False, **kwargs)

    def assert_recovers(self, theorem, process=None, *, seeds: int = 1, **kwargs):
        """The theorem's learner recovers its claim on every one of ``seeds`` seeds."""
        __tracebackhide__ = True  # the failure shows the evidence, not this frame
        return self._assert_recovery(theorem, process, seeds, want=True, **kwargs)

    def assert_not_recovered(self, theorem, process=None, *, seeds: int = 1, **kwargs):
        """The claim is not recovered on any of ``seeds`` seeds."""
        __tracebackhide__ = True  # the failure shows the evidence, not this frame
        return self._assert_recovery(theorem, process, seeds, want=False, **kwargs)

    def assert_no_counterexample(self, theorem, space=None, **kwargs):
        """A search within the budget finds no confirmed counterexample of the kinds."""
        __tracebackhide__ = True  # the failure shows the evidence, not this frame
        start = time.perf_counter()
        result = self.search(theorem, space, **kwargs)
        passed = not result.counterexamples
        lines = []
        for cx in result.counterexamples:
            d = cx.to_dict()
            claim = d["claim_metric"]
            value = "n/a" if claim["value"] is None else f"{claim['value']:.4f}"
            lines.append(
                f"  {cx.kind}: violated={d['violated']} {claim['name']}={value} "
                f"(threshold {claim['threshold']}, training {d['status']}); process "
                f"{json.dumps(d['process'])}"
            )
        self._record(
            "search",
            result.theorem,
            f"{len(result.counterexamples)} counterexample(s)",
            passed,
            {
                "evaluations": result.evaluations,
                "kinds": list(result.kinds),
                "counterexamples": [c.to_dict()["key"] for c in result.counterexamples],
                "run_dir": str(result.out),
                "report": str(Path(result.out) / "report.md"),
            },
            start,
        )
        if not passed:
            raise SithFailure(
                f"sith found {len(result.counterexamples)} counterexample(s) of "
                f"{result.theorem} in {result.evaluations} evaluations:\n"
                + "\n".join(lines)
                + f"\nreport, with a reproduce command per counterexample: {result.out}/report.md"
            )
        return result

    # --- internals -----------------------------------------------------------------
    def _assert_evidence(self, target, process, *, want_satisfied: bool, **kwargs):
        __tracebackhide__ = True
        from verification.checks import resolve
        from verification.evidence import EvidenceSet

        start = time.perf_counter()
        target = resolve(target)
        result = self.check(target, process, **kwargs)
        items = list(result) if isinstance(result, EvidenceSet) else [result]
        if want_satisfied:
            passed = all(e.satisfied for e in items)
        else:
            passed = any(e.verdict == "violated" for e in items)
        name = getattr(target, "name", str(target))
        outcome = ", ".join(f"{e.assumption}={e.verdict}" for e in items)
        self._record(
            "holds" if want_satisfied else "violated",
            name,
            outcome,
            passed,
            {"evidence": [e.to_dict() for e in items]},
            start,
        )
        if not passed:
            path = self._save_process(process)
            lines = [
                f"  {e.assumption}: {e.verdict} (statistic={e.statistic}, tolerance="
                f"{e.tolerance}, n_points={e.n_points}, method={e.method}) {e.message}"
                + (f"\n    witness: {e.witness}" if e.witness else "")
                for e in items
            ]
            expectation = "to hold" if want_satisfied else "to be violated"
            raise _failure(
                f"expected {name} {expectation}:",
                lines,
                "check",
                name,
                process_path=str(path),
                seed=kwargs.get("seed", self.seed),
                process=process.to_dict(),
                defined_in=[_module_of(target)],
                extra=[
                    "--n-points",
                    str(kwargs.get("n_points", self.profile["n_points"])),
                    "--adversarial-steps",
                    str(kwargs.get("adversarial_steps", self.profile["adversarial_steps"])),
                ],
            )
        return result

    def _assert_recovery(self, theorem, process, seeds: int, *, want: bool, **kwargs):
        __tracebackhide__ = True
        start = time.perf_counter()
        theorem = _theorem(theorem)
        base = kwargs.pop("seed", self.seed)
        results = [self.recover(theorem, process, seed=base + k, **kwargs) for k in range(seeds)]
        ok = [r.recovered == want for r in results]
        passed = all(ok)
        values = [r.claim_metric for r in results]
        self._record(
            "recovers" if want else "not-recovered",
            theorem.name,
            f"{results[0].claim_name}=" + ", ".join(f"{v:.4f}" for v in values),
            passed,
            {"results": [r.to_dict() | {"sample": None} for r in results]},
            start,
        )
        if not passed:
            path = self._save_process(process or theorem.canonical_process())
            lines = []
            for r in results:
                metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(r.metrics.items()))
                gap = "n/a" if r.optimality_gap is None else f"{r.optimality_gap:.4f}"
                lines.append(
                    f"  seed {r.seed}: recovered={r.recovered} {r.claim_name}="
                    f"{r.claim_metric:.4f} (threshold {r.threshold}) status={r.status} "
                    f"diagnosis={r.diagnosis} optimality_gap={gap} "
                    f"mode={'oracle' if r.oracle else 'practice'} {r.message}"
                    f"\n    metrics: {metrics}"
                )
            bad = next(r for r, good in zip(results, ok, strict=True) if not good)
            expectation = "recovered" if want else "not recovered"
            raise _failure(
                f"expected {theorem.name} to be {expectation} on {seeds} seed(s):",
                lines,
                "recover",
                theorem.name,
                process_path=str(path),
                seed=bad.seed,
                process=json.loads(path.read_text()),
                defined_in=[_module_of(theorem)],
                extra=["--oracle"] if bad.oracle else [],
            )
        return results

    def _save_process(self, process) -> Path:
        path = self._dir / f"process-{process.hash}.json"
        path.write_text(process.to_json())
        return path

    def _record(self, kind, target, outcome, passed, detail, start) -> None:
        record = ClaimRecord(
            self._node.nodeid, kind, target, outcome, passed, detail, time.perf_counter() - start
        )
        self._records.append(record)
        self._node.user_properties.append(
            (f"sith:{kind}:{target}", f"{'pass' if passed else 'fail'}: {outcome}")
        )


def _session_dir(config: pytest.Config) -> Path:
    """One run folder per session (made on first use), removed at the end unless it is
    needed: a failed claim's reproduce line reads from it, --sith-report names its
    searches, or --sith-keep asks."""
    if _DIR_KEY not in config.stash:
        config.stash[_DIR_KEY] = Path(tempfile.mkdtemp(prefix="sith-pytest-"))
    return config.stash[_DIR_KEY]


def _failure(heading: str, lines: list[str], *command: str, **options: Any) -> SithFailure:
    """The failure of an assertion: its heading, the evidence lines, and the command that
    reproduces it (``verification._reproduce.command(*command, **options)``)."""
    from verification import _reproduce as reproduce

    text = "\n".join([heading, *lines, "reproduce: " + reproduce.command(*command, **options)])
    return SithFailure(text)


def _module_of(obj) -> str:
    """The module that defined a theorem or assumption (for the reproduce line's --import)."""
    return getattr(obj, "module", "") or type(obj).__module__


def _theorem(theorem):
    import theory as th

    return th.theorems.get(theorem) if isinstance(theorem, str) else theorem


@pytest.fixture
def sith(request: pytest.FixtureRequest) -> Sith:
    """Identifiability assertions: assert_holds, assert_violated, assert_recovers,
    assert_not_recovered, assert_no_counterexample (and raw check/recover/search)."""
    return Sith(request)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    records: list[ClaimRecord] = config.stash.get(_RESULTS_KEY, [])
    if not records:
        return
    terminalreporter.write_sep("=", "sith")
    for r in records:
        mark = "PASS" if r.passed else "FAIL"
        terminalreporter.write_line(
            f"{mark} {r.kind:<14} {r.target:<22} {r.outcome}  ({r.seconds:.1f} s)  [{r.test}]"
        )
    kept = config.stash.get(_KEPT_KEY, None)
    if kept is not None:
        terminalreporter.write_line(f"sith run folder kept (reproduce lines read it): {kept}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    path = config.getoption("--sith-report", None)
    records = config.stash.get(_RESULTS_KEY, [])
    run_dir = config.stash.get(_DIR_KEY, None)
    if run_dir is not None:
        keep = config.getoption("--sith-keep") or path or any(not r.passed for r in records)
        if keep:
            config.stash[_KEPT_KEY] = run_dir
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    if not path:
        return
    payload = {
        "schema": "sith.pytest/1",
        "run_dir": None if run_dir is None else str(run_dir),
        "claims": [
            {
                "test": r.test,
                "kind": r.kind,
                "target": r.target,
                "outcome": r.outcome,
                "passed": r.passed,
                "seconds": round(r.seconds, 3),
                "detail": r.detail,
            }
            for r in records
        ],
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(payload, indent=2, default=str))
