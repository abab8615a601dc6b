"""Terminal formatting: precision by magnitude, shared styles, aligned and wrapped tables."""

from __future__ import annotations

import math

import pytest

from simulation.cli import tables
from simulation.cli.tables import (
    format_number,
    format_summary,
    format_table,
    format_value,
    number_style,
)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.18349, "0.183"),
        (13.494, "13.49"),
        (246.77, "246.8"),
        (21982167.4, "21,982,167"),
        (-0.0001, "0.000"),
        (math.nan, "n/a"),
        (None, "n/a"),
        (math.inf, "inf"),
    ],
)
def test_format_number(x, text):
    assert format_number(x) == text


def test_compact_style_for_large_numbers():
    assert format_number(41_371_048, number_style(41_371_048, compact=True)) == "41.4M"
    assert format_number(16_216, number_style(16_216, compact=True)) == "16.2k"
    assert format_number(1_057_506, number_style(1_057_506, compact=True)) == "1.06M"


def test_summary_shares_one_precision():
    mean, interval = format_summary({"mean": 6.56, "ci_low": -0.825, "ci_high": 13.94})
    assert (mean, interval) == ("6.56", "[-0.82, 13.94]")


def test_format_value_reads_like_yaml():
    assert [format_value(v) for v in (True, None, 0.30, 85000.0, "silo", 3)] == [
        "true",
        "null",
        "0.3",
        "85000",
        "silo",
        "3",
    ]


def test_table_aligns_wraps_and_adds_notes():
    text = format_table(
        ["name", "value", "choices"],
        [["a", "1.5", "one | two | three"], ["longer", "10.25", "x"]],
        right=(1,),
        wrap={2: 9},
        notes=["first note", ""],
        width=40,
    )
    lines = text.splitlines()
    assert lines[0] == "name    value  choices"
    assert lines[1] == "------  -----  ---------"
    assert lines[2] == "a         1.5  one | two"
    assert lines[3] == "               | three"
    assert lines[4] == "    first note"
    assert lines[5] == "longer  10.25  x"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.04, "0.0 s"),
        (4.24, "4.2 s"),
        (42.4, "42 s"),
        (185, "3.1 min"),  # a session of 3m05s
        (1800, "30 min"),
        (3.5 * 3600, "3.5 h"),
        (1408.9 * 86400, "1,408.9 days"),
    ],
)
def test_one_duration_format_for_estimates_and_elapsed_time(seconds, text):
    """Two significant figures or so, whatever the magnitude."""
    assert tables.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("n", "unit", "text"),
    [
        (512, False, "512 B"),
        (1.5 * 2**20, False, "1.5 MB"),
        (350 * 2**20, False, "350 MB"),
        (1.25 * 2**30, True, "1.2 G"),
        (3.5 * 2**40, False, "3.5 TB"),
    ],
)
def test_byte_sizes_read_as_max_memory_takes_them(n, unit, text):
    assert tables.format_bytes(n, unit=unit) == text
