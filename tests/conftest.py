"""Shared test settings: hypothesis runs without deadlines (CI machines are shared and noisy), and the one way
tests get PyTorch (``torch_or_skip``, or the ``torch`` fixture)."""
from __future__ import annotations

import os
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
settings.load_profile("ci")

REQUIRE_TORCH = "BACKPROPLAB_REQUIRE_TORCH"


def torch_or_skip() -> ModuleType:
    """``torch``, for tests that check against PyTorch: skipped cleanly where it is not installed, unless the
    environment sets BACKPROPLAB_REQUIRE_TORCH=1 (CI with torch): then a missing torch is a failure, never a skip.

    At the top of a test module: ``torch = torch_or_skip()`` (``from conftest import torch_or_skip``)."""
    if os.environ.get(REQUIRE_TORCH) == "1":
        try:
            import torch
        except ImportError as err:
            pytest.fail(f"{REQUIRE_TORCH}=1 but torch cannot be imported: {err}", pytrace=False)
        return torch
    return pytest.importorskip("torch")


@pytest.fixture
def torch() -> ModuleType:
    """PyTorch for one test, with ``torch_or_skip``'s rule."""
    return torch_or_skip()
