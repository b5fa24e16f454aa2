"""Stopping ``sith`` at any moment: nothing finished is lost, nothing is recomputed.

Each test runs the real command in a subprocess (``python -m verification._entry``, what
the ``sith`` script runs) and signals it: SIGINT during start-up and during a search,
a double SIGINT, SIGTERM, SIGKILL followed by ``--resume``, and a second search on a
directory that is in use.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from verification._search import SCHEMA_FILE

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(os.name != "posix", reason="POSIX signals"),
]

SCHEMA = json.loads(SCHEMA_FILE.read_text())
SEARCH = ["search", "linear-ica", "--budget", "60", "--dim", "2..3", "--reseeds", "1", "--quiet"]
TIMEOUT = 180


def start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "verification._entry", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the command ended before {what}: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, err


def evaluations(out: Path) -> dict[str, bytes]:
    folder = out / "evaluations"
    if not folder.exists():
        return {}
    return {p.name: p.read_bytes() for p in folder.glob("*.json") if not p.name.startswith(".")}


def valid_report(out: Path) -> dict:
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    return report


@pytest.mark.parametrize("delay", [0.2, 1.0])
def test_sigint_during_start_up_exits_130_without_a_traceback(delay):
    proc = start("check", "cl-ica")
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert code == 130, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "on", [[], ["--executor", "local", "--workers", "2"]], ids=["serial", "local-pool"]
)
def test_sigint_during_a_search_keeps_a_valid_report(tmp_path, on):
    """Also on a local pool: the search waits for none of its background evaluations,
    keeps what finished, and its workers are stopped."""
    out = tmp_path / "run"
    proc = start(*SEARCH, *on, "--out", str(out))
    wait_for(lambda: len(evaluations(out)) >= 2, proc, "two evaluations")
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert code == 130, err
    assert "Traceback" not in err
    report = valid_report(out)
    assert report["status"] == "interrupted"
    assert report["evaluations"] >= 2


def test_a_second_sigint_while_the_report_is_written_still_exits_130(tmp_path):
    out = tmp_path / "run"
    proc = start(*SEARCH, "--out", str(out))
    wait_for(lambda: len(evaluations(out)) >= 1, proc, "an evaluation")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert code == 130, err
    assert "Traceback" not in err
    valid_report(out)


def test_sigterm_stops_a_search_like_ctrl_c(tmp_path):
    out = tmp_path / "run"
    proc = start(*SEARCH, "--out", str(out))
    wait_for(lambda: len(evaluations(out)) >= 1, proc, "an evaluation")
    proc.send_signal(signal.SIGTERM)
    code, err = finish(proc)
    assert code == 143, err
    assert valid_report(out)["status"] == "interrupted"


def test_sigkill_then_resume_loses_nothing_and_recomputes_nothing(tmp_path):
    out = tmp_path / "run"
    proc = start(*SEARCH, "--out", str(out))
    wait_for(lambda: len(evaluations(out)) >= 3, proc, "three evaluations")
    proc.kill()
    proc.wait(timeout=TIMEOUT)
    before = evaluations(out)
    assert len(before) >= 3
    valid_report(out)  # written after every evaluation: a SIGKILL leaves a valid one
    resumed = start(*SEARCH, "--out", str(out), "--resume")
    code, err = finish(resumed)
    assert code in (0, 1), err
    after = evaluations(out)
    assert all(after[name] == data for name, data in before.items())  # nothing recomputed
    report = valid_report(out)
    assert report["status"] == "complete"
    assert report["new_evaluations"] <= report["evaluations"] - len(before)


def test_a_second_search_on_a_directory_in_use_is_refused(tmp_path):
    out = tmp_path / "run"
    first = start(*SEARCH, "--out", str(out))
    try:
        wait_for(lambda: len(evaluations(out)) >= 1, first, "an evaluation")
        second = start(*SEARCH, "--out", str(out), "--resume")
        code, err = finish(second)
        assert code == 2
        assert len(err.strip().splitlines()) == 1
        assert f"in use by another search (pid {first.pid})" in err
    finally:
        first.send_signal(signal.SIGINT)
        finish(first)


def test_sigint_inside_an_import_exits_130_at_once(tmp_path):
    """The console script's handler: a Ctrl-C while a module is being imported (where a
    native extension's initialisation may be running) leaves with 130 and one line;
    outside an import it is a KeyboardInterrupt as usual."""
    (tmp_path / "slow_module.py").write_text("import time\ntime.sleep(30)\n")
    script = (
        "import os, signal, sys, threading\n"
        "from verification._entry import on_interrupt\n"
        "signal.signal(signal.SIGINT, on_interrupt)\n"
        "threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
        "import slow_module\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=TIMEOUT
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip() == "interrupted"

    from verification._entry import on_interrupt

    with pytest.raises(KeyboardInterrupt):
        on_interrupt(signal.SIGINT, sys._getframe())


def test_an_interrupt_python_swallows_in_a_finaliser_is_delivered_again():
    """A Ctrl-C whose handler runs inside a ``__del__`` (or a garbage-collector callback,
    as hypothesis installs) is printed as "Exception ignored" and dropped by Python; the
    console script sends it again, so the command still stops (CI once saw a local-pool
    search finish with exit code 0 after its SIGINT)."""
    script = (
        "import os, signal, sys, time\n"
        "from verification._entry import install_interrupt_handling\n"
        "install_interrupt_handling()\n"
        "class Finalised:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        for _ in range(100000):\n"
        "            pass\n"
        "try:\n"
        "    Finalised()\n"
        "    time.sleep(20)\n"
        "    print('not interrupted')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.stdout.strip() == "interrupted", proc.stderr
    assert "Exception ignored" not in proc.stderr

    # without the hook Python drops it: the test above can fail
    plain = script.replace("install_interrupt_handling()", "signal.signal(signal.SIGINT, "
                           "signal.default_int_handler)").replace("time.sleep(20)", "time.sleep(1)")
    proc = subprocess.run(
        [sys.executable, "-c", plain], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.stdout.strip() == "not interrupted", proc.stderr
    assert "Exception ignored" in proc.stderr
