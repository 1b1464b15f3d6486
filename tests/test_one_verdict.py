"""One verdict: the same models with the same settings give the same findings, one for one,
through ``check(config=...)``, the ``convshape`` fixture, the ``[tool.convshape]`` pytest items
and the CLI run from a subfolder.

The project is ``examples/project``: a src layout with a diffusion U-Net (two inputs), an audio
autoencoder (an inline suppression) and a VAE, gated by ``[tool.convshape]`` alone (an ignore,
two input sets for the U-Net, one of which fails).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from pytest_convshape import cli

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "project"

FIXTURE_TEST = '''
import torch

from shapes_demo.audio import AudioAutoencoder
from shapes_demo.unet import DiffusionUNet
from shapes_demo.vae import VAE


def test_faces(convshape):
    for size in (64, 62):
        convshape.report(
            DiffusionUNet(),
            example_inputs={"sample": torch.zeros(1, 3, size, size), "timestep": torch.zeros(1, dtype=torch.int64)},
            target="shapes_demo.unet:DiffusionUNet",
        )
    convshape.report(AudioAutoencoder(), input_size=(1, 1, 16000), target="shapes_demo.audio:AudioAutoencoder")
    convshape.report(VAE(), input_size=(1, 1, 28, 28), target="shapes_demo.vae:VAE")
'''

_PATH = re.compile(r"(?P<path>[\w./\\-]+\.py):(?P<line>\d+)")


def _absolute(text: str, cwd: Path) -> str:
    """Every ``path.py:LINE`` in ``text`` made absolute against ``cwd`` (each face shows paths
    relative to its own working directory)."""
    return _PATH.sub(lambda m: f"{(cwd / m.group('path')).resolve()}:{m.group('line')}", text)


def _key(model: dict) -> tuple[str, str]:
    return model["target"], model["input"]


def _findings(models: list[dict], cwd: Path) -> dict[tuple[str, str], list]:
    out = {}
    for m in models:
        out[_key(m)] = (
            m["ok"],
            [
                (f["code"], f["severity"], f["layer"], f["up"], f["down"], f["fix"], _absolute(f["message"], cwd), _absolute(f["location"] or "", cwd))
                for f in m["findings"]
            ],
            sorted((s["code"], s["layer"]) for s in m.get("suppressed", []) + m.get("ignored", [])),
        )
    return out


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    monkeypatch.syspath_prepend(str(root / "src"))
    yield root
    for name in [n for n in sys.modules if n == "shapes_demo" or n.startswith("shapes_demo.")]:
        del sys.modules[name]


def _check_faces(root: Path) -> list[dict]:
    import torch
    from shapes_demo.audio import AudioAutoencoder
    from shapes_demo.unet import DiffusionUNet
    from shapes_demo.vae import VAE

    from pytest_convshape import check

    config = root / "pyproject.toml"
    reports = [
        check(
            DiffusionUNet(),
            example_inputs={"sample": torch.zeros(1, 3, size, size), "timestep": torch.zeros(1, dtype=torch.int64)},
            config=config,
            target="shapes_demo.unet:DiffusionUNet",
        )
        for size in (64, 62)
    ]
    reports.append(check(AudioAutoencoder(), input_size=(1, 1, 16000), config=config, target="shapes_demo.audio:AudioAutoencoder"))
    reports.append(check(VAE(), input_size=(1, 1, 28, 28), config=config, target="shapes_demo.vae:VAE"))
    return [r.to_dict() for r in reports]


def test_every_face_gives_the_same_findings(project, pytester, capsys, monkeypatch):
    # 1. check() with the project's pyproject.toml
    monkeypatch.chdir(project)
    api = _findings(_check_faces(project), project)

    # 2. the CLI, run from a subfolder: it finds pyproject.toml by walking up
    sub = project / "src" / "shapes_demo"
    monkeypatch.chdir(sub)
    code = cli.run(["--format", "json"])
    out, _ = capsys.readouterr()
    assert code == cli.EXIT_FINDINGS
    from_cli = _findings(json.loads(out)["models"], sub)

    # 3. and 4. plain pytest: the [tool.convshape] items, and the fixture in a test
    monkeypatch.chdir(project)
    (project / "tests" / "test_faces.py").write_text(FIXTURE_TEST)
    pytester.chdir()
    result = pytester.runpytest_inprocess(str(project), "--rootdir", str(project), "-p", "no:cacheprovider", f"--convshape-report={project / 'report.json'}")
    result.assert_outcomes(passed=5, failed=1)  # the U-Net at 62x62: its skip connection does not line up
    models = json.loads((project / "report.json").read_text())["models"]
    items = _findings([m for m in models if m["test"].startswith("pyproject.toml::")], project)
    fixture = _findings([m for m in models if m["test"].endswith("::test_faces")], project)

    assert set(api) == set(from_cli) == set(items) == set(fixture)
    assert len(api) == 4
    for key in api:
        assert from_cli[key] == api[key], key
        assert items[key] == api[key], key
        assert fixture[key] == api[key], key
    # what the faces agree on is the project's verdict: the inline suppression, the ignore, the error
    verdicts = {key[0].split(":")[1] + " " + key[1]: (ok, [f[0] for f in found], silenced) for key, (ok, found, silenced) in api.items()}
    assert verdicts == {
        "DiffusionUNet sample=1x3x64x64, timestep=1:int64": (True, [], []),
        "DiffusionUNet sample=1x3x62x62, timestep=1:int64": (False, ["CS102"], []),
        "AudioAutoencoder 1x1x16000": (True, [], [("CS301", "decoder.4")]),
        "VAE 1x1x28x28": (True, [], []),
    }


def test_the_gate_runs_from_plain_pytest_alone(tmp_path, pytester, monkeypatch):
    """No conftest, no plugin option, nothing on sys.path: pyproject.toml is the whole
    configuration (its `pythonpath` for the fixture's test, `src` for the gate's targets)."""
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    assert not (project / "conftest.py").exists()
    pytester.chdir()
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(project))])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    for name in [n for n in sys.modules if n == "shapes_demo" or n.startswith("shapes_demo.")]:
        del sys.modules[name]
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["FAILED pyproject.toml::convshape[[]unet-sample=1x3x62x62,timestep=1:int64[]]*"])
