"""nn.train.runs, the run directory of python -m nn.train: what --out may be, and how a refusal reads.

End-to-end behaviour (checkpoints per epoch, --force, numbered default directories) is in tests/test_train.py;
kills, concurrent runs and a full disk are in tests/test_faults.py.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

import nn
from nn.train import runs
from nn.train.models import build_model


def test_an_out_that_is_a_file_is_refused_as_a_file(tmp_path):
    out = tmp_path / "notes.txt"
    out.write_text("not a run")
    with pytest.raises(runs.RunDirError) as info:
        runs.make_dirs(out)
    assert str(info.value) == (f"nn.train: cannot write to --out {out}: it is a file, not a directory; "
                               "choose a directory you can write to")
    assert out.read_text() == "not a run"


def test_make_dirs_returns_what_it_created_and_remove_dirs_takes_it_back(tmp_path):
    out = tmp_path / "a" / "b"
    created = runs.make_dirs(out)
    assert created == [out, tmp_path / "a"] and out.is_dir()
    runs.remove_dirs(created)
    assert list(tmp_path.iterdir()) == []


def test_an_explicit_out_holding_a_run_is_refused_without_force(tmp_path):
    (tmp_path / runs.CONFIG_FILE).write_text("{}")
    with pytest.raises(runs.RunDirError, match=r"already holds a run \(config\.json\); pass --force"):
        runs.choose_out(tmp_path, "mnist", force=False)
    assert runs.choose_out(tmp_path, "mnist", force=True) == (tmp_path, f"replacing the run in {tmp_path} (--force)")


# -- the lock: one run per directory ----------------------------------------------------------------


def test_a_second_lock_on_a_run_directory_is_refused_at_once_naming_the_holder(tmp_path):
    first = runs.lock_run_dir(tmp_path)
    with pytest.raises(runs.RunDirError) as info:
        runs.lock_run_dir(tmp_path)  # another open file description: flock refuses it, even in this process
    assert str(info.value) == (f"nn.train: --out {tmp_path} is in use by another run (pid {os.getpid()}); wait for "
                               "it to end, or choose another --out")
    assert (tmp_path / ".lock").stat().st_size == runs.RESERVE_BYTES  # space set aside for the final config.json
    runs.free_reserve(tmp_path)
    assert (tmp_path / ".lock").read_text() == f"pid {os.getpid()}\n"
    first.release()
    assert not (tmp_path / ".lock").exists()
    runs.lock_run_dir(tmp_path).release()
    first.release()  # twice is harmless


def test_claim_out_refuses_an_explicit_out_in_use_and_moves_the_default_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, note, created, lock = runs.claim_out(None, "mnist", force=False)
    assert out == Path("runs/mnist") and note == "" and created == [Path("runs/mnist"), Path("runs")]
    with pytest.raises(runs.RunDirError, match="is in use by another run"):
        runs.claim_out(out, "mnist", force=False)
    with pytest.raises(runs.RunDirError, match="is in use by another run"):
        runs.claim_out(out, "mnist", force=True)  # --force replaces a finished run, never a running one
    second, note, _, second_lock = runs.claim_out(None, "mnist", force=False)
    assert second == Path("runs/mnist-2")
    assert note == "runs/mnist is in use by another run; writing this one to runs/mnist-2"
    lock.release()
    second_lock.release()


def test_claim_out_checks_for_a_run_under_the_lock_and_leaves_a_refused_directory_as_it_was(tmp_path):
    (tmp_path / runs.CONFIG_FILE).write_text("{}")
    with pytest.raises(runs.RunDirError, match=r"already holds a run \(config\.json\); pass --force"):
        runs.claim_out(tmp_path, "mnist", force=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no .lock left behind


# -- the checkpoint: model.npz and config.json switch together ------------------------------------------


def _state(value: float) -> dict[str, np.ndarray]:
    model = build_model([3], np.random.default_rng(0), in_features=4, num_classes=2)
    return {k: np.full_like(v, value) for k, v in model.state_dict().items()}


def _config(epochs: int) -> dict:
    return {"model": "mlp", "hidden": [3], "in_features": 4, "num_classes": 2, "status": "running",
            "epochs_completed": epochs, "history": {"train_loss": [1.0] * epochs, "test_accuracy": [0.5] * epochs}}


def test_write_config_then_commits_build_the_layout_and_delete_older_epochs(tmp_path):
    runs.write_config(tmp_path, _config(0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoints", "config.json"]
    assert json.loads((tmp_path / "config.json").read_text())["epochs_completed"] == 0
    with pytest.raises(FileNotFoundError, match="before its first epoch finished"):
        runs.load_checkpoint(tmp_path)
    for epoch in (1, 2):
        runs.commit_epoch(tmp_path, epoch, _state(epoch), _config(epoch))
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch-2", "latest"]
    assert os.readlink(tmp_path / "model.npz") == "checkpoints/latest/model.npz"
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["epochs_completed"] == 2
    assert config["model_sha256"] == hashlib.sha256((tmp_path / "model.npz").read_bytes()).hexdigest()
    runs.write_config(tmp_path, {**_config(2), "status": "finished"})  # a new status keeps the digest
    assert json.loads((tmp_path / "config.json").read_text())["model_sha256"] == config["model_sha256"]
    model, loaded = runs.load_checkpoint(tmp_path)
    assert loaded["status"] == "finished" and model.state_dict()["0.weight"][0, 0] == 2.0


def test_clearing_a_run_killed_at_any_step_never_leaves_a_config_without_its_model(tmp_path, monkeypatch):
    # --force clears the old run; a kill between its steps must leave either the old run whole or nothing a
    # reader could take for a run: never config.json readable beside a missing model.npz.
    real_unlink = Path.unlink
    for stop_after in range(4):  # before each of its four unlinks (the rmtree after them removes what is left)
        out = tmp_path / f"run{stop_after}"
        out.mkdir()
        runs.write_config(out, _config(0))
        runs.commit_epoch(out, 1, _state(1), _config(1))
        steps = []

        def unlink(self, missing_ok=False, limit=stop_after, steps=steps):
            if len(steps) == limit:
                raise KeyboardInterrupt  # the kill, before this step
            steps.append(self.name)
            return real_unlink(self, missing_ok=missing_ok)

        monkeypatch.setattr(Path, "unlink", unlink)
        with pytest.raises(KeyboardInterrupt):
            runs.clear_run(out)
        monkeypatch.setattr(Path, "unlink", real_unlink)
        if (out / "config.json").exists():  # the old run is still what readers see: whole
            assert (out / "model.npz").exists() and runs.load_checkpoint(out)[1]["epochs_completed"] == 1
        else:
            assert not (out / "model.npz").exists()
            with pytest.raises(FileNotFoundError, match=r"no config\.json"):
                runs.load_checkpoint(out)


def test_a_commit_that_fails_midway_leaves_the_previous_epoch_whole(tmp_path, monkeypatch):
    runs.write_config(tmp_path, _config(0))
    runs.commit_epoch(tmp_path, 1, _state(1), _config(1))

    def disk_full(obj, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runs, "write_json", disk_full)  # the weights were written; their config.json cannot be
    with pytest.raises(OSError, match="No space left"):
        runs.commit_epoch(tmp_path, 2, _state(2), _config(2))
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch-1", "latest"]
    model, config = runs.load_checkpoint(tmp_path)
    assert config["epochs_completed"] == 1 and model.state_dict()["0.bias"].tolist() == [1.0, 1.0, 1.0]


# -- load_checkpoint: check config.json before building anything -------------------------------------


@pytest.fixture
def run_dir(tmp_path):
    runs.write_config(tmp_path, _config(0))
    runs.commit_epoch(tmp_path, 1, _state(0.5), _config(1))
    return tmp_path


def _rewrite_config(run_dir: Path, text: str) -> None:
    (run_dir / "checkpoints" / "epoch-1" / "config.json").write_text(text)


@pytest.mark.parametrize("change, message", [
    ({"hidden": "3"}, r'"hidden" must be a list of positive integers, got "3"'),
    ({"hidden": [3.0]}, r'"hidden" must be a list of positive integers, got \[3.0\]'),
    ({"hidden": [True]}, r'"hidden" must be a list of positive integers, got \[true\]'),
    ({"hidden": [-3]}, r'"hidden" must be a list of positive integers'),
    ({"num_classes": None}, r'"num_classes" must be a positive integer, got null'),
    ({"in_features": {"a": 1}}, r'"in_features" must be a positive integer'),
    ({"model": "transformer"}, r'"model" must be "mlp", "cnn" or "resnet", got "transformer"'),
    ({"model": "cnn", "channels": [8, 8, 8, 8, 8]}, r'"channels" must be a list \(at most 4\) of positive integers'),
    # 4·30000 + 30000 + 30000·30000 + 30000 + 30000·2 + 2 = 900,240,002 parameters, against 4·3 + 3 + 3·2 + 2 = 23
    ({"hidden": [30000, 30000]}, r"describes a model of 900,240,002 parameters, but .*model\.npz holds 23 numbers"),
])
def test_load_checkpoint_refuses_a_bad_config_before_building_the_model(run_dir, monkeypatch, change, message):
    def never(*args, **kwargs):
        raise AssertionError("the model was built from a config that does not match model.npz")

    monkeypatch.setattr(runs, "build_model", never)
    monkeypatch.setattr(runs, "build_cnn", never)
    _rewrite_config(run_dir, json.dumps({**_config(1), **change}))
    with pytest.raises(ValueError, match=message) as info:
        runs.load_checkpoint(run_dir)
    assert "config.json" in str(info.value)


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "must hold a JSON object, not a list"),
    ("{" * 100_000, "is not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "is not valid JSON"),  # nested deeper than the parser's stack
    ("{\"hidden\": [3]", "is not valid JSON"),
])
def test_load_checkpoint_refuses_config_files_that_are_not_a_config(run_dir, text, message):
    _rewrite_config(run_dir, text)
    with pytest.raises(ValueError, match=message):
        runs.load_checkpoint(run_dir)


def test_load_checkpoint_refuses_an_oversized_config_and_a_link_out_of_the_run(run_dir, monkeypatch):
    monkeypatch.setattr(runs, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ValueError, match=r"config\.json is \d+ bytes, more than a config\.json written by nn\.train"):
        runs.load_checkpoint(run_dir)
    monkeypatch.undo()
    latest = run_dir / "checkpoints" / "latest"
    latest.unlink()
    latest.symlink_to("../../elsewhere")
    want = "points to '../../elsewhere'; nn.train points it to an epoch-N directory"
    with pytest.raises(ValueError, match=re.escape(want)):
        runs.load_checkpoint(run_dir)


def test_load_checkpoint_refuses_weights_that_changed_after_they_were_written(run_dir):
    nn.save(_state(0.25), run_dir / "checkpoints" / "epoch-1" / "model.npz")  # same shapes, other numbers
    with pytest.raises(ValueError, match=r"model\.npz: SHA-256 is [0-9a-f]{64}, but config\.json records [0-9a-f]{64}"):
        runs.load_checkpoint(run_dir)


def test_load_checkpoint_reads_a_run_written_before_checkpoints_existed(tmp_path):
    nn.save(_state(0.75), tmp_path / "model.npz")
    (tmp_path / "config.json").write_text(json.dumps({k: v for k, v in _config(1).items() if k != "model"}))
    model, config = runs.load_checkpoint(tmp_path)  # no "model" key: an MLP, as runs before --model were
    assert config["epochs_completed"] == 1 and model.state_dict()["2.bias"].tolist() == [0.75, 0.75]
