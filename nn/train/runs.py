"""The run directory of ``python -m nn.train``: choosing, locking and checking ``--out``, the checkpoint, loading it.

A run directory::

    model.npz    -> checkpoints/latest/model.npz     symbolic links: what you open (``nn.load``, ``json.load``)
    config.json  -> checkpoints/latest/config.json
    training.png                                     loss, accuracy and gradient flow, rewritten atomically
    checkpoints/latest -> epoch-3                    the newest finished epoch: replaced in one atomic step
    checkpoints/epoch-3/model.npz, config.json       that epoch's weights and config (older epochs are deleted)
    .lock                                            only while a run writes here

Why a directory per epoch: ``model.npz`` (the state dict) and ``config.json`` (everything needed to rebuild the
model and repeat the run, the per-epoch history, how the run ended, the SHA-256 of ``model.npz``) must always be
from the same epoch, and two files cannot be replaced in one atomic step; one symbolic link can (``os.replace`` of
a new link over ``latest``). Each epoch writes a complete ``epoch-N/`` and only then points ``latest`` at it, so a
kill at any moment leaves ``latest`` on a complete pair. The links at the top stay the same; only ``latest`` moves.
A change of status without new weights (finished, interrupted, crashed) rewrites the newest ``config.json``
atomically in place. Before the first epoch ends there is ``epoch-0/`` with ``config.json`` only, and no
``model.npz``.

The lock: a run holds an exclusive ``flock`` on ``.lock`` from before it loads any data until it ends; the kernel
releases it when the process dies, however it dies. A second run into the same ``--out`` is refused at once, and
the check that ``--out`` holds no run is repeated under the lock, so two runs started together cannot both pass.
``.lock`` also sets aside ``RESERVE_BYTES`` of disk, given back when the disk fills so that ``config.json`` can
still say ``crashed: no space left``; it is deleted when the run ends (a killed run leaves it, unlocked).

``load_checkpoint(directory)`` checks ``config.json`` (types and sizes, before building anything) against the shapes
``model.npz`` declares, and the weights against their recorded SHA-256; it reads runs written before this layout
(plain ``model.npz`` and ``config.json``) too.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..layers import Sequential
from ..serialization import _fsync_directory, atomic_write, declared_arrays, load, save
from .models import build_cnn, build_model, build_resnet

MODEL_FILE, CONFIG_FILE, PLOT_FILE = "model.npz", "config.json", "training.png"
RUN_FILES = (MODEL_FILE, CONFIG_FILE, PLOT_FILE)
CHECKPOINTS, LATEST, LOCK_FILE = "checkpoints", "latest", ".lock"
NO_SPACE_STATUS = "crashed: no space left"
RESERVE_BYTES = 1 << 20  # config.json of a 10,000-epoch run is ~0.5 MB
MAX_CONFIG_BYTES = 16 << 20  # a config.json larger than this was not written by nn.train
MAX_RESNET_BLOCKS = 5  # each block after the first halves 28 × 28: 28 → 14 → 7 → 3 → 1
MAX_CNN_BLOCKS = 4  # 28 → 14 → 7 → 3 → 1


class RunDirError(Exception):
    """``--out`` cannot be used (it holds a run, another run is writing it, or it cannot be written)."""


# -- choosing and claiming --out --------------------------------------------------------------------


def holds_run(directory: Path) -> bool:
    """True if ``directory`` has any of the files a run writes (model.npz, config.json, training.png, checkpoints)."""
    return any(os.path.lexists(directory / name) for name in (*RUN_FILES, CHECKPOINTS))


def _found(directory: Path) -> str:
    found = [name for name in RUN_FILES if os.path.lexists(directory / name)]
    return ", ".join(found or [CHECKPOINTS])


def choose_out(out: Path | None, dataset: str, force: bool, taken: Collection[Path] = ()) -> tuple[Path, str]:
    """The run directory and a note for the user ("" if none).

    An explicit ``out`` holding a run is refused unless ``force``. The default, ``runs/<dataset>``,
    becomes ``runs/<dataset>-2``, ``-3``, ... when it holds a run (or is in ``taken``: in use by another
    run), so ``make train`` can be repeated, even twice at once, and keeps every earlier run.
    """
    if out is not None:
        if out.is_dir() and holds_run(out) and not force:
            raise RunDirError(f"nn.train: --out {out} already holds a run ({_found(out)}); pass --force to replace it, "
                              "or choose another --out")
        return out, (f"replacing the run in {out} (--force)" if out.is_dir() and holds_run(out) else "")
    base = Path("runs") / dataset
    if force:
        return base, (f"replacing the run in {base} (--force)" if base.is_dir() and holds_run(base) else "")
    out, n = base, 1
    while out in taken or (out.exists() and (not out.is_dir() or holds_run(out))):
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    why = "is in use by another run" if base in taken and not holds_run(base) else "holds an earlier run"
    return out, (f"{base} {why}; writing this one to {out}" if n > 1 else "")


class RunLock:
    """An exclusive ``flock`` on ``<out>/.lock``, held while a run writes ``out`` (see the module docstring)."""

    def __init__(self, path: Path, fd: int):
        self.path, self.fd = path, fd

    def release(self) -> None:
        """Delete ``.lock`` and unlock (in that order: see ``lock_run_dir``). Safe to call twice."""
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None


def lock_run_dir(out: Path) -> RunLock:
    """Lock ``out`` for this process, or raise RunDirError at once naming the run that holds it."""
    path = out / LOCK_FILE
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise RunDirError(f"nn.train: cannot write to --out {out}: {err.strerror}; choose a directory you can "
                              "write to") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).split(b"\n")[0].decode("ascii", "replace") or "starting"
            os.close(fd)
            raise RunDirError(f"nn.train: --out {out} is in use by another run ({holder}); wait for it to end, "
                              "or choose another --out") from None
        # The run before us deletes .lock before unlocking it. If that happened between our open and our flock, we
        # hold a file no one else will open, while a third run may lock a new .lock: lock the file at the path now.
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    lock = RunLock(path, fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}\n".encode())
        os.posix_fallocate(fd, 0, RESERVE_BYTES)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            lock.release()
            raise RunDirError(f"nn.train: no space left on the device for --out {out}; free some space, or choose "
                              "another --out") from err
        # A filesystem that cannot preallocate (EOPNOTSUPP): run without the reserve.
    return lock


def free_reserve(out: Path) -> None:
    """Give the space set aside in ``.lock`` back to the disk (it filled up): the final config.json needs it."""
    with contextlib.suppress(OSError), open(out / LOCK_FILE, "r+b") as f:
        f.truncate(len(f.readline(64)))


def is_out_of_space(err: BaseException) -> bool:
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)


def make_dirs(out: Path) -> list[Path]:
    """Create ``out`` (and missing parents) and check a file can be written there, before any real work.

    Returns the directories created, deepest first, so a run that ends before writing anything can
    remove them again (``remove_dirs``).
    """
    created = []
    probe = out
    while not probe.exists() and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):  # the only sure test of writability is writing
            pass
    except OSError as err:
        remove_dirs(created)
        reason = "it is a file, not a directory" if out.is_file() else err.strerror or str(err)
        raise RunDirError(f"nn.train: cannot write to --out {out}: {reason}; choose a directory you can write to"
                          ) from err
    return created


def remove_dirs(created: Sequence[Path]) -> None:
    """Remove the directories ``make_dirs`` created, deepest first, where still empty."""
    for directory in created:
        try:
            directory.rmdir()
        except OSError:
            return


def claim_out(out: Path | None, dataset: str, force: bool) -> tuple[Path, str, list[Path], RunLock]:
    """``make_dirs``, ``lock_run_dir`` and ``choose_out`` in one: the run directory, the note for the user, the
    directories created and the lock. The directory is locked before it is checked for a run, so two runs started
    together cannot both find it empty; the default ``runs/<dataset>`` moves on to the next free number when
    another run holds it."""
    taken: set[Path] = set()
    while True:
        chosen, note = (out, "") if out is not None else choose_out(None, dataset, force, taken)
        created = make_dirs(chosen)
        try:
            lock = lock_run_dir(chosen)
        except RunDirError:
            remove_dirs(created)
            if out is not None or force:
                raise
            taken.add(chosen)
            continue
        if out is None and not force and holds_run(chosen):  # a run finished there before we locked it
            release(lock, created)
            taken.add(chosen)
            continue
        if out is not None:
            try:
                note = choose_out(out, dataset, force)[1]  # refuses a run already there, unless --force
            except RunDirError:
                release(lock, created)
                raise
        return chosen, note, created, lock


def release(lock: RunLock | None, created: Sequence[Path]) -> None:
    """A run that ends before writing anything: unlock and remove what ``claim_out`` created."""
    if lock is not None:
        lock.release()
    remove_dirs(created)


def clear_run(out: Path) -> None:
    """Delete the run in ``out`` (``--force``): a stop in epoch 1 must not leave the old run's model beside the new
    config. The commit link ``checkpoints/latest`` goes first, in one step: from then on the old run reads as
    "nothing written" (its model.npz and config.json links dangle), never as a config without its model."""
    (out / CHECKPOINTS / LATEST).unlink(missing_ok=True)
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)


# -- writing the checkpoint -------------------------------------------------------------------------


def write_json(obj: object, path: Path) -> None:
    """``obj`` as indented JSON at ``path``, atomically."""
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _point(link: Path, target: str) -> None:
    """Make ``link`` a symbolic link to ``target`` in one atomic step (a new link renamed over the old one)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_directory(str(link.parent))


def write_config(out: Path, config: dict[str, Any]) -> None:
    """Write ``config`` as the newest checkpoint's ``config.json`` (a new status; the weights are unchanged).

    The first call of a run creates ``checkpoints/epoch-0/`` and the links. When the checkpoint has weights,
    their SHA-256 is recorded as ``model_sha256``.
    """
    checkpoints = out / CHECKPOINTS
    latest = checkpoints / LATEST
    if not os.path.lexists(latest):
        first = checkpoints / "epoch-0"
        first.mkdir(parents=True, exist_ok=True)
        write_json(config, first / CONFIG_FILE)
        _point(out / CONFIG_FILE, f"{CHECKPOINTS}/{LATEST}/{CONFIG_FILE}")  # dangling until the next line
        _point(latest, first.name)
        return
    current = checkpoints / os.readlink(latest)
    if (current / MODEL_FILE).exists():
        config = {**config, "model_sha256": _sha256(current / MODEL_FILE)}
    write_json(config, current / CONFIG_FILE)


def commit_epoch(out: Path, epoch: int, state: dict[str, np.ndarray], config: dict[str, Any]) -> None:
    """Write epoch ``epoch``'s weights and ``config`` to ``checkpoints/epoch-<epoch>/``, then point ``latest`` at it.

    Until the last step nothing a reader opens has changed; if any step fails (a full disk), the new directory
    is removed and ``latest`` still names the previous epoch, whole.
    """
    checkpoints = out / CHECKPOINTS
    name = f"epoch-{epoch}"
    directory = checkpoints / name
    try:
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir()
        save(state, directory / MODEL_FILE)
        write_json({**config, "model_sha256": _sha256(directory / MODEL_FILE)}, directory / CONFIG_FILE)
        if not os.path.lexists(out / MODEL_FILE):  # the first epoch: until now there were no weights to point at
            _point(out / MODEL_FILE, f"{CHECKPOINTS}/{LATEST}/{MODEL_FILE}")
        _point(checkpoints / LATEST, name)  # the commit
    except BaseException:
        try:
            committed = os.readlink(checkpoints / LATEST) == name  # the rename happened: keep what it names
        except OSError:
            committed = False
        if not committed:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    for old in checkpoints.glob("epoch-*"):  # no reader needs the older epochs now
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)


# -- loading a run back ------------------------------------------------------------------------------


def _checkpoint_dir(directory: Path) -> Path:
    """Where a run's current config.json and model.npz are: ``checkpoints/epoch-N``, or (a run written before
    checkpoints/ existed) the directory itself."""
    latest = directory / CHECKPOINTS / LATEST
    try:
        target = os.readlink(latest)
    except FileNotFoundError:
        return directory
    except OSError as err:
        raise ValueError(f"{latest} must be the link nn.train writes ({err.strerror})") from None
    if not re.fullmatch(r"epoch-\d+", target):
        raise ValueError(f"{latest} points to {target!r}; nn.train points it to an epoch-N directory beside it")
    return directory / CHECKPOINTS / target


def _read_config(path: Path, directory: Path) -> dict:
    """``config.json``, read with a size cap; its top level must be a JSON object."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_CONFIG_BYTES:
                raise ValueError(f"{path} is {size:,} bytes, more than a config.json written by nn.train can be "
                                 f"({MAX_CONFIG_BYTES:,})")
            text = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise FileNotFoundError(f"no {CONFIG_FILE} in {directory}: not a run directory written by nn.train") from None
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as err:  # RecursionError: nesting deeper than the parser's stack
        raise ValueError(f"{path} is not valid JSON: {str(err)[:200]}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object, not a {type(config).__name__}")
    return config


def _positive_ints(config: dict, key: str, path: Path, max_len: int | None = None) -> list[int]:
    value = config.get(key)
    if (not isinstance(value, list) or any(type(v) is not int or v < 1 for v in value)
            or (max_len is not None and len(value) > max_len)):
        shown = json.dumps(value)[:80]
        limit = f" (at most {max_len})" if max_len is not None else ""
        raise ValueError(f"{path}: \"{key}\" must be a list{limit} of positive integers, got {shown}")
    return value


def _positive_int(config: dict, key: str, path: Path) -> int:
    value = config.get(key)
    if type(value) is not int or value < 1:
        raise ValueError(f"{path}: \"{key}\" must be a positive integer, got {json.dumps(value)[:80]}")
    return value


def _model_spec(config: dict, path: Path) -> dict[str, Any]:
    """The fields that build the model, type-checked; ``parameters``: how many numbers that model holds."""
    kind = config.get("model", "mlp")  # runs written before --model existed are MLPs
    if kind not in ("mlp", "cnn", "resnet"):
        raise ValueError(f"{path}: \"model\" must be \"mlp\", \"cnn\" or \"resnet\", got {json.dumps(kind)[:80]}")
    hidden = _positive_ints(config, "hidden", path)
    num_classes = _positive_int(config, "num_classes", path)
    spec: dict[str, Any] = {"model": kind, "hidden": hidden, "num_classes": num_classes}
    if kind == "resnet":
        channels = spec["channels"] = _positive_ints(config, "channels", path, max_len=MAX_RESNET_BLOCKS)
        spec["parameters"] = _resnet_numbers(channels, num_classes)
        return spec
    if kind == "cnn":
        channels = spec["channels"] = _positive_ints(config, "channels", path, max_len=MAX_CNN_BLOCKS)
        count, c_prev, side = 0, 1, 28
        for c in channels:  # Conv2d(c_prev, c, 3): c·c_prev·9 weights and c biases; max-pooling halves the side
            count += c * c_prev * 9 + c
            c_prev, side = c, side // 2
        sizes = [c_prev * side * side, *hidden, num_classes]
    else:
        spec["in_features"] = _positive_int(config, "in_features", path)
        count, sizes = 0, [spec["in_features"], *hidden, num_classes]
    spec["parameters"] = count + sum(a * b + b for a, b in itertools.pairwise(sizes))
    return spec


def _resnet_numbers(channels: list[int], num_classes: int) -> int:
    """How many numbers ``build_resnet(channels)``'s state_dict holds: weights, and each BatchNorm2d's weight, bias,
    running mean and variance (4c) and its step count (1)."""
    def norm(c: int) -> int:
        return 4 * c + 1

    count = 9 * channels[0] + norm(channels[0])  # the stem: conv 3×3 from 1 channel, no bias
    c_prev = channels[0]
    for i, c in enumerate(channels):
        count += 9 * c_prev * c + norm(c) + 9 * c * c + norm(c)  # two 3×3 convs, no bias, each with a norm
        if i > 0 or c_prev != c:
            count += c_prev * c + norm(c)  # the 1×1 shortcut conv and its norm
        c_prev = c
    return count + c_prev * num_classes + num_classes


def _load_from(directory: Path, where: Path) -> tuple[Sequential, dict]:
    config_path, model_path = where / CONFIG_FILE, where / MODEL_FILE
    config = _read_config(config_path, directory)
    if not model_path.exists():
        raise FileNotFoundError(f"no {MODEL_FILE} in {directory}: the run ended before its first epoch finished "
                                f"({CONFIG_FILE} says: {str(config.get('status', 'unknown'))[:200]})")
    spec = _model_spec(config, config_path)
    # Compare sizes before building: a config.json saying "hidden": [30000, 30000] must not allocate 6.7 GiB
    # beside a model.npz of 50 kB.
    declared = declared_arrays(model_path)
    held = sum(int(np.prod(shape)) for shape, _ in declared.values())
    if held != spec["parameters"]:
        raise ValueError(f"{config_path} describes a model of {spec['parameters']:,} parameters, but {model_path} "
                         f"holds {held:,} numbers: the two files are not from the same run")
    recorded = config.get("model_sha256")
    if recorded is not None and recorded != (actual := _sha256(model_path)):
        raise ValueError(f"{model_path}: SHA-256 is {actual}, but {CONFIG_FILE} records {recorded}: the weights "
                         "were changed or damaged after they were written")
    rng = np.random.default_rng(0)
    if spec["model"] == "cnn":
        model = build_cnn(spec["channels"], spec["hidden"], rng, spec["num_classes"])
    elif spec["model"] == "resnet":
        model = build_resnet(spec["channels"], rng, spec["num_classes"])
    else:
        model = build_model(spec["hidden"], rng, spec["in_features"], spec["num_classes"])
    model.load_state_dict(load(model_path))
    return model, config


def load_checkpoint(directory: str | os.PathLike) -> tuple[Sequential, dict]:
    """Rebuild the model a run wrote to ``directory`` (from ``config.json``) and load ``model.npz`` into it.

    Reads the newest finished epoch (``checkpoints/latest``), or the plain files of a run written before that
    layout. ``config.json`` is checked before anything is built (types; a model of exactly as many parameters as
    ``model.npz`` declares), and ``model.npz`` against its recorded SHA-256. Raises FileNotFoundError (no run, or
    no finished epoch) and ValueError naming the file and the problem.
    """
    directory = Path(directory)
    for attempt in range(5):
        where = _checkpoint_dir(directory)
        try:
            return _load_from(directory, where)
        except FileNotFoundError:
            # A run still writing here may have finished an epoch and be deleting this one while we read it.
            if where == directory or _checkpoint_dir(directory) == where or attempt == 4:
                raise
    raise AssertionError("unreachable")
