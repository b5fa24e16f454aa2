"""What ``sith sweep`` and ``sith align`` share: the theorem and process they run
around, their default run directory, and the run itself (progress, SIGTERM, the
summary or JSON, tracking, exit codes)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from verification import _startup_gc
from verification.cli import _common as common


def subject(name: str, process_spec: str | None):
    """(theorem, process, imports): the theorem NAME, the process of ``--process`` (else
    its canonical one), and what workers must import (``--import`` and the module of
    ``--process FILE.py:ATTR``)."""
    process = common.load_process(process_spec, None) if process_spec else None
    theorem = common.theorem_named(name)
    process = process or common.load_process(process_spec, theorem)
    imports = common.root_imports()
    if process_spec and not process_spec.endswith(".json"):
        imports.append(process_spec.rsplit(":", 1)[0])
    return theorem, process, imports


def arguments(
    run, run_on, outputs, process, seeds: int, seed: int, out: str, imports: list[str]
) -> dict[str, Any]:
    """The keyword arguments ``sweep`` and ``align`` share: the process, seeds, the run
    directory ``out`` and its store, what workers import, the time limit, the mode,
    figures and the executor."""
    return {
        "process": process,
        "seeds": seeds,
        "seed": seed,
        "out": out,
        "imports": imports,
        "store": run.store,
        "evaluation_time_limit": run.evaluation_time_limit,
        "oracle": run.oracle,
        "plots": not run.no_plots,
        "figures": outputs.formats(),
        **dataclasses.asdict(run_on),
    }


def default_out(command: str, name: str, process, config: dict[str, Any]) -> str:
    """``runs/COMMAND-NAME-HASH``: one directory per distinct run, so that rerunning the
    same command resumes it."""
    from verification._runs import default_directory

    return default_directory(command, name, {"process": process.to_dict(), **config})


def execute(
    command: str,
    run: Callable[[Any], Any],
    *,
    progress,
    out: str,
    as_json: bool,
    quiet: bool,
    outputs,
    summarise: Callable[[Any, dict], None],
    records: Callable[[Any], Iterable],
    params: Callable[[Any, dict], dict],
    failure: Callable[[Any], str | None],
) -> None:
    """Run ``run(progress)`` (SIGTERM stops it like Ctrl-C), then print its document
    (``--json``) or ``summarise(result, document)``, track it, and leave with the conventional
    code: 130/143 when interrupted, 2 (one line) when ``failure(result)`` names one."""
    outputs.check()
    _startup_gc.resume()  # the command's imports are done (see verification._startup_gc)
    with progress or contextlib.nullcontext(), common.sigterm_as_interrupt() as terminated:
        result = run(progress)
    doc = result.to_dict()
    if as_json:
        common.echo(json.dumps(doc, indent=2))
    elif not quiet:
        summarise(result, doc)
    common.track(
        outputs,
        command=command,
        theorem=result.theorem,
        records=records(result),
        provenance_=doc.get("provenance"),
        artifacts=[Path(out) / f"{command}.json", Path(out) / "report.md"],
        status=result.status,
        params=params(result, doc),
        quiet=quiet or as_json,
    )
    if result.status == "interrupted":
        sys.exit(common.EXIT_TERMINATED if terminated else common.EXIT_INTERRUPTED)
    message = failure(result)
    if message:
        common.fail(message)


def print_summary(headline: str, title: str, header, rows, *lines: str) -> None:
    """A run's summary: a headline (markup), a table, then plain lines."""
    screen = common.console()
    screen.print(headline)
    body = common.table(title, header, title_justify="left")
    for cells in rows:
        body.add_row(*map(common.cell, cells))
    screen.print(body)
    for line in lines:
        screen.print(common.m(line))


def store_records(store_root, entries, theorem: str):
    """Tracker records of a sweep's rows or an alignment's models (from the store)."""
    from verification._runs import ResultStore
    from verification.tracking import Record

    store = ResultStore(store_root)
    for entry in entries:
        evaluation = store.get(entry["key"]) if entry.get("key") else None
        if evaluation is not None:
            yield Record.from_evaluation(evaluation)
        else:
            yield Record(
                key=str(entry.get("key") or entry.get("id")),
                theorem=theorem,
                process={},
                learner={},
                seed=int(entry.get("seed", 0)),
                params=dict(entry.get("params") or {}),
                recovery=None,
                error=str(entry.get("error") or "not in the store"),
            )


def parse_vary(items: tuple[str, ...], random_n: int | None) -> dict:
    """--vary KEY=V1,V2,... (values as JSON where they parse, else strings) or, with
    --random, KEY=LOW..HIGH[:log]."""
    from theory._json import load_json
    from theory.errors import SithError
    from verification._sweep import Range

    vary: dict = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or not text.strip():
            common.fail(
                f"--vary expects KEY=V1,V2,... (or KEY=LOW..HIGH with --random), got {item!r}"
            )
        if key in vary:
            common.fail(f"--vary {key} is given twice; list its values once: {key}=V1,V2,...")
        if ".." in text and "," not in text:
            if random_n is None:
                common.fail(f"--vary {item}: a range needs --random N (a grid takes V1,V2,...)")
            try:
                vary[key] = Range.parse(text.strip())
            except SithError as err:
                common.fail(f"--vary {item}: {err}")
            continue
        values = []
        for raw in text.split(","):
            raw = raw.strip()
            if not raw:
                common.fail(f"--vary {item}: an empty value")
            try:
                values.append(load_json(raw, what=f"--vary {key}"))
            except SithError as err:
                if "non-finite" in str(err) or "overflows" in str(err):
                    common.fail(f"--vary {key}: {raw} is not a finite number")
                values.append(raw)
        vary[key] = values
    if not vary:
        common.fail("--vary KEY=V1,V2,... is required (repeat it for a grid)")
    return vary
