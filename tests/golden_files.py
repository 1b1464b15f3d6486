"""The one golden-file comparison of the suite: ``tests/golden/NAME`` holds the reviewed text;
``CONVSHAPE_UPDATE_GOLDEN=1`` rewrites it with today's output (review the diff)."""

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CONVSHAPE_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"{name}: no golden file; run with CONVSHAPE_UPDATE_GOLDEN=1 to write it, then review it"
    assert path.read_text() == text, f"{name} differs; rerun with CONVSHAPE_UPDATE_GOLDEN=1 to update it after review"
