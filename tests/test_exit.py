"""How ``sith`` leaves: without the interpreter's teardown, yet with every exit handler
run, every line written and the exit code kept; and a local pool's forkserver leaves
the same way.

Each test runs the console script's ``main`` in a subprocess (what ``sith`` runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from verification._executors import server_exit

ROOT = Path(__file__).resolve().parents[1]


def run_main(tmp_path: Path, argv: list[str], before: str = "") -> subprocess.CompletedProcess:
    marker = tmp_path / "atexit-ran"
    code = textwrap.dedent(
        f"""
        import atexit, sys
        atexit.register(lambda: open({str(marker)!r}, "w").write("ran"))
        {before}
        sys.argv = ["sith", *{argv!r}]
        from verification._entry import main
        main()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.parametrize(
    ("argv", "code", "stream", "text"),
    [
        (["learners"], 0, "stdout", "infonce"),
        (["no-such-command"], 2, "stderr", "No such command"),
    ],
)
def test_a_command_leaves_with_its_code_its_output_and_its_exit_handlers(
    tmp_path, argv, code, stream, text
):
    done = run_main(tmp_path, argv)
    assert done.returncode == code, done.stderr
    assert text in getattr(done, stream)
    assert (tmp_path / "atexit-ran").read_text() == "ran"


def test_a_message_given_to_sys_exit_is_printed_with_code_1(tmp_path):
    before = "import verification._entry as e; e.finish('the message')"
    done = run_main(tmp_path, ["learners"], before=before)
    assert done.returncode == 1
    assert "the message" in done.stderr
    assert (tmp_path / "atexit-ran").read_text() == "ran"


def test_another_running_thread_keeps_pythons_own_shutdown(tmp_path):
    """A non-daemon thread still running: Python's shutdown waits for it (it finishes its
    work) instead of the process leaving under it."""
    out = tmp_path / "thread-finished"
    before = (
        "import threading, time; "
        f"threading.Thread(target=lambda: (time.sleep(1.0), open({str(out)!r}, 'w').write('x')))"
        ".start()"
    )
    done = run_main(tmp_path, ["learners"], before=before)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "x"


def test_only_the_forkserver_skips_its_teardown():
    assert not server_exit.in_forkserver()  # this process: importing changed nothing
    forkserver = [sys.executable, "-c", "from multiprocessing.forkserver import main; main(3, 4)"]
    assert server_exit.in_forkserver(forkserver)
    assert not server_exit.in_forkserver([sys.executable, "-m", "pytest"])


@pytest.mark.skipif(os.name != "posix", reason="forkserver")
def test_a_local_pool_leaves_the_output_pipe_closed_and_its_results_whole(tmp_path):
    """The forkserver (which holds the driver's output) leaves with the driver: reading
    the driver's output to its end returns, with every result in it."""
    code = textwrap.dedent(
        """
        import math
        from verification.executors import get_executor
        executor = get_executor("local", 2, 1)
        values = sorted(o.value for o in executor.map_unordered(math.sqrt, [1.0, 4.0, 9.0]))
        executor.close()
        print(values)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1.0, 2.0, 3.0]"
