"""The U diagram: golden files of the zoo's U-Nets (1-D, 2-D, 3-D), a non-mirror decoder and
unpaired ups; width and ASCII; Mermaid in --format markdown; the HTML report (parsed, one
section per model, a strip plot per swept dim) from the CLI and from a pytest run."""

from __future__ import annotations

import json
import textwrap
from html.parser import HTMLParser

import pytest
import torch
from golden_files import assert_golden
from torch import nn
from zoo import _verify

from pytest_convshape import check, cli, diagram
from pytest_convshape.render_html import render_html


def _zoo_report(name: str):
    zoo = _verify.load(name)
    return check(zoo.build(), input_size=zoo.INPUT, pairs=getattr(zoo, "CONFIG_PAIRS", ()))


class NonMirror(nn.Module):
    """Three levels down, two ups: the last up undoes two levels at once (stride 4)."""

    def __init__(self):
        super().__init__()
        self.d1 = nn.Conv2d(1, 1, 3, 2, 1)
        self.d2 = nn.Conv2d(1, 1, 3, 2, 1)
        self.d3 = nn.Conv2d(1, 1, 3, 2, 1)
        self.u3 = nn.ConvTranspose2d(1, 1, 3, 2, 1, output_padding=1)
        self.u12 = nn.ConvTranspose2d(1, 1, 4, 4, 0)

    def forward(self, x):
        return self.u12(self.u3(self.d3(self.d2(self.d1(x)))))


@pytest.mark.parametrize(
    ("golden", "report"),
    [
        ("codec_1d", lambda: _zoo_report("codec_1d")),
        ("unet_s2_64", lambda: _zoo_report("unet_s2_64")),
        ("unet_maxpool_odd", lambda: _zoo_report("unet_maxpool_odd")),
        ("volume_3d", lambda: _zoo_report("volume_3d")),
        ("non_mirror", lambda: check(NonMirror(), input_size=(1, 1, 40, 40))),
        ("unpaired_ups", lambda: _zoo_report("gan_generator")),
    ],
)
def test_golden_diagrams(golden, report):
    rows = diagram.levels(report())
    text = "\n".join(diagram.render_text(rows, width=120)) + "\n"
    ascii_text = "\n".join(diagram.render_text(rows, width=72, ascii_only=True)) + "\n"
    assert_golden(f"diagram/{golden}.txt", text + "\n" + ascii_text)
    assert all(ord(c) < 128 for c in ascii_text)


def test_the_bad_level_is_marked_and_the_good_ones_are_not():
    rows = diagram.levels(_zoo_report("unet_maxpool_odd"))
    marks = {r.up.name: r.bad for r in rows if r.up}
    assert any(marks.values()) and not all(marks.values())
    lines = diagram.render_text(rows, width=120)
    for r in rows:
        [line] = [ln for ln in lines if r.up and f" {r.up.name} " in ln]
        assert ("✗" in line) is (r.severity == "error")


def test_levels_step_in_like_a_u():
    rows = diagram.levels(_zoo_report("unet_s2_64"))
    lines = diagram.render_text(rows, width=120)[1:1 + len(rows)]
    lefts = [len(ln) - len(ln.lstrip()) for ln in lines]
    rights = [ln.index(r.up.name) for ln, r in zip(lines, rows)]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(rows)
    assert rights == sorted(rights, reverse=True)


@pytest.mark.parametrize("width", [80, 100, 120])
def test_narrow_terminals_drop_the_kinds_first(width):
    rows = diagram.levels(_zoo_report("unet_s2_64"))
    lines = diagram.render_text(rows, width=width)
    assert max(len(ln) for ln in lines) <= width
    assert ("ConvTranspose2d" in "\n".join(lines)) is (width >= 104)


def test_cli_shows_the_diagram_when_asked_and_not_by_default_in_a_pipe(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(_verify.ZOO_DIR.parent.parent)
    args = ["examples/unet.py:UNet", "--input", "1,3,64,64", "--isolated"]
    assert cli.run([*args, "--show-diagram"]) == cli.EXIT_FINDINGS
    shown = capsys.readouterr().out
    assert "bottleneck 4x4" in shown and "✗ 63x63 ≠ 64x64 (CS101)" in shown
    cli.run(args)
    assert "bottleneck" not in capsys.readouterr().out  # captured stdout is not a terminal


def test_markdown_has_a_mermaid_u_and_the_findings(monkeypatch, capsys):
    monkeypatch.chdir(_verify.ZOO_DIR.parent.parent)
    cli.run(["examples/unet.py:UNet", "--input", "1,3,64,64", "--isolated", "--format", "markdown"])
    out = capsys.readouterr().out
    mermaid = out.split("```mermaid\n")[1].split("```")[0]
    assert mermaid.startswith("flowchart TB\n  subgraph encoder\n")
    assert "  d3 -. \"skip: 7x7 ≠ 8x8 (CS101)\" .- u3" in mermaid.splitlines()
    assert "  class u0,u1,u2,u3 bad" in mermaid.splitlines()
    assert out.count("| CS101 | error |") == 4


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections = self.svgs = self.strips = 0
        self.h2: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        self.sections += tag == "section"
        self.svgs += tag == "svg"
        self.strips += tag == "svg" and any(k == "aria-label" and v.startswith("valid ") for k, v in attrs)
        self._in_h2 = tag == "h2" or self._in_h2

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2 and data.strip():
            self.h2.append(data.strip())


def test_html_report_has_one_section_per_model_and_a_strip_per_swept_dim(tmp_path):
    reports = [_zoo_report("unet_s2_64"), check(_verify.load("ae28_stride2").build(), input_size=(1, 1, 28, 28), sizes={2: (8, 64)})]
    page = _Sections()
    page.feed(render_html([r.to_dict() for r in reports]))
    assert page.sections == 2
    assert page.strips == 1 and page.svgs == 3  # two diagrams, one strip plot
    assert page.h2[0].startswith(reports[0].target)


def test_html_from_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(_verify.ZOO_DIR.parent.parent)
    out = tmp_path / "r.html"
    cli.run(["examples/unet.py:UNet", "--input", "1,3,64,64", "--isolated", "--html", str(out)])
    page = _Sections()
    page.feed(out.read_text())
    assert page.sections == 1 and page.svgs == 1


def test_html_from_a_pytest_run(pytester):
    pytester.makepyfile(models=textwrap.dedent("""
        from torch import nn

        class Autoencoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.Conv2d(1, 1, 5, 2)
                self.decoder = nn.ConvTranspose2d(1, 1, 5, 2)

            def forward(self, x):
                return self.decoder(self.encoder(x))
    """))
    pytester.makepyfile(test_models=textwrap.dedent("""
        from models import Autoencoder

        def test_one(convshape):
            convshape.report(Autoencoder(), input_size=(1, 1, 28, 28))

        def test_two(convshape):
            convshape.report(Autoencoder(), input_size=(1, 1, 27, 27))
    """))
    result = pytester.runpytest("--convshape-html=out/report.html", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["convshape: wrote out*report.html (2 model checks, HTML)"])
    page = _Sections()
    page.feed((pytester.path / "out" / "report.html").read_text())
    assert page.sections == 2


def test_levels_survive_json():
    report = _zoo_report("unet_maxpool_odd")
    entry = json.loads(json.dumps(report.to_dict()))
    assert [diagram.Level.from_dict(d) for d in entry["levels"]] == diagram.levels(report)


def test_the_diagrammed_model_is_what_eager_runs():
    """The sizes the diagram prints for the U-Net are the ones eager torch computes."""
    zoo = _verify.load("unet_s2_64")
    model = zoo.build().eval()
    seen = {}
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            module.register_forward_hook(lambda m, i, o, name=name: seen.update({name: (tuple(i[0].shape[2:]), tuple(o.shape[2:]))}))
    with torch.no_grad():
        try:
            model(torch.randn(zoo.INPUT))
        except RuntimeError:
            pass  # its torch.cat raises after the layers the diagram shows
    for r in diagram.levels(check(zoo.build(), input_size=zoo.INPUT)):
        for side in (r.down, r.up):
            if side is not None and side.name in seen:
                took, gives = seen[side.name]
                assert (side.took, side.gives) == ("x".join(map(str, took)), "x".join(map(str, gives)))


@pytest.mark.parametrize("room", [32, 26, 20, 16, 10])
def test_long_layer_names_stay_apart_when_shortened(room):
    # diffusers' names differ only in their indices: shortening must keep them
    downs = [f"down_blocks.{i}.downsamplers.0.conv" for i in range(3)]
    ups = [f"up_blocks.{i}.upsamplers.0:F.interpolate" for i in range(3)]
    for names in (downs, ups):
        short = [diagram._shorten(n, room, "…") for n in names]
        assert all(len(s) <= room for s in short), short
        assert len(set(short)) == len(names), short
    assert diagram._shorten(downs[2], 26, "…") == "down_b….2.downsa….0.conv"
