"""Rule selectors: what ``--select``/``--ignore``, ``select``/``ignore`` in pyproject.toml,
``check(select=...)`` and ``# convshape: ignore[...]`` accept, parsed in one place.

A selector is a code (``CS101``), a prefix of codes (``CS1``, ``CS``), a rule name
(``shape-not-restored``) or ``ALL``. Lists may be comma-separated strings. An unknown selector
is a ``ValueError`` that names where it was written and, when one is
close, the selector that was probably meant. Pure: no torch.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from .rules import NAMES, RULES

HINT = "give codes (CS101), prefixes (CS1) or rule names (shape-not-restored); `convshape --list-rules` lists them"


def known(selector: str) -> bool:
    """True when ``selector`` is a code, a prefix of codes, a rule name or ``ALL``."""
    return resolve_or_none(selector) is not None


def resolve_or_none(selector: str) -> str | None:
    """The code or code prefix ``selector`` stands for (``None`` when it names no rule)."""
    if not isinstance(selector, str):
        return None
    text = selector.strip()
    if text == "ALL":
        return "CS"
    if text in NAMES:
        return NAMES[text]
    if text.startswith("CS") and any(code.startswith(text) for code in RULES):
        return text
    return None


def suggestion(selector: str) -> str | None:
    """The selector ``selector`` was probably meant to be (a code or a rule name)."""
    text = str(selector).strip()
    if text.upper() != text and resolve_or_none(text.upper()):
        return text.upper()
    names = difflib.get_close_matches(text.lower(), list(NAMES), n=1, cutoff=0.7)
    if names:
        return names[0]
    codes = difflib.get_close_matches(text.upper(), list(RULES), n=1, cutoff=0.6)
    return codes[0] if codes else None


def unknown_reason(selector: Any) -> str:
    """Why ``selector`` is refused, with a did-you-mean when one is close."""
    close = suggestion(selector) if isinstance(selector, str) else None
    hint = f"; did you mean {close!r}?" if close else ""
    return f"unknown rule {selector!r}{hint} ({HINT})"


def unknown_message(selector: Any, where: str) -> str:
    return f"{where}: {unknown_reason(selector)}"


def resolve(selector: Any, where: str) -> str:
    """The code or prefix for ``selector``; a ValueError naming ``where`` otherwise."""
    found = resolve_or_none(selector)
    if found is None:
        raise ValueError(unknown_message(selector, where))
    return found


def split(value: Any) -> list[Any]:
    """``"CS1, CS201"`` or ``["CS1", "CS201,CS3"]`` -> ``["CS1", "CS201", "CS3"]`` (other items kept)."""
    if value is None:
        return []
    items: Iterable[Any] = (value,) if isinstance(value, str) else value
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            out.extend(part.strip() for part in item.split(",") if part.strip())
        else:
            out.append(item)
    return out


def parse(value: Any, where: str) -> tuple[str, ...]:
    """Selectors from a string, a comma list or a list of them, each resolved to a code or
    prefix. ``TypeError`` for a value that is not text, ``ValueError`` for an unknown one."""
    if value is None:
        return ()
    if not isinstance(value, (str, list, tuple, set, frozenset)):
        raise TypeError(
            f"{where}: expected codes, prefixes or rule names such as ['CS1', 'shape-not-restored'], "
            f"got {type(value).__name__} {value!r}"
        )
    return tuple(resolve(item, where) for item in split(value))


def matches(code: str, selectors: Iterable[str]) -> bool:
    """True when ``code`` equals or starts with one of the resolved ``selectors``."""
    return any(code.startswith(s) for s in selectors)
