"""pytest glue: the ``convshape`` fixture, the models of ``[tool.convshape]`` as test items,
the terminal summary and ``--convshape-report``.

pytest imports this module at every start in every project where the package is installed,
so it imports nothing heavy: no torch (only when a model is checked), and the settings module
only when pyproject.toml mentions ``convshape``.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from .config import ModelSpec, Settings
    from .gate import Gate
    from .inputspec import InputSet
    from .report import Report

_STATE = pytest.StashKey["_State"]()
_NODE_REPORTS = pytest.StashKey[list]()


class _State:
    """Everything the plugin reads from ``pytest.Config``, read in one place
    (:meth:`from_config`), plus what the run collects."""

    def __init__(
        self,
        settings: Settings | None,
        *,
        items_off: str = "",
        report_path: str | None = None,
        worker: bool = False,
        html_path: str | None = None,
    ):
        self.settings = settings
        self.items_off = items_off
        """Why the models are not collected as items ('' when they are)."""
        self.report_path = report_path
        self.html_path = html_path
        self.worker = worker
        self.visited = False
        self.reports: list[tuple[str, int, dict[str, Any]]] = []
        self._gate: Gate | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> _State:
        settings = _load_settings(config)
        items_off = ""
        if settings is not None and settings.models:
            if config.getoption("convshape_off"):
                items_off = "--no-convshape"
            elif not settings.collect:
                items_off = f"collect = false in {settings.display}"
        report_path, html_path = (
            os.path.join(str(config.invocation_params.dir), os.path.expanduser(p)) if p else None
            for p in (config.getoption("convshape_report"), config.getoption("convshape_html"))
        )
        return cls(settings, items_off=items_off, report_path=report_path, worker=hasattr(config, "workerinput"), html_path=html_path)

    @property
    def collecting(self) -> bool:
        return self.settings is not None and bool(self.settings.models) and not self.items_off

    @property
    def gate(self) -> Gate:
        if self._gate is None:
            from .gate import Gate

            assert self.settings is not None
            self._gate = Gate(self.settings)
        return self._gate


def _pyproject(config: pytest.Config) -> str | None:
    inipath = config.inipath
    if inipath is not None and inipath.name == "pyproject.toml":
        return str(inipath)
    candidate = os.path.join(str(config.rootpath), "pyproject.toml")
    return candidate if os.path.isfile(candidate) else None


def _load_settings(config: pytest.Config) -> Settings | None:
    path = _pyproject(config)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None
    if "convshape" not in text:  # the common case: a project that does not use convshape
        return None
    from .config import ConfigError, load

    try:
        settings = load(path, display=_display(path, config))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    return settings if settings.present else None


def _display(path: str, config: pytest.Config) -> str:
    """``path`` relative to where pytest was started, when it lies below it."""
    try:
        rel = os.path.relpath(path, str(config.invocation_params.dir))
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def _state(config: pytest.Config) -> _State:
    state = config.stash.get(_STATE, None)
    if state is None:  # the plugin was registered late (pytester, -p)
        state = config.stash[_STATE] = _State.from_config(config)
    return state


# --------------------------------------------------------------------------- hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("convshape", "convshape: shape lint for PyTorch models")
    group.addoption(
        "--no-convshape",
        action="store_true",
        dest="convshape_off",
        default=False,
        help="do not collect the models of [tool.convshape] as test items (the convshape fixture still works)",
    )
    group.addoption(
        "--convshape-report",
        metavar="PATH",
        dest="convshape_report",
        default=None,
        help="write the JSON report of every model checked in this run (items and fixture calls) to PATH",
    )
    group.addoption(
        "--convshape-html",
        metavar="PATH",
        dest="convshape_html",
        default=None,
        help="write one HTML page with every model checked in this run (its U diagram, findings and valid sizes) to PATH",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "convshape: a model from [tool.convshape] checked by pytest-convshape")
    state = config.stash[_STATE] = _State.from_config(config)
    if not state.worker:  # with pytest-xdist only the controller gathers, summarises and writes
        config.pluginmanager.register(_Recorder(config, state), "convshape-recorder")


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = _state(config)
    lines = []
    if state.settings is not None:
        s = state.settings
        items = f", items off ({state.items_off})" if state.items_off else ""
        lines.append(f"convshape: [tool.convshape] in {s.display}: {s.describe()}{items}")
    if state.report_path:
        lines.append(f"convshape: report -> {_display(state.report_path, config)}")
    return lines


def pytest_sessionstart(session: pytest.Session) -> None:
    """A target whose module or name cannot be found is a bad setting like any other: stop
    with a usage error before collecting, when this run is going to collect the models."""
    config = session.config
    state = _state(config)
    if state.worker or not state.collecting or state.settings is None or state.settings.path is None:
        return
    if not (_from_testpaths(config) or _args_reach(config, str(state.settings.path))):
        return
    problems = state.gate.resolve_all(static=True)  # reads the models' sources, imports nothing
    if problems:
        raise pytest.UsageError("\n".join(problems))


def _args_reach(config: pytest.Config, pyproject: str) -> bool:
    """Whether the command-line paths include pyproject.toml (the file or a folder above it)."""
    base = str(config.invocation_params.dir)
    for arg in config.args:
        path = os.path.abspath(os.path.join(base, str(arg).split("::", 1)[0]))
        if path == pyproject or (os.path.isdir(path) and pyproject.startswith(path.rstrip(os.sep) + os.sep)):
            return True
    return False


def pytest_collect_file(file_path: Any, parent: pytest.Collector) -> pytest.Collector | None:
    state = _state(parent.config)
    if not state.collecting or state.settings is None or state.settings.path is None:
        return None
    if str(file_path) != str(state.settings.path):
        return None
    return ConvshapeFile.from_parent(parent, path=state.settings.path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """A plain ``pytest`` with ``testpaths`` does not visit pyproject.toml: add its models
    here, before ``-k``/``-m``/``--deselect`` and friends see the items. Runs given explicit
    paths (``pytest tests/test_x.py``) get no model items."""
    state = _state(config)
    if state.visited or not state.collecting or state.settings is None or state.settings.path is None:
        return
    if not _from_testpaths(config):
        return
    collector = ConvshapeFile.from_parent(session, path=state.settings.path)
    items.extend(session.genitems(collector))


def _from_testpaths(config: pytest.Config) -> bool:
    """True when the run's paths came from ``testpaths`` (a plain ``pytest``), not the
    command line. pytest before 7.2 does not say: treat those runs as explicit."""
    args_source = getattr(pytest.Config, "ArgsSource", None)
    return args_source is not None and getattr(config, "args_source", None) == args_source.TESTPATHS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    failed = call.excinfo.value if call.excinfo is not None else None
    if isinstance(failed, ConvshapeFailed):
        report = outcome.get_result()
        report.longrepr = failed.longrepr(str(item.path))
        crash = report.longrepr.reprcrash
        report.convshape_crash = [crash.path, crash.lineno, crash.message]  # survives pytest-xdist
    if call.when == "teardown":
        found = item.stash.get(_NODE_REPORTS, None)
        if found:
            # a plain attribute of the TestReport: pytest-xdist ships it to the controller
            outcome.get_result().convshape_reports = list(found)


class _Recorder:
    """The controller's side: gathers the reports shipped on each item's teardown report,
    prints the summary section and writes ``--convshape-report``."""

    def __init__(self, config: pytest.Config, state: _State):
        self.config = config
        self.state = state

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        crash = getattr(report, "convshape_crash", None)
        if crash and isinstance(report.longrepr, str):  # shipped by a pytest-xdist worker as text
            report.longrepr = _FailureRepr(report.longrepr, _Crash(*crash))  # type: ignore[assignment]  # duck-typed TerminalRepr
        found = getattr(report, "convshape_reports", None)
        if report.when == "teardown" and found:
            self.state.reports.extend((report.nodeid, i, entry) for i, entry in enumerate(found))

    def models(self) -> list[dict[str, Any]]:
        """Every report of the run, ordered by test id (the same serially and with xdist)."""
        ordered = sorted(self.state.reports, key=lambda r: (r[0], r[1]))
        return [{**entry, "test": nodeid} for nodeid, _, entry in ordered]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        models = self.models() if self.state.report_path or self.state.html_path else []
        if self.state.report_path:
            from .report import render_json_models

            _write(self.state.report_path, render_json_models(models) + "\n")
        if self.state.html_path:
            from .render_html import render_html

            _write(self.state.html_path, render_html(models, title="convshape report of a pytest run"))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        models = self.models()
        if models:
            from .report import render_summary

            terminalreporter.write_sep("=", "convshape")
            for line in render_summary(models):
                terminalreporter.write_line(line)
        from .records import plural

        for path, what in ((self.state.report_path, ""), (self.state.html_path, ", HTML")):
            if path:
                terminalreporter.write_line(f"convshape: wrote {_display(path, self.config)} ({plural(len(models), 'model check')}{what})")


def _write(path: str, text: str) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


# --------------------------------------------------------------------------- the fixture


class ConvshapeFixture:
    """``convshape.check(model, input_size=...)`` fails the test with the readable report when
    there is an error finding (or a warning, with ``fail-on = "warning"``), and returns the
    ``Report`` otherwise.

    Every option of :func:`pytest_convshape.check` passes through (``example_inputs``,
    ``pairs``, ``select``, ``extend_select``, ``ignore``, ``per_module_ignores``, ``fail_on``,
    ``sizes``, ...), merged with ``[tool.convshape]`` the way ``check(config=...)`` merges them:
    ``select`` and ``fail_on`` given here replace the configured ones, the others add to them.
    Inline ``# convshape: ignore[...]`` comments apply.
    """

    def __init__(self, node: pytest.Item, settings: Settings | None):
        self._node = node
        self._settings = settings

    def check(self, model: Any, input_size: Sequence[int] | None = None, **options: Any) -> Report:
        report = self.report(model, input_size, **options)
        if not report.ok:
            raise ConvshapeFailed(report)
        return report

    def report(self, model: Any, input_size: Sequence[int] | None = None, **options: Any) -> Report:
        """Like :meth:`check`, but never fails: the ``Report`` for assertions of your own."""
        from .api import check

        if "config" not in options and self._settings is not None:
            options["config"] = self._settings
        report = check(model, input_size, **options)
        _record(self._node, report.to_dict())
        return report


def _record(node: pytest.Item, entry: dict[str, Any]) -> None:
    node.stash.setdefault(_NODE_REPORTS, []).append(entry)


@pytest.fixture
def convshape(request: pytest.FixtureRequest) -> ConvshapeFixture:
    """Check a model's upsampling layers: ``convshape.check(Model(), input_size=(1, 1, 28, 28))``."""
    return ConvshapeFixture(request.node, _state(request.config).settings)


# --------------------------------------------------------------------------- collected models


class ConvshapeFile(pytest.File):
    """pyproject.toml as a collector: one item per model and input of ``[tool.convshape]``."""

    def collect(self) -> Iterator[pytest.Item]:
        from .config import ConfigError

        state = _state(self.config)
        assert state.settings is not None
        state.visited = True
        problems = state.gate.resolve_all(static=True)  # reads the models' sources, imports nothing
        if problems:
            raise ConfigError("\n".join(problems))
        for spec in state.settings.models:
            for inputs in spec.inputs:
                name = spec.item_name(inputs)
                # the id given as a string, parsed the way pytest parses ids from the command
                # line and its cache (``--lf``): name ``convshape``, params ``<target>-<inputs>``
                yield ConvshapeItem.from_parent(self, name=name, nodeid=f"{self.nodeid}::{name}", spec=spec, inputs=inputs)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        from .config import ConfigError

        if isinstance(excinfo.value, ConfigError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ConvshapeFailed(Exception):
    """A checked model has error findings; pytest shows the report as the failure."""

    def __init__(self, report: Report):
        super().__init__(str(report))
        self.report = report

    @property
    def headline(self) -> str:
        """The first failing finding, for pytest's one-line summaries (``-r``, ``--tb=line``, junitxml)."""
        errors = self.report.failures
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{errors[0].code} {errors[0].message}{more}" if errors else "convshape: failed"

    def longrepr(self, fallback_path: str) -> _FailureRepr:
        errors = self.report.failures
        where = errors[0].location if errors else None
        crash = _Crash(where.file if where else fallback_path, where.line if where else 0, self.headline)
        return _FailureRepr(str(self.report), crash)


class _Crash:
    """What pytest's one-line summaries read from ``longrepr.reprcrash``."""

    def __init__(self, path: str, lineno: int, message: str):
        self.path = path
        self.lineno = lineno
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.message}"


class _FailureRepr:
    """The report text as a test's failure: no traceback, and a one-line ``reprcrash`` so the
    short summary shows the finding, not the first line of the report. (With pytest-xdist it
    travels as its text.)"""

    def __init__(self, text: str, crash: _Crash):
        self.text = text
        self.reprcrash = crash

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


class ConvshapeItem(pytest.Item):
    """One model x one input: passes when the report has no error finding."""

    def __init__(self, *, spec: ModelSpec, inputs: InputSet, **kwargs: Any):
        super().__init__(**kwargs)
        self.spec = spec
        self.inputs = inputs
        self.add_marker("convshape")

    def runtest(self) -> None:
        from .gate import ModelError
        from .inputspec import describe

        state = _state(self.config)
        try:
            report = state.gate.check(self.spec, self.inputs)
        except ModelError as exc:
            _record(
                self,
                {"target": self.spec.target, "input": describe(self.inputs), "ok": False, "pairs": [], "findings": [], "error": str(exc)},
            )
            raise
        _record(self, report.to_dict())
        if not report.ok:
            raise ConvshapeFailed(report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:  # type: ignore[override]
        from .gate import ModelError

        if isinstance(excinfo.value, (ConvshapeFailed, ModelError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.name
