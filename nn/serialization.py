"""save/load a state dict as ``.npz``, atomically.

The file is an ordinary NumPy ``.npz`` archive (``np.load`` reads it too): one ``<name>.npy`` member per
entry, in the dict's order, uncompressed. ``save`` never leaves a half-written file at ``path``: it writes
a temporary file in the same directory, flushes it to disk (``fsync``) and renames it over ``path`` with
``os.replace``, which is atomic on POSIX and Windows. A crash or a kill mid-save leaves the previous file
intact (and possibly a stray ``.<name>.*.tmp`` beside it).

Why not ``np.savez(path, **state)``? It appends ``.npz`` to names lacking it (so the temporary name would
not be the file written), and keys named ``file`` or ``allow_pickle`` would collide with its own
arguments. Writing the members ourselves avoids both, and keys with dots (``0.weight``) round-trip.
"""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from typing import IO, Any

import numpy as np

from autograd.tensor import Tensor
from autograd.value import Value

PathLike = str | os.PathLike

# mkstemp creates files readable by the owner only; a saved model should get the usual permissions
# (0o666 less the umask) like any other new file. The umask can only be read by setting it, so read it
# once, here, rather than racing other threads on every save.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on a clean exit, fsync it and ``os.replace`` it onto ``path``.

    If the block raises, the temporary file is removed and ``path`` is untouched. ``mode`` is ``"wb"`` or
    ``"w"`` (text, UTF-8).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    # Same directory as the target: os.replace is only atomic within one filesystem.
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as err:  # name the file the caller asked for, not our hidden temporary one
        why = {errno.ENOENT: f"the directory '{directory}' does not exist (create it first)",
               errno.ENOTDIR: f"'{directory}' is not a directory",
               errno.EACCES: f"no permission to create files in '{directory}'"}.get(err.errno, err.strerror)
        raise type(err)(err.errno, f"cannot write '{path}': {why}") from None
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with open(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _as_ndarray(name: str, value: Any) -> np.ndarray:
    """A state entry as an ndarray: arrays as they are, Tensors by their data, Values as 0-d float64."""
    if isinstance(value, Tensor):
        value = value.data
    elif isinstance(value, Value):
        value = np.float64(value.data)
    arr = np.asarray(value)
    if arr.dtype.hasobject:
        # Object arrays would need pickle to load, and loading pickles can run arbitrary code.
        raise TypeError(
            f"save: entry '{name}' has dtype object ({type(value).__name__}); only numeric arrays are saved"
        )
    return arr


def save(state_dict: Mapping[str, Any], path: PathLike) -> None:
    """Write ``state_dict`` (name → array) to ``path`` as ``.npz``, atomically.

    ``path`` is used exactly as given (no ``.npz`` is appended). Entries may be ndarrays, Tensors or
    Values; dtypes, shapes and order are kept.
    """
    if not isinstance(state_dict, Mapping):
        hint = " (pass model.state_dict())" if hasattr(state_dict, "state_dict") else ""
        raise TypeError(f"save: expected a dict of name → array, got {type(state_dict).__name__}{hint}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"save: keys must be non-empty strings, got {name!r}")
        arrays[name] = _as_ndarray(name, value)
    # ZIP_STORED: weights barely compress, and stored members load faster. force_zip64 lifts the 4 GB cap.
    with atomic_write(path, "wb") as f, zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, arr in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def load(path: PathLike) -> dict[str, np.ndarray]:
    """Read a file written by ``save``: a dict name → ndarray, in the saved order.

    Raises FileNotFoundError if ``path`` does not exist and ValueError, naming the file, if it is not an
    ``.npz`` archive or is corrupt (truncated, a bad checksum, an unreadable member).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"load: '{path}' is a directory, not an .npz file")
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise ValueError(f"load: '{path}' is a single .npy array, not an .npz archive of named arrays")
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # a zip's first member, or an empty zip
        raise ValueError(f"load: '{path}' is not an .npz file (it does not start with a zip signature)")
    try:
        archive = np.load(path, allow_pickle=False)
        with archive:
            # Read every member now: a bad CRC or a truncated member only shows when it is read.
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise ValueError(f"load: '{path}' is a corrupt .npz file: {err}") from err
