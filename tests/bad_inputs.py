"""Every bad input of pytest-convshape and the exact message it gets, produced by running the code.

Three sections: the API (``pytest_convshape.check``), the CLI (``pytest_convshape.cli.run`` in
process) and ``[tool.convshape]`` in pyproject.toml (the CLI without TARGET). All cases run in
one temporary project folder (``models.py``, ``badimport.py`` below); its absolute path is shown
as ``/path/to`` so the table does not change from run to run.

    python tests/bad_inputs.py              # print the markdown
    python tests/bad_inputs.py --write      # put it between the markers in docs/messages.md

``tests/test_readme.py`` checks that docs/messages.md holds exactly what ``render_markdown()`` gives.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import os
import shlex
import sys
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "docs" / "messages.md"
"""The page that holds the table (between the markers)."""
START, END = "<!-- messages:start -->", "<!-- messages:end -->"
SHOWN_ROOT = "/path/to"
"""How the temporary project folder is shown in the messages."""

@dataclasses.dataclass(frozen=True)
class Case:
    section: str
    """"api", "cli" or "pyproject"."""
    description: str
    """Markdown for the table's first column."""
    message: str
    """The exact message: API ``Type: text``; CLI and pyproject ``exit N: <stderr>``."""
    failed: bool = True
    """False when the input was accepted (no exception; exit status 0 or 1): a broken case."""
    multiline: bool = False
    """The message has several lines on purpose (an example to copy, one line per entry)."""
    after_usage: bool = False
    """argparse printed its usage lines (wrapped to the terminal) first; left out of ``message``."""
    item: bool = False
    """pyproject: under pytest this fails the model's own item instead of stopping pytest."""
    cli_only: bool = False
    """pyproject: a message of the CLI only (pytest then just has no models to collect)."""


# --------------------------------------------------------------------------- the project folder

MODELS_PY = '''\
import warnings

import torch
from torch import nn


class Autoencoder(nn.Module):
    def __init__(self, output_padding=0):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 1, kernel_size=5, stride=2), nn.ReLU())
        self.decoder = nn.Sequential(nn.ConvTranspose2d(1, 1, kernel_size=5, stride=2, output_padding=output_padding))

    def forward(self, x):
        return self.decoder(self.encoder(x))


class KeywordOnly(Autoencoder):
    def forward(self, x, *, scale):
        return self.decoder(self.encoder(x)) * scale


def broken():
    raise RuntimeError("weights file missing")


def make_number():
    return 3


class WithBatchNorm(Autoencoder):
    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm2d(1)

    def forward(self, x):
        return self.decoder(self.norm(self.encoder(x)))


class NeedsCuda(Autoencoder):
    def __init__(self, device="cuda"):
        torch.cuda.current_device()  # raises on a machine without CUDA
        super().__init__()


class TwoInputs(Autoencoder):
    def forward(self, sample, timestep):
        return self.decoder(self.encoder(sample)) * timestep.float().mean()


LIMIT = 3
instance = Autoencoder()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # torch.jit.script is deprecated
    scripted = torch.jit.script(Autoencoder())
'''

PKG_INIT_PY = ""
PKG_NETS_PY = '''\
from torch import nn

from .blocks import Down


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = Down(1, 1, 3, stride=2)

    def forward(self, x):
        return self.down(x)
'''
PKG_BLOCKS_PY = "from torch import nn\n\nDown = nn.Conv2d\n"

BADIMPORT_PY = '''\
import missing_helper_module  # installed nowhere

from torch import nn

Model = nn.Identity
'''


PROJECT_MODULES = ("models", "badimport", "mypkg", "mypkg.nets", "mypkg.blocks")
"""The folder's modules, importable by name once the folder is on sys.path."""


class _Project:
    """The temporary project folder (the working directory while the cases run)."""

    def __init__(self, folder: str):
        self.folder = folder
        self.real = os.path.realpath(folder)
        Path(folder, "models.py").write_text(MODELS_PY, encoding="utf-8")
        Path(folder, "badimport.py").write_text(BADIMPORT_PY, encoding="utf-8")
        Path(folder, "src", "mypkg").mkdir(parents=True)
        Path(folder, "src", "mypkg", "__init__.py").write_text(PKG_INIT_PY, encoding="utf-8")
        Path(folder, "src", "mypkg", "nets.py").write_text(PKG_NETS_PY, encoding="utf-8")
        Path(folder, "src", "mypkg", "blocks.py").write_text(PKG_BLOCKS_PY, encoding="utf-8")
        importlib.invalidate_caches()

    def forget_modules(self) -> None:
        """Drop the modules imported from the folder, so the next case imports them afresh."""
        roots = tuple({self.folder + os.sep, self.real + os.sep})
        for name, module in list(sys.modules.items()):
            file = str(getattr(module, "__file__", None) or "")
            if name.startswith("_convshape_target_") or file.startswith(roots):
                del sys.modules[name]

    def shown(self, text: str) -> str:
        for path in sorted({self.real, self.folder}, key=len, reverse=True):
            text = text.replace(path, SHOWN_ROOT)
        return text

    @contextlib.contextmanager
    def isolated(self) -> Iterator[None]:
        """sys.path and sys.modules as they were before: the folder's modules are imported
        afresh for each case, and a ``models`` module someone else imported is put back."""
        saved_path = list(sys.path)
        stashed = {name: sys.modules.pop(name) for name in PROJECT_MODULES if name in sys.modules}
        try:
            yield
        finally:
            sys.path[:] = saved_path
            self.forget_modules()
            sys.modules.update(stashed)

    def run_api(self, call: str) -> tuple[bool, str]:
        """(raised, ``Type: message``) of ``call`` evaluated with the models of models.py."""
        import numpy
        import torch

        from pytest_convshape import check

        with self.isolated():
            sys.path.insert(0, self.folder)
            models = importlib.import_module("models")
            namespace: dict[str, Any] = {
                "check": check,
                "torch": torch,
                "numpy": numpy,
                "Autoencoder": models.Autoencoder,
                "model": models.Autoencoder(),
                "half": models.Autoencoder().half(),
                "kwonly": models.KeywordOnly(),
                "batchnorm": models.WithBatchNorm(),
                "two_inputs": models.TwoInputs(),
                "scripted": models.scripted,
            }
            try:
                eval(call, namespace)
            except Exception as exc:
                return True, self.shown(f"{type(exc).__name__}: {exc}")
            return False, "no error: check() returned a Report"

    def run_cli(self, argv: Sequence[str], pyproject: str | None = None) -> tuple[int, str]:
        """(exit status, stderr) of ``convshape argv`` with this pyproject.toml (None: none)."""
        from pytest_convshape import cli

        toml = Path(self.folder, "pyproject.toml")
        if pyproject is None:
            toml.unlink(missing_ok=True)
        else:
            toml.write_text(pyproject, encoding="utf-8")
        err = io.StringIO()
        with self.isolated(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                status = cli.run(list(argv))
            except SystemExit as exc:  # argparse
                status = exc.code if isinstance(exc.code, int) else 2
            except Exception:
                traceback.print_exc()
                status = 1  # Python's exit status for an uncaught exception
        return status, self.shown(err.getvalue())


@contextlib.contextmanager
def project() -> Iterator[_Project]:
    """A fresh project folder as the working directory; the old one restored after."""
    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="convshape-bad-inputs-") as folder:
        os.chdir(folder)
        try:
            yield _Project(folder)
        finally:
            os.chdir(before)


# --------------------------------------------------------------------------- API cases

API_CASES: tuple[tuple[str, str], ...] = (
    # (what is wrong, the call as evaluated; `model`, `half`, `kwonly` come from models.py)
    ("not a module", 'check("autoencoder.pt", input_size=(1, 1, 28, 28))'),
    ("the class, not an instance", "check(Autoencoder, input_size=(1, 1, 28, 28))"),
    ("no input", "check(model)"),
    ("both inputs", "check(model, (1, 1, 28, 28), example_inputs=torch.zeros(1, 1, 28, 28))"),
    ("empty input_size", "check(model, input_size=())"),
    ("a zero in input_size", "check(model, input_size=(1, 1, 0, 28))"),
    ("a float in input_size", "check(model, input_size=(1, 1, 28.0, 28))"),
    ("a bool in input_size", "check(model, input_size=(1, True, 28, 28))"),
    ("a numpy float in input_size", "check(model, input_size=(1, 1, numpy.float64(28), 28))"),
    ("input_size as a string", 'check(model, input_size="1,1,28,28")'),
    ("example_inputs of a wrong type", "check(model, example_inputs=numpy.zeros((1, 1, 28, 28)))"),
    ("a shape as example_inputs", "check(model, example_inputs=[1, 1, 28, 28])"),
    ("empty example_inputs", "check(model, example_inputs=())"),
    ("pairs as a string", 'check(model, (1, 1, 28, 28), pairs="encoder.0=decoder.0")'),
    ("one pair not in a list", 'check(model, (1, 1, 28, 28), pairs=("encoder.0", "decoder.0"))'),
    ("pairs not iterable", "check(model, (1, 1, 28, 28), pairs=3)"),
    ("a non-string name in pairs", 'check(model, (1, 1, 28, 28), pairs=[(0, "decoder.0")])'),
    ("pairs naming a layer that did not run", 'check(model, (1, 1, 28, 28), pairs=[("encoder.0", "decoder.9")])'),
    ("pairs naming a container", 'check(model, (1, 1, 28, 28), pairs=[("encoder", "decoder.0")])'),
    ("pairs naming a non-resampling layer", 'check(model, (1, 1, 28, 28), pairs=[("encoder.1", "decoder.0")])'),
    ("unknown code in select", 'check(model, (1, 1, 28, 28), select=["CS999"])'),
    ("lower-case code in select", 'check(model, (1, 1, 28, 28), select=["cs101"])'),
    ("select not a list of codes", "check(model, (1, 1, 28, 28), select=101)"),
    ("unknown code in ignore", 'check(model, (1, 1, 28, 28), ignore=["E501"])'),
    ("wrong number of channels", "check(model, input_size=(1, 3, 28, 28))"),
    ("wrong rank", "check(model, input_size=(28, 28))"),
    ("input too small for the kernel", "check(model, input_size=(1, 1, 4, 4))"),
    ("float32 input for a half model", "check(half, example_inputs=torch.zeros(1, 1, 28, 28))"),
    ("input_size for a forward with a keyword-only argument", "check(kwonly, input_size=(1, 1, 28, 28))"),
    ("sizes with a non-spatial dim", "check(model, (1, 1, 28, 28), sizes={1: (8, 64)})"),
    ("sizes with a dim past the input's rank", "check(model, (1, 1, 28, 28), sizes={4: (8, 64)})"),
    ("sizes with a reversed range", "check(model, (1, 1, 28, 28), sizes={2: (64, 8)})"),
    ("sizes with a zero step", 'check(model, (1, 1, 28, 28), sizes={2: "8:64:0"})'),
    ("sizes with too many sizes", "check(model, (1, 1, 28, 28), sizes={2: (8, 2_000_000)})"),
    ("sizes not a mapping", "check(model, (1, 1, 28, 28), sizes=(8, 64))"),
    ("sizes with a malformed string", 'check(model, (1, 1, 28, 28), sizes={2: "8-64"})'),
    ("sizes naming an input the call does not have", 'check(kwonly, example_inputs={"x": torch.zeros(1, 1, 28, 28), "scale": 2.0}, sizes={"y.2": (8, 64)})'),
    ("sizes naming a plain value", 'check(kwonly, example_inputs={"x": torch.zeros(1, 1, 28, 28), "scale": 2.0}, sizes={"scale.2": (8, 64)})'),
    ("unknown rule name in ignore", 'check(model, (1, 1, 28, 28), ignore=["shape-not-restord"])'),
    ("fail_on not a severity", 'check(model, (1, 1, 28, 28), fail_on="info")'),
    ("a TorchScript module", "check(scripted, input_size=(1, 1, 28, 28))"),
    ("an input without its batch dim (BatchNorm)", "check(batchnorm, input_size=(1, 28, 28))"),
    ("one input for a forward that takes two", "check(two_inputs, input_size=(1, 1, 28, 28))"),
    ("a per_module_ignores glob with a slash", 'check(model, (1, 1, 28, 28), per_module_ignores={"decoder/0": ["CS101"]})'),
)


def api_cases(proj: _Project) -> list[Case]:
    out = []
    for what, call in API_CASES:
        raised, message = proj.run_api(call)
        out.append(Case("api", f"{_escape(what)}: {_code(call)}", message, failed=raised))
    return out


# --------------------------------------------------------------------------- CLI cases

GOOD = ["models.py:Autoencoder", "--input", "1,1,28,28"]

CLI_CASES: tuple[tuple[str, list[str]], ...] = (
    # (what is wrong, argv)
    ("no `--input`", ["models.py:Autoencoder"]),
    ("`--input` without TARGET", ["--input", "1,1,28,28"]),
    ("no TARGET and no pyproject.toml", []),
    ("letters in `--input`", ["models.py:Autoencoder", "--input", "1,1,a,28"]),
    ("a zero in `--input`", ["models.py:Autoencoder", "--input", "1,1,0,28"]),
    ("a negative `--input`", ["models.py:Autoencoder", "--input", "-1,1,28,28"]),
    ("empty `--input`", ["models.py:Autoencoder", "--input", ""]),
    ("wrong number of channels", ["models.py:Autoencoder", "--input", "1,3,28,28"]),
    ("wrong rank", ["models.py:Autoencoder", "--input", "28,28"]),
    ("input too small for the kernel", ["models.py:Autoencoder", "--input", "1,1,4,4"]),
    ("`--kwargs` not valid JSON", GOOD + ["--kwargs", '{"output_padding": 1']),
    ("`--kwargs` not an object", GOOD + ["--kwargs", "[1]"]),
    ("`--kwargs` the class rejects", GOOD + ["--kwargs", '{"channels": 3}']),
    ("`--kwargs` for a module instance", ["models.py:instance", "--input", "1,1,28,28", "--kwargs", '{"output_padding": 1}']),
    ("`--pair` without `=`", GOOD + ["--pair", "encoder.0"]),
    ("`--pair` naming a missing layer", GOOD + ["--pair", "encoder.0=decoder.9"]),
    ("unknown code in `--select`", GOOD + ["--select", "CS999"]),
    ("unknown code in `--ignore`", GOOD + ["--ignore", "E501"]),
    ("unknown `--format`", GOOD + ["--format", "xml"]),
    ("`--sizes` without `=`", GOOD + ["--sizes", "8:64"]),
    ("`--sizes` with a reversed range", GOOD + ["--sizes", "2=64:8"]),
    ("`--sizes` with a non-spatial dim", GOOD + ["--sizes", "1=8:64"]),
    ("`--sizes` with a malformed range", GOOD + ["--sizes", "2=8-64"]),
    ("TARGET without `:NAME`", ["models.py", "--input", "1,1,28,28"]),
    ("TARGET with an empty NAME", ["models.py:", "--input", "1,1,28,28"]),
    ("file not found", ["nofile.py:Autoencoder", "--input", "1,1,28,28"]),
    ("module not found", ["nomodule:Autoencoder", "--input", "1,1,28,28"]),
    ("misspelt name", ["models.py:Autoencodr", "--input", "1,1,28,28"]),
    ("a name that is not a model", ["models.py:LIMIT", "--input", "1,1,28,28"]),
    ("a factory that does not return a module", ["models.py:make_number", "--input", "1,1,28,28"]),
    ("a factory that raises", ["models.py:broken", "--input", "1,1,28,28"]),
    ("a file whose import fails", ["badimport.py:Model", "--input", "1,1,28,28"]),
    ("a module whose import fails", ["badimport:Model", "--input", "1,1,28,28"]),
    ("`--config` not found", GOOD + ["--config", "nothere.toml"]),
    ("`--config` naming a folder", GOOD + ["--config", "."]),
    ("`-o` into a folder that does not exist", GOOD + ["-o", "no/such/folder/report.txt"]),
    ("`-o` naming a folder", GOOD + ["-o", "."]),
    ("a negative size in `--input`", ["models.py:Autoencoder", "--input", "-1,1,28,28"]),
    ("two `--input` for a forward that takes one", GOOD + ["--input", "1,1,27,27"]),
    ("one `--input` for a forward that takes two", ["models.py:TwoInputs", "--input", "1,1,28,28"]),
    ("an unknown dtype in `--input`", ["models.py:TwoInputs", "--input", "sample=1,1,28,28", "--input", "timestep=1:int65"]),
    ("a positional `--input` after a named one", ["models.py:TwoInputs", "--input", "sample=1,1,28,28", "--input", "1"]),
    ("`--sizes` naming an input the call does not have", GOOD + ["--sizes", "x.2=8:64"]),
    ("an unknown rule name in `--ignore`", GOOD + ["--ignore", "shape-not-restord"]),
    ("`--fail-on` not a severity", GOOD + ["--fail-on", "info"]),
    ("an input without its batch dim (BatchNorm)", ["models.py:WithBatchNorm", "--input", "1,28,28"]),
    ("a TorchScript module", ["models.py:scripted", "--input", "1,1,28,28"]),
    ("a constructor that needs CUDA", ["models.py:NeedsCuda", "--input", "1,1,28,28"]),
    ("a file target with relative imports", ["src/mypkg/nets.py:Net", "--input", "1,1,28,28"]),
    ("`convshape rule` with an unknown code", ["rule", "CS1O1"]),
)

def cli_cases(proj: _Project, cases: Sequence[tuple[str, list[str]]] = CLI_CASES) -> list[Case]:
    out = []
    for what, argv in cases:
        status, stderr = proj.run_cli(argv)
        command = shlex.join(["convshape", *argv])
        out.append(_cli_case("cli", f"{_inline(what)}: {_code(command)}", status, stderr))
    return out


# --------------------------------------------------------------------------- pyproject cases


def _entry(**changes: str | None) -> str:
    """One model entry as TOML: target and input, with keys replaced (None: left out) or added."""
    keys: dict[str, str | None] = {"target": '"models.py:Autoencoder"', "input": "[1, 1, 28, 28]"}
    keys.update(changes)
    return "[[tool.convshape.models]]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None)


PYPROJECT_CASES: tuple[tuple[str, str, dict[str, bool]], ...] = (
    # (what is wrong, pyproject.toml, Case flags)
    ("not valid TOML", '[tool.convshape\nselect = ["CS1"]\n', {}),
    ("no `[tool.convshape]` table", '[project]\nname = "demo"\n', {"cli_only": True}),
    ("no model entries", '[tool.convshape]\nselect = ["CS1"]\n', {"multiline": True, "cli_only": True}),
    ("the table not a table", "[tool]\nconvshape = 3\n", {}),
    ("unknown top-level key", '[tool.convshape]\nselct = ["CS1"]\n', {}),
    ("`select` not an array", '[tool.convshape]\nselect = "CS1"\n', {}),
    ("unknown code", '[tool.convshape]\nignore = ["CS999"]\n', {}),
    ("lower-case code", '[tool.convshape]\nignore = ["cs101"]\n', {}),
    ("`per-module-ignores` not a table", '[tool.convshape]\nper-module-ignores = ["decoder.*"]\n', {}),
    ("bad characters in a glob", '[tool.convshape]\nper-module-ignores = { "decoder/0" = ["CS301"] }\n', {}),
    ("unclosed `[` in a glob", '[tool.convshape]\nper-module-ignores = { "decoder.[0" = ["CS301"] }\n', {}),
    ("`collect` not a bool", '[tool.convshape]\ncollect = "yes"\n', {}),
    ("`models` not an array of tables", '[tool.convshape]\nmodels = ["models.py:Autoencoder"]\n', {}),
    ("model without `input`", _entry(input=None), {}),
    ("unknown model key", _entry(input=None, inputs="[1, 1, 28, 28]"), {}),
    ("`target` without `:NAME`", _entry(target='"models.py"'), {}),
    ("`target` file not found", _entry(target='"nofile.py:Autoencoder"'), {}),
    ("`target` not a string", _entry(target="3"), {}),
    ("bad `id`", _entry(id='"my model"'), {}),
    ("`kwargs` not a table", _entry(kwargs="3"), {}),
    ("`input` empty", _entry(input="[]"), {}),
    ("a zero in `input`", _entry(input="[1, 1, 0, 28]"), {}),
    ("`input` a string", _entry(input='"1,1,28,28"'), {}),
    ("the same shape twice", _entry(input="[[1, 1, 28, 28], [1, 1, 28, 28]]"), {}),
    ("shapes and ints mixed", _entry(input="[[1, 1, 28, 28], 28]"), {}),
    ("`pairs` malformed", _entry(pairs='[["encoder.0"]]'), {}),
    ("`sizes` with a non-spatial dim", _entry(sizes='{ 1 = "8:64" }'), {}),
    ("`sizes` with a reversed range", _entry(sizes='{ 2 = "64:8" }'), {}),
    ("`sizes` not a table", _entry(sizes='"8:64"'), {}),
    ("the same model twice", _entry() + _entry(), {}),
    ("module not found", _entry(target='"nomodule:Autoencoder"'), {}),
    ("misspelt name", _entry(target='"models:Autoencodr"'), {}),
    ("a file whose import fails", _entry(target='"badimport.py:Model"'), {}),
    ("two targets not found (one line each)", _entry(target='"nomodule:Autoencoder"') + _entry(target='"models:Autoencodr"'), {"multiline": True}),
    ("`pairs` naming a missing layer", _entry(pairs='[["encoder.0", "decoder.9"]]'), {"item": True}),
    ("`sizes` with too many sizes", _entry(sizes='{ 2 = "8:2000000" }'), {"item": True}),
    ("a name that is not a model", _entry(target='"models.py:LIMIT"'), {"item": True}),
    ("a factory that raises", _entry(target='"models.py:broken"'), {"item": True}),
    ("`kwargs` the class rejects", _entry(kwargs="{ channels = 3 }"), {"item": True}),
    ("`kwargs` for a module instance", _entry(target='"models.py:instance"', kwargs="{ output_padding = 1 }"), {"item": True}),
    ("`input` that does not fit", _entry(input="[1, 3, 28, 28]"), {"item": True}),
    ("`fail-on` not a severity", '[tool.convshape]\nfail-on = "info"\n', {}),
    ("an unknown rule name", '[tool.convshape]\nignore = ["shape-not-restord"]\n', {}),
    ("`src` not an array", '[tool.convshape]\nsrc = "src"\n', {}),
    ("`input` and `inputs` both", _entry(inputs="{ x = [1, 1, 28, 28] }"), {}),
    ("`inputs` with a bare shape", _entry(input=None, inputs="[1, 1, 28, 28]"), {}),
    ("`inputs` with an unknown dtype", _entry(target='"models.py:TwoInputs"', input=None, inputs='{ sample = [1, 1, 28, 28], timestep = { shape = [1], dtype = "int65" } }'), {}),
    ("`sizes` naming an input not in `inputs`", _entry(target='"models.py:TwoInputs"', input=None, inputs='{ sample = [1, 1, 28, 28], timestep = [1] }', sizes='{ "x.2" = "8:64" }'), {}),
    ("an input without its batch dim (BatchNorm)", _entry(target='"models.py:WithBatchNorm"', input="[1, 28, 28]"), {"item": True}),
    ("`inputs` missing an input of forward()", _entry(target='"models.py:TwoInputs"', input=None, inputs="{ sample = [1, 1, 28, 28] }"), {"item": True}),
)


def pyproject_cases(proj: _Project) -> list[Case]:
    out = []
    for what, toml, flags in PYPROJECT_CASES:
        status, stderr = proj.run_cli([], pyproject=toml)
        shown = "<br>".join(_code(line) for line in toml.rstrip("\n").split("\n"))
        out.append(_cli_case("pyproject", f"{_inline(what)}:<br>{shown}", status, stderr, **flags))
    return out


def _cli_case(section: str, description: str, status: int, stderr: str, **flags: bool) -> Case:
    lines = stderr.rstrip("\n").split("\n")
    after_usage = len(lines) > 1 and lines[0].startswith("usage: ")
    if after_usage:  # argparse: the usage lines, then one message line
        lines = lines[-1:]
    failed = status not in (0, 1) and bool(stderr.strip())
    return Case(section, description, f"exit {status}: " + "\n".join(lines), failed=failed, after_usage=after_usage, **flags)


# --------------------------------------------------------------------------- all cases

_CACHE: dict[str, list[Case]] = {}


def all_cases() -> list[Case]:
    """Every case of the messages table, in table order (computed once per process)."""
    if "all" not in _CACHE:
        with project() as proj:
            _CACHE["all"] = api_cases(proj) + cli_cases(proj) + pyproject_cases(proj)
    return list(_CACHE["all"])


# --------------------------------------------------------------------------- markdown


def _code(text: str) -> str:
    """``text`` as a markdown code span (a longer fence when it holds backticks)."""
    if not text:
        return "(empty)"
    run = longest = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _escape(text: str) -> str:
    """Plain text, with markdown's special characters escaped."""
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, "\\" + ch)
    return text


def _inline(text: str) -> str:
    """Text that marks its code with backticks: escape what lies outside them."""
    parts = text.split("`")
    return "`".join(p if i % 2 else _escape(p) for i, p in enumerate(parts))


def _table(cases: Sequence[Case], second_column: str) -> str:
    rows = [f"| Bad input | {second_column} |", "|---|---|"]
    for case in cases:
        message = "<br>".join(_code(line) for line in case.message.split("\n"))
        if case.after_usage:
            message += " (after the usage lines)"
        if case.item:
            message += " (pytest: fails the item)"
        if case.cli_only:
            message += " (CLI only)"
        # GFM wants a pipe escaped in a cell, inside code spans too
        rows.append(f"| {case.description.replace('|', chr(92) + '|')} | {message.replace('|', chr(92) + '|')} |")
    return "\n".join(rows)


def _source(name: str, text: str) -> str:
    return f"<details><summary>{name}</summary>\n\n<!-- doctest: file={name} -->\n```python\n{text.rstrip()}\n```\n\n</details>"


def render_markdown(cases: Sequence[Case] | None = None) -> str:
    """The three subsections of docs/messages.md."""
    cases = all_cases() if cases is None else list(cases)
    by = {s: [c for c in cases if c.section == s] for s in ("api", "cli", "pyproject")}
    return "\n".join(
        [
            "#### API",
            "",
            "All cases run in a folder holding the files below; `/path/to` stands for that folder. "
            "`model` is `Autoencoder()` (`encoder`: `Conv2d(1, 1, 5, stride=2)` and `ReLU`; `decoder`: "
            "`ConvTranspose2d(1, 1, 5, stride=2)`), `half` is `Autoencoder().half()` and `kwonly` is "
            "`KeywordOnly()`.",
            "",
            _source("models.py", MODELS_PY),
            "",
            _source("badimport.py", BADIMPORT_PY),
            "",
            _source("src/mypkg/nets.py", PKG_NETS_PY),
            "",
            _source("src/mypkg/blocks.py", PKG_BLOCKS_PY),
            "",
            _table(by["api"], "Exception and message"),
            "",
            "#### CLI",
            "",
            "Errors that argparse finds print the usage lines first; the table leaves them out.",
            "",
            _table(by["cli"], "Exit status and message (stderr)"),
            "",
            "#### pyproject.toml",
            "",
            "`convshape` without TARGET, with this pyproject.toml. Under pytest the same messages are a "
            "usage error, `ERROR: pyproject.toml: ...` with exit status 4, before anything is collected; "
            'the rows marked "pytest: fails the item" fail that model\'s item instead, and those marked '
            '"CLI only" leave pytest with no models to collect.',
            "",
            _table(by["pyproject"], "Exit status and message (stderr)"),
        ]
    )


def readme_block(readme_text: str) -> str:
    """What the page holds between the markers, without the newlines next to them."""
    start, end = readme_text.find(START), readme_text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{README.name} has no {START} ... {END} block")
    return readme_text[start + len(START) : end].strip("\n")


def replace_block(readme_text: str, block: str) -> str:
    """The page's text with ``block`` between the markers (the markers kept)."""
    readme_block(readme_text)  # both markers there, in order
    start, end = readme_text.find(START), readme_text.find(END)
    return readme_text[: start + len(START)] + "\n" + block + "\n" + readme_text[end:]


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="The tables of messages for bad input in docs/messages.md.")
    parser.add_argument("--write", action="store_true", help=f"replace the block between the markers in {README.name}")
    args = parser.parse_args(argv)
    block = render_markdown()
    if args.write:
        README.write_text(replace_block(README.read_text(encoding="utf-8"), block), encoding="utf-8")
        print(f"{README}: wrote the messages of {len(all_cases())} bad inputs")
    else:
        print(block)
    return 0


if __name__ == "__main__":
    if str(ROOT) not in sys.path:  # a checkout that is not installed
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
