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
