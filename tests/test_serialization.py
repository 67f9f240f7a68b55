"""nn.save / nn.load: exact round trips, atomic replacement (even under SIGKILL), errors that name the file."""
from __future__ import annotations

import io
import itertools
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nn
from autograd import Tensor, Value
from nn import serialization
from nn.layers import Linear, ReLU, Sequential

ROOT = Path(__file__).resolve().parents[1]


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- round trip ------------------------------------------------------------------------------------


def test_round_trip_keeps_dtypes_shapes_values_and_order(tmp_path):
    rng = np.random.default_rng(0)
    state = {
        "z.last_first": rng.standard_normal((3, 4)).astype(np.float32),
        "0.weight": rng.standard_normal((2, 5)),  # float64
        "layers.10.bias": np.arange(7, dtype=np.int8),
        "a": np.float16(1.5) * np.ones((2, 0, 3), dtype=np.float16),  # empty
        "scalar": np.array(3.25),  # 0-d
        "mask": np.array([[True, False], [False, True]]),
        "big_int": np.array([2**62, -(2**62)], dtype=np.int64),
        "bytes": np.arange(256, dtype=np.uint8).reshape(16, 16),
        "fortran": np.asfortranarray(rng.standard_normal((3, 2))),
        "strided": np.arange(20.0)[::3],
    }
    path = tmp_path / "model.npz"
    nn.save(state, path)
    loaded = nn.load(path)
    assert list(loaded) == list(state)  # the saved order, not sorted
    for name, arr in state.items():
        assert loaded[name].dtype == arr.dtype, name
        assert loaded[name].shape == arr.shape, name
        np.testing.assert_array_equal(loaded[name], arr)


def test_path_is_used_exactly_as_given_and_numpy_can_read_it(tmp_path):
    # np.savez would write "weights.npz" here; we write the name we were given.
    path = tmp_path / "weights"
    nn.save({"0.weight": np.eye(2), "1.bias": np.ones(3, np.float32)}, str(path))
    assert _files(tmp_path) == ["weights"]
    with np.load(path, allow_pickle=False) as archive:  # a plain .npz: NumPy reads it unaided
        assert archive.files == ["0.weight", "1.bias"]
        np.testing.assert_array_equal(archive["0.weight"], np.eye(2))


def test_keys_that_clash_with_numpy_savez_arguments_round_trip(tmp_path):
    state = {"file": np.array([1.0]), "allow_pickle": np.array([2.0]), "x/y": np.array([3.0]), "a.npy": np.zeros(1)}
    nn.save(state, tmp_path / "m.npz")
    loaded = nn.load(tmp_path / "m.npz")
    assert list(loaded) == list(state)
    assert [float(v[0]) for v in loaded.values()] == [1.0, 2.0, 3.0, 0.0]


def test_empty_state_dict_round_trips(tmp_path):
    nn.save({}, tmp_path / "empty.npz")
    assert nn.load(tmp_path / "empty.npz") == {}


def test_tensors_and_values_are_saved_as_their_data(tmp_path):
    t = Tensor(np.array([[1.0, 2.0]], dtype=np.float32), requires_grad=True)
    nn.save({"t": t, "v": Value(-0.5)}, tmp_path / "m.npz")
    loaded = nn.load(tmp_path / "m.npz")
    assert loaded["t"].dtype == np.float32 and loaded["t"].tolist() == [[1.0, 2.0]]
    assert loaded["v"].dtype == np.float64 and loaded["v"].shape == () and float(loaded["v"]) == -0.5


def test_saving_again_replaces_the_file(tmp_path):
    path = tmp_path / "m.npz"
    nn.save({"a": np.zeros(3), "b": np.ones(1)}, path)
    nn.save({"c": np.full(2, 7.0)}, path)
    loaded = nn.load(path)
    assert list(loaded) == ["c"] and loaded["c"].tolist() == [7.0, 7.0]
    assert _files(tmp_path) == ["m.npz"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saved_file_gets_the_usual_permissions_not_the_temp_files_0600(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    nn.save({"a": np.ones(1)}, tmp_path / "m.npz")
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o666 & ~umask


_keys = st.text(alphabet="abcxyz019._", min_size=1, max_size=12)
_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64, np.int32, np.uint8, np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)


@given(st.dictionaries(_keys, _arrays, max_size=6))
def test_any_state_dict_round_trips_bit_for_bit(tmp_path_factory, state):
    path = tmp_path_factory.mktemp("prop") / "m.npz"
    nn.save(state, path)
    loaded = nn.load(path)
    assert list(loaded) == list(state)
    for name, arr in state.items():
        assert loaded[name].dtype == arr.dtype and loaded[name].shape == arr.shape
        # Compare bytes so NaNs and signed zeros count too.
        assert loaded[name].tobytes() == np.ascontiguousarray(arr).tobytes()


# -- atomicity -------------------------------------------------------------------------------------


def test_failed_replace_leaves_previous_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    nn.save({"w": np.full(4, 1.0)}, path)

    def broken_replace(src, dst):
        raise OSError("disk went away")

    monkeypatch.setattr(serialization.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk went away"):
        nn.save({"w": np.full(4, 2.0)}, path)
    assert _files(tmp_path) == ["m.npz"]
    assert nn.load(path)["w"].tolist() == [1.0] * 4


def test_error_while_writing_leaves_previous_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    nn.save({"a": np.full(3, 1.0), "b": np.full(3, 1.0)}, path)
    real_write = np.lib.format.write_array
    calls = []

    def fail_on_second_member(fp, arr, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # like Ctrl-C halfway through the file
        return real_write(fp, arr, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", fail_on_second_member)
    with pytest.raises(KeyboardInterrupt):
        nn.save({"a": np.full(3, 2.0), "b": np.full(3, 2.0)}, path)
    assert _files(tmp_path) == ["m.npz"]
    loaded = nn.load(path)
    assert loaded["a"].tolist() == [1.0] * 3 and loaded["b"].tolist() == [1.0] * 3


# The child saves version 1, then starts saving version 2 and stops dead after writing the first member,
# telling the parent, which kills it there with SIGKILL: no Python cleanup can run.
_KILLED_MID_SAVE = """
import sys, time
import numpy as np
import nn
path, n = sys.argv[1], 200_000
nn.save({"a": np.full(n, 1.0), "b": np.full(n, 1.0)}, path)
real_write = np.lib.format.write_array
calls = []
def stall_on_second_member(fp, arr, **kwargs):
    calls.append(1)
    if len(calls) == 2:
        print("mid-save", flush=True)
        time.sleep(60)
    return real_write(fp, arr, **kwargs)
np.lib.format.write_array = stall_on_second_member
nn.save({"a": np.full(n, 2.0), "b": np.full(n, 2.0)}, path)
"""

# The child saves versions 0, 1, 2, ... over one path as fast as it can until it is killed.
_SAVE_FOREVER = """
import sys
import numpy as np
import nn
path, n = sys.argv[1], 300_000
i = 0
while True:
    nn.save({"a": np.full(n, float(i)), "b": np.full(n, float(i))}, path)
    print(i, flush=True)
    i += 1
"""


def _spawn(script: str, path: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True, env=env)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX-only")
def test_sigkill_in_the_middle_of_a_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "m.npz"
    child = _spawn(_KILLED_MID_SAVE, path)
    try:
        assert child.stdout.readline().strip() == "mid-save"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    loaded = nn.load(path)  # the old version, whole
    assert list(loaded) == ["a", "b"]
    assert loaded["a"].shape == (200_000,) and np.all(loaded["a"] == 1.0) and np.all(loaded["b"] == 1.0)
    # The half-written new version is a temp file beside it, never the file itself.
    leftovers = [name for name in _files(tmp_path) if name != "m.npz"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".m.npz.") and leftovers[0].endswith(".tmp")
    # The next save still works and replaces the file.
    nn.save({"a": np.full(2, 3.0)}, path)
    assert nn.load(path)["a"].tolist() == [3.0, 3.0]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX-only")
def test_sigkill_at_random_moments_always_leaves_one_complete_version(tmp_path):
    path = tmp_path / "m.npz"
    rng = np.random.default_rng(1)
    for _ in range(3):
        child = _spawn(_SAVE_FOREVER, path)
        try:
            child.stdout.readline()  # at least one save has finished
            time.sleep(float(rng.uniform(0.0, 0.15)))
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=30)
            child.stdout.close()
        loaded = nn.load(path)
        assert list(loaded) == ["a", "b"]
        assert loaded["a"].shape == (300_000,) and loaded["b"].shape == (300_000,)
        version = loaded["a"][0]
        assert np.all(loaded["a"] == version) and np.all(loaded["b"] == version)  # one version, not a mix


# -- errors ----------------------------------------------------------------------------------------


def test_load_missing_file_names_it(tmp_path):
    path = tmp_path / "nowhere" / "model.npz"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        nn.load(path)


def test_load_garbage_file_names_it(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("these are not the weights you are looking for\n")
    with pytest.raises(ValueError, match=r"notes\.npz.*not an \.npz"):
        nn.load(path)


def test_load_truncated_file_names_it(tmp_path):
    path = tmp_path / "cut.npz"
    nn.save({"w": np.arange(1000.0)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.npz"):
        nn.load(path)


def test_load_detects_a_flipped_byte_in_the_data(tmp_path):
    path = tmp_path / "flip.npz"
    nn.save({"w": np.full(100, 1.0)}, path)
    data = bytearray(path.read_bytes())
    one = np.float64(1.0).tobytes()
    i = data.index(one) + 8 * 50  # inside the array's data, well past its header
    data[i] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"flip\.npz.*corrupt"):
        nn.load(path)


def test_load_npy_file_explains_it_is_not_an_archive(tmp_path):
    path = tmp_path / "single.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError, match=r"single\.npy.*\.npy array"):
        nn.load(path)


def test_load_directory_names_it(tmp_path):
    with pytest.raises(IsADirectoryError, match=str(tmp_path.name)):
        nn.load(tmp_path)


def test_save_into_a_missing_directory_names_the_target_not_the_temporary_file(tmp_path):
    target = tmp_path / "no" / "such" / "model.npz"
    with pytest.raises(FileNotFoundError) as info:
        nn.save({"w": np.ones(2)}, target)
    message = str(info.value)
    assert f"cannot write '{target}'" in message and f"'{target.parent}' does not exist" in message
    assert ".tmp" not in message
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match=r"'.*file' is not a directory"):
        nn.save({"w": np.ones(2)}, tmp_path / "file" / "model.npz")


def test_save_rejects_object_arrays_non_string_keys_and_modules(tmp_path):
    with pytest.raises(TypeError, match=r"'w'.*object"):
        nn.save({"w": np.array([{"a": 1}], dtype=object)}, tmp_path / "m.npz")
    with pytest.raises(TypeError, match="keys must be non-empty strings"):
        nn.save({0: np.ones(1)}, tmp_path / "m.npz")
    with pytest.raises(TypeError, match=r"model\.state_dict\(\)"):
        nn.save(Sequential(Linear(2, 2)), tmp_path / "m.npz")
    assert _files(tmp_path) == []  # nothing written, not even a temp file


# -- through a real model: load_state_dict's errors after a round trip -------------------------------


def _mlp(sizes: tuple[int, ...], seed: int) -> Sequential:
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(Linear(a, b, rng=rng))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Sequential(*layers)


def test_model_round_trip_restores_parameters_and_outputs(tmp_path):
    trained, fresh = _mlp((4, 3, 2), seed=0), _mlp((4, 3, 2), seed=1)
    x = Tensor(np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32))
    assert not np.allclose(trained(x).data, fresh(x).data)
    nn.save(trained.state_dict(), tmp_path / "model.npz")
    loaded = nn.load(tmp_path / "model.npz")
    assert list(loaded) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert loaded["0.weight"].shape == (3, 4)  # (out, in), as in PyTorch
    fresh.load_state_dict(loaded)
    np.testing.assert_array_equal(fresh(x).data, trained(x).data)
    assert fresh.layers[0].weight.data.dtype == np.float32


def test_model_load_reports_a_missing_key(tmp_path):
    state = _mlp((4, 3, 2), seed=0).state_dict()
    del state["2.bias"]
    nn.save(state, tmp_path / "model.npz")
    with pytest.raises(KeyError, match=r"missing keys \['2\.bias'\]"):
        _mlp((4, 3, 2), seed=1).load_state_dict(nn.load(tmp_path / "model.npz"))


def test_model_load_reports_an_unexpected_key(tmp_path):
    state = _mlp((4, 3, 2), seed=0).state_dict()
    state["4.weight"] = np.zeros((1, 2), np.float32)
    nn.save(state, tmp_path / "model.npz")
    with pytest.raises(KeyError, match=r"unexpected keys \['4\.weight'\]"):
        _mlp((4, 3, 2), seed=1).load_state_dict(nn.load(tmp_path / "model.npz"))


def test_model_load_reports_both_shapes_and_changes_nothing(tmp_path):
    nn.save(_mlp((4, 5, 2), seed=0).state_dict(), tmp_path / "model.npz")
    model = _mlp((4, 3, 2), seed=1)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"'0\.weight'.*\(5, 4\).*\(3, 4\)"):
        model.load_state_dict(nn.load(tmp_path / "model.npz"))
    for name, arr in model.state_dict().items():
        np.testing.assert_array_equal(arr, before[name])


# -- load_state_dict takes real numbers only (PyTorch's rules), and says so --------------------------


@pytest.mark.parametrize("entry, error, message", [
    ("2.5", TypeError, r"'0\.bias' is str '2\.5', not an array of numbers"),
    (np.array(["2.5", "1", "0"]), TypeError, r"dtype <U3 \(text\)"),
    (b"abc", TypeError, "is bytes"),
    (np.array([1, 2, 3], "datetime64[s]"), TypeError, r"datetime64\[s\] \(datetimes\)"),
    (np.array([1, 2, 3], "timedelta64[s]"), TypeError, r"timedelta64\[s\] \(time differences\)"),
    (np.array([1 + 2j, 0, 0]), TypeError, r"complex128 \(complex numbers\); the parameter is float32"),
    (np.array([1, None, 0], dtype=object), TypeError, r"dtype object \(Python objects\)"),
    (np.zeros(3, dtype=[("a", "f4")]), TypeError, "raw or structured records"),
    ([1.0, [2.0], 3.0], TypeError, "not an array of numbers"),
    (np.array([1e300, 0.0, 0.0]), ValueError, (r"holds 1e\+300 at index \(0,\), which float32 cannot hold \(it would "
                                              r"become inf\)")),
])
def test_load_state_dict_refuses_what_is_not_a_real_number_array(entry, error, message):
    model = _mlp((4, 3, 2), seed=0)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    state = {**model.state_dict(), "0.weight": np.ones((3, 4), np.float32), "0.bias": entry}
    with pytest.raises(error, match=message):
        model.load_state_dict(state)
    for name, arr in model.state_dict().items():  # nothing changed, not even the valid entry before it
        np.testing.assert_array_equal(arr, before[name])


def test_load_state_dict_casts_real_numbers_of_any_width_as_pytorch_does():
    model = _mlp((2, 1), seed=0)
    model.load_state_dict({"0.weight": np.array([[1, 2]], np.int64), "0.bias": np.array([True])})
    assert model.layers[0].weight.data.tolist() == [[1.0, 2.0]] and model.layers[0].bias.data.tolist() == [1.0]
    assert model.layers[0].weight.data.dtype == np.float32
    model.load_state_dict({"0.weight": [[0.5, 0.25]], "0.bias": Tensor(np.array([3.0]))})
    assert model.layers[0].weight.data.tolist() == [[0.5, 0.25]] and model.layers[0].bias.data.tolist() == [3.0]


def test_load_state_dict_warns_when_it_loads_nan_or_inf_into_finite_weights():
    model = _mlp((2, 1), seed=0)
    with pytest.warns(RuntimeWarning, match=r"'0\.weight' holds 2 non-finite value\(s\)"):
        model.load_state_dict({"0.weight": np.array([[np.nan, np.inf]]), "0.bias": np.zeros(1)})
    assert np.isnan(model.layers[0].weight.data[0, 0])  # loaded as asked: a diverged checkpoint can be looked at
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the model already holds nan: loading nan again says nothing
        model.load_state_dict({"0.weight": np.array([[np.nan, 1.0]]), "0.bias": np.zeros(1)})


def test_load_state_dict_of_a_scalar_model_takes_numbers():
    from nn.scalar import Neuron

    neuron = Neuron(2)
    state = {name: np.float64(i + 0.5) for i, name in enumerate(neuron.state_dict())}
    neuron.load_state_dict(state)
    assert [p.data for p in neuron.parameters()] == [0.5, 1.5, 2.5]
    with pytest.raises(TypeError, match="is str"):
        neuron.load_state_dict({**state, "b": "1"})


# -- hostile files: nn.load reads only what a file declares, and only numbers ---------------------


def _npz_with(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    return buffer.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _npy(arr: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, arr, allow_pickle=True)
    return buffer.getvalue()


@pytest.mark.parametrize("members, message", [
    ({"w.npy": _npy(np.ones(2)), "notes.txt": b"hello"}, r"member 'notes\.txt' is not a \.npy array"),
    ({"w.npy": _npy(np.array([1, "a"], dtype=object))}, r"member 'w\.npy' has dtype object \(Python objects"),
    ({"w.npy": _npy(np.array(["2.5"]))}, r"has dtype <U3 \(text\)"),
    ({"w.npy": _npy(np.array([b"x"]))}, r"has dtype \|S1 \(bytes\)"),
    ({"w.npy": _npy(np.array([1], "datetime64[D]"))}, r"datetime64\[D\] \(datetimes\)"),
    ({"w.npy": _npy(np.zeros(2, dtype=[("a", "<f4")]))}, "raw or structured records"),
    ({"w.npy": _npy_header((10**12,)) + b"\0" * 16}, (r"declares shape \(1000000000000,\) of float64 "
                                                     r"\(8,000,000,000,000 bytes\) but holds 16 bytes")),
    ({"w.npy": _npy_header((3,)) + b"\0" * 32}, r"declares shape \(3,\) of float64 \(24 bytes\) but holds 32 bytes"),
    ({"w.npy": b"not a numpy header at all"}, r"member 'w\.npy' has no valid \.npy header"),
    ({"dir/": b""}, r"member 'dir/' is not a \.npy array"),
])
def test_load_refuses_members_that_are_not_numeric_arrays_naming_them(tmp_path, members, message):
    path = tmp_path / "hostile.npz"
    path.write_bytes(_npz_with(members))
    with pytest.raises(ValueError, match=message) as err:
        nn.load(path)
    assert "hostile.npz" in str(err.value)


def test_load_refuses_an_archive_declaring_more_than_the_cap_before_reading_it(tmp_path):
    # A zip whose central directory declares an 8 TB member (the data is not there): refused from the directory.
    path = tmp_path / "huge.npz"
    blob = bytearray(_npz_with({"w.npy": _npy_header((10,)) + b"\0" * 80}))
    size = (len(_npy_header((10,))) + 80).to_bytes(4, "little")
    central = blob.rindex(b"PK\x01\x02")
    assert blob[central + 24:central + 28] == size  # the uncompressed size field of the central directory entry
    blob[central + 24:central + 28] = (0xFFFFFFFF).to_bytes(4, "little")
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match=r"declares 4,294,967,295 bytes of arrays \(counting up to member 'w\.npy'\), "
                                         r"more than the cap of 1,073,741,824; pass max_bytes="):
        nn.load(path)


def test_load_refuses_a_deflate_bomb_by_its_declared_size_and_max_bytes_lifts_the_cap(tmp_path):
    path = tmp_path / "bomb.npz"
    n = 2**21  # 16 MiB of float64 zeros: a 16 kB file
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("w.npy", _npy_header((n,)) + bytes(8 * n))
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 40_000
    with pytest.raises(ValueError, match="more than the cap of 1,000,000"):
        nn.load(path, max_bytes=1_000_000)
    assert serialization.declared_arrays(path) == {"w": ((n,), np.dtype("float64"))}
    assert nn.load(path, max_bytes=None)["w"].shape == (n,)  # on purpose: no cap


def test_numpy_savez_and_savez_compressed_files_load(tmp_path):
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez(tmp_path / "plain.npz", a=np.arange(3, dtype=np.int16), b=fortran)
    np.savez_compressed(tmp_path / "small.npz", c=np.full((2, 2), 0.5, np.float32), d=np.array(True))
    plain, small = nn.load(tmp_path / "plain.npz"), nn.load(tmp_path / "small.npz")
    assert plain["a"].dtype == np.int16 and plain["a"].tolist() == [0, 1, 2]
    np.testing.assert_array_equal(plain["b"], fortran)
    assert small["c"].tolist() == [[0.5, 0.5], [0.5, 0.5]] and small["d"].shape == () and bool(small["d"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_load_refuses_a_fifo_at_once_instead_of_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"model\.npz' is a FIFO \(named pipe\), not an \.npz file"):
        nn.load(fifo)  # before the fix this blocked forever in open()


def test_load_names_a_symlink_loop_and_a_device(tmp_path):
    loop = tmp_path / "loop.npz"
    loop.symlink_to(loop)
    with pytest.raises(OSError, match=r"loop\.npz': too many levels of symbolic links") as err:
        nn.load(loop)
    assert not isinstance(err.value, FileNotFoundError)  # it exists, as a link; "no such file" was wrong
    with pytest.raises(ValueError, match=r"'/dev/zero' is a character device, not an \.npz file"):
        nn.load("/dev/zero")
