"""Size rules a person can read, for the report: ``L % 40 in 0..7`` rather than a list of
thousands of sizes.

The sweep (``sweep.describe_sizes``) states its rules with up to four residues; when the valid
sizes are a run of more residues of one modulus (an audio model that accepts 8 lengths out of
every 40), it falls back to an explicit list. :func:`readable_rule` gives the modular form in
that case and leaves every other rule as the sweep wrote it. Pure: no torch, no numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def modular_range(valid: Iterable[int], domain: Sequence[int], label: str) -> str | None:
    """``L % 40 in 0..7`` (with bounds when the run does not cover the domain) when the valid
    sizes are exactly those of ``domain`` whose residue lies in one run ``a..b``, repeated at
    least three times; None otherwise."""
    dom = list(domain)
    vset = set(valid)
    good = [n for n in dom if n in vset]
    if len(good) < 2 or len(good) == len(dom) or (len(dom) > 1 and dom[1] - dom[0] != 1):
        return None
    lo, hi = good[0], good[-1]
    limit = min((hi - lo) // 3, 4096)
    for m in range(2, limit + 1):
        residues = {n % m for n in good}
        if len(residues) >= m or len(residues) < 2:
            continue
        first, last = min(residues), max(residues)
        if last - first + 1 != len(residues):
            continue  # not one run (or a run that wraps past m-1)
        members = [n for n in dom if first <= n % m <= last]
        if [n for n in members if lo <= n <= hi] != good:
            continue
        parts = [f"{label} % {m} in {first}..{last}"]
        if any(n < lo for n in members):
            parts.append(f"{label} >= {lo}")
        if any(n > hi for n in members):
            parts.append(f"{label} <= {hi}")
        return " and ".join(parts)
    return None


def readable_rule(rule: str, valid: Iterable[int] | None, domain: Sequence[int], label: str) -> str:
    """``rule`` as the sweep wrote it, or its modular form when the sweep had to list sizes."""
    if valid is None or not rule.startswith(f"{label} in {{"):
        return rule
    return modular_range(valid, domain, label) or rule


MAX_SIZES = 1_000_000
"""At most this many sizes per swept dim."""


class SizeRangeError(ValueError):
    """A size range that cannot be swept; ``syntax`` when it is not FIRST:LAST[:STEP] at all
    (each face then shows its own example of the form)."""

    def __init__(self, reason: str, *, syntax: bool = False):
        super().__init__(reason)
        self.syntax = syntax


def parse_size_range(spec: object) -> tuple[int, int, int]:
    """The one reader of a size range for every face: ``"8:512"``, ``"8:512:8"``, ``[8, 512]``,
    ``(8, 512, 8)`` or ``range(8, 513, 8)`` -> ``(first, last, step)``."""
    nums: list[object] = []
    if isinstance(spec, range):
        if len(spec) == 0 or spec.step < 1:
            raise SizeRangeError("the range is empty (the first size is above the last)")
        nums = [spec.start, spec[-1], spec.step]
    elif isinstance(spec, str):
        try:
            nums = [int(p) for p in spec.split(":")]
        except ValueError:
            nums = []
    elif isinstance(spec, (list, tuple)):
        nums = list(spec)
    if len(nums) not in (2, 3) or not all(isinstance(n, int) and not isinstance(n, bool) for n in nums):
        raise SizeRangeError("expected FIRST:LAST or FIRST:LAST:STEP, e.g. 8:512", syntax=True)
    first, last = int(nums[0]), int(nums[1])  # type: ignore[call-overload]
    step = int(nums[2]) if len(nums) == 3 else 1  # type: ignore[call-overload]
    if step < 1:
        raise SizeRangeError("the step must be a positive int")
    if last < first:
        raise SizeRangeError("the range is empty (the first size is above the last)")
    if first < 1:
        raise SizeRangeError("sizes start at 1")
    if (last - first) // step + 1 > MAX_SIZES:
        raise SizeRangeError(f"at most {MAX_SIZES:,} sizes per dim")
    return first, last, step
