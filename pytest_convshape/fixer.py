"""Fixes as edits of the user's source: the call that constructs a layer gets the proven
``output_padding`` (added, or its literal value changed), keeping every other character.

Pure (no torch): the input is the reports (findings with a verified ``Fix``, the events with
their construction sites, the sweeps) and the files they point at. Positions come from the
standard library's ``ast`` (byte offsets of each argument), so the edit touches only the
argument it writes; comments, line breaks and the user's formatting stay as they are.

A fix is refused, with one line saying why and what to do instead, when it cannot be written
safely: several layers built by one call need different values (a loop over levels), the value
comes from a variable or ``**kwargs``, the call is outside the project, or the file changed
since it was read. A fix that lowers a value other input sizes may need (one eager torch accepts),
or that the sweep shows breaking sizes that work today, is *unsafe*: applied only with
``--unsafe-fixes``.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .records import Finding, LayerEvent, SourceLocation, display_path, fmt_value
from .report import Report

_TRANSPOSED = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
_FUNCTIONAL = ("F.conv_transpose1d", "F.conv_transpose2d", "F.conv_transpose3d")
_OUTPUT_PADDING_POSITION = 5
"""``ConvTranspose*d(in, out, kernel_size, stride, padding, output_padding, ...)`` and
``F.conv_transpose*d(input, weight, bias, stride, padding, output_padding, ...)`` alike."""


@dataclass(frozen=True)
class Edit:
    """One replacement in one file, in bytes of its UTF-8 text (``start``..``end``)."""

    file: str
    start: int
    end: int
    text: str
    layer: str
    value: tuple[int, ...]
    digest: str
    """sha256 of the file as it was read: the edit is written only into that text."""
    safe: bool = True
    unsafe_because: str = ""
    finding: Finding | None = None

    @property
    def description(self) -> str:
        return f"set output_padding={fmt_value(self.value)} on {self.layer}"


@dataclass(frozen=True)
class Refusal:
    layer: str
    where: str
    reason: str
    instead: str = ""

    def line(self) -> str:
        tail = f"; {self.instead}" if self.instead else ""
        return f"convshape: cannot fix {self.layer} ({self.where}): {self.reason}{tail}"


@dataclass
class Plan:
    edits: list[Edit] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

    def applicable(self, unsafe: bool) -> list[Edit]:
        return [e for e in self.edits if e.safe or unsafe]

    def held_back(self, unsafe: bool) -> list[Edit]:
        return [] if unsafe else [e for e in self.edits if not e.safe]


def project_root(start: str | None = None) -> str:
    """The folder of the nearest pyproject.toml above ``start`` (the working directory), or
    ``start`` itself: files outside it are not edited."""
    here = os.path.abspath(start or os.getcwd())
    probe = here
    while True:
        if os.path.isfile(os.path.join(probe, "pyproject.toml")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


# --------------------------------------------------------------------------- planning


def plan(reports: Sequence[Report], root: str | None = None) -> Plan:
    """The edits for every verified fix of ``reports`` (one per call site), and the refusals."""
    root = os.path.abspath(root or project_root())
    out = Plan()
    seen: set[tuple[str, int]] = set()
    for report in reports:
        by_site, refusals = _fixes_by_site(report)
        out.refusals += refusals
        for site, wanted in by_site.items():
            key = (site.file, site.line)
            if key in seen:
                continue
            seen.add(key)
            result = _plan_site(report, site, wanted, root)
            if isinstance(result, Refusal):
                out.refusals.append(result)
            else:
                out.edits.append(result)
    return out


def _base(name: str) -> str:
    return name.split("#")[0]


def _fixes_by_site(report: Report) -> tuple[dict[SourceLocation, dict[str, Finding]], list[Refusal]]:
    events = {_base(e.name): e for e in report.events if e.module or e.kind in _FUNCTIONAL}
    by_site: dict[SourceLocation, dict[str, Finding]] = {}
    refusals = []
    for f in report.findings:
        if f.fix is None or not f.fix.verified:
            continue
        ev = events.get(_base(f.fix.layer))
        if ev is None or ev.location is None:
            where = str(f.location) if f.location else "unknown location"
            refusals.append(Refusal(f.fix.layer, where, "the line that builds this layer is not known",
                                    f"set output_padding={fmt_value(f.fix.output_padding)} on it by hand"))
            continue
        by_site.setdefault(ev.location, {})[f.fix.layer] = f  # by call: ``up#2`` is the second call of ``up``
    return by_site, refusals


def _plan_site(report: Report, site: SourceLocation, wanted: dict[str, Finding], root: str) -> Edit | Refusal:
    layer = ", ".join(sorted({_base(name) for name in wanted}))
    first = next(iter(wanted.values()))
    value = first.fix.output_padding if first.fix else ()
    where = str(site)
    kind = _kind(report.events, first.fix.layer if first.fix else "")
    problem = _shared_site(report, site, wanted)
    if problem is not None:
        return Refusal(layer, where, problem, _output_size_hint(first, functional=kind in _FUNCTIONAL))
    path = os.path.abspath(site.file)
    if not _inside(path, root):
        return Refusal(layer, where, f"{display_path(path)} is outside the project ({display_path(root)})",
                       f"set output_padding={fmt_value(value)} where the layer is built, or subclass it in your project")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        tree = ast.parse(data, filename=path)
    except (OSError, SyntaxError, ValueError) as exc:
        return Refusal(layer, where, f"cannot read {display_path(path)}: {exc}")
    call = _call_at(tree, site.line, kind)
    if call is None:
        return Refusal(layer, where, f"no {kind or 'ConvTranspose'}(...) call at this line", f"set output_padding={fmt_value(value)} by hand")
    digest = hashlib.sha256(data).hexdigest()
    edit = _edit_call(data, call, value, path, digest, layer, first)
    if isinstance(edit, Refusal):
        return edit
    return _judged(report, edit)


def _shared_site(report: Report, site: SourceLocation, wanted: dict[str, Finding]) -> str | None:
    """Why one call cannot carry the fix: it builds several layers that need different values
    (or some of them are right as they are)."""
    calls = [e.name for e in report.events if e.location == site and e.kind in _TRANSPOSED + _FUNCTIONAL]
    values = {f.fix.output_padding for f in wanted.values() if f.fix}
    if len(values) > 1 or any(name not in wanted for name in calls):
        built = sorted({_base(name) for name in calls})
        if len(built) == 1 and len(calls) > 1:  # one layer or call, run at several levels
            return f"{built[0]} runs at several levels ({', '.join(calls[:4])}) that need different output_padding values"
        shown = ", ".join(built[:4]) + (", ..." if len(built) > 4 else "")
        return f"one call builds several layers ({shown}) that need different output_padding values"
    return None


def _output_size_hint(f: Finding, functional: bool) -> str:
    up = f.up or (f.fix.layer if f.fix else "the layer")
    down = f.down or "its partner"
    n = len(f.fix.output_padding) if f.fix else 2
    if functional:  # F.conv_transpose*d has no output_size=
        return (f"instead, compute output_padding in forward for each call: the size {down} took minus the size "
                "the call gives with output_padding=0")
    return (f"instead, pass the size to restore in forward: x = {_accessor(up)}(x, output_size=skip.shape[-{n}:]) "
            f"with skip the tensor {down} took (ConvTranspose then picks the output_padding for each input size)")


def _accessor(name: str) -> str:
    """``ups.2`` -> ``self.ups[2]``: the layer as forward reaches it."""
    text = "self"
    for part in name.split("#")[0].split("."):
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text


def _inside(path: str, root: str) -> bool:
    if "site-packages" in path.split(os.sep) or "dist-packages" in path.split(os.sep):
        return False
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def _kind(events: Iterable[LayerEvent], layer: str) -> str:
    return next((e.kind for e in events if _base(e.name) == _base(layer)), "")


def _call_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _call_at(tree: ast.AST, line: int, kind: str) -> ast.Call | None:
    """The innermost call of ``kind`` (any ConvTranspose when unknown; ``F.conv_transpose2d``
    is the call ``conv_transpose2d`` by any module alias) whose span holds ``line``."""
    names = (kind,) if kind in _TRANSPOSED else (kind[2:],) if kind in _FUNCTIONAL else _TRANSPOSED
    found = [
        n for n in ast.walk(tree)
        if isinstance(n, ast.Call) and _call_name(n.func) in names and n.lineno <= line <= (n.end_lineno or n.lineno)
    ]
    if not found:
        return None
    return min(found, key=lambda n: ((n.end_lineno or n.lineno) - n.lineno, -n.col_offset))


# --------------------------------------------------------------------------- the edit


class _Text:
    """Byte offsets of ``ast`` positions (lines 1-based, columns in UTF-8 bytes)."""

    def __init__(self, data: bytes):
        self.data = data
        self.starts = [0]
        for i, b in enumerate(data):
            if b == 0x0A:
                self.starts.append(i + 1)

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def line_of(self, offset: int) -> int:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1


def _literal(node: ast.expr) -> tuple[int, ...] | int | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value
    return None


def _format(value: tuple[int, ...], like: Any) -> str:
    if len(set(value)) == 1 and not isinstance(like, tuple):
        return str(value[0])
    return "(" + ", ".join(str(v) for v in value) + ("," if len(value) == 1 else "") + ")"


def _edit_call(data: bytes, call: ast.Call, value: tuple[int, ...], path: str, digest: str, layer: str, f: Finding) -> Edit | Refusal:
    text = _Text(data)
    where = f"{display_path(path)}:{call.lineno}"
    given = [k for k in call.keywords if k.arg == "output_padding"]
    node: ast.expr | None = given[0].value if given else None
    if node is None and len(call.args) > _OUTPUT_PADDING_POSITION:
        node = call.args[_OUTPUT_PADDING_POSITION]
    if node is None and (any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args)):
        return Refusal(layer, where, "its arguments come from *args/**kwargs",
                       f"add output_padding={fmt_value(value)} where those arguments are made")
    if node is not None:
        old = _literal(node)
        if old is None:
            source = ast.get_source_segment(data.decode("utf-8"), node) or "an expression"
            return Refusal(layer, where, f"output_padding comes from `{source}` (a variable or setting), not a literal",
                           f"set it to {fmt_value(value)} where `{source}` gets its value")
        start = text.offset(node.lineno, node.col_offset)
        end = text.offset(node.end_lineno or node.lineno, node.end_col_offset or node.col_offset)
        edit = Edit(path, start, end, _format(value, old), layer, value, digest, finding=f)
        old_values = old if isinstance(old, tuple) else (old,) * len(value)
        if any(n < o for n, o in zip(value, old_values)) and f.code not in _ILLEGAL_EVERYWHERE:
            return _unsafe(edit, f"it lowers output_padding from {fmt_value(old_values)}, which other input sizes may need")
        return edit
    return _insertion(text, call, value, path, digest, layer, f)


_ILLEGAL_EVERYWHERE = frozenset({"CS201", "CS203"})
"""Codes of a value eager torch rejects at every input size: lowering it cannot break a size that works."""


def _insertion(text: _Text, call: ast.Call, value: tuple[int, ...], path: str, digest: str, layer: str, f: Finding) -> Edit:
    """``output_padding=V`` after the call's last argument, in the call's own layout: on its own
    line when the arguments are one per line with a trailing comma, else inline."""
    new = f"output_padding={_format(value, None)}"
    parts: list[ast.expr] = [*call.args, *(k.value for k in call.keywords)]
    if not parts:
        end = text.offset(call.end_lineno or call.lineno, (call.end_col_offset or 1) - 1)  # before ")"
        return Edit(path, end, end, new, layer, value, digest, finding=f)
    last = max(parts, key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0))
    after = text.offset(last.end_lineno or last.lineno, last.end_col_offset or 0)
    i = after
    data = text.data
    while i < len(data) and data[i:i + 1] in (b" ", b"\t", b"\r", b"\n", b"\\"):
        i += 1
    if data[i:i + 1] == b"#":  # a comment after the last argument
        i = data.index(b"\n", i) if b"\n" in data[i:] else len(data)
    if data[i:i + 1] == b",":
        comma = i
        own_line = text.line_of(after) > call.lineno and text.line_of(after) != text.line_of(text.offset(call.end_lineno or call.lineno, 0))
        if own_line:
            line_start = text.starts[text.line_of(after) - 1]
            indent = data[line_start:text.offset(last.lineno, last.col_offset)].decode("utf-8")
            indent = indent[: len(indent) - len(indent.lstrip())]
            eol = data.find(b"\n", comma)
            eol = len(data) if eol < 0 else eol
            newline = "\n"
            if eol > 0 and data[eol - 1:eol] == b"\r":  # keep the file's CRLF line endings
                eol, newline = eol - 1, "\r\n"
            return Edit(path, eol, eol, f"{newline}{indent}{new},", layer, value, digest, finding=f)
        return Edit(path, comma + 1, comma + 1, f" {new},", layer, value, digest, finding=f)
    return Edit(path, after, after, f", {new}", layer, value, digest, finding=f)


def _unsafe(edit: Edit, because: str) -> Edit:
    return Edit(edit.file, edit.start, edit.end, edit.text, edit.layer, edit.value, edit.digest, False, because, edit.finding)


def _judged(report: Report, edit: Edit) -> Edit:
    """With a sweep: the fix is safe when it keeps every size that works today, else unsafe
    (whatever the arithmetic of one size says); without one, the edit's own rule stands."""
    for sweep in report.sizes:
        for fv in getattr(sweep, "fixes", ()):
            if _base(fv.up) != _base(edit.layer):
                continue
            lost = sorted(set(sweep.valid) - set(fv.holds))
            if lost:
                shown = ", ".join(map(str, lost[:5])) + (", ..." if len(lost) > 5 else "")
                return _unsafe(edit, f"the sweep shows it breaks {sweep.label} = {shown}, which work today")
            if not edit.safe:
                return Edit(edit.file, edit.start, edit.end, edit.text, edit.layer, edit.value, edit.digest, finding=edit.finding)
    return edit


# --------------------------------------------------------------------------- output


def _by_file(edits: Iterable[Edit]) -> dict[str, list[Edit]]:
    out: dict[str, list[Edit]] = {}
    for e in edits:
        out.setdefault(e.file, []).append(e)
    return out


def rewritten(data: bytes, edits: Sequence[Edit]) -> bytes:
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        data = data[: e.start] + e.text.encode("utf-8") + data[e.end :]
    return data


def unified_diff(edits: Sequence[Edit]) -> str:
    chunks = []
    for path, file_edits in sorted(_by_file(edits).items()):
        with open(path, "rb") as fh:
            data = fh.read()
        before = data.decode("utf-8").splitlines(keepends=True)
        after = rewritten(data, file_edits).decode("utf-8").splitlines(keepends=True)
        shown = display_path(path).replace(os.sep, "/")
        chunks.append("".join(difflib.unified_diff(before, after, f"a/{shown}", f"b/{shown}")))
    return "".join(chunks)


def write(edits: Sequence[Edit]) -> list[Refusal]:
    """Write the edits; a file that changed since it was read is left alone (refused)."""
    refused = []
    for path, file_edits in _by_file(edits).items():
        with open(path, "rb") as fh:
            data = fh.read()
        if hashlib.sha256(data).hexdigest() != file_edits[0].digest:
            for e in file_edits:
                refused.append(Refusal(e.layer, display_path(path), "the file changed since it was read", "run convshape --fix again"))
            continue
        with open(path, "wb") as fh:
            fh.write(rewritten(data, file_edits))
    return refused


def replacement(edit: Edit) -> dict[str, Any]:
    """The edit as SARIF's replacement: the deleted region (1-based lines and columns in
    Unicode code points) and the inserted text."""
    with open(edit.file, "rb") as fh:
        text = _Text(fh.read())

    def position(offset: int) -> tuple[int, int]:
        line = text.line_of(offset)
        column = len(text.data[text.starts[line - 1] : offset].decode("utf-8", errors="replace")) + 1
        return line, column

    (sl, sc), (el, ec) = position(edit.start), position(edit.end)
    return {
        "deletedRegion": {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec},
        "insertedContent": {"text": edit.text},
    }


def suggestion(edit: Edit) -> tuple[int, int, str]:
    """(first line, last line, new text of those lines) for a GitHub suggestion."""
    with open(edit.file, "rb") as fh:
        data = fh.read()
    text = _Text(data)
    first, last = text.line_of(edit.start), text.line_of(max(edit.start, edit.end - 1) if edit.end > edit.start else edit.start)
    new = rewritten(data, [edit]).decode("utf-8").splitlines()
    old_lines = data.decode("utf-8").splitlines()
    added = len(new) - len(old_lines)
    return first, last, "\n".join(new[first - 1 : last + added])
