"""The plugin in real pytest processes: start-up without torch, and pytest-xdist."""

from __future__ import annotations

import json
import re

import pytest
from test_plugin import AUTOENCODER, FIXTURE_TESTS, GATE

NO_TORCH = """
import sys


def test_no_torch(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("convshape")
    assert "pytest_convshape.plugin" in sys.modules
    assert "torch" not in sys.modules, "the plugin imported torch"
"""


def test_plugin_loads_without_importing_torch(pytester: pytest.Pytester):
    pytester.makepyprojecttoml('[project]\nname = "plain"\nversion = "0"\n')
    pytester.makepyfile(test_plain=NO_TORCH)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_settings_alone_import_no_torch(pytester: pytest.Pytester):
    """A project with [tool.convshape] whose run does not include the model items (an explicit
    test path) pays for reading the settings, not for torch."""
    pytester.makepyfile(models=AUTOENCODER, test_plain=NO_TORCH)
    pytester.makepyprojecttoml('[tool.convshape]\nignore = ["CS901"]\n' + GATE)
    result = pytester.runpytest_subprocess("test_plain.py")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["convshape: [[]tool.convshape[]] in pyproject.toml: 1 model, 1 input; select all; ignore CS901"])


def outcomes(result: pytest.RunResult) -> list[tuple[str, str]]:
    found = []
    for line in result.outlines:
        m = re.match(r"^(PASSED|FAILED|ERROR|SKIPPED) (\S+)", line)
        if m:
            found.append((m.group(1), m.group(2)))
    return sorted(found)


def test_xdist_gives_the_same_outcomes_and_report_as_a_serial_run(pytester: pytest.Pytester):
    pytest.importorskip("xdist")
    pytester.makepyfile(models=AUTOENCODER, test_models=FIXTURE_TESTS)
    pytester.makepyprojecttoml(
        """
        [tool.convshape]
        ignore = ["CS901"]

        [[tool.convshape.models]]
        target = "models.py:Autoencoder"
        input = [[1, 1, 28, 28], [1, 1, 27, 27], [1, 1, 64, 64]]

        [[tool.convshape.models]]
        target = "models:fixed"
        input = [[1, 1, 28, 28], [1, 1, 32, 32]]
        """
    )
    serial = pytester.runpytest_inprocess("-rA", "--convshape-report=serial.json")
    parallel = pytester.runpytest_subprocess("-rA", "-n", "2", "--convshape-report=parallel.json", "-p", "no:hypothesispytest")
    assert serial.parseoutcomes() == parallel.parseoutcomes() == {"passed": 7, "failed": 3}
    assert outcomes(serial) == outcomes(parallel)
    for result in (serial, parallel):  # the failure's one-line form survives the trip from the worker
        assert sum(" - CS101 dec" in line for line in result.outlines if line.startswith("FAILED")) == 3
    a = json.loads(pytester.path.joinpath("serial.json").read_text())
    b = json.loads(pytester.path.joinpath("parallel.json").read_text())
    assert len(a["models"]) == 10
    assert a == b
    # the summary is printed once, by the controller, with every check
    for result in (serial, parallel):
        assert result.outlines.count(next(line for line in result.outlines if "= convshape =" in line)) == 1
        result.stdout.fnmatch_lines(["10 model checks, 4 failed: 4 errors, 0 warnings, 0 infos"])
