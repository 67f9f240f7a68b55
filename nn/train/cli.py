"""What the command-line tools (``python -m nn.train``, ``python -m nn.moons``) share: argparse types for numbers."""
from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def number(kind: type, minimum: float, strict: bool = False) -> Callable[[str], int | float]:
    """An argparse type: ``kind(text)``, finite and > ``minimum`` (``strict``) or >= ``minimum``.

    A bad value is argparse's usage error naming the option: "argument --lr: must be > 0, got nan".
    """
    bound = f"> {minimum}" if strict else f">= {minimum}"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'} {bound}, "
                                             f"got {text!r}") from None
        if (kind is not int and not math.isfinite(value)) or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    parse.__name__ = f"{kind.__name__} {bound}"
    return parse
