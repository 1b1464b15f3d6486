"""Every zoo model against its expected findings, and every suggested fix against eager torch.

Each file in tests/zoo/ defines ``build()``, ``INPUT``, ``EXPECTED`` (error and warning findings),
``PAIRS`` and optionally ``CONFIG_PAIRS``; tests/zoo/_verify.py checks those expectations
against eager torch on its own, so this test compares the linter with eager ground truth.
"""

from __future__ import annotations

import pytest
from zoo import _verify

from pytest_convshape import check

ZOO = _verify.zoo_names()


def _lint(zoo):
    return check(zoo.build(), input_size=zoo.INPUT, pairs=getattr(zoo, "CONFIG_PAIRS", ()))


def _as_expected(f) -> dict:
    return {
        "code": f.code,
        "up": f.up if f.code != "CS202" else None,
        "down": f.down,
        "expected": list(f.expected) if f.expected is not None else None,
        "actual": list(f.actual) if f.actual is not None else None,
        "output_padding": list(f.fix.output_padding) if f.fix else None,
    }


def _key(d: dict) -> tuple:
    return (d["code"], str(d["up"]), str(d.get("layer")))


@pytest.mark.parametrize("name", ZOO)
def test_zoo_findings_match_expected(name):
    zoo = _verify.load(name)
    report = _lint(zoo)
    got = [_as_expected(f) | {"layer": f.layer if f.code == "CS202" else None} for f in report.findings if f.severity != "info"]
    want = []
    for e in zoo.EXPECTED:
        item = {k: e.get(k) for k in ("code", "up", "down", "expected", "actual", "output_padding")}
        if e["code"] == "CS202":
            item.update(up=None, down=None, expected=None, actual=None, output_padding=None, layer=e["layer"])
        else:
            item["layer"] = None
        if item["output_padding"] is not None:
            item["output_padding"] = list(item["output_padding"])
        want.append(item)
    if any(e["code"] == "CS202" for e in zoo.EXPECTED):
        got = [g if g["code"] != "CS202" else {**g, "down": None, "expected": None, "actual": None, "output_padding": None} for g in got]
    assert sorted(got, key=_key) == sorted(want, key=_key), str(report)
    pairs = {(p.down, p.up, p.evidence) for p in report.pairs}
    for pair in zoo.PAIRS:
        assert tuple(pair) in pairs, f"missing pair {pair}\n{report}"


@pytest.mark.parametrize("name", ZOO)
def test_zoo_clean_models_have_no_errors_and_fixes_round_trip(name):
    zoo = _verify.load(name)
    report = _lint(zoo)
    if not any(e["severity"] == "error" for e in (f.to_dict() for f in report.findings)):
        assert report.ok
        return
    fixes = [
        {"up": f.fix.layer, "output_padding": list(f.fix.output_padding)}
        for f in report.findings
        if f.fix is not None
    ]
    if not fixes:
        pytest.skip("no output_padding fix to apply (CS102/CS103/CS202 only)")
    unfixable = [f for f in report.findings if f.severity == "error" and f.fix is None]
    model = zoo.build()
    if hasattr(zoo, "functional_fix"):
        zoo.functional_fix(model, fixes)
    functional = [f for f in fixes if ":" in f["up"]]
    for f in functional:
        path, fn = _verify.split_functional(f["up"])
        owner = model.get_submodule(path)
        owner.functional_output_padding[fn] = tuple(f["output_padding"])
    _verify.apply_fixes(model, [f for f in fixes if ":" not in f["up"]])
    pairs = [(p.down, p.up) for p in report.pairs if p.down is not None]
    fixed_ups = {f["up"] for f in fixes}
    with _verify.virtual_fixes(model, [
        {"up": f.up, "expected": f.expected} for f in unfixable if f.up and ":" not in f.up
    ]):
        shapes = _verify.pair_shapes(
            model, zoo.INPUT, pairs, probes=getattr(zoo, "PROBES", None),
            example=zoo.example_input() if hasattr(zoo, "example_input") else None,
        )
    for (_down, up), s in shapes.items():
        if up in fixed_ups:
            assert s["round_trip"], f"{up}: fix did not round-trip in eager: {s}"
    # the linter agrees the fixed model is clean for every fixed pair
    after = _lint(type("Z", (), {"build": staticmethod(lambda: model), "INPUT": zoo.INPUT, "CONFIG_PAIRS": getattr(zoo, "CONFIG_PAIRS", ())}))
    assert not any(f.up in fixed_ups and f.severity == "error" for f in after.findings), str(after)
