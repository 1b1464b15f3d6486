"""Pairing and checks on hand-built event lists, as DESIGN.md intends: no torch, no trace.

Each event is what the trace would record for one op; the tests state the graph by hand (which
event feeds which) and check what pairing and the checks make of it."""

from __future__ import annotations

import pytest

from pytest_convshape import arithmetic as ar
from pytest_convshape.checks import check_parameters, compare, describe, parameter_problems, remedy
from pytest_convshape.pairing import Graph, find_pairs
from pytest_convshape.records import (
    MODEL_INPUT,
    ConvArgs,
    LayerEvent,
    MergeArgs,
    NoArgs,
    PadArgs,
    TransposeArgs,
)


class Events:
    """Builds a list of 2-D events; each new event is fed by the previous one unless told."""

    def __init__(self, size: int = 28):
        self.events: list[LayerEvent] = []
        self.shape = (1, 1, size, size)

    def add(self, name, kind, op, params, out, feeds=None, in_shapes=None) -> LayerEvent:
        index = len(self.events)
        feeds = feeds if feeds is not None else ((index - 1 if index else MODEL_INPUT,),)
        ins = in_shapes if in_shapes is not None else (self.shape,)
        e = LayerEvent(index, name, kind, op, kind != op, 2, params, tuple(ins), out, tuple(feeds))
        self.events.append(e)
        self.shape = out
        return e

    def conv(self, name, k, s, p=0, channels=1):
        h = ar.conv_output_size(self.shape[2], k, s, p, 1)
        w = ar.conv_output_size(self.shape[3], k, s, p, 1)
        args = ConvArgs((k, k), (s, s), (p, p), (1, 1), weight_shape=(channels, self.shape[1], k, k))
        return self.add(name, "Conv2d", "conv2d", args, (1, channels, h, w))

    def up(self, name, k, s, p=0, op=0, channels=1):
        h = ar.conv_transpose_output_size(self.shape[2], k, s, p, 1, op)
        w = ar.conv_transpose_output_size(self.shape[3], k, s, p, 1, op)
        args = TransposeArgs((k, k), (s, s), (p, p), (1, 1), weight_shape=(self.shape[1], channels, k, k), output_padding=(op, op))
        return self.add(name, "ConvTranspose2d", "conv_transpose2d", args, (1, channels, h, w))


def _pairs(events):
    return [(p.down, p.up, p.evidence) for p in find_pairs(events) if p.down is not None]


def test_mirror_order_pairs_the_innermost_levels_first():
    ev = Events(32)
    ev.conv("d1", 3, 2, 1)
    ev.conv("d2", 3, 2, 1)
    ev.up("u2", 3, 2, 1, op=1)
    ev.up("u1", 3, 2, 1, op=1)
    assert _pairs(ev.events) == [("d2", "u2", "mirror"), ("d1", "u1", "mirror")]


def test_a_cat_with_the_down_input_is_skip_evidence():
    ev = Events(32)
    ev.conv("d1", 3, 2, 1)
    u = ev.up("u1", 3, 2, 1, op=1)
    ev.add("cat", "cat", "cat", MergeArgs(dim=1), (1, 2, 32, 32), feeds=((u.index,), (MODEL_INPUT,)),
           in_shapes=(u.out_shape, (1, 1, 32, 32)))
    assert _pairs(ev.events) == [("d1", "u1", "skip")]
    assert find_pairs(ev.events)[0].via == "cat"


def test_the_28_to_27_mismatch_and_its_output_padding():
    ev = Events(28)
    ev.conv("enc", 5, 2)  # 28 -> 12
    ev.up("dec", 5, 2)  # 12 -> 27
    graph = Graph(ev.events)
    [pair] = find_pairs(ev.events)
    m = compare(graph, pair)
    assert m is not None and (m.expected, m.actual) == ((28, 28), (27, 27))
    assert remedy(m).output_padding == (1, 1)
    assert describe(m).startswith("dec: ConvTranspose2d gives 27x27, enc (Conv2d) took 28x28")


def test_a_pair_that_round_trips_has_no_mismatch():
    ev = Events(28)
    ev.conv("enc", 5, 2)
    ev.up("dec", 5, 2, op=1)
    [pair] = find_pairs(ev.events)
    assert compare(Graph(ev.events), pair) is None


def test_a_pad_before_the_down_belongs_to_its_level():
    """F.pad 28 -> 29, Conv(k3, s2) -> 14, ConvTranspose(k2, s2) -> 28: the level took 28."""
    ev = Events(28)
    ev.add("pad", "pad", "pad", PadArgs((0, 1, 0, 1), "constant"), (1, 1, 29, 29))
    ev.conv("enc", 3, 2)
    ev.up("dec", 2, 2)
    [pair] = find_pairs(ev.events)
    assert ev.events[-1].out_spatial == (28, 28)
    assert compare(Graph(ev.events), pair) is None


def test_a_crop_after_the_up_is_part_of_what_the_level_gives_back():
    ev = Events(28)
    ev.conv("enc", 3, 2)  # 28 -> 13
    up = ev.up("dec", 4, 2)  # 13 -> 28
    ev.add("crop", "crop", "crop", NoArgs(), (1, 1, 27, 27), feeds=((up.index,),))
    graph = Graph(ev.events)
    [pair] = find_pairs(ev.events)
    m = compare(graph, pair)
    assert m is not None and m.actual == (27, 27) and m.culprit.name == "crop"


@pytest.mark.parametrize(("op", "codes"), [(2, ["CS201"]), (1, [])])
def test_an_output_padding_eager_rejects_is_cs201(op, codes):
    ev = Events(28)
    ev.conv("enc", 3, 2)
    ev.up("dec", 3, 2, op=op)  # output_padding must be below the stride
    graph = Graph(ev.events)
    findings = check_parameters(graph, find_pairs(ev.events))
    assert [f.code for f in findings] == codes
    assert all(f.layer == "dec" for f in findings)


def test_a_negative_padding_is_a_parameter_problem():
    ev = Events(28)
    bad = ev.add("enc", "Conv2d", "conv2d", ConvArgs((3, 3), (2, 2), (-1, -1), (1, 1)), (1, 1, 12, 12))
    assert parameter_problems(bad) == ["padding=-1 in H (must be >= 0)", "padding=-1 in W (must be >= 0)"]
