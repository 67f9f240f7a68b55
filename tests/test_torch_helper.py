"""conftest.torch_or_skip: tests against PyTorch skip cleanly without torch, and fail instead when
BACKPROPLAB_REQUIRE_TORCH=1 says torch must be there."""
from __future__ import annotations

import sys

import pytest
from conftest import REQUIRE_TORCH, torch_or_skip


def test_a_missing_torch_skips_unless_it_is_required(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    monkeypatch.delenv(REQUIRE_TORCH, raising=False)
    with pytest.raises(pytest.skip.Exception):
        torch_or_skip()
    monkeypatch.setenv(REQUIRE_TORCH, "1")
    with pytest.raises(pytest.fail.Exception, match="BACKPROPLAB_REQUIRE_TORCH=1 but torch cannot be imported"):
        torch_or_skip()


def test_an_installed_torch_is_returned_either_way(monkeypatch):
    try:
        import torch
    except ImportError:
        pytest.skip("torch is not installed here")
    for required in ("0", "1"):
        monkeypatch.setenv(REQUIRE_TORCH, required)
        assert torch_or_skip() is torch
