"""The U diagram: one row per level, the encoder's downsampling layer on the left, the decoder's
upsampling layer that should invert it on the right, the link between them (a skip, mirror order,
or named in ``pairs``) and a mark on the level that does not round-trip.

Pure (no torch). ``levels(report)`` gives plain records (also as dicts, for the pytest run's
HTML page, which gets reports as JSON from pytest-xdist workers); ``render_text`` draws them for
a terminal, in Unicode or plain ASCII, within a given width.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .pairing import DOWN, UP, Graph
from .records import ERROR, SEVERITY_RANK, Finding, LayerEvent, fmt_shape


@dataclass(frozen=True)
class Side:
    """One layer of a level: its name, kind and spatial sizes in and out."""

    name: str
    kind: str
    took: str
    gives: str

    def text(self, arrow: str, kind: bool = True) -> str:
        what = f"{self.name} {self.kind}" if kind else self.name
        return f"{what} {self.took}{arrow}{self.gives}"


@dataclass(frozen=True)
class Level:
    depth: int
    """0 for the outermost level (next to the input), growing towards the bottleneck."""
    down: Side | None
    up: Side | None
    link: str
    """``skip``, ``mirror``, ``explicit``, or ``none`` (a layer without partner)."""
    severity: str = ""
    """The worst finding on this level's up layer: ``error``, ``warning``, ``info`` or empty."""
    code: str = ""
    expected: str = ""
    actual: str = ""

    @property
    def bad(self) -> bool:
        return self.severity in (ERROR, "warning")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Level:
        sides = {k: Side(**d[k]) if d.get(k) else None for k in ("down", "up")}
        return cls(**{**d, **sides})


def _side(e: LayerEvent | None) -> Side | None:
    if e is None:
        return None
    kind = e.kind.removeprefix("F.")
    return Side(e.name, kind, fmt_shape(e.in_spatial), fmt_shape(e.out_spatial))


def _worst(findings: Sequence[Finding], up: str) -> Finding | None:
    own = [f for f in findings if up in (f.up, f.layer)]
    return min(own, key=lambda f: SEVERITY_RANK[f.severity], default=None)


def levels(report: Any) -> list[Level]:
    """The levels of ``report`` (a ``Report``): paired levels by their down's order, then the
    downs left without a partner and the ups without one."""
    graph = Graph(report.events)
    by_name = graph.by_name
    rows: list[tuple[int, Level]] = []
    paired_downs: set[str] = set()
    for p in report.pairs:
        down = by_name.get(p.down) if p.down else None
        up = by_name.get(p.up)
        if down is not None:
            paired_downs.add(down.name)
        f = _worst(report.findings, p.up)
        order = down.index if down is not None else 10**6 + (up.index if up else 0)
        level = Level(
            0, _side(down), _side(up), p.evidence if down is not None else "none",
            f.severity if f else "", f.code if f else "",
            fmt_shape(f.level[0] if f and f.level else f.expected) if f and f.expected else "",
            fmt_shape(f.level[1] if f and f.level else f.actual) if f and f.actual else "",
        )
        rows.append((order, level))
    for e in graph.events:
        if graph.role(e) == DOWN and e.name not in paired_downs and e.ndim:
            rows.append((e.index, Level(0, _side(e), None, "none")))
    if not any(graph.role(e) == UP for e in graph.events) and not rows:
        return []
    rows.sort(key=lambda r: r[0])
    depth, out, last_down = -1, [], None
    for _, level in rows:
        if level.down is not None and level.down.name != last_down:
            depth += 1  # ups without a partner stay on the innermost row's depth
        last_down = level.down.name if level.down else last_down
        out.append(Level(max(depth, 0), level.down, level.up, level.link, level.severity, level.code, level.expected, level.actual))
    return out


# --------------------------------------------------------------------------- text

_UNICODE = {"arrow": " → ", "line": "─", "ne": "≠", "bad": "✗", "ok": "✓", "warn": "!", "corner_l": "└", "corner_r": "┘",
            "none": "·", "cut": "…"}
_ASCII = {"arrow": " -> ", "line": "-", "ne": "!=", "bad": "x", "ok": "ok", "warn": "!", "corner_l": "`", "corner_r": "'",
          "none": ".", "cut": "~"}


def _mark(level: Level, sym: dict[str, str]) -> str:
    if level.up is None:
        return "(no upsampling partner)"
    if level.down is None:
        return "(no downsampling partner)"
    if not level.severity or level.severity == "info":
        return sym["ok"]
    sign = sym["bad"] if level.severity == ERROR else sym["warn"]
    sizes = f" {level.actual} {sym['ne']} {level.expected}" if level.actual and level.expected else ""
    return f"{sign}{sizes} ({level.code})"


def _shorten(name: str, room: int, cut: str) -> str:
    """``name`` in at most ``room`` characters, keeping what tells layers apart: the indices and
    the last part stay, the longest words are cut first (``down_blocks.2.downsamplers.0.conv``
    -> ``down_blocks.2.downsa….0.conv``), then the end of what is left."""
    if len(name) <= room or room < 5:
        return name
    parts = re.split(r"([.:#])", name)
    words = [i for i in range(0, len(parts) - 1, 2) if not parts[i].isdigit()]  # not the last part
    for keep in (6, 4, 3, 2, 1):
        cut_parts = [p[:keep] + cut if i in words and len(p) > keep + 1 else p for i, p in enumerate(parts)]
        text = "".join(cut_parts)
        if len(text) <= room:
            # cut only as many words as needed, longest first
            order = sorted(words, key=lambda i: -len(parts[i]))
            best = list(parts)
            for i in order:
                if len("".join(best)) <= room:
                    break
                best[i] = cut_parts[i]
            return "".join(best)
    return "".join(cut_parts)[: room - 1] + cut  # the start holds the outer indices: keep it


def render_text(rows: Sequence[Level], width: int = 100, ascii_only: bool = False) -> list[str]:
    """The U as lines of at most ``width`` characters where the names allow it: each level
    one step further in on both sides, the link's kind on the line between them."""
    if not rows:
        return []
    sym = _ASCII if ascii_only else _UNICODE
    tries = [(True, 99, 10), (False, 99, 10), *((False, room, 6) for room in (99, 40, 32, 26, 20, 16)), (False, 10, 4)]
    for kinds, room, pad in tries:
        lines = _draw(rows, sym, kinds, room, pad)
        if max(len(ln) for ln in lines) <= width:
            return lines
    return lines


def _draw(rows: Sequence[Level], sym: dict[str, str], kinds: bool, room: int, pad: int) -> list[str]:
    arrow = sym["arrow"] if kinds else sym["arrow"].strip()

    def cell(side: Side | None) -> str:
        if side is None:
            return sym["none"]
        short = Side(_shorten(side.name, room, sym["cut"]), side.kind, side.took, side.gives)
        return short.text(arrow, kinds)

    lefts = [cell(r.down) for r in rows]
    rights = [cell(r.up) for r in rows]
    deepest = max(r.depth for r in rows)
    left_w = max(len(s) for s in lefts)
    label_w = max(len(r.link) for r in rows) + pad
    inner = left_w + label_w + 4 * deepest
    lines = ["encoder".ljust(inner) + "decoder"]
    for r, left, right in zip(rows, lefts, rights):
        indent = 2 * r.depth
        gap = inner - 4 * r.depth - left_w
        label = f" {r.link} "
        fill = max(gap - len(label) - 2, 2)
        link = " " + sym["line"] * (fill // 2) + label + sym["line"] * (fill - fill // 2) + " "
        lines.append(" " * indent + left.ljust(left_w) + link + right + "  " + _mark(r, sym))
    paired = [r for r in rows if r.down is not None]
    core = paired[-1].down.gives if paired and paired[-1].down else ""
    if core:
        indent = 2 * deepest + 2
        span = max(inner - 4 * deepest - 4, len(core) + 16)
        text = f" bottleneck {core} "
        fill = span - len(text)
        lines.append(" " * indent + sym["corner_l"] + sym["line"] * (fill // 2) + text + sym["line"] * (fill - fill // 2) + sym["corner_r"])
    return [ln.rstrip() for ln in lines]


# --------------------------------------------------------------------------- mermaid


def _node_text(side: Side) -> str:
    return f"{side.name} · {side.kind}<br/>{side.took} → {side.gives}".replace('"', "'")


def render_mermaid(rows: Sequence[Level]) -> str:
    """A Mermaid flowchart of the U: the encoder top to bottom, the decoder bottom to top, a
    dotted link per level, the bad levels' up layers styled."""
    lines = ["flowchart TB"]
    downs = [(i, r) for i, r in enumerate(rows) if r.down is not None]
    ups = [(i, r) for i, r in sorted(enumerate(rows), key=lambda ir: -ir[1].depth) if r.up is not None]
    lines.append("  subgraph encoder")
    lines += [f'    d{i}["{_node_text(r.down)}"]' for i, r in downs if r.down]
    lines.append("  end")
    lines.append("  subgraph decoder")
    lines += [f'    u{i}["{_node_text(r.up)}"]' for i, r in ups if r.up]
    lines.append("  end")
    chain = [f"d{i}" for i, _ in downs] + [f"u{i}" for i, _ in ups]
    if len(chain) > 1:
        lines.append("  " + " --> ".join(chain))
    for i, r in enumerate(rows):
        if r.down is not None and r.up is not None:
            label = r.link + (f": {r.actual} ≠ {r.expected} ({r.code})" if r.bad and r.actual else "")
            lines.append(f'  d{i} -. "{label}" .- u{i}')
    bad = [f"u{i}" for i, r in enumerate(rows) if r.bad and r.up is not None]
    if bad:
        lines.append("  classDef bad fill:#fdd,stroke:#c00,stroke-width:2px")
        lines.append(f"  class {','.join(bad)} bad")
    return "\n".join(lines)
