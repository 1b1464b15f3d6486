"""pytest glue: the ``convshape`` fixture. Imports torch only when a model is checked."""

from __future__ import annotations

from typing import Any

import pytest


class ConvshapeFixture:
    """``convshape.check(model, input_size=...)`` fails the test with the report when there is
    an error finding, and returns the ``Report`` otherwise."""

    def check(self, model: Any, input_size: Any = None, **options: Any) -> Any:
        from .api import check

        report = check(model, input_size, **options)
        if not report.ok:
            pytest.fail(str(report), pytrace=False)
        return report


@pytest.fixture
def convshape() -> ConvshapeFixture:
    return ConvshapeFixture()
