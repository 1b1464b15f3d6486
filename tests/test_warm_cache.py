"""What describes a model is built once and kept between checks, but never goes stale: a
replaced layer, a parameter given another shape, or a new module is seen by the next check."""

from __future__ import annotations

import torch
from torch import nn

from pytest_convshape import check


def _ae() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 1, 5, stride=2), nn.ConvTranspose2d(1, 1, 5, stride=2))


def _codes(model: nn.Module) -> list[str]:
    return [f.code for f in check(model, input_size=(1, 1, 28, 28)).findings]


def test_a_replaced_layer_is_seen_by_the_next_check():
    model = _ae()
    assert _codes(model) == ["CS101"]
    model[1] = nn.ConvTranspose2d(1, 1, 5, stride=2, output_padding=1)
    assert _codes(model) == []


def test_a_parameter_given_another_shape_is_seen_by_the_next_check():
    model = _ae()
    assert _codes(model) == ["CS101"]
    with torch.no_grad():
        model[1].weight.data = torch.zeros(1, 1, 6, 6)  # kernel 6: 12 -> 28, restores
    assert _codes(model) == []


def test_a_new_module_is_seen_by_the_next_check():
    model = _ae()
    assert _codes(model) == ["CS101"]
    model.append(nn.ConvTranspose2d(1, 1, 3))  # stride 1, k3: 27 -> 29
    report = check(model, input_size=(1, 1, 28, 28))
    assert any(e.name == "2" for e in report.events), report
