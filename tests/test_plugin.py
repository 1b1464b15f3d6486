"""The pytest plugin, in temporary projects (pytester, in process): the fixture, the models of
[tool.convshape] as test items, settings errors, the header, the summary and the JSON report."""

from __future__ import annotations

import json
import re
import textwrap

import pytest
from golden_files import assert_golden
from sample_models import AUTOENCODER

GATE = """
[[tool.convshape.models]]
target = "models.py:Autoencoder"
input = [1, 1, 28, 28]
"""

ITEM = "pyproject.toml::convshape[models.py:Autoencoder-1x1x28x28]"


def esc(text: str) -> str:
    """A literal line as an fnmatch pattern."""
    return re.sub(r"([*?[])", r"[\1]", text)




def section(lines: list[str], title_pattern: str) -> list[str]:
    """Lines between the separator line that matches ``title_pattern`` and the next separator."""
    sep = re.compile(r"^[=_-]{3,} .* [=_-]{3,}$")
    out: list[str] | None = None
    for line in lines:
        if out is not None:
            if sep.match(line):
                break
            out.append(line)
        elif sep.match(line) and re.search(title_pattern, line):
            out = []
    assert out is not None, f"no section {title_pattern!r}"
    return out


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(models=AUTOENCODER)
    return pytester


# --------------------------------------------------------------------------- the user's story


def test_newcomer_gets_failing_ci_with_the_layer_the_arithmetic_and_the_fix(project):
    project.makepyprojecttoml(GATE)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ " + esc("convshape[models.py:Autoencoder-1x1x28x28]") + " _*",
            "convshape: models.py:Autoencoder  input 1x1x28x28  (meta device)",
            esc("  encoder.0 (Conv2d)  decoder.0 (ConvTranspose2d)  28x28 -> 12x12 ... 12x12 -> 27x27") + "*MISMATCH",
            "CS101 error  models.py:9",
            esc("  decoder.0: ConvTranspose2d gives 27x27, encoder.0 (Conv2d) took 28x28: (12-1)*2 - 2*0 + 1*(5-1) + 0 + 1 = 27; set output_padding=1 to get 28"),
            "  fix: output_padding=1 on decoder.0",
            "FAILED: 1 error, 0 warnings, 0 infos",
        ]
    )
    # the short summary names the finding, not the first line of the report
    result.stdout.fnmatch_lines([esc(f"FAILED {ITEM} - CS101 dec") + "*"])
    assert_golden("plugin_failure.txt", "\n".join(section(result.outlines, r"_ convshape\[")) + "\n")

    # the fix from the message, applied: green
    project.makepyfile(models=AUTOENCODER.replace("output_padding=0", "output_padding=1"))
    result = project.runpytest()
    result.assert_outcomes(passed=1)


def test_one_line_forms_name_the_finding(project):
    project.makepyprojecttoml(GATE)
    project.makepyfile(test_models=FIXTURE_TESTS)
    result = project.runpytest("--tb=line", "-k", "gate or convshape", "--junitxml=junit.xml")
    result.assert_outcomes(failed=2, deselected=4)
    result.stdout.fnmatch_lines(["*models.py:9: CS101 decoder.0: ConvTranspose2d gives 27x27, encoder.0 (Conv2d) took 28x28: *"])
    junit = project.path.joinpath("junit.xml").read_text()
    assert junit.count('<failure message="CS101 decoder.0: ConvTranspose2d gives 27x27') == 2


def test_the_fix_through_kwargs(project):
    project.makepyprojecttoml(GATE + "kwargs = { output_padding = 1 }\n")
    project.runpytest().assert_outcomes(passed=1)


def test_factory_target_and_module_target(project):
    project.makepyprojecttoml(
        """
        [[tool.convshape.models]]
        target = "models:fixed"
        input = [[1, 1, 28, 28], [1, 1, 32, 32]]
        """
    )
    result = project.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([esc("pyproject.toml::convshape[models:fixed-1x1x28x28]") + " PASSED*", esc("pyproject.toml::convshape[models:fixed-1x1x32x32]") + " PASSED*"])


def test_package_target_and_id(pytester):
    pytester.mkpydir("mypkg")
    pytester.path.joinpath("mypkg", "models.py").write_text(AUTOENCODER)
    pytester.makepyprojecttoml(
        """
        [[tool.convshape.models]]
        target = "mypkg.models:Autoencoder"
        id = "ae"
        kwargs = { output_padding = 1 }
        input = [1, 1, 28, 28]
        """
    )
    result = pytester.runpytest("--co", "-q")
    result.stdout.fnmatch_lines([esc("pyproject.toml::convshape[ae-1x1x28x28]")])
    pytester.runpytest().assert_outcomes(passed=1)


def test_path_target_in_a_subfolder(pytester):
    pytester.mkdir("src")
    pytester.path.joinpath("src", "nets.py").write_text(AUTOENCODER)
    pytester.makepyprojecttoml(
        """
        [[tool.convshape.models]]
        target = "src/nets.py:Autoencoder"
        input = [1, 1, 28, 28]
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["CS101 error  src/nets.py:9"])


# --------------------------------------------------------------------------- collection


@pytest.fixture
def with_testpaths(project):
    project.makepyprojecttoml('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n' + GATE)
    project.mkdir("tests")
    project.path.joinpath("tests", "test_plain.py").write_text("def test_plain():\n    pass\n")
    return project


def test_plain_pytest_with_testpaths_collects_the_models(with_testpaths):
    result = with_testpaths.runpytest("--co", "-q")
    result.stdout.fnmatch_lines(["tests/test_plain.py::test_plain", esc(ITEM), "2 tests collected*"])


def test_explicit_test_path_does_not_add_the_models(with_testpaths):
    result = with_testpaths.runpytest("tests/test_plain.py", "--co", "-q")
    result.stdout.fnmatch_lines(["tests/test_plain.py::test_plain", "1 test collected*"])
    assert "convshape[" not in result.stdout.str()


def test_pyproject_as_argument_runs_only_the_models(with_testpaths):
    result = with_testpaths.runpytest("pyproject.toml", "--co", "-q")
    result.stdout.fnmatch_lines([esc(ITEM), "1 test collected*"])
    result = with_testpaths.runpytest(ITEM)
    result.assert_outcomes(failed=1)


def test_without_testpaths_the_rootdir_walk_finds_pyproject(project):
    project.makepyprojecttoml(GATE)
    project.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = project.runpytest("--co", "-q")
    result.stdout.fnmatch_lines([esc(ITEM), "test_plain.py::test_plain", "2 tests collected*"])


def test_last_failed_reruns_the_failed_model(with_testpaths):
    with_testpaths.runpytest().assert_outcomes(passed=1, failed=1)
    result = with_testpaths.runpytest("--lf")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["run-last-failure: rerun previous 1 failure"])


@pytest.mark.parametrize("args", [["-k", "not convshape"], ["-m", "not convshape"], ["--deselect", ITEM]])
def test_models_can_be_deselected(with_testpaths, args):
    result = with_testpaths.runpytest(*args)
    result.assert_outcomes(passed=1, deselected=1)


def test_k_selects_a_model(with_testpaths):
    result = with_testpaths.runpytest("-k", "Autoencoder")
    result.assert_outcomes(failed=1, deselected=1)


def test_no_convshape_turns_the_items_off(with_testpaths):
    result = with_testpaths.runpytest("--no-convshape")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["convshape: [[]tool.convshape[]] in pyproject.toml: 1 model, 1 input; select all, items off (--no-convshape)"])


def test_collect_false_turns_the_items_off(project):
    project.makepyprojecttoml("[tool.convshape]\ncollect = false\n" + GATE)
    project.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = project.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*items off (collect = false in pyproject.toml)"])


def test_pytest_ini_next_to_pyproject(project):
    project.makepyprojecttoml(GATE)
    project.makeini("[pytest]\n")
    project.runpytest().assert_outcomes(failed=1)


def test_header_names_the_active_settings(project):
    project.makepyprojecttoml(
        '[tool.convshape]\nselect = ["CS1", "CS2"]\nignore = ["CS901"]\nper-module-ignores = { "decoder.*" = ["CS301"] }\n' + GATE
    )
    result = project.runpytest("--co", "--convshape-report=out/report.json")
    result.stdout.fnmatch_lines(
        [
            "convshape: [[]tool.convshape[]] in pyproject.toml: 1 model, 1 input; select CS1, CS2; ignore CS901; per-module-ignores decoder.[*] -> CS301",
            "convshape: report -> out/report.json",
        ]
    )


def test_project_without_the_table_shows_nothing(pytester):
    pytester.makepyprojecttoml('[project]\nname = "plain"\n')
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "convshape" not in result.stdout.str().replace("convshape-", "")


# --------------------------------------------------------------------------- settings errors


@pytest.mark.parametrize(
    "toml, message",
    [
        ('[tool.convshape]\nselct = ["CS1"]\n', "ERROR: pyproject.toml: tool.convshape.selct: unknown key; did you mean 'select'?*"),
        ('[tool.convshape]\nignore = ["CS999"]\n', "ERROR: pyproject.toml: tool.convshape.ignore = [[]\"CS999\"[]]: unknown rule 'CS999'*"),
        (GATE.replace("[1, 1, 28, 28]", "[1, 1, -28, 28]"), "ERROR: pyproject.toml: tool.convshape.models[[]0[]].input = *-28 * is not a positive int*"),
        (GATE.replace("models.py:Autoencoder", "models.py"), 'ERROR: pyproject.toml: tool.convshape.models[[]0[]].target = "models.py": expected "package.module:NAME" or "path/to/file.py:NAME"*'),
        (GATE + GATE, "ERROR: pyproject.toml: tool.convshape.models[[]1[]]: duplicate model*"),
    ],
)
def test_bad_settings_are_usage_errors(project, toml, message):
    project.makepyprojecttoml(toml)
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize(
    "target, message",
    [
        ("nopkg.models:Net", "pyproject.toml: tool.convshape.models[[]0[]].target = \"nopkg.models:Net\": module 'nopkg.models' not found*"),
        ("models:Autoencodr", "pyproject.toml: tool.convshape.models[[]0[]].target = \"models:Autoencodr\": models has no name 'Autoencodr'; did you mean Autoencoder?"),
    ],
)
def test_missing_module_or_name_is_a_usage_error(project, target, message):
    project.makepyprojecttoml(GATE.replace("models.py:Autoencoder", target))
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: " + message])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_missing_name_is_not_imported_when_the_run_names_other_paths(project):
    project.makepyprojecttoml(GATE.replace("models.py:Autoencoder", "models:Autoencodr"))
    project.makepyfile(test_other="def test_x():\n    pass\n")
    result = project.runpytest("test_other.py")
    result.assert_outcomes(passed=1)


def test_model_that_cannot_be_built_fails_its_item(project):
    project.makepyprojecttoml(GATE + "kwargs = { channels = 3 }\n")
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "pyproject.toml: tool.convshape.models[[]0[]].kwargs = { channels = 3 } (models.py:Autoencoder): class Autoencoder(**{'channels': 3}) raised TypeError*",
        ]
    )


def test_input_that_does_not_fit_fails_its_item(project):
    project.makepyprojecttoml(GATE.replace("[1, 1, 28, 28]", "[1, 3, 28, 28]"))
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["pyproject.toml: tool.convshape.models[[]0[]].input 1x3x28x28 (models.py:Autoencoder): input 1x3x28x28 does not fit the model*"])


def test_explicit_pairs_that_do_not_exist(project):
    project.makepyprojecttoml(GATE + 'pairs = [["encoder.0", "decoder.9"]]\n')
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["pyproject.toml: tool.convshape.models[[]0[]].pairs (models.py:Autoencoder, input 1x1x28x28): up layer 'decoder.9'*did you mean*"])


# --------------------------------------------------------------------------- ignores and suppressions


def test_global_and_model_ignores(project):
    project.makepyprojecttoml('[tool.convshape]\nignore = ["CS1"]\n' + GATE)
    project.runpytest().assert_outcomes(passed=1)
    project.makepyprojecttoml(GATE + 'ignore = ["CS101"]\n')
    project.runpytest().assert_outcomes(passed=1)
    project.makepyprojecttoml('[tool.convshape]\nselect = ["CS2"]\n' + GATE)
    project.runpytest().assert_outcomes(passed=1)


def test_per_module_ignores(project):
    project.makepyprojecttoml('[tool.convshape]\nper-module-ignores = { "decoder.*" = ["CS101"] }\n' + GATE)
    project.runpytest().assert_outcomes(passed=1)
    project.makepyprojecttoml('[tool.convshape]\nper-module-ignores = { "encoder.*" = ["CS101"] }\n' + GATE)
    project.runpytest().assert_outcomes(failed=1)
    project.makepyprojecttoml(GATE + 'per-module-ignores = { "decoder.0" = ["CS1"] }\n')
    project.runpytest().assert_outcomes(passed=1)


def test_inline_suppression_and_unused_suppression(project):
    suppressed = AUTOENCODER.replace(
        "output_padding=output_padding),", "output_padding=output_padding),  # convshape: ignore[CS101]"
    )
    project.makepyfile(models=suppressed)
    project.makepyprojecttoml(
        """
        [[tool.convshape.models]]
        target = "models.py:Autoencoder"
        input = [[1, 1, 28, 28], [1, 1, 27, 27]]
        """
    )
    result = project.runpytest("-rA")
    result.assert_outcomes(passed=2)
    # 28x28 needs the suppression; 27x27 round-trips, so there the comment silences nothing
    result.stdout.fnmatch_lines(
        [
            "*convshape*",
            "2 model checks, 0 failed: 0 errors, 1 warning, 0 infos",
            "  CS910  warning    1  unused-suppression",
            esc("models.py:9: CS910 `# convshape: ignore[CS101]` silences nothing: no CS101 finding on decoder.0 for input 1x1x27x27  [pyproject.toml::convshape[models.py:Autoencoder-1x1x27x27]]"),
        ]
    )


# --------------------------------------------------------------------------- the fixture


FIXTURE_TESTS = """
import pytest
import torch
from models import Autoencoder


def test_gate(convshape):
    convshape.check(Autoencoder(), input_size=(1, 1, 28, 28))


def test_returns_report(convshape):
    report = convshape.check(Autoencoder(output_padding=1), input_size=(1, 1, 28, 28))
    assert report.ok and report.findings == ()
    assert [(p.down, p.up) for p in report.pairs] == [("encoder.0", "decoder.0")]


def test_options_pass_through(convshape):
    report = convshape.check(
        Autoencoder(),
        example_inputs=torch.empty(1, 1, 28, 28, device="meta"),
        pairs=[("encoder.0", "decoder.0")],
        ignore=["CS101"],
    )
    assert report.ok and report.input == "1x1x28x28"
    assert report.pairs[0].evidence == "explicit"


def test_report_never_fails(convshape):
    report = convshape.report(Autoencoder(), input_size=(1, 1, 28, 28))
    assert [f.code for f in report.findings] == ["CS101"]


def test_per_module_ignores_argument(convshape):
    convshape.check(Autoencoder(), input_size=(1, 1, 28, 28), per_module_ignores={"decoder.*": ["CS101"]})
"""


def test_fixture_fails_with_the_report_and_returns_it_otherwise(project):
    project.makepyfile(test_models=FIXTURE_TESTS)
    result = project.runpytest()
    result.assert_outcomes(passed=4, failed=1)
    lines = section(result.outlines, r"_ test_gate _")
    assert lines[0] == "convshape: models.Autoencoder  input 1x1x28x28  (meta device)"
    assert "  fix: output_padding=1 on decoder.0" in lines
    assert not any(line.startswith(">") for line in lines), "no traceback, just the report"


def test_fixture_obeys_the_settings(project):
    project.makepyprojecttoml('[tool.convshape]\nignore = ["CS101"]\n')
    project.makepyfile(test_models=FIXTURE_TESTS)
    result = project.runpytest("-k", "test_gate")
    result.assert_outcomes(passed=1, deselected=4)


# --------------------------------------------------------------------------- summary and JSON report


def test_summary_and_json_report_for_the_whole_run(project):
    project.makepyprojecttoml(
        """
        [[tool.convshape.models]]
        target = "models.py:Autoencoder"
        input = [[1, 1, 28, 28], [1, 1, 27, 27]]
        """
    )
    project.makepyfile(test_models=FIXTURE_TESTS)
    result = project.runpytest("--convshape-report=convshape-report.json")
    result.assert_outcomes(passed=5, failed=2)
    summary = section(result.outlines, r"= convshape =")
    assert_golden("plugin_summary.txt", "\n".join(summary) + "\n")
    result.stdout.fnmatch_lines(["convshape: wrote convshape-report.json (7 model checks)"])

    data = json.loads(project.path.joinpath("convshape-report.json").read_text())
    models = data["models"]
    assert [(m["test"], m["input"], m["ok"]) for m in models] == [
        ("pyproject.toml::convshape[models.py:Autoencoder-1x1x27x27]", "1x1x27x27", True),
        ("pyproject.toml::convshape[models.py:Autoencoder-1x1x28x28]", "1x1x28x28", False),
        ("test_models.py::test_gate", "1x1x28x28", False),
        ("test_models.py::test_options_pass_through", "1x1x28x28", True),
        ("test_models.py::test_per_module_ignores_argument", "1x1x28x28", True),
        ("test_models.py::test_report_never_fails", "1x1x28x28", False),
        ("test_models.py::test_returns_report", "1x1x28x28", True),
    ]
    failing = models[1]
    assert failing["target"] == "models.py:Autoencoder"
    assert failing["pairs"] == [{"down": "encoder.0", "up": "decoder.0", "evidence": "mirror"}]
    [f] = failing["findings"]
    assert {k: f[k] for k in ("code", "severity", "up", "down", "expected", "actual", "fix", "location")} == {
        "code": "CS101",
        "severity": "error",
        "up": "decoder.0",
        "down": "encoder.0",
        "expected": [28, 28],
        "actual": [27, 27],
        "fix": {"output_padding": [1, 1], "verified": True},
        "location": "models.py:9",
    }
    assert "= 27; set output_padding=1 to get 28" in f["message"]
    assert models[0]["findings"] == [] and models[0]["pairs"][0]["evidence"] == "mirror"
    assert models[4]["suppressed"] == [{"code": "CS101", "layer": "decoder.0", "by": "per-module-ignores decoder.*"}]


def test_report_is_written_even_when_nothing_was_checked(pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest("--convshape-report", "sub/r.json")
    result.assert_outcomes(passed=1)
    assert json.loads(pytester.path.joinpath("sub", "r.json").read_text()) == {"schema": 1, "models": []}


def test_model_error_is_in_the_json_report(project):
    project.makepyprojecttoml(GATE + "kwargs = { channels = 3 }\n")
    project.runpytest("--convshape-report=r.json").assert_outcomes(failed=1)
    [entry] = json.loads(project.path.joinpath("r.json").read_text())["models"]
    assert entry["ok"] is False and entry["findings"] == [] and "raised TypeError" in entry["error"]


def test_fixture_without_pyproject_uses_no_settings(pytester):
    pytester.makepyfile(models=AUTOENCODER)
    pytester.makepyfile(
        test_x=textwrap.dedent(
            """
            from models import Autoencoder

            def test_ok(convshape):
                assert convshape.check(Autoencoder(output_padding=1), (1, 1, 28, 28)).ok
            """
        )
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
