"""Shape arithmetic of PyTorch's strided layers, per spatial dimension, on plain ints.

Standard library only: no torch, no numpy. Every function works on ONE spatial dimension;
call it once per dimension for 2d/3d layers. With ``size`` the input size, ``k`` the kernel,
``s`` the stride, ``p`` the padding and ``d`` the dilation:

- Conv / pooling: ``out = floor((size + 2p - d(k-1) - 1) / s) + 1``
- ConvTranspose: ``out = (size - 1)s - 2p + d(k-1) + output_padding + 1``,
  with eager PyTorch requiring ``0 <= output_padding < max(s, d)``.

Eager CPU PyTorch is the oracle; ``tests/test_arithmetic.py`` checks every function against it.
A returned size ``<= 0`` means the layer cannot run: eager PyTorch raises ("input too small" /
"output size is too small"), except a few backends that turn an output size of exactly 0
into an empty tensor (noted below).

Reference: Dumoulin and Visin, "A guide to convolution arithmetic for deep learning".
"""

from __future__ import annotations

import math
import operator

__all__ = [
    "ConvParams",
    "ConvTransposeParams",
    "conv_arithmetic",
    "conv_formula",
    "conv_output_size",
    "conv_transpose_arithmetic",
    "conv_transpose_formula",
    "conv_transpose_output_size",
    "interpolate_output_size",
    "is_legal_output_padding",
    "is_legal_pool_padding",
    "kernel_alternatives",
    "max_unpool_formula",
    "max_unpool_output_size",
    "max_unpool_size_range",
    "mirror_output_padding",
    "needed_output_padding",
    "output_padding_limit",
    "output_size_range",
    "padding_alternatives",
    "pixel_shuffle_output_size",
    "pixel_unshuffle_output_size",
    "pool_arithmetic",
    "pool_formula",
    "pool_output_size",
    "round_trip_sizes",
    "round_trips",
    "solve_output_padding",
]

ConvParams = tuple[int, int, int, int]
"""``(kernel, stride, padding, dilation)`` of a Conv, for one spatial dimension."""

ConvTransposeParams = tuple[int, int, int, int, int]
"""``(kernel, stride, padding, dilation, output_padding)`` of a ConvTranspose, one dimension."""


# --------------------------------------------------------------------------- validation


def _check_int(name: str, value: object) -> int:
    """``value`` as an int; any integer type (numpy ints too) but not bool or float."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")


def _at_least(name: str, value: int, low: int) -> None:
    _check_int(name, value)
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


def _check(size: int, kernel: int, stride: int, padding: int, dilation: int) -> None:
    _at_least("size", size, 1)
    _at_least("kernel", kernel, 1)
    _at_least("stride", stride, 1)
    _at_least("padding", padding, 0)
    _at_least("dilation", dilation, 1)


def _span(kernel: int, dilation: int) -> int:
    """Extent of the dilated kernel minus one: ``d(k-1)``."""
    return dilation * (kernel - 1)


# --------------------------------------------------------------------------- raw formulas
# No validation and no branching on ``size``: these work on ints and, unchanged, on integer
# numpy arrays of sizes (the sweep evaluates a whole range of input sizes at once).


def conv_formula(size, kernel: int, stride: int, padding: int, dilation: int):  # type: ignore[no-untyped-def]
    """``floor((size + 2p - d(k-1) - 1) / s) + 1`` for an int or an integer array ``size``."""
    return (size + 2 * padding - _span(kernel, dilation) - 1) // stride + 1


def pool_formula(size, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool):  # type: ignore[no-untyped-def]
    """:func:`pool_output_size` for an int or an integer array ``size``."""
    numerator = size + 2 * padding - _span(kernel, dilation) - 1
    if not ceil_mode:
        return numerator // stride + 1
    out = -(-numerator // stride) + 1
    return out - ((out - 1) * stride >= size + padding) * 1


def conv_transpose_formula(size, kernel: int, stride: int, padding: int, dilation: int, output_padding: int):  # type: ignore[no-untyped-def]
    """``(size-1)s - 2p + d(k-1) + output_padding + 1`` for an int or an integer array ``size``."""
    return (size - 1) * stride - 2 * padding + _span(kernel, dilation) + output_padding + 1


def interpolate_formula(size, scale_factor: float):  # type: ignore[no-untyped-def]
    """``floor(size * scale_factor)`` in double precision, for an int or an integer array."""
    import math

    if isinstance(size, int):
        return math.floor(float(size) * float(scale_factor))
    return ((size.astype("float64") * float(scale_factor)) // 1).astype("int64")


def max_unpool_formula(size, kernel: int, stride: int, padding: int):  # type: ignore[no-untyped-def]
    """``(size-1)s - 2p + k`` for an int or an integer array ``size``."""
    return (size - 1) * stride - 2 * padding + kernel


# --------------------------------------------------------------------------- forward sizes


def conv_output_size(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output size of Conv1d/2d/3d: ``floor((size + 2p - d(k-1) - 1) / s) + 1``.

    ``<= 0`` exactly when eager raises ("Kernel size can't be greater than actual input size").
    """
    _check(size, kernel, stride, padding, dilation)
    return int(conv_formula(size, kernel, stride, padding, dilation))


def _pool(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> tuple[int, int, bool]:
    """(numerator, output size, whether the ceil_mode last-window rule removed a window)."""
    _check(size, kernel, stride, padding, dilation)
    numerator = size + 2 * padding - _span(kernel, dilation) - 1
    out = pool_formula(size, kernel, stride, padding, dilation, ceil_mode)
    # PyTorch: with ceil_mode the last window must start inside the input or the left padding.
    dropped = ceil_mode and out == -(-numerator // stride)
    return numerator, out, dropped


def pool_output_size(
    size: int,
    kernel: int,
    stride: int,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output size of max_pool / avg_pool (avg_pool: leave ``dilation=1``).

    Like :func:`conv_output_size`; with ``ceil_mode`` the division rounds up, then one window
    is dropped if it would start at or after ``size + padding``. Eager also requires
    :func:`is_legal_pool_padding`, and raises when the result is ``<= 0``; avg_pool3d also
    raises when ``size < kernel``, padding notwithstanding.
    """
    return _pool(size, kernel, stride, padding, dilation, ceil_mode)[1]


def is_legal_pool_padding(padding: int, kernel: int) -> bool:
    """Eager max_pool/avg_pool rule ``0 <= padding <= kernel // 2`` (dilation not counted)."""
    _at_least("kernel", kernel, 1)
    return 0 <= _check_int("padding", padding) <= kernel // 2


def conv_transpose_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    output_padding: int = 0,
) -> int:
    """Output size of ConvTranspose1d/2d/3d: ``(size-1)s - 2p + d(k-1) + output_padding + 1``.

    The formula alone; whether eager accepts ``output_padding`` is
    :func:`is_legal_output_padding`. Eager raises for ``< 0``; for ``0`` it raises or, when
    CPU picks oneDNN (groups > 1, large 2d kernels), returns an empty tensor.
    """
    _check(size, kernel, stride, padding, dilation)
    _check_int("output_padding", output_padding)
    return int(conv_transpose_formula(size, kernel, stride, padding, dilation, output_padding))


# --------------------------------------------------------------------------- output_padding


def output_padding_limit(stride: int, dilation: int) -> int:
    """Exclusive upper bound of a legal output_padding: ``max(stride, dilation)``."""
    _at_least("stride", stride, 1)
    _at_least("dilation", dilation, 1)
    return max(stride, dilation)


def is_legal_output_padding(output_padding: int, stride: int, dilation: int) -> bool:
    """Eager rule ``0 <= output_padding < max(stride, dilation)`` (meta/fake do not check)."""
    return 0 <= _check_int("output_padding", output_padding) < output_padding_limit(
        stride, dilation
    )


def needed_output_padding(
    target: int, size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """The output_padding making the ConvTranspose of ``size`` give ``target``; may be illegal."""
    _check_int("target", target)
    return target - conv_transpose_output_size(size, kernel, stride, padding, dilation, 0)


def solve_output_padding(
    target: int, size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int | None:
    """The legal output_padding giving ``target``, or ``None`` when no legal value does."""
    op = needed_output_padding(target, size, kernel, stride, padding, dilation)
    if target >= 1 and is_legal_output_padding(op, stride, dilation):
        return op
    return None


def mirror_output_padding(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """output_padding of a ConvTranspose with the Conv's k, s, p, d that gives back ``size``.

    It is ``(size + 2p - d(k-1) - 1) mod s``. Legal because a value mod s lies in
    ``[0, s)``, inside ``[0, max(s, d))``. Raises ValueError if the Conv itself cannot run.
    """
    if conv_output_size(size, kernel, stride, padding, dilation) < 1:
        raise ValueError(
            f"size={size} is too small for kernel={kernel}, padding={padding}, "
            f"dilation={dilation}: the Conv has no output"
        )
    return (size + 2 * padding - _span(kernel, dilation) - 1) % stride


def output_size_range(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> tuple[int, int]:
    """Inclusive range of sizes ``ConvTranspose.forward(x, output_size=...)`` accepts.

    From the output_padding=0 size up to that plus ``stride - 1``; dilation does not widen it
    (torch bounds it by stride only). Sizes below 1 are cut off since eager rejects them; the
    range is empty (low > high) when nothing is accepted.
    """
    low = conv_transpose_output_size(size, kernel, stride, padding, dilation, 0)
    return max(low, 1), low + stride - 1


# --------------------------------------------------------------------------- other upsamplers


def max_unpool_output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Default output size of MaxUnpool (no ``output_size``): ``(size-1)s - 2p + k``.

    Eager raises when it is negative; 0 gives an empty tensor.
    """
    _check(size, kernel, stride, padding, 1)
    return int(max_unpool_formula(size, kernel, stride, padding))


def max_unpool_size_range(
    size: int, kernel: int, stride: int, padding: int = 0
) -> tuple[int, int]:
    """Inclusive range of ``output_size`` that MaxUnpool accepts.

    Torch requires ``default - stride < output_size < default + stride`` and rejects negatives.
    The kernel further needs every index < the product of the output sizes (data dependent;
    always true when ``output_size`` is the pooled input's size). Empty when low > high.
    """
    default = max_unpool_output_size(size, kernel, stride, padding)
    return max(default - stride + 1, 0), default + stride - 1


def interpolate_output_size(size: int, scale_factor: float) -> int:
    """Output size of ``F.interpolate(scale_factor=...)``: ``floor(size * scale_factor)``.

    Computed in double precision as torch does, for ``recompute_scale_factor`` True, False
    and None alike (so 0.1 * 30 gives 3, 0.29 * 100 gives 28). ``<= 0`` means eager raises,
    except mode="area", which returns an empty tensor for 0.
    """
    _at_least("size", size, 1)
    scale = float(scale_factor)
    if not math.isfinite(scale):
        raise ValueError(f"scale_factor must be finite, got {scale_factor!r}")
    return int(interpolate_formula(size, scale))


def pixel_shuffle_output_size(size: int, factor: int) -> int:
    """Spatial output size of ``pixel_shuffle(upscale_factor=factor)``: ``size * factor``."""
    _at_least("size", size, 1)
    _at_least("factor", factor, 1)
    return size * factor


def pixel_unshuffle_output_size(size: int, factor: int) -> int | None:
    """Spatial output size of ``pixel_unshuffle``; ``None`` when ``factor`` does not divide it."""
    _at_least("size", size, 1)
    _at_least("factor", factor, 1)
    return size // factor if size % factor == 0 else None


# --------------------------------------------------------------------------- messages


def conv_arithmetic(
    size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> str:
    """The Conv formula with the real numbers.

    ``conv_arithmetic(28, 5, 2) == "floor((28 + 2*0 - 1*(5-1) - 1) / 2) + 1 = 12"``
    """
    out = conv_output_size(size, kernel, stride, padding, dilation)
    return (
        f"floor(({size} + 2*{padding} - {dilation}*({kernel}-1) - 1) / {stride}) + 1 = {out}"
    )


def pool_arithmetic(
    size: int,
    kernel: int,
    stride: int,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> str:
    """The pooling formula with the real numbers; notes when ceil_mode drops the last window."""
    _, out, dropped = _pool(size, kernel, stride, padding, dilation, ceil_mode)
    rounding = "ceil" if ceil_mode else "floor"
    text = f"{rounding}(({size} + 2*{padding} - {dilation}*({kernel}-1) - 1) / {stride}) + 1"
    if dropped:
        return f"{text} = {out + 1} (last window would start in the right padding, so {out})"
    return f"{text} = {out}"


def conv_transpose_arithmetic(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    output_padding: int = 0,
) -> str:
    """The ConvTranspose formula with the real numbers.

    ``conv_transpose_arithmetic(12, 5, 2) == "(12-1)*2 - 2*0 + 1*(5-1) + 0 + 1 = 27"``
    """
    out = conv_transpose_output_size(size, kernel, stride, padding, dilation, output_padding)
    return (
        f"({size}-1)*{stride} - 2*{padding} + {dilation}*({kernel}-1)"
        f" + {output_padding} + 1 = {out}"
    )


# --------------------------------------------------------------------------- suggestions


def padding_alternatives(
    target: int,
    size: int,
    kernel: int,
    stride: int,
    dilation: int = 1,
    max_padding: int | None = None,
) -> list[tuple[int, int]]:
    """Legal ``(padding, output_padding)`` pairs for which the ConvTranspose gives ``target``.

    ``padding`` runs from 0 to ``max_padding`` (default ``d(k-1)``); sorted by padding, then
    output_padding. Each padding admits at most one output_padding.
    """
    _check_int("target", target)
    _check(size, kernel, stride, 0, dilation)
    limit = _span(kernel, dilation) if max_padding is None else max_padding
    _at_least("max_padding", limit, 0)
    found = []
    for padding in range(limit + 1):
        op = solve_output_padding(target, size, kernel, stride, padding, dilation)
        if op is not None:
            found.append((padding, op))
    return found


def kernel_alternatives(
    target: int,
    size: int,
    stride: int,
    padding: int,
    dilation: int = 1,
    max_kernel: int | None = None,
) -> list[tuple[int, int]]:
    """``(kernel, output_padding)`` pairs, op legal, for which the ConvTranspose gives ``target``.

    ``kernel`` runs from 1 to ``max_kernel`` (default ``2*stride + 1``); sorted by kernel.
    """
    _check_int("target", target)
    _check(size, 1, stride, padding, dilation)
    limit = 2 * stride + 1 if max_kernel is None else max_kernel
    _at_least("max_kernel", limit, 1)
    found = []
    for kernel in range(1, limit + 1):
        op = solve_output_padding(target, size, kernel, stride, padding, dilation)
        if op is not None:
            found.append((kernel, op))
    return found


def round_trips(size: int, conv: ConvParams, convt: ConvTransposeParams) -> bool:
    """True when ``Conv(*conv)`` then ``ConvTranspose(*convt)`` run in eager and give back ``size``.

    ``conv`` is ``(k, s, p, d)``, ``convt`` is ``(k, s, p, d, output_padding)``.
    """
    down = conv_output_size(size, *conv)
    _, stride, _, dilation, output_padding = convt
    if down < 1 or not is_legal_output_padding(output_padding, stride, dilation):
        return False
    return conv_transpose_output_size(down, *convt) == size


def round_trip_sizes(
    conv: ConvParams, convt: ConvTransposeParams, stop: int, start: int = 1
) -> list[int]:
    """The sizes in ``range(start, stop)`` for which :func:`round_trips` holds."""
    _at_least("start", start, 1)
    _check_int("stop", stop)
    return [n for n in range(start, stop) if round_trips(n, conv, convt)]
