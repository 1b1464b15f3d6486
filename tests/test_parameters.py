"""CS2xx: layer settings that eager torch rejects while the meta device accepts them.

Each case asserts both halves: eager CPU raises, and the linter (which traces on meta) reports
the code with the layer named.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pytest_convshape import check


class Pair2d(nn.Module):
    def __init__(self, down: nn.Module, up: nn.Module):
        super().__init__()
        self.down, self.up = down, up

    def forward(self, x):
        return self.up(self.down(x))


def _negative_padding():
    m = Pair2d(nn.Conv2d(1, 1, 3, 2, 1), nn.ConvTranspose2d(1, 1, 3, 2, 1))
    m.up.padding = (-1, -1)
    return m, "CS203", "up"


def _negative_output_padding():
    m = Pair2d(nn.Conv2d(1, 1, 3, 2, 1), nn.ConvTranspose2d(1, 1, 3, 2, 1))
    m.up.output_padding = (-1, 0)
    return m, "CS203", "up"


def _illegal_output_padding():
    return Pair2d(nn.Conv2d(1, 1, 3, 2), nn.ConvTranspose2d(1, 1, 3, 2, output_padding=2)), "CS201", "up"


def _dilation_zero():
    m = Pair2d(nn.Conv2d(1, 1, 3, 2, 1), nn.ConvTranspose2d(1, 1, 3, 2, 1, output_padding=1))
    m.down.dilation = (0, 0)
    return m, "CS203", "down"


def _groups_do_not_divide():
    m = Pair2d(nn.Conv2d(2, 4, 3, 2, 1, groups=2), nn.ConvTranspose2d(3, 1, 3, 2, 1, output_padding=1))
    m.down.weight = nn.Parameter(torch.zeros(3, 1, 3, 3))
    m.down.bias = None
    return m, "CS202", "down"


def _wrong_bias():
    m = Pair2d(nn.Conv2d(1, 2, 3, 2, 1), nn.ConvTranspose2d(2, 1, 3, 2, 1, output_padding=1))
    m.down.bias = nn.Parameter(torch.zeros(3))
    return m, "CS203", "down"


def _transpose_channel_mismatch():
    return Pair2d(nn.Conv2d(1, 2, 3, 2, 1), nn.ConvTranspose2d(3, 1, 3, 2, 1, output_padding=1)), "CS205", "up"


CASES = {
    "negative padding": (_negative_padding, (1, 2, 16, 16)),
    "negative output_padding": (_negative_output_padding, (1, 1, 16, 16)),
    "output_padding >= stride": (_illegal_output_padding, (1, 1, 16, 16)),
    "dilation 0": (_dilation_zero, (1, 1, 16, 16)),
    "groups do not divide out_channels": (_groups_do_not_divide, (1, 2, 16, 16)),
    "bias of the wrong size": (_wrong_bias, (1, 1, 16, 16)),
    "transposed conv channel mismatch": (_transpose_channel_mismatch, (1, 1, 16, 16)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_meta_accepts_eager_rejects_and_linter_reports(case):
    make, size = CASES[case]
    model, code, layer = make()
    if case == "negative padding":
        size = (1, 1, 16, 16)
    with pytest.raises(RuntimeError):
        model(torch.zeros(size))
    report = check(model, input_size=size)
    assert not report.ok
    assert any(f.code == code and f.layer == layer for f in report.findings), str(report)
    assert all(f.layer == layer for f in report.findings if f.code.startswith("CS2")), str(report)


def test_illegal_output_padding_fix_restores_partner_size():
    model, _, _ = _illegal_output_padding()
    [finding] = [f for f in check(model, input_size=(1, 1, 16, 16)).findings if f.code == "CS201"]
    assert finding.fix is not None
    model.up.output_padding = finding.fix.output_padding
    assert model(torch.zeros(1, 1, 16, 16)).shape[-2:] == (16, 16)


def test_empty_output_is_reported():
    up = nn.ConvTranspose2d(1, 1, 1, 1, padding=(0, 1))
    with pytest.raises(RuntimeError):
        up(torch.zeros(1, 1, 5, 2))
    [finding] = check(up, input_size=(1, 1, 5, 2)).findings
    assert finding.code == "CS204"
    assert "(2-1)*1 - 2*1 + 1*(1-1) + 0 + 1 = 0" in finding.message


def test_functional_wrong_bias_names_the_call():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(2, 1, 3, 3))
            self.b = nn.Parameter(torch.zeros(3))

        def forward(self, x):
            return F.conv2d(x, self.w, self.b, stride=2)

    with pytest.raises(RuntimeError):
        M()(torch.zeros(1, 1, 8, 8))
    [finding] = check(M(), input_size=(1, 1, 8, 8)).findings
    assert finding.code == "CS203" and finding.layer == "F.conv2d"
    assert finding.location is not None and finding.location.file == __file__


def test_all_empty_transposed_output_is_cs204_and_the_trace_goes_on():
    """Output size 0 in every dim: the meta device raises, eager's oneDNN path (groups > 1)
    returns an empty tensor; either way it is the layer's fault, and later layers still trace."""
    model = nn.Sequential(nn.ConvTranspose1d(3, 3, 1, stride=3, padding=1, output_padding=1, groups=3), nn.Conv1d(3, 3, 1))
    with torch.no_grad():
        assert model[0](torch.zeros(1, 3, 1)).shape == (1, 3, 0)
        with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
            model(torch.zeros(1, 3, 1))  # and the next layer cannot use it
    report = check(model, input_size=(1, 3, 1))
    assert [f.code for f in report.findings] == ["CS204", "CS903"]
    assert "(1-1)*3 - 2*1 + 1*(1-1) + 1 + 1 = 0" in report.findings[0].message
    assert report.findings[1].layer == "1"


class _OutputSizeOutOfReach(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 1, 4, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1)

    def forward(self, x):
        return self.up(self.down(x), output_size=[29, 4])


def test_a_module_that_raises_in_its_own_python_code_is_named():
    # ConvTranspose checks output_size= in Python before any op runs: the trace sees no op
    # fail, yet the finding must name the layer and where it was built
    model = _OutputSizeOutOfReach()
    with pytest.raises(ValueError, match="requested an output size of"):
        model(torch.zeros(1, 1, 30, 4))
    report = check(model, input_size=(1, 1, 30, 4))
    [f] = report.findings
    assert f.code == "CS903" and f.layer == "up"
    assert f.message.startswith("the forward pass raised in up (ConvTranspose2d): ValueError: requested an output size of [29, 4]")
    assert f.message.endswith("layers that ran before: down")
    assert f.location is not None and f.location.line == _OutputSizeOutOfReach.__init__.__code__.co_firstlineno + 3
