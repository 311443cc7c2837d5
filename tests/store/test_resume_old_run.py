"""Run directories written by the previous release resume with this one, as if never stopped.

``tests/data/runs/`` holds run directories that the previous release (commit d0ba54b, before the
modules were grouped by layer) wrote and stopped early; from that checkout::

    python -m hpsearch run --problem branin --algo random --max-evals 6 --seed 3 \\
        --evaluator serial --run-dir branin-random
    python -m hpsearch run --problem hartmann6lc --algo hyperband --max-resource 9 --max-evals 10 \\
        --seed 3 --evaluator serial --run-dir hartmann6lc-hyperband

then ``PRAGMA wal_checkpoint(TRUNCATE)`` on each results.db; results.db and results.csv copied (no
lock file, no write-ahead log). The hyperband run stops inside its first bracket's second rung.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from hpsearch.cli import cli
from hpsearch.problem.loader import bundled_dir
from hpsearch.run.runner import RunConfig, start_run

from ..conftest import DATA

OLD_RUNS = DATA / "runs"

#: fixture folder -> (the settings it was started with, --max-evals for the resumed run)
CASES = {
    "branin-random": ({"problem": "branin", "algo": "random"}, 12),
    "hartmann6lc-hyperband": ({"problem": "hartmann6lc", "algo": "hyperband",
                               "algo_options": {"max_resource": 9}}, 100),  # the schedule ends at 22
}
SEED = 3

#: what an evaluation is, without when and where it ran
RESULT_COLUMNS = "trial_id, config_id, bracket, rung, budget, previous_budget, params, objective, metrics, status, error"


def _rows(run_dir: Path, columns: str = "*", table: str = "trials") -> list[tuple]:
    con = sqlite3.connect(f"file:{run_dir / 'results.db'}?mode=ro", uri=True)
    try:
        order = "trial_id" if table == "trials" else "trial_id, seq"
        return con.execute(f"SELECT {columns} FROM {table} ORDER BY {order}").fetchall()
    finally:
        con.close()


def _installed_here(run_dir: Path, problem: str) -> None:
    """Point the stored problem folder at this install's bundled copy.

    A run stores its problem folder's absolute path; these were written in another checkout.
    A user who upgrades hpsearch in place finds the bundled folder at the same path as before.
    """
    con = sqlite3.connect(run_dir / "results.db")
    try:
        (text,) = con.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        settings = json.loads(text)
        settings["problem_dir"] = str(bundled_dir() / problem)
        with con:
            con.execute("UPDATE meta SET value = ? WHERE key = 'settings'", (json.dumps(settings),))
    finally:
        con.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_run_written_by_the_previous_release_resumes_as_if_never_stopped(name, tmp_path, runner):
    settings, max_evals = CASES[name]
    old = tmp_path / "old"
    shutil.copytree(OLD_RUNS / name, old)
    _installed_here(old, settings["problem"])
    old_trials, old_reports = _rows(old), _rows(old, table="reports")
    assert old_trials, f"{name}: the stored run is empty"

    out = runner.invoke(cli, ["resume", str(old), "--max-evals", str(max_evals)])
    assert out.exit_code == 0, out.output

    resumed = _rows(old)
    assert len(resumed) > len(old_trials), "the resume ran nothing"
    assert resumed[:len(old_trials)] == old_trials, "an evaluation stored by the previous release changed"
    assert _rows(old, table="reports")[:len(old_reports)] == old_reports

    full = start_run(RunConfig(**settings, seed=SEED, max_evals=max_evals, evaluator="serial",
                               run_dir=str(tmp_path / "full")))
    full.store.close()
    assert _rows(old, RESULT_COLUMNS) == _rows(tmp_path / "full", RESULT_COLUMNS)
