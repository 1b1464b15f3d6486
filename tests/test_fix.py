"""``--fix``/``--diff``: the proven output_padding written into the call that builds the layer,
the user's formatting kept; every refusal; safe and unsafe fixes; the same edit in SARIF.

The fixed files are loaded anew and run in eager torch: the output gives back the input's size."""

from __future__ import annotations

import importlib.util
import itertools
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from zoo import _verify

from pytest_convshape import check, cli, fixer

ROOT = Path(__file__).resolve().parent.parent
_COUNT = itertools.count()


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(f"_fixcase_{next(_COUNT)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "models.py"
    path.write_text("import torch\nfrom torch import nn\n\n" + textwrap.dedent(body))
    return path


def _plan(path: Path, name: str, size, **kw):
    model = _load(path, name)()
    report = check(model, input_size=size, **kw)
    return report, fixer.plan([report], root=str(path.parent))


def _round_trips(path: Path, name: str, size) -> bool:
    model = _load(path, name)().eval()
    with torch.no_grad():
        out = model(torch.randn(size))
    return tuple(out.shape[2:]) == tuple(size[2:])


AE = """
class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 1, kernel_size=5, stride=2)  # 28 -> 12
        self.up = {up}

    def forward(self, x):
        return self.up(self.down(x))
"""


@pytest.mark.parametrize(
    ("up", "after"),
    [
        ("nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2)", "nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2, output_padding=1)"),
        ("nn.ConvTranspose2d(1, 1, 5, 2, 0, 0)", "nn.ConvTranspose2d(1, 1, 5, 2, 0, 1)"),
        ("nn.ConvTranspose2d(1, 1, 5, stride=2, output_padding=(0, 0))", "nn.ConvTranspose2d(1, 1, 5, stride=2, output_padding=(1, 1))"),
        ("nn.ConvTranspose2d(1, 1, 5, stride=2,)", "nn.ConvTranspose2d(1, 1, 5, stride=2, output_padding=1,)"),
        ("nn.ConvTranspose2d(1, 1, 5, 2)  # the decoder", "nn.ConvTranspose2d(1, 1, 5, 2, output_padding=1)  # the decoder"),
    ],
)
def test_the_edit_touches_only_the_argument(tmp_path, up, after):
    path = _write(tmp_path, AE.format(up=up))
    before = path.read_text()
    _, plan = _plan(path, "AE", (1, 1, 28, 28))
    assert plan.refusals == [] and len(plan.edits) == 1
    assert fixer.write(plan.edits) == []
    assert path.read_text() == before.replace(up, after)
    assert _round_trips(path, "AE", (1, 1, 28, 28))


def test_one_argument_per_line_gets_its_own_line(tmp_path):
    up = "nn.ConvTranspose2d(\n            1,\n            1,\n            kernel_size=5,\n            stride=2,  # halves\n        )"
    path = _write(tmp_path, AE.format(up=up))
    _, plan = _plan(path, "AE", (1, 1, 28, 28))
    fixer.write(plan.edits)
    assert "            stride=2,  # halves\n            output_padding=1,\n        )" in path.read_text()
    assert _round_trips(path, "AE", (1, 1, 28, 28))


FUNCTIONAL = """
import torch.nn.functional as F


class Functional(nn.Module):
    def __init__(self, levels):
        super().__init__()
        self.downs = nn.ModuleList(nn.Conv2d(1, 1, 3, stride=2, padding=1) for _ in range(levels))
        self.w = nn.Parameter(torch.randn(1, 1, 3, 3))

    def forward(self, x):
        for down in self.downs:
            x = down(x)
        for _ in self.downs:
            x = F.conv_transpose2d(x, self.w, stride=2, padding=1)
        return x
"""


def test_a_functional_transposed_conv_gets_its_argument(tmp_path):
    path = _write(tmp_path, FUNCTIONAL)
    model = _load(path, "Functional")(1)
    report = check(model, input_size=(1, 1, 28, 28))
    [edit] = fixer.plan([report], root=str(tmp_path)).edits
    assert edit.text == ", output_padding=1"
    fixer.write([edit])
    assert "F.conv_transpose2d(x, self.w, stride=2, padding=1, output_padding=1)" in path.read_text()
    assert _load(path, "Functional")(1)(torch.randn(1, 1, 28, 28)).shape[-2:] == (28, 28)


def test_a_functional_call_run_at_levels_that_need_different_values_is_refused(tmp_path):
    path = _write(tmp_path, FUNCTIONAL)
    model = _load(path, "Functional")(2)
    report = check(model, input_size=(1, 1, 26, 26))  # 26 -> 13 -> 7: 7 -> 13 needs 0, 13 -> 26 needs 1
    plan = fixer.plan([report], root=str(tmp_path))
    [refusal] = plan.refusals
    assert plan.edits == []
    assert refusal.reason == ("F.conv_transpose2d runs at several levels (F.conv_transpose2d, F.conv_transpose2d#2) "
                              "that need different output_padding values")
    assert refusal.instead.startswith("instead, compute output_padding in forward for each call")


def test_crlf_line_endings_are_kept(tmp_path):
    body = AE.format(up="nn.ConvTranspose2d(\n            1,\n            1,\n            5,\n            stride=2,\n        )")
    path = tmp_path / "models.py"
    path.write_bytes(("from torch import nn\n" + textwrap.dedent(body)).replace("\n", "\r\n").encode())
    _, plan = _plan(path, "AE", (1, 1, 28, 28))
    assert fixer.write(plan.edits) == []
    data = path.read_bytes()
    assert b"            stride=2,\r\n            output_padding=1,\r\n        )" in data
    assert data.count(b"\n") == data.count(b"\r\n")


def test_anisotropic_fix_is_a_tuple(tmp_path):
    path = _write(tmp_path, AE.format(up="nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2)"))
    _, plan = _plan(path, "AE", (1, 1, 28, 27))
    [edit] = plan.edits
    assert edit.text == ", output_padding=(1, 0)"
    fixer.write(plan.edits)
    assert _round_trips(path, "AE", (1, 1, 28, 27))


def test_diff_changes_nothing_and_fix_writes(tmp_path, monkeypatch, capsys):
    shutil.copy(ROOT / "examples" / "autoencoder.py", tmp_path / "autoencoder.py")
    monkeypatch.chdir(tmp_path)
    before = (tmp_path / "autoencoder.py").read_text()
    code = cli.run(["autoencoder.py:Autoencoder", "--input", "1,1,28,28", "--diff", "--isolated"])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_FINDINGS
    assert (tmp_path / "autoencoder.py").read_text() == before
    changed = [ln for ln in out.splitlines() if ln.startswith(("+ ", "- ", "+\t", "-\t")) or ln.startswith(("+  ", "-  "))]
    assert changed == [
        "-            nn.ConvTranspose2d(1, 1, kernel_size=5, stride=stride),",
        "+            nn.ConvTranspose2d(1, 1, kernel_size=5, stride=stride, output_padding=1),",
    ]
    assert err == "convshape: 1 fix to apply with --fix\n"


def test_a_finding_with_no_fix_to_write_is_named(tmp_path, monkeypatch, capsys):
    # Conv(k3, s2, p1) takes 31 to 16; ConvTranspose(k4, s2, p1) gives 32: no output_padding helps
    _write(tmp_path, AE.format(up="nn.ConvTranspose2d(1, 1, 4, 2, 1)").replace("kernel_size=5, stride=2)", "3, 2, 1)"))
    monkeypatch.chdir(tmp_path)
    code = cli.run(["models.py:AE", "--input", "1,1,31,31", "--diff", "--isolated"])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_FINDINGS and out == ""
    first, last = err.splitlines()
    assert first == "convshape: no fix to write for CS102 on up (models.py:9): the report suggests: set padding=2, output_padding=1 on up"
    assert last == "convshape: 0 fixes to apply with --fix"


@pytest.mark.parametrize("name", ["ae28_stride2", "aniso_2d", "codec_1d", "volume_3d", "dilated", "depthwise", "wrong_output_padding"])
def test_fix_on_copies_of_the_zoo_relints_clean_and_round_trips(tmp_path, name):
    src = _verify.ZOO_DIR / f"{name}.py"
    path = tmp_path / src.name
    shutil.copy(src, path)
    zoo = _verify.load(name)
    build = lambda p: _load(p, "build")()  # noqa: E731
    report = check(build(path), input_size=zoo.INPUT)
    plan = fixer.plan([report], root=str(tmp_path))
    assert plan.edits, f"{name}: nothing to fix"
    assert fixer.write(plan.applicable(unsafe=True)) == []
    again = check(build(path), input_size=zoo.INPUT)
    fixed = {layer for e in plan.edits for layer in e.layer.split(", ")}
    assert [f.code for f in again.findings if f.fix is not None or f.up in fixed] == []
    if not again.ok:  # an error no output_padding fixes (CS102) stays; the fixes did their part
        assert {f.code for f in again.errors} <= {"CS102", "CS103"}
        return
    model = build(path).eval()
    with torch.no_grad():
        out = model(torch.randn(zoo.INPUT))
    assert tuple(out.shape[2:]) == tuple(zoo.INPUT[2:])


# --------------------------------------------------------------------------- refusals


LOOP = """
class Levels(nn.Module):
    def __init__(self):
        super().__init__()
        self.downs = nn.ModuleList([nn.Conv2d(1, 1, 3, 2, 1) for _ in range(2)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(1, 1, 3, 2, 1) for _ in range(2)])

    def forward(self, x):
        skips = []
        for d in self.downs:
            skips.append(x)
            x = d(x)
        for u, s in zip(self.ups, reversed(skips)):
            x = u(x) + s
        return x
"""


def test_one_call_for_several_layers_is_refused_with_output_size(tmp_path):
    path = _write(tmp_path, LOOP)
    _, plan = _plan(path, "Levels", (1, 1, 26, 26))  # 26 -> 13 -> 7; ups.0 needs 0 (13), ups.1 needs 1 (26)
    [refusal] = plan.refusals
    assert plan.edits == []
    assert refusal.reason == "one call builds several layers (ups.0, ups.1) that need different output_padding values"
    assert refusal.instead == (
        "instead, pass the size to restore in forward: x = self.ups[1](x, output_size=skip.shape[-2:]) "
        "with skip the tensor downs.0 took (ConvTranspose then picks the output_padding for each input size)"
    )


def test_one_call_for_several_layers_that_need_one_value_gets_one_edit(tmp_path):
    path = _write(tmp_path, LOOP)
    _, plan = _plan(path, "Levels", (1, 1, 28, 28))  # 28 -> 14 -> 7; both ups need output_padding=1
    [edit] = plan.edits
    assert edit.layer == "ups.0, ups.1" and edit.text == ", output_padding=1"
    fixer.write(plan.edits)
    assert _round_trips(path, "Levels", (1, 1, 28, 28))


def test_a_value_from_a_variable_is_refused(tmp_path):
    body = AE.format(up="nn.ConvTranspose2d(1, 1, 5, 2, output_padding=op)").replace("def __init__(self):", "def __init__(self, op=0):")
    path = _write(tmp_path, body)
    _, plan = _plan(path, "AE", (1, 1, 28, 28))
    [refusal] = plan.refusals
    assert refusal.reason == "output_padding comes from `op` (a variable or setting), not a literal"
    assert refusal.instead == "set it to 1 where `op` gets its value"


def test_kwargs_are_refused(tmp_path):
    body = AE.format(up="nn.ConvTranspose2d(1, 1, **dict(kernel_size=5, stride=2))")
    path = _write(tmp_path, body)
    _, plan = _plan(path, "AE", (1, 1, 28, 28))
    [refusal] = plan.refusals
    assert refusal.reason == "its arguments come from *args/**kwargs"


def test_a_file_outside_the_project_is_refused(tmp_path):
    path = _write(tmp_path, AE.format(up="nn.ConvTranspose2d(1, 1, 5, 2)"))
    model = _load(path, "AE")()
    report = check(model, input_size=(1, 1, 28, 28))
    (tmp_path / "project").mkdir()
    plan = fixer.plan([report], root=str(tmp_path / "project"))
    [refusal] = plan.refusals
    assert "is outside the project" in refusal.reason


def test_a_file_changed_since_it_was_read_is_left_alone(tmp_path):
    path = _write(tmp_path, AE.format(up="nn.ConvTranspose2d(1, 1, 5, 2)"))
    _, plan = _plan(path, "AE", (1, 1, 28, 28))
    path.write_text(path.read_text() + "\n# edited meanwhile\n")
    [refusal] = fixer.write(plan.edits)
    assert refusal.reason == "the file changed since it was read"
    assert "output_padding" not in path.read_text()


# --------------------------------------------------------------------------- safe and unsafe


def test_lowering_a_value_is_unsafe_without_a_sweep(tmp_path):
    # Conv(k3, s2, p1): 28 -> 14; ConvTranspose(k3, s2, p1, op=1) gives 28 back; at 27 it needs 0
    path = _write(tmp_path, AE.format(up="nn.ConvTranspose2d(1, 1, 3, 2, 1, output_padding=1)").replace("kernel_size=5, stride=2)", "3, 2, 1)"))
    _, plan = _plan(path, "AE", (1, 1, 27, 27))
    [edit] = plan.edits
    assert not edit.safe and "lowers output_padding from 1" in edit.unsafe_because
    assert plan.applicable(unsafe=False) == [] and plan.applicable(unsafe=True) == [edit]


def test_lowering_a_value_eager_rejects_is_safe(tmp_path):
    # output_padding=2 with stride 2 raises in eager at every size: nothing that works can break
    path = _write(tmp_path, AE.format(up="nn.ConvTranspose2d(1, 1, 3, 2, 1, output_padding=2)").replace("kernel_size=5, stride=2)", "3, 2, 1)"))
    _, plan = _plan(path, "AE", (1, 1, 27, 27))
    [edit] = plan.edits
    assert edit.finding is not None and edit.finding.code == "CS201"
    assert edit.safe and edit.text == "0"
    assert plan.applicable(unsafe=False) == [edit]


def test_the_sweep_decides_what_is_safe(tmp_path):
    path = _write(tmp_path, AE.format(up="nn.ConvTranspose2d(1, 1, 3, 2, 1)").replace("kernel_size=5, stride=2)", "3, 2, 1)"))
    # W = 27 round-trips as written; at H = 28 the fix is output_padding=(1, 0), which keeps the
    # even H and breaks the odd ones, which work today
    _, plan = _plan(path, "AE", (1, 1, 28, 27), sizes={2: (20, 40)})
    [edit] = plan.edits
    assert edit.text == ", output_padding=(1, 0)"
    assert not edit.safe and edit.unsafe_because == "the sweep shows it breaks H = 21, 23, 25, 27, 29, ..., which work today"


def test_pyproject_cannot_turn_fixing_on(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.convshape]\nfix = true\n')
    monkeypatch.chdir(tmp_path)
    code = cli.run([])
    _, err = capsys.readouterr()
    assert code == cli.EXIT_USAGE and "fix" in err and "unknown key" in err


def test_sarif_carries_the_same_edit(tmp_path, monkeypatch):
    import json

    from pytest_convshape.report import render_sarif

    path = _write(tmp_path, AE.format(up="nn.ConvTranspose2d(1, 1, 5, 2)"))
    monkeypatch.chdir(tmp_path)
    report, plan = _plan(path, "AE", (1, 1, 28, 28))
    [result] = json.loads(render_sarif([report]))["runs"][0]["results"]
    [change] = result["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "models.py"
    assert change["replacements"] == [fixer.replacement(plan.edits[0])]
    assert change["replacements"][0]["insertedContent"]["text"] == ", output_padding=1"


def test_fix_for_the_models_of_pyproject(tmp_path, monkeypatch, capsys):
    # the example project (src layout, pythonpath from pyproject); its VAE's last deconv made to
    # give 27 instead of 28: `convshape --fix` with no TARGET fixes the configured models
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "project", project)
    vae = project / "src" / "shapes_demo" / "vae.py"
    text = vae.read_text()
    broken = "nn.ConvTranspose2d(width, 1, kernel_size=3, stride=2, padding=1),  # 14 -> 28"
    vae.write_text(text.replace("nn.ConvTranspose2d(width, 1, kernel_size=4, stride=2, padding=1),  # 14 -> 28", broken))
    assert broken in vae.read_text()
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the gate puts the project's src on it
    try:
        code = cli.run(["--fix"])
    finally:  # the project's package must not leak into later tests (they import their own copy)
        for name in [m for m in sys.modules if m == "shapes_demo" or m.startswith("shapes_demo.")]:
            del sys.modules[name]
    out, err = capsys.readouterr()
    assert "nn.ConvTranspose2d(width, 1, kernel_size=3, stride=2, padding=1, output_padding=1),  # 14 -> 28" in vae.read_text()
    assert out.splitlines()[0] == "convshape: fixed 1 layer in src/shapes_demo/vae.py; linting again"
    # the diffusion U-Net's 62x62 input keeps its CS102 (no output_padding fixes it): named, not fixed
    assert "convshape: no fix to write for CS102 on up2.conv" in err
    assert out.splitlines()[-1] == "convshape: after --fix: 1 finding remains; FAILED"
    assert code == cli.EXIT_FINDINGS
