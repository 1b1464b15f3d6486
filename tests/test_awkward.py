"""Awkward models: each one linted, with the behaviour README documents for it.

Every model here is a small encoder/decoder with the same bug: ``Conv2d(k=5, s=2)`` takes 28x28
to 12x12 and the mirrored ``ConvTranspose2d`` gives back 27x27 (CS101, ``output_padding=1``).
Whatever is awkward about the model, the linter must still find that bug, name the layers the
way the model names them, and leave the model as it was.
"""

from __future__ import annotations

import dataclasses
import typing

import fuzz_models as fm
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pytest_convshape import check
from pytest_convshape.api import InputError

INPUT = (1, 1, 28, 28)

# importing torch._dynamo (torch.compile) warns about torch.jit internals; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")


def _ae() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 2, 5, stride=2), nn.ReLU(), nn.ConvTranspose2d(2, 1, 5, stride=2))


def _errors(report) -> list[tuple[str, str | None, str | None, tuple | None]]:
    return [(f.code, f.down, f.up, f.fix.output_padding if f.fix else None) for f in report.findings if f.severity == "error"]


def _codes(report) -> set[str]:
    return {f.code for f in report.findings}


BUG = [("CS101", "0", "2", (1, 1))]


class Wrapped(nn.Module):
    """The autoencoder under ``self.ae``, so names read ``ae.0`` / ``ae.2``."""

    def __init__(self) -> None:
        super().__init__()
        self.ae = _ae()


BUG_AE = [("CS101", "ae.0", "ae.2", (1, 1))]


# --------------------------------------------------------------------------- value-dependent control flow


class ValueDependent(Wrapped):
    def forward(self, x):
        y = self.ae[1](self.ae[0](x))
        if y.mean() > 1e6:  # needs real values: Tensor.item() cannot be called on meta tensors
            y = y * 0
        return self.ae[2](y)


def test_value_dependent_control_flow_falls_back_to_one_real_cpu_pass():
    report = check(ValueDependent(), input_size=INPUT)
    assert report.device == "cpu"
    assert _errors(report) == BUG_AE, report
    (note,) = [f for f in report.findings if f.code == "CS902"]
    assert note.severity == "warning"
    assert "could not run on the meta device (RuntimeError: Tensor.item() cannot be called on meta tensors" in note.message
    assert "used the model's own weights" in note.message
    assert "a real CPU pass" in str(report)


def test_value_dependent_model_built_on_meta_uses_a_random_cpu_copy_or_the_builder():
    with torch.device("meta"):
        model = ValueDependent()
    report = check(model, input_size=INPUT)
    assert report.device == "cpu" and _errors(report) == BUG_AE
    assert "used a CPU copy of the model" in report.fallback_reason
    report = check(model, input_size=INPUT, cpu_builder=ValueDependent)
    assert "used a CPU build of the model" in report.fallback_reason
    assert model.ae[0].weight.device.type == "meta"


# --------------------------------------------------------------------------- no meta kernel


@torch.library.custom_op("convshape_tests::identity", mutates_args=())
def _identity_without_fake(x: torch.Tensor) -> torch.Tensor:
    return x.clone()  # no register_fake: the meta device cannot run it


class CustomOp(Wrapped):
    def forward(self, x):
        return self.ae[2](_identity_without_fake(self.ae[1](self.ae[0](x))))


class AtenWithoutMeta(Wrapped):
    def forward(self, x):
        y = self.ae[1](self.ae[0](x))
        torch.unique_consecutive(y)  # aten::unique_consecutive has no Meta kernel
        return self.ae[2](y)


@pytest.mark.parametrize("model_cls, reason", [
    (CustomOp, "There was no fake impl registered"),
    (AtenWithoutMeta, "no fake impl or Meta kernel registered"),
], ids=["custom-op", "aten-op"])
def test_op_without_meta_kernel_falls_back_to_a_real_cpu_pass(model_cls, reason):
    report = check(model_cls(), input_size=INPUT)
    assert report.device == "cpu" and _errors(report) == BUG_AE, report
    assert reason in report.fallback_reason


# --------------------------------------------------------------------------- parameters on CUDA


def _on_fake_cuda(model: nn.Module) -> nn.Module:
    """Give every parameter and buffer a CUDA device without a GPU: FakeTensorMode tensors
    carry device and shape but no data."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode(allow_non_fake_inputs=True):
        for m in model.modules():
            for name, p in list(m._parameters.items()):
                if p is not None:
                    m._parameters[name] = nn.Parameter(torch.empty(p.shape, dtype=p.dtype, device="cuda"), p.requires_grad)
            for name, b in list(m._buffers.items()):
                if b is not None:
                    m._buffers[name] = torch.empty(b.shape, dtype=b.dtype, device="cuda")
    return model


def test_model_on_cuda_is_checked_on_meta_without_touching_the_gpu(monkeypatch):
    model = _on_fake_cuda(nn.Sequential(nn.Conv2d(1, 2, 5, stride=2), nn.BatchNorm2d(2), nn.ConvTranspose2d(2, 1, 5, stride=2)))
    assert {p.device.type for p in model.parameters()} == {"cuda"}

    def no_gpu(*args, **kwargs):
        raise AssertionError("the linter initialised CUDA")

    monkeypatch.setattr(torch.cuda, "_lazy_init", no_gpu)
    monkeypatch.setattr(torch.cuda, "synchronize", no_gpu)
    before = fm.snapshot(model)
    report = check(model, input_size=INPUT)
    assert report.device == "meta"
    assert _errors(report) == BUG, report
    assert not fm.differences(before, fm.snapshot(model))
    assert {p.device.type for p in model.parameters()} == {"cuda"}


# --------------------------------------------------------------------------- outputs that are not a tensor


@dataclasses.dataclass
class Decoded:
    image: torch.Tensor
    code: torch.Tensor


class Pair(typing.NamedTuple):
    image: torch.Tensor
    code: torch.Tensor


class Outputs(Wrapped):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def forward(self, x):
        code = self.ae[1](self.ae[0](x))
        image = self.ae[2](code)
        return {
            "tuple": lambda: (image, code),
            "dict": lambda: {"image": image, "code": code},
            "dataclass": lambda: Decoded(image, code),
            "namedtuple": lambda: Pair(image, code),
            "nested": lambda: [{"out": (image, [code])}, None, 3.0],
            "none": lambda: None,
        }[self.kind]()


@pytest.mark.parametrize("kind", ["tuple", "dict", "dataclass", "namedtuple", "nested"])
def test_outputs_of_any_structure(kind):
    report = check(Outputs(kind), input_size=INPUT)
    assert _errors(report) == BUG_AE, report


def test_a_forward_that_returns_nothing_gives_no_witness_for_a_mirror_mismatch():
    # Nothing fails and nothing comes out to compare with the input: the mismatch is reported
    # as what the linter saw (CS905), not as an error.
    report = check(Outputs("none"), input_size=INPUT)
    assert report.ok, report
    assert [f.code for f in report.findings] == ["CS905"], report


# --------------------------------------------------------------------------- containers


class DictAndList(nn.Module):
    """Layers in a ModuleDict, and in plain Python lists (not registered as submodules)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleDict({"enc": nn.Conv2d(1, 2, 5, stride=2), "dec": nn.ConvTranspose2d(2, 1, 5, stride=2)})
        self.plain = [nn.Conv2d(1, 2, 5, stride=2), nn.ConvTranspose2d(2, 1, 5, stride=2)]

    def forward(self, x):
        a = self.blocks["dec"](F.relu(self.blocks["enc"](x)))
        down, up = self.plain
        b = up(F.relu(down(x)))
        return a, b


def test_module_dict_layers_are_named_by_key_and_plain_list_layers_by_their_op():
    report = check(DictAndList(), input_size=INPUT)
    got = _errors(report)
    assert ("CS101", "blocks.enc", "blocks.dec", (1, 1)) in got, report
    # Not registered: no module name, the op is recorded as a functional call of the model.
    assert ("CS101", "F.conv2d", "F.conv_transpose2d", (1, 1)) in got, report
    assert len(got) == 2


def test_plain_list_layers_stay_on_their_device():
    model = DictAndList()
    check(model, input_size=INPUT)
    assert all(p.device.type == "cpu" for m in model.plain for p in m.parameters())


# --------------------------------------------------------------------------- lazy modules


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_lazy_conv_and_lazy_conv_transpose(ndim):
    lazy = {1: (nn.LazyConv1d, nn.LazyConvTranspose1d), 2: (nn.LazyConv2d, nn.LazyConvTranspose2d),
            3: (nn.LazyConv3d, nn.LazyConvTranspose3d)}[ndim]
    model = nn.Sequential(lazy[0](2, 3, stride=2), nn.ReLU(), lazy[1](1, 3, stride=2))
    size = (1, 1) + (8,) * ndim  # 8 -> 3 -> 7
    report = check(model, input_size=size)
    assert _errors(report) == [("CS101", "0", "2", (1,) * ndim)], report
    assert nn.parameter.is_lazy(model[0].weight) and isinstance(model[2], lazy[1])


# --------------------------------------------------------------------------- wrappers


def test_torch_compile_wrapper_is_linted_through_without_compiling():
    from torch._dynamo.utils import counters

    compiled = torch.compile(_ae())
    graphs = counters["stats"]["unique_graphs"]
    report = check(compiled, input_size=INPUT)
    assert _errors(report) == BUG, report
    assert report.target == "torch.nn.modules.container.Sequential"
    assert counters["stats"]["unique_graphs"] == graphs


def test_data_parallel_wrapper_is_linted_through():
    model = nn.DataParallel(_ae())  # no GPU needed: DataParallel only wraps on CPU-only machines
    report = check(model, input_size=INPUT)
    assert _errors(report) == BUG, report  # names without the "module." prefix
    assert report.target == "torch.nn.modules.container.Sequential"


def test_compiled_data_parallel_wrapper():
    report = check(torch.compile(nn.DataParallel(_ae())), input_size=INPUT)
    assert _errors(report) == BUG, report


# --------------------------------------------------------------------------- grad modes


def test_model_built_in_inference_mode_checked_in_inference_mode():
    with torch.inference_mode():
        model = _ae()
        assert model[0].weight.is_inference()
        report = check(model, input_size=INPUT)
        assert torch.is_inference_mode_enabled()
    assert _errors(report) == BUG, report
    report = check(model, example_inputs=torch.randn(INPUT))  # and outside it, with a real input
    assert _errors(report) == BUG, report


def test_model_checked_under_no_grad():
    model = _ae()
    with torch.no_grad():
        report = check(model, input_size=INPUT)
        assert not torch.is_grad_enabled()
    assert _errors(report) == BUG, report


# --------------------------------------------------------------------------- half precision


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_model(dtype):
    model = _ae().to(dtype)
    report = check(model, input_size=INPUT)  # the dummy input takes the model's dtype
    assert _errors(report) == BUG, report
    report = check(model, example_inputs=torch.randn(INPUT, dtype=dtype))
    assert _errors(report) == BUG, report


def test_half_precision_model_in_the_real_cpu_fallback():
    report = check(ValueDependent().half(), input_size=INPUT)
    assert report.device == "cpu" and _errors(report) == BUG_AE, report


def test_half_model_with_a_float32_input_is_an_input_error_as_in_eager():
    model = _ae().half()
    with pytest.raises(RuntimeError, match="should be the same"):
        model(torch.randn(INPUT))
    with pytest.raises(InputError, match=r"input 1x1x28x28 does not fit the model: conv2d in 0 .*should be the same"):
        check(model, example_inputs=torch.randn(INPUT))


# --------------------------------------------------------------------------- keyword-only inputs


class KeywordOnly(Wrapped):
    def forward(self, x, *, scale, mask=None):
        y = self.ae(x) * scale
        return y if mask is None else y * mask


def test_keyword_only_inputs_go_in_a_dict():
    report = check(KeywordOnly(), example_inputs={"x": torch.randn(INPUT), "scale": 2.0})
    assert _errors(report) == BUG_AE, report
    assert report.input == "x=1x1x28x28, scale=2.0"
    report = check(KeywordOnly(), example_inputs={"x": torch.randn(INPUT), "scale": torch.ones(1), "mask": torch.ones(1, 1, 1, 1)})
    assert _errors(report) == BUG_AE, report


def test_missing_keyword_only_input_is_an_input_error():
    with pytest.raises(InputError) as info:
        check(KeywordOnly(), input_size=INPUT)
    assert str(info.value) == (
        "input 1x1x28x28 does not fit the model's forward(): KeywordOnly.forward() missing 1 required "
        "keyword-only argument: 'scale'; give the inputs it needs as example_inputs (a tuple of positional "
        "inputs or a dict of keyword inputs)"
    )
