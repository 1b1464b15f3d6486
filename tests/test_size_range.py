"""The one reader of FIRST:LAST[:STEP] (sizes_text.parse_size_range) that the API, the CLI and
pyproject.toml share: same ranges, same reasons."""

import pytest

from pytest_convshape.sizes_text import SizeRangeError, parse_size_range


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("8:512", (8, 512, 1)),
        ("8:512:8", (8, 512, 8)),
        ([8, 512], (8, 512, 1)),
        ((8, 512, 8), (8, 512, 8)),
        (range(8, 513, 8), (8, 512, 8)),
        ("5:5", (5, 5, 1)),
    ],
)
def test_reads_every_form(spec, expected):
    assert parse_size_range(spec) == expected


@pytest.mark.parametrize(
    ("spec", "reason", "syntax"),
    [
        ("8-64", "expected FIRST:LAST or FIRST:LAST:STEP, e.g. 8:512", True),
        ("8:64:2:1", "expected FIRST:LAST or FIRST:LAST:STEP, e.g. 8:512", True),
        ([8, True], "expected FIRST:LAST or FIRST:LAST:STEP, e.g. 8:512", True),
        (8, "expected FIRST:LAST or FIRST:LAST:STEP, e.g. 8:512", True),
        ("8:64:0", "the step must be a positive int", False),
        ((64, 8), "the range is empty (the first size is above the last)", False),
        (range(64, 8), "the range is empty (the first size is above the last)", False),
        ("0:8", "sizes start at 1", False),
        ((8, 2_000_000), "at most 1,000,000 sizes per dim", False),
    ],
)
def test_says_what_is_wrong(spec, reason, syntax):
    with pytest.raises(SizeRangeError) as info:
        parse_size_range(spec)
    assert str(info.value) == reason
    assert info.value.syntax is syntax


def test_the_cli_gives_the_same_reason():
    from pytest_convshape.cli import UsageError, parse_sizes

    with pytest.raises(UsageError) as cli:
        parse_sizes(["2=8:64:0"])
    assert str(cli.value) == "--sizes '2=8:64:0': the step must be a positive int"
