"""A comparison directory: compare.json written whole and readable by a person, read back, and the one
line a user sees when it is missing or damaged."""
from __future__ import annotations

import json

import pytest

from hpsearch.errors import UsageError
from hpsearch.store.comparisons import (
    SETTINGS_FILE,
    CompareError,
    is_comparison_dir,
    load_settings,
    run_name,
    save_settings,
)


def test_save_then_load(tmp_path):
    settings = {"problem": "branin", "algos": ["random", "asha"], "finished": ["random-seed0"]}
    assert not is_comparison_dir(tmp_path)
    save_settings(tmp_path, settings)
    assert is_comparison_dir(tmp_path) and load_settings(tmp_path) == settings
    assert (tmp_path / SETTINGS_FILE).read_text() == json.dumps(settings, indent=2)  # one key a line
    assert sorted(p.name for p in tmp_path.iterdir()) == [SETTINGS_FILE]  # no temporary file left


def test_a_folder_without_compare_json_is_one_line(tmp_path):
    with pytest.raises(CompareError) as info:
        load_settings(tmp_path / "nowhere")
    assert str(info.value) == f"{tmp_path / 'nowhere'}: not a comparison directory (no compare.json in it)"
    assert isinstance(info.value, UsageError)


def test_a_damaged_compare_json_is_one_line(tmp_path):
    (tmp_path / SETTINGS_FILE).write_text("{not json")
    with pytest.raises(CompareError, match=r"compare.json: unreadable \(Expecting property name"):
        load_settings(tmp_path)


def test_run_names():
    assert run_name("asha+kde", 3) == "asha+kde-seed3"
