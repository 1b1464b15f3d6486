"""The ``Report`` of one checked model, and its renderings (text, JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .records import ERROR, INFO, SEVERITY_RANK, WARNING, Finding, LayerEvent, Pair, fmt_shape, fmt_value


@dataclass(frozen=True)
class Silenced:
    """A finding that is not reported: ``ignored`` (not selected, or ignored by code) or
    ``suppressed`` (a per-module-ignores glob or an inline comment), and by what."""

    finding: Finding
    how: str
    by: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.finding.code, "layer": self.finding.layer or self.finding.up, "by": self.by}


@dataclass(frozen=True)
class Report:
    """What ``check()`` found for one model and one input."""

    target: str
    input: str
    findings: tuple[Finding, ...]
    pairs: tuple[Pair, ...]
    events: tuple[LayerEvent, ...] = ()
    device: str = "meta"
    fallback_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    """Additional JSON keys for this model."""
    sizes: tuple[Any, ...] = ()
    """``sweep.SizeSweep`` results, one per swept input dimension (``check(sizes=...)``)."""
    silenced: tuple[Silenced, ...] = ()
    """Findings not reported, and why (``--ignore``, a comment, ...)."""
    fail_on: str = ERROR
    """The lowest severity that fails the check (``error`` or ``warning``)."""
    never_ran: tuple[Any, ...] = ()
    """``branches.Unran``: resampling layers that never ran because an ``if`` chose another branch."""

    @property
    def ok(self) -> bool:
        """True when no finding is as severe as ``fail_on`` (by default: no ``error`` finding)."""
        return not self.failures

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def failures(self) -> tuple[Finding, ...]:
        """The findings that make the check fail (severity ``fail_on`` or worse)."""
        limit = SEVERITY_RANK[self.fail_on]
        return tuple(f for f in self.findings if SEVERITY_RANK[f.severity] <= limit)

    def to_dict(self) -> dict[str, Any]:
        """One entry of the ``models`` list of the JSON contract."""
        out: dict[str, Any] = {
            "target": self.target,
            "input": self.input,
            "ok": self.ok,
            "pairs": [p.to_dict() for p in self.pairs if p.down is not None],
            "findings": [f.to_dict() for f in self.findings],
            "device": self.device,
        }
        if self.sizes:
            out["sizes"] = {str(s.dim): _sweep_dict(s) for s in self.sizes}
        for how in ("suppressed", "ignored"):
            entries = [s.to_dict() for s in self.silenced if s.how == how]
            if entries:
                out[how] = entries
        if self.never_ran:
            out["never_ran"] = [u.to_dict() for u in self.never_ran]
        from .diagram import levels

        out["levels"] = [level.to_dict() for level in levels(self)]
        if self.fail_on != ERROR:
            out["fail_on"] = self.fail_on
        out.update(self.extra)
        return out

    def __str__(self) -> str:
        return render_text(self)


def _event(events: Sequence[LayerEvent], name: str | None) -> LayerEvent | None:
    for e in events:
        if e.name == name:
            return e
    return None


def pair_status(report: Report, pair: Pair) -> str:
    """``MISMATCH`` (an error or warning reported on the pair's up layer, or on a layer of its
    chain), ``suppressed`` or ``ignored`` (one silenced there, and none reported),
    ``unconfirmed`` (CS905: a mirror-order mismatch that the model makes up for), else ``ok``."""
    ups = {pair.up, *pair.chain}
    mine = [f for f in report.findings if f.up in ups or (f.up is None and f.layer in ups)]
    if any(f.severity in (ERROR, WARNING) for f in mine):
        return "MISMATCH"
    silenced = [s for s in report.silenced if s.finding.up in ups]
    if silenced:
        return "suppressed" if any(s.how == "suppressed" for s in silenced) else "ignored"
    if any(f.code == "CS905" for f in mine):
        return "unconfirmed"
    return "ok"


def _pair_rows(report: Report) -> list[list[str]]:
    rows = []
    for p in report.pairs:
        up = _event(report.events, p.up)
        down = _event(report.events, p.down)
        if up is None:
            continue
        if down is None:
            rows.append(["-", f"{up.name} ({up.kind})", f"{fmt_shape(up.in_spatial)} -> {fmt_shape(up.out_spatial)}", "unpaired", ""])
            continue
        chain = p.chain
        first = _event(report.events, chain[0]) if chain else up
        start = first if first is not None else up
        shapes = f"{fmt_shape(down.in_spatial)} -> {fmt_shape(down.out_spatial)} ... {fmt_shape(start.in_spatial)} -> {fmt_shape(up.out_spatial)}"
        ups = f"{chain[0]} .. {up.name} ({len(chain) + 1} layers)" if chain else f"{up.name} ({up.kind})"
        rows.append([f"{down.name} ({down.kind})", ups, shapes, p.evidence, pair_status(report, p)])
    return rows


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return lines


def render_finding(f: Finding) -> list[str]:
    where = f"  {f.location}" if f.location else ""
    lines = [f"{f.code} {f.severity}{where}", f"  {f.message}"]
    if f.witness:
        lines.append(f"  witness: {f.witness}")
    if f.detail:
        lines.append(f"  why: {f.detail}")
    if f.fix is not None:
        lines.append(f"  fix: output_padding={fmt_value(f.fix.output_padding)} on {f.fix.layer}")
    for s in f.suggestions:
        lines.append(f"  try: {s}")
    for part in f.holds_for.splitlines():
        lines.append(f"  sizes: {part}")
    return lines


def counts(findings: Sequence[Finding]) -> str:
    n = {s: sum(1 for f in findings if f.severity == s) for s in (ERROR, WARNING, INFO)}
    word = {ERROR: "error", WARNING: "warning", INFO: "info"}
    return ", ".join(f"{n[s]} {word[s]}{'s' if n[s] != 1 else ''}" for s in (ERROR, WARNING, INFO))


def verdict(report: Report) -> str:
    """``ok: 0 errors, 0 warnings, 0 infos`` / ``FAILED: ...``, with what was silenced."""
    text = f"{'ok' if report.ok else 'FAILED'}: {counts(report.findings)}"
    extra = []
    for how in ("suppressed", "ignored"):
        n = sum(1 for s in report.silenced if s.how == how)
        if n:
            extra.append(f"{n} {how}")
    if report.fail_on != ERROR:
        extra.append(f"fail-on {report.fail_on}")
    return text + (f" ({', '.join(extra)})" if extra else "")


@dataclass(frozen=True)
class DiagramStyle:
    """How ``render_text`` draws the U diagram in place of the pair table."""

    width: int = 100
    ascii_only: bool = False


def render_text(report: Report, diagram: DiagramStyle | None = None) -> str:
    device = "meta device" if report.device == "meta" else "a real CPU pass (fallback)"
    lines = [f"convshape: {report.target}  input {report.input}  ({device})"]
    rows = _pair_rows(report)
    drawn = _diagram_lines(report, diagram) if rows and diagram is not None else []
    if drawn:
        lines.append("")
        lines += ["  " + ln for ln in drawn]
    elif rows:
        lines.append("")
        lines += _table(rows, ["down", "up", "shapes (down in -> out ... up in -> out)", "evidence", ""])
    else:
        lines.append("  no upsampling layers found")
    for f in report.findings:
        lines.append("")
        lines += render_finding(f)
    for unran in report.never_ran:
        lines.append("")
        lines.append(f"not checked: {unran.describe()}")
    for sweep in report.sizes:
        lines.append("")
        lines += render_sizes(sweep)
    lines.append("")
    lines.append(verdict(report))
    return "\n".join(lines)


def run_verdict(reports: Sequence[Report], *, exit_zero: bool = False) -> str:
    """One line for a run of several checks; its verdict is the exit status's."""
    findings = [f for r in reports for f in r.findings]
    failed = sum(1 for r in reports if not r.ok)
    checks = f"{len(reports)} model check{'' if len(reports) == 1 else 's'}"
    head = "FAILED" if failed else "ok"
    tail = " (exit 0: --exit-zero)" if failed and exit_zero else ""
    return f"{head}: {checks}, {failed} failed: {counts(findings)}{tail}"


def _diagram_lines(report: Report, style: DiagramStyle) -> list[str]:
    from .diagram import levels
    from .diagram import render_text as draw

    return draw(levels(report), width=style.width - 2, ascii_only=style.ascii_only)


def render_run(reports: Sequence[Report], *, exit_zero: bool = False, diagram: DiagramStyle | None = None) -> str:
    """The text output of a CLI run: each report, then one summary line when there are several."""
    parts = [render_text(r, diagram) for r in reports]
    text = "\n\n".join(parts)
    if len(reports) != 1:
        text += ("\n\n" if parts else "") + run_verdict(reports, exit_zero=exit_zero)
    elif exit_zero and not reports[0].ok:
        text += " (exit 0: --exit-zero)"
    return text


def render_quiet(reports: Sequence[Report]) -> str:
    """One line per finding: ``models.py:9: CS101 error decoder.0: ...  [target input]``."""
    lines = []
    for r in reports:
        for f in r.findings:
            where = _finding_location(r, f)
            lines.append(f"{where or r.target}: {f.code} {f.severity} {f.message}  [{r.target} {r.input}]")
    return "\n".join(lines)


def render_statistics(reports: Sequence[Report]) -> str:
    """Findings per rule, most frequent first: ``   3  CS101  error    shape-not-restored``."""
    from .rules import RULES

    per_code: dict[str, int] = {}
    for r in reports:
        for f in r.findings:
            per_code[f.code] = per_code.get(f.code, 0) + 1
    lines = [
        f"{n:>4}  {code}  {RULES[code].severity:<7}  {RULES[code].name}"
        for code, n in sorted(per_code.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return "\n".join(lines + [run_verdict(reports)])


def sweep_rules(sweep: Any) -> dict[str, Any]:
    """The rules of a sweep as the report states them: the sweep's own text, or its modular
    form (``L % 40 in 0..7``) where the sweep had to list the sizes."""
    from .sizes_text import readable_rule

    def text(rule: str, valid: Any) -> str:
        return readable_rule(rule, valid, sweep.sizes, sweep.label)

    return {
        "rule": text(sweep.rule, sweep.valid),
        "with_fixes": text(sweep.with_fixes_rule, sweep.with_fixes),
        "with_output_size": text(sweep.with_output_size_rule, sweep.with_output_size),
        "alternatives": [text(rule, valid) for _, valid, rule in getattr(sweep, "alternatives", ())],
    }


def _sweep_dict(sweep: Any) -> dict[str, Any]:
    out: dict[str, Any] = sweep.to_dict()
    rules = sweep_rules(sweep)
    out["rule"] = rules["rule"]
    if "with_fixes" in out:
        out["with_fixes"]["rule"] = rules["with_fixes"]
    if "with_output_size" in out:
        out["with_output_size"]["rule"] = rules["with_output_size"]
    for entry, rule in zip(out.get("alternatives", []), rules["alternatives"]):
        entry["rule"] = rule
    return out


def render_sizes(sweep: Any) -> list[str]:
    """The input-size section of the text report for one swept dimension."""
    rules = sweep_rules(sweep)
    lo, hi = (sweep.sizes[0], sweep.sizes[-1]) if sweep.sizes else (0, 0)
    how = "" if sweep.method == "symbolic" else f" ({sweep.note})" if sweep.note else " (traced every size)"
    lines = [f"input sizes, {sweep.label} = dim {sweep.dim} in {lo}..{hi}{how}:"]
    lines.append(f"  valid today: {rules['rule']} ({len(sweep.valid)} of {len(sweep.sizes)} sizes)")
    for r in sweep.restrictions:
        when = "never" if r.rule.startswith("no ") else f"only for {r.rule}"
        lines.append(f"    {r.cause}: {when}")
    if sweep.with_fixes is not None:
        lines.append(f"  with the suggested output_padding fixes: {rules['with_fixes']}")
    for (change, _, _), rule in zip(getattr(sweep, "alternatives", ()), rules["alternatives"]):
        lines.append(f"  with {change}: {rule}")
    if sweep.with_output_size is not None:
        lines.append(f"  with output_size= passed to every paired ConvTranspose: {rules['with_output_size']}")
    return lines


JSON_SCHEMA = 1
"""The version of the JSON contract (docs/json-sarif.md); raised when a key changes meaning or
goes away, not when one is added."""


def render_json(reports: Sequence[Report]) -> str:
    return render_json_models([r.to_dict() for r in reports])


_GITHUB_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "notice"}
_SARIF_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}


def _gh_escape(text: str, prop: bool = False) -> str:
    """Escape for a workflow command: data escapes %, CR, LF; properties also ':' and ','."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(reports: Sequence[Report]) -> str:
    """GitHub Actions workflow commands: one annotation per finding, on the layer's file and
    line (paths relative to the working directory, which is the checkout in a workflow)."""
    from .records import display_path

    lines = []
    edits = fix_edits(reports)
    for r in reports:
        for f in r.findings:
            props = []
            location = _finding_location(r, f)
            if location is not None:
                props.append(f"file={_gh_escape(display_path(location.file).replace(chr(92), '/'), True)}")
                props.append(f"line={location.line}")
            props.append(f"title={_gh_escape(f'{f.code} {r.target} [{r.input}]', True)}")
            body = f.message
            if f.fix is not None:
                body += f"\nfix: output_padding={fmt_value(f.fix.output_padding)} on {f.fix.layer}"
            edit = edits.get(_edit_key(r, f))
            if edit is not None:
                body += _github_suggestion(edit)
            lines.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_gh_escape(body)}")
        lines.append(f"{r.target} [{r.input}]: {'ok' if r.ok else 'FAILED'}, {counts(r.findings)}")
    return "\n".join(lines)


def _github_suggestion(edit: Any) -> str:
    """The edit as a GitHub suggestion block of the lines it changes (paste it into a review
    comment on those lines to get the one-click fix)."""
    from .fixer import suggestion

    first, last, text = suggestion(edit)
    span = f"line {first}" if first == last else f"lines {first}-{last}"
    return f"\nsuggested change ({span}):\n```suggestion\n{text}\n```"


def render_sarif(reports: Sequence[Report]) -> str:
    """SARIF 2.1.0 with every rule declared, so code scanning can open and close alerts.

    Each result carries a ``partialFingerprints`` value built from the code, the target, the
    input and the layer (not the line), so an alert survives edits above it and closes when the
    finding goes away; the partner layer (the downsampling layer a pair's up should invert) is a
    related location.
    """
    from . import __version__
    from .rule_docs import sarif_rule
    from .rules import RULES

    codes = list(RULES)
    results = []
    seen: dict[str, int] = {}
    edits = fix_edits(reports)
    for r in reports:
        for f in r.findings:
            key = f"{f.code}|{r.target}|{r.input}|{f.layer or f.up or f.down or f.message}"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:  # two findings with the same identity in one run: keep both distinct
                key += f"|{seen[key]}"
            result = _sarif_result(r, f, codes.index(f.code), key)
            edit = edits.get(_edit_key(r, f))
            if edit is not None:
                result["fixes"] = [_sarif_fix(edit)]
            results.append(result)
    driver = {
        "name": "convshape",
        "fullName": "pytest-convshape",
        "version": __version__,
        "informationUri": "https://pypi.org/project/pytest-convshape/",
        "rules": [sarif_rule(rule) for rule in RULES.values()],
    }
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}],
    }
    return json.dumps(doc, indent=2)


def _sarif_result(r: Report, f: Finding, rule_index: int, key: str) -> dict[str, Any]:
    import hashlib

    text = f.message
    if f.fix is not None:
        text += f" Fix: output_padding={fmt_value(f.fix.output_padding)} on {f.fix.layer}."
    location: dict[str, Any] = {
        "logicalLocations": [{"fullyQualifiedName": f"{r.target}::{f.layer or f.up or ''}", "kind": "member"}]
    }
    where = _finding_location(r, f)
    if where is not None:
        location["physicalLocation"] = _sarif_physical(where)
    result: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": text},
        "partialFingerprints": {"convshapeFinding/v1": hashlib.sha256(key.encode()).hexdigest()[:32]},
        "locations": [location],
    }
    partner = _event(r.events, f.down) if f.down else None
    if partner is not None and partner.location is not None:
        result["relatedLocations"] = [{
            "id": 1,
            "physicalLocation": _sarif_physical(partner.location),
            "message": {"text": f"{f.down}: the downsampling layer that {f.up or 'the layer'} should invert"},
        }]
    return result


def fix_edits(reports: Sequence[Report]) -> dict[tuple[str, str, str], Any]:
    """The safe source edits (``fixer.Edit``) of the verified fixes, by (target, input, layer):
    what ``--fix`` would write, for SARIF ``fixes`` and GitHub suggestions."""
    from .fixer import plan

    try:
        edits = plan(reports).applicable(unsafe=False)
    except OSError:
        return {}
    by_layer: dict[str, Any] = {}
    for e in edits:
        for layer in e.layer.split(", "):
            by_layer[layer] = e
    out = {}
    for r in reports:
        for f in r.findings:
            if f.fix is not None and f.fix.layer in by_layer:
                out[_edit_key(r, f)] = by_layer[f.fix.layer]
    return out


def _edit_key(r: Report, f: Finding) -> tuple[str, str, str]:
    return (r.target, r.input, f.fix.layer if f.fix is not None else "")


def _sarif_fix(edit: Any) -> dict[str, Any]:
    from .fixer import replacement

    return {
        "description": {"text": f"{edit.description} (what convshape --fix writes)"},
        "artifactChanges": [{"artifactLocation": {"uri": _sarif_uri(edit.file)}, "replacements": [replacement(edit)]}],
    }


def _sarif_physical(where: Any) -> dict[str, Any]:
    return {"artifactLocation": {"uri": _sarif_uri(where.file)}, "region": {"startLine": where.line}}


def _finding_location(report: Report, f: Finding) -> Any:
    """Where to annotate a finding: its own location, else its layer's, else the first located
    layer of the model (findings such as CS902/CS903 concern the whole model)."""
    if f.location is not None:
        return f.location
    for name in (f.layer, f.up):
        e = _event(report.events, name) if name else None
        if e is not None and e.location is not None:
            return e.location
    for e in report.events:
        if e.location is not None:
            return e.location
    return None


def _sarif_uri(path: str) -> str:
    import os
    from pathlib import Path

    from .records import display_path

    shown = display_path(path)
    if os.path.isabs(shown):
        return Path(shown).as_uri()
    return shown.replace("\\", "/")


def render_json_models(models: Sequence[dict[str, Any]]) -> str:
    """The JSON contract from entries already turned into dicts (``Report.to_dict()``)."""
    return json.dumps({"schema": JSON_SCHEMA, "models": list(models)}, indent=2)


def render_summary(models: Sequence[dict[str, Any]]) -> list[str]:
    """The pytest terminal summary: totals, counts per code, one line per finding with its
    location. Works on ``Report.to_dict()`` entries (what pytest-xdist workers ship)."""
    from .rules import RULES

    findings = [(m, f) for m in models for f in m.get("findings", [])]
    failed = sum(1 for m in models if not m.get("ok", True))
    per_severity = {s: sum(1 for _, f in findings if f["severity"] == s) for s in (ERROR, WARNING, INFO)}
    totals = ", ".join(f"{n} {s}{'' if n == 1 else 's'}" for s, n in per_severity.items())
    checks = f"{len(models)} model check{'' if len(models) == 1 else 's'}"
    lines = [f"{checks}, {failed} failed: {totals}"]
    per_code: dict[str, int] = {}
    for _, f in findings:
        per_code[f["code"]] = per_code.get(f["code"], 0) + 1
    for code in sorted(per_code):
        rule = RULES.get(code)
        lines.append(f"  {code}  {rule.severity if rule else '':<7}  {per_code[code]:>3}  {rule.name if rule else ''}".rstrip())
    def source(m: dict[str, Any]) -> str:
        return m.get("test") or f"{m['target']} {m['input']}"

    for m in models:
        if m.get("error"):
            lines.append(f"{m['error']}  [{source(m)}]")
    for m, f in findings:
        where = f["location"] or m["target"]
        lines.append(f"{where}: {f['code']} {f['message']}  [{source(m)}]")
    return lines
