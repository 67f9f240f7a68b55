"""The run directory of ``python -m nn.train``: choosing and checking ``--out``, its files, and loading a run back.

A run directory holds ``model.npz`` (``nn.save`` of the state dict, rewritten after every epoch), ``config.json``
(everything needed to rebuild the model and repeat the run, the per-epoch history and how the run ended) and
``training.png``; every write is atomic. ``load_checkpoint(directory)`` gives back the model and its config.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..layers import Sequential
from .models import build_cnn, build_model, build_resnet
from ..serialization import atomic_write, load

MODEL_FILE, CONFIG_FILE, PLOT_FILE = "model.npz", "config.json", "training.png"
RUN_FILES = (MODEL_FILE, CONFIG_FILE, PLOT_FILE)


class RunDirError(Exception):
    """``--out`` cannot be used (it holds a run, or cannot be written); the message says what to do."""


def holds_run(directory: Path) -> bool:
    """True if ``directory`` has any of the files a run writes (model.npz, config.json, training.png)."""
    return any((directory / name).exists() for name in RUN_FILES)


def choose_out(out: Path | None, dataset: str, force: bool) -> tuple[Path, str]:
    """The run directory and a note for the user ("" if none).

    An explicit ``out`` holding a run is refused unless ``force``. The default, ``runs/<dataset>``,
    becomes ``runs/<dataset>-2``, ``-3``, ... when it holds a run, so ``make train`` can be repeated and
    keeps every earlier run.
    """
    if out is not None:
        if out.is_dir() and holds_run(out) and not force:
            found = ", ".join(name for name in RUN_FILES if (out / name).exists())
            raise RunDirError(f"nn.train: --out {out} already holds a run ({found}); pass --force to replace it, "
                              "or choose another --out")
        return out, (f"replacing the run in {out} (--force)" if out.is_dir() and holds_run(out) else "")
    base = Path("runs") / dataset
    if force:
        return base, (f"replacing the run in {base} (--force)" if base.is_dir() and holds_run(base) else "")
    out, n = base, 1
    while out.exists() and (not out.is_dir() or holds_run(out)):
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out, (f"{base} holds an earlier run; writing this one to {out}" if n > 1 else "")


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


def clear_run(out: Path) -> None:
    """Delete the files of the run in ``out`` (``--force``): a stop in epoch 1 must not leave the old run's model
    beside the new config."""
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)


def write_json(obj: object, path: Path) -> None:
    """``obj`` as indented JSON at ``path``, atomically."""
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def load_checkpoint(directory: str | os.PathLike) -> tuple[Sequential, dict]:
    """Rebuild the model a run wrote to ``directory`` (from ``config.json``) and load ``model.npz`` into it."""
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no {CONFIG_FILE} in {directory}: not a run directory written by nn.train") from None
    if not (directory / MODEL_FILE).exists():
        raise FileNotFoundError(f"no {MODEL_FILE} in {directory}: the run ended before its first epoch finished "
                                f"({CONFIG_FILE} says: {config.get('status', 'unknown')})")
    if config.get("model", "mlp") == "cnn":  # runs written before --model existed are MLPs
        model = build_cnn(config["channels"], config["hidden"], np.random.default_rng(0), config["num_classes"])
    elif config.get("model") == "resnet":
        model = build_resnet(config["channels"], np.random.default_rng(0), config["num_classes"])
    else:
        model = build_model(config["hidden"], np.random.default_rng(0), config["in_features"], config["num_classes"])
    model.load_state_dict(load(directory / MODEL_FILE))
    return model, config
