"""Everything printed about a rule, from its one record in ``rules.RULES``.

* ``rule_page_text``: ``convshape rule CS101`` (plain text for a terminal);
* ``rule_page_markdown``: ``docs/rules/CS101.md``;
* ``rules_table_markdown``: the rule table in README.md and docs/rules/README.md;
* ``rules_table_text``: ``convshape --list-rules``;
* ``sarif_rule``: the SARIF ``reportingDescriptor`` (``fullDescription`` and ``help`` too).

``python -m pytest_convshape.rule_docs --write`` regenerates the files; ``tests/test_docs.py``
fails when they differ from what this module prints. Pure: no torch.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .rules import RULES, Rule

SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
README_START, README_END = "<!-- rules:start -->", "<!-- rules:end -->"


def _plain(text: str) -> str:
    """Markdown inline code marks removed, for a terminal."""
    return text.replace("`", "")


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(_plain(text), width=96, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False) or [indent]


def rule_page_text(rule: Rule) -> str:
    lines = [f"{rule.code} {rule.name} ({rule.severity})", ""]
    lines += _wrap(rule.summary, "")
    for title, body in (("What it does", rule.what), ("Why it matters", rule.why)):
        lines += ["", f"{title}:"] + _wrap(body)
    lines += ["", "Example:"] + ["    " + line if line else "" for line in rule.example.rstrip("\n").splitlines()]
    lines += ["", "Fix:"] + _wrap(rule.fix)
    lines += ["", f"Silence it: # convshape: ignore[{rule.code}] on the layer's line, or ignore = [\"{rule.code}\"] in [tool.convshape]."]
    return "\n".join(lines)


def rule_page_markdown(rule: Rule) -> str:
    return "\n".join(
        [
            f"# {rule.code} `{rule.name}`",
            "",
            f"Severity: **{rule.severity}**. {rule.summary}",
            "",
            "## What it does",
            "",
            rule.what,
            "",
            "## Why it matters",
            "",
            rule.why,
            "",
            "## Example",
            "",
            "```python",
            rule.example.rstrip("\n"),
            "```",
            "",
            "## Fix",
            "",
            rule.fix,
            "",
            "## Silence it",
            "",
            f"`# convshape: ignore[{rule.code}]` (or `ignore[{rule.name}]`) on the line that constructs the layer, "
            f'or `ignore = ["{rule.code}"]` in `[tool.convshape]`, or `--ignore {rule.code}`.',
            "",
            "This page is generated from the rule's record in `pytest_convshape/rules.py`; "
            "`convshape rule " + rule.code + "` prints the same.",
            "",
        ]
    )


def rules_table_markdown(link_prefix: str = "docs/rules/") -> str:
    rows = ["| code | severity | name | what it finds |", "|---|---|---|---|"]
    for rule in RULES.values():
        rows.append(f"| [{rule.code}]({link_prefix}{rule.code}.md) | {rule.severity} | `{rule.name}` | {rule.summary.replace('|', chr(92) + '|')} |")
    return "\n".join(rows)


def rules_table_text() -> str:
    width = max(len(r.name) for r in RULES.values())
    lines = [f"{'code':<6} {'severity':<8} {'name':<{width}}  summary"]
    for rule in RULES.values():
        lines.append(f"{rule.code:<6} {rule.severity:<8} {rule.name:<{width}}  {_plain(rule.summary)}")
    lines.append("")
    lines.append("convshape rule CODE prints a rule's page.")
    return "\n".join(lines)


def sarif_rule(rule: Rule) -> dict[str, Any]:
    help_text = f"{_plain(rule.fix)}\n\nExample:\n{rule.example}"
    help_markdown = (
        f"{rule.fix}\n\n**Why it matters.** {rule.why}\n\n**Example**\n\n```python\n{rule.example.rstrip()}\n```"
    )
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _plain(rule.summary)},
        "fullDescription": {"text": _plain(rule.description)},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {"tags": [rule.severity]},
    }


# --------------------------------------------------------------------------- files


def expected_files(root: Path) -> dict[Path, str]:
    """Every generated file under ``root`` (the checkout) and its content."""
    files = {root / "docs" / "rules" / f"{rule.code}.md": rule_page_markdown(rule) for rule in RULES.values()}
    files[root / "docs" / "rules" / "README.md"] = (
        "# Rules\n\nEvery finding has a stable code. Select or ignore them by code (`CS101`), prefix "
        "(`CS1`) or name (`shape-not-restored`).\n\n" + rules_table_markdown("") + "\n\n"
        "Generated from `pytest_convshape/rules.py` (`python -m pytest_convshape.rule_docs --write`).\n"
    )
    return files


def readme_block(text: str) -> str:
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"no {README_START} ... {README_END} block")
    return text[start + len(README_START) : end].strip("\n")


def with_readme_block(text: str, block: str) -> str:
    readme_block(text)
    start, end = text.find(README_START), text.find(README_END)
    return text[: start + len(README_START)] + "\n" + block + "\n" + text[end:]


def stale(root: Path) -> list[str]:
    """The generated files (and README's rule table) that differ from the registry."""
    out = [str(p.relative_to(root)) for p, text in expected_files(root).items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    readme = root / "README.md"
    if readme_block(readme.read_text(encoding="utf-8")) != rules_table_markdown():
        out.append("README.md (rule table)")
    known = {p.name for p in expected_files(root)}
    folder = root / "docs" / "rules"
    out += [str(p.relative_to(root)) + " (no such rule)" for p in sorted(folder.glob("CS*.md")) if p.name not in known]
    return out


def write(root: Path) -> list[str]:
    written = []
    for path, text in expected_files(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(str(path.relative_to(root)))
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = with_readme_block(text, rules_table_markdown())
    if new != text:
        readme.write_text(new, encoding="utf-8")
        written.append("README.md")
    known = {p.name for p in expected_files(root)}
    for extra in (root / "docs" / "rules").glob("CS*.md"):
        if extra.name not in known:
            extra.unlink()
            written.append(f"{extra.relative_to(root)} (removed)")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pytest_convshape.rule_docs", description="Rule pages and tables from the registry.")
    parser.add_argument("--write", action="store_true", help="regenerate docs/rules/*.md and README's rule table")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="the checkout (default: this one)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if args.write:
        for name in write(root) or ["nothing to change"]:
            print(name)
        return 0
    problems = stale(root)
    for name in problems:
        print(f"stale: {name}")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

