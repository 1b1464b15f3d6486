"""Collecting the ``[tool.convshape]`` items is as cheap as collecting without them: the model
modules are read (to name a missing module or name before collection), not imported; they are
imported when the item runs."""

from __future__ import annotations

import textwrap

import pytest

MODELS = textwrap.dedent(
    """
    import pathlib
    pathlib.Path(__file__).with_name("imported.marker").write_text("imported")
    from torch import nn

    class Autoencoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Conv2d(1, 1, 5, stride=2)
            self.decoder = nn.ConvTranspose2d(1, 1, 5, stride=2, output_padding=1)

        def forward(self, x):
            return self.decoder(self.encoder(x))
    """
)


def _project(pytester: pytest.Pytester, target: str = "models.py:Autoencoder") -> None:
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        testpaths = ["tests"]

        [[tool.convshape.models]]
        target = "{target}"
        input = [1, 1, 28, 28]
        """
    )
    pytester.makepyfile(models=MODELS)
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_plain.py").write_text("def test_plain():\n    assert True\n")


def test_collection_imports_no_model_module_and_no_torch(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makeconftest(
        """
        import sys

        def pytest_collection_finish(session):
            print("TORCH-IMPORTED" if "torch" in sys.modules else "TORCH-NOT-IMPORTED")
        """
    )
    result = pytester.runpytest_subprocess("--co", "-q", "-s")
    result.stdout.fnmatch_lines(["*convshape[[]models.py:Autoencoder-1x1x28x28[]]*", "*TORCH-NOT-IMPORTED*"])
    assert not (pytester.path / "imported.marker").exists()
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=2)
    assert (pytester.path / "imported.marker").exists()


@pytest.mark.parametrize(
    "target, message",
    [
        ("models.py:Autoencodr", "*models.py has no name 'Autoencodr'; did you mean Autoencoder?*"),
        ("nothere.py:Autoencoder", "*file nothere.py not found*"),
        ("no_such_pkg.models:Autoencoder", "*module 'no_such_pkg.models' not found*"),
    ],
)
def test_a_missing_target_is_still_a_usage_error_before_collection(pytester: pytest.Pytester, target: str, message: str) -> None:
    _project(pytester, target)
    result = pytester.runpytest_subprocess("--co", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert not (pytester.path / "imported.marker").exists()
