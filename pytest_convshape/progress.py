"""Progress for long work (input-size sweeps), on a terminal only.

The CLI turns it on with :func:`showing` around its run; ``check()`` asks :func:`current` and,
during a sweep, counts the forward passes it traces. A plain counter on one line (``\\r``), no
dependency; nothing at all when the stream is not a terminal (CI logs, pipes, pytest). Pure
stdlib.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import IO

_CURRENT: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("convshape_progress", default=None)


class Progress:
    """One status line: ``convshape: sweeping H in 8..512 (505 sizes): 120 forward passes traced``."""

    def __init__(self, stream: IO[str], *, interval: float = 0.1):
        self.stream = stream
        self.interval = interval
        self.label = ""
        self.count = 0
        self._shown = 0
        self._last = 0.0

    def start(self, label: str) -> None:
        self.label, self.count, self._last = label, 0, 0.0

    def tick(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._write(f"convshape: {self.label}: {self.count} forward pass{'' if self.count == 1 else 'es'} traced")

    def done(self) -> None:
        """Clear the line (the report follows)."""
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0

    def _write(self, text: str) -> None:
        pad = max(0, self._shown - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._shown = len(text)


def current() -> Progress | None:
    """The progress line of this run, or None when none is shown."""
    return _CURRENT.get()


@contextlib.contextmanager
def showing(stream: IO[str], *, interval: float = 0.1) -> Iterator[Progress | None]:
    """Show progress on ``stream`` inside the block when it is a terminal (at most one update
    per ``interval`` seconds)."""
    if not bool(getattr(stream, "isatty", lambda: False)()):
        yield None
        return
    progress = Progress(stream, interval=interval)
    token = _CURRENT.set(progress)
    try:
        yield progress
    finally:
        progress.done()
        _CURRENT.reset(token)


def describe_sweep(domains: dict[int, list[int]], rank: int) -> str:
    """``sweeping H in 8..512 (505 sizes)`` for an input of ``rank`` dims."""
    from .records import dim_labels

    labels = dim_labels(rank - 2) if rank > 2 else ()
    parts = []
    for dim, vals in domains.items():
        label = labels[dim - 2] if 0 <= dim - 2 < len(labels) else f"dim {dim}"
        parts.append(f"{label} in {vals[0]}..{vals[-1]} ({len(vals)} sizes)")
    return "sweeping " + ", ".join(parts)
