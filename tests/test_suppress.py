"""Suppressions: per-module-ignores globs and `# convshape: ignore[...]` comments, with CS910
for comments that silence nothing. Mostly on hand-made reports: no model needed."""

from __future__ import annotations

import textwrap

import pytest

from pytest_convshape import suppress
from pytest_convshape.records import Finding, Fix, LayerEvent, SourceLocation
from pytest_convshape.report import Report

SOURCE = '''\
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 1, 5, stride=2)
        self.up = nn.ConvTranspose2d(  # convshape: ignore[CS101]
            1,
            1,
            5,
            stride=2,
        )
        self.up2 = nn.ConvTranspose2d(1, 1, 5, stride=2)  # convshape: ignore[CS3, CS101]
        self.up3 = nn.ConvTranspose2d(1, 1, 5, stride=2)  # convshape: ignore[CS1]
        self.up4 = nn.ConvTranspose2d(1, 1, 5, stride=2)  # convshape: ignore[CS101, CS77]
        self.clean = nn.ConvTranspose2d(1, 1, 5, stride=2)
        self.text = "# convshape: ignore[CS101]"
        self.two = nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose2d(1, 1, 5,
                               stride=2),  # convshape: ignore[CS101]
        )


class Other(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(1, 1, 5, stride=2)  # convshape: ignore[CS101]
'''

LINES = {name: i for i, name in enumerate(SOURCE.splitlines(), start=1)}


def line_of(text: str) -> int:
    return next(n for line, n in LINES.items() if text in line)


@pytest.fixture
def src(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(SOURCE)
    return str(path)


def event(i: int, name: str, file: str, line: int, kind: str = "ConvTranspose2d") -> LayerEvent:
    return LayerEvent(
        index=i, name=name, kind=kind, op="conv_transpose2d", module=True, ndim=2, params={},
        in_shapes=((1, 1, 12, 12),), out_shape=(1, 1, 27, 27), location=SourceLocation(file, line),
    )


def cs101(up: str, file: str | None, line: int) -> Finding:
    return Finding(
        code="CS101", message=f"{up}: ConvTranspose2d gives 27x27", up=up, down="down", layer=up,
        expected=(28, 28), actual=(27, 27), fix=Fix(up, (1, 1)),
        location=SourceLocation(file, line) if file else None,
    )


def report(findings, events) -> Report:
    return Report(target="model.py:Model", input="1x1x28x28", findings=tuple(findings), pairs=(), events=tuple(events))


def test_comment_on_the_construction_line_silences_the_code(src):
    line = line_of("self.up2 =")
    r = suppress.apply(report([cs101("up2", src, line)], [event(0, "up2", src, line)]))
    # CS101 is used; CS3 in the same comment silenced nothing
    [unused] = r.findings
    assert unused.code == "CS910" and unused.severity == "warning"
    assert unused.location == SourceLocation(src, line)
    assert unused.layer == "up2"
    assert unused.message == "`# convshape: ignore[CS3, CS101]` silences nothing: no CS3 finding on up2 for input 1x1x28x28"
    assert r.ok


def test_suppressed_error_makes_the_report_ok(src):
    line = line_of("self.up3 =")
    original = report([cs101("up3", src, line)], [event(0, "up3", src, line)])
    assert not original.ok
    r = suppress.apply(original)
    assert r.findings == () and r.ok


@pytest.mark.parametrize("reported_at", ["self.up = nn.ConvTranspose2d(", "stride=2,", "        )"])
def test_multi_line_call_accepts_the_comment_on_any_of_its_lines(src, reported_at):
    first = line_of("self.up = nn.ConvTranspose2d(")
    at = line_of(reported_at) if reported_at != "        )" else first + 5
    r = suppress.apply(report([cs101("up", src, at)], [event(0, "up", src, at)]))
    assert r.findings == ()


def test_comment_on_the_last_line_of_a_nested_call(src):
    start = next(n for text, n in LINES.items() if text.strip() == "nn.ConvTranspose2d(1, 1, 5,")
    r = suppress.apply(report([cs101("two.1", src, start)], [event(0, "two.1", src, start)]))
    assert r.findings == ()


def test_unused_comment_is_cs910_at_the_comment(src):
    line = line_of("self.up3 =")
    r = suppress.apply(report([], [event(0, "up3", src, line)]))
    [f] = r.findings
    assert (f.code, f.location, f.layer) == ("CS910", SourceLocation(src, line), "up3")
    assert "no CS1 finding on up3" in f.message
    assert f.suggestions == ("remove CS1 from the comment",)


def test_unknown_code_in_a_comment_is_reported(src):
    line = line_of("self.up4 =")
    r = suppress.apply(report([cs101("up4", src, line)], [event(0, "up4", src, line)]))
    [f] = r.findings
    assert f.code == "CS910" and "unknown code CS77" in f.message


def test_comments_on_layers_of_another_model_are_left_alone(src):
    line = line_of("self.clean =")
    other = max(n for text, n in LINES.items() if "self.up = nn.ConvTranspose2d(1, 1, 5, stride=2)" in text)
    r = suppress.apply(report([], [event(0, "clean", src, line)]))
    assert r.findings == ()
    assert other > line  # the Other model's comment exists, and is not this model's business


def test_comment_text_inside_a_string_is_not_a_suppression(src):
    line = line_of('self.text = "# convshape')
    assert suppress.attached(SourceLocation(src, line)) == []


def test_inline_can_be_turned_off(src):
    line = line_of("self.up3 =")
    r = suppress.apply(report([cs101("up3", src, line)], [event(0, "up3", src, line)]), inline=False)
    assert [f.code for f in r.findings] == ["CS101"]


def test_cs910_obeys_select_and_ignore(src):
    line = line_of("self.up3 =")
    rep = report([], [event(0, "up3", src, line)])
    assert suppress.apply(rep, ignore=["CS910"]).findings == ()
    assert suppress.apply(rep, ignore=["CS9"]).findings == ()
    assert suppress.apply(rep, select=["CS1"]).findings == ()
    assert [f.code for f in suppress.apply(rep, select=["CS1", "CS910"]).findings] == ["CS910"]


@pytest.mark.parametrize(
    "globs, kept",
    [
        ({"decoder.*": ["CS101"]}, []),
        ({"decoder.*": ["CS1"]}, []),
        ([("decoder.?", ["CS101"])], []),
        ({"decoder.*": ["CS301"]}, ["CS101"]),
        ({"encoder.*": ["CS101"]}, ["CS101"]),
        ({"*": ["CS"]}, []),
    ],
)
def test_per_module_ignores(globs, kept):
    f = cs101("decoder.0", None, 0)
    r = suppress.apply(report([f], []), per_module_ignores=globs)
    assert [x.code for x in r.findings] == kept


def test_per_module_ignores_skip_findings_without_a_layer():
    f = Finding(code="CS902", message="fallback")
    r = suppress.apply(report([f], []), per_module_ignores={"*": ["CS9"]})
    assert r.findings == (f,)


def test_unchanged_report_is_returned_as_is(src):
    rep = report([cs101("clean", src, line_of("self.clean ="))], [])
    assert suppress.apply(rep) is rep


def test_unreadable_or_missing_file_is_no_suppression(tmp_path):
    rep = report([cs101("up", str(tmp_path / "gone.py"), 3)], [])
    assert suppress.apply(rep) is rep


def test_call_span_picks_the_layer_call(src):
    first = line_of("self.up = nn.ConvTranspose2d(")
    assert suppress.call_span(src, first, "ConvTranspose2d") == (first, first + 5)
    assert suppress.call_span(src, first + 2, "") == (first, first + 5)
    assert suppress.call_span(src, 1, "") == (1, 1)


def test_end_to_end_with_check(tmp_path):
    from pytest_convshape.api import check
    from pytest_convshape.loader import build

    path = tmp_path / "ae_suppressed.py"
    path.write_text(
        textwrap.dedent(
            """\
            from torch import nn


            class AE(nn.Module):
                def __init__(self, op=0):
                    super().__init__()
                    self.down = nn.Conv2d(1, 1, 5, stride=2)
                    self.up = nn.ConvTranspose2d(1, 1, 5, stride=2, output_padding=op)  # convshape: ignore[CS101]

                def forward(self, x):
                    return self.up(self.down(x))
            """
        )
    )
    built = build(f"{path}:AE")
    report = check(built.model, input_size=(1, 1, 28, 28))  # check() applies inline comments itself
    assert report.findings == () and report.ok
    [silenced] = report.silenced
    assert (silenced.finding.code, silenced.how) == ("CS101", "suppressed")
    assert silenced.by == f"# convshape: ignore[CS101] at {SourceLocation(str(path), 8)}"
    assert "MISMATCH" not in str(report) and "  ok" not in str(report)
    assert "suppressed" in str(report).splitlines()[3]  # the pair's status
    fixed = check(build(f"{path}:AE", {"op": 1}).model, input_size=(1, 1, 28, 28))
    [unused] = fixed.findings
    assert unused.code == "CS910" and unused.location == SourceLocation(str(path), 8)


BARE = """\
from torch import nn


class AE(nn.Module):
    def __init__(self, op=0):
        super().__init__()
        self.down = nn.Conv2d(1, 1, 5, stride=2)
        self.up = nn.ConvTranspose2d(1, 1, 5, stride=2, output_padding=op)  # convshape: ignore
        self.up2 = nn.ConvTranspose2d(1, 1, 1)  # convshape: ignore[shape-not-restored, CS1O1]

    def forward(self, x):
        return self.up2(self.up(self.down(x)))
"""


def test_bare_comment_silences_every_code_and_names_are_accepted(tmp_path):
    from pytest_convshape.api import check
    from pytest_convshape.loader import build

    path = tmp_path / "ae_bare.py"
    path.write_text(BARE)
    report = check(build(f"{path}:AE").model, input_size=(1, 1, 28, 28))
    assert [s.finding.code for s in report.silenced] == ["CS101"]
    [cs910] = report.findings  # up2: the name is known but silences nothing; CS1O1 is a typo
    assert cs910.code == "CS910" and cs910.location.line == 9
    assert "unknown code CS1O1 (did you mean CS101?)" in cs910.message
    assert "no shape-not-restored finding on up2" in cs910.message
    fixed = check(build(f"{path}:AE", {"op": 1}).model, input_size=(1, 1, 28, 28))
    assert [(f.code, f.location.line) for f in fixed.findings] == [("CS910", 8), ("CS910", 9)]
    assert "`# convshape: ignore` silences nothing: no finding on up for input 1x1x28x28" in fixed.findings[0].message
