"""Rule selectors, the one settings merge and its application to a report (no model needed),
and the input specs of the CLI and pyproject.toml (pure parsing)."""

from __future__ import annotations

import pytest

from pytest_convshape import codes
from pytest_convshape.inputspec import InputSpec, InputSpecError, check_cli_set, describe, parse_cli
from pytest_convshape.policy import Policy, apply, merge
from pytest_convshape.records import Finding, Pair
from pytest_convshape.report import Report

# --------------------------------------------------------------------------- selectors


@pytest.mark.parametrize(
    "given, resolved",
    [("CS101", "CS101"), ("CS1", "CS1"), ("shape-not-restored", "CS101"), ("unused-suppression", "CS910"), ("ALL", "CS"), (" CS3 ", "CS3")],
)
def test_selectors_resolve(given, resolved):
    assert codes.resolve(given, "x") == resolved


@pytest.mark.parametrize(
    "given, message",
    [
        ("cs101", "x: unknown rule 'cs101'; did you mean 'CS101'?"),
        ("CS1O1", "x: unknown rule 'CS1O1'; did you mean 'CS101'?"),
        ("shape-not-restord", "x: unknown rule 'shape-not-restord'; did you mean 'shape-not-restored'?"),
        ("E501", "x: unknown rule 'E501' ("),
    ],
)
def test_unknown_selectors_say_what_was_meant(given, message):
    with pytest.raises(ValueError) as info:
        codes.resolve(given, "x")
    assert str(info.value).startswith(message)


def test_comma_lists_accumulate():
    assert codes.parse(["CS1,CS201", "shape-not-restored"], "--select") == ("CS1", "CS201", "CS101")
    assert codes.parse("CS1, CS3", "select") == ("CS1", "CS3")
    with pytest.raises(TypeError, match="select: expected codes"):
        codes.parse(101, "select")


# --------------------------------------------------------------------------- merge


def test_merge_select_replaces_the_rest_add():
    base = Policy(select=("CS1",), extend_select=("CS905",), ignore=("CS901",), per_module_ignores=(("a.*", ("CS3",)),))
    merged = merge(base, select="CS2", ignore=["CS910"], extend_select="CS904", per_module_ignores={"b.*": ["CS1"]}, fail_on="warning")
    assert merged == Policy(
        select=("CS2",),
        extend_select=("CS905", "CS904"),
        ignore=("CS901", "CS910"),
        per_module_ignores=(("a.*", ("CS3",)), ("b.*", ("CS1",))),
        fail_on="warning",
    )
    assert merge(base) == base


def test_merge_names_the_flag():
    with pytest.raises(ValueError, match=r"^--extend-select: unknown rule 'CS7'"):
        merge(None, extend_select=["CS7"], where="--")
    with pytest.raises(ValueError, match=r"^--fail-on: expected one of 'error', 'warning', got 'info'"):
        merge(None, fail_on="info", where="--")
    with pytest.raises(ValueError, match=r"^per_module_ignores: bad glob 'a/b'"):
        merge(None, per_module_ignores={"a/b": ["CS1"]})


def test_selected():
    p = Policy(select=("CS1",), extend_select=("CS905",), ignore=("CS102",))
    assert [c for c in ("CS101", "CS102", "CS301", "CS905") if p.selected(c)] == ["CS101", "CS905"]
    assert Policy().selected("CS910")


# --------------------------------------------------------------------------- apply


def _report(*findings: Finding) -> Report:
    return Report(target="t:M", input="1x1x8x8", findings=findings, pairs=(Pair("d", "u", "mirror"),))


ERR = Finding(code="CS101", message="bad", up="u", down="d", layer="u")
WARN = Finding(code="CS301", message="hidden", up="u", down="d", layer="u")


def test_ignored_findings_are_kept_as_ignored_and_never_ok_in_the_table():
    r = apply(_report(ERR), Policy(ignore=("CS101",)))
    assert r.ok and r.findings == ()
    assert [(s.finding.code, s.how, s.by) for s in r.silenced] == [("CS101", "ignored", "ignore CS101")]
    assert r.to_dict()["ignored"] == [{"code": "CS101", "layer": "u", "by": "ignore CS101"}]
    assert str(r).splitlines()[-1] == "ok: 0 errors, 0 warnings, 0 infos (1 ignored)"
    r = apply(_report(ERR), Policy(select=("CS3",)))
    assert r.silenced[0].by == "select CS3"


def test_fail_on_warning():
    r = apply(_report(WARN), Policy(fail_on="warning"))
    assert not r.ok and r.failures == (WARN,)
    assert r.to_dict()["ok"] is False and r.to_dict()["fail_on"] == "warning"
    assert str(r).splitlines()[-1] == "FAILED: 0 errors, 1 warning, 0 infos (fail-on warning)"
    assert apply(_report(WARN), Policy()).ok


def test_per_module_ignores_are_suppressions():
    r = apply(_report(ERR), Policy(per_module_ignores=(("u", ("CS1",)),)))
    assert [(s.how, s.by) for s in r.silenced] == [("suppressed", "per-module-ignores u")]


# --------------------------------------------------------------------------- input specs


@pytest.mark.parametrize(
    "text, spec",
    [
        ("1,3,64,64", InputSpec(None, (1, 3, 64, 64))),
        ("1x3x64x64", InputSpec(None, (1, 3, 64, 64))),
        ("x=1,3,64,64", InputSpec("x", (1, 3, 64, 64))),
        ("timestep=1:int64", InputSpec("timestep", (1,), "int64")),
        ("t=scalar:int64", InputSpec("t", (), "int64")),
        ("1", InputSpec(None, (1,))),
        ("scale=2.0", InputSpec("scale", None, value=2.0)),
        ("flag=true", InputSpec("flag", None, value=True)),
        ("mask=1,1,64,64:bool", InputSpec("mask", (1, 1, 64, 64), "bool")),
    ],
)
def test_cli_input_specs(text, spec):
    assert parse_cli(text) == spec


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,a,3", "--input '1,a,3': expected [NAME=]SHAPE[:DTYPE]"),
        ("t=1:int65", "--input 't=1:int65': unknown dtype 'int65'; did you mean 'int64'?"),
        ("1x=3", "--input '1x=3': '1x' is not an input name"),
        ("x=", "--input 'x=': expected"),
        ("0,3", "--input '0,3': expected"),
    ],
)
def test_bad_cli_input_specs(text, message):
    with pytest.raises(InputSpecError) as info:
        parse_cli(text)
    assert str(info.value).startswith(message)


def test_input_sets():
    specs = [parse_cli("1,3,8,8"), parse_cli("t=1:int64"), parse_cli("scale=0.5")]
    assert describe(check_cli_set(specs)) == "1x3x8x8,t=1:int64,scale=0.5"
    with pytest.raises(InputSpecError, match="a positional input after a named one"):
        check_cli_set([parse_cli("t=1"), parse_cli("1,3")])
    with pytest.raises(InputSpecError, match="input 't' is given twice"):
        check_cli_set([parse_cli("t=1"), parse_cli("t=2")])


# --------------------------------------------------------------------------- size rules


def test_modular_form_where_the_sweep_lists_sizes():
    from pytest_convshape.sizes_text import modular_range, readable_rule
    from pytest_convshape.sweep import describe_sizes

    dom = list(range(8, 10_000))
    valid = [n for n in dom if n % 40 < 8]
    listed = describe_sizes(valid, dom, "L")
    assert listed.startswith("L in {")
    assert readable_rule(listed, valid, dom, "L") == "L % 40 in 0..7"
    inner = [n for n in dom if n % 40 in (3, 4, 5, 6, 7) and 100 <= n <= 9000]
    assert modular_range(inner, dom, "L") == "L % 40 in 3..7 and L >= 123 and L <= 8967"
    assert readable_rule("H % 4 == 1", [n for n in dom if n % 4 == 1], dom, "H") == "H % 4 == 1"
    assert modular_range([8, 9, 30, 500], dom, "L") is None
