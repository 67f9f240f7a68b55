"""Fault injection: damaged caches, compression bombs, two runs into one --out, kill -9 at random moments, a full disk.

Each test states what must hold whatever goes wrong: a damaged dataset file is refused (never used), a small file
never makes a reader allocate much more than it declares, one run per directory, and after any crash a run
directory a reader can load whose config.json tells the truth about model.npz. The datasets here are tiny IDX files
written by this file's own writer; runs are subprocesses of ``python -m nn.train`` on them.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import data
from nn.train import command, runs

ROOT = Path(__file__).resolve().parents[1]
STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


def _idx(array: np.ndarray) -> bytes:
    """IDX: magic 0x0000 08 <ndim>, big-endian uint32 dims, then the uint8 values."""
    return bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + array.astype(np.uint8).tobytes()


def _write_dataset(directory: Path, n_train: int = 48, n_test: int = 16, seed: int = 0) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = (rng.integers(0, 256, (n_train, 28, 28)), rng.integers(0, 10, n_train),
              rng.integers(0, 256, (n_test, 28, 28)), rng.integers(0, 10, n_test))
    for stem, array in zip(STEMS, arrays):
        (directory / stem).write_bytes(_idx(array))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny")
    _write_dataset(directory)
    return directory


def _env() -> dict[str, str]:
    # One BLAS thread per child: two children share this 2-core machine with the test process.
    return dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")


def _run_args(data_dir: Path, out: Path | None, *extra: str) -> list[str]:
    """``python -m nn.train`` on ``data_dir``: epochs of 32 examples, a 784-8-10 MLP (``out`` None: the default)."""
    return [sys.executable, "-m", "nn.train", "--data-dir", str(data_dir), "--no-verify", "--no-download",
            *(["--out", str(out)] if out is not None else []), "--hidden", "8", "--batch-size", "16", "--limit", "32",
            "--threads", "1", *extra]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_consistent(out: Path) -> int:
    """The run in ``out`` can be read and tells the truth: returns its finished epochs (-1: nothing written yet).

    config.json and model.npz are the pair ``checkpoints/latest`` names: the history has one entry per finished
    epoch, model.npz's SHA-256 is the one config.json records, and load_checkpoint gives back those weights.
    """
    latest = out / "checkpoints" / "latest"
    if not os.path.lexists(latest):  # killed before the first config.json was committed, or while clearing
        assert not (out / "model.npz").exists()  # at most a dangling link: a reader finds no weights
        with pytest.raises(FileNotFoundError, match=r"no config\.json"):
            runs.load_checkpoint(out)
        return -1
    config = json.loads((out / "config.json").read_text())  # through the links, as any reader opens it
    done = config["epochs_completed"]
    assert os.readlink(latest) == f"epoch-{done}"
    assert len(config["history"]["train_loss"]) == len(config["history"]["test_accuracy"]) == done
    if done == 0:
        assert not (out / "model.npz").exists()
        with pytest.raises(FileNotFoundError, match="before its first epoch finished"):
            runs.load_checkpoint(out)
        return 0
    assert _sha256(out / "model.npz") == config["model_sha256"]
    model, loaded = runs.load_checkpoint(out)
    assert loaded == config
    state = nn.load(out / "model.npz")
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
    return done


# -- damaged caches: refused, never used --------------------------------------------------------------


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A user cache of tiny MNIST files that the digest table knows (as it knows the released files)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(data, "_VERIFIED", {})
    directory = data.cache_dir("mnist")
    _write_dataset(directory, n_train=20, n_test=10)
    monkeypatch.setitem(data.SHA256, "mnist", {p.name: (_sha256(p),) for p in directory.iterdir()})
    return directory


def test_every_damaged_cache_file_is_refused_naming_it_and_both_digests(cache):
    rng = np.random.default_rng(20)
    data.load_mnist(download=False)  # verified, and remembered: what follows must not ride on that memory
    tried = refused = 0
    for trial in range(48):
        path = cache / STEMS[trial % 4]
        good = path.read_bytes()
        bad = bytearray(good)
        if trial % 3 == 0:  # one bit of one byte
            bad[int(rng.integers(len(bad)))] ^= 1 << int(rng.integers(8))
        elif trial % 3 == 1:  # every value moved by one place (the first to the end): still a valid IDX file
            header = 8 if "labels" in path.name else 16
            bad = bytearray(good[:header] + good[header + 1:] + good[header:header + 1])
        else:  # cut short
            bad = bad[: int(rng.integers(len(bad)))]
        if bytes(bad) == good:
            continue
        tried += 1
        path.write_bytes(bytes(bad))
        with pytest.raises(data.ChecksumError) as err:
            data.load_mnist(download=False)
        assert str(path) in str(err.value) and _sha256(path) in str(err.value)
        assert hashlib.sha256(good).hexdigest() in str(err.value)
        refused += 1
        path.write_bytes(good)
    data.load_mnist(download=False)  # restored: accepted again
    print(f"\ncache corruptions tried {tried}, refused {refused}")
    assert refused == tried >= 45


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason=f"{DEBIAN_DIR} absent (apt-get install dataset-fashion-mnist)")
def test_the_issue_s_shifted_fashion_mnist_labels_in_the_cache_are_refused(tmp_path, monkeypatch):
    # Issue 20: test labels shifted by one (a valid IDX file) in the user cache loaded silently, 100% wrong.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(data, "_VERIFIED", {})
    monkeypatch.setitem(data.SYSTEM_DIRS, "fashion-mnist", ())  # only the cache
    directory = data.cache_dir("fashion-mnist")
    shutil.copytree(DEBIAN_DIR, directory)
    labels = directory / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    labels.write_bytes(gzip.compress(raw[:8] + raw[9:] + raw[8:9]))
    with pytest.raises(data.ChecksumError, match=r"t10k-labels-idx1-ubyte\.gz: SHA-256 is"):
        data.load_fashion_mnist(download=False)


# -- compression bombs: small files, bounded memory ----------------------------------------------------------

_ZEROS = 16 << 20


def _deflate_of_zeros(prefix: bytes, n_chunks: int) -> bytes:
    """Raw deflate of ``prefix`` + n_chunks × 16 MiB of zeros, built from one compressed chunk repeated (a full
    flush resets the compressor, so each chunk compresses to the same bytes): ~16 kB per 16 MiB, made in ms."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    chunk = c.compress(bytes(_ZEROS)) + c.flush(zlib.Z_FULL_FLUSH)
    return head + chunk * n_chunks + c.flush()


def _gzip_bomb(path: Path, declared: bytes, n_chunks: int) -> None:
    """An IDX .gz whose header declares ``declared``'s worth of data, followed by n_chunks × 16 MiB of zeros."""
    body = _deflate_of_zeros(declared, n_chunks)
    path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body + struct.pack("<II", 0, 0))


def _zip_bomb(path: Path, npy_header: bytes, declared_size: int, n_chunks: int) -> None:
    """An .npz of one deflated member ``w.npy``: ``npy_header``, then n_chunks × 16 MiB of zeros; the zip records
    ``declared_size`` as its uncompressed size (honest or not)."""
    body = _deflate_of_zeros(npy_header, n_chunks)
    name = b"w.npy"
    fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0, 0, len(body), declared_size)  # version, flags, deflate, crc 0
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name
    central = (b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, 0)
               + name)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    path.write_bytes(local + body + central + end)


_MEASURE = textwrap.dedent("""
    import json, resource, sys
    import nn
    from nn import data
    kind, path = sys.argv[1], sys.argv[2]
    try:
        data.read_idx(path) if kind == "idx" else nn.load(path, max_bytes=None if kind == "npz-uncapped" else 2**30)
        outcome = "loaded"
    except Exception as err:
        outcome = f"{type(err).__name__}: {err}"
    print(json.dumps({"outcome": outcome, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def _measure(kind: str, path: Path) -> dict:
    idle = "import json, resource, nn; print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))"
    baseline = subprocess.run([sys.executable, "-c", idle], capture_output=True, text=True, env=_env(), check=True,
                              timeout=60)
    result = subprocess.run([sys.executable, "-c", _MEASURE, kind, str(path)], capture_output=True, text=True,
                            env=_env(), check=True, timeout=60)
    measured = json.loads(result.stdout)
    measured["extra_mb"] = measured["max_rss_mb"] - json.loads(baseline.stdout)
    return measured


@pytest.mark.parametrize("kind", ["idx gzip: 800 bytes declared, 1 GiB inside",
                                  "npz: 1 GiB declared by a 17 kB file",
                                  "npz: 800 bytes declared, 1 GiB inside"])
def test_a_compression_bomb_is_refused_without_inflating_it(tmp_path, kind):
    path = tmp_path / "bomb"
    if kind.startswith("idx"):
        _gzip_bomb(path, _idx(np.zeros(792, np.uint8)), 64)
        mode, expected = "idx", "trailing bytes"
    else:
        header = io.BytesIO()
        shape = (2**27,) if "1 GiB declared" in kind else (100,)
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
        declared = len(header.getvalue()) + 8 * shape[0]
        _zip_bomb(path, header.getvalue(), declared, 64 if "inside" in kind else 1)
        if "1 GiB declared" in kind:
            mode, expected = "npz", "more than the cap of 1,073,741,824"
        else:  # no cap at all: the zip's own declared size still bounds the read; then its CRC fails
            mode, expected = "npz-uncapped", "corrupt"
    assert path.stat().st_size < 1_100_000
    measured = _measure(mode, path)
    print(f"\n{kind}: {path.stat().st_size:,}-byte file, {measured['extra_mb']:.0f} MB above an idle process: "
          f"{measured['outcome'][:90]}")
    assert measured["outcome"].startswith("ValueError") and expected in measured["outcome"]
    assert measured["extra_mb"] < 100  # inflating it would take 1,024 MB or more


def test_every_truncation_and_many_byte_flips_of_a_checkpoint_are_refused_or_harmless(tmp_path):
    path = tmp_path / "model.npz"
    state = {"0.weight": np.arange(12, dtype=np.float32).reshape(3, 4), "0.bias": np.ones(3, np.float32)}
    nn.save(state, path)
    good = path.read_bytes()
    rng = np.random.default_rng(7)
    refused = harmless = 0
    cuts = range(len(good))
    flips = [(int(rng.integers(len(good))), 1 << int(rng.integers(8))) for _ in range(300)]
    for damage in [("cut", n) for n in cuts] + [("flip", f) for f in flips]:
        bad = bytearray(good)
        if damage[0] == "cut":
            bad = bad[: damage[1]]
        else:
            bad[damage[1][0]] ^= damage[1][1]
        path.write_bytes(bytes(bad))
        try:
            loaded = nn.load(path)
        except ValueError:
            refused += 1
            continue
        # A flip in a field nothing reads (a timestamp, a comment length) may load: then it loads the same weights.
        assert list(loaded) == list(state)
        for name, value in state.items():
            np.testing.assert_array_equal(loaded[name], value)
        harmless += 1
    print(f"\ncheckpoint damage: {len(cuts)} truncations + {len(flips)} bit flips: {refused} refused, "
          f"{harmless} loaded the same weights")
    assert refused >= len(cuts)  # every truncation is refused


# -- one run per directory ------------------------------------------------------------------------------


def test_two_runs_started_together_into_one_out_one_is_refused_at_once(tiny, tmp_path):
    outcomes = []
    for trial in range(6):
        out = tmp_path / f"run-{trial}"
        procs = [subprocess.Popen(_run_args(tiny, out, "--epochs", "40", "--seed", str(seed)), env=_env(),
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for seed in (1, 2)]
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 2], results
        winner = next(i for i, (code, _, _) in enumerate(results) if code == 0)
        refusal = results[1 - winner][2]
        assert refusal.count("\n") == 1 and ("is in use by another run (" in refusal
                                             or "already holds a run" in refusal), refusal
        assert results[1 - winner][1] == ""  # the refused run printed nothing else: it did not start
        assert json.loads((out / "config.json").read_text())["seed"] == winner + 1  # only the winner's files
        assert _assert_consistent(out) == 40
        assert not (out / ".lock").exists()
        outcomes.append("in use" if "in use" in refusal else "holds a run")
    print(f"\nconcurrent runs into one --out: 6 trials, refused as {outcomes}")


def test_two_runs_started_together_without_out_get_two_directories(tiny, tmp_path):
    procs = [subprocess.Popen(_run_args(tiny, None, "--epochs", "20"), env=_env(), cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["fashion-mnist", "fashion-mnist-2"]
    for name in ("fashion-mnist", "fashion-mnist-2"):
        assert _assert_consistent(tmp_path / "runs" / name) == 20


def test_a_reader_during_a_run_always_gets_a_matching_pair(tiny, tmp_path):
    # load_checkpoint resolves checkpoints/latest once and checks model.npz against config.json's SHA-256, so a
    # read racing a checkpoint write (one every ~10 ms here) gets one epoch's pair or, at worst, retries.
    out = tmp_path / "run"
    proc = subprocess.Popen(_run_args(tiny, out, "--epochs", "100000"), env=_env(), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        proc.stdout.readline()  # epoch 1 is written
        epochs, deadline = [], time.monotonic() + 1.5
        while time.monotonic() < deadline:
            _, config = runs.load_checkpoint(out)
            assert len(config["history"]["train_loss"]) == config["epochs_completed"] >= 1
            epochs.append(config["epochs_completed"])
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    print(f"\nreads during a run: {len(epochs)}, epochs {epochs[0]}-{epochs[-1]}, all matching")
    assert len(set(epochs)) > 5 and epochs == sorted(epochs)  # the run moved on under the reader


# -- kill -9 at any moment ---------------------------------------------------------------------------------


def _wait_for_own_epoch(out: Path, seed: int, limit: float = 60.0) -> None:
    """Until the run with ``seed`` has committed its first epoch (its config.json is the current one)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            config = json.loads((out / "config.json").read_text())
            if config.get("seed") == seed and config.get("epochs_completed", 0) >= 1:
                return
        except (OSError, ValueError):
            pass  # between runs, or mid-swap: look again
        time.sleep(0.002)
    raise AssertionError(f"the run with seed {seed} committed no epoch within {limit} s")


def test_kill_9_at_random_moments_always_leaves_a_consistent_loadable_run(tiny, tmp_path):
    # A run takes ~0.3 s to start (imports, lock, data), then epochs of 32 examples take ~10 ms, most of it the
    # checkpoint write. Even runs are killed 0-0.5 s after they start (mostly while starting), odd ones 0-0.3 s
    # after they print their first line (while training: in or near a checkpoint write). Every run goes into the
    # same --out with --force: each must get the lock the killed one held (the kernel released it); its own --seed
    # tells whose files a kill left.
    rng = np.random.default_rng(2024)
    out = tmp_path / "run"
    phases = {"before it wrote (the previous run's files)": 0, "before any checkpoint": 0, "before epoch 1": 0,
              "after 1 or more epochs": 0}
    most = 0
    for seed in range(36):
        proc = subprocess.Popen(_run_args(tiny, out, "--epochs", "100000", "--force", "--seed", str(seed)),
                                env=_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if seed % 2:
            proc.stdout.readline()  # "fashion-mnist: 32 training / 16 test images; ...": training starts
            _wait_for_own_epoch(out, seed)  # then kill while it trains, whatever the machine's load
        time.sleep(float(rng.uniform(0.0, 0.1 if seed % 2 else 0.5)))
        proc.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, stderr  # still running when killed, and never refused
        done = _assert_consistent(out)
        mine = done >= 0 and json.loads((out / "config.json").read_text())["seed"] == seed
        phase = ("after 1 or more epochs" if mine and done > 0 else "before epoch 1" if mine
                 else "before any checkpoint" if done < 0 else "before it wrote (the previous run's files)")
        phases[phase] += 1
        most = max(most, done)
    print(f"\nkill -9: 36 kills, each leaving a consistent run: {phases}; up to {most} epochs")
    assert phases["after 1 or more epochs"] >= 12 and sum(phases.values()) == 36


# -- a full disk ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fails", ["the weights", "the config"])
def test_a_full_disk_stops_with_one_line_and_keeps_the_last_epoch(tiny, tmp_path, capsys, monkeypatch, fails):
    calls = {"n": 0}

    def full_on_the_third(real):
        def write(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(28, "No space left on device")  # errno.ENOSPC
            return real(*args, **kwargs)
        return write

    if fails == "the weights":  # save: one per epoch, so epoch 3's fails
        monkeypatch.setattr(runs, "save", full_on_the_third(runs.save))
    else:  # write_json: the run's first config.json, then one per epoch, so epoch 2's fails
        monkeypatch.setattr(runs, "write_json", full_on_the_third(runs.write_json))
    out = tmp_path / "run"
    assert command.main(_run_args(tiny, out, "--epochs", "5")[3:]) == 1
    err = capsys.readouterr().err
    kept = 1 if fails == "the config" else 2
    assert err.count("\n") == 1 and err.startswith(f"nn.train: no space left on the device for {out} in epoch "
                                                   f"{kept + 1}; it keeps {kept} finished epoch"), err
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "crashed: no space left" and config["epochs_completed"] == kept
    assert _assert_consistent(out) == kept
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [f"epoch-{kept}", "latest"]
    assert not (out / ".lock").exists()


_FILL_THE_DISK = textwrap.dedent("""
    import json, os, shutil, subprocess, sys
    mount, data_dir, copy = sys.argv[1:4]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount], check=True)
    out = os.path.join(mount, "run")
    run = subprocess.Popen([sys.executable, "-m", "nn.train", "--data-dir", data_dir, "--no-verify", "--no-download",
                            "--out", out, "--hidden", "8", "--limit", "32", "--batch-size", "16", "--threads", "1",
                            "--epochs", "100000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(3):
        run.stdout.readline()  # the header, epochs 1 and 2
    with open(os.path.join(mount, "filler"), "wb") as f:  # fill the disk while the run goes on
        try:
            while True:
                f.write(bytes(1 << 16))
                f.flush()
        except OSError:
            pass
    stdout, stderr = run.communicate(timeout=120)
    shutil.copytree(out, copy, symlinks=True)
    print(json.dumps({"code": run.returncode, "stderr": stderr}))
""")


def test_a_really_full_disk_a_tmpfs_ends_with_crashed_no_space_left(tiny, tmp_path):
    # A 4 MB tmpfs in a private mount namespace (root: unshare -m; others: a user namespace, unshare -rm), filled
    # while the run goes on. The namespace ends with the test; the run directory is copied out first.
    unshare = shutil.which("unshare")
    probe = [unshare, "-m", "true"] if os.geteuid() == 0 else [unshare, "-rm", "true"]
    if unshare is None or subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot make a private mount namespace here (unshare); the injected full disk above still runs")
    (tmp_path / "mnt").mkdir()
    result = subprocess.run([*probe[:-1], sys.executable, "-c", _FILL_THE_DISK, str(tmp_path / "mnt"), str(tiny),
                             str(tmp_path / "copy")], capture_output=True, text=True, env=_env(), timeout=180,
                            check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["code"] == 1 and report["stderr"].count("\n") == 1, report
    assert "nn.train: no space left on the device" in report["stderr"]
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    assert config["status"] == "crashed: no space left" and config["epochs_completed"] >= 2
    assert _assert_consistent(tmp_path / "copy") == config["epochs_completed"]
    print(f"\ntmpfs of 4 MB filled during the run: {report['stderr'].strip()}")
