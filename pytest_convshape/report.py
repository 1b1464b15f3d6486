"""The ``Report`` of one checked model, and its renderings (text, JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from .records import ERROR, INFO, WARNING, Finding, LayerEvent, Pair


def _shape(shape: Sequence[int]) -> str:
    return "x".join(str(s) for s in shape)


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
    """Additional JSON keys for this model (for example ``sizes`` from a sweep)."""

    @property
    def ok(self) -> bool:
        """True when there is no finding of severity ``error``."""
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

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
        out.update(self.extra)
        return out

    def __str__(self) -> str:
        return render_text(self)


def _event(events: Sequence[LayerEvent], name: str | None) -> LayerEvent | None:
    for e in events:
        if e.name == name:
            return e
    return None


def _pair_rows(report: Report) -> list[list[str]]:
    bad = {f.up for f in report.findings if f.severity in (ERROR, WARNING)}
    rows = []
    for p in report.pairs:
        up = _event(report.events, p.up)
        down = _event(report.events, p.down)
        if up is None:
            continue
        if down is None:
            rows.append(["-", f"{up.name} ({up.kind})", f"{_shape(up.in_spatial)} -> {_shape(up.out_spatial)}", "unpaired", ""])
            continue
        shapes = f"{_shape(down.in_spatial)} -> {_shape(down.out_spatial)} ... {_shape(up.in_spatial)} -> {_shape(up.out_spatial)}"
        status = "MISMATCH" if p.up in bad else "ok"
        rows.append([f"{down.name} ({down.kind})", f"{up.name} ({up.kind})", shapes, p.evidence, status])
    return rows


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return lines


def render_finding(f: Finding) -> list[str]:
    where = f"  {f.location}" if f.location else ""
    lines = [f"{f.code} {f.severity}{where}", f"  {f.message}"]
    if f.detail:
        lines.append(f"  why: {f.detail}")
    if f.fix is not None:
        vals = f.fix.output_padding
        value = str(vals[0]) if len(set(vals)) == 1 else "(" + ", ".join(str(v) for v in vals) + ")"
        lines.append(f"  fix: output_padding={value} on {f.fix.layer}")
    for s in f.suggestions:
        lines.append(f"  try: {s}")
    if f.holds_for:
        lines.append(f"  holds for: {f.holds_for}")
    return lines


def counts(findings: Sequence[Finding]) -> str:
    n = {s: sum(1 for f in findings if f.severity == s) for s in (ERROR, WARNING, INFO)}
    word = {ERROR: "error", WARNING: "warning", INFO: "info"}
    return ", ".join(f"{n[s]} {word[s]}{'s' if n[s] != 1 else ''}" for s in (ERROR, WARNING, INFO))


def render_text(report: Report) -> str:
    device = "meta device" if report.device == "meta" else "a real CPU pass (fallback)"
    lines = [f"convshape: {report.target}  input {report.input}  ({device})"]
    rows = _pair_rows(report)
    if rows:
        lines.append("")
        lines += _table(rows, ["down", "up", "shapes (down in -> out ... up in -> out)", "evidence", ""])
    else:
        lines.append("  no upsampling layers found")
    for f in report.findings:
        lines.append("")
        lines += render_finding(f)
    lines.append("")
    verdict = "ok" if report.ok else "FAILED"
    lines.append(f"{verdict}: {counts(report.findings)}")
    return "\n".join(lines)


def render_json(reports: Sequence[Report]) -> str:
    return json.dumps({"models": [r.to_dict() for r in reports]}, indent=2)


_GITHUB_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "notice"}
_SARIF_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(reports: Sequence[Report]) -> str:
    """GitHub Actions workflow commands: one annotation per finding, on the layer's line."""
    lines = []
    for r in reports:
        for f in r.findings:
            props = []
            if f.location is not None:
                props.append(f"file={_gh_escape(str(f.location).rsplit(':', 1)[0], True)}")
                props.append(f"line={f.location.line}")
            props.append(f"title={_gh_escape(f'{f.code} {r.target}', True)}")
            body = f.message
            if f.fix is not None:
                body += f"\nfix: output_padding={list(f.fix.output_padding)} on {f.fix.layer}"
            lines.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_gh_escape(body)}")
        lines.append(f"{r.target} [{r.input}]: {'ok' if r.ok else 'FAILED'}, {counts(r.findings)}")
    return "\n".join(lines)


def render_sarif(reports: Sequence[Report]) -> str:
    """SARIF 2.1.0 with every rule declared, so code scanning can open and close alerts."""
    import hashlib

    from . import __version__
    from .records import RULES, display_path

    codes = list(RULES)
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.summary},
            "help": {"text": rule.help},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        }
        for rule in RULES.values()
    ]
    results = []
    for r in reports:
        for f in r.findings:
            result: dict[str, Any] = {
                "ruleId": f.code,
                "ruleIndex": codes.index(f.code),
                "level": _SARIF_LEVEL[f.severity],
                "message": {"text": f.message + (f" Fix: output_padding={list(f.fix.output_padding)} on {f.fix.layer}." if f.fix else "")},
                "partialFingerprints": {
                    "convshapeFinding/v1": hashlib.sha256(f"{f.code}|{r.target}|{r.input}|{f.layer or f.up}".encode()).hexdigest()[:32]
                },
            }
            location: dict[str, Any] = {
                "logicalLocations": [{"fullyQualifiedName": f"{r.target}::{f.layer or f.up or ''}", "kind": "member"}]
            }
            if f.location is not None:
                location["physicalLocation"] = {
                    "artifactLocation": {"uri": display_path(f.location.file).replace("\\", "/")},
                    "region": {"startLine": f.location.line},
                }
            result["locations"] = [location]
            results.append(result)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "convshape",
                        "fullName": "pytest-convshape",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/pytest-convshape/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2)
