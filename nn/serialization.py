"""save/load a state dict as ``.npz``: written atomically, read bounded and numeric-only.

The file is an ordinary NumPy ``.npz`` archive (``np.load`` reads it too): one ``<name>.npy`` member per
entry, in the dict's order, uncompressed. ``save`` never leaves a half-written file at ``path``: it writes
a temporary file in the same directory, flushes it to disk (``fsync``) and renames it over ``path`` with
``os.replace``, which is atomic on POSIX and Windows. A crash or a kill mid-save leaves the previous file
intact (and possibly a stray ``.<name>.*.tmp`` beside it).

``load`` reads only what a file declares, and only numbers: every member must be a ``.npy`` array of a numeric
dtype (never objects, so never pickle), its header's shape must account for exactly the bytes the member holds,
and the arrays together may declare at most ``MAX_LOAD_BYTES`` (1 GiB; ``max_bytes=`` changes it) -- all checked
before an array is allocated, then read in 1 MiB chunks. A FIFO, a device or a symbolic-link loop is refused
at once with a message saying which.

Why not ``np.savez(path, **state)``? It appends ``.npz`` to names lacking it (so the temporary name would
not be the file written), and keys named ``file`` or ``allow_pickle`` would collide with its own
arguments. Writing the members ourselves avoids both, and keys with dots (``0.weight``) round-trip.
"""
from __future__ import annotations

import contextlib
import errno
import math
import os
import stat
import struct
import tempfile
import zipfile
import zlib
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


# Declared sizes above this are refused before anything is read (``load(path, max_bytes=...)`` lifts it). The
# state dicts this project writes are a few MB; a corrupt or hostile header can declare terabytes.
MAX_LOAD_BYTES = 2**30

# The dtype kinds a state dict may hold: bool, signed and unsigned integers, floats, complex. Not objects (they
# need pickle), strings, bytes, datetimes or structured records (not weights, and not what load promises).
_NUMERIC_KINDS = frozenset("biufc")
_CHUNK = 1 << 20  # bytes per read: the largest buffer a load holds besides the arrays it returns


def _open_regular(path: str) -> IO[bytes]:
    """Open ``path`` for reading if it is a regular file; clear errors for everything else.

    ``O_NONBLOCK``: opening a FIFO for reading would otherwise wait, forever, for a writer. It changes
    nothing for regular files, and the type is checked on the opened descriptor (``fstat``), so the file
    checked is the file read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"load: no such file: '{path}'") from None
    except OSError as err:
        why = {errno.ELOOP: "too many levels of symbolic links (a link that points, directly or not, to itself)",
               errno.EACCES: "permission denied"}.get(err.errno, err.strerror)
        raise type(err)(err.errno, f"load: cannot open '{path}': {why}") from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return os.fdopen(fd, "rb")
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, f"load: '{path}' is a directory, not an .npz file")
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
            else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
    raise ValueError(f"load: '{path}' is {kind}, not an .npz file")


def _header(path: str, name: str, member: IO[bytes], info: zipfile.ZipInfo) -> tuple[np.dtype, tuple[int, ...], bool]:
    """The dtype, shape and order a ``.npy`` member declares, checked against what the zip says it holds."""
    where = f"load: '{path}' member '{name}'"
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:  # 3.0 exists only for structured dtypes with non-ASCII field names: not numeric anyway
            raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
    except (zipfile.BadZipFile, zlib.error, OSError) as err:  # a bad CRC shows on the first read of a small member
        raise ValueError(f"load: '{path}' is a corrupt .npz file: member '{name}': {err}") from err
    except _CORRUPT as err:
        raise ValueError(f"{where} has no valid .npy header ({err})") from err
    if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"{where} has dtype {dtype} ({_KIND_NAMES.get(dtype.kind, 'not numeric')}); "
                         "load returns numeric arrays only (bool, integer, float, complex)")
    declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow, however large the header's numbers
    held = info.file_size - member.tell()
    if declared != held:
        raise ValueError(f"{where} declares shape {shape} of {dtype} ({declared:,} bytes) but holds {held:,} bytes")
    return dtype, shape, fortran


_KIND_NAMES = {"O": "Python objects, which need pickle", "U": "text", "S": "bytes", "V": "raw or structured records",
               "M": "datetimes", "m": "time differences"}


def _read_data(member: IO[bytes], dtype: np.dtype, shape: tuple[int, ...], fortran: bool) -> np.ndarray:
    """The array's bytes, read in chunks straight into the array (never more than one chunk besides it)."""
    flat = np.empty(math.prod(shape), dtype)
    buffer = memoryview(flat.view(np.uint8))
    done = 0
    while done < len(buffer):
        chunk = member.read(min(_CHUNK, len(buffer) - done))
        if not chunk:
            raise EOFError(f"the data ends after {done:,} of {len(buffer):,} bytes")
        buffer[done:done + len(chunk)] = chunk
        done += len(chunk)
    if member.read(1):  # reading to the end is also what makes zipfile check the member's CRC
        raise ValueError("data continues past the declared shape")
    return flat.reshape(shape, order="F" if fortran else "C")
def _members(path: str, archive: zipfile.ZipFile, max_bytes: int | None) -> list[tuple[str, zipfile.ZipInfo]]:
    """The archive's ``(key, member)`` pairs in order, after checking every name and the declared total size.

    Only the zip's central directory is read here; each member's own ``.npy`` header is checked as it is opened.
    """
    members, seen, total = [], set(), 0
    for info in archive.infolist():
        where = f"load: '{path}' member '{info.filename}'"
        if not info.filename.endswith(".npy") or info.is_dir():
            raise ValueError(f"{where} is not a .npy array; an .npz file written by save holds only .npy members")
        if info.filename in seen:
            raise ValueError(f"{where} appears twice")
        if info.flag_bits & 0x1:
            raise ValueError(f"{where} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):  # what np.savez(_compressed) write
            raise ValueError(f"{where} uses zip compression method {info.compress_type}; "
                             "only stored and deflated members are read")
        total += info.file_size
        if max_bytes is not None and total > max_bytes:
            raise ValueError(f"load: '{path}' declares {total:,} bytes of arrays (counting up to member "
                             f"'{info.filename}'), more than the cap of {max_bytes:,}; pass max_bytes= (None: no cap) "
                             "to load a larger file on purpose")
        seen.add(info.filename)
        members.append((info.filename[: -len(".npy")], info))
    return members


# What a damaged zip can raise from zipfile, zlib and struct while it is opened and read.
_CORRUPT = (ValueError, OSError, EOFError, KeyError, NotImplementedError, OverflowError, zipfile.BadZipFile,
            zlib.error, struct.error)


def _read_archive(path: PathLike, max_bytes: int | None, data: bool) -> dict[str, Any]:
    """``load`` (``data``) or ``declared_arrays`` (headers only): the checks both make, in the order that keeps
    every allocation within what the file declares and the cap allows."""
    path = os.fspath(path)
    with _open_regular(path) as f:
        magic = f.read(6)
        if magic.startswith(b"\x93NUMPY"):
            raise ValueError(f"load: '{path}' is a single .npy array, not an .npz archive of named arrays")
        if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # a zip's first member, or an empty zip
            raise ValueError(f"load: '{path}' is not an .npz file (it does not start with a zip signature)")
        f.seek(0)
        try:
            archive = zipfile.ZipFile(f)
        except _CORRUPT as err:
            raise ValueError(f"load: '{path}' is a corrupt .npz file: {err}") from err
        result: dict[str, Any] = {}
        with archive:
            for key, info in _members(path, archive, max_bytes):
                try:
                    member = archive.open(info)
                except _CORRUPT as err:
                    raise ValueError(f"load: '{path}' is a corrupt .npz file: member '{info.filename}': {err}"
                                     ) from err
                with member:
                    dtype, shape, fortran = _header(path, info.filename, member, info)
                    if not data:
                        result[key] = (shape, dtype)
                        continue
                    try:
                        result[key] = _read_data(member, dtype, shape, fortran)
                    except _CORRUPT as err:
                        raise ValueError(f"load: '{path}' is a corrupt .npz file: member '{info.filename}': {err}"
                                         ) from err
    return result


def load(path: PathLike, *, max_bytes: int | None = MAX_LOAD_BYTES) -> dict[str, np.ndarray]:
    """Read a file written by ``save``: a dict name → ndarray, in the saved order.

    Reading is bounded: every member must be a ``.npy`` array of a numeric dtype (bool, integer, float,
    complex), its header's shape must account for exactly the bytes the member holds, and the arrays together
    may declare at most ``max_bytes`` (1 GiB; ``None``: no cap) — all checked before any array is allocated.
    ``np.savez`` and ``np.savez_compressed`` files of numeric arrays load too.

    Raises FileNotFoundError if ``path`` does not exist, IsADirectoryError for a directory, OSError naming the
    problem for a symbolic-link loop or a file that cannot be opened, and ValueError, naming the file (and the
    member), if it is not a regular file (a FIFO is refused at once, never waited on), not an ``.npz`` archive,
    corrupt (truncated, a bad checksum, an unreadable member), or holds anything but numeric arrays.
    """
    return _read_archive(path, max_bytes, data=True)


def declared_arrays(path: PathLike, *, max_bytes: int | None = MAX_LOAD_BYTES) -> dict[str, tuple[tuple[int, ...],
                                                                                               np.dtype]]:
    """What ``load(path)`` would return, as ``name → (shape, dtype)``, from the headers alone (no array data read).

    The same checks as ``load`` apply; use it to compare a file with a model before building the model.
    """
    return _read_archive(path, max_bytes, data=False)
