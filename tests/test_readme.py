"""The README's Python example and its commands are real: run them."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_python_example_runs():
    example = _blocks("python")[0]  # the "Python" section's example
    exec(compile(example, str(README), "exec"), {})


def test_ci_runs_the_readme_test_command():
    test_command = _blocks("bash")[1].strip()
    ci = (README.parent / ".ci" / "run").read_text()
    assert test_command in ci
