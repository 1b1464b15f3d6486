"""``--format markdown``: one section per model with the U diagram as Mermaid (GitHub renders
it in job summaries, pull-request comments and issues), the findings and the valid sizes.
Pure (no torch)."""

from __future__ import annotations

from collections.abc import Sequence

from .diagram import levels, render_mermaid
from .records import Finding, fmt_value
from .report import Report, counts, render_sizes, run_verdict


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _finding_row(f: Finding) -> str:
    where = f"`{f.location}`" if f.location else ""
    fix = f"`output_padding={fmt_value(f.fix.output_padding)}` on `{f.fix.layer}`" if f.fix else ""
    return f"| {f.code} | {f.severity} | {where} | {_escape(f.message)} | {fix} |"


def render_model(report: Report) -> list[str]:
    status = "ok" if report.ok else "FAILED"
    lines = [f"### `{report.target}` [{report.input}]: {status}", "", counts(report.findings), ""]
    rows = levels(report)
    if rows:
        lines += ["```mermaid", render_mermaid(rows), "```", ""]
    if report.findings:
        lines += ["| code | severity | where | finding | fix |", "|---|---|---|---|---|"]
        lines += [_finding_row(f) for f in report.findings]
        lines.append("")
    for unran in report.never_ran:
        lines += [f"- not checked: {_escape(unran.describe())}", ""]
    for sweep in report.sizes:
        lines += ["```text", *render_sizes(sweep), "```", ""]
    return lines


def render_markdown(reports: Sequence[Report]) -> str:
    lines = ["## convshape", ""]
    for r in reports:
        lines += render_model(r)
    lines.append(f"**{run_verdict(reports)}**" if len(reports) != 1 else "")
    return "\n".join(lines).rstrip() + "\n"
