"""Shared test set-up: pytester for the plugin tests."""

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
