"""pytest-convshape: find upsampling layers that do not restore the size their encoder took.

Public API (importing this package does not import torch; ``check`` does, on first use)::

    from pytest_convshape import check
    report = check(model, input_size=(1, 1, 28, 28))
    assert report.ok, report

Everything in ``__all__`` is public; the modules of the package are internal (their names and
functions may change between releases), except where docs/ presents one as API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"
__all__ = ["RULES", "Finding", "Fix", "InputError", "Pair", "Report", "Rule", "__version__", "check"]

if TYPE_CHECKING:  # pragma: no cover
    from .api import check
    from .inputs import InputError
    from .records import Finding, Fix, Pair
    from .report import Report
    from .rules import RULES, Rule

_HOMES = {
    "check": "api",
    "Report": "report",
    "InputError": "inputs",
    "Finding": "records",
    "Fix": "records",
    "Pair": "records",
    "RULES": "rules",
    "Rule": "rules",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pytest_convshape' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{home}", __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)
