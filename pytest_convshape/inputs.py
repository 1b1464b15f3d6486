"""What ``check()`` accepts: the inputs, pairs, codes and sizes a user gives, turned into
plain values, with a clear ``ValueError``/``TypeError`` naming the argument for anything else;
and, when the forward cannot even start, what is wrong with the input in the first layer's
own terms."""

from __future__ import annotations

import operator
from typing import Any, Mapping

import torch
from torch import nn

from .records import RULES, Shape, fmt_shape


class InputError(ValueError):
    """The given input does not fit the model (rank, channels, size too small)."""



def validate_size(input_size: Any) -> tuple[int, ...]:
    if isinstance(input_size, torch.Size):
        input_size = tuple(input_size)
    if not isinstance(input_size, (tuple, list)) or not input_size:
        raise ValueError(f"input_size must be a non-empty tuple of positive ints such as (1, 1, 28, 28), got {input_size!r}")
    out = []
    for v in input_size:
        if not isinstance(v, bool) and not isinstance(v, int) and hasattr(v, "__index__"):
            v = operator.index(v)  # numpy and torch integers
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(
                f"input_size must be a non-empty tuple of positive ints such as (1, 1, 28, 28), got {tuple(input_size)!r} "
                f"({v!r} is not a positive int)"
            )
        out.append(int(v))
    return tuple(out)


def model_dtype(model: nn.Module) -> torch.dtype:
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def forward_inputs(model: nn.Module, input_size: Any, example_inputs: Any) -> tuple[tuple, dict, str]:
    """(args, kwargs, description) for the forward call."""
    if input_size is not None and example_inputs is not None:
        raise ValueError("give input_size or example_inputs, not both")
    if input_size is not None:
        size = validate_size(input_size)
        return (torch.empty(size, dtype=model_dtype(model), device="meta"),), {}, fmt_shape(size)
    if example_inputs is None:
        raise ValueError("check() needs input_size=(N, C, H, W) or example_inputs (a tensor, a tuple or a dict of keyword inputs)")
    if isinstance(example_inputs, torch.Tensor):
        return (example_inputs,), {}, fmt_shape(example_inputs.shape)
    if isinstance(example_inputs, (tuple, list)):
        args = tuple(example_inputs)
        if not args:
            raise ValueError("example_inputs is empty; give a tensor, a tuple of positional inputs or a dict of keyword inputs")
        if not any(isinstance(a, torch.Tensor) for a in args):
            hint = (
                f"; for a shape use input_size={tuple(args)!r}"
                if all(isinstance(a, int) and not isinstance(a, bool) for a in args)
                else ""
            )
            raise ValueError(f"example_inputs holds no tensor: {example_inputs!r}{hint}")
        return args, {}, ", ".join(fmt_shape(a.shape) if isinstance(a, torch.Tensor) else repr(a) for a in args)
    if isinstance(example_inputs, Mapping):
        kwargs = dict(example_inputs)
        if not kwargs:
            raise ValueError("example_inputs is empty; give a tensor, a tuple of positional inputs or a dict of keyword inputs")
        return (), kwargs, ", ".join(
            f"{k}={fmt_shape(v.shape) if isinstance(v, torch.Tensor) else repr(v)}" for k, v in kwargs.items()
        )
    raise TypeError(
        f"example_inputs must be a tensor, a tuple of inputs or a dict of keyword inputs, got {type(example_inputs).__name__}"
    )


def validate_pairs(pairs: Any) -> tuple[tuple[str, str], ...]:
    example = "[('encoder.0', 'decoder.0')]"
    if pairs is None:
        return ()
    if isinstance(pairs, str):
        raise TypeError(f"pairs must be a list of (down, up) name pairs such as {example}, got the string {pairs!r}")
    if isinstance(pairs, (tuple, list)) and len(pairs) == 2 and all(isinstance(n, str) for n in pairs):
        raise TypeError(f"pairs must be a list of (down, up) name pairs; wrap the one pair in a list: pairs=[{tuple(pairs)!r}]")
    if isinstance(pairs, Mapping) or not isinstance(pairs, (tuple, list)):
        raise TypeError(f"pairs must be a list of (down, up) name pairs such as {example}, got {type(pairs).__name__} {pairs!r}")
    out = []
    for item in pairs:
        if isinstance(item, Mapping):
            item = (item.get("down"), item.get("up"))
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(n, str) for n in item)):
            raise TypeError(f"pairs must be a list of (down, up) name pairs such as {example}, got the item {item!r}")
        if item[0] == item[1]:
            raise ValueError(f"pairs: ({item[0]!r}, {item[1]!r}) pairs a layer with itself; give (down, up)")
        out.append((item[0], item[1]))
    return tuple(out)


def validate_codes(codes: Any, what: str) -> tuple[str, ...]:
    """``codes`` as a tuple when each is a known rule code or prefix; else a ValueError that
    names ``what`` (the option or key) and lists the known codes."""
    if isinstance(codes, str):
        codes = (codes,)
    if codes is None:
        return ()
    if not isinstance(codes, (tuple, list, set, frozenset)):
        raise TypeError(f"{what}: expected a list of codes or prefixes such as ['CS1', 'CS201'], got {type(codes).__name__} {codes!r}")
    out = []
    for c in codes:
        if not isinstance(c, str) or not any(code.startswith(c) for code in RULES) or not c.startswith("CS"):
            known = ", ".join(RULES)
            hint = ""
            if isinstance(c, str) and c.upper() != c and any(code.startswith(c.upper()) for code in RULES):
                hint = f"; did you mean {c.upper()!r}?"
            raise ValueError(f"{what}: unknown code {c!r}{hint}; known codes (or prefixes of them): {known}")
        out.append(c)
    return tuple(out)



def input_problem(model: nn.Module, where: str, shape: Shape) -> str:
    """What is wrong with the input for the first layer, in its own terms ('' when unclear)."""
    from torch.nn.modules.conv import _ConvNd

    try:
        layer = model.get_submodule(where)
    except AttributeError:
        return ""
    if not isinstance(layer, _ConvNd) or not shape:
        return ""
    if min(layer.stride) < 1 or min(layer.dilation) < 1 or min(layer.kernel_size) < 1:
        return ""  # the layer itself is broken; torch's own message says how
    nd = len(layer.kernel_size)
    spatial = ", ".join(("D", "H", "W")[3 - nd :]) if nd <= 3 else "..."
    kind = type(layer).__name__
    name = where or "the model"
    if len(shape) not in (nd + 1, nd + 2):
        return (
            f"{name} ({kind}) takes a {nd + 2}-d (N, C, {spatial}) or {nd + 1}-d (C, {spatial}) input, "
            f"the input is {len(shape)}-d ({fmt_shape(shape)})"
        )
    channels = shape[-nd - 1]
    if channels != layer.in_channels:
        plural = "s" if layer.in_channels != 1 else ""
        return f"{name} ({kind}) expects {layer.in_channels} input channel{plural}, the input {fmt_shape(shape)} has {channels}"
    from . import arithmetic as ar

    pads = layer.padding if isinstance(layer.padding, tuple) else None
    if pads is not None and len(shape) == nd + 2:
        small = [
            i for i in range(nd)
            if ar.conv_formula(shape[-nd + i], layer.kernel_size[i], layer.stride[i], pads[i], layer.dilation[i]) < 1
        ]
        if small:
            least = [layer.dilation[i] * (layer.kernel_size[i] - 1) + 1 - 2 * pads[i] for i in range(nd)]
            return (
                f"{name} ({kind}) needs at least {fmt_shape(least)} in ({spatial}) for kernel_size={fmt_shape(layer.kernel_size)}, "
                f"padding={fmt_shape(pads)}, dilation={fmt_shape(layer.dilation)}; the input is {fmt_shape(shape[-nd:])}"
            )
    if len(shape) == nd + 1:
        return (
            f"{name} ({kind}) reads a {nd + 1}-d input as unbatched (C, {spatial}), and {fmt_shape(shape)} is too small for "
            f"its kernel {fmt_shape(layer.kernel_size)}; did you mean {fmt_shape((1,) + tuple(shape))}?"
        )
    return ""



def validate_sizes(sizes: Any, args: tuple, kwargs: dict) -> dict[int, list[int]]:
    """``{dim: [sizes...]}`` from the user's ``sizes``; a clear ValueError for anything else."""
    if not sizes:
        return {}
    if not isinstance(sizes, Mapping):
        raise TypeError(f"sizes must map an input dim to a range, e.g. {{2: (8, 512)}}, got {sizes!r}")
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if len(tensors) != 1 or kwargs:
        raise ValueError("sizes needs a single input tensor (input_size=... or one example tensor)")
    rank = tensors[0].dim()
    out: dict[int, list[int]] = {}
    for dim, spec in sizes.items():
        if isinstance(dim, str) and dim.lstrip("-").isdigit():
            dim = int(dim)
        if isinstance(dim, bool) or not isinstance(dim, int) or not 2 <= dim < rank:
            raise ValueError(
                f"sizes: {dim!r} is not a spatial dim of input {fmt_shape(tensors[0].shape)}; use {', '.join(map(str, range(2, rank)))}"
            )
        out[dim] = _domain(spec, dim)
    return out


def _domain(spec: Any, dim: int) -> list[int]:
    where = f"sizes[{dim}]"
    if isinstance(spec, range):
        values = list(spec)
    elif isinstance(spec, str):
        parts = spec.split(":")
        try:
            nums = [int(p) for p in parts]
        except ValueError:
            nums = []
        if len(nums) not in (2, 3):
            raise ValueError(f"{where} = {spec!r}: expected FIRST:LAST or FIRST:LAST:STEP, e.g. 8:512")
        values = list(range(nums[0], nums[1] + 1, nums[2] if len(nums) == 3 else 1)) if (len(nums) < 3 or nums[2] > 0) else []
        if len(nums) == 3 and nums[2] <= 0:
            raise ValueError(f"{where} = {spec!r}: the step must be a positive int")
    elif isinstance(spec, (tuple, list)) and len(spec) in (2, 3) and all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
        step = spec[2] if len(spec) == 3 else 1
        if step <= 0:
            raise ValueError(f"{where} = {spec!r}: the step must be a positive int")
        values = list(range(spec[0], spec[1] + 1, step))
    else:
        raise ValueError(f"{where} = {spec!r}: expected (first, last), (first, last, step), 'first:last[:step]' or a range")
    if not values:
        raise ValueError(f"{where} = {spec!r}: the range is empty (the first size is above the last)")
    if values[0] < 1:
        raise ValueError(f"{where} = {spec!r}: sizes start at 1")
    if len(values) > 1_000_000:
        raise ValueError(f"{where} = {spec!r}: at most 1,000,000 sizes per dim")
    return values



def call_mismatch(exc: BaseException) -> bool:
    """The forward could not even be called with these inputs (missing or unexpected argument)."""
    text = str(exc)
    return isinstance(exc, TypeError) and "forward()" in text and "argument" in text
