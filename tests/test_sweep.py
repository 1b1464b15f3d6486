"""Input-size sweeps: the readable rule, the size program against eager torch size by size,
fix validity, and agreement with torch.export's dynamic-shape suggestion."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn
from zoo import _verify

from pytest_convshape import check
from pytest_convshape.sweep import describe_sizes

# ------------------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    "valid, domain, rule",
    [
        (range(16, 513, 16), range(8, 513), "H % 16 == 0"),
        (range(16, 513, 16), range(1, 513), "H % 16 == 0"),
        (range(32, 513, 16), range(1, 513), "H % 16 == 0 and H >= 32"),
        ([n for n in range(8, 100) if n % 4 in (0, 1)], range(8, 100), "H % 4 in (0, 1)"),
        (range(8, 100), range(8, 100), "every H in 8..99"),
        ([], range(8, 100), "no H in 8..99"),
        (range(20, 100), range(8, 100), "H >= 20"),
        (range(20, 50), range(8, 100), "20 <= H <= 49"),
        ([9, 10, 17, 40], range(8, 100), "H in {9..10, 17, 40}"),
        ([12], range(8, 100), "H == 12"),
    ],
)
def test_describe_sizes(valid, domain, rule):
    assert describe_sizes(list(valid), list(domain), "H") == rule


def test_described_rule_is_exact_over_the_domain():
    domain = list(range(1, 300))
    valid = [n for n in domain if n % 8 == 3 and n >= 20]
    rule = describe_sizes(valid, domain, "H")
    assert rule == "H % 8 == 3 and H >= 27"
    assert [n for n in domain if eval(rule.replace("H", str(n)).replace(" and ", " and "))] == valid


# ------------------------------------------------------------------------------ the U-Net of the issue


class SkipUNet(nn.Module):
    """Two levels, k=3, s=2, p=1 everywhere, torch.cat skips."""

    def __init__(self, output_padding=0, use_output_size=False):
        super().__init__()
        self.use_output_size = use_output_size
        self.d1 = nn.Conv2d(1, 2, 3, 2, 1)
        self.d2 = nn.Conv2d(2, 4, 3, 2, 1)
        self.u2 = nn.ConvTranspose2d(4, 2, 3, 2, 1, output_padding=output_padding)
        self.u1 = nn.ConvTranspose2d(4, 1, 3, 2, 1, output_padding=output_padding)

    def forward(self, x):
        a = self.d1(x)
        b = self.d2(a)
        if self.use_output_size:
            y = torch.cat([self.u2(b, output_size=a.shape[-2:]), a], 1)
            return torch.cat([self.u1(y, output_size=x.shape[-2:]), x], 1)
        y = torch.cat([self.u2(b), a], 1)
        return torch.cat([self.u1(y), x], 1)


def _eager_ok(model: nn.Module, shape) -> bool:
    try:
        with torch.no_grad():
            model(torch.zeros(shape))
        return True
    except RuntimeError:
        return False


def test_unet_sizes_today_with_output_padding_and_with_output_size_match_eager():
    report = check(SkipUNet(), input_size=(1, 1, 65, 65), sizes={2: (8, 48)})
    [sweep] = report.sizes
    assert sweep.rule == "H % 4 == 1"
    [(change, with_op1, rule)] = sweep.alternatives
    assert change == "output_padding=1 in this dim on u2, u1" and rule == "H % 4 == 0"
    assert sweep.with_output_size_rule == "every H in 8..48"

    class HeightOnly(SkipUNet):  # output_padding=1 in H only, as the alternative says
        def __init__(self):
            super().__init__(output_padding=0)
            self.u2.output_padding = (1, 0)
            self.u1.output_padding = (1, 0)

    for h in range(8, 49):
        assert (h in sweep.valid) == _eager_ok(SkipUNet(), (1, 1, h, 65)), h
        assert (h in with_op1) == _eager_ok(HeightOnly(), (1, 1, h, 65)), h
        assert _eager_ok(SkipUNet(use_output_size=True), (1, 1, h, 65))
    d = report.to_dict()["sizes"]["2"]
    assert d["rule"] == "H % 4 == 1" and d["valid"] == list(sweep.valid)
    text = str(report)
    assert "valid today: H % 4 == 1" in text
    assert "with output_padding=1 in this dim on u2, u1: H % 4 == 0" in text
    assert "with output_size= passed to every paired ConvTranspose: every H in 8..48" in text


class TimeUNet(nn.Module):
    """A diffusion-style level: the time step, another input, is added as (B, C, 1, 1)."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(2, 2, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1)
        self.temb = nn.Linear(1, 2)

    def forward(self, sample, timestep):
        t = self.temb(timestep.float()[:, None])[:, :, None, None]
        h = self.down(sample) + t
        return torch.cat([self.up(h), sample], 1)


def test_a_broadcast_add_from_another_input_keeps_the_sweep_symbolic():
    inputs = {"sample": torch.zeros(1, 2, 32, 30), "timestep": torch.tensor([3])}
    report = check(TimeUNet(), example_inputs=inputs, sizes={"sample.2": (8, 40)})
    [sweep] = report.sizes
    assert sweep.method == "symbolic", sweep.note
    assert sweep.rule == "H % 2 == 0"
    model = TimeUNet()
    for h in range(8, 41):
        with torch.no_grad():
            try:
                model(torch.zeros(1, 2, h, 30), torch.tensor([3]))
                ok = True
            except RuntimeError:
                ok = False
        assert (h in sweep.valid) == ok, h


def test_unet_broken_at_its_size_reports_the_fixed_rule():
    report = check(SkipUNet(), input_size=(1, 1, 64, 64), sizes={2: (8, 48)})
    [sweep] = report.sizes
    assert sweep.rule == "no H in 8..48"  # W=64 is held, and W does not round-trip today
    assert sweep.with_fixes_rule == "H % 4 == 0"
    for h in range(8, 49):
        assert (h in sweep.with_fixes) == _eager_ok(SkipUNet(output_padding=1), (1, 1, h, 64)), h


def test_each_fix_says_for_which_sizes_it_holds():
    report = check(SkipUNet(), input_size=(1, 1, 64, 64), sizes={2: (8, 48)})
    by_up = {f.up: f for f in report.findings}
    assert by_up["u1"].holds_for.startswith("output_padding=1 restores H for H % 2 == 0")
    assert "output_padding=0 for H % 2 == 1" in by_up["u1"].holds_for
    assert "pass output_size=<input of d1>.shape[-2:] to u1 in forward for every H in 8..48" in by_up["u1"].holds_for
    assert by_up["u2"].holds_for.startswith("output_padding=1 restores H for H % 4 in (0, 3)")


def test_per_pair_restrictions_are_named():
    report = check(SkipUNet(), input_size=(1, 1, 65, 65), sizes={2: (8, 48)})
    rules = {(r.down, r.up): r.rule for r in report.sizes[0].restrictions}
    assert rules[("d1", "u1")] == "H % 2 == 1"
    assert rules[("d2", "u2")] == "H % 4 in (1, 2)"


@pytest.mark.parametrize("bad, match", [
    ({1: (8, 16)}, "not a spatial dim"),
    ({2: (0, 16)}, "start at 1"),
    ({2: "8-16"}, "FIRST:LAST"),
    ({2: (8, 16, 0)}, "step"),
    ({2: 8}, "expected"),
])
def test_bad_sizes_are_value_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        check(SkipUNet(), input_size=(1, 1, 64, 64), sizes=bad)


# ------------------------------------------------------------------------------ the zoo, size by size


def _eager_valid(zoo, model, pairs, shape) -> bool:
    x = _verify.default_input(shape)
    names = {n for p in pairs for n in p}
    with _verify.record(model, names, getattr(zoo, "PROBES", None)) as rec:
        _verify.run(model, x, rec, allow_error=True)
    if rec.error is not None:
        return False
    return all(rec.down_in(d) == rec.up_out(u) for d, u in pairs)


ZOO = [n for n in _verify.zoo_names()]


def _fixed(zoo):
    """The zoo model with its expected output_padding fixes applied (module layers only)."""
    model = zoo.build()
    fixes = [f for f in zoo.EXPECTED if f.get("output_padding") is not None and ":" not in str(f.get("up"))]
    return _verify.apply_fixes(model, fixes)


@pytest.mark.parametrize("fixed", [False, True], ids=["as-is", "fixed"])
@pytest.mark.parametrize("name", ZOO)
def test_zoo_sweep_equals_eager_at_every_size(name, fixed):
    zoo = _verify.load(name)
    if fixed and not any(f.get("output_padding") for f in zoo.EXPECTED):
        pytest.skip("no output_padding fix in this zoo model")
    build = (lambda: _fixed(zoo)) if fixed else zoo.build
    dim = 2
    base = zoo.INPUT[dim]
    lo, hi = max(1, base - 6), base + 6
    report = check(build(), input_size=zoo.INPUT, pairs=getattr(zoo, "CONFIG_PAIRS", ()), sizes={dim: (lo, hi)})
    [sweep] = report.sizes
    pairs = [(p.down, p.up) for p in report.pairs if p.down is not None]
    model = build()
    truth = []
    for h in range(lo, hi + 1):
        shape = list(zoo.INPUT)
        shape[dim] = h
        if _eager_valid(zoo, model, pairs, tuple(shape)):
            truth.append(h)
    assert list(sweep.valid) == truth, f"{sweep.method}: {sweep.rule} vs eager {describe_sizes(truth, range(lo, hi + 1), 'H')}\n{sweep.note}"


# ------------------------------------------------------------------------------ torch.export


def test_agrees_with_torch_export_suggestion():
    from torch.export import Dim, export

    lo, hi = 4, 256
    h = Dim("h", min=lo, max=hi)
    with pytest.raises(Exception) as info:
        export(SkipUNet(), (torch.zeros(1, 1, 17, 17),), dynamic_shapes={"x": {2: h}})
    text = str(info.value)
    match = re.search(r"h = (\d+)\*_h( [-+] \d+)?", text)
    assert match, text
    a = int(match.group(1))
    b = int(match.group(2).replace(" ", "")) if match.group(2) else 0
    exported = sorted({a * k + b for k in range(0, hi + 1)} & set(range(lo + 1, hi + 1)))
    report = check(SkipUNet(), input_size=(1, 1, 17, 17), sizes={2: (lo + 1, hi)})
    assert list(report.sizes[0].valid) == exported


# Zoo models for which torch.export (torch 2.13) suggests a dynamic-shape relation for H.
# Export only asks that the forward completes; the sweep also asks that every pair round-trips,
# so the sweep's valid sizes are a subset of export's, and equal where every pair meets its
# partner in a torch.cat (a pair that does not round-trip makes the forward fail there).
EXPORT_SUGGESTS = {"pixelshuffle_clean": True, "unet_maxpool_even": True, "pixelshuffle_odd": False, "segnet_unpool": False, "unet_crop": False}


@pytest.mark.parametrize("name", sorted(EXPORT_SUGGESTS))
def test_zoo_sweep_agrees_with_torch_export(name):
    from torch.export import Dim, export

    zoo = _verify.load(name)
    base = zoo.INPUT[2]
    lo, hi = max(2, base - 6), base + 6
    with pytest.raises(Exception) as info:
        export(zoo.build().eval(), (torch.zeros(zoo.INPUT),), dynamic_shapes={"x": {2: Dim("h", min=lo, max=hi)}})
    match = re.search(r"h = (\d+)\*_h( [-+] \d+)?", str(info.value))
    assert match, str(info.value)
    a, b = int(match.group(1)), int(match.group(2).replace(" ", "")) if match.group(2) else 0
    exported = sorted({a * k + b for k in range(hi + 1)} & set(range(lo, hi + 1)))
    report = check(zoo.build(), input_size=zoo.INPUT, sizes={2: (lo, hi)})
    valid = list(report.sizes[0].valid)
    assert set(valid) <= set(exported), (valid, exported)
    if EXPORT_SUGGESTS[name]:
        assert valid == exported


class InterpUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 1, 3, stride=2, padding=1)

    def forward(self, x):
        up = torch.nn.functional.interpolate(self.down(x), scale_factor=2.0)
        return torch.cat([up, x], 1)


def test_the_sizes_that_work_replace_the_vague_hint():
    [f] = check(InterpUNet(), input_size=(1, 1, 15, 16)).findings
    assert f.code == "CS103"
    assert f.suggestions == ("or use an input size that works: H % 2 == 0 (checked for H in 11..19, the other dims assumed right)",)


class ChecksItsInput(nn.Module):
    """Raises in its own forward unless both sizes are multiples of 8 (as MONAI's SegResNetDS)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x):
        if x.shape[-2] % 8 or x.shape[-1] % 8:
            raise ValueError(f"spatial dims {tuple(x.shape[2:])} must be divisible by 8")
        return self.conv(x)


def test_a_forward_that_stops_in_its_own_check_gets_the_sizes_at_which_it_runs():
    [f] = check(ChecksItsInput(), input_size=(1, 1, 63, 64)).findings
    assert f.code == "CS903" and f.layer is None
    assert f.message.startswith("the forward pass raised in the forward of ChecksItsInput itself: ValueError: spatial dims (63, 64)")
    # W = 64 already works: only H gets a hint, found with W held at a round size
    assert f.suggestions == ("or use an input size at which it runs: H % 8 == 0 (checked for H in 47..79 with W = 64)",)
    for h in range(47, 80):
        ok = h % 8 == 0
        try:
            ChecksItsInput()(torch.zeros(1, 1, h, 64))
        except ValueError:
            assert not ok
        else:
            assert ok
