"""What ``check()`` accepts, checked without torch: the input size, pairs, codes and size
ranges a user gives, turned into plain values, with a clear ``ValueError``/``TypeError`` naming
the argument for anything else. The tensors built from them are in ``tensors``."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from .sizes_text import SizeRangeError, parse_size_range


class InputError(ValueError):
    """The given input does not fit the model (rank, channels, size too small)."""



def validate_size(input_size: Any) -> tuple[int, ...]:
    if isinstance(input_size, tuple):  # also a torch.Size
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


















def validate_codes(codes: Any, what: str) -> tuple[str, ...]:
    """``codes`` (codes, prefixes or rule names, a list or a comma list) resolved to codes and
    prefixes; a ValueError naming ``what`` (the option or key) for an unknown one."""
    from . import codes as selectors

    return selectors.parse(codes, what)


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





def size_key(key: Any) -> tuple[str | None, Any]:
    """``2`` / ``"2"`` -> (None, 2); ``"sample.2"`` / ``("sample", 2)`` -> ("sample", 2)."""
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str):
        return key[0], key[1]
    if isinstance(key, str):
        name, dot, dim = key.rpartition(".")
        if dot and name:
            return name, int(dim) if dim.lstrip("-").isdigit() else dim
        if key.lstrip("-").isdigit():
            return None, int(key)
    return None, key








def size_domain(spec: Any, dim: int) -> list[int]:
    try:
        first, last, step = parse_size_range(spec)
    except SizeRangeError as exc:
        hint = "expected (first, last), (first, last, step), 'first:last[:step]' or a range"
        reason = hint if exc.syntax and not isinstance(spec, str) else str(exc)
        raise ValueError(f"sizes[{dim}] = {spec!r}: {reason}") from None
    return list(range(first, last + 1, step))



def call_mismatch(exc: BaseException) -> bool:
    """The forward could not even be called with these inputs (missing or unexpected argument)."""
    text = str(exc)
    return isinstance(exc, TypeError) and "forward()" in text and "argument" in text
