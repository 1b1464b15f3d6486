"""The tracer's closed-form shapes (``fastshape``) against torch's own meta kernels.

Whenever ``fastshape`` answers, torch's meta kernel must accept the same call and give the same
shape; whenever torch rejects a call, ``fastshape`` must not answer (the op then goes through
torch, which raises as before). And the verdict on whole models is the same with and without
the shortcut.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_convshape import check, fastshape
from pytest_convshape import trace as tracing

# padding="same" with an even kernel is one of the cases compared with torch, which warns about it
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _meta(shape, dtype=torch.float32):
    return torch.empty(shape, device="meta", dtype=dtype)


def _torch_shape(fn):
    """torch's meta answer: the shape(s), or None when it raises."""
    try:
        out = fn()
    except Exception:
        return None
    if isinstance(out, tuple):
        return tuple(tuple(t.shape) for t in out)
    return tuple(out.shape)


def _fast(family, op, args, kwargs):
    bound = tracing._bind(family, args, kwargs)
    x = args[0]
    ndim = len(bound["pad"]) // 2 if family == "pad" else max(x.dim() - 2, 1)
    if family in ("pixel_shuffle", "pixel_unshuffle"):
        ndim = 2
    out = tracing._closed_form(family, ndim, op, bound, x, [t for t in args if isinstance(t, torch.Tensor)], tracing._op_params(family, ndim, bound))
    if out is None:
        return None
    if isinstance(out, tuple):
        return tuple(tuple(t.shape) for t in out)
    return tuple(out.shape)


def _agree(family, op, fn, args, kwargs):
    want = _torch_shape(lambda: fn(*args, **kwargs))
    got = _fast(family, op, args, kwargs)
    if got is not None:
        assert want == got, (op, args, kwargs, want, got)
    return got is not None


ints = st.integers


@SETTINGS
@given(n=ints(1, 3), size=ints(1, 12), k=ints(1, 5), s=ints(1, 3), p=ints(0, 3), d=ints(1, 2), g=st.sampled_from([1, 2]),
       same=st.booleans(), cin=ints(1, 2))
def test_conv(n, size, k, s, p, d, g, same, cin):
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
    x = _meta((1, cin * g) + (size,) * n)
    w = _meta((2 * g, cin) + (k,) * n)
    padding = "same" if same else p
    _agree("conv", f"conv{n}d", conv, (x, w, None, s, padding, d, g), {})


@SETTINGS
@given(n=ints(1, 3), size=ints(1, 10), k=ints(1, 5), s=ints(1, 3), p=ints(0, 3), d=ints(1, 2), op=ints(0, 2), g=st.sampled_from([1, 2]))
def test_conv_transpose(n, size, k, s, p, d, op, g):
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[n]
    x = _meta((1, 2 * g) + (size,) * n)
    w = _meta((2 * g, 3) + (k,) * n)
    # torch's meta kernel accepts an illegal output_padding (CS201) that eager rejects:
    # fastshape must simply not answer then, which _agree allows
    _agree("conv_transpose", f"conv_transpose{n}d", fn, (x, w, None, s, p, op, g, d), {})


@SETTINGS
@given(n=ints(1, 3), size=ints(1, 12), k=ints(1, 4), s=ints(1, 3), p=ints(0, 2), d=ints(1, 2), ceil=st.booleans(),
       avg=st.booleans(), indices=st.booleans())
def test_pool(n, size, k, s, p, d, ceil, avg, indices):
    x = _meta((1, 2) + (size,) * n)
    if avg:
        fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[n]
        _agree("avg_pool", f"avg_pool{n}d", fn, (x, k, s, p, ceil), {})
    else:
        fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n]
        _agree("max_pool", f"max_pool{n}d", fn, (x, k, s, p, d, ceil, indices), {})


@SETTINGS
@given(n=ints(1, 3), size=ints(1, 9), scale=st.sampled_from([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 0.29]), by_size=st.booleans(),
       target=ints(1, 20), mode=st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"]),
       align=st.sampled_from([None, True, False]))
def test_interpolate(n, size, scale, by_size, target, mode, align):
    x = _meta((1, 2) + (size,) * n)
    kwargs = {"size": target} if by_size else {"scale_factor": scale}
    kwargs.update(mode=mode, align_corners=align)
    _agree("interpolate", "interpolate", F.interpolate, (x,), kwargs)


@SETTINGS
@given(size=ints(1, 8), pads=st.lists(ints(-2, 4), min_size=2, max_size=4).filter(lambda v: len(v) % 2 == 0),
       mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]), n=ints(1, 3))
def test_pad(size, pads, mode, n):
    x = _meta((1, 2) + (size,) * n)
    _agree("pad", "pad", F.pad, (x, pads, mode), {})


@SETTINGS
@given(c=ints(1, 12), h=ints(1, 8), w=ints(1, 8), r=ints(1, 3))
def test_pixel_shuffle(c, h, w, r):
    x = _meta((1, c, h, w))
    _agree("pixel_shuffle", "pixel_shuffle", F.pixel_shuffle, (x, r), {})
    _agree("pixel_unshuffle", "pixel_unshuffle", F.pixel_unshuffle, (x, r), {})


@SETTINGS
@given(n=ints(1, 3), size=ints(1, 9), out=st.lists(st.one_of(st.none(), ints(1, 6)), min_size=1, max_size=3), avg=st.booleans())
def test_adaptive(n, size, out, avg):
    x = _meta((1, 2) + (size,) * n)
    target = out[:n] if len(out) >= n else out[0]
    if avg:
        fn = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[n]
        _agree("adaptive_pool", f"adaptive_avg_pool{n}d", fn, (x, target), {})
    else:
        fn = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}[n]
        _agree("adaptive_pool", f"adaptive_max_pool{n}d", fn, (x, target, True), {})


@pytest.mark.parametrize("op", sorted(fastshape.SHAPE_KEEPING))
def test_shape_keeping_ops_keep_the_shape_in_torch_too(op):
    fn = getattr(F, op, None) or getattr(torch, op, None)
    if fn is None:
        pytest.skip(f"{op} is a tensor method only")
    shape = (1, 2, 5) if op == "dropout1d" else (1, 2, 5, 6, 7) if op == "dropout3d" else (1, 2, 5, 6)
    assert tuple(fn(torch.zeros(shape)).shape) == shape


def _models():
    sys.path.insert(0, str(Path(__file__).parent))
    from precision import _oracle
    from zoo import _verify

    out = []
    for name in _verify.zoo_names():
        zoo = _verify.load(name)
        out.append((f"zoo-{name}", zoo.build, zoo.INPUT))
    for family in _oracle.families():
        for case in family.CASES[:2]:
            out.append((f"precision-{_oracle.short(family)}-{_oracle.size_id(case)}", family.build, case["input"]))
    return out


def test_verdicts_are_the_same_without_the_shortcut(monkeypatch):
    for name, build, size in _models():
        fast = check(build(), input_size=size).to_dict()
        monkeypatch.setattr(tracing, "FAST", False)
        slow = check(build(), input_size=size).to_dict()
        monkeypatch.setattr(tracing, "FAST", True)
        assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True), name
