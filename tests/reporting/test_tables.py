"""Result tables: best first (failed rows last, by trial id, only when asked), the columns a run's
rows need, and the text, CSV and JSON renderings."""
from __future__ import annotations

import json
import math

from hpsearch.reporting.tables import format_rows, format_value, ranked, results_rows
from hpsearch.search.base import Suggestion
from hpsearch.store import RunStore
from hpsearch.trial import TrialResult


def finished_store(tmp_path, results, settings=None):
    s = RunStore.create(tmp_path / "run", {"space": {"objective": "loss", "direction": "minimize"},
                                           **(settings or {})}, ["x"])
    s.add_trials(list(range(len(results))), [Suggestion({"x": i / 10}, i) for i in range(len(results))], 0,
                 len(results))
    for seq, r in enumerate(results, 1):
        s.finish_trial(r, seq)
    return s


def res(tid, status="done", objective=None, **kw):
    return TrialResult(trial_id=tid, status=status, objective=objective, started_at=1.0, finished_at=2.0,
                       duration_s=1.0, worker="w0", **kw)


def test_format_value():
    assert [format_value(v) for v in (None, 0.123456789, 1e-12, 3, "relu", math.nan, -math.inf, True)] == [
        "", "0.123457", "1e-12", "3", "relu", "nan", "-inf", "True"]


def test_ranked_best_first_then_failed_by_trial_id_when_asked(tmp_path):
    s = finished_store(tmp_path, [res(0, "failed", error="boom"), res(1, objective=0.5),
                                  res(2, objective=0.2), res(3, "timeout"), res(4, objective=0.9)])
    assert [t.trial_id for t in ranked(s)] == [2, 1, 4]
    assert [t.trial_id for t in ranked(s, include_failed=True)] == [2, 1, 4, 0, 3]
    s.close()


def test_results_rows_columns_rank_and_optional_columns(tmp_path):
    s = finished_store(tmp_path, [res(0, objective=0.5, metrics={"acc": 0.7}), res(1, "failed", error="e"),
                                  res(2, "stopped", objective=0.3, step=4, devices=["1"])])
    head, rows = results_rows(s, ranked(s, include_failed=True))
    assert head == ["rank", "trial_id", "config_id", "objective", "x", "m:acc", "status", "step_reached",
                    "duration_s", "devices"]
    # a stopped trial (cut short) is not ranked among the finished ones: it follows, by trial id
    assert rows == [[1, 0, 0, 0.5, 0.0, 0.7, "done", None, 1.0, ""],
                    ["-", 1, 1, None, 0.1, None, "failed", None, 1.0, ""],
                    ["-", 2, 2, 0.3, 0.2, None, "stopped", 4, 1.0, "1"]]
    head, rows = results_rows(s, [t for t in ranked(s) if t.trial_id == 0])
    assert head == ["rank", "trial_id", "config_id", "objective", "x", "m:acc", "status", "duration_s"]
    s.close()


HEAD, ROWS = ["name", "value"], [["a", 0.5], ["long name", None], ["c", math.nan]]


def test_text_table_aligned_right_or_left_with_a_rule():
    assert format_rows(HEAD, ROWS).splitlines() == [
        "     name  value",
        "---------  -----",
        "        a    0.5",
        "long name",
        "        c    nan"]
    assert format_rows(HEAD, ROWS, align="left").splitlines() == [
        "name       value",
        "---------  -----",
        "a          0.5",
        "long name",
        "c          nan"]


def test_csv_and_json():
    assert format_rows(HEAD, ROWS, "csv") == "name,value\na,0.5\nlong name,\nc,nan"
    assert json.loads(format_rows(HEAD, ROWS, "json")) == [
        {"name": "a", "value": 0.5}, {"name": "long name", "value": None}, {"name": "c", "value": None}]
    nested = format_rows(["m"], [[{"a": [math.inf, 1.0]}]], "json")
    assert json.loads(nested) == [{"m": {"a": [None, 1.0]}}]
