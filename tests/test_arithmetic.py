"""pytest_convshape.arithmetic against real eager PyTorch on CPU.

Every size formula is checked on tiny tensors (batch 1) over random kernels, strides,
paddings, dilations, groups, output_paddings and odd sizes, per dimension, in 1d/2d/3d.
Each hypothesis example runs several eager calls, so a normal run compares thousands of
configurations.

When eager raises, the arithmetic must predict it. The conditions that raise in eager CPU:

- conv: an output size <= 0 ("Kernel size can't be greater than actual input size").
- conv_transpose: ``output_padding`` outside ``[0, max(stride, dilation))`` in any dimension
  ("output padding must be smaller than either stride or dilation"), or an output size <= 0
  ("Output size is too small"). A size of exactly 0 is backend dependent: when CPU picks
  oneDNN (groups > 1, or 2d kernels >= 4, ...) it gives an empty tensor instead, and a
  negative size fails with "could not construct a memory descriptor using a format tag".
- max_pool / avg_pool: ``padding > kernel // 2`` ("should be at most half of ... kernel size"),
  an output size <= 0; avg_pool3d also needs ``input >= kernel`` in every dimension, padding
  notwithstanding ("input image ... smaller than kernel size").
- ConvTranspose.forward(output_size=...): a size outside :func:`output_size_range`.
- max_unpool: a negative output size, or an ``output_size`` outside
  ``(default - stride, default + stride)``.
- interpolate: an output size <= 0 ("Input and output sizes should be greater than 0"),
  except mode="area" (adaptive_avg_pool), which returns an empty tensor for size 0.
- pixel_unshuffle: a spatial size not divisible by the factor.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
MODULE_PATH = ROOT / "pytest_convshape" / "arithmetic.py"

try:
    from pytest_convshape import arithmetic as A
except ImportError:  # the package __init__ may not exist yet: load the module by path
    _spec = importlib.util.spec_from_file_location("_convshape_arithmetic", MODULE_PATH)
    assert _spec is not None and _spec.loader is not None
    A = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = A
    _spec.loader.exec_module(A)

torch.set_num_threads(1)

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAXPOOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVGPOOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}
LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}

# Largest spatial size drawn per dimensionality: keeps 3d tensors tiny.
MAX_SIZE = {1: 20, 2: 12, 3: 8}


def zeros(*shape: int) -> torch.Tensor:
    return torch.zeros(shape)


def eager(fn, *args, **kwargs) -> tuple[int, ...] | Exception:
    """Shape of an eager call, or the exception it raised."""
    try:
        out = fn(*args, **kwargs)
    except (RuntimeError, ValueError) as exc:
        return exc
    if isinstance(out, tuple):
        out = out[0]
    return tuple(out.shape)


def per_dim(draw, nd: int, low: int, high: int) -> list[int]:
    return [draw(st.integers(low, high)) for _ in range(nd)]


def sizes(draw, nd: int, count: int = 4, low: int = 1) -> list[list[int]]:
    return [per_dim(draw, nd, low, MAX_SIZE[nd]) for _ in range(count)]


# --------------------------------------------------------------------------- conv


@FAST
@given(st.data())
def test_conv_matches_eager(data):
    draw = data.draw
    nd = draw(st.integers(1, 3))
    k, s = per_dim(draw, nd, 1, 5), per_dim(draw, nd, 1, 4)
    p, d = per_dim(draw, nd, 0, 4), per_dim(draw, nd, 1, 3)
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    weight = zeros(cout, cin // groups, *k)
    for size in sizes(draw, nd, count=6):
        expected = [A.conv_output_size(*args) for args in zip(size, k, s, p, d)]
        got = eager(CONV[nd], zeros(1, cin, *size), weight, None, s, p, d, groups)
        if min(expected) <= 0:
            assert isinstance(got, RuntimeError), (size, expected, got)
            assert "Kernel size can't be greater than actual input size" in str(got)
        else:
            assert got == (1, cout, *expected), (size, k, s, p, d)
        text = A.conv_arithmetic(size[0], k[0], s[0], p[0], d[0])
        assert text.endswith(f" = {expected[0]}")


# --------------------------------------------------------------------------- conv transpose


@FAST
@given(st.data())
def test_conv_transpose_matches_eager(data):
    draw = data.draw
    nd = draw(st.integers(1, 3))
    k, s = per_dim(draw, nd, 1, 5), per_dim(draw, nd, 1, 4)
    p, d = per_dim(draw, nd, 0, 4), per_dim(draw, nd, 1, 3)
    groups = draw(st.integers(1, 3))
    cin, cout_per_group = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    weight = zeros(cin, cout_per_group, *k)
    for size in sizes(draw, nd, count=6):
        # Mostly legal, sometimes one past the limit, sometimes far beyond it.
        op = [draw(st.integers(0, max(si, di) + draw(st.sampled_from([0, 0, 0, 1, 3]))))
              for si, di in zip(s, d)]
        legal = all(map(A.is_legal_output_padding, op, s, d))
        expected = [A.conv_transpose_output_size(*a) for a in zip(size, k, s, p, d, op)]
        got = eager(CONVT[nd], zeros(1, cin, *size), weight, None, s, p, op, groups, d)
        if not legal:
            assert isinstance(got, RuntimeError), (size, op, s, d, got)
            assert "output padding must be smaller than either stride or dilation" in str(got)
        elif min(expected) < 0:
            assert isinstance(got, RuntimeError), (size, expected, got)
        elif min(expected) == 0:
            # Backend dependent: "Output size is too small", or (oneDNN) an empty tensor.
            assert got == (1, cout_per_group * groups, *expected) or isinstance(
                got, RuntimeError
            ), (size, expected, got)
        else:
            assert got == (1, cout_per_group * groups, *expected), (size, k, s, p, d, op)
        limit = [A.output_padding_limit(si, di) for si, di in zip(s, d)]
        assert legal == all(0 <= o < lim for o, lim in zip(op, limit))
        text = A.conv_transpose_arithmetic(size[0], k[0], s[0], p[0], d[0], op[0])
        assert text.endswith(f" = {expected[0]}")


# --------------------------------------------------------------------------- pooling


@settings(FAST, max_examples=250)
@given(st.data())
def test_pool_matches_eager(data):
    draw = data.draw
    nd = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "avg"]))
    k, s = per_dim(draw, nd, 1, 5), per_dim(draw, nd, 1, 4)
    # Padding up to one past the legal limit kernel // 2.
    p = [draw(st.integers(0, ki // 2 + 1)) for ki in k]
    d = per_dim(draw, nd, 1, 3) if kind == "max" else [1] * nd
    ceil_mode = draw(st.booleans())
    legal_padding = all(map(A.is_legal_pool_padding, p, k))
    for size in sizes(draw, nd, count=6):
        expected = [A.pool_output_size(*a, ceil_mode) for a in zip(size, k, s, p, d)]
        x = zeros(1, 1, *size)
        if kind == "max":
            got = eager(MAXPOOL[nd], x, k, s, p, d, ceil_mode=ceil_mode)
        else:
            got = eager(AVGPOOL[nd], x, k, s, p, ceil_mode=ceil_mode)
        avg3d_small = kind == "avg" and nd == 3 and any(map(int.__lt__, size, k))
        if not legal_padding:
            assert isinstance(got, RuntimeError), (size, k, p, got)
            assert "half of" in str(got) and "kernel size" in str(got)
        elif min(expected) <= 0 or avg3d_small:
            assert isinstance(got, RuntimeError), (size, expected, got)
        else:
            assert got == (1, 1, *expected), (kind, size, k, s, p, d, ceil_mode)
        if legal_padding:
            text = A.pool_arithmetic(size[0], k[0], s[0], p[0], d[0], ceil_mode)
            assert text.startswith("ceil((" if ceil_mode else "floor((")
            assert text.endswith(f" = {expected[0]}") or text.endswith(f", so {expected[0]})")


# --------------------------------------------------------------------------- solving


@FAST
@given(st.data())
def test_mirror_output_padding_restores_input(data):
    """Conv then ConvTranspose with the same k, s, p, d and the mirror op gives back the input."""
    draw = data.draw
    nd = draw(st.integers(1, 3))
    k, s = per_dim(draw, nd, 1, 5), per_dim(draw, nd, 1, 4)
    p, d = per_dim(draw, nd, 0, 3), per_dim(draw, nd, 1, 3)
    weight = zeros(1, 1, *k)
    for size in sizes(draw, nd):
        if min(map(A.conv_output_size, size, k, s, p, d)) <= 0:
            with pytest.raises(ValueError, match="too small"):
                for args in zip(size, k, s, p, d):
                    A.mirror_output_padding(*args)
            continue
        down = eager(CONV[nd], zeros(1, 1, *size), weight, None, s, p, d)
        assert isinstance(down, tuple)
        op = [A.mirror_output_padding(*args) for args in zip(size, k, s, p, d)]
        assert all(map(A.is_legal_output_padding, op, s, d))
        up = eager(CONVT[nd], zeros(*down), weight, None, s, p, op, 1, d)
        assert up == (1, 1, *size), (size, k, s, p, d, op)
        for args in zip(size, k, s, p, d):
            conv = args[1:]
            assert A.round_trips(args[0], conv, (*conv, A.mirror_output_padding(*args)))


@settings(max_examples=250, deadline=None)
@given(
    size=st.integers(1, 24),
    conv=st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3)),
    convt=st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3)),
)
def test_solve_output_padding_against_brute_force(size, conv, convt):
    """solve_output_padding gives back the conv input, or None iff no legal op does (eager)."""
    down = A.conv_output_size(size, *conv)
    if down <= 0:
        return
    k, s, p, d = convt
    x, w = zeros(1, 1, down), zeros(1, 1, k)
    works = []
    for op in range(A.output_padding_limit(s, d)):
        got = eager(F.conv_transpose1d, x, w, None, s, p, op, 1, d)
        if got == (1, 1, size):
            works.append(op)
    solved = A.solve_output_padding(size, down, k, s, p, d)
    assert works == ([] if solved is None else [solved]), (size, conv, convt, works, solved)
    assert A.needed_output_padding(size, down, k, s, p, d) == size - A.conv_transpose_output_size(
        down, k, s, p, d
    )
    for op in range(A.output_padding_limit(s, d) + 1):
        assert A.round_trips(size, conv, (*convt, op)) == (op in works)


@settings(max_examples=60, deadline=None)
@given(
    target=st.integers(1, 30),
    size=st.integers(1, 12),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
)
def test_padding_and_kernel_alternatives_against_eager(target, size, kernel, stride, dilation):
    """Every suggested (padding, op) / (kernel, op) gives target in eager; no other one does."""
    x = zeros(1, 1, size)
    max_padding = dilation * (kernel - 1)
    found = set()
    for padding in range(max_padding + 1):
        w = zeros(1, 1, kernel)
        for op in range(A.output_padding_limit(stride, dilation)):
            if eager(F.conv_transpose1d, x, w, None, stride, padding, op, 1, dilation) == (
                1, 1, target,
            ):
                found.add((padding, op))
    assert A.padding_alternatives(target, size, kernel, stride, dilation) == sorted(found)

    padding = min(2, max_padding)
    found = set()
    for k in range(1, 2 * stride + 2):
        w = zeros(1, 1, k)
        for op in range(A.output_padding_limit(stride, dilation)):
            if eager(F.conv_transpose1d, x, w, None, stride, padding, op, 1, dilation) == (
                1, 1, target,
            ):
                found.add((k, op))
    assert A.kernel_alternatives(target, size, stride, padding, dilation) == sorted(found)


@settings(max_examples=120, deadline=None)
@given(
    conv=st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)),
    convt=st.tuples(
        st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
        st.integers(0, 2),
    ),
)
def test_round_trip_sizes_against_eager(conv, convt):
    stop = 16
    expected = []
    for size in range(1, stop):
        down = eager(F.conv1d, zeros(1, 1, size), zeros(1, 1, conv[0]), None, *conv[1:])
        if not isinstance(down, tuple):
            continue
        k, s, p, d, op = convt
        up = eager(F.conv_transpose1d, zeros(*down), zeros(1, 1, k), None, s, p, op, 1, d)
        if up == (1, 1, size):
            expected.append(size)
    assert A.round_trip_sizes(conv, convt, stop) == expected


# --------------------------------------------------------------------------- output_size ranges


@FAST
@given(st.data())
def test_output_size_range_matches_conv_transpose_forward(data):
    draw = data.draw
    nd = draw(st.integers(1, 2))
    k, s = per_dim(draw, nd, 1, 5), per_dim(draw, nd, 1, 4)
    p, d = per_dim(draw, nd, 0, 4), per_dim(draw, nd, 1, 3)
    size = per_dim(draw, nd, 1, 8)
    module = [torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d][nd - 1](
        1, 1, k, stride=s, padding=p, dilation=d, bias=False
    )
    ranges = [A.output_size_range(*args) for args in zip(size, k, s, p, d)]
    x = zeros(1, 1, *size)
    with torch.no_grad():
        for dim, (low, high) in enumerate(ranges):
            fixed = [max(lo, 1) for lo, _ in ranges]  # other dims at an accepted size
            for request in range(low - 3, high + 3):
                want = fixed[:dim] + [request] + fixed[dim + 1:]
                accepted = all(lo <= w <= hi for w, (lo, hi) in zip(want, ranges))
                got = eager(module, x, output_size=want)
                if min(want) == 0:  # backend dependent: an error or an empty tensor
                    assert isinstance(got, Exception) or got == (1, 1, *want)
                elif accepted:
                    assert got == (1, 1, *want), (size, k, s, p, d, want, ranges)
                else:
                    assert isinstance(got, Exception), (size, k, s, p, d, want, ranges, got)


@FAST
@given(st.data())
def test_max_unpool_matches_eager(data):
    draw = data.draw
    nd = draw(st.integers(1, 3))
    k, s = per_dim(draw, nd, 1, 4), per_dim(draw, nd, 1, 4)
    p = [draw(st.integers(0, 3)) for _ in range(nd)]
    size = per_dim(draw, nd, 1, 5)
    x = zeros(1, 1, *size)
    indices = torch.zeros(x.shape, dtype=torch.long)  # index 0 is valid for any output
    default = [A.max_unpool_output_size(*args) for args in zip(size, k, s, p)]
    got = eager(UNPOOL[nd], x, indices, k, s, p)
    if min(default) < 0:
        assert isinstance(got, Exception)
    else:
        assert got == (1, 1, *default), (size, k, s, p)
    ranges = [A.max_unpool_size_range(*args) for args in zip(size, k, s, p)]
    fixed = [max(lo, 0) for lo, _ in ranges]
    for dim, (low, high) in enumerate(ranges):
        for request in range(low - 2, high + 3):
            want = fixed[:dim] + [request] + fixed[dim + 1:]
            accepted = all(lo <= w <= hi for w, (lo, hi) in zip(want, ranges))
            got = eager(UNPOOL[nd], x, indices, k, s, p, output_size=want)
            if accepted:
                assert got == (1, 1, *want), (size, k, s, p, want, ranges)
            else:
                assert isinstance(got, Exception), (size, k, s, p, want, ranges, got)


@FAST
@given(st.data())
def test_max_pool_then_unpool_to_input_size(data):
    """The pooled input's size always lies in max_unpool_size_range, with real indices."""
    draw = data.draw
    nd = draw(st.integers(1, 3))
    k, s = per_dim(draw, nd, 1, 4), per_dim(draw, nd, 1, 4)
    p = [draw(st.integers(0, ki // 2)) for ki in k]
    ceil_mode = draw(st.booleans())
    for size in sizes(draw, nd, count=2):
        if min(map(A.pool_output_size, size, k, s, p, [1] * nd, [ceil_mode] * nd)) <= 0:
            continue
        x = torch.randn(1, 1, *size)
        pooled, indices = MAXPOOL[nd](x, k, s, p, ceil_mode=ceil_mode, return_indices=True)
        ranges = [A.max_unpool_size_range(*a) for a in zip(pooled.shape[2:], k, s, p)]
        assert all(lo <= n <= hi for n, (lo, hi) in zip(size, ranges)), (size, ranges)
        got = eager(UNPOOL[nd], pooled, indices, k, s, p, output_size=size)
        assert got == (1, 1, *size)


# --------------------------------------------------------------------------- other upsamplers

SCALES = [0.5, 1.5, 2.0, 1 / 3, 2 / 3, 0.1, 0.29, 0.7, 1.1, 2.5, 3.0, 0.25, 1.25, 4 / 3, 0.3]


@settings(max_examples=200, deadline=None)
@given(
    nd=st.integers(1, 3),
    size=st.lists(st.integers(1, 40), min_size=3, max_size=3),
    scale=st.one_of(st.sampled_from(SCALES), st.floats(0.01, 4.0)),
    mode=st.sampled_from(["nearest", "nearest-exact", "linear", "area", "bicubic"]),
    recompute=st.sampled_from([None, True, False]),
)
def test_interpolate_matches_eager(nd, size, scale, mode, recompute):
    size = [min(n, MAX_SIZE[nd]) if nd == 3 else n for n in size[:nd]]
    if mode == "linear":
        mode = LINEAR[nd]
    if mode == "bicubic" and nd != 2:
        mode = "nearest"
    expected = [A.interpolate_output_size(n, scale) for n in size]
    got = eager(
        F.interpolate, zeros(1, 1, *size), scale_factor=scale, mode=mode,
        recompute_scale_factor=recompute,
    )
    if min(expected) <= 0 and mode != "area":
        assert isinstance(got, Exception), (size, scale, mode, recompute, got)
    else:
        assert got == (1, 1, *expected), (size, scale, mode, recompute)


@settings(max_examples=100, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), factor=st.integers(1, 4), c=st.integers(1, 2))
def test_pixel_shuffle_and_unshuffle_match_eager(h, w, factor, c):
    got = eager(F.pixel_shuffle, zeros(1, c * factor * factor, h, w), factor)
    assert got == (
        1, c, A.pixel_shuffle_output_size(h, factor), A.pixel_shuffle_output_size(w, factor)
    )
    expected = [A.pixel_unshuffle_output_size(n, factor) for n in (h, w)]
    got = eager(F.pixel_unshuffle, zeros(1, c, h, w), factor)
    if None in expected:
        assert isinstance(got, RuntimeError) and "divisible" in str(got)
    else:
        assert got == (1, c * factor * factor, *expected)


# --------------------------------------------------------------------------- exact numbers


def test_the_28x28_autoencoder_example():
    assert A.conv_output_size(28, 5, 2) == 12
    assert A.conv_arithmetic(28, 5, 2) == "floor((28 + 2*0 - 1*(5-1) - 1) / 2) + 1 = 12"
    assert A.conv_transpose_arithmetic(12, 5, 2) == "(12-1)*2 - 2*0 + 1*(5-1) + 0 + 1 = 27"
    assert A.mirror_output_padding(28, 5, 2) == 1
    assert A.solve_output_padding(28, 12, 5, 2) == 1
    assert A.conv_transpose_arithmetic(12, 5, 2, output_padding=1) == (
        "(12-1)*2 - 2*0 + 1*(5-1) + 1 + 1 = 28"
    )
    assert A.output_size_range(12, 5, 2) == (27, 28)
    assert A.round_trip_sizes((5, 2, 0, 1), (5, 2, 0, 1, 0), 12) == [5, 7, 9, 11]


def test_padding_shrinks_conv_transpose():
    # ConvTranspose2d(1, 1, 2, stride=2, padding=1) on 2x2 gives 2x2, not 4x4.
    text = A.conv_transpose_arithmetic(2, 2, 2, 1)
    assert text == "(2-1)*2 - 2*1 + 1*(2-1) + 0 + 1 = 2"
    w = zeros(1, 1, 2, 2)
    assert tuple(F.conv_transpose2d(zeros(1, 1, 2, 2), w, stride=2, padding=1).shape) == (
        1, 1, 2, 2,
    )
    assert A.solve_output_padding(4, 2, 2, 2, 1) is None  # would need output_padding=2
    assert A.needed_output_padding(4, 2, 2, 2, 1) == 2
    assert A.padding_alternatives(4, 2, 2, 2) == [(0, 0)]
    assert A.kernel_alternatives(4, 2, 2, 1) == [(3, 1), (4, 0)]


def test_dilated_formulas_and_limits():
    assert A.conv_arithmetic(10, 3, 1, 1, 2) == "floor((10 + 2*1 - 2*(3-1) - 1) / 1) + 1 = 8"
    assert A.conv_transpose_arithmetic(8, 3, 1, 1, 2, 1) == "(8-1)*1 - 2*1 + 2*(3-1) + 1 + 1 = 11"
    assert A.output_padding_limit(1, 2) == 2
    assert A.is_legal_output_padding(1, 1, 2)
    assert not A.is_legal_output_padding(2, 1, 2)
    assert not A.is_legal_output_padding(-1, 2, 1)
    # output_size= is bounded by stride only, though output_padding=1 is legal here.
    assert A.output_size_range(8, 3, 1, 1, 2) == (10, 10)


def test_pool_arithmetic_strings():
    assert A.pool_arithmetic(28, 2, 2) == "floor((28 + 2*0 - 1*(2-1) - 1) / 2) + 1 = 14"
    assert A.pool_arithmetic(7, 2, 2, ceil_mode=True) == (
        "ceil((7 + 2*0 - 1*(2-1) - 1) / 2) + 1 = 4"
    )
    assert A.pool_arithmetic(5, 2, 2, 1, ceil_mode=True) == (
        "ceil((5 + 2*1 - 1*(2-1) - 1) / 2) + 1 = 4"
        " (last window would start in the right padding, so 3)"
    )
    assert A.pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3
    assert tuple(F.max_pool1d(zeros(1, 1, 5), 2, 2, 1, ceil_mode=True).shape) == (1, 1, 3)


def test_other_upsamplers_exact():
    assert A.interpolate_output_size(30, 0.1) == 3
    assert A.interpolate_output_size(100, 0.29) == 28  # 28.999999999999996
    assert A.interpolate_output_size(7, 1.5) == 10
    assert A.interpolate_output_size(1, 0.5) == 0  # eager raises
    assert A.max_unpool_output_size(3, 2, 2) == 6
    assert A.max_unpool_size_range(3, 2, 2) == (5, 7)
    assert A.max_unpool_size_range(1, 1, 3) == (0, 3)
    assert A.pixel_unshuffle_output_size(5, 2) is None
    assert A.pixel_unshuffle_output_size(6, 3) == 2
    assert A.pixel_shuffle_output_size(5, 2) == 10


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: A.conv_output_size(8, 0), "kernel"),
        (lambda: A.conv_output_size(8, 3, 0), "stride"),
        (lambda: A.conv_output_size(8, 3, 1, -1), "padding"),
        (lambda: A.conv_output_size(8, 3, 1, 0, 0), "dilation"),
        (lambda: A.conv_output_size(0, 3), "size"),
        (lambda: A.conv_transpose_output_size(4, 3, -2), "stride"),
        (lambda: A.pool_output_size(8, 2, 0), "stride"),
        (lambda: A.output_padding_limit(2, 0), "dilation"),
        (lambda: A.pixel_unshuffle_output_size(4, 0), "factor"),
        (lambda: A.max_unpool_output_size(4, 2, 2, -1), "padding"),
        (lambda: A.padding_alternatives(4, 2, 2, 2, max_padding=-1), "max_padding"),
        (lambda: A.interpolate_output_size(4, float("nan")), "scale_factor"),
    ],
)
def test_bad_arguments_name_themselves(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        call()


def test_non_int_arguments_are_rejected():
    with pytest.raises(TypeError, match="kernel must be an int"):
        A.conv_output_size(8, 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="output_padding must be an int"):
        A.is_legal_output_padding(True, 2, 1)  # type: ignore[arg-type]


def test_import_does_not_import_torch():
    code = (
        "import sys, pytest_convshape.arithmetic; "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "assert 'numpy' not in sys.modules, 'numpy imported'"
    )
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
