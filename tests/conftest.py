"""Shared test set-up: pytester for the plugin tests."""

import pytest

pytest_plugins = ["pytester"]


def pytest_addoption(parser):
    group = parser.getgroup("convshape-fuzz", "pytest-convshape differential fuzzing (tests/test_fuzz.py)")
    group.addoption("--fuzz-long", action="store_true", default=False,
                    help="run the long differential fuzz run against eager torch (tests/test_fuzz.py::test_fuzz_long)")
    group.addoption("--fuzz-examples", type=int, default=5000, metavar="N",
                    help="models drawn by the long fuzz run, over all shards (default 5000)")
    group.addoption("--fuzz-seed", type=int, default=0, metavar="S",
                    help="seed of the long fuzz run (default 0)")
    group.addoption("--fuzz-family", action="append", default=[], metavar="NAME",
                    help="restrict the long fuzz run to this family (repeatable; default: every family)")


SLOW_MODULES = {
    "test_plugin_subprocess.py", "test_gate_collection.py", "test_fuzz.py",  # subprocesses, xdist, fuzzing
    "test_precision.py", "test_awkward.py", "test_no_harm.py", "test_sarif_schema.py",  # many models (and eager torch)
}
"""Whole modules that start subprocesses, run pytest-xdist or compare many models with eager torch."""
SLOW_TESTS = {
    "test_readme.py::test_messages_table_is_current",  # runs every bad input of the docs
    "test_fastshape.py::test_verdicts_are_the_same_without_the_shortcut",  # the zoo twice
    "test_awkward.py::test_torch_compile_wrapper_is_linted_through_without_compiling",
    "test_awkward.py::test_value_dependent_control_flow_falls_back_to_one_real_cpu_pass",
    "test_public_api.py::test_result_types_do_not_import_torch",  # a subprocess
    "test_sweep.py::test_zoo_sweep_agrees_with_torch_export",  # every size through torch.export
    "test_sweep.py::test_zoo_sweep_equals_eager_at_every_size",  # every size in eager torch
    "test_docs.py::test_page_runs_and_shows_what_the_code_does",  # every command of the docs
    "test_fix.py::test_fix_for_the_models_of_pyproject",  # --fix lints again in a subprocess
}


def pytest_collection_modifyitems(config, items):
    """``slow``: subprocesses, pytest-xdist, fuzzing and property tests against eager torch;
    ``pytest -m "not slow"`` is the quick loop while editing."""
    import pytest

    for item in items:
        module = item.path.name
        key = f"{module}::{getattr(item, 'originalname', item.name)}"
        if module in SLOW_MODULES or key in SLOW_TESTS or getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def warm_imports():
    """One check before any pytester run: pytester restores ``sys.modules`` after each in-process
    run, so torch's lazily imported submodules would otherwise be imported again every time (and
    a second import of some, such as torch's operator registrations, raises). Session-wide, so no
    order of tests or xdist split can run a pytester test first."""
    import torch
    from torch import nn

    from pytest_convshape import api, gate, loader, suppress  # noqa: F401

    try:  # hypothesis's pytest plugin imports it inside every in-process run otherwise
        import hypothesis  # noqa: F401
    except ImportError:  # pragma: no cover
        pass

    model = nn.Sequential(nn.Conv2d(1, 1, 5, stride=2), nn.ReLU(), nn.ConvTranspose2d(1, 1, 5, stride=2))
    api.check(model, input_size=(1, 1, 28, 28))
    api.check(model, example_inputs=torch.empty(1, 1, 28, 28, device="meta"), pairs=[("0", "2")])

    class ValueDependent(nn.Module):  # the fallback pass imports more of torch (its operator registry)
        def forward(self, x):
            return x * 2 if x.sum() > 0 else x

    api.check(nn.Sequential(model, ValueDependent()), input_size=(1, 1, 28, 28))
