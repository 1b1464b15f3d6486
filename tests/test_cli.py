"""The `convshape` command: TARGET mode (unchanged), the models of [tool.convshape] when TARGET
is omitted, suppressions, formats and exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from golden_files import assert_golden
from sample_models import AUTOENCODER

from pytest_convshape import cli

GATE = """\
[[tool.convshape.models]]
target = "models.py:Autoencoder"
input = [[1, 1, 28, 28], [1, 1, 27, 27]]
"""




def forget_modules_under(folder: Path) -> None:
    """Drop modules imported from ``folder`` (``models`` would shadow other tests' ``models``)."""
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(folder)):
            del sys.modules[name]


@pytest.fixture
def proj(tmp_path, monkeypatch):
    (tmp_path / "models.py").write_text(AUTOENCODER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    forget_modules_under(tmp_path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.run(list(argv))
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- TARGET mode


def test_target_mode_text(proj, capsys):
    code, out, err = run(capsys, "models.py:Autoencoder", "--input", "1,1,28,28")
    assert code == cli.EXIT_FINDINGS and err == ""
    assert_golden("cli_text.txt", out)


def test_target_mode_fixed_is_clean(proj, capsys):
    code, out, _ = run(capsys, "models.py:Autoencoder", "--input", "1,1,28,28", "--kwargs", '{"output_padding": 1}')
    assert code == cli.EXIT_OK
    assert out.rstrip().endswith("ok: 0 errors, 0 warnings, 0 infos")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["models.py:Autoencoder"], "the following arguments are required: --input"),
        (["models.py:Autoencoder", "--input", "1,1,x,28"], "--input '1,1,x,28': expected [NAME=]SHAPE[:DTYPE] such as 1,3,64,64"),
        (["models.py:Nope", "--input", "1,1,28,28"], "has no name 'Nope'"),
        (["models.py:Autoencoder", "--input", "1,1,28,28", "--config", "missing.toml"], "--config missing.toml: file not found"),
        (["--input", "1,1,28,28"], "--input needs a TARGET"),
        (["models.py:Autoencoder", "--input", "1,1,28,28", "--sizes", "2=8-64"], "--sizes '2=8-64': expected [NAME.]DIM=FIRST:LAST[:STEP]"),
        (["models.py:Autoencoder", "--input", "1,1,28,28", "--sizes", "H=8:64"], "--sizes 'H=8:64': expected [NAME.]DIM=FIRST:LAST[:STEP]"),
        (["models.py:Autoencoder", "--input", "1,1,28,28", "--sizes", "1=8:64"], "sizes: 1 is not a spatial dim of input 1x1x28x28; use 2, 3"),
    ],
)
def test_usage_errors_exit_2(proj, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == cli.EXIT_USAGE
    assert message in err and out == ""


def test_target_mode_applies_inline_suppressions(proj, capsys):
    text = AUTOENCODER.replace("output_padding=output_padding),", "output_padding=output_padding),  # convshape: ignore[CS101]")
    (proj / "models.py").write_text(text)
    code, out, _ = run(capsys, "models.py:Autoencoder", "--input", "1,1,28,28", "--format", "json")
    assert code == cli.EXIT_OK
    [m28] = json.loads(out)["models"]
    assert m28["findings"] == [] and m28["suppressed"][0]["code"] == "CS101"
    code, out, _ = run(capsys, "models.py:Autoencoder", "--input", "1,1,27,27", "--format", "json")
    [unused] = json.loads(out)["models"][0]["findings"]
    assert unused["code"] == "CS910" and unused["location"] == "models.py:9"


def test_target_mode_finds_pyproject_walking_up(proj, capsys, monkeypatch):
    (proj / "pyproject.toml").write_text('[tool.convshape]\nignore = ["CS101"]\n')
    code, out, _ = run(capsys, "models.py:Autoencoder", "--input", "1,1,28,28")
    assert code == cli.EXIT_OK and "(1 ignored)" in out
    sub = proj / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    code, _, _ = run(capsys, "../../models.py:Autoencoder", "--input", "1,1,28,28")
    assert code == cli.EXIT_OK
    code, _, _ = run(capsys, "../../models.py:Autoencoder", "--input", "1,1,28,28", "--isolated")
    assert code == cli.EXIT_FINDINGS


# --------------------------------------------------------------------------- models from pyproject.toml


def test_models_mode_checks_every_model_and_input(proj, capsys):
    (proj / "pyproject.toml").write_text(GATE)
    code, out, err = run(capsys)
    assert code == cli.EXIT_FINDINGS and err == ""
    assert "convshape: models.py:Autoencoder  input 1x1x28x28  (meta device)" in out
    assert "convshape: models.py:Autoencoder  input 1x1x27x27  (meta device)" in out
    assert "  fix: output_padding=1 on decoder.0" in out


def test_models_mode_json_contract(proj, capsys):
    (proj / "pyproject.toml").write_text(GATE + 'kwargs = { output_padding = 1 }\n')
    code, out, _ = run(capsys, "--format", "json")
    models = json.loads(out)["models"]
    assert code == cli.EXIT_FINDINGS  # output_padding=1 restores 28 but not 27
    assert [(m["target"], m["input"], m["ok"]) for m in models] == [
        ("models.py:Autoencoder", "1x1x28x28", True),
        ("models.py:Autoencoder", "1x1x27x27", False),
    ]
    for m in models:
        assert {"target", "input", "ok", "pairs", "findings"} <= set(m)
        assert m["pairs"] == [{"down": "encoder.0", "up": "decoder.0", "evidence": "mirror"}]
        for f in m["findings"]:
            assert {"code", "severity", "up", "down", "expected", "actual", "fix", "message", "location"} <= set(f)


def test_models_mode_config_from_another_folder(proj, capsys, tmp_path_factory, monkeypatch):
    (proj / "pyproject.toml").write_text(GATE.replace("[[1, 1, 28, 28], [1, 1, 27, 27]]", "[1, 1, 28, 28]") + 'kwargs = { output_padding = 1 }\n')
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    code, out, _ = run(capsys, "--config", str(proj / "pyproject.toml"))
    assert code == cli.EXIT_OK, out


def test_models_mode_select_and_ignore_flags(proj, capsys):
    (proj / "pyproject.toml").write_text('[tool.convshape]\nignore = ["CS9"]\n' + GATE)
    assert run(capsys, "--ignore", "CS101")[0] == cli.EXIT_OK
    assert run(capsys, "--select", "CS3")[0] == cli.EXIT_OK
    code, _, err = run(capsys, "--select", "CS7")
    assert code == cli.EXIT_USAGE and "--select: unknown rule 'CS7'" in err


def test_models_mode_applies_per_module_ignores(proj, capsys):
    (proj / "pyproject.toml").write_text('[tool.convshape]\nper-module-ignores = { "decoder.*" = ["CS1"] }\n' + GATE)
    assert run(capsys)[0] == cli.EXIT_OK


@pytest.mark.parametrize(
    "pyproject, message",
    [
        (None, "no TARGET given and no pyproject.toml with a [tool.convshape] table here or in a folder above"),
        ('[project]\nname = "x"\n', "no TARGET given and no pyproject.toml with a [tool.convshape] table here or in a folder above"),
        ('[tool.convshape]\nignore = ["CS901"]\n', "pyproject.toml has no [[tool.convshape.models]] entries"),
        ('[tool.convshape]\nignore = "CS901"\n', "pyproject.toml: tool.convshape.ignore = \"CS901\": expected an array of rule codes, prefixes or names"),
        (GATE.replace("models.py:Autoencoder", "nopkg.nets:Net"), "pyproject.toml: tool.convshape.models[0].target = \"nopkg.nets:Net\": module 'nopkg.nets' not found"),
        (GATE.replace("models.py:Autoencoder", "models:Autoencodr"), "models has no name 'Autoencodr'; did you mean Autoencoder?"),
        (GATE + "kwargs = { width = 3 }\n", "pyproject.toml: tool.convshape.models[0].kwargs = { width = 3 } (models.py:Autoencoder): class Autoencoder(**{'width': 3}) raised TypeError"),
    ],
)
def test_models_mode_errors_exit_2(proj, capsys, pyproject, message):
    if pyproject is not None:
        (proj / "pyproject.toml").write_text(pyproject)
    code, out, err = run(capsys)
    assert code == cli.EXIT_USAGE, (out, err)
    assert err.startswith("convshape: error: ")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_models_mode_ci_formats(proj, capsys, fmt):
    (proj / "pyproject.toml").write_text(GATE)
    code, out, _ = run(capsys, "--format", fmt, "-o", "out.txt")
    assert code == cli.EXIT_FINDINGS and out == ""
    text = (proj / "out.txt").read_text()
    if fmt == "github":
        assert text.startswith("::error file=models.py,line=9,title=CS101 models.py%3AAutoencoder [1x1x28x28]::")
    else:
        assert json.loads(text)["version"] == "2.1.0"


def test_sizes_sweep_in_text_and_json(proj, capsys):
    code, out, _ = run(capsys, "models.py:Autoencoder", "--input", "1,1,28,28", "--kwargs", '{"output_padding": 1}', "--sizes", "2=20:40")
    assert code == cli.EXIT_OK
    assert "input sizes, H = dim 2 in 20..40:" in out
    assert "valid today: H % 2 == 0" in out
    code, out, _ = run(capsys, "models.py:Autoencoder", "--input", "1,1,28,28", "--sizes", "2=20:40", "3=20:40:2", "--format", "json")
    sizes = json.loads(out)["models"][0]["sizes"]
    assert set(sizes) == {"2", "3"}
    assert sizes["2"]["valid"] == [] and sizes["3"]["range"] == [20, 40]
    assert sizes["2"]["with_fixes"]["rule"] == "H % 2 == 0"


def test_models_mode_sweeps_sizes_from_pyproject(proj, capsys):
    (proj / "pyproject.toml").write_text(GATE + 'sizes = { 2 = "20:40" }\n')
    _, out, _ = run(capsys, "--format", "json")
    assert all(m["sizes"]["2"]["range"] == [20, 40] for m in json.loads(out)["models"])
