"""CI report formats: GitHub workflow annotations and SARIF 2.1.0 (structure, every rule
declared, stable fingerprints), the JSON contract, and the terminal summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from golden_files import assert_golden
from sample_models import AUTOENCODER

from pytest_convshape.records import RULES, Finding, Fix, LayerEvent, SourceLocation
from pytest_convshape.report import Report, render_github, render_json, render_sarif, render_summary


@pytest.fixture
def checked(tmp_path, monkeypatch):
    """Reports of the 28x28 autoencoder (fresh check each call), with paths relative to cwd."""
    from pytest_convshape.api import check
    from pytest_convshape.loader import build

    (tmp_path / "models.py").write_text(AUTOENCODER)
    monkeypatch.chdir(tmp_path)

    def run(*shapes, **kwargs):
        model = build("models.py:Autoencoder", kwargs).model
        return [check(model, input_size=s, target="models.py:Autoencoder") for s in shapes]

    yield run
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def hand_made(message: str = "m", location: SourceLocation | None = None, code: str = "CS101", **kw) -> Report:
    return Report(
        target=kw.pop("target", "pkg.models:Net"),
        input="1x3x64x64",
        findings=(Finding(code=code, message=message, location=location, layer=kw.pop("layer", "dec.0"), **kw),),
        pairs=(),
        events=kw.pop("events", ()),
    )


# --------------------------------------------------------------------------- GitHub


def test_github_annotation_on_the_layer_line(checked):
    text = render_github(checked((1, 1, 28, 28), (1, 1, 30, 30)))
    assert_golden("github.txt", text + "\n")
    first = text.splitlines()[0]
    assert first.startswith("::error file=models.py,line=9,title=CS101 models.py%3AAutoencoder [1x1x28x28]::decoder.0: ")
    assert first.endswith("set output_padding=1 to get 28%0Afix: output_padding=1 on decoder.0")


def test_github_escaping():
    loc = SourceLocation("dir,with:odd%/m.py", 7)
    r = hand_made("100% wrong\r\nsecond line: a, b", loc, target="a,b:C")
    line = render_github([r]).splitlines()[0]
    assert line == (
        "::error file=dir%2Cwith%3Aodd%25/m.py,line=7,title=CS101 a%2Cb%3AC [1x3x64x64]"
        "::100%25 wrong%0D%0Asecond line: a, b"
    )


def test_github_levels_and_missing_location():
    info = hand_made("unpaired", None, code="CS901")
    line = render_github([info]).splitlines()[0]
    assert line.startswith("::notice title=CS901 pkg.models%3ANet [1x3x64x64]::")
    warning = hand_made("hidden", None, code="CS301")
    assert render_github([warning]).startswith("::warning ")


def test_github_per_dimension_fix():
    r = hand_made("m", SourceLocation("m.py", 3), fix=Fix("dec.0", (1, 0)))
    assert render_github([r]).splitlines()[0].endswith("::m%0Afix: output_padding=(1, 0) on dec.0")


def test_github_summary_line_per_model(checked):
    lines = render_github(checked((1, 1, 28, 28))).splitlines()
    assert lines[-1] == "models.py:Autoencoder [1x1x28x28]: FAILED, 1 error, 0 warnings, 0 infos"


# --------------------------------------------------------------------------- SARIF


def test_sarif_structure(checked):
    doc = json.loads(render_sarif(checked((1, 1, 28, 28), (1, 1, 30, 30))))
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-2.1.0.json")
    [run] = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "convshape" and driver["version"]
    assert [r["id"] for r in driver["rules"]] == list(RULES)  # every rule, so fixed alerts can close
    for rule in driver["rules"]:
        assert rule["name"] == RULES[rule["id"]].name
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "info": "note"}[RULES[rule["id"]].severity]
    assert len(run["results"]) == 2
    for result in run["results"]:
        assert result["ruleId"] == "CS101"
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == "error"
        assert "Fix: output_padding=1 on decoder.0." in result["message"]["text"]
        [location] = result["locations"]
        assert location["physicalLocation"] == {"artifactLocation": {"uri": "models.py"}, "region": {"startLine": 9}}
        assert location["logicalLocations"][0]["fullyQualifiedName"] == "models.py:Autoencoder::decoder.0"
        [(key, value)] = result["partialFingerprints"].items()
        assert key == "convshapeFinding/v1" and len(value) == 32


def test_sarif_fingerprints_are_stable_across_runs_and_unique_within_one(checked):
    def prints():
        doc = json.loads(render_sarif(checked((1, 1, 28, 28), (1, 1, 30, 30))))
        return [r["partialFingerprints"]["convshapeFinding/v1"] for r in doc["runs"][0]["results"]]

    first, second = prints(), prints()
    assert first == second
    assert len(set(first)) == len(first)


def test_sarif_fingerprint_ignores_the_line():
    a = hand_made("m", SourceLocation("m.py", 3))
    b = hand_made("m", SourceLocation("m.py", 30))
    fp = [json.loads(render_sarif([r]))["runs"][0]["results"][0]["partialFingerprints"] for r in (a, b)]
    assert fp[0] == fp[1]


def test_sarif_duplicate_identities_stay_distinct():
    f = Finding(code="CS910", message="unused", location=SourceLocation("m.py", 3))
    r = Report(target="t:M", input="1x1", findings=(f, f), pairs=())
    results = json.loads(render_sarif([r]))["runs"][0]["results"]
    assert len({x["partialFingerprints"]["convshapeFinding/v1"] for x in results}) == 2


def test_sarif_without_a_location_uses_the_models_first_layer():
    event = LayerEvent(
        index=0, name="enc.0", kind="Conv2d", op="conv2d", module=True, ndim=2, params={},
        in_shapes=((1, 1, 8, 8),), out_shape=(1, 1, 4, 4), location=SourceLocation("nets/m.py", 12),
    )
    r = Report(target="t:M", input="1x1x8x8", findings=(Finding(code="CS902", message="fallback"),), pairs=(), events=(event,))
    [result] = json.loads(render_sarif([r]))["runs"][0]["results"]
    assert result["level"] == "warning"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "nets/m.py"
    assert render_github([r]).startswith("::warning file=nets/m.py,line=12,")


def test_sarif_absolute_path_outside_cwd_is_a_file_uri(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside = Path(tmp_path).parent / "elsewhere" / "m.py"
    r = hand_made("m", SourceLocation(str(outside), 4))
    [result] = json.loads(render_sarif([r]))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == outside.as_uri()


def test_sarif_without_findings_still_declares_every_rule():
    doc = json.loads(render_sarif([]))
    assert doc["runs"][0]["results"] == [] and len(doc["runs"][0]["tool"]["driver"]["rules"]) == len(RULES)


# --------------------------------------------------------------------------- JSON contract and summary


def test_json_contract(checked):
    data = json.loads(render_json(checked((1, 1, 28, 28))))
    [m] = data["models"]
    assert {"target", "input", "ok", "pairs", "findings"} <= set(m)
    assert (m["target"], m["input"], m["ok"]) == ("models.py:Autoencoder", "1x1x28x28", False)
    assert m["pairs"] == [{"down": "encoder.0", "up": "decoder.0", "evidence": "mirror"}]
    [f] = m["findings"]
    assert {k: f[k] for k in ("code", "severity", "up", "down", "expected", "actual", "fix", "location")} == {
        "code": "CS101", "severity": "error", "up": "decoder.0", "down": "encoder.0",
        "expected": [28, 28], "actual": [27, 27], "fix": {"output_padding": [1, 1], "verified": True}, "location": "models.py:9",
    }
    assert isinstance(f["message"], str)


def test_summary_counts_per_code_and_one_line_per_finding():
    models = [
        {"target": "a:M", "input": "1x1", "ok": False, "test": "t.py::test_a", "findings": [
            {"code": "CS101", "severity": "error", "message": "bad", "location": "m.py:3"},
            {"code": "CS910", "severity": "warning", "message": "unused", "location": "m.py:9"},
        ]},
        {"target": "b:N", "input": "2x2", "ok": True, "findings": [
            {"code": "CS901", "severity": "info", "message": "alone", "location": None},
        ]},
        {"target": "c:O", "input": "3x3", "ok": False, "findings": [], "error": "pyproject.toml: broken"},
    ]
    assert render_summary(models) == [
        "3 model checks, 2 failed: 1 error, 1 warning, 1 info",
        "  CS101  error      1  shape-not-restored",
        "  CS901  info       1  unpaired-upsampler",
        "  CS910  warning    1  unused-suppression",
        "pyproject.toml: broken  [c:O 3x3]",
        "m.py:3: CS101 bad  [t.py::test_a]",
        "m.py:9: CS910 unused  [t.py::test_a]",
        "b:N: CS901 alone  [b:N 2x2]",
    ]
