"""nn.data: IDX reading, MNIST/Fashion-MNIST loading, verified downloads (from 127.0.0.1 only), batches.

The IDX files here are written by this test's own small writer, from the format description (magic
0x00000803 + N, 28, 28 for images; 0x00000801 + N for labels), not by the code under test.
"""
from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.client
import http.server
import json
import os
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nn import data

STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

# -- writing IDX files by hand --------------------------------------------------------------------


def idx_bytes(array: np.ndarray, type_code: int = 0x08, magic: bytes | None = None) -> bytes:
    """Magic 0x0000 <type> <ndim>, big-endian uint32 dims, then the values (big-endian) in C order."""
    big_endian = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[type_code]
    header = magic if magic is not None else struct.pack(">HBB", 0, type_code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=big_endian).tobytes()


def write(path: Path, payload: bytes, gz: bool) -> Path:
    path = path.with_name(path.name + ".gz") if gz else path
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def make_split(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1], images[0, 0, 2] = 0, 255, 51  # 51/255 = 0.2 exactly in real numbers
    return images, rng.integers(0, 10, size=n, dtype=np.uint8)


def write_dataset(directory: Path, gz: bool | tuple[bool, ...] = True, n_train: int = 5, n_test: int = 3,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """The four files in ``directory``; returns the arrays written, keyed by file stem."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = dict(zip(STEMS, (*make_split(n_train, rng), *make_split(n_test, rng))))
    gzs = gz if isinstance(gz, tuple) else (gz,) * 4
    for (stem, array), z in zip(arrays.items(), gzs):
        write(directory / stem, idx_bytes(array), z)
    return arrays


def check_loaded(ds: data.MNISTData, arrays: dict[str, np.ndarray]) -> None:
    n_train, n_test = len(arrays[STEMS[1]]), len(arrays[STEMS[3]])
    assert ds.x_train.shape == (n_train, 784) and ds.x_test.shape == (n_test, 784)
    assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (n_test,)
    assert ds.x_train.dtype == np.float32 and ds.x_test.dtype == np.float32
    assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
    assert ds.x_train[0, :3].tolist() == [0.0, 1.0, np.float32(0.2)]
    # Row-major flattening: pixel (row r, column c) of image i is x[i, 28 r + c].
    assert ds.x_train[2, 28 * 3 + 5] == np.float32(arrays[STEMS[0]][2, 3, 5] / 255)
    np.testing.assert_array_equal(ds.x_train, (arrays[STEMS[0]].reshape(n_train, 784) / 255).astype(np.float32))
    np.testing.assert_array_equal(ds.x_test, (arrays[STEMS[2]].reshape(n_test, 784) / 255).astype(np.float32))
    np.testing.assert_array_equal(ds.y_train, arrays[STEMS[1]].astype(np.int64))
    np.testing.assert_array_equal(ds.y_test, arrays[STEMS[3]].astype(np.int64))


@pytest.fixture(autouse=True)
def isolated_places(tmp_path, monkeypatch):
    """Keep every test away from the real user cache and Debian directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setitem(data.SYSTEM_DIRS, "fashion-mnist", (str(tmp_path / "system-fashion"),))
    monkeypatch.setattr(data, "_VERIFIED", {})  # each test starts with nothing remembered as verified


@pytest.fixture
def trust(monkeypatch):
    """``trust(directory, name)``: make the files now in ``directory`` the known release of dataset ``name``
    (their digests join its table, as the real table lists upstream's and Debian's files)."""

    def add(directory: Path, name: str = "mnist") -> None:
        table = dict(data.SHA256[name])
        for path in directory.iterdir():
            table[path.name] = (*table.get(path.name, ()), sha256_of(path))
        monkeypatch.setitem(data.SHA256, name, table)

    return add


# -- read_idx -------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_returns_uint8_array_of_the_header_dims(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10
    path = write(tmp_path / "x-idx3-ubyte", idx_bytes(images), gz)
    out = data.read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, images)
    out[0, 0, 0] = 7  # an ordinary array the caller may modify


def test_read_idx_reads_big_endian_int32_and_float32(tmp_path):
    ints = np.array([[1, -2], [70000, 0x01020304]])
    assert data.read_idx(write(tmp_path / "i", idx_bytes(ints, 0x0C), False)).tolist() == ints.tolist()
    floats = np.array([0.5, -1.25, 3.0])
    assert data.read_idx(write(tmp_path / "f", idx_bytes(floats, 0x0D), True)).tolist() == [0.5, -1.25, 3.0]


@pytest.mark.parametrize("payload, message", [
    (b"\x00\x00\x08", "only 3 bytes"),
    (b"\x12\x34\x56\x78" + b"\x00" * 8, "magic"),
    (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x05", "magic"),  # 0x07 is not an IDX type
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "header"),  # 3 dims promised, 1 given
    (struct.pack(">HBBI", 0, 8, 1, 5) + b"\x01\x02\x03", "truncated"),
    (struct.pack(">HBBI", 0, 8, 1, 2) + b"\x01\x02\x03", "trailing"),
])
def test_read_idx_rejects_bad_files_naming_them(tmp_path, payload, message):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message) as err:
        data.read_idx(path)
    assert str(path) in str(err.value)


def test_read_idx_rejects_truncated_gzip_naming_the_file(tmp_path):
    path = tmp_path / "cut-idx1-ubyte.gz"
    full = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(ValueError, match=r"cut-idx1-ubyte\.gz"):
        data.read_idx(path)


# -- loading from a directory ---------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False, (True, False, False, True)], ids=["gz", "raw", "mixed"])
def test_load_from_root_gives_scaled_float32_images_and_int64_labels(tmp_path, gz):
    arrays = write_dataset(tmp_path / "mnist", gz)
    ds = data.load_mnist(root=tmp_path / "mnist", download=False, verify=False)
    check_loaded(ds, arrays)
    assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0
    assert ds.classes == tuple("0123456789") and ds.name == "mnist"


def test_result_is_frozen_with_a_repr_of_shapes(tmp_path):
    write_dataset(tmp_path / "f", n_train=5, n_test=3)
    ds = data.load_fashion_mnist(root=tmp_path / "f", download=False, verify=False)
    assert repr(ds) == ("MNISTData('fashion-mnist', x_train=float32[5, 784], y_train=int64[5], "
                        "x_test=float32[3, 784], y_test=int64[3], classes=10)")
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.x_train = None


def _swap_file(directory: Path, stem: str, payload: bytes) -> str:
    (directory / f"{stem}.gz").unlink()
    write(directory / stem, payload, gz=False)
    return stem


@pytest.mark.parametrize("case, message", [
    ("labels with image magic", "expected uint8 labels"),
    ("images with label magic", "expected uint8 images"),
    ("images 27x27", r"\(N, 28, 28\)"),
    ("truncated images", "truncated"),
    ("label 10", "label 10 at index 2"),
])
def test_load_rejects_bad_files_naming_them(tmp_path, case, message):
    root = tmp_path / "m"
    arrays = write_dataset(root)
    images, labels = arrays[STEMS[0]], arrays[STEMS[1]]
    if case == "labels with image magic":
        bad = _swap_file(root, STEMS[1], idx_bytes(labels.reshape(5, 1, 1)))
    elif case == "images with label magic":
        bad = _swap_file(root, STEMS[0], idx_bytes(images.reshape(-1)))
    elif case == "images 27x27":
        bad = _swap_file(root, STEMS[0], idx_bytes(images[:, :27, :27]))
    elif case == "truncated images":
        bad = _swap_file(root, STEMS[0], idx_bytes(images)[:-100])
    else:
        labels = labels.copy()
        labels[2] = 10
        bad = _swap_file(root, STEMS[1], idx_bytes(labels))
    with pytest.raises(ValueError, match=message) as err:
        data.load_mnist(root=root, download=False, verify=False)
    assert bad in str(err.value)


def test_load_rejects_image_and_label_count_mismatch(tmp_path):
    root = tmp_path / "m"
    write_dataset(root, n_test=3)
    (root / f"{STEMS[3]}.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8))))
    with pytest.raises(ValueError, match=r"3 images .* 4 labels") as err:
        data.load_mnist(root=root, download=False, verify=False)
    assert STEMS[2] in str(err.value) and STEMS[3] in str(err.value)


def test_missing_files_without_download_say_how_to_get_them(tmp_path):
    root = tmp_path / "empty"
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.load_mnist(root=root, download=False)
    assert isinstance(err.value, FileNotFoundError)
    message = str(err.value)
    assert "download=True" in message and str(root) in message and STEMS[0] in message
    assert not root.exists()  # looking does not create anything


def test_missing_fashion_lists_cache_and_debian_dir_and_the_apt_package(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.load_fashion_mnist(download=False)
    message = str(err.value)
    assert str(tmp_path / "xdg-cache" / "backproplab" / "fashion-mnist") in message
    assert str(tmp_path / "system-fashion") in message
    assert "apt-get install dataset-fashion-mnist" in message and "download=True" in message


def test_three_of_four_files_is_not_enough(tmp_path):
    root = tmp_path / "m"
    write_dataset(root)
    (root / f"{STEMS[3]}.gz").unlink()
    with pytest.raises(data.DatasetNotFoundError):
        data.load_mnist(root=root, download=False)


# -- where to look: the cache, then the system directory ------------------------------------------


def test_cache_dir_follows_xdg_cache_home_else_home(tmp_path, monkeypatch):
    assert data.cache_dir("mnist") == tmp_path / "xdg-cache" / "backproplab" / "mnist"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for unset in ("", "relative/dir"):  # empty or relative XDG_CACHE_HOME is ignored (XDG spec)
        monkeypatch.setenv("XDG_CACHE_HOME", unset)
        assert data.cache_dir("fashion-mnist") == tmp_path / "home" / ".cache" / "backproplab" / "fashion-mnist"


def test_root_none_reads_the_user_cache(tmp_path, trust):
    cache = tmp_path / "xdg-cache" / "backproplab" / "mnist"
    arrays = write_dataset(cache, seed=3)
    trust(cache)
    check_loaded(data.load_mnist(download=False), arrays)


def test_fashion_prefers_the_system_copy_then_the_cache_without_downloading(tmp_path, trust):
    # The read-only copy a package manager installed comes first: a user-writable cache must not shadow it
    # (issue 20: shifted labels in the cache were loaded instead of Debian's good copy).
    dead = [f"http://127.0.0.1:{closed_port()}/"]  # any download attempt would fail
    cached = write_dataset(tmp_path / "xdg-cache" / "backproplab" / "fashion-mnist", gz=False, seed=2)
    trust(tmp_path / "xdg-cache" / "backproplab" / "fashion-mnist", "fashion-mnist")
    check_loaded(data.load_fashion_mnist(mirrors=dead), cached)
    system = write_dataset(tmp_path / "system-fashion", seed=1)
    trust(tmp_path / "system-fashion", "fashion-mnist")
    check_loaded(data.load_fashion_mnist(mirrors=dead), system)


def test_root_given_looks_only_there(tmp_path):
    write_dataset(tmp_path / "xdg-cache" / "backproplab" / "mnist")
    with pytest.raises(data.DatasetNotFoundError):
        data.load_mnist(root=tmp_path / "elsewhere", download=False)


# -- every file on disk is verified, every time it is opened --------------------------------------


def test_files_in_root_are_verified_by_default_and_refused_naming_both_digests(tmp_path):
    root = tmp_path / "mine"
    write_dataset(root)
    with pytest.raises(data.ChecksumError) as err:
        data.load_mnist(root=root, download=False)
    message = str(err.value)
    bad = root / f"{STEMS[0]}.gz"
    assert str(bad) in message and sha256_of(bad) in message
    assert data.SHA256["mnist"][f"{STEMS[0]}.gz"][0] in message  # the digest it should have had
    assert "verify=False" in message and "--no-verify" in message
    data.load_mnist(root=root, download=False, verify=False)  # your own files: on request


def test_verify_false_is_only_for_a_root_of_your_own(tmp_path):
    with pytest.raises(ValueError, match="verify=False is for a root= directory"):
        data.load_fashion_mnist(download=False, verify=False)


@pytest.mark.parametrize("damage", ["byte flip", "labels shifted by one"])
def test_a_damaged_cache_file_is_refused_not_used(tmp_path, trust, damage):
    cache = tmp_path / "xdg-cache" / "backproplab" / "mnist"
    arrays = write_dataset(cache, gz=False)
    trust(cache)
    check_loaded(data.load_mnist(download=False), arrays)  # verified once, and remembered
    labels = cache / STEMS[3]
    before = labels.read_bytes()
    if damage == "byte flip":
        after = bytearray(before)
        after[-1] ^= 0x01
    else:  # still a valid IDX file, every label wrong: only the digest can tell
        after = bytearray(before[:8] + before[9:] + before[8:9])
    stat = labels.stat()
    labels.write_bytes(bytes(after))
    os.utime(labels, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime: only ctime tells
    with pytest.raises(data.ChecksumError) as err:
        data.load_mnist(download=False)
    assert str(labels) in str(err.value) and hashlib.sha256(bytes(after)).hexdigest() in str(err.value)
    assert hashlib.sha256(before).hexdigest() in str(err.value)


def test_a_damaged_cache_file_beside_downloaded_ones_is_refused(tmp_path, serve, upstream):
    # Issue 20: labels already in the cache, images downloaded (verified) beside them; the labels must be checked.
    directory, _ = upstream
    cache = tmp_path / "xdg-cache" / "backproplab" / "mnist"
    cache.mkdir(parents=True)
    labels = gzip.decompress((directory / f"{STEMS[3]}.gz").read_bytes())
    (cache / STEMS[3]).write_bytes(labels[:8] + bytes((b + 1) % 10 for b in labels[8:]))
    with pytest.raises(data.ChecksumError, match=STEMS[3]):
        data.load_mnist(mirrors=[serve(directory).url])


def test_verification_is_remembered_until_the_file_changes(tmp_path, trust, monkeypatch):
    cache = tmp_path / "xdg-cache" / "backproplab" / "mnist"
    write_dataset(cache)
    trust(cache)
    hashed = []
    real = data._sha256_of
    monkeypatch.setattr(data, "_sha256_of", lambda f: hashed.append(1) or real(f))
    data.load_mnist(download=False)
    assert len(hashed) == 4
    data.load_mnist(download=False)
    assert len(hashed) == 4  # in this process: remembered
    data._VERIFIED.clear()
    data.load_mnist(download=False)
    assert len(hashed) == 4  # in a new process: remembered in verified.json beside the caches
    assert str(cache / f"{STEMS[0]}.gz") in json.loads((cache.parent / "verified.json").read_text())
    (cache / f"{STEMS[1]}.gz").touch()
    data.load_mnist(download=False)
    assert len(hashed) == 5  # that one file changed (its mtime and ctime): hashed again


def test_an_unreadable_verification_record_only_costs_a_hash(tmp_path, trust):
    cache = tmp_path / "xdg-cache" / "backproplab" / "mnist"
    arrays = write_dataset(cache)
    trust(cache)
    (cache.parent / "verified.json").write_text("[not json")
    check_loaded(data.load_mnist(download=False), arrays)
    assert len(json.loads((cache.parent / "verified.json").read_text())) == 4


def test_the_gz_is_read_when_the_uncompressed_file_has_no_known_digest(tmp_path, trust):
    root = tmp_path / "both"
    arrays = write_dataset(root, gz=True)
    trust(root)  # digests of the four .gz files only, as for MNIST
    for stem in STEMS:  # torchvision's layout: each file also uncompressed, damaged here to prove it is not read
        (root / stem).write_bytes(b"\0" * 10)
    check_loaded(data.load_mnist(root=root, download=False), arrays)
    with pytest.raises(ValueError, match=f"{STEMS[0]}: bad IDX magic"):  # unverified: the uncompressed file, first
        data.load_mnist(root=root, download=False, verify=False)


def test_an_uncompressed_mnist_file_cannot_be_verified_and_says_so(tmp_path):
    root = tmp_path / "raw"
    write_dataset(root, gz=False)  # the table has no digests of MNIST's uncompressed files
    with pytest.raises(data.ChecksumError, match=r"expected none \(no digest is known for this file\).*verify=False"):
        data.load_mnist(root=root, download=False)


# -- bounded reads ----------------------------------------------------------------------------------


def test_an_impossible_header_is_refused_with_the_exact_byte_count(tmp_path):
    big = 4294967295
    path = tmp_path / "huge-idx3-ubyte"
    path.write_bytes(struct.pack(">HBB3I", 0, 8, 3, big, big, big) + b"\0" * 10)
    with pytest.raises(ValueError) as err:
        data.read_idx(path)
    declared = 16 + big**3
    assert f"({declared:,} bytes)" in str(err.value) and "file has 26 bytes" in str(err.value)
    gz = write(tmp_path / "huge-idx3-ubyte-z", path.read_bytes(), gz=True)
    with pytest.raises(ValueError, match=rf"\({declared:,} bytes\), more than a \d+-byte gzip file can hold"):
        data.read_idx(gz)


def test_a_gzip_bomb_is_refused_after_the_declared_bytes(tmp_path):
    # 800 declared label bytes, then 64 MB of zeros (64 kB gzipped): refused as trailing data, not inflated.
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(800, np.uint8)) + b"\0" * (64 << 20), compresslevel=9))
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match="trailing bytes"):
        data.read_idx(path)


def test_gzip_of_the_exact_size_with_a_bad_crc_is_refused(tmp_path):
    path = tmp_path / "crc-idx1-ubyte.gz"
    blob = bytearray(gzip.compress(idx_bytes(np.arange(50, dtype=np.uint8))))
    blob[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match=r"crc-idx1-ubyte\.gz: corrupt gzip data"):
        data.read_idx(path)


# -- downloads from local servers -----------------------------------------------------------------


class Server:
    """An http.server on 127.0.0.1 (port 0) serving ``directory``; ``paths`` records each request."""

    def __init__(self, directory: Path, truncate: bool = False):
        paths = self.paths = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                paths.append(self.path)
                if not truncate:
                    return super().do_GET()
                # Promise the whole file, send half, hang up: a connection dropped mid-download.
                body = (directory / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True

        handler = functools.partial(Handler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def serve():
    servers = []

    def start(directory: Path, truncate: bool = False) -> Server:
        servers.append(Server(directory, truncate))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def stalled_url():
    """A port that accepts connections (the kernel's backlog) but never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()


def closed_port() -> int:
    """A port nothing listens on: connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def upstream(tmp_path, monkeypatch):
    """A directory of four .gz files, with their digests installed as the expected MNIST checksums."""
    directory = tmp_path / "upstream"
    arrays = write_dataset(directory, seed=7)
    table = {p.name: (sha256_of(p),) for p in directory.iterdir()}
    # Like the real table for Fashion-MNIST: the uncompressed files' digests too.
    table.update({p.name[:-3]: (hashlib.sha256(gzip.decompress(p.read_bytes())).hexdigest(),)
                  for p in directory.iterdir()})
    monkeypatch.setitem(data.SHA256, "mnist", table)
    return directory, arrays


def test_download_places_verified_files_in_root(tmp_path, serve, upstream):
    directory, arrays = upstream
    server = serve(directory)
    root = tmp_path / "new" / "root"  # created on demand
    check_loaded(data.load_mnist(root=root, mirrors=[server.url]), arrays)
    assert sorted(os.listdir(root)) == sorted(f"{s}.gz" for s in STEMS)  # nothing else: no temp files
    for stem in STEMS:
        assert (root / f"{stem}.gz").read_bytes() == (directory / f"{stem}.gz").read_bytes()
    assert sorted(server.paths) == sorted(f"/{s}.gz" for s in STEMS)
    check_loaded(data.load_mnist(root=root, mirrors=[server.url]), arrays)  # second time: no requests
    assert len(server.paths) == 4


def test_download_into_the_user_cache_when_root_is_none(tmp_path, serve, upstream):
    directory, arrays = upstream
    check_loaded(data.load_mnist(mirrors=[serve(directory).url]), arrays)
    assert len(list((tmp_path / "xdg-cache" / "backproplab" / "mnist").glob("*.gz"))) == 4


def test_download_fetches_only_the_missing_files(tmp_path, serve, upstream):
    directory, arrays = upstream
    root = tmp_path / "root"
    root.mkdir()
    for stem in STEMS[:2]:  # the training files are already here, uncompressed
        (root / stem).write_bytes(gzip.decompress((directory / f"{stem}.gz").read_bytes()))
    server = serve(directory)
    check_loaded(data.load_mnist(root=root, mirrors=[server.url]), arrays)
    assert sorted(server.paths) == sorted(f"/{s}.gz" for s in STEMS[2:])


@pytest.mark.parametrize("first", ["404", "refused", "truncated body"])
def test_a_failing_mirror_is_skipped_for_the_next(tmp_path, serve, upstream, first):
    directory, arrays = upstream
    if first == "404":
        bad = serve(tmp_path).url + "nothing-here/"
    elif first == "refused":
        bad = f"http://127.0.0.1:{closed_port()}/"
    else:
        bad = serve(directory, truncate=True).url
    root = tmp_path / "root"
    check_loaded(data.load_mnist(root=root, mirrors=[bad, serve(directory).url]), arrays)
    assert sorted(os.listdir(root)) == sorted(f"{s}.gz" for s in STEMS)


def test_a_stalled_mirror_times_out_and_the_next_is_used(tmp_path, serve, upstream, stalled_url, monkeypatch):
    directory, arrays = upstream
    monkeypatch.setattr(data, "TIMEOUT", 0.2)
    check_loaded(data.load_mnist(root=tmp_path / "r", mirrors=[stalled_url, serve(directory).url]), arrays)


def test_all_mirrors_failing_lists_each_failure(tmp_path, serve, upstream):
    missing = serve(tmp_path / "nowhere").url
    refused = f"http://127.0.0.1:{closed_port()}/"
    root = tmp_path / "root"
    with pytest.raises(data.DownloadError) as err:
        data.load_mnist(root=root, mirrors=[missing, refused])
    message = str(err.value)
    assert STEMS[0] in message
    assert f"{missing}{STEMS[0]}.gz: HTTPError: HTTP Error 404" in message
    assert f"{refused}{STEMS[0]}.gz: URLError" in message and "refused" in message.lower()
    assert os.listdir(root) == []


def test_checksum_mismatch_names_the_file_and_leaves_nothing(tmp_path, serve, upstream, monkeypatch):
    directory, _ = upstream
    wrong = "0" * 64
    monkeypatch.setitem(data.SHA256["mnist"], f"{STEMS[0]}.gz", (wrong,))
    root = tmp_path / "root"
    with pytest.raises(data.ChecksumError) as err:
        data.load_mnist(root=root, mirrors=[serve(directory).url])
    message = str(err.value)
    assert f"{STEMS[0]}.gz" in message and wrong in message and sha256_of(directory / f"{STEMS[0]}.gz") in message
    assert os.listdir(root) == []  # no temp file, no target


def test_download_file_accepts_any_listed_digest(tmp_path, serve, upstream):
    directory, _ = upstream
    source = directory / f"{STEMS[1]}.gz"
    dest = tmp_path / "d" / "labels.gz"
    dest.parent.mkdir()
    out = data.download_file(serve(directory).url + source.name, dest, ["f" * 64, sha256_of(source).upper()])
    assert out == dest and dest.read_bytes() == source.read_bytes()


def test_download_file_keeps_an_existing_target_when_verification_fails(tmp_path, serve, upstream):
    directory, _ = upstream
    dest = tmp_path / "d" / "t.gz"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    with pytest.raises(data.ChecksumError, match=r"t\.gz"):
        data.download_file(serve(directory).url + f"{STEMS[3]}.gz", dest, "0" * 64)
    assert dest.read_bytes() == b"old" and os.listdir(dest.parent) == ["t.gz"]


def test_dropped_connection_leaves_no_partial_file(tmp_path, serve, upstream):
    directory, _ = upstream
    source = directory / f"{STEMS[0]}.gz"
    dest = tmp_path / "d" / "images.gz"
    dest.parent.mkdir()
    with pytest.raises((OSError, http.client.HTTPException)):
        data.download_file(serve(directory, truncate=True).url + source.name, dest, sha256_of(source))
    assert os.listdir(dest.parent) == []


def test_timeout_leaves_no_partial_file(tmp_path, stalled_url):
    dest = tmp_path / "d" / "x.gz"
    dest.parent.mkdir()
    with pytest.raises(OSError):
        data.download_file(stalled_url + "x.gz", dest, "0" * 64, timeout=0.2)
    assert os.listdir(dest.parent) == []


@pytest.fixture
def trickle_url():
    """A server that sends headers at once, then the body one byte every 20 ms (a 1 MB body would take hours)."""
    stop = threading.Event()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(0.1)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                while not stop.is_set():
                    try:
                        conn.sendall(b"x")
                    except OSError:
                        break
                    stop.wait(0.02)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    stop.set()
    thread.join()
    sock.close()


def test_a_trickling_download_stops_at_the_deadline_and_keeps_nothing(tmp_path, trickle_url):
    dest = tmp_path / "d" / "x.gz"
    dest.parent.mkdir()
    with pytest.raises(TimeoutError, match=r"not finished after 0.3 s \(\d+ bytes received\); nothing kept"):
        data.download_file(trickle_url + "x.gz", dest, "0" * 64, timeout=2, deadline=0.3)
    assert os.listdir(dest.parent) == []


def test_partial_files_of_a_killed_download_are_removed_before_downloading(tmp_path, serve, upstream):
    directory, arrays = upstream
    root = tmp_path / "root"
    root.mkdir()
    stale, live = root / f".{STEMS[0]}.gz.abc123.tmp", root / f".{STEMS[0]}.gz.def456.tmp"
    stale.write_bytes(b"half a file")
    live.write_bytes(b"still being written")
    old = os.stat(stale).st_mtime - data.DEADLINE - 3 * data.TIMEOUT
    os.utime(stale, (old, old))
    check_loaded(data.load_mnist(root=root, mirrors=[serve(directory).url]), arrays)
    assert not stale.exists() and live.exists()  # a download as old as the deadline is dead; a newer one may not be


# -- batches --------------------------------------------------------------------------------------


def test_batches_cover_every_row_once_with_a_smaller_last_batch():
    x = np.arange(10 * 2).reshape(10, 2)
    y = np.arange(10) * 10
    out = list(data.batches(x, y, 3, rng=0))
    assert [len(xb) for xb, _ in out] == [3, 3, 3, 1]
    xs = np.concatenate([xb for xb, _ in out])
    ys = np.concatenate([yb for _, yb in out])
    assert sorted(ys.tolist()) == list(range(0, 100, 10))
    np.testing.assert_array_equal(xs[:, 0], ys // 5)  # each x row stays with its own label
    assert ys.tolist() != sorted(ys.tolist())  # shuffled (P(identity) = 1/10! for a fair shuffle)


@given(n=st.integers(0, 60), batch_size=st.integers(1, 70), drop_last=st.booleans(), seed=st.integers(0, 9))
def test_batches_partition_the_data(n, batch_size, drop_last, seed):
    y = np.arange(n)
    sizes, seen = [], []
    for xb, yb in data.batches(y * 2.0, y, batch_size, rng=seed, drop_last=drop_last):
        np.testing.assert_array_equal(xb, yb * 2.0)
        sizes.append(len(yb))
        seen.extend(yb.tolist())
    full, rest = divmod(n, batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest and not drop_last else [])
    assert len(set(seen)) == len(seen) and set(seen) <= set(range(n))


def test_batches_shuffle_is_deterministic_given_a_seed_or_generator():
    x = np.arange(100)

    def order(**kw):
        return np.concatenate([xb for xb, _ in data.batches(x, x, 7, **kw)]).tolist()

    assert order(rng=42) == order(rng=42)
    assert order(rng=np.random.default_rng(42)) == order(rng=42)
    assert order(rng=1) != order(rng=2)
    gen = np.random.default_rng(5)
    assert order(rng=gen) != order(rng=gen)  # a Generator advances: each epoch is a new order


def test_batches_without_shuffle_are_in_order_and_views():
    x = np.arange(12.0).reshape(6, 2)
    out = list(data.batches(x, np.arange(6), 4, shuffle=False))
    assert [b.tolist() for b, _ in out] == [x[:4].tolist(), x[4:].tolist()]
    assert np.shares_memory(out[0][0], x)


@pytest.mark.parametrize("args, error, message", [
    ((np.zeros((5, 2)), np.zeros(4), 2), ValueError, "same length, got 5 and 4"),
    ((np.zeros((5, 2)), np.zeros(5), 0), ValueError, "batch_size must be positive, got 0"),
    ((np.zeros((5, 2)), np.zeros(5), -3), ValueError, "positive, got -3"),
    ((np.zeros((5, 2)), np.zeros(5), 2.5), TypeError, "batch_size must be an int"),
    ((np.float32(1.0), np.zeros(5), 2), ValueError, "batch dimension"),
])
def test_batches_reject_bad_arguments_when_called(args, error, message):
    with pytest.raises(error, match=message):
        data.batches(*args)  # no iteration needed: checked eagerly


# -- the real thing -------------------------------------------------------------------------------


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason=f"{DEBIAN_DIR} absent (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist_from_the_debian_package(monkeypatch):
    monkeypatch.setitem(data.SYSTEM_DIRS, "fashion-mnist", (str(DEBIAN_DIR),))
    for stem in STEMS:  # the digest table knows these files
        assert sha256_of(DEBIAN_DIR / f"{stem}.gz") in data.SHA256["fashion-mnist"][f"{stem}.gz"]
    ds = data.load_fashion_mnist(download=False)
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert ds.y_train.shape == (60000,) and ds.y_test.shape == (10000,)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10


# -- two moons ------------------------------------------------------------------------------------


def test_make_moons_lies_on_the_two_half_circles_without_noise():
    X, y = data.make_moons(10, noise=0.0, rng=0)
    assert len(X) == len(y) == 10 and sorted(y) == [-1] * 5 + [1] * 5
    for (x1, x2), label in zip(X, y):
        if label == -1:  # upper moon: (cos t, sin t), on the unit circle, above the axis
            assert x1**2 + x2**2 == pytest.approx(1.0) and x2 >= -1e-12
        else:  # lower moon: (1 − cos t, ½ − sin t), on the unit circle around (1, ½), below y = ½
            assert (x1 - 1) ** 2 + (x2 - 0.5) ** 2 == pytest.approx(1.0) and x2 <= 0.5 + 1e-12
    assert [1.0, 0.0] in [[round(a, 12), round(b, 12)] for a, b in X]  # t = 0 on the upper moon


def test_make_moons_seed_noise_and_errors():
    X1, y1 = data.make_moons(30, noise=0.1, rng=5)
    assert (X1, y1) == data.make_moons(30, noise=0.1, rng=np.random.default_rng(5))
    assert data.make_moons(30, noise=0.1, rng=6)[0] != X1
    assert isinstance(X1[0][0], float) and isinstance(y1[0], int)  # plain Python, for the scalar engine
    with pytest.raises(ValueError, match="n_samples >= 2"):
        data.make_moons(1)
    with pytest.raises(ValueError, match=r"noise .* must be >= 0"):
        data.make_moons(10, noise=-0.1)


def test_import_nn_does_not_load_the_network_stack():
    # urllib.request pulls in http, email and ssl (~25 ms); only a download needs them.
    code = "import sys, nn; print(sorted(m for m in ('urllib.request', 'http.client', 'ssl') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"

