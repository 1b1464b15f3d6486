"""A self-contained HTML report (``convshape --html PATH``, ``pytest --convshape-html=PATH``):
one section per model with its U diagram as inline SVG, its findings, and for swept models a
strip plot of the valid sizes per dim. No script, no external file, no graphics library.

Works on the JSON entries (``Report.to_dict()``, with ``levels``), which is what pytest-xdist
workers ship. Pure (no torch)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from .diagram import Level

_BOX_W, _BOX_H, _STEP, _ROW = 270, 38, 34, 56
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
section { border-top: 1px solid #ccc; padding-top: 1em; margin-top: 1.5em; }
.ok { color: #176b26; } .failed { color: #b00020; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
code { background: #f4f4f4; padding: 0 3px; }
"""


def _box(x: float, y: float, title: str, sizes: str, bad: bool) -> str:
    stroke = "#c00" if bad else "#555"
    fill = "#fdd" if bad else "#f4f7fb"
    return (
        f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="5" fill="{fill}" stroke="{stroke}"/>'
        f'<text x="{x + 8}" y="{y + 15}" font-size="12" font-weight="bold">{escape(title)}</text>'
        f'<text x="{x + 8}" y="{y + 31}" font-size="12">{escape(sizes)}</text>'
    )


def diagram_svg(rows: Sequence[Level]) -> str:
    """The U: encoder boxes stepping right and down on the left, decoder boxes stepping left
    and down on the right, a dashed link per level labelled with its kind; bad levels in red."""
    if not rows:
        return ""
    deepest = max(r.depth for r in rows)
    width = 2 * _BOX_W + 2 * _STEP * deepest + 220
    height = 40 + _ROW * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="U diagram">',
             '<text x="10" y="16" font-size="13">encoder</text>',
             f'<text x="{width - 70}" y="16" font-size="13">decoder</text>']
    for i, r in enumerate(rows):
        y = 28 + i * _ROW
        left_x = 10 + r.depth * _STEP
        right_x = width - 10 - _BOX_W - r.depth * _STEP
        if r.down is not None:
            parts.append(_box(left_x, y, f"{r.down.name} · {r.down.kind}", f"{r.down.took} → {r.down.gives}", False))
        if r.up is not None:
            note = f"   {r.actual} ≠ {r.expected} ({r.code})" if r.bad and r.actual else ""
            parts.append(_box(right_x, y, f"{r.up.name} · {r.up.kind}", f"{r.up.took} → {r.up.gives}{note}", r.bad))
        if r.down is not None and r.up is not None:
            x1, x2, ym = left_x + _BOX_W, right_x, y + _BOX_H / 2
            color = "#c00" if r.bad else "#888"
            parts.append(f'<line x1="{x1}" y1="{ym}" x2="{x2}" y2="{ym}" stroke="{color}" stroke-dasharray="5,4"/>')
            parts.append(f'<text x="{(x1 + x2) / 2}" y="{ym - 4}" font-size="11" text-anchor="middle" fill="{color}">{escape(r.link)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def strip_svg(label: str, first: int, last: int, valid: Sequence[int]) -> str:
    """One row of cells over ``first..last``: a valid size green, another grey (binned to at
    most 600 cells, a bin's shade the share of valid sizes in it)."""
    n = last - first + 1
    cells = min(n, 600)
    good = set(valid)
    width = 600
    cell_w = width / cells
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 120}" height="34" role="img" aria-label="valid {escape(label)}">']
    for c in range(cells):
        lo = first + (c * n) // cells
        hi = first + ((c + 1) * n) // cells
        share = sum(1 for s in range(lo, hi) if s in good) / max(1, hi - lo)
        color = "#2e9e44" if share == 1 else "#d0d0d0" if share == 0 else "#9fd3a9"
        parts.append(f'<rect x="{60 + c * cell_w:.2f}" y="4" width="{max(cell_w, 0.5):.2f}" height="16" fill="{color}"/>')
    parts.append(f'<text x="0" y="17" font-size="12">{escape(label)}</text>')
    parts.append(f'<text x="60" y="32" font-size="10">{first}</text><text x="{60 + width}" y="32" font-size="10" text-anchor="end">{last}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _findings(entry: dict[str, Any]) -> str:
    rows = []
    for f in entry.get("findings", []):
        fix = f.get("fix") or {}
        fix_text = f"output_padding={fix['output_padding']}" if fix.get("output_padding") else ""
        rows.append(
            f"<tr><td>{escape(f['code'])}</td><td>{escape(f['severity'])}</td><td><code>{escape(f.get('location') or '')}</code></td>"
            f"<td>{escape(f['message'])}</td><td>{escape(fix_text)}</td></tr>"
        )
    if not rows:
        return "<p>No findings.</p>"
    return "<table><tr><th>code</th><th>severity</th><th>where</th><th>finding</th><th>fix</th></tr>" + "".join(rows) + "</table>"


def _sizes(entry: dict[str, Any]) -> str:
    out = []
    for sweep in entry.get("sizes", {}).values():
        rng = sweep.get("range") or []
        if len(rng) == 2:
            out.append(f"<p>{escape(sweep.get('rule', ''))}</p>" + strip_svg(sweep.get("label", ""), rng[0], rng[1], sweep.get("valid", [])))
    return "<h3>Valid input sizes</h3>" + "".join(out) if out else ""


def section(entry: dict[str, Any]) -> str:
    ok = entry.get("ok", True)
    title = f"{entry.get('target', '?')} [{entry.get('input', '')}]"
    head = f'<h2>{escape(title)} <span class="{"ok" if ok else "failed"}">{"ok" if ok else "FAILED"}</span></h2>'
    if entry.get("test"):
        head += f"<p>checked by <code>{escape(entry['test'])}</code></p>"
    if entry.get("error"):
        return f"<section>{head}<p>{escape(entry['error'])}</p></section>"
    rows = [Level.from_dict(d) for d in entry.get("levels", [])]
    return f"<section>{head}{diagram_svg(rows)}{_findings(entry)}{_sizes(entry)}</section>"


def render_html(entries: Sequence[dict[str, Any]], title: str = "convshape report") -> str:
    failed = sum(1 for e in entries if not e.get("ok", True))
    summary = f"{len(entries)} model check{'s' if len(entries) != 1 else ''}, {failed} failed"
    body = "".join(section(e) for e in entries)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1><p>{escape(summary)}</p>{body}</body></html>\n"
    )
