"""python -m nn.train --model cnn / resnet: the conv paths share the MLP path's files, safety and reproducibility.

The end-to-end runs use the tiny quadrant dataset of tests/test_train.py (200 training images, 50 test).
"""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import torch_or_skip

import nn
from autograd import Tensor, no_grad
from nn import data
from nn.train import command as train
from nn.train.models import ResidualBlock

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """Dim noise with one bright 14×14 quadrant, labelled by the quadrant, in MNIST's IDX files."""
    root = tmp_path_factory.mktemp("tiny-idx")
    rng = np.random.default_rng(1234)
    for stem, n in (("train", 200), ("t10k", 50)):
        labels = rng.integers(0, 4, n).astype(np.uint8)
        images = rng.integers(0, 90, (n, 28, 28)).astype(np.uint8)
        for img, label in zip(images, labels):
            r, c = divmod(int(label), 2)
            img[14 * r:14 * r + 14, 14 * c:14 * c + 14] += 150
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
            (root / f"{stem}-{kind}-ubyte").write_bytes(header + array.tobytes())
    return root


def _final_accuracy(stdout: str) -> float:
    match = re.search(r"final test accuracy (\d+\.\d+)%", stdout)
    assert match, stdout
    return float(match.group(1)) / 100


def _cnn_args(data_dir, out, *extra: str) -> list[str]:
    return ["--model", "cnn", "--channels", "8", "--hidden", "16", "--data-dir", str(data_dir),
            "--out", str(out), "--epochs", "3", "--batch-size", "32", "--lr", "0.01", "--no-download", "--no-verify",
            *extra]


def test_cnn_defaults_are_the_issue_s_network():
    args = train.parse_args(["--model", "cnn"])
    assert args.channels == [32, 64] and args.hidden == [128] and args.epochs == train.DEFAULT_CNN_EPOCHS
    assert train.describe_model(args) == "CNN conv 32-64, 3136-128-10"
    assert train.plot_title(args) == "fashion-mnist, CNN conv 32-64, 3136-128-10"
    assert "--epochs 3" in train.plot_title(train.parse_args(["--model", "cnn", "--epochs", "3"]))
    mlp = train.parse_args([])
    assert mlp.model == "mlp" and mlp.channels is None and mlp.epochs == train.DEFAULT_EPOCHS


@pytest.mark.parametrize("argv, words", [
    (["--channels", "8"], ["--channels", "--model cnn"]),
    (["--model", "cnn", "--channels", "1", "2", "3", "4", "5"], ["at most 4", "got 5"]),
    (["--model", "cnn", "--channels", "0"], ["--channels", "> 0"]),
    (["--model", "resnet", "--hidden", "16"], ["--hidden", "resnet", "global average pooling"]),
    (["--model", "resnet", "--channels", "1", "2", "3", "4", "5", "6"], ["at most 5", "got 6"]),
])
def test_bad_cnn_options_stop_with_a_usage_error(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        train.parse_args(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err, err


def test_build_cnn_has_torch_keys_and_shapes_and_computes_relu_pool_in_either_order():
    rng = np.random.default_rng(0)
    model = train.build_cnn([32, 64], [128], rng)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {"0.weight": (32, 1, 3, 3), "0.bias": (32,), "3.weight": (64, 32, 3, 3), "3.bias": (64,),
                      "7.weight": (128, 3136), "7.bias": (128,), "9.weight": (10, 128), "9.bias": (10,)}
    x = Tensor(rng.random((3, 1, 28, 28), dtype=np.float32))
    with no_grad():
        h = model[:3](x).data
        # The same block with ReLU before the pool (the textbook order) gives the same numbers.
        same = nn.MaxPool2d(2)(nn.ReLU()(model[0](x))).data
    np.testing.assert_array_equal(h, same)
    assert model(x).shape == (3, 10)
    assert len(train.build_cnn([4, 4, 4, 4], [], rng).state_dict()) == 10  # 28 → 14 → 7 → 3 → 1


def test_build_cnn_loads_into_the_same_torch_network():
    torch = torch_or_skip()
    ours = train.build_cnn([4, 8], [16], np.random.default_rng(1))
    tnn = torch.nn
    theirs = tnn.Sequential(
        tnn.Conv2d(1, 4, 3, padding=1), tnn.MaxPool2d(2), tnn.ReLU(),
        tnn.Conv2d(4, 8, 3, padding=1), tnn.MaxPool2d(2), tnn.ReLU(),
        tnn.Flatten(), tnn.Linear(8 * 7 * 7, 16), tnn.ReLU(), tnn.Linear(16, 10))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(2).random((5, 1, 28, 28), dtype=np.float32)
    with no_grad():
        mine = ours(Tensor(x)).data
    np.testing.assert_allclose(mine, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_cnn_run_writes_the_same_files_and_its_checkpoint_rebuilds_a_cnn(tiny_data, tmp_path, capsys):
    out = tmp_path / "cnn"
    assert train.main(_cnn_args(tiny_data, out)) == 0
    stdout = capsys.readouterr().out
    assert "CNN conv 8, 1568-16-10" in stdout
    epoch_lines = [line for line in stdout.splitlines() if line.lstrip().startswith("epoch")]
    assert len(epoch_lines) == 3
    assert _final_accuracy(stdout) >= 0.8  # bright quadrants are easy for a CNN too (chance: 25%)
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "config.json", "model.npz", "training.png"]
    assert (out / "training.png").read_bytes()[:8] == PNG_MAGIC
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "cnn" and config["channels"] == [8] and config["hidden"] == [16]
    assert config["status"] == "finished"

    model, loaded_config = train.load_checkpoint(out)
    assert loaded_config == config
    assert isinstance(model[0], nn.Conv2d) and model[0].weight.shape == (8, 1, 3, 3)
    ds = data.load_fashion_mnist(root=tiny_data, download=False, verify=False)
    x_test = ds.x_test.reshape(-1, 1, 28, 28)
    assert train.evaluate(model, x_test, ds.y_test) == pytest.approx(_final_accuracy(stdout), abs=1e-9)


def test_cnn_runs_are_reproducible_from_the_seed(tiny_data, tmp_path, capsys):
    losses = []
    for name in ("a", "b"):
        assert train.main(_cnn_args(tiny_data, tmp_path / name, "--epochs", "1", "--seed", "3")) == 0
        losses.append(re.findall(r"train loss (\d+\.\d+)", capsys.readouterr().out))
    assert losses[0] == losses[1] and losses[0]
    a, b = nn.load(tmp_path / "a" / "model.npz"), nn.load(tmp_path / "b" / "model.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_diverging_cnn_run_stops_with_exit_1_and_keeps_no_nan_checkpoint(tiny_data, tmp_path, capsys):
    out = tmp_path / "nan"
    code = train.main(_cnn_args(tiny_data, out, "--lr", "1e30", "--optimizer", "sgd"))
    assert code == train.EXIT_NONFINITE
    err = capsys.readouterr().err
    assert "stopped at epoch 1" in err and "try a smaller --lr" in err
    config = json.loads((out / "config.json").read_text())
    assert config["status"].startswith("stopped at epoch 1")
    assert not (out / "model.npz").exists() or all(np.isfinite(v).all() for v in nn.load(out / "model.npz").values())


# -- --model resnet -----------------------------------------------------------------------------------


def test_resnet_defaults_and_description():
    args = train.parse_args(["--model", "resnet"])
    assert args.channels == [16, 32, 64] and args.hidden == [] and args.epochs == train.DEFAULT_RESNET_EPOCHS
    assert train.describe_model(args) == "ResNet 16-32-64, global average pool, 64-10"
    assert train.run_config(args)["channels"] == [16, 32, 64]


def test_build_resnet_has_torch_keys_and_matches_the_same_torch_network_in_both_modes():
    torch = torch_or_skip()
    ours = train.build_resnet([4, 8], np.random.default_rng(3))
    tnn = torch.nn

    class Block(tnn.Module):  # the same block as nn.train.models.ResidualBlock, in torch
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1, self.bn1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False), tnn.BatchNorm2d(cout)
            self.conv2, self.bn2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False), tnn.BatchNorm2d(cout)
            pool = [tnn.AvgPool2d(stride)] if stride > 1 else []
            self.shortcut = (tnn.Sequential() if stride == 1 and cin == cout else
                             tnn.Sequential(*pool, tnn.Conv2d(cin, cout, 1, bias=False), tnn.BatchNorm2d(cout)))

        def forward(self, x):
            h = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(h)) + self.shortcut(x))

    theirs = tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1, bias=False), tnn.BatchNorm2d(4), tnn.ReLU(),
                            Block(4, 4, 1), Block(4, 8, 2), tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(8, 10))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "4.shortcut.1.weight" in ours.state_dict() and "4.shortcut.2.running_var" in ours.state_dict()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(4).random((6, 1, 28, 28), dtype=np.float32)
    y = ours(Tensor(x))  # training mode: batch statistics, and the running ones updated
    ty = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)
    ours.eval()
    theirs.eval()
    with no_grad():
        np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4,
                                   atol=1e-4)


def test_resnet_run_trains_checkpoints_and_its_checkpoint_rebuilds_a_resnet(tiny_data, tmp_path, capsys):
    out = tmp_path / "resnet"
    argv = ["--model", "resnet", "--channels", "4", "8", "--data-dir", str(tiny_data), "--out", str(out),
            "--epochs", "3", "--batch-size", "10", "--lr", "0.01", "--no-download", "--no-verify"]
    assert train.main(argv) == 0
    stdout = capsys.readouterr().out
    assert "ResNet 4-8, global average pool, 8-10" in stdout
    # bright quadrants (chance: 25%); in eval mode on running statistics, which need a few dozen steps to settle
    assert _final_accuracy(stdout) >= 0.8
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "resnet" and config["channels"] == [4, 8] and config["status"] == "finished"
    saved = nn.load(out / "model.npz")
    assert saved["1.num_batches_tracked"] == 3 * 20  # 200 images in batches of 10, three epochs
    model, _ = train.load_checkpoint(out)
    assert isinstance(model[3], ResidualBlock) and isinstance(model[4].bn2, nn.BatchNorm2d)
    np.testing.assert_array_equal(model[1].running_var.data, saved["1.running_var"])
    ds = data.load_fashion_mnist(root=tiny_data, download=False, verify=False)
    # evaluate() runs in eval mode, on the running statistics the checkpoint restored
    assert train.evaluate(model, ds.x_test.reshape(-1, 1, 28, 28), ds.y_test) == pytest.approx(
        _final_accuracy(stdout), abs=1e-9)
