"""nn.train.cli.number, the argparse type behind nn.train's and nn.moons's numeric options."""
from __future__ import annotations

import argparse

import pytest

from nn.train.cli import number


def test_bounds_are_inclusive_unless_strict():
    assert number(int, 0)("0") == 0
    with pytest.raises(argparse.ArgumentTypeError, match="must be > 0, got 0"):
        number(int, 0, strict=True)("0")
    assert number(float, 0, strict=True)("1e-3") == 0.001


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_non_finite_floats_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match=f"must be > 0, got {text}"):
        number(float, 0, strict=True)(text)


def test_a_huge_integer_is_a_number_not_a_crash():
    assert number(int, 1)("1" + "0" * 400) == 10**400  # ints are always finite: no float conversion to overflow
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected an integer >= 1, got '1\.5'"):
        number(int, 1)("1.5")
