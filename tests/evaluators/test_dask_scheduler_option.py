"""``--dask-scheduler`` (the Dask cluster's address): its old spelling ``--scheduler``, and run
directories and comparisons stored under the old name."""
import json
import sqlite3
from pathlib import Path

import pytest

from hpsearch.cli import cli
from hpsearch.run.compare import config_from_settings

NOTE = "--scheduler is now --dask-scheduler (the old spelling still works for now)"
NOT_DASK = "Error: --dask-scheduler is only used with --evaluator dask (got --evaluator serial)"


def serial_run(runner, run_dir="r", evals="2"):
    out = runner.invoke(cli, ["run", "-p", "branin", "--max-evals", evals, "--seed", "1", "--run-dir", run_dir,
                              "--evaluator", "serial"])
    assert out.exit_code == 0, out.output


def edit_settings(run_dir, **changes):
    """Rewrite a run's stored settings as an older release wrote them (changes: None removes a key)."""
    with sqlite3.connect(Path(run_dir) / "results.db") as conn:
        settings = json.loads(conn.execute("SELECT value FROM meta WHERE key='settings'").fetchone()[0])
        for key, value in changes.items():
            settings.pop(key, None) if value is None else settings.__setitem__(key, value)
        conn.execute("UPDATE meta SET value=? WHERE key='settings'", (json.dumps(settings),))


@pytest.mark.parametrize("command", ["run", "resume", "compare"])
def test_the_old_spelling_still_works_and_says_so_in_one_line(runner, in_tmp, command):
    if command == "resume":
        serial_run(runner)
        args = ["resume", "r", "--max-evals", "3"]
    elif command == "run":
        args = ["run", "-p", "branin", "--evaluator", "serial", "--run-dir", "r"]
    else:
        args = ["compare", "-p", "branin", "--algo", "random", "--seeds", "1", "--budget", "2",
                "--evaluator", "serial", "--out", "c"]
    out = runner.invoke(cli, [*args, "--scheduler", "tcp://127.0.0.1:1"])
    # the address reached the run: it is refused for the serial evaluator, under its new name
    assert out.exit_code == 2, out.output
    lines = out.stderr.splitlines()  # resume also says which problem folder it imports
    assert lines[0] == NOTE and lines[-1] == NOT_DASK and lines.count(NOTE) == 1


@pytest.mark.parametrize("command", [["run", "-p", "branin"], ["resume", "r"], ["compare", "-p", "branin"]])
def test_giving_both_spellings_is_a_one_line_usage_error(runner, in_tmp, command):
    out = runner.invoke(cli, [*command, "--dask-scheduler", "tcp://a:1", "--scheduler", "tcp://b:1"])
    assert out.exit_code == 2
    assert out.output.splitlines() == [
        "Error: --scheduler is the old spelling of --dask-scheduler; give only --dask-scheduler"]
    assert not (in_tmp / "r").exists()


def test_help_names_only_the_new_spelling(runner):
    for command in ("run", "resume", "compare"):
        text = runner.invoke(cli, [command, "--help"]).output
        assert "--dask-scheduler ADDRESS" in text and "--scheduler" not in text.replace("--dask-scheduler", "")


def test_a_run_stored_with_the_old_key_resumes(runner, in_tmp):
    serial_run(runner)
    edit_settings("r", dask_scheduler=None, scheduler=None)  # an older run: "scheduler": null
    assert runner.invoke(cli, ["resume", "r", "--max-evals", "4"]).output.count("evaluations:   4 done") == 1


def test_a_run_stored_with_the_old_key_reads_it_as_the_dask_address(runner, in_tmp):
    pytest.importorskip("distributed")
    serial_run(runner)
    edit_settings("r", dask_scheduler=None, scheduler="not an address", evaluator="dask")
    out = runner.invoke(cli, ["resume", "r", "--max-evals", "4"])
    assert out.exit_code == 2
    assert out.stderr.splitlines()[-1] == ("Error: --dask-scheduler: expected an address such as "
                                           "tcp://HOST:PORT or an existing scheduler file, got 'not an address'")


def old_comparison(runner, address):
    out = runner.invoke(cli, ["compare", "-p", "branin", "--algo", "random", "--seeds", "1", "--budget", "3",
                              "--evaluator", "serial", "--out", "c"])
    assert out.exit_code == 0, out.output
    path = Path("c/compare.json")
    settings = json.loads(path.read_text())
    settings.pop("dask_scheduler")
    settings["scheduler"] = address  # as an older release wrote it
    path.write_text(json.dumps(settings))


def test_a_comparison_stored_with_the_old_key_resumes(runner, in_tmp):
    old_comparison(runner, None)
    out = runner.invoke(cli, ["compare", "--resume", "c"])
    assert out.exit_code == 0, out.output
    assert "random-seed0: finished before, skipped" in out.stderr


def test_a_comparison_stored_with_the_old_key_reads_it_as_the_dask_address(runner, in_tmp):
    old_comparison(runner, "tcp://10.0.0.1:8786")
    assert config_from_settings("c").dask_scheduler == "tcp://10.0.0.1:8786"
    assert config_from_settings("c", dask_scheduler="tcp://other:1").dask_scheduler == "tcp://other:1"
