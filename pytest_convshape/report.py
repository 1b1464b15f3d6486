"""The ``Report`` of one checked model, and its renderings (text, JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from .records import ERROR, INFO, WARNING, Finding, LayerEvent, Pair, fmt_shape, fmt_value


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
        if self.sizes:
            out["sizes"] = {str(s.dim): s.to_dict() for s in self.sizes}
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
            rows.append(["-", f"{up.name} ({up.kind})", f"{fmt_shape(up.in_spatial)} -> {fmt_shape(up.out_spatial)}", "unpaired", ""])
            continue
        first = _event(report.events, p.chain[0]) if p.chain else up
        start = first if first is not None else up
        shapes = f"{fmt_shape(down.in_spatial)} -> {fmt_shape(down.out_spatial)} ... {fmt_shape(start.in_spatial)} -> {fmt_shape(up.out_spatial)}"
        status = "MISMATCH" if p.up in bad or any(c in bad for c in p.chain) else "ok"
        ups = f"{p.chain[0]} .. {up.name} ({len(p.chain) + 1} layers)" if p.chain else f"{up.name} ({up.kind})"
        rows.append([f"{down.name} ({down.kind})", ups, shapes, p.evidence, status])
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
    for sweep in report.sizes:
        lines.append("")
        lines += render_sizes(sweep)
    lines.append("")
    verdict = "ok" if report.ok else "FAILED"
    lines.append(f"{verdict}: {counts(report.findings)}")
    return "\n".join(lines)


def render_sizes(sweep: Any) -> list[str]:
    """The input-size section of the text report for one swept dimension."""
    lo, hi = (sweep.sizes[0], sweep.sizes[-1]) if sweep.sizes else (0, 0)
    how = "" if sweep.method == "symbolic" else f" ({sweep.note})" if sweep.note else " (traced every size)"
    lines = [f"input sizes, {sweep.label} = dim {sweep.dim} in {lo}..{hi}{how}:"]
    lines.append(f"  valid today: {sweep.rule} ({len(sweep.valid)} of {len(sweep.sizes)} sizes)")
    for r in sweep.restrictions:
        when = "never" if r.rule.startswith("no ") else f"only for {r.rule}"
        lines.append(f"    {r.cause}: {when}")
    if sweep.with_fixes is not None:
        lines.append(f"  with the suggested output_padding fixes: {sweep.with_fixes_rule}")
    for change, _, rule in getattr(sweep, "alternatives", ()):
        lines.append(f"  with {change}: {rule}")
    if sweep.with_output_size is not None:
        lines.append(f"  with output_size= passed to every paired ConvTranspose: {sweep.with_output_size_rule}")
    return lines


def render_json(reports: Sequence[Report]) -> str:
    return json.dumps({"models": [r.to_dict() for r in reports]}, indent=2)


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
            lines.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_gh_escape(body)}")
        lines.append(f"{r.target} [{r.input}]: {'ok' if r.ok else 'FAILED'}, {counts(r.findings)}")
    return "\n".join(lines)


def render_sarif(reports: Sequence[Report]) -> str:
    """SARIF 2.1.0 with every rule declared, so code scanning can open and close alerts.

    Each result carries a ``partialFingerprints`` value built from the code, the target, the
    input and the layer (not the line), so an alert survives edits above it and closes when the
    finding goes away.
    """
    import hashlib

    from . import __version__
    from .records import RULES

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
    seen: dict[str, int] = {}
    for r in reports:
        for f in r.findings:
            key = f"{f.code}|{r.target}|{r.input}|{f.layer or f.up or f.down or f.message}"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:  # two findings with the same identity in one run: keep both distinct
                key += f"|{seen[key]}"
            text = f.message
            if f.fix is not None:
                text += f" Fix: output_padding={fmt_value(f.fix.output_padding)} on {f.fix.layer}."
            result: dict[str, Any] = {
                "ruleId": f.code,
                "ruleIndex": codes.index(f.code),
                "level": _SARIF_LEVEL[f.severity],
                "message": {"text": text},
                "partialFingerprints": {"convshapeFinding/v1": hashlib.sha256(key.encode()).hexdigest()[:32]},
            }
            location: dict[str, Any] = {
                "logicalLocations": [{"fullyQualifiedName": f"{r.target}::{f.layer or f.up or ''}", "kind": "member"}]
            }
            where = _finding_location(r, f)
            if where is not None:
                location["physicalLocation"] = {
                    "artifactLocation": {"uri": _sarif_uri(where.file)},
                    "region": {"startLine": where.line},
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
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2)



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
    return json.dumps({"models": list(models)}, indent=2)


def render_summary(models: Sequence[dict[str, Any]]) -> list[str]:
    """The pytest terminal summary: totals, counts per code, one line per finding with its
    location. Works on ``Report.to_dict()`` entries (what pytest-xdist workers ship)."""
    from .records import RULES

    findings = [(m, f) for m in models for f in m.get("findings", [])]
    failed = sum(1 for m in models if not m.get("ok", True))
    per_severity = {s: sum(1 for _, f in findings if f["severity"] == s) for s in (ERROR, WARNING, INFO)}
    totals = ", ".join(f"{n} {s}{'' if n == 1 else 's'}" for s, n in per_severity.items())
    checks = f"{len(models)} model check{'' if len(models) == 1 else 's'}"
    lines = [f"{checks}, {failed} with errors: {totals}"]
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
