"""Suppressions: a pure post-filter over a ``Report``, shared by the fixture, the pytest items
and the CLI.

Two sources, applied in this order:

* ``per-module-ignores`` from ``[tool.convshape]``: globs over qualified layer names
  (``fnmatch`` rules, ``*`` also crosses dots) mapped to codes or prefixes;
* inline comments ``# convshape: ignore[CS101]`` (several codes, prefixes or rule names
  separated by commas; bare ``# convshape: ignore`` silences every code) on the line that
  constructs the layer, or on any line of that constructor call when it spans several lines.

What was silenced, and by what, is kept in ``report.silenced`` (JSON key ``suppressed``).

An inline comment attached to one of the model's layers that silences nothing is reported as
CS910 at the comment's line. Comments elsewhere (for example on layers of another model in the
same file) are left alone. Imports no torch.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import os
import re
import tokenize
from collections.abc import Callable, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from functools import lru_cache

from . import codes
from .records import SEVERITY_RANK, Finding, SourceLocation, rule_matches
from .report import Report, Silenced

COMMENT = re.compile(r"#\s*convshape:\s*ignore(?![\w-])(?:\[([^\]]*)\])?")
"""``# convshape: ignore[CS101, shape-not-restored]``, or bare ``# convshape: ignore`` (every code)."""

Globs = Sequence[tuple[str, Sequence[str]]]


@dataclasses.dataclass(frozen=True)
class Suppression:
    """One ``# convshape: ignore[...]`` comment (``codes`` empty and ``bare`` for the form
    without brackets, which silences every code)."""

    file: str
    line: int
    codes: tuple[str, ...]
    bare: bool = False

    @property
    def written(self) -> str:
        return "# convshape: ignore" if self.bare else f"# convshape: ignore[{', '.join(self.codes)}]"

    def silences(self, code: str) -> list[str]:
        """The items of the comment that silence ``code`` (``["*"]`` for a bare comment)."""
        if self.bare:
            return ["*"]
        out = []
        for item in self.codes:
            resolved = codes.resolve_or_none(item)
            if resolved is not None and code.startswith(resolved):
                out.append(item)
        return out


def apply(
    report: Report,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    per_module_ignores: Globs | Mapping[str, Sequence[str]] = (),
    inline: bool = True,
    keep: Callable[[str], bool] | None = None,
) -> Report:
    """``report`` without the suppressed findings (kept in ``report.silenced``), plus CS910 for
    unused inline suppressions.

    ``keep(code)`` says whether the run reports a code (it filters the CS910 findings added
    here; the other findings were filtered already); without it, ``select``/``ignore`` decide.
    """
    if keep is None:
        sel = tuple(codes.resolve_or_none(c) or c for c in select)
        ign = tuple(codes.resolve_or_none(c) or c for c in ignore)

        def keep(code: str) -> bool:
            return (not sel or rule_matches(code, sel)) and not rule_matches(code, ign)

    globs = tuple(per_module_ignores.items()) if isinstance(per_module_ignores, Mapping) else tuple(per_module_ignores)
    globs = tuple((g, tuple(codes.resolve_or_none(c) or c for c in cs)) for g, cs in globs)
    kinds = {e.name: e.kind for e in report.events}
    used: set[tuple[str, int, str]] = set()
    kept: list[Finding] = []
    dropped: list[Silenced] = []
    for f in report.findings:
        glob = _ignored_by_glob(f, globs)
        if glob:
            dropped.append(Silenced(f, "suppressed", f"per-module-ignores {glob}"))
            continue
        if inline and f.location is not None:
            hits = [
                (s, item)
                for s in attached(f.location, kinds.get(f.layer or f.up or "", ""))
                for item in s.silences(f.code)
            ]
            if hits:
                used.update((s.file, s.line, item) for s, item in hits)
                s = hits[0][0]
                dropped.append(Silenced(f, "suppressed", f"{s.written} at {SourceLocation(s.file, s.line)}"))
                continue
        kept.append(f)
    if inline:
        for extra in _unused(report, used):
            if keep(extra.code) and not _ignored_by_glob(extra, globs):
                kept.append(extra)
    if len(kept) == len(report.findings) and all(a is b for a, b in zip(kept, report.findings)):
        return report
    kept.sort(key=lambda f: SEVERITY_RANK[f.severity])  # stable: keeps check()'s order within a severity
    return dataclasses.replace(report, findings=tuple(kept), silenced=report.silenced + tuple(dropped))


def is_code(code: str) -> bool:
    """A code, prefix or rule name that names at least one rule."""
    return codes.known(code)


def _ignored_by_glob(f: Finding, globs: Iterable[tuple[str, Sequence[str]]]) -> str:
    """The first glob that silences ``f`` ('' when none does)."""
    name = f.layer or f.up
    if not name:
        return ""
    for glob, selectors in globs:
        if fnmatchcase(name, glob) and rule_matches(f.code, tuple(selectors)):
            return glob
    return ""


def _unused(report: Report, used: set[tuple[str, int, str]]) -> list[Finding]:
    """CS910 findings for comments attached to this model's layers that silenced nothing."""
    seen: dict[tuple[str, int], tuple[Suppression, str]] = {}
    sites: list[tuple[SourceLocation, str, str]] = [
        (e.location, e.kind, e.name) for e in report.events if e.location is not None
    ]
    for f in report.findings:
        if f.location is not None:
            sites.append((f.location, "", f.layer or f.up or ""))
    for loc, kind, name in sites:
        for s in attached(loc, kind):
            seen.setdefault((s.file, s.line), (s, name))
    out = []
    for (file, line), (s, name) in sorted(seen.items()):
        on = f" on {name}" if name else ""
        if s.bare:
            if (file, line, "*") in used:
                continue
            problems, remove = [f"no finding{on} for input {report.input}"], "remove the comment"
        else:
            unknown = [c for c in s.codes if not is_code(c)]
            unused = [c for c in s.codes if is_code(c) and (file, line, c) not in used]
            if not unknown and not unused and s.codes:
                continue
            problems = []
            if not s.codes:
                problems.append("it names no code")
            for c in unknown:
                close = codes.suggestion(c)
                problems.append(f"unknown code {c}" + (f" (did you mean {close}?)" if close else ""))
            if unused:
                problems.append(f"no {' or '.join(unused)} finding{on} for input {report.input}")
            remove = f"remove {', '.join(unknown + unused)} from the comment" if s.codes else "remove the comment"
        out.append(
            Finding(
                code="CS910",
                message=f"`{s.written}` silences nothing: {'; '.join(problems)}",
                location=SourceLocation(file, line),
                layer=name or None,
                suggestions=(remove,),
            )
        )
    return out


def attached(location: SourceLocation, kind: str = "") -> list[Suppression]:
    """The suppression comments that belong to the layer constructed at ``location``."""
    comments = _comments(location.file)
    if not comments:
        return []
    start, end = call_span(location.file, location.line, kind)
    return [s for line, s in comments.items() if start <= line <= end]


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _comments(path: str) -> dict[int, Suppression]:
    stamp = _stamp(path)
    return _comments_cached(path, stamp) if stamp else {}


@lru_cache(maxsize=128)
def _comments_cached(path: str, stamp: tuple[int, int]) -> dict[int, Suppression]:
    try:
        with open(path, "rb") as fh:
            source = fh.read()
    except OSError:
        return {}
    if b"convshape" not in source:
        return {}
    out: dict[int, Suppression] = {}
    try:
        for tok in tokenize.tokenize(io.BytesIO(source).readline):
            if tok.type != tokenize.COMMENT:
                continue
            m = COMMENT.search(tok.string)
            if m:
                bare = m.group(1) is None
                items = () if bare else tuple(c.strip() for c in m.group(1).split(",") if c.strip())
                out[tok.start[0]] = Suppression(path, tok.start[0], items, bare=bare)
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        return out
    return out


def call_span(path: str, line: int, kind: str = "") -> tuple[int, int]:
    """First and last line of the constructor call written at ``line`` (``(line, line)`` when
    the file cannot be parsed or no call is there).

    Preference: the outermost call starting on ``line`` whose callee is named ``kind``
    (``ConvTranspose2d``, ``interpolate``), then the outermost call starting on ``line``, then
    the innermost call that contains ``line``.
    """
    stamp = _stamp(path)
    calls = _calls(path, stamp) if stamp else ()
    name = kind.rsplit(".", 1)[-1]
    starting = [c for c in calls if c[0] == line]
    named = [c for c in starting if c[2] == name] if name else []
    for group in (named, starting):
        if group:
            best = max(group, key=lambda c: c[1] - c[0])
            return best[0], best[1]
    containing = [c for c in calls if c[0] <= line <= c[1]]
    if containing:
        best = min(containing, key=lambda c: c[1] - c[0])
        return best[0], best[1]
    return line, line


@lru_cache(maxsize=128)
def _calls(path: str, stamp: tuple[int, int]) -> tuple[tuple[int, int, str], ...]:
    try:
        with open(path, "rb") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return ()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            out.append((node.lineno, node.end_lineno or node.lineno, name))
    return tuple(out)

