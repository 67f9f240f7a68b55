"""python -m nn.train on a tiny IDX dataset written here: files, printed results, reproducibility, errors."""
from __future__ import annotations

import gzip
import http.server
import json
import math
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd import Tensor, is_grad_enabled
from nn import data, train
from nn.layers import Dropout, Linear, Sequential
from nn.module import Module
from nn.optim import SGD

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# -- a small learnable dataset in MNIST's files ----------------------------------------------------


def _quadrant_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Dim noise with one bright 14×14 quadrant; the label is the quadrant (0 top-left … 3 bottom-right)."""
    labels = rng.integers(0, 4, n).astype(np.uint8)
    images = rng.integers(0, 90, (n, 28, 28)).astype(np.uint8)
    for img, label in zip(images, labels):
        r, c = divmod(int(label), 2)
        img[14 * r:14 * r + 14, 14 * c:14 * c + 14] += 150
    return images, labels


def _write_idx(path: Path, array: np.ndarray, gz: bool) -> None:
    """IDX: magic 0x0000 08 <ndim>, big-endian uint32 dims, then the uint8 values."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(np.uint8).tobytes()
    if gz:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny-idx")
    rng = np.random.default_rng(1234)
    x_train, y_train = _quadrant_images(200, rng)
    x_test, y_test = _quadrant_images(50, rng)
    _write_idx(root / "train-images-idx3-ubyte", x_train, gz=False)
    _write_idx(root / "train-labels-idx1-ubyte", y_train, gz=False)
    _write_idx(root / "t10k-images-idx3-ubyte", x_test, gz=True)
    _write_idx(root / "t10k-labels-idx1-ubyte", y_test, gz=True)
    return root


def _args(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["--data-dir", str(data_dir), "--out", str(out), "--epochs", "2", "--batch-size", "32",
            "--hidden", "16", "--lr", "0.01", "--no-download", *extra]


def _final_accuracy(stdout: str) -> float:
    match = re.search(r"final test accuracy (\d+\.\d+)%", stdout)
    assert match, stdout
    return float(match.group(1)) / 100


# -- the command, end to end -----------------------------------------------------------------------


def test_main_trains_and_writes_checkpoint_config_and_plot(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(_args(tiny_data, out)) == 0
    stdout = capsys.readouterr().out

    assert "200 training / 50 test images" in stdout
    epoch_lines = [line for line in stdout.splitlines() if line.lstrip().startswith("epoch")]
    assert len(epoch_lines) == 2
    for i, line in enumerate(epoch_lines, start=1):
        assert re.search(rf"epoch\s+{i}/2\s+train loss \d+\.\d{{4}}\s+test accuracy \d+\.\d\d%", line), line
    # Four bright quadrants are easy: two epochs must beat chance (25%) by far.
    assert _final_accuracy(stdout) >= 0.8
    assert str(out / "model.npz") in stdout

    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.npz", "training.png"]  # no temp files
    config = json.loads((out / "config.json").read_text())
    assert config["hidden"] == [16] and config["epochs"] == 2 and config["batch_size"] == 32
    assert config["lr"] == 0.01 and config["optimizer"] == "adam" and config["dataset"] == "fashion-mnist"
    state = nn.load(out / "model.npz")
    assert {k: v.shape for k, v in state.items()} == {
        "0.weight": (16, 784), "0.bias": (16,), "2.weight": (10, 16), "2.bias": (10,)}
    model = train.build_model(config["hidden"], np.random.default_rng(99))
    model.load_state_dict(state)  # strict: every key and shape matches the model the config describes
    assert (out / "training.png").read_bytes()[:8] == PNG_MAGIC


def test_loaded_checkpoint_scores_the_reported_accuracy(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(_args(tiny_data, out)) == 0
    reported = _final_accuracy(capsys.readouterr().out)
    model, _ = train.load_checkpoint(out)
    ds = data.load_fashion_mnist(root=tiny_data, download=False)
    # 50 test images: accuracy is k/50, so the printed 2 decimals of a percentage are exact.
    assert train.evaluate(model, ds.x_test, ds.y_test) == pytest.approx(reported, abs=1e-9)


def test_same_seed_repeats_the_run_and_another_seed_does_not(tiny_data, tmp_path, capsys):
    runs = {}
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        assert train.main(_args(tiny_data, tmp_path / name, "--seed", seed)) == 0
        runs[name] = nn.load(tmp_path / name / "model.npz")
    capsys.readouterr()
    for key in runs["a"]:
        np.testing.assert_array_equal(runs["a"][key], runs["b"][key])
    assert not np.array_equal(runs["a"]["0.weight"], runs["c"]["0.weight"])


def test_limit_uses_the_first_n_training_examples(tiny_data, tmp_path, capsys):
    assert train.main(_args(tiny_data, tmp_path / "run", "--limit", "64", "--optimizer", "sgd")) == 0
    stdout = capsys.readouterr().out
    assert "64 training / 50 test images" in stdout and "sgd lr=0.01" in stdout


def test_progress_bar_is_off_when_stderr_is_not_a_terminal(tiny_data, tmp_path, capsys):
    assert train.main(_args(tiny_data, tmp_path / "run")) == 0
    assert "batch" not in capsys.readouterr().err  # tqdm's bar would print "…batch/s" to stderr


# -- missing data and bad arguments ----------------------------------------------------------------


def test_missing_data_with_no_download_exits_2_with_instructions(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = train.main(["--data-dir", str(empty), "--no-download", "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "not found" in err and str(empty) in err
    assert "apt-get install dataset-fashion-mnist" in err and "without --no-download" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_missing_data_from_the_shell_is_a_message_not_a_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run(
        [sys.executable, "-m", "nn.train", "--data-dir", str(tmp_path), "--no-download"],
        check=False, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 2
    assert "apt-get install dataset-fashion-mnist" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_out_that_is_a_file_exits_2_before_training(tiny_data, tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a directory")
    assert train.main(_args(tiny_data, blocker / "run")) == 2
    captured = capsys.readouterr()
    assert "cannot use --out" in captured.err and "epoch" not in captured.out


class _NotFoundHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # the name http.server dispatches GET requests to
        self.send_error(404)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def dead_mirror():
    """A local mirror that answers every request with 404."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _NotFoundHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def test_failed_download_exits_2_with_instructions(tmp_path, capsys, monkeypatch, dead_mirror):
    monkeypatch.setitem(data.MIRRORS, "mnist", (dead_mirror,))
    code = train.main(["--dataset", "mnist", "--data-dir", str(tmp_path / "mnist"), "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "could not load mnist" in err and "404" in err and "--data-dir" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("bad", [
    ["--epochs", "0"], ["--epochs", "-3"], ["--lr", "0"], ["--lr", "-0.1"], ["--lr", "nan"],
    ["--hidden", "0"], ["--hidden", "64", "-1"], ["--batch-size", "0"], ["--limit", "0"],
    ["--epochs", "two"], ["--optimizer", "rmsprop"], ["--dataset", "cifar10"],
])
def test_bad_arguments_are_argparse_errors(bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(bad)
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_defaults():
    args = train.parse_args([])
    assert args.dataset == "fashion-mnist" and args.hidden == [256, 128] and args.optimizer == "adam"
    assert args.lr == 1e-3 and args.out == Path("runs") / "fashion-mnist"
    assert train.parse_args(["--optimizer", "sgd"]).lr == train.DEFAULT_LR["sgd"]
    assert train.parse_args(["--hidden"]).hidden == []  # softmax regression


# -- the pieces --------------------------------------------------------------------------------------


def test_build_model_layer_sizes_and_keys():
    model = train.build_model([5, 3], np.random.default_rng(0), in_features=4, num_classes=2)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {"0.weight": (5, 4), "0.bias": (5,), "2.weight": (3, 5), "2.bias": (3,),
                      "4.weight": (2, 3), "4.bias": (2,)}
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    linear = train.build_model([], np.random.default_rng(0))
    assert {k: v.shape for k, v in linear.state_dict().items()} == {"0.weight": (10, 784), "0.bias": (10,)}


def test_cosine_lr_by_hand():
    # ½(1 + cos 0) = 1; ½(1 + cos π/2) = ½; ½(1 + cos 3π/4) = (2 − √2)/4
    assert train.cosine_lr(0.1, 1, 4) == pytest.approx(0.1)
    assert train.cosine_lr(0.1, 3, 4) == pytest.approx(0.05)
    assert train.cosine_lr(0.1, 4, 4) == pytest.approx(0.1 * (2 - math.sqrt(2)) / 4)


def _identity_model() -> Sequential:
    """Linear(3, 3) with W = I, b = 0, then Dropout(p=1): in training mode every output would be 0."""
    lin = Linear(3, 3, rng=np.random.default_rng(0))
    lin.weight.data[...] = np.eye(3, dtype=np.float32)
    lin.bias.data[...] = 0.0
    return Sequential(lin, Dropout(1.0, rng=np.random.default_rng(0)))


def test_evaluate_counts_argmax_hits_in_eval_mode_and_restores_the_mode():
    model = _identity_model()
    x = np.array([[0.9, 0.1, 0.0], [0.0, 2.0, 1.0], [0.1, 0.2, 0.3], [5.0, 0.0, 0.0], [0.0, 0.0, -1.0]],
                 dtype=np.float32)
    y = np.array([0, 1, 2, 1, 0])  # argmaxes are 0, 1, 2, 0, 0: rows 0, 1, 2, 4 right → 4/5
    # Batches of 2 (2, 2, 1) count the last short batch too. With Dropout(p=1) active every logit
    # would be 0 and argmax 0 everywhere (2/5), so 4/5 also shows eval() was in force.
    assert train.evaluate(model, x, y, batch_size=2) == pytest.approx(4 / 5)
    assert model.training and model.layers[1].training
    model.eval()
    train.evaluate(model, x, y)
    assert not model.training


def test_evaluate_records_no_graph():
    class Spy(Module):
        def __init__(self):
            self.lin = Linear(3, 3, rng=np.random.default_rng(0))
            self.grad_modes = []

        def forward(self, x):
            self.grad_modes.append(is_grad_enabled())
            return self.lin(x)

    spy = Spy()
    train.evaluate(spy, np.zeros((4, 3), np.float32), np.zeros(4, np.int64))
    assert spy.grad_modes == [False]
    assert is_grad_enabled()


def test_evaluate_rejects_empty_input():
    with pytest.raises(ValueError, match="no examples"):
        train.evaluate(_identity_model(), np.zeros((0, 3), np.float32), np.zeros(0, np.int64))


def test_train_epoch_returns_the_per_example_mean_loss():
    # lr = 0 leaves the weights alone, so the epoch's loss is the full-data cross-entropy, computed
    # here with NumPy: L = mean_n [log Σ_j exp(z_nj) − z_n,y_n]. 10 examples in batches of 4 give a
    # short last batch (4, 4, 2), which a plain mean of batch losses would overweight.
    rng = np.random.default_rng(3)
    model = train.build_model([6], rng, in_features=5, num_classes=3)
    x = rng.standard_normal((10, 5)).astype(np.float32)
    y = rng.integers(0, 3, 10)
    z = model(Tensor(x.astype(np.float64))).data.astype(np.float64)
    expected = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(10), y])
    loss = train.train_epoch(model, SGD(model.parameters(), lr=0.0), x, y, batch_size=4, rng=rng)
    assert loss == pytest.approx(expected, rel=1e-5)


def test_train_epoch_lowers_the_loss(tiny_data):
    ds = data.load_fashion_mnist(root=tiny_data, download=False)
    rng = np.random.default_rng(0)
    model = train.build_model([16], rng)
    optimizer = train.make_optimizer("adam", model.parameters(), 0.01)
    losses = [train.train_epoch(model, optimizer, ds.x_train, ds.y_train, 32, rng) for _ in range(3)]
    assert losses[0] > losses[1] > losses[2]
    assert losses[0] > 0
