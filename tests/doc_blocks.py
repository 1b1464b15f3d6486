"""The code blocks of README.md and docs/*.md, as ``tests/test_docs.py`` runs them.

A page is run top to bottom in one scratch folder, like a reader following it. A comment right
before a block steers it:

    <!-- doctest: file=models.py -->        the block is that file's content (written, not run)
    <!-- doctest: project=examples/project -->  the scratch folder becomes a copy of that folder
    <!-- doctest: copy=examples -->         copy that folder of the checkout into the scratch folder
    <!-- doctest: cwd=src/pkg -->           run the console block's commands in that subfolder
    <!-- doctest: synopsis=cli -->          a usage synopsis: every flag it names must exist
    <!-- doctest: synopsis=check -->        check()'s signature, as inspect prints it
    <!-- doctest: setup -->                 README's set-up commands (see test_docs)
    <!-- doctest: dev -->                   development commands, run with --help (too long to run here)
    <!-- doctest: prose -->                 a diagram in a text block: nothing to run (checked to hold no command)

Blocks by language:

* ``console``: ``$ command`` lines, each followed by its expected output. A line ``...`` matches
  any number of lines, ``...`` inside a line matches any text; ``# exit status N`` at the end of
  a command checks its exit status. ``CONVSHAPE_UPDATE_DOCS=1 pytest tests/test_docs.py`` writes
  today's output into the pages where it differs (review the diff, abbreviate again with ``...``).
* ``python``: executed in the scratch folder (the folder on ``sys.path``); it must not raise.
* ``toml``: parsed; a ``[tool.convshape]`` table is validated.
* ``yaml``: written with ``file=`` (the CI workflow and the pre-commit hook are checked in
  ``test_docs``).
* ``bash``: install commands and README's set-up commands (see ``test_docs``).

Pure: no torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md")))

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,})(?P<info>[\w-]*)\s*$")
_DIRECTIVE = re.compile(r"<!--\s*doctest:\s*(?P<body>.*?)\s*-->")


@dataclass
class Block:
    page: str
    line: int
    """Line of the opening fence (1-based)."""
    lang: str
    text: str
    directives: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    """The fenced blocks of ``page`` with the directives written just before each."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    pending: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = _DIRECTIVE.search(line)
        if directive:
            for part in directive.group("body").split():
                key, _, value = part.partition("=")
                pending[key] = value
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith(fence.group("fence")):
                end += 1
            indent = len(fence.group("indent"))
            text = "\n".join(ln[indent:] for ln in lines[i + 1 : end]) + "\n"
            out.append(Block(page, i + 1, fence.group("info") or "text", text, pending))
            pending = {}
            i = end + 1
            continue
        if line.strip():
            pending = {} if not line.strip().startswith("<!--") else pending
        i += 1
    return out


@dataclass
class Command:
    argv: str
    """The command line as written (after ``$ ``, without the exit-status comment)."""
    expected: list[str]
    exit_status: int | None


def console_commands(text: str) -> list[Command]:
    out: list[Command] = []
    for line in text.rstrip("\n").split("\n"):
        if line.startswith("$ "):
            command = line[2:]
            status = None
            m = re.search(r"\s+#\s*exit status (\d+)\s*$", command)
            if m:
                status = int(m.group(1))
                command = command[: m.start()]
            out.append(Command(command, [], status))
        elif out:
            out[-1].expected.append(line)
        elif line.strip():
            raise ValueError(f"console block: output before the first $ command: {line!r}")
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` lines against ``actual``: a ``...`` line matches any lines, ``...`` inside a
    line any text; trailing spaces and trailing empty lines do not count."""
    exp = [ln.rstrip() for ln in expected]
    act = [ln.rstrip() for ln in actual]
    while exp and not exp[-1]:
        exp.pop()
    while act and not act[-1]:
        act.pop()
    patterns = [None if ln == "..." else re.compile("^" + ".*".join(re.escape(p) for p in ln.split("...")) + "$") for ln in exp]

    def go(i: int, j: int) -> bool:
        if i == len(patterns):
            return j == len(act)
        p = patterns[i]
        if p is None:
            return any(go(i + 1, k) for k in range(j, len(act) + 1))
        return j < len(act) and bool(p.match(act[j])) and go(i + 1, j + 1)

    return go(0, 0)
