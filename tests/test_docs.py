"""Every code block in README.md and docs/ runs, with the outputs it claims (issue 14).

How a page is run (one fresh interpreter per page, in a temporary directory that starts
with a copy of the repository's ``examples/`` and ``docs/figures/*.py``), block by block
in the order of the page:

- ``python``: every block of a page runs in one namespace. A line ``EXPR  # -> TEXT``
  checks that ``repr(EXPR)`` (for ``print(...)``: what it prints) matches TEXT, where
  ``...`` stands for anything (doctest's ELLIPSIS). A page whose blocks define
  ``test_*`` functions is a pytest module: its blocks are written to one file and run
  with pytest (so the ``sith`` fixture is the plugin's own).
- ``bash``/``sh``/``shell``: each line is a command (``\\`` continues it); ``console``:
  each ``$ `` line is a command and the lines below it its output. A command starts with
  ``sith``, ``python`` or ``pytest`` and is run as a subprocess (shlex-split, ``sith``
  as ``python -m verification._entry``); a comment on it saying ``exit N`` is the exit
  code it must end with, otherwise 0. Shell syntax (``&&``, pipes, redirections) is
  refused: what is shown is what runs.
- ``text`` (or no language) right after a command block (nothing but blank lines
  between the fences) or a python block is the output of its last command (the
  block's printed output), matched with ``...`` as a wildcard; elsewhere it is an
  illustration and must not contain commands.
- ``toml``, ``yaml``, ``json``: parsed.

Markers, an HTML comment on the line before the opening fence (invisible on the site):

- ``<!-- not-run: REASON -->``: the block is not run (a cluster, ``pip install``);
  every one is listed in ``NOT_RUN`` below with its reason, and there are few.
- ``<!-- file: PATH -->``: the block is written to PATH in the page's directory (a file
  the reader saves, e.g. a test module that a later ``pytest`` line runs).
- ``<!-- excerpt: PATH -->``: the block is a part of the repository's file PATH, with
  ``...`` for what is left out: every stretch between ``...`` must appear in the file,
  in order, token by token (comments, line breaks and trailing commas aside).

``python tests/test_docs.py PAGE.md`` runs one page by hand and says what ran.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import importlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITH = [sys.executable, "-m", "verification._entry"]
PROGRAMS = {
    "sith": SITH,
    "python": [sys.executable],
    "pytest": [sys.executable, "-m", "pytest"],
}
COMMAND_LANGUAGES = {"bash", "sh", "shell", "console"}
OUTPUT_LANGUAGES = {"", "text"}
PARSED_LANGUAGES = {"toml", "yaml", "json"}
LANGUAGES = {"python", *COMMAND_LANGUAGES, *OUTPUT_LANGUAGES, *PARSED_LANGUAGES}
MARKER = re.compile(r"^\s*<!--\s*(not-run|file|excerpt)\s*:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,})(?P<lang>[\w+-]*)\s*$")
ARROW = re.compile(r"^(?P<indent>\s*)(?P<code>\S.*?)\s+# -> (?P<expected>.*?)(?:\s{2,}#.*)?$")
EXIT = re.compile(r"\bexit (?:code )?(\d+)\b")
SHELL_SYNTAX = {"&&", "||", "|", ";", ">", ">>", "<", "2>", "2>&1", "&"}
COMMAND_TIMEOUT = 300  # seconds for one command of a page
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# Every block that is not run, by page, with the reason its marker gives. A new marker
# must be added here: the list is the review of what the docs claim without proof.
NOT_RUN = {
    "README.md": [
        "installs packages (pip); the search it starts runs with a small budget in the "
        "Command line section",
        "installs packages (pip) and runs the whole test suite: .ci/run runs exactly this "
        "(tests/test_docs.py checks it)",
    ],
    "docs/index.md": ["installs packages (pip)"],
    "docs/scaling.md": ["starts a Dask scheduler and workers on cluster nodes"],
}
# pages that take long enough to be marked slow (they still run in CI)
SLOW_PAGES = {
    "README.md",
    "docs/scaling.md",
    "docs/tutorial.md",
    "docs/gallery.md",
    "docs/pytest.md",
    "docs/sweeps.md",
    "docs/paper.md",
}


# --------------------------------------------------------------------------- parsing


@dataclass
class Block:
    page: str  # relative to the repository root
    line: int  # of the opening fence, 1-based
    lang: str
    code: str  # dedented, ends with a newline unless empty
    marker: str | None = None  # not-run, file, excerpt
    argument: str = ""  # the marker's reason or path
    after: Block | None = None  # the block right before this one, when only blanks between

    @property
    def start(self) -> int:
        """Line of the block's first line of code."""
        return self.line + 1

    def where(self, offset: int = 0) -> str:
        return f"{self.page}:{self.start + offset}"


def pages() -> list[str]:
    found = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [p.relative_to(ROOT).as_posix() for p in found if p.exists()]


def blocks(page: str) -> list[Block]:
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    last_end = -10
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if not opened:
            i += 1
            continue
        indent, fence = len(opened["indent"]), opened["fence"]
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        body = [line[indent:] if line[:indent].isspace() else line for line in lines[i + 1 : j]]
        code = textwrap.dedent("\n".join(body))
        block = Block(page, i + 1, opened["lang"].lower(), code + "\n" if code else "")
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        if marker:
            block.marker, block.argument = marker[1], marker[2]
        if found and all(not line.strip() for line in lines[last_end + 1 : i]):
            block.after = found[-1]
        found.append(block)
        last_end = j
        i = j + 1
    return found


def markers(page: str) -> list[tuple[int, str, str]]:
    """Every marker comment of a page, fenced block after it or not: (line, kind, arg)."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    return [(n, m[1], m[2]) for n, line in enumerate(lines, 1) if (m := MARKER.match(line))]


def _comment(line: str) -> tuple[str, str]:
    """Split a shell line into its command and its comment (a ``#`` outside quotes)."""
    quote = None
    for k, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (k == 0 or line[k - 1].isspace()):
            return line[:k].rstrip(), line[k + 1 :].strip()
    return line.rstrip(), ""


@dataclass
class Command:
    line: int  # offset into the block
    text: str
    argv: list[str]
    returncode: int
    output: str | None = None  # what a console block shows below it


def commands(block: Block) -> list[Command]:
    """The commands of a bash/sh/shell/console block; raises ValueError on what cannot run."""
    found: list[Command] = []
    pending, first, console = "", 0, block.lang == "console"
    for k, raw in enumerate(block.code.splitlines()):
        if console and not pending and not raw.startswith("$ "):
            if found and raw.strip():
                found[-1].output = (found[-1].output or "") + raw + "\n"
            continue
        line = raw[2:] if console and not pending else raw
        if not pending:
            first = k
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        command, comment = _comment(text)
        if not command:
            continue
        where = block.where(first)
        try:
            words = shlex.split(command)
        except ValueError as problem:  # an unclosed quote
            raise ValueError(f"{where}: {problem} in {command!r}") from None
        if words[0] not in PROGRAMS:
            raise ValueError(
                f"{where}: cannot run {words[0]!r}: a command starts with sith, python or "
                "pytest (or mark the block <!-- not-run: REASON -->)"
            )
        if set(words) & SHELL_SYNTAX or "..." in words:
            raise ValueError(
                f"{where}: shell syntax or a placeholder in {command!r}: write one runnable "
                "command per line (or mark the block <!-- not-run: REASON -->)"
            )
        if words[:3] == ["python", "-m", "pip"] or words[0] == "pip":
            raise ValueError(f"{where}: pip is not run here: mark the block not-run")
        code = EXIT.search(comment)
        argv = PROGRAMS[words[0]] + words[1:]
        found.append(Command(first, command, argv, int(code[1]) if code else 0))
    if pending:
        raise ValueError(f"{block.where(first)}: a line continuation with nothing after it")
    return found


# programs whose command lines in a text block would be commands shown but never run
SHOWN_PROGRAMS = {
    *PROGRAMS,
    "pip",
    "pip3",
    "uv",
    "conda",
    "dask",
    "dask-scheduler",
    "dask-worker",
    "sbatch",
    "srun",
    "salloc",
    "mkdocs",
}


def _is_command(line: str) -> bool:
    line = line.strip().removeprefix("$ ")
    return line.split(" ", 1)[0] in SHOWN_PROGRAMS and " " in line


def page_problems(page: str) -> list[str]:
    """What keeps a page's blocks from running, found before anything runs."""
    problems = []
    page_blocks = blocks(page)
    fences = {b.line for b in page_blocks}
    for line, kind, argument in markers(page):
        if line + 1 not in fences:
            problems.append(f"{page}:{line}: a {kind} marker that no fence follows")
        if not argument.strip():
            problems.append(f"{page}:{line}: a {kind} marker needs its reason or path")
    for block in page_blocks:
        if block.lang not in LANGUAGES:
            problems.append(f"{block.where()}: unknown block language {block.lang!r}")
        elif block.marker == "excerpt" and not (ROOT / block.argument).is_file():
            problems.append(f"{block.where()}: excerpt of a missing file {block.argument}")
        elif block.marker is None and block.lang in COMMAND_LANGUAGES:
            try:
                commands(block)
            except ValueError as problem:
                problems.append(str(problem))
        elif block.marker is None and block.lang == "python":
            try:
                ast.parse(transform(block, "_sith_docs"))
            except (SyntaxError, ValueError) as problem:
                problems.append(f"{block.where()}: {problem}")
        elif block.lang in OUTPUT_LANGUAGES:
            is_output = block.after is not None and (
                block.after.lang in COMMAND_LANGUAGES or block.after.lang == "python"
            )
            if not is_output and any(map(_is_command, block.code.splitlines())):
                problems.append(
                    f"{block.where()}: a command in a {block.lang or 'plain'} block is never "
                    "run: make it a bash block (marked <!-- not-run: REASON --> if it cannot "
                    "run here)"
                )
    return problems


def python_defines_tests(page_blocks: list[Block]) -> bool:
    for block in page_blocks:
        if block.lang == "python" and block.marker is None:
            tree = ast.parse(block.code, filename=block.page)
            if any(
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name.startswith("test_")
                for node in tree.body
            ):
                return True
    return False


# ------------------------------------------------------------------ python blocks


def expect(value: object, expected: str, where: str) -> None:
    """``EXPR  # -> EXPECTED``: repr(value) must match (``...`` is a wildcard)."""
    _match(repr(value) + "\n", expected + "\n", where, what="repr")


def expect_printed(call, expected: str, where: str) -> None:
    """``print(...)  # -> EXPECTED``: what it prints must match."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        call()
    sys.stdout.write(buffer.getvalue())
    _match(buffer.getvalue(), expected + "\n", where, what="printed")


def _match(got: str, expected: str, where: str, what: str = "output") -> None:
    if not doctest.OutputChecker().check_output(expected, got, FLAGS):
        raise AssertionError(f"{where}: the {what} does not match\n{_diff(expected, got)}")


def _diff(expected: str, got: str) -> str:
    return f"--- the docs say:\n{expected.rstrip()}\n--- it was:\n{got.rstrip()}"


def transform(block: Block, helper: str) -> str:
    """The block's code with each ``# ->`` line made a check; line numbers are kept."""
    out = []
    for k, line in enumerate(block.code.splitlines()):
        arrow = ARROW.match(line)
        if not arrow:
            out.append(line)
            continue
        code, expected = arrow["code"], arrow["expected"]
        try:
            tree = ast.parse(code, mode="eval")
        except SyntaxError:
            raise ValueError(
                f"{block.where(k)}: `# ->` follows an expression on one line, got {code!r}"
            ) from None
        where = repr(block.where(k))
        call = tree.body
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "print"
        ):
            check = f"{helper}.expect_printed(lambda: {code}, {expected!r}, {where})"
        else:
            check = f"{helper}.expect(({code}), {expected!r}, {where})"
        out.append(arrow["indent"] + check)
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------------- excerpts

_SKIP_TOKENS = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


def _tokens(source: str) -> list[str]:
    words = [
        t.string
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in _SKIP_TOKENS
    ]
    # a trailing comma before a closing bracket is the formatter's choice, not the code's
    return [
        w for w, nxt in zip(words, [*words[1:], ""], strict=True) if not (w == "," and nxt in ")]}")
    ]


def _without_docstrings(source: str) -> str:
    """An excerpt may leave out docstrings without saying ``...``: blank them."""
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                for k in range(body[0].lineno - 1, body[0].end_lineno):
                    lines[k] = ""
    return "\n".join(lines) + "\n"


def check_excerpt(block: Block) -> None:
    target = ROOT / block.argument
    if not target.is_file():
        raise ValueError(f"{block.where()}: excerpt of {block.argument}, which does not exist")
    whole = _tokens(_without_docstrings(target.read_text(encoding="utf-8")))
    part = _tokens(block.code)
    stretches, current = [], []
    for word in part:
        if word == "...":
            stretches.append(current)
            current = []
        else:
            current.append(word)
    stretches.append(current)
    position = 0
    for stretch in filter(None, stretches):
        n = len(stretch)
        found = next(
            (k for k in range(position, len(whole) - n + 1) if whole[k : k + n] == stretch), None
        )
        if found is None:
            longest = max(
                (next((m for m in range(n) if whole[k + m : k + m + 1] != stretch[m : m + 1]), n)
                 for k in range(position, len(whole))),
                default=0,
            )  # fmt: skip
            raise AssertionError(
                f"{block.where()}: this part of the excerpt is not in {block.argument} (or not "
                f"in this order); it agrees as far as\n{' '.join(stretch[:longest])[-300:]}\n"
                f"and then differs at\n{' '.join(stretch[longest:])[:200]}"
            )
        position = found + n


# ---------------------------------------------------------------------- the runner


def prepare(workdir: Path) -> None:
    """A page's directory: a copy of examples/ and of the docs' scripts."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "runs")
    shutil.copytree(ROOT / "examples", workdir / "examples", ignore=ignore, dirs_exist_ok=True)
    for script in (ROOT / "docs").rglob("*.py"):
        target = workdir / script.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(script, target)


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "NO_COLOR": "1",
        "COLUMNS": "120",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run_command(command: Command, block: Block, workdir: Path) -> str:
    started = time.perf_counter()
    done = subprocess.run(
        command.argv,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        env=environment(),
    )
    where = block.where(command.line)
    print(
        f"{where}: $ {command.text}  -> exit {done.returncode} in {time.perf_counter() - started:.1f}s"
    )
    if done.returncode != command.returncode:
        raise AssertionError(
            f"{where}: `{command.text}` ended with exit code {done.returncode}, the docs say "
            f"{command.returncode}\n--- stdout:\n{done.stdout[-3000:]}\n--- stderr:\n"
            f"{done.stderr[-3000:]}"
        )
    if command.output is not None:
        _match(done.stdout, command.output, where)
    return done.stdout


def _pytest_module(page: str, python_blocks: list[Block], workdir: Path) -> str:
    """The page's python blocks as one test module, at their lines of the page."""
    end = max(b.start + len(b.code.splitlines()) for b in python_blocks)
    lines = [""] * end
    # line 1 of a page is its title, never code: the checks' helper goes there
    lines[0] = (
        f"import sys as _s; _s.path.insert(0, {str(Path(__file__).parent)!r}); "
        "import test_docs as _sith_docs; del _s"
    )
    for block in python_blocks:
        code = transform(block, "_sith_docs").splitlines()
        lines[block.start - 1 : block.start - 1 + len(code)] = code
    name = "test_docs_" + re.sub(r"\W", "_", Path(page).stem) + ".py"
    (workdir / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return name


def run_page(page: str, workdir: Path) -> None:
    """Run every block of ``page`` in ``workdir`` (the current directory); raises on the
    first that fails."""
    problems = page_problems(page)
    if problems:  # before anything runs: a page with a block that cannot run fails at once
        raise ValueError("\n".join(problems))
    page_blocks = blocks(page)
    python_blocks = [b for b in page_blocks if b.lang == "python" and b.marker is None]
    as_pytest = python_defines_tests(page_blocks)
    namespace: dict[str, object] = {"__name__": "__main__", "_sith_docs": sys.modules[__name__]}
    output: dict[int, str] = {}  # what a block printed, or its last command's stdout
    for block in page_blocks:
        started = time.perf_counter()
        if block.marker == "not-run":
            print(f"{block.where()}: not run: {block.argument}")
        elif block.marker == "file":
            target = workdir / block.argument
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")
            print(f"{block.where()}: written to {block.argument}")
        elif block.marker == "excerpt":
            check_excerpt(block)
            print(f"{block.where()}: an excerpt of {block.argument}")
        elif block.lang == "python" and as_pytest:
            if block is python_blocks[-1]:  # every definition is there: run the module
                name = _pytest_module(page, python_blocks, workdir)
                text = f"pytest -q -p no:cacheprovider {name}"
                argv = [*PROGRAMS["pytest"], *text.split()[1:]]
                output[id(block)] = run_command(Command(0, text, argv, 0), block, workdir)
        elif block.lang == "python":
            source = "\n" * (block.start - 1) + transform(block, "_sith_docs")
            buffer = io.StringIO()
            with _Tee(buffer):
                exec(compile(source, str(ROOT / page), "exec"), namespace)
            output[id(block)] = buffer.getvalue()
            print(f"{block.where()}: python ran in {time.perf_counter() - started:.1f}s")
        elif block.lang in COMMAND_LANGUAGES:
            stdout = ""
            for command in commands(block):
                stdout = run_command(command, block, workdir)
            output[id(block)] = stdout
        elif block.lang in OUTPUT_LANGUAGES:
            if block.after is not None and id(block.after) in output:
                _match(output[id(block.after)], block.code, block.where())
                print(f"{block.where()}: the output above matches")
        else:
            _parse(block)


def _parse(block: Block) -> None:
    try:
        if block.lang == "toml":
            import tomllib as parser
        elif block.lang == "yaml":
            import yaml as parser
        else:
            parser = json
    except ImportError as missing:  # Python 3.10 has no tomllib; PyYAML comes with mkdocs
        print(f"{block.where()}: {block.lang} not parsed ({missing})")
        return
    if block.lang == "yaml":
        parser.safe_load(block.code)
    else:
        parser.loads(block.code)
    print(f"{block.where()}: {block.lang} parses")


class _Tee(contextlib.AbstractContextManager):
    """While open, what is printed also goes to ``buffer``."""

    def __init__(self, buffer: io.StringIO) -> None:
        self.buffer = buffer

    def __enter__(self):
        self.stdout = outer = sys.stdout
        buffer = self.buffer

        class Tee(io.TextIOBase):
            def write(self, text: str) -> int:
                buffer.write(text)
                return outer.write(text)

            def flush(self) -> None:
                outer.flush()

        sys.stdout = Tee()
        return self

    def __exit__(self, *exc) -> None:
        sys.stdout = self.stdout


def main(argv: list[str]) -> int:
    """``python tests/test_docs.py PAGE [WORKDIR]``: run one page, say what ran."""
    page = Path(argv[0]).resolve().relative_to(ROOT).as_posix()
    workdir = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="sith-docs-"))
    prepare(workdir)
    os.chdir(workdir)
    os.environ.update(environment())
    print(f"{page}: running in {workdir}", flush=True)
    try:
        run_page(page, workdir)
    except (AssertionError, ValueError) as problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# ------------------------------------------------------------------------- the tests

import pytest  # noqa: E402 (the runner above needs nothing but the standard library)

PAGE_TIMEOUT = 480  # seconds for a whole page


def _runnable(page: str) -> bool:
    return any(b.marker != "not-run" and b.lang not in OUTPUT_LANGUAGES for b in blocks(page))


def pytest_generate_tests(metafunc):
    # here, not at import: the module is also the helper of a page's own pytest run
    if metafunc.function.__name__ == "test_page":
        params = [
            pytest.param(page, id=page, marks=[pytest.mark.slow] if page in SLOW_PAGES else [])
            for page in pages()
            if _runnable(page)
        ]
        metafunc.parametrize("page", params)


@dataclass
class PageRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


class _Runs:
    """The selected pages run two at a time (the CI machine has two cores; each page's
    commands are single-threaded), started when the first page test needs them."""

    def __init__(self, selected: list[str], root: Path) -> None:
        self.root = root
        self.processes: dict[str, subprocess.Popen] = {}
        self.results: dict[str, PageRun | BaseException] = {}
        self.done = {page: threading.Event() for page in selected}
        self.queue = sorted(selected, key=lambda page: page not in SLOW_PAGES)  # long first
        self.lock = threading.Lock()
        self.closed = False
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(2)]
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        while True:
            with self.lock:
                if self.closed or not self.queue:
                    return
                page = self.queue.pop(0)
            try:
                self.results[page] = self._run(page)
            except BaseException as error:  # reported by the page's test
                self.results[page] = error
            self.done[page].set()

    def _run(self, page: str) -> PageRun:
        workdir = self.root / re.sub(r"\W", "_", page)
        workdir.mkdir(parents=True)
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(ROOT / page), str(workdir)],
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(),
        )
        with self.lock:
            self.processes[page] = process
        try:
            stdout, stderr = process.communicate(timeout=PAGE_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            stderr += f"\n{page}: still running after {PAGE_TIMEOUT} s, stopped"
        return PageRun(process.returncode, stdout, stderr, time.perf_counter() - started)

    def result(self, page: str) -> PageRun:
        if not self.done[page].wait(PAGE_TIMEOUT * 2):
            raise TimeoutError(f"{page} did not finish")
        result = self.results[page]
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for process in self.processes.values():
                if process.poll() is None:
                    process.kill()


@pytest.fixture(scope="module")
def page_runs(request, tmp_path_factory):
    selected = [
        item.callspec.params["page"]
        for item in request.session.items
        if item.originalname == "test_page" and item.module is request.module
    ]
    runs = _Runs(selected, tmp_path_factory.mktemp("docs"))
    yield runs
    runs.close()


def test_page(page, page_runs):
    """Every block of the page runs, with the exit codes and outputs it states."""
    run = page_runs.result(page)
    print(f"{page}: {run.seconds:.0f} s\n{run.stdout}")
    assert run.returncode == 0, f"{run.stderr[-6000:]}\n--- what ran:\n{run.stdout[-4000:]}"


def test_every_block_runs_or_says_why_not():
    """Every fence has a language the runner knows; every command block can be run; a
    text block that is not an output holds no command; markers have their argument and
    sit on the line before a fence; the not-run blocks are few and listed in NOT_RUN."""
    problems = [problem for page in pages() for problem in page_problems(page)]
    assert not problems, "\n".join(problems)
    not_run = {}
    for page in pages():
        for block in blocks(page):
            if block.marker == "not-run":
                not_run.setdefault(page, []).append(block.argument)
    assert not_run == NOT_RUN, "a not-run marker changed: update NOT_RUN after review"
    assert sum(map(len, NOT_RUN.values())) <= 8


def _readme_test_command() -> str:
    (block,) = [b for b in blocks("README.md") if "python -m pytest" in b.code]
    return block.code.strip()


def test_ci_runs_the_readme_test_command_and_builds_the_site():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_test_command() in ci
    assert "mkdocs build --strict" in ci
    assert re.search(r'-e "?\.\[[\w,]*\bdocs\b', ci), "CI installs the docs extra"


def _nav_pages(entries) -> list[str]:
    found = []
    for entry in entries:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            found.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return found


def test_the_site_lists_every_page_and_only_pages_that_exist():
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = _nav_pages(config["nav"])
    missing = [page for page in listed if not (ROOT / "docs" / page).is_file()]
    assert not missing, f"mkdocs.yml lists pages that do not exist: {missing}"
    pages_here = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages_here - set(listed) == set(), "add these pages to mkdocs.yml's nav"


REFERENCE = [
    "theory",
    *(
        f"theory.{m}"
        for m in [
            "latents",
            "conditionals",
            "mixings",
            "process",
            "assumptions",
            "learner_conditions",
            "claims",
            "theorems",
            "references",
            "errors",
        ]
    ),
    "verification",
    *(
        f"verification.{m}"
        for m in [
            "checks",
            "learners",
            "metrics",
            "recovery",
            "assessment",
            "spaces",
            "strategies",
            "testing",
            "registry",
            "errors",
            "executors",
            "provenance",
            "citations",
            "latex_tables",
            "tracking",
        ]
    ),
    # the packages behind verification.search, .sweep and .align (private names, so no
    # submodule can shadow the function of the same name)
    "verification._search",
    "verification._sweep",
    "verification._align",
]


def test_the_api_reference_has_a_page_per_public_module_and_each_resolves():
    directives = {}
    for page in sorted((ROOT / "docs" / "reference").rglob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("::: "):
                directives[line[4:].strip()] = page
    assert sorted(directives) == sorted(REFERENCE)
    for module in directives:
        importlib.import_module(module)


PAGE = """# A page

```python
x = 1 + 1
x  # -> 2
print("x is", x, "of", [x] * 3)  # -> x is 2 of [2, ...]
```

```text
x is 2 of [2, 2, 2]
```

<!-- excerpt: {source} -->
```python
def f(a, b):
    ...
    return a + b
```

```bash
python -c "import sys; print('hello'); sys.exit(3)"   # exit 3 on purpose
```

```text
hello
```
"""
SOURCE = '''def f(a, b):
    """Add."""
    c = 0
    return a + b
'''


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (None, None),
        (("x  # -> 2", "x  # -> 3"), "the repr does not match"),
        (("# -> x is 2 of", "# -> x is 3 of"), "the printed does not match"),
        (("x is 2 of [2, 2, 2]", "x is 2"), "the output does not match"),
        (("# exit 3 on purpose", "# on purpose"), "ended with exit code 3, the docs say 0"),
        (("```text\nhello", "```text\nbye"), "the output does not match"),
        (("    return a + b", "    return a - b"), "this part of the excerpt is not in"),
        (("python -c", "rm -rf x; python -c"), "cannot run 'rm'"),
        (("python -c", "python -m pip install x && python -c"), "shell syntax"),
    ],
)
def test_the_runner_holds_the_docs_to_what_they_claim(tmp_path, change, problem):
    (tmp_path / "source.py").write_text(SOURCE)
    text = PAGE.format(source=tmp_path / "source.py")
    if change:
        assert change[0] in text
        text = text.replace(change[0], change[1], 1)
    (tmp_path / "page.md").write_text(text)
    workdir = tmp_path / "work"
    workdir.mkdir()
    if problem is None:
        run_page(str(tmp_path / "page.md"), workdir)
    else:
        with pytest.raises((AssertionError, ValueError), match=problem):
            run_page(str(tmp_path / "page.md"), workdir)
