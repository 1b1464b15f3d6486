"""The messages for bad input stay true: docs/messages.md's tables are what the code prints
today, each of those messages is fit for a user, and README's rule table lists every rule."""

from __future__ import annotations

import re

import bad_inputs
import pytest

from pytest_convshape.records import RULES

API_TYPES = ("ValueError", "TypeError", "InputError")
"""What the API raises for bad input (docs/messages.md)."""


def _messages_page() -> str:
    return bad_inputs.README.read_text(encoding="utf-8")


def _readme() -> str:
    return (bad_inputs.ROOT / "README.md").read_text(encoding="utf-8")


def test_messages_table_is_current():
    block = bad_inputs.readme_block(_messages_page())
    expected = bad_inputs.render_markdown()
    assert block == expected, (
        "docs/messages.md (between <!-- messages:start --> and <!-- messages:end -->) "
        "differs from what the code prints now; run `.venv/bin/python tests/bad_inputs.py --write` "
        "and review the diff"
    )


def _problems(case: bad_inputs.Case) -> list[str]:
    """Why ``case``'s message is not fit for a user ([] when it is)."""
    problems = []
    if not case.failed:
        problems.append("the bad input was accepted")
    text = case.message
    if case.section == "api":
        kind, _, text = text.partition(": ")
        if kind not in API_TYPES:
            problems.append(f"raises {kind}, not one of {', '.join(API_TYPES)}")
    else:
        status, _, text = text.partition(": ")
        if status != "exit 2":
            problems.append(f"{status}, not exit 2 (usage or load error)")
        if not text.startswith("convshape: error: "):
            problems.append("stderr does not start with 'convshape: error: '")
        text = text.removeprefix("convshape: error: ")
    if not text.strip():
        problems.append("empty message")
    if "Traceback" in case.message or "internal error" in case.message:
        problems.append("a raw traceback or an internal error")
    if ("\n" in case.message) != case.multiline:
        problems.append("several lines, not marked as a deliberate multi-line hint" if "\n" in case.message else "marked multi-line, but one line")
    return problems


def _ids(section: str, cases) -> list[str]:
    return [f"{section}-{i}-{re.sub(r'[^a-z0-9]+', '-', case[0].lower()).strip('-')}" for i, case in enumerate(cases)]


_SECTIONS = (
    ("api", bad_inputs.API_CASES),
    ("cli", bad_inputs.CLI_CASES),
    ("pyproject", bad_inputs.PYPROJECT_CASES),
)
_INDEXED = [(section, i) for section, cases in _SECTIONS for i in range(len(cases))]


@pytest.mark.parametrize(("section", "index"), _INDEXED, ids=[i for s, cases in _SECTIONS for i in _ids(s, cases)])
def test_message_is_one_clear_line(section, index):
    case = [c for c in bad_inputs.all_cases() if c.section == section][index]
    assert not _problems(case), f"{case.description}\n  {case.message}\n  problems: {'; '.join(_problems(case))}"


def test_every_rule_code_is_in_the_readme_codes_table():
    rows = {}
    for line in _readme().splitlines():
        m = re.match(r"^\| \[(CS\d+)\]\(docs/rules/CS\d+\.md\) \| (\w+) \| `([\w-]+)` \|", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    missing = [code for code in RULES if code not in rows]
    assert not missing, f"README's codes table has no row for {', '.join(missing)}"
    stale = [code for code in rows if code not in RULES]
    assert not stale, f"README's codes table lists {', '.join(stale)}, which records.RULES does not define"
    wrong = [
        f"{code}: README says {rows[code][0]} {rows[code][1]}, RULES says {rule.severity} {rule.name}"
        for code, rule in RULES.items()
        if rows[code] != (rule.severity, rule.name)
    ]
    assert not wrong, "; ".join(wrong)
