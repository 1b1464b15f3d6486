"""A failure of the linter's own code is never blamed on the model (issue 9, class 3).

Before, ``padding="same"`` with a reflect ``padding_mode`` made the tracer raise ``int('same')``,
and that was reported as the user's forward failing (CS903). Now the conv is measured right;
and any other exception raised by the linter's own code inside the trace is an ``InternalError``
that says it is a bug in the linter (exit 2 from the CLI, the traceback with ``--verbose``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from pytest_convshape import check, cli
from pytest_convshape import trace as tracing
from pytest_convshape.api import InternalError

ROOT = Path(__file__).resolve().parent.parent


class SameReflect(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Conv2d(1, 2, 4, padding="same", padding_mode="reflect")  # even kernel: uneven split
        self.down = nn.Conv2d(2, 2, 3, 2, 1)
        self.up = nn.ConvTranspose2d(2, 1, 3, 2, 1, output_padding=1)

    def forward(self, x):
        return self.up(self.down(self.body(x)))


@pytest.mark.parametrize("size, ok", [(28, True), (27, False)])
def test_same_padding_with_reflect_mode_is_measured_not_crashed(size, ok):
    model = SameReflect().eval()
    with torch.no_grad():
        assert (model(torch.zeros(1, 1, size, size)).shape[-1] == size) is ok
    report = check(model, input_size=(1, 1, size, size))
    assert not any(f.code == "CS903" for f in report.findings), report
    assert report.ok is ok, report
    body = next(e for e in report.events if e.name == "body")
    assert body.in_spatial == body.out_spatial == (size, size)


def _broken_params(*args, **kwargs):
    raise KeyError("a bug planted by the test")


def test_an_exception_in_the_linter_is_an_internal_error(monkeypatch):
    monkeypatch.setattr(tracing, "_layer_params", _broken_params)
    with pytest.raises(InternalError, match="a bug in the linter, not in your model") as info:
        check(SameReflect(), input_size=(1, 1, 28, 28))
    assert "a bug planted by the test" in str(info.value)


def test_the_cli_reports_an_internal_error_as_a_bug_with_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(tracing, "_layer_params", _broken_params)
    monkeypatch.chdir(ROOT)
    code = cli.run(["examples/autoencoder.py:Autoencoder", "--input", "1,1,28,28", "--isolated"])
    err = capsys.readouterr().err
    assert code == 2
    assert "internal error" in err and "please report this" in err and "--verbose" in err
    assert "Traceback" not in err
    code = cli.run(["examples/autoencoder.py:Autoencoder", "--input", "1,1,28,28", "--isolated", "--verbose"])
    assert code == 2 and "Traceback" in capsys.readouterr().err
