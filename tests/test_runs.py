"""nn.train.runs, the run directory of python -m nn.train: what --out may be, and how a refusal reads.

End-to-end behaviour (checkpoints per epoch, --force, numbered default directories) is in tests/test_train.py.
"""
from __future__ import annotations

import pytest

from nn.train import runs


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
