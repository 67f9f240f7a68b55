"""python -m nn.train on a tiny IDX dataset written here: files, printed results, reproducibility, errors."""
from __future__ import annotations

import gzip
import http.server
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd import is_grad_enabled
from nn import data
from nn.gradflow import GradientFlow
from nn.layers import Dropout, Linear, Sequential
from nn.module import Module
from nn.optim import SGD
from nn.train import command as train

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
            "--hidden", "16", "--lr", "0.01", "--no-download", "--no-verify", *extra]


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

    assert sorted(p.name for p in out.iterdir()) == RUN_FILES  # no temp files, no lock left behind
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch-2", "latest"]
    assert sorted(p.name for p in (out / "checkpoints" / "epoch-2").iterdir()) == ["config.json", "model.npz"]
    assert os.readlink(out / "model.npz") == "checkpoints/latest/model.npz"
    assert os.readlink(out / "checkpoints" / "latest") == "epoch-2"
    config = json.loads((out / "config.json").read_text())
    assert config["hidden"] == [16] and config["epochs"] == 2 and config["batch_size"] == 32
    assert config["lr"] == 0.01 and config["optimizer"] == "adam" and config["dataset"] == "fashion-mnist"
    assert config["status"] == "finished" and config["epochs_completed"] == 2
    printed = [float(re.search(r"train loss (\d+\.\d+)", line).group(1)) for line in epoch_lines]
    assert config["history"]["train_loss"] == pytest.approx(printed, abs=5e-5)
    assert config["history"]["test_accuracy"][-1] == pytest.approx(_final_accuracy(stdout), abs=1e-9)
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
    ds = data.load_fashion_mnist(root=tiny_data, download=False, verify=False)
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
    assert f"cannot write to --out {blocker / 'run'}" in captured.err and "epoch" not in captured.out


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
    (tmp_path / "mnist").mkdir()  # --data-dir must exist; downloads go into it
    code = train.main(["--dataset", "mnist", "--data-dir", str(tmp_path / "mnist"), "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "could not load mnist" in err and "404" in err and "--data-dir" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()  # created for the write test, removed again: nothing was written


@pytest.mark.parametrize("bad", [
    ["--epochs", "0"], ["--epochs", "-3"], ["--lr", "0"], ["--lr", "-0.1"], ["--lr", "nan"],
    ["--hidden", "0"], ["--hidden", "64", "-1"], ["--batch-size", "0"], ["--limit", "0"],
    ["--epochs", "two"], ["--optimizer", "rmsprop"], ["--dataset", "cifar10"], ["--threads", "0"],
])
def test_bad_arguments_are_argparse_errors(bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(bad)
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_defaults():
    args = train.parse_args([])
    assert args.dataset == "fashion-mnist" and args.hidden == [256, 128] and args.optimizer == "adam"
    assert args.lr == 1e-3 and args.out is None and not args.force  # None: runs/<dataset>, numbered if taken
    assert args.threads == train.default_threads() >= 1
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
    w = {k: v.astype(np.float64) for k, v in model.state_dict().items()}  # z = W₂ relu(W₁x + b₁) + b₂, in float64
    z = np.maximum(x @ w["0.weight"].T + w["0.bias"], 0) @ w["2.weight"].T + w["2.bias"]
    expected = np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(10), y])
    loss = train.train_epoch(model, SGD(model.parameters(), lr=0.0), x, y, batch_size=4, rng=rng)
    assert loss == pytest.approx(expected, rel=1e-5)


def test_train_epoch_lowers_the_loss(tiny_data):
    ds = data.load_fashion_mnist(root=tiny_data, download=False, verify=False)
    rng = np.random.default_rng(0)
    model = train.build_model([16], rng)
    optimizer = train.make_optimizer("adam", model.parameters(), 0.01)
    losses = [train.train_epoch(model, optimizer, ds.x_train, ds.y_train, 32, rng) for _ in range(3)]
    assert losses[0] > losses[1] > losses[2]
    assert losses[0] > 0


# -- a command that never lies and never loses work ------------------------------------------------

# A run directory: model.npz and config.json are links into checkpoints/ (nn/train/runs.py).
RUN_FILES = ["checkpoints", "config.json", "model.npz", "training.png"]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _sigint_default() -> None:
    """In the child, before exec: a shell's background job starts with SIGINT ignored, which Python would
    inherit (and then never raise KeyboardInterrupt); a terminal's foreground job has the default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _config(out: Path) -> dict:
    return json.loads((out / "config.json").read_text())


def _assert_checkpoint_matches_config(out: Path) -> None:
    """model.npz is finite and config.json's history has one entry per finished epoch."""
    config = _config(out)
    done = config["epochs_completed"]
    assert len(config["history"]["train_loss"]) == len(config["history"]["test_accuracy"]) == done
    if done:
        state = nn.load(out / "model.npz")
        assert all(np.isfinite(v).all() for v in state.values())
    else:
        assert not (out / "model.npz").exists()


def test_nan_loss_stops_at_once_with_one_line_and_exit_1(tiny_data, tmp_path):
    # SGD at lr 1e6 blows the weights up within a few steps; the loss overflows to inf, then nan.
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "nn.train", *_args(tiny_data, out, "--optimizer", "sgd", "--lr", "1e6",
                                                  "--hidden", "256", "128", "--epochs", "20")],
        check=False, capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # no overflow RuntimeWarnings, no traceback
    match = re.fullmatch(r"nn\.train: stopped at epoch (\d+), step (\d+)/7: training loss is (nan|inf|-inf); "
                         r"try a smaller --lr than 1e\+06 \(e\.g\. 1e\+05\)\. (.*)", lines[0])
    assert match, lines[0]
    stopped_in = int(match.group(1))
    printed = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert len(printed) == stopped_in - 1 and "final test accuracy" not in result.stdout

    no_model = ["checkpoints", "config.json", "training.png"]
    assert sorted(p.name for p in out.iterdir()) == (RUN_FILES if stopped_in > 1 else no_model)
    config = _config(out)
    assert config["epochs_completed"] == stopped_in - 1
    assert config["status"].startswith(f"stopped at epoch {stopped_in}, step {match.group(2)}/7")
    _assert_checkpoint_matches_config(out)
    assert (out / "training.png").read_bytes()[:8] == PNG_MAGIC
    assert ("No epoch finished" in lines[0]) == (stopped_in == 1)


def test_weights_gone_non_finite_after_a_finite_loss_keep_the_previous_checkpoint(tiny_data, tmp_path, capsys,
                                                                                  monkeypatch):
    # The last update of epoch 2 writes inf into a weight; the loss that led to it was finite. The check
    # before saving must catch it: model.npz stays epoch 1's.
    class Overflowing(SGD):
        calls = 0

        def step(self):
            super().step()
            Overflowing.calls += 1
            if Overflowing.calls == 14:  # 200 images in batches of 32: 7 steps per epoch
                self.params[0].data[0, 0] = np.inf

    monkeypatch.setattr(train, "make_optimizer", lambda name, params, lr: Overflowing(params, lr=lr))
    out = tmp_path / "run"
    assert train.main(_args(tiny_data, out, "--epochs", "3")) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("nn.train: stopped at epoch 2, step 7/7: the update made the weights nan or inf; "
                                   "try a smaller --lr than 0.01 (e.g. 0.001).")
    assert f"{out} keeps 1 finished epoch: model.npz (epoch 1)" in captured.err
    assert _config(out)["epochs_completed"] == 1
    _assert_checkpoint_matches_config(out)
    model, _ = train.load_checkpoint(out)
    ds = data.load_fashion_mnist(root=tiny_data, download=False, verify=False)
    printed = float(re.search(r"epoch\s+1/3 .*test accuracy (\d+\.\d+)%", captured.out).group(1)) / 100
    assert train.evaluate(model, ds.x_test, ds.y_test) == pytest.approx(printed, abs=1e-9)  # epoch 1's weights


def test_train_epoch_raises_on_a_non_finite_loss_before_updating(tiny_data):
    rng = np.random.default_rng(0)
    model = train.build_model([4], rng, in_features=3, num_classes=2)
    before = model.state_dict()
    x = np.ones((6, 3), np.float32)
    x[0, 0] = np.nan  # shuffled into some batch of the first epoch; batch_size 6: the only batch
    step_losses: list[float] = []
    with pytest.raises(train.NonFiniteLossError) as err:
        train.train_epoch(model, SGD(model.parameters(), lr=0.1), x, np.zeros(6, np.int64), 6, rng,
                          step_losses=step_losses)
    assert err.value.step == 1 and "training loss is nan" in str(err.value)
    assert step_losses == []
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_ctrl_c_after_the_first_epoch_keeps_it_and_exits_130(tiny_data, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nn.train", *_args(tiny_data, out, "--epochs", "100000")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path,
        preexec_fn=_sigint_default,
    )
    try:
        first = [proc.stdout.readline() for _ in range(2)]  # the header, then epoch 1
        assert first[1].startswith("epoch   1/100000"), first
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    assert re.fullmatch(r"nn\.train: interrupted (in epoch \d+, step \d/7|after epoch \d+) \(Ctrl-C\)\. "
                        rf"{re.escape(str(out))} keeps \d+ finished epochs?: model\.npz \(epoch \d+\), config\.json, "
                        r"training\.png\.\n", stderr), stderr
    printed = 1 + sum(line.startswith("epoch") for line in stdout.splitlines())
    config = _config(out)
    assert config["epochs_completed"] == printed >= 1  # every epoch line printed is an epoch kept
    assert config["status"].startswith("interrupted")
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES  # and no temporary files
    _assert_checkpoint_matches_config(out)
    train.load_checkpoint(out)


def test_sigint_during_a_checkpoint_write_is_held_until_it_is_done():
    done = []
    with pytest.raises(KeyboardInterrupt), train._sigint_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        done.append("the rest of the block ran")
    assert done == ["the rest of the block ran"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the old handler is back


@pytest.fixture
def unwritable(tmp_path):
    """A directory this process cannot create files in (as root, permission bits do not stop writes)."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        yield locked
        locked.chmod(0o755)
    elif os.path.ismount("/sys"):
        yield Path("/sys/kernel")  # sysfs: root may read it, but not create files in it
    else:  # a container or chroot without sysfs: procfs refuses new entries too
        yield Path("/proc")


def test_unwritable_out_exits_2_before_loading_data(unwritable, tmp_path, capsys):
    out = unwritable / "run"
    # --data-dir names an empty directory: had the data been loaded first, the error would be about the data.
    (tmp_path / "empty").mkdir()
    assert train.main(["--data-dir", str(tmp_path / "empty"), "--out", str(out), "--no-download"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"nn.train: cannot write to --out {out}: ") and captured.err.count("\n") == 1
    assert "choose a directory you can write to" in captured.err and captured.out == ""
    assert not out.exists()


def test_existing_run_is_refused_without_force_and_replaced_with_it(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(_args(tiny_data, out, "--seed", "1")) == 0
    before = {name: (out / name).read_bytes() for name in RUN_FILES[1:]}
    capsys.readouterr()

    assert train.main(_args(tiny_data, out, "--seed", "2")) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"nn.train: --out {out} already holds a run (model.npz, config.json, training.png); "
                            "pass --force to replace it, or choose another --out\n")
    assert captured.out == ""
    assert {name: (out / name).read_bytes() for name in RUN_FILES[1:]} == before  # untouched

    assert train.main(_args(tiny_data, out, "--seed", "2", "--force")) == 0
    assert f"replacing the run in {out} (--force)" in capsys.readouterr().out
    assert _config(out)["seed"] == 2
    assert (out / "model.npz").read_bytes() != before["model.npz"]


def test_default_out_picks_a_fresh_numbered_directory(tiny_data, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["--data-dir", str(tiny_data), "--epochs", "1", "--hidden", "8", "--no-download", "--no-verify", "--limit",
            "64"]
    (tmp_path / "runs" / "fashion-mnist-2").mkdir(parents=True)  # empty: free to use
    (tmp_path / "runs" / "fashion-mnist-2" / "notes.txt").write_text("not a run")
    for expected in ("fashion-mnist", "fashion-mnist-2", "fashion-mnist-3"):
        assert train.main(args) == 0
        stdout = capsys.readouterr().out
        assert f"wrote {Path('runs', expected, 'model.npz')}" in stdout
        if expected != "fashion-mnist":
            assert f"runs/fashion-mnist holds an earlier run; writing this one to runs/{expected}" in stdout
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["fashion-mnist", "fashion-mnist-2",
                                                                      "fashion-mnist-3"]
    assert (tmp_path / "runs" / "fashion-mnist-2" / "notes.txt").read_text() == "not a run"


@pytest.mark.parametrize("seed", ["-1", "1.5", "abc"])
def test_invalid_seed_is_an_argparse_error_that_leaves_nothing(seed, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--seed", seed])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed" in err and ">= 0" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no runs/ directory


def test_data_dir_that_does_not_exist_is_named_and_not_created(tmp_path, capsys):
    typo = tmp_path / "fashoin"
    code = train.main(["--data-dir", str(typo), "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert err == (f"nn.train: --data-dir {typo} does not exist; check the path (to download into a new "
                   f"directory, create it first: mkdir -p {typo})\n")
    assert not typo.exists() and not (tmp_path / "run").exists()


def test_a_data_dir_is_verified_unless_no_verify_which_config_json_records(tiny_data, tmp_path, capsys):
    # tiny_data is not the released Fashion-MNIST: verified, it is refused, naming the file and both digests.
    args = [a for a in _args(tiny_data, tmp_path / "run") if a != "--no-verify"]
    assert train.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nn.train: could not load fashion-mnist: {tiny_data / 'train-images-idx3-ubyte'}: "
                          "SHA-256 is ") and "expected c59f468a" in err and "--no-verify" in err
    assert not (tmp_path / "run").exists()  # refused before anything was written
    assert train.main([*args, "--no-verify"]) == 0
    assert _config(tmp_path / "run")["data_verified"] is False
    assert train.run_config(train.parse_args([]))["data_verified"] is True


def test_no_verify_without_a_data_dir_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        train.parse_args(["--no-verify"])
    assert info.value.code == 2
    assert "--no-verify is for a --data-dir of your own files" in capsys.readouterr().err


def test_plot_title_names_every_non_default_option_that_changes_the_result():
    assert train.plot_title(train.parse_args([])) == "fashion-mnist, MLP 784-256-128-10"
    title = train.plot_title(train.parse_args(
        ["--limit", "200", "--optimizer", "sgd", "--seed", "3", "--epochs", "5", "--batch-size", "64",
         "--lr-schedule", "constant", "--hidden", "32", "--threads", "1", "--out", "x"]))
    # sgd's default lr is not named; --threads and --out have no effect on the result
    assert title == ("fashion-mnist, MLP 784-32-10   --epochs 5 --batch-size 64 --optimizer sgd "
                     "--lr-schedule constant --seed 3 --limit 200")
    assert "--lr 0.5" in train.plot_title(train.parse_args(["--optimizer", "sgd", "--lr", "0.5"]))
    assert "--lr 0.01" in train.plot_title(train.parse_args(["--lr", "0.01"]))


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]  # signature, IHDR length and type, then width and height
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_training_png_has_the_title_and_a_gradient_flow_row(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(_args(tiny_data, out)) == 0
    capsys.readouterr()
    # Two rows of panels at 100 dpi (loss, accuracy; gradient norms, activations): 10 × 7.6 inches.
    assert _png_size(out / "training.png") == (1000, 760)
    flat = tmp_path / "flat.png"
    train.plot_history([1.0, 0.5], [0.5, 0.7], flat, "no flow")
    assert _png_size(flat) == (1000, 400)


def test_blas_threads_are_limited_during_the_run_and_restored(tiny_data, tmp_path, capsys, monkeypatch):
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    seen = []
    real_train_epoch = train.train_epoch

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return real_train_epoch(*args, **kwargs)

    monkeypatch.setattr(train, "train_epoch", spy)
    outside = blas_threads()
    assert train.main(_args(tiny_data, tmp_path / "run", "--threads", "1")) == 0
    assert "1 BLAS thread" in capsys.readouterr().out
    assert seen and all(threads == [1] * len(outside) for threads in seen)
    assert blas_threads() == outside


def test_progress_bar_comes_from_tqdm_auto(tiny_data, tmp_path, monkeypatch):
    import tqdm.auto

    made = []
    real = tqdm.auto.tqdm

    def recording(*args, **kwargs):  # a widget in Jupyter, a text bar on a terminal
        made.append(kwargs.get("desc"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", recording)
    assert train.main(_args(tiny_data, tmp_path / "run", "--epochs", "2")) == 0
    assert made == ["epoch 1/2", "epoch 2/2"]


def test_load_checkpoint_of_a_run_without_a_finished_epoch_says_so(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"status": "interrupted before the first step"}))
    with pytest.raises(FileNotFoundError, match=r"before its first epoch finished.*interrupted before the first step"):
        train.load_checkpoint(tmp_path)


def test_plot_of_a_run_stopped_before_any_step_is_written_without_warnings(tmp_path):
    import warnings

    model = train.build_model([8], np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. matplotlib's "No artists with labels found to put in legend"
        train.plot_history([], [], tmp_path / "p.png", "t\ninterrupted before the first step", step_losses=[],
                           steps_per_epoch=7, flow=GradientFlow(model), stop="interrupted before the first step",
                           stop_at=0.0)
    assert (tmp_path / "p.png").read_bytes()[:8] == PNG_MAGIC


# -- nn.train(...) from Python: the same command as a function -----------------------------------------


def _keywords(argv: list[str]) -> dict:
    """The keyword arguments of nn.train(...) that mean what ``argv`` means on the command line."""
    parsed = vars(train.build_parser().parse_args(argv))
    given = {a.dest for a in train.build_parser()._actions for flag in a.option_strings if flag in argv}
    return {name: value for name, value in parsed.items() if name in given}


def test_train_function_returns_history_and_model_and_writes_what_the_command_writes(tiny_data, tmp_path, capsys):
    assert train.main(_args(tiny_data, tmp_path / "cli")) == 0
    cli_stdout = capsys.readouterr().out
    result = nn.train(**_keywords(_args(tiny_data, tmp_path / "fn")), live=False)
    fn_stdout = capsys.readouterr().out

    assert result.ok and result.exit_code == 0 and result.status == "finished"
    assert result.out == tmp_path / "fn"
    assert sorted(p.name for p in result.out.iterdir()) == sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert _config(result.out) == _config(tmp_path / "cli")  # same options, same seed: the same run
    cli_state, fn_state = nn.load(tmp_path / "cli" / "model.npz"), nn.load(result.out / "model.npz")
    for key in cli_state:
        np.testing.assert_array_equal(cli_state[key], fn_state[key])
    for key, value in result.model.state_dict().items():  # the returned model is the one saved
        np.testing.assert_array_equal(value, fn_state[key])
    assert result.history == _config(result.out)["history"] and len(result.history["train_loss"]) == 2
    ds = data.load_fashion_mnist(root=tiny_data, download=False, **_verify_off())
    assert train.evaluate(result.model, ds.x_test, ds.y_test) == result.history["test_accuracy"][-1]
    assert len(result.step_losses) == 2 * 7 and result.flow.steps  # 200 images / 32 = 7 steps per epoch
    def same(stdout: str, out: Path) -> str:  # the run directory's name and the seconds differ
        return re.sub(r"\d+\.\d s\)", "T s)", stdout.replace(str(out), "OUT"))

    assert same(fn_stdout, tmp_path / "fn") == same(cli_stdout, tmp_path / "cli")
    assert "2 of 2 epochs" in repr(result) and "MLP 784-16-10" in repr(result)


def _verify_off() -> dict:
    """load_fashion_mnist's switch for files that are not the released ones (the tiny data), where it has one."""
    import inspect

    return {"verify": False} if "verify" in inspect.signature(data.load_fashion_mnist).parameters else {}


def test_nn_train_is_the_package_and_a_function_with_the_commands_options():
    import inspect

    import nn.train as package
    from nn.train import command, load_checkpoint

    assert nn.train is package and callable(nn.train)
    assert nn.train.command is command and nn.train.load_checkpoint is load_checkpoint
    options = {a.dest for a in command.build_parser()._actions if a.option_strings and a.dest != "help"}
    assert set(inspect.signature(nn.train).parameters) == options | {"live"}


def test_python_dash_m_nn_train_still_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "nn.train", "--help"], capture_output=True, text=True, env=_env(),
                            check=True, timeout=60)
    assert result.stdout.startswith("usage: python -m nn.train")


@pytest.mark.parametrize(("options", "message"), [
    ({"lr": -1.0}, r"argument --lr: must be > 0, got -1"),
    ({"hidden": [16], "channels": [8]}, r"--channels is for --model cnn"),
    ({"data_dir": "/nonexistent/dir"}, r"--data-dir /nonexistent/dir does not exist"),
])
def test_train_function_raises_the_commands_message_instead_of_exiting(options, message, tmp_path, capsys):
    with pytest.raises(ValueError, match=message):
        nn.train(out=tmp_path / "run", **options)
    assert capsys.readouterr().err == ""  # the message is the exception's, not printed as well
    assert not (tmp_path / "run").exists()


def test_train_function_refuses_an_unknown_option_and_a_run_it_would_overwrite(tiny_data, tmp_path, capsys):
    with pytest.raises(TypeError, match=r"no option 'epoch'.*epochs"):
        nn.train(epoch=2)
    out = tmp_path / "run"
    nn.train(**_keywords(_args(tiny_data, out)))
    with pytest.raises(ValueError, match="already holds a run"):
        nn.train(**_keywords(_args(tiny_data, out)))
    assert nn.train(**_keywords(_args(tiny_data, out)), force=True).ok


def test_train_function_returns_a_stopped_run_with_its_status(tiny_data, tmp_path, capsys):
    options = _keywords(_args(tiny_data, tmp_path / "run", "--optimizer", "sgd", "--lr", "1e6", "--hidden", "256",
                              "128", "--epochs", "20"))
    result = nn.train(**options)
    assert result.exit_code == train.EXIT_NONFINITE and not result.ok
    assert result.status.startswith("stopped at epoch") and result.status == _config(result.out)["status"]
    assert len(result.history["train_loss"]) == _config(result.out)["epochs_completed"] < 20
    assert "nn.train: stopped at epoch" in capsys.readouterr().err


def test_train_function_live_outside_jupyter_prints_step_lines_beside_the_epoch_lines(tiny_data, tmp_path, capsys):
    result = nn.train(**_keywords(_args(tiny_data, tmp_path / "run")), live=True)
    out = capsys.readouterr().out.splitlines()
    assert result.view is not None and not result.view.notebook and result.view.steps == 14
    steps = [line for line in out if line.startswith("step")]
    assert steps[0].startswith("step      1  loss") and steps[-1].startswith("step     14  loss")
    assert len(steps) <= 3 and len([line for line in out if line.startswith("epoch")]) == 2  # no epoch line twice
