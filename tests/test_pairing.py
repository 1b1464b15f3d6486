"""Pairing evidence (explicit, skip, mirror), what stops it, and the messages for bad pairs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pytest_convshape import check


class TwoLevel(nn.Module):
    """Encoder order d1, d2; decoder order u2, u1; skips by torch.cat."""

    def __init__(self, skips: bool = True):
        super().__init__()
        self.skips = skips
        self.d1 = nn.Conv2d(1, 2, 3, 2, 1)
        self.d2 = nn.Conv2d(2, 2, 3, 2, 1)
        self.u2 = nn.ConvTranspose2d(2, 2, 3, 2, 1, output_padding=1)
        self.u1 = nn.ConvTranspose2d(4 if skips else 2, 1, 3, 2, 1, output_padding=1)

    def forward(self, x):
        a = self.d1(x)
        y = self.u2(self.d2(a))
        if self.skips:
            y = torch.cat([y, a], 1)
        return self.u1(y)


def _pairs(report):
    return {(p.down, p.up, p.evidence) for p in report.pairs if p.down is not None}


def test_skip_evidence_pairs_through_the_concatenation():
    report = check(TwoLevel(), input_size=(1, 1, 32, 32))
    assert ("d1", "u1", "mirror") in _pairs(report)  # u1 takes the merge of u2 and a, not a skip of d1
    assert ("d2", "u2", "skip") in _pairs(report)
    assert report.ok and report.findings == ()


def test_mirror_order_without_skips():
    report = check(TwoLevel(skips=False), input_size=(1, 1, 32, 32))
    assert _pairs(report) == {("d2", "u2", "mirror"), ("d1", "u1", "mirror")}


def test_explicit_pairs_win_over_mirror_order():
    report = check(TwoLevel(skips=False), input_size=(1, 1, 32, 32), pairs=[("d1", "u2"), ("d2", "u1")])
    assert _pairs(report) == {("d1", "u2", "explicit"), ("d2", "u1", "explicit")}
    assert {f.up for f in report.findings if f.severity == "error"} == {"u2", "u1"}


def test_adaptive_pooling_stops_mirror_pairing_and_says_so():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), nn.AdaptiveAvgPool2d(4), nn.ConvTranspose2d(2, 1, 2, 2))
    report = check(model, input_size=(1, 1, 32, 32))
    assert report.ok
    assert [f.code for f in report.findings] == ["CS904", "CS901"]
    assert "maps 16x16 to a fixed 4x4 before 2" in report.findings[0].message


@pytest.mark.parametrize(
    "pair, message",
    [
        (("d3", "u1"), "pairs: down layer 'd3' of pair ('d3', 'u1') did not run in the forward pass; did you mean 'd2'"),
        (("d1", "skips"), "pairs: up layer 'skips' of pair ('d1', 'skips') did not run in the forward pass"),
    ],
)
def test_bad_explicit_pairs_are_value_errors(pair, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(TwoLevel(), input_size=(1, 1, 32, 32), pairs=[pair])


def test_a_container_named_in_pairs_is_explained():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 1, 3, 2, 1), nn.ReLU()), nn.ConvTranspose2d(1, 1, 3, 2, 1, output_padding=1))
    with pytest.raises(ValueError, match=r"is a container; name one of its layers: 0\.0"):
        check(model, input_size=(1, 1, 16, 16), pairs=[("0", "1")])
    with pytest.raises(ValueError, match="not a conv, pooling or upsampling layer"):
        check(model, input_size=(1, 1, 16, 16), pairs=[("0.1", "1")])


@pytest.mark.parametrize("pairs", [[("d1",)], ["d1,u1"], [(1, 2)]])
def test_malformed_pairs_are_type_errors(pairs):
    with pytest.raises(TypeError, match="pairs must be"):
        check(TwoLevel(), input_size=(1, 1, 32, 32), pairs=pairs)


class ResidualDown(nn.Module):
    """A strided conv and its strided 1x1 shortcut read the same tensor: one level, not two."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 2, 3, 2, 1)
        self.sc = nn.Conv2d(2, 2, 1, 2)

    def forward(self, x):
        return torch.relu(self.a(x)) + self.sc(x)


class ResidualAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.r1, self.r2 = ResidualDown(), ResidualDown()
        self.up1 = nn.Upsample(scale_factor=2)
        self.up2 = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return self.up2(self.up1(self.r2(self.r1(x))))


def test_parallel_downsamplers_of_one_level_are_paired_once():
    report = check(ResidualAutoencoder(), input_size=(1, 2, 30, 30))
    assert _pairs(report) == {("r2.a", "up1", "mirror"), ("r1.a", "up2", "mirror")}
    [finding] = report.findings  # 30 -> 15 -> 8 -> 16: only up1 misses (16 for 15); up2 is then judged on 15
    assert (finding.code, finding.up, finding.expected, finding.actual) == ("CS103", "up1", (15, 15), (16, 16))
    with torch.no_grad():
        assert ResidualAutoencoder()(torch.zeros(1, 2, 32, 32)).shape[-2:] == (32, 32)
    assert check(ResidualAutoencoder(), input_size=(1, 2, 32, 32)).findings == ()


class FCNHead(nn.Module):
    """Two strided convs, then one resize straight back to the input size."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, 4, 3, 2, 1))

    def forward(self, x):
        return torch.nn.functional.interpolate(self.body(x), size=x.shape[-2:], mode="bilinear")


def test_a_resize_to_the_input_size_pairs_with_the_first_level():
    report = check(FCNHead(), input_size=(1, 3, 31, 33))
    assert _pairs(report) == {("body.0", "F.interpolate", "mirror")}
    assert report.ok and report.findings == ()
