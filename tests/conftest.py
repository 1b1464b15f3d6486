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
