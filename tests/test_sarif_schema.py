"""The SARIF output checked against the rules of SARIF 2.1.0 (tests/schemas/sarif-2.1.0-subset.json,
written for this project from the specification: every object convshape emits, with only the
properties the specification defines, their types, enumerations and required members)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from zoo import _verify

from pytest_convshape import RULES, check
from pytest_convshape.report import render_sarif

jsonschema = pytest.importorskip("jsonschema")

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0-subset.json").read_text())


def _validator():
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    return cls(SCHEMA, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def zoo_run():
    reports = []
    for name in _verify.zoo_names():
        zoo = _verify.load(name)
        reports.append(check(zoo.build(), input_size=zoo.INPUT, pairs=getattr(zoo, "CONFIG_PAIRS", ()), target=f"zoo/{name}"))
    return json.loads(render_sarif(reports)), reports


@pytest.fixture()
def zoo_sarif(zoo_run):
    return zoo_run[0]


def test_the_whole_zoo_validates(zoo_sarif):
    errors = sorted(_validator().iter_errors(zoo_sarif), key=lambda e: list(e.absolute_path))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []
    results = zoo_sarif["runs"][0]["results"]
    assert {r["level"] for r in results} == {"error", "warning", "note"}  # every level was checked


def test_rules_are_indexed_and_described_twice(zoo_sarif):
    run = zoo_sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    for r in rules:
        assert r["fullDescription"]["text"] != r["shortDescription"]["text"], r["id"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_pair_findings_link_their_downsampling_layer(zoo_run):
    """Where the down layer's construction line is known, the alert links it."""
    sarif, reports = zoo_run
    findings = [(r, f) for r in reports for f in r.findings]
    results = sarif["runs"][0]["results"]
    assert len(results) == len(findings)
    linked = 0
    for (report, f), result in zip(findings, results):
        down = next((e for e in report.events if e.name == f.down), None) if f.down else None
        if down is None or down.location is None:
            assert "relatedLocations" not in result
            continue
        [partner] = result["relatedLocations"]
        assert partner["physicalLocation"]["region"] == {"startLine": down.location.line}
        assert partner["message"]["text"] == f"{f.down}: the downsampling layer that {f.up} should invert"
        linked += 1
    assert linked >= 10


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("runs", 0, "results", 0, "level"), "fatal"),  # not a SARIF level
        (("runs", 0, "results", 0, "locations", 0, "physicalLocation", "region", "startLine"), 0),
        (("runs", 0, "tool", "driver", "rules", 0, "shortDescripton"), {"text": "typo"}),
        (("version",), "2.0.0"),
    ],
)
def test_the_schema_catches_what_code_scanning_rejects(zoo_sarif, path, value):
    doc = copy.deepcopy(zoo_sarif)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert list(_validator().iter_errors(doc))
