"""The CLI's rule options (ruff's), several inputs, progress, Ctrl-C, and the awkward targets
that get one line saying what to do."""

from __future__ import annotations

import io
import json
import textwrap

import pytest
from sample_models import AUTOENCODER
from test_cli import forget_modules_under, run

from pytest_convshape import cli, progress

GOOD = ["models.py:Autoencoder", "--input", "1,1,28,28"]

MULTI = '''\
import math
import warnings

import torch
from torch import nn


class TinyDiffusion(nn.Module):
    """forward(sample, timestep): one level, a timestep embedding added to the features."""

    def __init__(self, output_padding=0):
        super().__init__()
        self.embed = nn.Linear(8, 4)
        self.inc = nn.Conv2d(3, 4, 3, padding=1)
        self.down = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=output_padding)
        self.out = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, sample, timestep):
        freqs = torch.exp(-math.log(10000.0) * torch.arange(4, device=timestep.device) / 4)
        angles = timestep.float()[:, None] * freqs[None]
        emb = self.embed(torch.cat([angles.sin(), angles.cos()], dim=-1))
        h = self.inc(sample) + emb[:, :, None, None]
        return self.out(torch.cat([h, self.up(self.down(h))], dim=1))


class Conditional(nn.Module):
    """forward(x, label, t): a class label looked up in an embedding, a 0-d timestep, a scale."""

    def __init__(self):
        super().__init__()
        self.labels = nn.Embedding(10, 1)
        self.down = nn.Conv2d(1, 1, 5, stride=2)
        self.up = nn.ConvTranspose2d(1, 1, 5, stride=2)

    def forward(self, x, label, t, scale=1.0):
        h = self.down(x) + self.labels(label)[:, :, None, None] + t.float().reshape(1, 1, 1, 1)
        return self.up(h) * scale


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 1, 4, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1)
        self.up_alt = nn.ConvTranspose2d(1, 1, 5, stride=2)

    def forward(self, x):
        h = self.down(x)
        if h.mean() > 100:
            return self.up_alt(h)
        return self.up(h)


class WithBatchNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 3, 4, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.up = nn.ConvTranspose2d(3, 3, 4, stride=2, padding=1)

    def forward(self, x):
        return self.up(self.bn(self.down(x)))


class OnCuda(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 1, 5, stride=2, device="cuda")
        self.up = nn.ConvTranspose2d(1, 1, 5, stride=2).cuda()

    def forward(self, x):
        return self.up(self.down(x))


class NeedsCuda(nn.Module):
    def __init__(self, device="cuda"):
        super().__init__()
        torch.cuda.current_device()

    def forward(self, x):
        return x


with warnings.catch_warnings():  # torch.jit.script is deprecated; some projects still ship it
    warnings.simplefilter("ignore")
    scripted = torch.jit.script(WithBatchNorm())
'''


@pytest.fixture
def proj(tmp_path, monkeypatch):
    (tmp_path / "models.py").write_text(AUTOENCODER)
    (tmp_path / "multi.py").write_text(MULTI)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    forget_modules_under(tmp_path)


# --------------------------------------------------------------------------- rule options


def test_select_and_ignore_accumulate_and_take_names(proj, capsys):
    assert run(capsys, *GOOD, "--ignore", "CS9", "--ignore", "shape-not-restored")[0] == cli.EXIT_OK
    assert run(capsys, *GOOD, "--select", "CS3,CS2", "--select", "CS9")[0] == cli.EXIT_OK
    assert run(capsys, *GOOD, "--select", "CS3", "--extend-select", "CS101")[0] == cli.EXIT_FINDINGS
    code, _, err = run(capsys, *GOOD, "--ignore", "shape-not-restord")
    assert code == cli.EXIT_USAGE
    assert err == (
        "convshape: error: --ignore: unknown rule 'shape-not-restord'; did you mean 'shape-not-restored'? "
        "(give codes (CS101), prefixes (CS1) or rule names (shape-not-restored); `convshape --list-rules` lists them)\n"
    )


def test_fail_on_and_exit_zero(proj, capsys):
    hidden = AUTOENCODER.replace("return self.decoder(self.encoder(x))", "y = self.decoder(self.encoder(x))\n        return torch.cat([x, y[..., :27, :27]], 1)")
    (proj / "crop.py").write_text("import torch\n" + hidden.replace("def forward(self, x):", "def forward(self, x):"))
    argv = ["crop.py:Autoencoder", "--input", "1,1,27,27", "--kwargs", '{"output_padding": 1}']
    code, out, _ = run(capsys, *argv)
    assert code == cli.EXIT_OK and "CS301 warning" in out
    code, out, _ = run(capsys, *argv, "--fail-on", "warning")
    assert code == cli.EXIT_FINDINGS and out.rstrip().endswith("FAILED: 0 errors, 1 warning, 0 infos (fail-on warning)")
    (proj / "pyproject.toml").write_text('[tool.convshape]\nfail-on = "warning"\n')
    assert run(capsys, *argv)[0] == cli.EXIT_FINDINGS
    assert run(capsys, *argv, "--fail-on", "error")[0] == cli.EXIT_OK
    code, out, _ = run(capsys, *argv, "--exit-zero")
    assert code == cli.EXIT_OK and out.rstrip().endswith("(fail-on warning) (exit 0: --exit-zero)")
    assert run(capsys, *GOOD, "--exit-zero", "--select", "CS7")[0] == cli.EXIT_USAGE  # usage errors still fail


def test_statistics_quiet_and_one_summary_line(proj, capsys):
    argv = ["models.py:Autoencoder", "models.py:fixed", "--input", "1,1,28,28"]
    code, out, _ = run(capsys, *argv)
    assert code == cli.EXIT_FINDINGS
    assert out.rstrip().splitlines()[-1] == "FAILED: 2 model checks, 1 failed: 1 error, 0 warnings, 0 infos"
    code, out, _ = run(capsys, *argv, "--statistics")
    assert out.splitlines() == [
        "   1  CS101  error    shape-not-restored",
        "FAILED: 2 model checks, 1 failed: 1 error, 0 warnings, 0 infos",
    ]
    code, out, _ = run(capsys, *argv, "--quiet")
    [line] = out.splitlines()
    assert line.startswith("models.py:9: CS101 error decoder.0: ConvTranspose2d gives 27x27")
    assert line.endswith("[models.py:Autoencoder 1x1x28x28]")
    code, out, _ = run(capsys, "models.py:fixed", "--input", "1,1,28,28", "-q")
    assert code == cli.EXIT_OK and out == ""


def test_rule_pages(capsys):
    code, out, _ = run(capsys, "rule", "CS101")
    assert code == 0 and out.startswith("CS101 shape-not-restored (error)\n")
    assert "What it does:" in out and "Example:" in out and "Fix:" in out
    assert run(capsys, "rule", "unused-suppression")[1].startswith("CS910 unused-suppression (warning)")
    code, out, err = run(capsys, "rule", "CS1O1")
    assert code == cli.EXIT_USAGE and out == ""
    assert err == "convshape: error: rule 'CS1O1': no such rule; did you mean 'CS101'?; `convshape --list-rules` lists them\n"
    code, out, _ = run(capsys, "--list-rules")
    assert code == 0 and out.splitlines()[1].startswith("CS101  error    shape-not-restored")
    assert run(capsys, "rule")[1] == out
    assert run(capsys, "rule", "--all")[1].count("What it does:") == len(__import__("pytest_convshape").RULES)


# --------------------------------------------------------------------------- several inputs


def test_several_inputs_named_or_positional(proj, capsys):
    named = ["multi.py:TinyDiffusion", "--input", "sample=1,3,16,16", "--input", "timestep=1:int64", "--format", "json"]
    code, out, _ = run(capsys, *named)
    [m] = json.loads(out)["models"]
    assert code == cli.EXIT_FINDINGS and m["input"] == "sample=1x3x16x16, timestep=1:int64"
    assert [(f["code"], f["up"]) for f in m["findings"]] == [("CS101", "up")]
    code, out, _ = run(capsys, "multi.py:TinyDiffusion", "--input", "1,3,16,16", "--input", "1:int64", "--format", "json")
    [p] = json.loads(out)["models"]
    assert p["findings"] == m["findings"] and p["input"] == "1x3x16x16, 1:int64"
    code, _, _ = run(capsys, *named[:5], "--kwargs", '{"output_padding": 1}')
    assert code == cli.EXIT_OK


def test_integer_scalar_and_plain_value_inputs_trace_on_meta(proj, capsys):
    code, out, _ = run(
        capsys, "multi.py:Conditional", "--input", "x=1,1,28,28", "--input", "label=1:int64",
        "--input", "t=scalar:int64", "--input", "scale=0.5", "--format", "json",
    )
    [m] = json.loads(out)["models"]
    assert code == cli.EXIT_FINDINGS and m["device"] == "meta"
    assert m["input"] == "x=1x1x28x28, label=1:int64, t=scalar:int64, scale=0.5"
    assert [f["code"] for f in m["findings"]] == ["CS101"]


def test_sweep_of_a_named_input_holds_the_others(proj, capsys):
    code, out, _ = run(
        capsys, "multi.py:TinyDiffusion", "--input", "sample=1,3,16,16", "--input", "timestep=1:int64",
        "--kwargs", '{"output_padding": 1}', "--sizes", "sample.2=8:20", "sample.3=8:20", "--format", "json",
    )
    sizes = json.loads(out)["models"][0]["sizes"]
    assert code == cli.EXIT_OK
    assert sizes["2"]["valid"] == [8, 10, 12, 14, 16, 18, 20] == sizes["3"]["valid"]


def test_pyproject_inputs_and_the_fixture_agree_with_the_cli(proj, capsys, pytester_like=None):
    (proj / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [[tool.convshape.models]]
            target = "multi.py:TinyDiffusion"
            inputs = { sample = [1, 3, 16, 16], timestep = { shape = [1], dtype = "int64" } }
            """
        )
    )
    _, out, _ = run(capsys, "--format", "json")
    [gate] = json.loads(out)["models"]
    _, out, _ = run(capsys, "multi.py:TinyDiffusion", "--input", "sample=1,3,16,16", "--input", "timestep=1:int64", "--format", "json")
    [target] = json.loads(out)["models"]
    assert gate["findings"] == target["findings"] and gate["input"] == target["input"]

    import torch
    from multi import TinyDiffusion

    from pytest_convshape import check

    report = check(TinyDiffusion(), example_inputs={"sample": torch.zeros(1, 3, 16, 16), "timestep": torch.tensor([10])})
    assert [(f.code, f.up, f.message) for f in report.findings] == [(f["code"], f["up"], f["message"]) for f in gate["findings"]]


def test_sizes_values_do_not_swallow_the_target(proj, capsys):
    code, out, _ = run(capsys, "--sizes", "2=20:40", "3=20:40", "models.py:Autoencoder", "--input", "1,1,28,28", "--format", "json")
    [m] = json.loads(out)["models"]
    assert code == cli.EXIT_FINDINGS and m["target"] == "models.py:Autoencoder" and set(m["sizes"]) == {"2", "3"}


# --------------------------------------------------------------------------- awkward targets


@pytest.mark.parametrize(
    "argv, message",
    [
        (["multi.py:scripted", "--input", "1,3,28,28"], "check() needs the eager nn.Module, got a TorchScript RecursiveScriptModule"),
        (["multi.py:WithBatchNorm", "--input", "3,28,28"], "input 3x28x28 has no batch dim: bn (BatchNorm2d) needs (N, C, H, W); add the batch dim: --input 1,3,28,28"),
        (["multi.py:NeedsCuda", "--input", "1,1,8,8"], "this machine has no CUDA: pass --kwargs '{\"device\": \"cpu\"}'"),
        (GOOD + ["--input", "1,1,27,27"], "takes 2 positional arguments but 3 were given; give one --input per input of forward()"),
        (["multi.py:TinyDiffusion", "--input", "sample=1,3,16,16"], "missing 1 required positional argument: 'timestep'; give one --input per input"),
    ],
)
def test_awkward_targets_get_one_line_saying_what_to_do(proj, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == cli.EXIT_USAGE and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cuda_constructor_is_built_on_meta_anyway(proj, capsys):
    code, out, _ = run(capsys, "multi.py:OnCuda", "--input", "1,1,28,28")
    assert code == cli.EXIT_FINDINGS and "CS101 error" in out and "(meta device)" in out


def test_file_target_with_relative_imports_suggests_the_package_form(proj, capsys):
    pkg = proj / "src" / "mypkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "blocks.py").write_text("from torch import nn\n\nDown = nn.Conv2d\n")
    (pkg / "nets.py").write_text("from torch import nn\n\nfrom .blocks import Down\n\nNet = nn.Identity\n")
    code, _, err = run(capsys, "src/mypkg/nets.py:Net", "--input", "1,1,8,8")
    assert code == cli.EXIT_USAGE
    assert err == (
        "convshape: error: target 'src/mypkg/nets.py:Net': src/mypkg/nets.py uses relative imports, so it cannot be "
        "loaded as a file; give the target as mypkg.nets:Net (with src on sys.path: run from there, install the "
        "project, or list it in src)\n"
    )


def test_a_branch_that_hid_a_layer_is_named(proj, capsys):
    code, out, _ = run(capsys, "multi.py:Branchy", "--input", "1,1,28,28")
    assert code == cli.EXIT_OK
    built = _line("self.up_alt = nn.ConvTranspose2d")
    chose = _line("if h.mean() > 100:")
    assert (
        f"not checked: up_alt (ConvTranspose2d, multi.py:{built}) never ran: `if h.mean() > 100:` (multi.py:{chose}) "
        "chose another branch, so it was not checked"
    ) in out
    code, out, _ = run(capsys, "multi.py:Branchy", "--input", "1,1,28,28", "--format", "json")
    assert json.loads(out)["models"][0]["never_ran"] == [
        {"layer": "up_alt", "kind": "ConvTranspose2d", "location": f"multi.py:{built}", "condition": "if h.mean() > 100:",
         "condition_location": f"multi.py:{chose}"}
    ]


def _line(text: str) -> int:
    return next(i for i, line in enumerate(MULTI.splitlines(), start=1) if text in line)


# --------------------------------------------------------------------------- progress and Ctrl-C


def test_ctrl_c_is_one_line_and_exit_130(proj, capsys, monkeypatch):
    import pytest_convshape.api as api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "check", interrupted)
    code, out, err = run(capsys, *GOOD)
    assert (code, out, err) == (130, "", "convshape: interrupted\n")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_sweep_progress_on_a_terminal_only(proj):
    from models import Autoencoder

    from pytest_convshape import check

    term = _Terminal()
    with progress.showing(term, interval=0.0):
        report = check(Autoencoder(), input_size=(1, 1, 28, 28), sizes={2: (20, 40)})
    shown = term.getvalue()
    assert "\rconvshape: sweeping H in 20..40 (21 sizes): 1 forward pass traced" in shown
    assert shown.endswith("\r")  # the line is cleared before the report is printed
    assert report.sizes[0].sizes == tuple(range(20, 41))
    pipe = io.StringIO()
    with progress.showing(pipe) as shown_progress:
        assert shown_progress is None and progress.current() is None


SPECTROGRAM = '''\
from torch import nn


class Spectrogram(nn.Module):
    """Takes a 3-d waveform (N, 1, L) and makes it 4-d before a Conv2d and a BatchNorm2d: valid."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 4, 4, stride=2, padding=1)
        self.norm = nn.BatchNorm2d(4)
        self.up = nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1)

    def forward(self, wave):
        return self.up(self.norm(self.down(wave.reshape(wave.shape[0], 1, 32, -1))))
'''


def test_a_3d_input_of_a_model_that_adds_its_own_dim_is_not_called_unbatched(proj, capsys):
    (proj / "spectrogram.py").write_text(SPECTROGRAM)
    code, out, err = run(capsys, "spectrogram.py:Spectrogram", "--input", "1,1,1024", "--quiet")
    assert (code, out, err) == (cli.EXIT_OK, "", "")


def test_a_sweep_of_a_named_input_leaves_the_model_untouched(proj):
    import torch
    from multi import TinyDiffusion

    from pytest_convshape import check, progress

    model = TinyDiffusion(output_padding=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [m.training for m in model.modules()]
    inputs = {"timestep": torch.tensor([3]), "sample": torch.zeros(1, 3, 16, 16)}  # the swept one not first
    with progress.showing(_Terminal(), interval=0.0):
        report = check(model, example_inputs=inputs, sizes={"sample.2": (8, 20)})
    assert report.sizes[0].valid == (8, 10, 12, 14, 16, 18, 20)
    assert "forward" not in model.__dict__ and type(model).forward is TinyDiffusion.forward
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert [m.training for m in model.modules()] == flags
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
