"""No model harmed: after ``check()`` every parameter and buffer is bit-for-bit what it was
(version counters included, so even an in-place write of the same value counts), no hook of any
kind is left, ``training``, device, dtype, ``requires_grad`` and gradients are as before, and no
process-wide torch state leaks (grad/inference mode, default device and dtype, function and
dispatch modes, RNG, global module hooks, patched ``nn.Module`` methods).

Each scenario lints a model that has been trained a little (BatchNorm running stats and
``num_batches_tracked`` are non-zero), carries gradients, user hooks of every kind, frozen
parameters, NaN and -0.0 weights, and a mix of train and eval submodules; the scenarios cover a
clean model, one with findings (several virtual-fix passes), one whose forward raises, an input
that does not fit, the real CPU fallback pass (with a forward that writes into its buffers and
its input), lazy modules, tied weights and parametrizations.
"""

from __future__ import annotations

import textwrap

import fuzz_models as fm
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pytest_convshape import check
from pytest_convshape.api import InputError

# --------------------------------------------------------------------------- models


class UNet(nn.Module):
    """Two-level U-Net with BatchNorm, Dropout and a counter buffer; ``op`` is the first
    up's output_padding (1 restores 30x30, 0 gives 29x29 and a crashing cat)."""

    def __init__(self, op: int = 1, fail: bool = False, value_dependent: bool = False, writes: bool = False):
        super().__init__()
        self.fail, self.value_dependent, self.writes = fail, value_dependent, writes
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.down1 = nn.Conv2d(4, 4, 3, stride=2, padding=1)  # 30 -> 15
        self.bn1 = nn.BatchNorm2d(4)
        self.down2 = nn.MaxPool2d(2, ceil_mode=True)  # 15 -> 8
        self.mid = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Dropout(0.5))
        self.up2 = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)  # 8 -> 15
        self.up1 = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=op)  # 15 -> 30 (op=1)
        self.head = nn.Conv2d(8, 1, 1)
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.register_buffer("ema", torch.zeros(4), persistent=False)

    def forward(self, x):
        if self.writes:  # in-place writes into buffers and the input: must never reach the caller
            self.calls += 1
            x.mul_(1.0)
        s0 = self.stem(x)
        s1 = F.relu(self.bn1(self.down1(s0)))
        if self.writes:
            self.ema.mul_(0.5).add_(s1.mean((0, 2, 3)))
        y = self.mid(self.down2(s1))
        if self.value_dependent and y.sum() > 0:  # needs real values: the meta pass gives up
            y = y * 2
        if self.fail:
            raise ValueError("user code raised on purpose")
        y = torch.cat([self.up2(y), s1], dim=1)
        return self.head(torch.cat([self.up1(y), s0], dim=1))


def _used(model: nn.Module, size: int = 30) -> nn.Module:
    """Train a few steps (running stats, num_batches_tracked, grads), freeze a layer, plant NaN
    and -0.0 weights, hook everything, leave a mix of train and eval modules."""
    torch.manual_seed(0)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        out = model(torch.randn(2, 1, size, size))
        out.mean().backward()
        opt.step()
    out = model(torch.randn(2, 1, size, size))
    out.mean().backward()  # leave gradients in place
    with torch.no_grad():
        model.head.weight[0, 0, 0, 0] = float("nan")
        model.head.bias[0] = -0.0
    model.stem[0].weight.requires_grad_(False)
    model.mid.eval()
    _hook_everything(model)
    return model


def _hook_everything(model: nn.Module) -> None:
    model.stem.register_forward_hook(lambda m, a, o: None)
    model.stem.register_forward_pre_hook(lambda m, a: None)
    model.down1.register_forward_hook(lambda m, a, kw, o: None, with_kwargs=True, always_call=True)
    model.down1.register_forward_pre_hook(lambda m, a, kw: None, with_kwargs=True)
    model.up1.register_full_backward_hook(lambda m, gi, go: None)
    model.up1.register_full_backward_pre_hook(lambda m, go: None)
    model.head.register_state_dict_post_hook(lambda m, sd, prefix, local_metadata: None)
    model.head.register_load_state_dict_post_hook(lambda m, keys: None)
    model.head.weight.register_hook(lambda g: g)


def _lint_unharmed(model: nn.Module, **kwargs):
    """``check(model, **kwargs)`` (its report, or the exception it raised); assert that it
    changed nothing about the model or the process."""
    before, globals_before = fm.snapshot(model), fm.global_state()
    try:
        result = check(model, **kwargs)
    except Exception as exc:
        result = exc
    changed = fm.differences(before, fm.snapshot(model)) + fm.global_differences(globals_before, fm.global_state())
    assert not changed, "\n".join(changed)
    return result


# --------------------------------------------------------------------------- scenarios


def test_the_snapshot_sees_a_single_changed_bit():
    model = _used(UNet())
    before = fm.snapshot(model)
    with torch.no_grad():
        model.bn1.running_var.view(torch.int32)[0] ^= 1  # one bit of one float
    assert fm.differences(before, fm.snapshot(model)) == ["('buffer', 'bn1', 'running_var'): changed"]
    before = fm.snapshot(model)
    model.bn1.num_batches_tracked += 0  # same value, but written: the version counter moves
    assert fm.differences(before, fm.snapshot(model)) == ["('buffer', 'bn1', 'num_batches_tracked'): changed"]
    before = fm.snapshot(model)
    handle = model.up2.register_forward_hook(lambda m, a, o: None)
    assert fm.differences(before, fm.snapshot(model)) == ["('hooks', 'up2', '_forward_hooks'): changed"]
    handle.remove()


def test_clean_model_is_unharmed():
    model = _used(UNet(op=1))
    assert model.bn1.num_batches_tracked.item() == 3 and model.bn1.running_mean.abs().sum() > 0
    report = _lint_unharmed(model, input_size=(1, 1, 30, 30))
    assert report.ok, report
    assert model.training and not model.mid.training


def test_model_with_findings_is_unharmed():
    """CS101 plus a crashing cat: the tracer repairs the merge and re-runs with virtual fixes."""
    model = _used(UNet(op=1))
    model.up1.output_padding = (0, 0)
    report = _lint_unharmed(model, input_size=(1, 1, 30, 30))
    assert [f.code for f in report.findings if f.severity == "error"] == ["CS101"], report


def test_model_whose_forward_raises_is_unharmed():
    model = _used(UNet())
    model.fail = True
    report = _lint_unharmed(model, input_size=(1, 1, 30, 30))
    assert [f.code for f in report.findings] == ["CS903"], report
    assert "user code raised on purpose" in report.findings[0].message


def test_input_that_does_not_fit_leaves_the_model_unharmed():
    model = _used(UNet())
    exc = _lint_unharmed(model, input_size=(1, 3, 30, 30))  # 3 channels, the stem takes 1
    assert isinstance(exc, InputError), exc


def test_keyboard_interrupt_in_forward_cleans_up_and_propagates():
    class Interrupted(UNet):
        interrupt = False

        def forward(self, x):
            if self.interrupt:
                raise KeyboardInterrupt
            return super().forward(x)

    model = _used(Interrupted())
    model.interrupt = True
    before, globals_before = fm.snapshot(model), fm.global_state()
    with pytest.raises(KeyboardInterrupt):
        check(model, input_size=(1, 1, 30, 30))
    assert not fm.differences(before, fm.snapshot(model))
    assert not fm.global_differences(globals_before, fm.global_state())


def test_real_cpu_fallback_pass_writes_nothing_back():
    """Value-dependent control flow forces the real CPU pass; its forward writes into a buffer,
    a non-persistent buffer and its input. None of it may reach the model or the caller."""
    model = _used(UNet(value_dependent=False, writes=True))
    model.value_dependent = True
    x = torch.randn(1, 1, 30, 30)
    x_before = (x.clone(), x._version)
    report = _lint_unharmed(model, example_inputs=x)
    assert report.device == "cpu" and "CS902" in {f.code for f in report.findings}, report
    assert torch.equal(x, x_before[0]) and x._version == x_before[1]


def test_fallback_on_an_op_without_meta_kernel_is_unharmed():
    class NoMeta(UNet):
        def forward(self, x):
            torch.unique_consecutive(x)  # no meta kernel in torch
            return super().forward(x)

    model = _used(NoMeta())
    report = _lint_unharmed(model, input_size=(1, 1, 30, 30))
    assert report.device == "cpu", report


def test_lazy_modules_stay_uninitialised():
    model = nn.Sequential(nn.LazyConv2d(4, 3, stride=2), nn.BatchNorm2d(4), nn.LazyConvTranspose2d(1, 3, stride=2))
    report = _lint_unharmed(model, input_size=(1, 2, 15, 15))
    assert report.ok, report
    assert isinstance(model[0], nn.LazyConv2d) and nn.parameter.is_lazy(model[0].weight)


def test_tied_and_parametrized_weights_are_unharmed():
    model = _used(UNet())
    model.down1.weight = model.mid[0].weight  # tied (same shape 4x4x3x3)
    nn.utils.parametrizations.spectral_norm(model.up2)  # its u/v buffers update in training mode
    nn.utils.parametrizations.weight_norm(model.head)
    model.train()
    report = _lint_unharmed(model, input_size=(1, 1, 30, 30))
    assert report.ok, report


class _Aliased(nn.Module):
    """One conv and one deconv registered under two names each, as MONAI's DynUNet does."""

    def __init__(self):
        super().__init__()
        self.downs = nn.ModuleList([nn.Conv2d(1, 1, 3, 2, 1)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(1, 1, 2, 2)])
        self.skip = nn.Module()
        self.skip.down, self.skip.up = self.downs[0], self.ups[0]

    def forward(self, x):
        return torch.cat([self.skip.up(self.skip.down(x)), x], 1)


def test_modules_registered_under_two_names_are_unharmed():
    # torch.func.functional_call with tie_weights=True leaves an aliased module on meta
    report = _lint_unharmed(_Aliased(), input_size=(1, 1, 32, 32))
    assert report.ok, report


def test_half_precision_model_is_unharmed():
    model = _used(UNet()).half()
    report = _lint_unharmed(model, input_size=(1, 1, 30, 30))
    assert report.ok, report


@pytest.mark.parametrize(
    "context",
    [torch.no_grad, torch.inference_mode, torch.enable_grad, lambda: torch.device("cpu"),
     lambda: torch.autograd.set_grad_enabled(False)],
    ids=["no_grad", "inference_mode", "enable_grad", "default_device_cpu", "set_grad_enabled_false"],
)
def test_global_state_inside_caller_contexts_is_kept(context):
    model = _used(UNet())
    with context():
        inside = fm.global_state()
        report = _lint_unharmed(model, input_size=(1, 1, 30, 30))
        assert not fm.global_differences(inside, fm.global_state())
    assert report.ok, report


def test_loader_restores_module_init_even_when_the_factory_raises(tmp_path):
    from pytest_convshape.loader import LoadError, build

    path = tmp_path / "broken_model.py"
    path.write_text(textwrap.dedent(
        """
        from torch import nn

        def make():
            nn.Conv2d(1, 1, 3)
            raise RuntimeError("factory failed")
        """
    ))
    globals_before = fm.global_state()
    with pytest.raises(LoadError, match="factory failed"):
        build(f"{path}:make")
    assert not fm.global_differences(globals_before, fm.global_state())


def test_no_harm_across_random_models():
    """The fuzz models: each is linted and compared with its snapshot (more in test_fuzz)."""
    from hypothesis import given, settings

    @settings(max_examples=15, deadline=None, derandomize=True, database=None)
    @given(fm.model_specs())
    def run(spec):
        model = fm.build(spec)
        model.train()
        before, globals_before = fm.snapshot(model), fm.global_state()
        try:
            check(model, input_size=spec.input_shape)
        except InputError:
            pass
        changed = fm.differences(before, fm.snapshot(model)) + fm.global_differences(globals_before, fm.global_state())
        assert not changed, f"{spec!r}\n" + "\n".join(changed)

    run()
