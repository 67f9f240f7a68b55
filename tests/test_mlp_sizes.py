"""MLP's layer sizes: a list is required, and the mistake of passing one number is named (issue 11)."""
from __future__ import annotations

import pytest

from nn.scalar import MLP


@pytest.mark.parametrize("nouts", [3, 3.0, "16", None])
def test_a_single_number_for_nouts_says_to_pass_a_list(nouts):
    with pytest.raises(TypeError, match=r"nouts must be a list of layer sizes, e\.g\. \[16, 16, 1\]"):
        MLP(2, nouts)


def test_lists_and_tuples_of_sizes_both_work():
    assert [len(layer.neurons) for layer in MLP(2, [3, 1]).layers] == [3, 1]
    assert [len(layer.neurons) for layer in MLP(2, (4,)).layers] == [4]
    with pytest.raises(ValueError, match="at least one layer size"):
        MLP(2, [])
