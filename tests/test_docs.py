"""Every command and code block of README.md and docs/ runs, and says what the code does today;
the generated pages (rules, README's rule table) match the rule registry; README's first screen
is what a newcomer needs; the CI workflow and the pre-commit hook do what the docs claim.

Conventions for the blocks are in ``tests/doc_blocks.py``.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from doc_blocks import PAGES, ROOT, Block, blocks, console_commands, matches

from pytest_convshape import cli, rule_docs
from pytest_convshape.rules import RULES

# --------------------------------------------------------------------------- generated pages


def test_rule_pages_and_tables_match_the_registry():
    stale = rule_docs.stale(ROOT)
    assert not stale, f"regenerate with `python -m pytest_convshape.rule_docs --write`: {', '.join(stale)}"


def test_sarif_descriptions_come_from_the_registry():
    for rule in RULES.values():
        d = rule_docs.sarif_rule(rule)
        assert d["fullDescription"]["text"] != d["shortDescription"]["text"]
        assert rule.what.replace("`", "") in d["fullDescription"]["text"]
        assert rule.example in d["help"]["text"] and rule.example.rstrip() in d["help"]["markdown"]


@pytest.mark.parametrize("code", list(RULES))
def test_rule_example_reports_its_rule(code, tmp_path, monkeypatch):
    path = tmp_path / f"example_{code.lower()}.py"
    path.write_text(RULES[code].example)
    monkeypatch.chdir(tmp_path)
    report = runpy.run_path(str(path))["report"]
    found = [f.code for f in report.findings]
    assert code in found, f"{code}'s example gives {found}:\n{report}"


# --------------------------------------------------------------------------- running the pages


class _Page:
    """Runs the blocks of one page in a scratch folder."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
        self.pytester = pytester
        self.monkeypatch = monkeypatch
        self.scratch = pytester.path
        self.cwd = self.scratch
        self.update = bool(os.environ.get("CONVSHAPE_UPDATE_DOCS"))
        self.updated: dict[int, str] = {}
        """With CONVSHAPE_UPDATE_DOCS=1: fence line -> the console block's text with today's output."""

    def run(self, block: Block) -> None:
        d = block.directives
        if "project" in d:
            self._copy_project(d["project"])
        if "copy" in d:  # a folder of the checkout, at the same relative path
            shutil.copytree(ROOT / d["copy"], self.scratch / d["copy"], dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        if "file" in d:
            target = self.scratch / d["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text)
            self._forget()
            return
        if "synopsis" in d:
            getattr(self, f"_synopsis_{d['synopsis']}")(block)
            return
        if "setup" in d or "dev" in d:
            return  # test_readme_setup_commands / test_development_commands
        if "prose" in d:  # a diagram: nothing to run, and no command hides in it
            assert block.lang == "text" and not re.search(r"^\$ |\bconvshape \S+:|\bpip install", block.text, re.M), block.where
            return
        runner = getattr(self, f"_{block.lang}", None)
        assert runner is not None, f"{block.where}: no test runs a {block.lang!r} block; mark it (see tests/doc_blocks.py)"
        self.cwd = self.scratch / d.get("cwd", ".")
        runner(block)

    def _copy_project(self, name: str) -> None:
        for child in self.scratch.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.copytree(ROOT / name, self.scratch, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        src = self.scratch / "src"
        if src.is_dir():
            self.monkeypatch.syspath_prepend(str(src))
        self._forget()

    def _forget(self) -> None:
        roots = (str(self.scratch) + os.sep, os.path.realpath(self.scratch) + os.sep)
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(roots):
                del sys.modules[name]

    # -- block kinds

    def _python(self, block: Block) -> None:
        with self._inside(python_path=True), contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block.text, block.where, "exec"), {"__name__": "__doc_block__"})
        self._forget()

    def _bash(self, block: Block) -> None:
        assert _is_install(block.text), f"{block.where}: a bash block that is neither an install nor a marked set-up or dev block"

    def _toml(self, block: Block) -> None:
        from pytest_convshape.config import parse

        data = tomllib.loads(block.text)
        table = data.get("tool", {}).get("convshape")
        if table is not None:
            parse(table, self.cwd / "pyproject.toml", display="pyproject.toml")

    def _console(self, block: Block) -> None:
        rewritten = []
        for command in console_commands(block.text):
            status, lines = self._command(command.argv)
            shown = "\n".join(lines)
            ok = matches(command.expected, lines)
            written = f"$ {command.argv}" + (f"  # exit status {status}" if command.exit_status is not None else "")
            rewritten += [written] + (command.expected if ok else [line.rstrip() for line in lines])
            if self.update:
                continue
            assert ok, f"{block.where}: `{command.argv}` printed:\n{shown}\n(CONVSHAPE_UPDATE_DOCS=1 writes today's output into the page)"
            if command.exit_status is not None:
                assert status == command.exit_status, f"{block.where}: `{command.argv}` exited {status}:\n{shown}"
        text = "\n".join(rewritten) + "\n"
        if self.update and text != block.text:
            self.updated[block.line] = text

    def write_updates(self, page: str) -> None:
        """Put today's outputs in the page (abbreviations with ``...`` are lost where the output
        changed: review the diff and abbreviate again)."""
        if not self.updated:
            return
        lines = (ROOT / page).read_text(encoding="utf-8").split("\n")
        for fence, text in sorted(self.updated.items(), reverse=True):
            end = fence
            while not lines[end].startswith("```"):
                end += 1
            lines[fence:end] = text.rstrip("\n").split("\n")
        (ROOT / page).write_text("\n".join(lines), encoding="utf-8")

    def _synopsis_cli(self, block: Block) -> None:
        usage = cli.build_parser().format_help()
        for flag in set(re.findall(r"(?<![\w-])--?[a-z][\w-]*", block.text)):
            assert flag in usage, f"{block.where}: {flag} is not an option of convshape"

    def _synopsis_check(self, block: Block) -> None:
        from pytest_convshape import check

        written = re.sub(r"\s+", " ", block.text).strip()
        params = []
        for p in inspect.signature(check).parameters.values():
            if p.name == "cpu_builder":
                continue
            if p.kind == p.KEYWORD_ONLY and "*" not in params:
                params.append("*")
            params.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
        assert written == f"check({', '.join(params)})", f"{block.where}: check()'s signature is check({', '.join(params)})"

    # -- commands

    @contextlib.contextmanager
    def _inside(self, *, python_path: bool):
        saved = list(sys.path)
        here = os.getcwd()
        os.chdir(self.cwd)
        if python_path:
            sys.path.insert(0, str(self.cwd))
        else:  # plain `pytest`: the working directory is not on sys.path
            sys.path[:] = [p for p in sys.path if p not in ("", ".", str(self.cwd))]
        try:
            yield
        finally:
            sys.path[:] = saved
            os.chdir(here)

    def _command(self, text: str) -> tuple[int, list[str]]:
        argv = shlex.split(text)
        argv[0] = argv[0].removeprefix(".venv/bin/")
        if argv[0] == "python" and argv[1:3] == ["-m", "pytest_convshape"]:
            argv = ["convshape", *argv[3:]]
        try:
            if argv[0] == "convshape":
                out, err = io.StringIO(), io.StringIO()
                with self._inside(python_path=False), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        status = cli.run(argv[1:])
                    except SystemExit as exc:  # argparse
                        status = exc.code if isinstance(exc.code, int) else 2
                return status, (out.getvalue() + err.getvalue()).splitlines()
            python_m = argv[:3] == ["python", "-m", "pytest"]
            if argv[0] == "pytest" or python_m:
                args = argv[3:] if python_m else argv[1:]
                with self._inside(python_path=python_m):
                    result = self.pytester.runpytest_inprocess(*args, "-p", "no:cacheprovider")
                return int(result.ret), result.outlines + result.errlines
        finally:
            self._forget()
        raise AssertionError(f"no runner for the command {text!r} (convshape, pytest and python -m pytest are run)")


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_and_shows_what_the_code_does(page, pytester, monkeypatch):
    runner = _Page(pytester, monkeypatch)
    for block in blocks(page):
        runner.run(block)
    runner.write_updates(page)


def test_every_block_is_run_by_some_test():
    handled = {"python", "console", "toml", "bash", "yaml"}
    for page in PAGES:
        for block in blocks(page):
            d = block.directives
            if {"file", "synopsis", "setup", "dev", "prose"} & set(d):
                continue
            assert block.lang in handled, f"{block.where}: a {block.lang!r} block no test runs; give it a language or a doctest directive"
            if block.lang in ("bash", "yaml"):
                assert _is_install(block.text), f"{block.where}: a {block.lang} block no test runs"


# --------------------------------------------------------------------------- README


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_first_screen_reaches_a_first_finding():
    """What it finds (28 -> 27), the two installs, one CLI run with its output and the U diagram,
    the four-line gate, the fix, the fixture: all before the rule table."""
    first = _readme().split("## What it finds")[0]
    order = [
        "gives back 27x27, not 28x28",
        "pip install torch",
        "pip install pytest-convshape",
        "$ convshape models.py:Autoencoder --input 1,1,28,28",
        "─── mirror ─── decoder 12x12→27x27  ✗ 27x27 ≠ 28x28 (CS101)",
        "fix: output_padding=1 on decoder",
        '[tool.convshape]\n[[tool.convshape.models]]\ntarget = "models.py:Autoencoder"\ninput = [1, 1, 28, 28]\n```',
        "--diff  # exit status 1",
        "+        self.decoder = nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2, output_padding=1)",
        "--fix  # exit status 0",
        "convshape.check(Autoencoder(), input_size=(1, 1, 28, 28))",
    ]
    positions = [first.find(text) for text in order]
    assert all(p >= 0 for p in positions), [t for t, p in zip(order, positions) if p < 0]
    assert positions == sorted(positions)
    assert ".ci/setup" not in first.split("## From a checkout")[0], "set-up scripts are for contributors, not the first screen"
    assert len(_readme()) < 12000, "README is for users; the rest goes to docs/"


def _setup_blocks() -> list[Block]:
    return [b for b in blocks("README.md") if "setup" in b.directives]


def test_readme_setup_commands_match_ci(capsys, monkeypatch):
    demo, tests = (b.text.strip() for b in _setup_blocks())
    ci_run = (ROOT / ".ci" / "run").read_text()
    ci_command = next(line.strip() for line in ci_run.splitlines() if line.strip().startswith(".venv/bin/python -m pytest"))
    assert tests == f"bash .ci/setup && {ci_command}", "README's test command must be exactly what .ci/run runs"
    assert demo == "bash .ci/setup && .venv/bin/convshape examples/autoencoder.py:Autoencoder --input 1,1,28,28"
    assert (ROOT / ".ci" / "setup").is_file()
    # the demo itself, run in the checkout with this interpreter (set-up done: we are running in it)
    monkeypatch.chdir(ROOT)
    status = cli.run(shlex.split(demo.split("&& ", 1)[1])[1:])
    out = capsys.readouterr().out
    assert status == cli.EXIT_FINDINGS and "fix: output_padding=1 on decoder.0" in out


def _is_install(text: str) -> bool:
    lines = [ln.split("#")[0].strip() for ln in text.splitlines() if ln.split("#")[0].strip()]
    return bool(lines) and all(ln.startswith("pip install ") for ln in lines)


def test_install_commands_name_this_package_and_cpu_torch():
    """Install commands are not run here (they need the network); they must name the package as
    pyproject.toml does, and a CPU torch index when they name one."""
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    setup = (ROOT / ".ci" / "setup").read_text()
    seen = 0
    for page in PAGES:
        for block in blocks(page):
            for line in re.findall(r"pip install [^\n#]*", block.text):
                seen += 1
                packages = [w for w in line.split()[2:] if not w.startswith("-") and "://" not in w]
                assert all(p in ("torch", name, ".", "-e") or p.startswith((f"{name}[", "torch==", ".[")) for p in packages), f"{block.where}: {line}"
                for url in re.findall(r"https://\S+", line):
                    assert url in setup, f"{block.where}: {url} is not the index .ci/setup uses"
    assert seen >= 2


def test_version_is_written_in_one_place():
    import pytest_convshape

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in meta["project"] and "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "pytest_convshape.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", pytest_convshape.__version__)


# --------------------------------------------------------------------------- development commands


def _options(path: Path) -> set[str]:
    """The option strings a script's argparse parser or pytest plugin declares (read with ast:
    importing the benchmarks would import torch, and running them takes minutes)."""
    import ast

    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("add_argument", "addoption"):
            out.update(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return out


def test_development_commands():
    """Too long to run inside the suite (the suite itself, benchmarks, the long fuzz run): each
    command's script must exist, compile, and declare every option the docs give it."""
    commands = [
        line.split("  #")[0].strip()
        for page in PAGES
        for block in blocks(page)
        if "dev" in block.directives
        for line in block.text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert commands
    pytest_options = _options(ROOT / "tests" / "conftest.py") | {"-n", "-m"}  # -n: pytest-xdist, a test extra; -m: pytest
    import importlib.util

    assert importlib.util.find_spec("xdist") is not None
    for command in commands:
        argv = shlex.split(command)
        if argv[0] == "bash":
            assert (ROOT / argv[1]).is_file(), command
            subprocess.run(["bash", "-n", argv[1]], cwd=ROOT, check=True)
            continue
        argv[0] = argv[0].removeprefix(".venv/bin/")
        assert argv[0] == "python", command
        module = argv[2] if argv[1] == "-m" else None
        args = argv[3:] if module else argv[2:]
        flags = [a.split("=")[0] for a in args if a.startswith("-")]
        if module == "pytest":
            paths = [a for prev, a in zip(["-"] + args, args) if not a.startswith("-") and prev not in ("-m", "-k", "-n")]
            assert all((ROOT / a.split("::")[0]).exists() for a in paths), command
            declared = pytest_options
        else:
            spec = importlib.util.find_spec(module) if module else None
            script = Path(spec.origin) if spec and spec.origin else ROOT / argv[1]
            assert script.is_file(), command
            compile(script.read_text(), str(script), "exec")
            declared = _options(script)
        missing = [f for f in flags if f not in declared]
        assert not missing, f"{command}: {missing} not declared"


# --------------------------------------------------------------------------- CI workflow and pre-commit


def _file_block(page: str, name: str) -> Block:
    return next(b for b in blocks(page) if b.directives.get("file") == name)


def _steps(workflow: str) -> list[dict[str, str]]:
    """The steps of a workflow as {key: value} (``run: |`` blocks joined; ``with:`` keys kept
    as ``with.KEY``). Enough YAML for the workflow in docs/ci.md."""
    lines = workflow.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "steps:")
    steps: list[dict[str, str]] = []
    block_key, block_indent, parent = None, 0, ""
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        text = line.strip()
        if block_key and indent > block_indent:
            steps[-1][block_key] += text + "\n"
            continue
        block_key = None
        if text.startswith("- "):
            steps.append({})
            text, indent = text[2:], indent + 2
            parent = ""
        key, _, value = text.partition(":")
        value = value.strip()
        if key == "with" and not value:
            parent = "with."
            continue
        full = (parent if indent > 8 else "") + key
        if value == "|":
            steps[-1][full] = ""
            block_key, block_indent = full, indent
        else:
            steps[-1][full] = value.split("  #")[0].strip().strip('"')
    return steps


def _run_step(command: str, cwd: Path, capsys) -> int:
    argv = [os.path.expandvars(a) for a in shlex.split(command)]  # "$GITHUB_STEP_SUMMARY"
    assert argv[0] == "convshape", command
    os.chdir(cwd)
    status = cli.run(argv[1:])
    capsys.readouterr()
    return status


def _job(steps: list[dict[str, str]], cwd: Path, capsys) -> tuple[int, list[str]]:
    """Run the workflow's commands as a job would: stop at the first step that fails. Returns
    the failing status (0 when none fails) and the steps that ran."""
    ran = []
    for step in steps:
        name = step.get("name") or step.get("uses", "")
        if "uses" in step:
            if "upload-sarif" in step["uses"]:
                assert (cwd / step["with.sarif_file"]).is_file(), "the SARIF file to upload was not written"
            ran.append(name)
            continue
        for command in step["run"].strip().splitlines():
            if command.startswith("pip install"):
                continue  # test_install_commands_name_this_package_and_cpu_torch
            status = _run_step(command, cwd, capsys)
            ran.append(name)
            if status:
                return status, ran
    return 0, ran


def test_ci_workflow_installs_cpu_torch_uploads_sarif_and_fails_on_errors(tmp_path, capsys, monkeypatch):
    workflow = _file_block("docs/ci.md", ".github/workflows/shapes.yml").text
    assert "|| true" not in workflow
    assert re.search(r"^permissions:\n(  .*\n)*  security-events: write", workflow, re.M), "upload-sarif needs security-events: write"
    steps = _steps(workflow)
    install = next(s["run"] for s in steps if "pip install torch" in s.get("run", ""))
    assert "--index-url https://download.pytorch.org/whl/cpu" in install
    assert install.index("pip install torch") < install.index("pip install pytest-convshape")
    sarif = next(s for s in steps if "--format sarif" in s.get("run", ""))
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert f"-o {upload['with.sarif_file']}" in sarif["run"]
    here = os.getcwd()
    try:
        # the example project has an error finding: the SARIF is uploaded, then the job fails
        project = tmp_path / "project"
        shutil.copytree(ROOT / "examples" / "project", project, ignore=shutil.ignore_patterns("__pycache__"))
        monkeypatch.syspath_prepend(str(project / "src"))
        summary = tmp_path / "step-summary.md"
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        status, ran = _job(steps, project, capsys)
        assert status == cli.EXIT_FINDINGS and "Upload to code scanning" in ran and ran[-1] == steps[-1]["name"]
        page = summary.read_text()
        assert "```mermaid" in page and "| CS102 | error |" in page
        import json

        results = json.loads((project / "convshape.sarif").read_text())["runs"][0]["results"]
        assert [r["ruleId"] for r in results] == ["CS102"]
        # a usage error is not hidden: the SARIF step fails, nothing is uploaded
        (project / "convshape.sarif").unlink()
        text = (project / "pyproject.toml").read_text()
        (project / "pyproject.toml").write_text(text.replace("ignore =", "ignre ="))
        status, ran = _job(steps, project, capsys)
        assert status == cli.EXIT_USAGE and "Upload to code scanning" not in ran
        # a clean project passes every step
        (project / "pyproject.toml").write_text(text.replace('ignore = ["unpaired-upsampler"]', 'ignore = ["unpaired-upsampler", "CS102"]'))
        assert _job(steps, project, capsys)[0] == 0
    finally:
        os.chdir(here)
        for name in [n for n in sys.modules if n == "shapes_demo" or n.startswith("shapes_demo.")]:
            del sys.modules[name]


def _hook_fields(text: str) -> dict[str, str]:
    return {k: v.strip() for k, v in re.findall(r"^\s*-?\s*(id|name|entry|language|pass_filenames|files|require_serial):\s*(.+)$", text, re.M)}


def test_pre_commit_hook_runs_the_gate(tmp_path, capsys, monkeypatch):
    shipped = _hook_fields((ROOT / ".pre-commit-hooks.yaml").read_text())
    documented = _hook_fields(_file_block("docs/ci.md", ".pre-commit-config.yaml").text)
    assert shipped == documented
    assert shipped["entry"] == "convshape" and shipped["pass_filenames"] == "false" and shipped["language"] == "system"
    assert re.search(shipped["files"], "pyproject.toml") and re.search(shipped["files"], "src/pkg/models.py")
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "project", project, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(project / "src"))
    here = os.getcwd()
    try:
        assert _run_step(shipped["entry"], project, capsys) == cli.EXIT_FINDINGS  # the commit is stopped
    finally:
        os.chdir(here)
        for name in [n for n in sys.modules if n == "shapes_demo" or n.startswith("shapes_demo.")]:
            del sys.modules[name]
