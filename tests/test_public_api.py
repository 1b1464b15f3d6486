"""The public surface: ``__all__`` holds what README and docs/ present, every name imports, and
importing the package (or its result types) does not import torch."""

import subprocess
import sys

import pytest_convshape


def test_all_names_import():
    for name in pytest_convshape.__all__:
        assert getattr(pytest_convshape, name) is not None
    assert {"check", "Report", "Finding", "Fix", "Rule", "InputError"} <= set(pytest_convshape.__all__)


def test_input_error_is_the_one_check_raises():
    from pytest_convshape.api import InputError as raised

    assert pytest_convshape.InputError is raised
    assert issubclass(pytest_convshape.InputError, ValueError)


def test_result_types_do_not_import_torch():
    code = (
        "import sys\n"
        "from pytest_convshape import Report, Finding, Fix, Rule, RULES, InputError\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_unknown_name_says_so():
    try:
        pytest_convshape.Nope  # noqa: B018
    except AttributeError as exc:
        assert "has no attribute 'Nope'" in str(exc)
    else:
        raise AssertionError("no AttributeError")
