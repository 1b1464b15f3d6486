"""pytest-convshape: find upsampling layers that do not restore the size their encoder took.

Public API (importing this package does not import torch; ``check`` does, on first use)::

    from pytest_convshape import check
    report = check(model, input_size=(1, 1, 28, 28))
    assert report.ok, report
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"
__all__ = ["RULES", "Finding", "Fix", "Pair", "Report", "__version__", "check"]

if TYPE_CHECKING:  # pragma: no cover
    from .api import check
    from .records import RULES, Finding, Fix, Pair
    from .report import Report


def __getattr__(name: str) -> Any:
    if name == "check":
        from .api import check

        return check
    if name == "Report":
        from .report import Report

        return Report
    if name in ("Finding", "Fix", "Pair", "RULES"):
        from . import records

        return getattr(records, name)
    raise AttributeError(f"module 'pytest_convshape' has no attribute {name!r}")
