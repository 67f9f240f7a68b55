"""Data: IDX files, MNIST and Fashion-MNIST loading, verified downloads and caches, mini-batches, and two moons.

This is the only file in the project that touches the network. Every dataset file is checked against a
SHA-256 digest written below: a download *before* it is moved into place (so a half-written or wrong file is
never kept), and a file found on disk *every time it is opened*, so a damaged or altered cache is refused,
naming the file and both digests, instead of being used. Hashing 30 MB costs about 0.1 s, so each result is
remembered (in ``verified.json`` beside the caches) together with the file's size, mtime, ctime and inode: a
repeat load of an unchanged file skips it, and any change to the file (a write changes its ctime, which
no program can set back) hashes it again.

Where the four files are looked for (``root=None``)::

    /usr/share/datasets/fashion-mnist    (Fashion-MNIST only: Debian's ``dataset-fashion-mnist``)
    $XDG_CACHE_HOME/backproplab/<name>   (or ~/.cache/backproplab/<name>)

The read-only copy a package manager installed comes first: a user-writable cache must not shadow it. The first
directory holding all four files is used; if none does and ``download=True``, the missing files are downloaded
into the cache. With ``root`` given, only ``root`` is used, and downloads go there. Files in ``root`` are
verified too, unless ``verify=False``: for a directory of your own files (a subset, other data in IDX format).

Reading is bounded by what the file declares: an IDX header is checked before anything is inflated, and a
gzipped file is decompressed as a stream, never past the size its header declares (itself at most what
deflate's 1032:1 limit allows for the file's size).

The IDX format (the one MNIST is distributed in): a 4-byte magic ``0x00 0x00 <type> <ndim>``, then
``ndim`` big-endian uint32 dimensions, then the values in C order. Images are ``0x00000803``
(uint8, 3 dims: N, 28, 28); labels are ``0x00000801`` (uint8, 1 dim: N).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import sys
import time
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .serialization import atomic_write

__all__ = [
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "ChecksumError",
    "DatasetNotFoundError",
    "DownloadError",
    "MNISTData",
    "batches",
    "cache_dir",
    "download_file",
    "load_fashion_mnist",
    "load_mnist",
    "make_moons",
    "read_idx",
]

# -- what the datasets are ------------------------------------------------------------------------

TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

MNIST_CLASSES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# File URL = mirror + file name. Tried in order; the first that serves a verified file wins.
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

# SHA-256 of each file, keyed by file name: the .gz as released upstream and, where known, the uncompressed IDX
# file. A file may have more than one accepted digest: Debian's dataset-fashion-mnist ships the same IDX bytes
# re-gzipped (its gzip header has a 2020 timestamp and no stored file name, so each .gz is 23-24 bytes shorter),
# which is a different file with a different digest. Both decompress to the same data; both are accepted, and so
# is that data uncompressed. MNIST's uncompressed digests are not recorded here, so an uncompressed MNIST file
# cannot be verified: keep the .gz (a directory holding both is read from the .gz).
SHA256: dict[str, dict[str, tuple[str, ...]]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",),
        "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",),
        "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",),
        "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",  # upstream release
            "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",  # Debian re-gzip
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        ),
        # Uncompressed (gunzip of either .gz above).
        "train-images-idx3-ubyte": ("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",),
        "train-labels-idx1-ubyte": ("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",),
        "t10k-images-idx3-ubyte": ("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",),
        "t10k-labels-idx1-ubyte": ("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",),
    },
}

# Read-only places a system package may have put the files (searched before the user cache).
SYSTEM_DIRS: dict[str, tuple[str, ...]] = {
    "fashion-mnist": ("/usr/share/datasets/fashion-mnist",),
}
_INSTALL_HINTS = {"fashion-mnist": "install Debian's package: apt-get install dataset-fashion-mnist"}

TIMEOUT = 30.0  # seconds per connect/read; a stalled mirror costs this much before the next is tried
DEADLINE = 900.0  # seconds for one whole file: 26 MB at 30 kB/s; a trickling mirror stops here (checked per read)
MAX_DOWNLOAD_BYTES = 64 * 2**20  # the largest real file is 26 MB; a runaway response stops here
# Deflate cannot compress better than about 1032:1, so a gzip file of n bytes inflates to at most this much.
_DEFLATE_RATIO = 1032
_CHUNK = 1 << 20  # bytes per read when hashing and inflating

# -- errors ---------------------------------------------------------------------------------------


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files are not in any searched directory and downloading was not allowed."""


class ChecksumError(ValueError):
    """A file's SHA-256 is not one known for it: a download (not kept), or a file on disk (refused, not used)."""


class DownloadError(OSError):
    """Every mirror failed to deliver a file; the message lists each mirror's failure."""


# -- the result -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)  # eq on arrays is ambiguous; repr shows shapes instead
class MNISTData:
    """A loaded MNIST-style dataset: ``x`` float32 in [0, 1] of shape (N, 784), ``y`` int64 labels."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]

    def __repr__(self) -> str:
        def shape(a: np.ndarray) -> str:
            return f"{a.dtype}{list(a.shape)}"

        return (
            f"MNISTData({self.name!r}, x_train={shape(self.x_train)}, y_train={shape(self.y_train)}, "
            f"x_test={shape(self.x_test)}, y_test={shape(self.y_test)}, classes={len(self.classes)})"
        )


# -- IDX ------------------------------------------------------------------------------------------

# IDX type byte -> NumPy dtype (big-endian, as the format stores them).
_IDX_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_ERRORS = (OSError, EOFError, zlib.error)  # BadGzipFile is an OSError; a cut-off stream is EOFError


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not) into an array of its dimensions.

    MNIST files are unsigned bytes, so the result is uint8; other IDX types are returned in native
    byte order. The header is checked before the values are read: an uncompressed file must be exactly
    as long as its header says; a gzipped one is inflated as a stream and never past the declared size
    (which must be within deflate's 1032:1 of the file's size). Raises ValueError naming the file for a
    bad magic number, a size that does not match the header, or corrupt gzip data.
    """
    path = Path(path)
    with open(path, "rb") as f:
        return _parse_idx(f, path, os.fstat(f.fileno()).st_size)


def _read_exactly(stream: BinaryIO, n: int, path: Path) -> bytes:
    """Up to ``n`` bytes (fewer only at the end of the stream); gzip errors become ValueError naming the file."""
    try:
        return stream.read(n)
    except _GZIP_ERRORS as e:
        raise ValueError(f"{path}: corrupt gzip data ({e})") from e


def _parse_idx(f: BinaryIO, path: Path, size: int) -> np.ndarray:
    """The IDX array in the open file ``f`` of ``size`` bytes, read from its start; see ``read_idx``."""
    gzipped = f.read(2) == b"\x1f\x8b"  # an IDX file starts with 0x0000
    f.seek(0)
    stream: BinaryIO = gzip.GzipFile(fileobj=f, mode="rb") if gzipped else f  # type: ignore[assignment]
    what = "decompresses to" if gzipped else "has"
    magic = _read_exactly(stream, 4, path)
    if len(magic) < 4:
        raise ValueError(f"{path}: not an IDX file (only {len(magic)} bytes)")
    type_code, ndim = magic[2], magic[3]
    if magic[:2] != b"\0\0" or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(f"{path}: bad IDX magic number 0x{magic.hex()} "
                         "(expected 0x0000TTNN: type TT in 08 09 0b 0c 0d 0e, NN >= 1 dimensions)")
    header = 4 + 4 * ndim
    raw_dims = _read_exactly(stream, 4 * ndim, path)
    if len(raw_dims) < 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header ({4 + len(raw_dims)} bytes, need {header} for {ndim} dims)")
    dims = tuple(int.from_bytes(raw_dims[i:i + 4], "big") for i in range(0, 4 * ndim, 4))
    dtype = _IDX_DTYPES[type_code]
    payload = math.prod(dims) * dtype.itemsize  # Python ints: exact however large the header's numbers
    expected = header + payload
    if not gzipped and size != expected:
        problem = "truncated" if size < expected else "has trailing bytes"
        raise ValueError(f"{path}: IDX file {problem}: header says dims {dims} ({expected:,} bytes), "
                         f"file has {size:,} bytes")
    if gzipped and expected > _DEFLATE_RATIO * size + 1024:
        raise ValueError(f"{path}: IDX header says dims {dims} ({expected:,} bytes), more than a {size:,}-byte "
                         f"gzip file can hold (deflate inflates at most {_DEFLATE_RATIO}:1)")
    values = np.empty(math.prod(dims), dtype)
    buffer = memoryview(values.view(np.uint8))
    done = 0
    while done < payload:
        chunk = _read_exactly(stream, min(_CHUNK, payload - done), path)
        if not chunk:
            raise ValueError(f"{path}: IDX file truncated: header says dims {dims} ({expected:,} bytes), "
                             f"file {what} {header + done:,} bytes")
        buffer[done:done + len(chunk)] = chunk
        done += len(chunk)
    if _read_exactly(stream, 1, path):  # for gzip, reaching the end is also what checks its CRC
        raise ValueError(f"{path}: IDX file has trailing bytes: header says dims {dims} ({expected:,} bytes), "
                         f"file {what} more")
    return values.reshape(dims).astype(dtype.newbyteorder("="), copy=False)


def _as_images(images: np.ndarray, path: Path) -> np.ndarray:
    """IDX images (N, 28, 28) uint8 -> (N, 784) float32 in [0, 1]."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{path}: expected uint8 images of shape (N, 28, 28) (magic 0x00000803), "
                         f"got {images.dtype} {images.shape}")
    x = images.reshape(len(images), 784).astype(np.float32)
    return np.divide(x, 255.0, out=x)  # in place: one float32 buffer, no temporary


def _as_labels(labels: np.ndarray, path: Path, num_classes: int) -> np.ndarray:
    """IDX labels (N,) uint8 -> (N,) int64, each in [0, num_classes)."""
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{path}: expected uint8 labels of shape (N,) (magic 0x00000801), "
                         f"got {labels.dtype} {labels.shape}")
    if labels.size and labels.max() >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise ValueError(f"{path}: label {labels[bad]} at index {bad} is out of range [0, {num_classes})")
    return labels.astype(np.int64)


# -- verifying files on disk ----------------------------------------------------------------------

# path -> what the file was when it was hashed: size, mtime_ns, ctime_ns, inode, device, sha256.
_VERIFIED: dict[str, list] = {}
_RECORD_FILE = "verified.json"
_MAX_RECORD_BYTES = 1 << 20


def _identity(st: os.stat_result) -> list:
    """What changes whenever a file's bytes may have: mtime can be set back (``touch -d``), ctime cannot."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _record_path() -> Path:
    return cache_dir(_RECORD_FILE)  # beside the dataset caches: ~/.cache/backproplab/verified.json


def _recorded(key: str) -> list | None:
    """The remembered hash of ``key`` (memory, then ``verified.json``); None if never recorded or unreadable."""
    if key in _VERIFIED:
        return _VERIFIED[key]
    try:
        with open(_record_path(), "rb") as f:
            records = json.loads(f.read(_MAX_RECORD_BYTES))
        entry = records.get(key) if isinstance(records, dict) else None
    except (OSError, ValueError):  # absent, unreadable or damaged: hash again, which is only slower
        return None
    return entry if isinstance(entry, list) and len(entry) == 6 else None


def _remember(key: str, entry: list) -> None:
    """Keep ``key``'s hash in memory and, where the cache directory is writable, in ``verified.json``."""
    _VERIFIED[key] = entry
    path = _record_path()
    try:
        try:
            with open(path, "rb") as f:
                records = json.loads(f.read(_MAX_RECORD_BYTES))
        except (OSError, ValueError):
            records = {}
        records = records if isinstance(records, dict) else {}
        records[key] = entry
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, "w") as out:
            json.dump(records, out, indent=0)
    except OSError:  # a read-only home: the check still happened, it is just not remembered across processes
        pass


def _sha256_of(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := f.read(_CHUNK):
        digest.update(chunk)
    f.seek(0)
    return digest.hexdigest()


def _verify(f: BinaryIO, path: Path, accepted: Collection[str]) -> None:
    """Raise ChecksumError unless the open file ``f`` has one of the ``accepted`` digests (hash remembered by
    identity, so an unchanged file is hashed once). Hashes the open file, so what is checked is what is read."""
    key = os.path.realpath(path)
    identity = _identity(os.fstat(f.fileno()))
    entry = _recorded(key)
    if entry is not None and entry[:5] == identity:
        actual = entry[5]
    else:
        actual = _sha256_of(f)
        if actual in accepted:
            _remember(key, [*identity, actual])
    if actual not in accepted:
        known = " or ".join(sorted(accepted)) if accepted else "none (no digest is known for this file)"
        raise ChecksumError(f"{path}: SHA-256 is {actual}, expected {known}. The file is damaged or is not the "
                            f"released one; delete it to download it again, or, for files of your own in a "
                            f"directory you pass, load them with verify=False (--no-verify)")


def _read_dataset_file(path: Path, accepted: Collection[str] | None) -> np.ndarray:
    """The IDX array in ``path``, after verifying it against ``accepted`` (None: not verified)."""
    with open(path, "rb") as f:
        if accepted is not None:
            _verify(f, path, accepted)
        return _parse_idx(f, path, os.fstat(f.fileno()).st_size)


# -- download -------------------------------------------------------------------------------------


def download_file(url: str, dest: str | os.PathLike, sha256: str | Collection[str], *,
                  timeout: float | None = None, deadline: float | None = None) -> Path:
    """Download ``url`` to ``dest``, keeping it only if its SHA-256 is (one of) ``sha256``.

    The bytes go to a temporary file in ``dest``'s directory, which is renamed onto ``dest``
    (``os.replace``, atomic) only after the digest matches; on any failure the temporary file is
    removed, so ``dest`` is either the verified file or untouched. Nothing is ever resumed: each
    download starts from the first byte. ``timeout`` bounds each connect and read (default ``TIMEOUT``),
    ``deadline`` the whole download (default ``DEADLINE`` seconds; checked after each read, so a mirror
    that trickles a byte at a time stops within ``deadline + timeout``).

    Raises ``ChecksumError`` on a digest mismatch, ``TimeoutError`` past the deadline, and ``OSError`` /
    ``http.client.HTTPException`` for network failures (HTTP error, refused connection, timeout, a body cut short).
    """
    import urllib.request  # here, not at the top: it pulls in http, email and ssl (~25 ms on `import nn`)

    dest = Path(dest)
    accepted = {sha256.lower()} if isinstance(sha256, str) else {s.lower() for s in sha256}
    timeout = TIMEOUT if timeout is None else timeout
    deadline = DEADLINE if deadline is None else deadline
    give_up_at = time.monotonic() + deadline
    # atomic_write: the bytes land in a temporary file beside dest, renamed onto it only if this block
    # finishes; any exception (a short body, a digest mismatch, the deadline) removes the temporary file instead.
    with atomic_write(dest, "wb") as out, urllib.request.urlopen(url, timeout=min(timeout, deadline)) as response:
        digest = hashlib.sha256()
        length = response.headers.get("Content-Length")
        received = 0
        # read1: whatever has arrived (at most 1 MiB), so the deadline is checked however slowly bytes come.
        while chunk := response.read1(1 << 20):
            received += len(chunk)
            if received > MAX_DOWNLOAD_BYTES:
                raise DownloadError(f"{url}: response larger than {MAX_DOWNLOAD_BYTES} bytes")
            if time.monotonic() > give_up_at:
                raise TimeoutError(f"{url}: download not finished after {deadline:g} s "
                                   f"({received} bytes received); nothing kept")
            digest.update(chunk)
            out.write(chunk)
        # urllib returns a short body without complaint when the server hangs up early.
        if length is not None and received != int(length):
            raise ConnectionError(f"{url}: connection closed after {received} of {length} bytes")
        actual = digest.hexdigest()
        if actual not in accepted:
            raise ChecksumError(f"{dest.name}: SHA-256 mismatch for download from {url}: "
                                f"expected {' or '.join(sorted(accepted))}, got {actual}")
    return dest


def _remove_stale_partials(directory: Path, filename: str) -> None:
    """Delete temporary files of ``filename`` left by a download that was killed (atomic_write's
    ``.<name>.*.tmp``). One still written by a live download is newer than a deadline, so it is left alone."""
    cutoff = time.time() - (DEADLINE + 2 * TIMEOUT)
    for partial in directory.glob(f".{filename}.*.tmp"):
        try:
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
        except OSError:
            pass


def _download(filename: str, directory: Path, mirrors: Collection[str], sha256: Collection[str]) -> Path:
    """Fetch ``filename`` into ``directory`` from the first mirror that works."""
    import http.client  # only for the except clause below; see download_file

    _remove_stale_partials(directory, filename)
    failures = []
    for base in mirrors:
        url = base + filename
        print(f"nn.data: downloading {url}", file=sys.stderr)
        try:
            return download_file(url, directory / filename, sha256)
        except ChecksumError:
            raise  # the file exists but is not the one we know: say so rather than hunt for another copy
        except (OSError, http.client.HTTPException) as e:  # HTTPError, URLError, timeouts are OSErrors
            failures.append(f"  {url}: {type(e).__name__}: {e}")
    tried = "\n".join(failures) if failures else "  (no mirrors given)"
    raise DownloadError(f"could not download {filename}; every mirror failed:\n{tried}")


# -- finding and loading --------------------------------------------------------------------------


def cache_dir(name: str) -> Path:
    """``$XDG_CACHE_HOME/backproplab/<name>``, or ``~/.cache/backproplab/<name>``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative path is invalid and should be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "backproplab" / name


def _find(directory: Path, stem: str, digests: dict[str, tuple[str, ...]] | None) -> Path | None:
    """``directory/stem`` or ``directory/stem.gz``, whichever exists: uncompressed first (no inflating), unless
    only the .gz has a known digest (``digests``: the table when verifying, None when not)."""
    candidates = [directory / stem, directory / f"{stem}.gz"]
    if digests is not None:
        candidates.sort(key=lambda p: p.name not in digests)  # stable: known digests first, in the order above
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _load(name: str, classes: tuple[str, ...], root: str | os.PathLike | None, download: bool,
          mirrors: Collection[str] | None, verify: bool = True) -> MNISTData:
    if not verify and root is None:
        raise ValueError(f"verify=False is for a root= directory of your own files; {name} in the cache or a "
                         "system directory is always verified")
    if root is not None:
        searched = [Path(root)]
        target = Path(root)
    else:
        target = cache_dir(name)
        searched = [Path(d) for d in SYSTEM_DIRS.get(name, ())] + [target]
    digests = SHA256[name] if verify else None
    paths = None
    for directory in searched:
        found = [_find(directory, stem, digests) for stem in FILES]
        if all(found):
            paths = found
            break
    if paths is None:
        if not download:
            hints = ["pass download=True"] + ([_INSTALL_HINTS[name]] if name in _INSTALL_HINTS else [])
            hints.append(f"or put {', '.join(f'{s}[.gz]' for s in FILES)} in {target}")
            raise DatasetNotFoundError(
                f"{name} not found; looked in: {', '.join(str(d) for d in searched)}. "
                f"To get it: {'; '.join(hints)}.")
        target.mkdir(parents=True, exist_ok=True)
        mirrors = MIRRORS[name] if mirrors is None else tuple(mirrors)
        paths = [_find(target, stem, digests)
                 or _download(f"{stem}.gz", target, mirrors, SHA256[name][f"{stem}.gz"]) for stem in FILES]

    def read(path: Path) -> np.ndarray:
        return _read_dataset_file(path, None if digests is None else digests.get(path.name, ()))

    train_images, train_labels, test_images, test_labels = paths
    data = {}
    for split, images_path, labels_path in (("train", train_images, train_labels), ("test", test_images, test_labels)):
        x = _as_images(read(images_path), images_path)
        y = _as_labels(read(labels_path), labels_path, len(classes))
        if len(x) != len(y):
            raise ValueError(f"{images_path} has {len(x)} images but {labels_path} has {len(y)} labels")
        data[f"x_{split}"], data[f"y_{split}"] = x, y
    return MNISTData(name=name, classes=classes, **data)


def load_mnist(root: str | os.PathLike | None = None, download: bool = True,
               mirrors: Collection[str] | None = None, *, verify: bool = True) -> MNISTData:
    """The MNIST digits: 60,000 training and 10,000 test images, x float32 in [0, 1] (N, 784), y int64.

    ``root``: the directory holding the four IDX files (``.gz`` or not); downloads go there too.
    Default: the user cache. ``mirrors``: base URLs to download from (file URL = base + file name).
    Every file is checked against its known SHA-256 each time it is loaded (ChecksumError naming the file
    and both digests if it differs); ``verify=False`` skips that for a ``root`` of your own files.
    """
    return _load("mnist", MNIST_CLASSES, root, download, mirrors, verify)


def load_fashion_mnist(root: str | os.PathLike | None = None, download: bool = True,
                       mirrors: Collection[str] | None = None, *, verify: bool = True) -> MNISTData:
    """Fashion-MNIST: Zalando's 28x28 clothing images, in MNIST's format and sizes (see ``load_mnist``).

    With ``root=None`` it first looks for Debian's copy in /usr/share/datasets/fashion-mnist.
    """
    return _load("fashion-mnist", FASHION_MNIST_CLASSES, root, download, mirrors, verify)


# -- mini-batches ---------------------------------------------------------------------------------


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True,
            rng: np.random.Generator | int | None = None, *, drop_last: bool = False,
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of ``(x_batch, y_batch)`` pairs, each row of ``x``/``y`` exactly once.

    Shuffled with one permutation per call (``rng``: a Generator or an int seed) and fancy-indexed
    per batch; unshuffled batches are views (no copy). The last batch holds the remainder
    ``len(x) % batch_size`` unless ``drop_last``. Arguments are checked when called, not on first use.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"x and y must be arrays with a batch dimension, got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)} "
                         f"(shapes {x.shape} and {y.shape})")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(x)
    order = np.random.default_rng(rng).permutation(n) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    return _batches(x, y, int(batch_size), order, stop)


def _batches(x: np.ndarray, y: np.ndarray, batch_size: int, order: np.ndarray | None,
             stop: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, stop, batch_size):
        if order is None:
            yield x[start:start + batch_size], y[start:start + batch_size]
        else:
            idx = order[start:start + batch_size]
            yield x[idx], y[idx]


# -- two moons --------------------------------------------------------------------------------------


def make_moons(
    n_samples: int = 100, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles, shuffled, with Gaussian noise of std ``noise`` on each coordinate.

    The upper moon is (cos t, sin t), labelled -1; the lower is (1 - cos t, 0.5 - sin t), labelled +1;
    t runs evenly over [0, π]. Returns ``(X, y)``: ``n_samples`` points as [x1, x2] lists and labels
    (plain Python lists, ready for the scalar engine; ``np.asarray`` them for tensors). ``rng`` is a
    NumPy Generator or a seed. Like scikit-learn's ``make_moons``, with labels ±1 for the hinge loss.
    """
    if n_samples < 2:
        raise ValueError(f"make_moons needs n_samples >= 2 (one per moon), got {n_samples}")
    if noise < 0:
        raise ValueError(f"make_moons: noise is a standard deviation and must be >= 0, got {noise}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    points = np.concatenate(
        [
            np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1),
            np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1),
        ]
    )
    labels = np.concatenate([-np.ones(n_upper, dtype=int), np.ones(n_lower, dtype=int)])
    points = points + gen.normal(0.0, noise, size=points.shape)
    order = gen.permutation(n_samples)
    return points[order].tolist(), labels[order].tolist()
