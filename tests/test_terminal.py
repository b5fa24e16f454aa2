"""Terminal hygiene: names and messages from users' modules and files cannot repaint the
terminal or inject rich markup, and warnings arrive as one plain line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from verification._terminal import printable, printable_name
from verification.cli import main

ROOT = Path(__file__).resolve().parents[1]
EVIL = "evil\x1b[2J\x1b[31m\x9b0m\u202etxt"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def paper(tmp_path):
    path = tmp_path / "evilpaper.py"
    path.write_text(
        textwrap.dedent(
            f"""
            import dataclasses
            import theory as th

            base = th.theorems.get("linear-ica")
            th.theorems.register(dataclasses.replace(base, name={EVIL!r}), replace=True)
            th.theorems.register(
                dataclasses.replace(base, name="a[/]b [link=http://x]y[/link]"), replace=True
            )
            """
        )
    )
    yield path
    from theory import theorems

    for name in [n for n in theorems.names() if n == EVIL or n.startswith("a[/]b")]:
        theorems._CATALOGUE.pop(name)  # leave the catalogue as other tests expect it


def test_printable_escapes_every_control_character():
    assert printable(EVIL) == "evil\\x1b[2J\\x1b[31m\\x9b0m\\u202etxt"
    assert printable("two\nlines\tok") == "two\nlines\tok"
    assert printable_name("two\nlines") == "two\\x0alines"
    assert printable("\x07\x08\r\x7f\u200b") == "\\x07\\x08\\x0d\\x7f\\u200b"
    assert printable("Hyvärinen κ → ≥") == "Hyvärinen κ → ≥"


def test_a_theorem_named_with_ansi_escapes_cannot_repaint_the_terminal(paper):
    result = invoke("--import", paper, "theorems")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x9b" not in result.output
    assert "\u202e" not in result.output
    assert "evil\\x1b[2J" in result.output.replace("\n", "").replace("│", "").replace(" ", "")


def test_names_are_not_read_as_rich_markup(paper):
    result = invoke("--import", paper, "theorems")
    assert result.exit_code == 0, result.output  # "[/]" closing nothing is text, not an error
    assert "\x1b]8;" not in result.output  # no terminal hyperlink
    import io

    from rich.table import Table

    from verification._terminal import SafeConsole
    from verification.cli._common import cell as _cell
    from verification.cli._common import m as _m

    name = "a[/]b [link=http://x]y[/link]\x1b[2J"
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, width=300, force_terminal=True, highlight=False)
    console.print(f"[bold]{_m(name)}[/]")
    table = Table()
    table.add_column("name")
    table.add_row(_cell(name))
    console.print(table)
    text = buffer.getvalue()
    assert text.count("a[/]b [link=http://x]y[/link]\\x1b[2J") == 2
    assert "\x1b]8;" not in text and "\x1b[2J" not in text


def test_an_error_naming_a_hostile_name_is_one_escaped_line():
    result = invoke("check", "unknown-" + EVIL)
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "evil\\x1b[2J" in result.output
    assert result.output.count("\n") == 1


def test_a_resumed_search_reports_an_unreadable_record_in_one_plain_line(tmp_path):
    out = tmp_path / "run"
    first = invoke("search", "linear-ica", "--budget", 2, "--out", out, "--quiet")
    assert first.exit_code == 0, first.output
    record = sorted((out / "evaluations").glob("*.json"))[0]
    record.write_text("{ not json \x1b[2J")
    # as a user runs it: a process of its own (pytest records warnings in-process)
    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "verification._entry",
            "search",
            "linear-ica",
            "--budget",
            "2",
            "--out",
            str(out),
            "--resume",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.count("\n") == 1, resumed.stderr  # one line, nothing else
    line = resumed.stderr.strip()
    assert line.startswith("Warning: ignoring unreadable store record "), line
    assert record.name in line
    assert "CorruptRecordWarning" not in line and "warnings.warn" not in resumed.stderr
    assert "\x1b" not in resumed.stderr
