"""Which findings a run reports and which fail it: the one place where settings are merged and
applied, whatever the face (``check()``, the fixture, the pytest items, the CLI).

Sources, merged by :func:`merge` in this order (later ones win or add):

1. ``[tool.convshape]`` in pyproject.toml (``select``, ``extend-select``, ``ignore``,
   ``per-module-ignores``, ``fail-on``), then the model entry's own ``ignore`` and
   ``per-module-ignores``;
2. what the caller gives: ``check(select=..., ...)``, the fixture's arguments, the CLI flags.

``select`` replaces the one before it; ``extend-select``, ``ignore`` and ``per-module-ignores``
add to it; ``fail-on`` replaces. A finding is reported when it is selected (``select`` empty
means every rule; ``extend-select`` adds rules) and not ignored, and it is not silenced by a
``per-module-ignores`` glob or an inline ``# convshape: ignore`` comment (:mod:`suppress`).

:func:`apply` turns the raw report of the lint into what every face shows: the findings kept,
the ones ignored or suppressed (shown as such, never as ``ok``), and the verdict ``fail-on``
sets. Pure: no torch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import codes
from .report import Report, Silenced

FAIL_ON = ("error", "warning")
"""The lowest severity that fails a run: ``error`` (the default) or ``warning``."""

Globs = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Policy:
    """Resolved settings of one run (codes and prefixes, never rule names)."""

    select: tuple[str, ...] = ()
    """Empty: every rule."""
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_module_ignores: Globs = ()
    fail_on: str = "error"

    def selected(self, code: str) -> bool:
        chosen = not self.select or codes.matches(code, self.select) or codes.matches(code, self.extend_select)
        return chosen and not codes.matches(code, self.ignore)

    def why_not(self, code: str) -> str:
        """Why ``code`` is not reported (for the ``ignored`` entries)."""
        hit = [s for s in self.ignore if code.startswith(s)]
        if hit:
            return f"ignore {hit[0]}"
        return f"select {', '.join(self.select)}"

    def describe(self) -> str:
        parts = [f"select {', '.join(self.select)}" if self.select else "select all"]
        if self.extend_select:
            parts.append(f"extend-select {', '.join(self.extend_select)}")
        if self.ignore:
            parts.append(f"ignore {', '.join(self.ignore)}")
        if self.per_module_ignores:
            parts.append("per-module-ignores " + "; ".join(f"{g} -> {', '.join(c)}" for g, c in self.per_module_ignores))
        if self.fail_on != "error":
            parts.append(f"fail-on {self.fail_on}")
        return "; ".join(parts)


def globs_of(value: Any, where: str) -> Globs:
    """``{"decoder.*": ["CS301"]}`` or ``[("decoder.*", ["CS301"])]`` with resolved selectors."""
    from .config import glob_problem

    if not value:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    out = []
    try:
        pairs = [(g, c) for g, c in items]
    except (TypeError, ValueError):
        raise TypeError(f"{where}: expected a mapping of glob -> codes such as {{'decoder.*': ['CS301']}}, got {value!r}") from None
    for glob, selectors in pairs:
        problem = glob_problem(glob)
        if problem:
            raise ValueError(f"{where}: bad glob {glob!r}: {problem}")
        out.append((glob, codes.parse(selectors, f"{where}[{glob!r}]")))
    return tuple(out)


def fail_on_of(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in FAIL_ON:
        raise ValueError(f"{where}: expected one of {', '.join(repr(v) for v in FAIL_ON)}, got {value!r}")
    return value


def merge(
    base: Policy | None = None,
    *,
    select: Any = None,
    extend_select: Any = None,
    ignore: Any = None,
    per_module_ignores: Any = None,
    fail_on: str | None = None,
    where: str = "",
) -> Policy:
    """``base`` with the given settings on top (``select`` and ``fail_on`` replace, the rest add).
    ``where`` prefixes the names in error messages (``--`` for CLI flags)."""
    base = base or Policy()

    def name(key: str) -> str:
        return f"{where}{key.replace('_', '-') if where == '--' else key}"

    new_select = codes.parse(select, name("select")) if select not in (None, (), []) else base.select
    return Policy(
        select=new_select,
        extend_select=base.extend_select + codes.parse(extend_select, name("extend_select")),
        ignore=base.ignore + codes.parse(ignore, name("ignore")),
        per_module_ignores=base.per_module_ignores + globs_of(per_module_ignores, name("per_module_ignores")),
        fail_on=fail_on_of(fail_on, name("fail_on")) if fail_on is not None else base.fail_on,
    )


def apply(report: Report, policy: Policy, *, inline: bool = True) -> Report:
    """The report every face shows: unselected findings moved to ``ignored``, per-module and
    inline suppressions applied (with CS910 for comments that silence nothing), and the
    verdict set by ``fail_on``."""
    from . import suppress

    kept = [f for f in report.findings if policy.selected(f.code)]
    ignored = tuple(Silenced(f, "ignored", policy.why_not(f.code)) for f in report.findings if not policy.selected(f.code))
    filtered = dataclasses.replace(report, findings=tuple(kept), silenced=report.silenced + ignored, fail_on=policy.fail_on)
    return suppress.apply(filtered, per_module_ignores=policy.per_module_ignores, keep=policy.selected, inline=inline)


def as_policy(config: Any) -> Policy:
    """What ``check(config=...)`` accepts: a ``Policy``, the ``Settings`` of a pyproject.toml,
    a path to one, or None."""
    if config is None:
        return Policy()
    if isinstance(config, Policy):
        return config
    from .config import Settings, load

    if isinstance(config, Settings):
        return config.policy()
    import os

    if isinstance(config, (str, os.PathLike)):
        if not os.path.isfile(config):
            raise ValueError(f"config: {os.fspath(config)!r}: file not found; give the path of a pyproject.toml")
        return load(config).policy()
    raise TypeError(f"config: expected the path of a pyproject.toml, got {type(config).__name__} {config!r}")
