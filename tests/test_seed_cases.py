"""The two seed cases from the issue, and the unpaired ConvTranspose explained by its arithmetic."""

import pytest
import torch
from torch import nn

from pytest_convshape import check


class Autoencoder(nn.Module):
    def __init__(self, stride=2, output_padding=0):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 1, 5, stride=stride), nn.ReLU())
        self.decoder = nn.Sequential(nn.ConvTranspose2d(1, 1, 5, stride=stride, output_padding=output_padding))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def test_stride_two_gets_one_finding_with_output_padding_one():
    report = check(Autoencoder(), input_size=(1, 1, 28, 28))
    assert not report.ok
    [finding] = report.findings
    assert finding.code == "CS101"
    assert (finding.up, finding.down) == ("decoder.0", "encoder.0")
    assert finding.expected == (28, 28) and finding.actual == (27, 27)
    assert finding.fix.output_padding == (1, 1)
    assert "(12-1)*2 - 2*0 + 1*(5-1) + 0 + 1 = 27; set output_padding=1 to get 28" in finding.message
    assert finding.location is not None and finding.location.file == __file__


def test_the_fix_round_trips_in_eager_torch():
    report = check(Autoencoder(), input_size=(1, 1, 28, 28))
    fixed = Autoencoder(output_padding=report.findings[0].fix.output_padding[0])
    assert fixed(torch.zeros(1, 1, 28, 28)).shape == (1, 1, 28, 28)
    assert check(fixed, input_size=(1, 1, 28, 28)).ok


def test_stride_one_is_clean():
    report = check(Autoencoder(stride=1), input_size=(1, 1, 28, 28))
    assert report.ok and report.findings == ()


def test_transposed_conv_with_padding_is_explained():
    report = check(nn.ConvTranspose2d(1, 1, 2, stride=2, padding=1), input_size=(1, 1, 2, 2))
    [info] = report.findings
    assert info.code == "CS901" and info.severity == "info"
    assert "(2-1)*2 - 2*1 + 1*(2-1) + 0 + 1 = 2" in info.message
    assert "with padding=0 it would give 4x4" in info.message
    assert report.ok


def test_report_text_and_dict():
    report = check(Autoencoder(), input_size=(1, 1, 28, 28))
    text = str(report)
    assert "encoder.0 (Conv2d)" in text and "MISMATCH" in text and "fix: output_padding=1 on decoder.0" in text
    d = report.to_dict()
    assert d["ok"] is False
    assert d["pairs"] == [{"down": "encoder.0", "up": "decoder.0", "evidence": "mirror"}]
    assert d["findings"][0]["fix"] == {"output_padding": [1, 1], "verified": True}
    assert d["findings"][0]["witness"] == "the model's output is 27x27 for a 28x28 input; with this layer fixed it is restored"


@pytest.mark.parametrize("bad", [(1, 1, 0, 28), (1, 1, -1), (), "1,1,28,28", (1.5, 2)])
def test_bad_input_size_is_a_value_error(bad):
    with pytest.raises(ValueError, match="input_size"):
        check(Autoencoder(), input_size=bad)


class OutputSizeGiven(nn.Module):
    """The decoder picks its size with forward(x, output_size=...), here the wrong one."""

    def __init__(self, good: bool):
        super().__init__()
        self.good = good
        self.down = nn.Conv2d(1, 1, 3, 2, 1)
        self.up = nn.ConvTranspose2d(1, 1, 3, 2, 1)

    def forward(self, x):
        y = self.down(x)
        size = x.shape[-2:] if self.good else (2 * y.shape[-2] - 1, 2 * y.shape[-1] - 1)
        return self.up(y, output_size=size)


def test_a_wrong_output_size_in_forward_is_named_not_output_padding():
    [finding] = check(OutputSizeGiven(good=False), input_size=(1, 1, 28, 28)).findings
    assert finding.code == "CS102" and finding.fix is None
    assert "the output_size passed to up in forward asks for 27x27; pass output_size=<input of down>.shape[-2:] to get 28" in finding.message
    assert OutputSizeGiven(good=True)(torch.zeros(1, 1, 28, 28)).shape == (1, 1, 28, 28)
    assert check(OutputSizeGiven(good=True), input_size=(1, 1, 28, 28)).findings == ()
