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


def test_demo_prints_a_short_summary_not_every_neuron(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # moons.png goes to the current directory
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


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_demo_prints_five_progress_lines_and_writes_the_picture(capsys, tmp_path):
    assert moons.main(["--steps", "40", "--samples", "30", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    steps = [line.split()[1] for line in out if line.startswith("step")]
    assert steps == ["0", "10", "20", "29", "39"]  # the first, the last and three evenly between (of 0…39)
    assert out[-2] == f"wrote {tmp_path / 'moons.png'}: the decision boundary and the loss curve"
    assert (tmp_path / "moons.png").read_bytes()[:8] == PNG_MAGIC


def test_out_names_the_file_or_a_directory_that_exists(capsys, tmp_path):
    assert moons.main(["--steps", "1", "--samples", "10", "--out", str(tmp_path / "b.png")]) == 0
    assert (tmp_path / "b.png").read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(SystemExit) as exit_info:
        moons.main(["--out", str(tmp_path / "missing" / "m.png")])
    assert exit_info.value.code == 2 and "is not a directory" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()


def test_train_logs_five_lines_whatever_the_number_of_steps(capsys):
    X, y = data.make_moons(10, rng=0)
    history = []
    moons.train(MLP(2, [4, 1], rng=random.Random(0)), X, y, steps=200, log=True, history=history)
    assert len(capsys.readouterr().out.splitlines()) == 5
    assert len(history) == 200 and all(0 <= acc <= 1 for _, acc in history)


def test_without_matplotlib_the_demo_still_trains_and_says_what_to_install(capsys, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert moons.main(["--steps", "1", "--samples", "10", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "pip install backproplab[train]" in captured.err and captured.out.splitlines()[-1].startswith("final")
    assert not (tmp_path / "moons.png").exists()
