"""python -m nn.moons: the scalar demo prints a short model summary, validates its arguments, and reaches 100%."""
from __future__ import annotations

import random

import pytest

from nn import data, moons
from nn.scalar import MLP


def test_summary_counts_parameters_per_layer_by_hand():
    # A neuron with n inputs has n weights and a bias: layers 3→4, 4→2, 2→1 hold 16, 10 and 3 parameters.
    text = moons.summary(MLP(3, [4, 2, 1], rng=random.Random(0)))
    lines = text.splitlines()
    assert lines[0] == "MLP(3, [4, 2, 1]): 29 parameters"
    assert [line.split() for line in lines[1:]] == [
        ["layer", "0:", "3", "→", "4", "ReLU", "16", "parameters"],
        ["layer", "1:", "4", "→", "2", "ReLU", "10", "parameters"],
        ["layer", "2:", "2", "→", "1", "linear", "3", "parameters"],
    ]


def test_demo_prints_a_short_summary_not_every_neuron(capsys):
    assert moons.main(["--steps", "2", "--samples", "20"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "MLP(2, [16, 16, 1]): 337 parameters"  # 16·3 + 16·17 + 1·17
    assert all(len(line) <= 80 for line in out)
    assert not any("Neuron" in line for line in out)
    assert out[4].startswith("step   0") and out[-1].startswith("final")


@pytest.mark.parametrize("bad", [["--samples", "1"], ["--steps", "0"], ["--seed", "-1"], ["--steps", "x"]])
def test_bad_arguments_are_argparse_errors(bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        moons.main(bad)
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_make_moons_still_importable_from_here_is_the_data_one():
    assert moons.make_moons is data.make_moons
