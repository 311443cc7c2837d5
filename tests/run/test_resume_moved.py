"""Resuming a run whose problem folder is gone: a bundled benchmark is found again by its name;
a user's folder is not guessed."""
import shutil

import pytest

from hpsearch.cli import cli
from hpsearch.problem.loader import bundled_dir
from hpsearch.run.runner import RunConfig, resume_run, start_run
from hpsearch.store import StoreError


def started_then_moved(tmp_path, parent: str):
    """A 4-evaluation branin run started from a copy of the bundled folder in ``tmp_path/parent``,
    stopped at 2 evaluations, after which that copy is deleted (hpsearch moved, say)."""
    copy = tmp_path / parent / "branin"
    shutil.copytree(bundled_dir() / "branin", copy)
    common = dict(problem=str(copy), algo="random", seed=3, evaluator="serial")
    start_run(RunConfig(**common, max_evals=4, run_dir=str(tmp_path / "full"))).store.close()
    start_run(RunConfig(**common, max_evals=2, run_dir=str(tmp_path / "part"))).store.close()
    shutil.rmtree(tmp_path / parent)
    return tmp_path / "full", tmp_path / "part"


def test_a_bundled_benchmark_that_moved_resumes_from_the_bundled_folder(tmp_path, runner):
    full, part = started_then_moved(tmp_path, "benchmarks")
    out = runner.invoke(cli, ["resume", str(part), "--max-evals", "4"])
    assert out.exit_code == 0, out.output
    assert f"using the bundled benchmark branin ({bundled_dir() / 'branin'})" in out.output
    with_full = resume_run(full)  # nothing left: the uninterrupted run's summary
    resumed = resume_run(part)
    try:
        assert [(t.params, t.objective) for t in resumed.store.trials()] == \
               [(t.params, t.objective) for t in with_full.store.trials()]
    finally:
        with_full.store.close()
        resumed.store.close()


def test_a_users_folder_that_is_gone_is_one_line_and_exit_2(tmp_path, runner):
    _full, part = started_then_moved(tmp_path, "mine")
    out = runner.invoke(cli, ["resume", str(part), "--max-evals", "4"])
    assert out.exit_code == 2
    assert out.output.strip().endswith(f"the problem folder {tmp_path / 'mine' / 'branin'} is gone; "
                                       "restore it to resume")
    with pytest.raises(StoreError, match="is gone; restore it to resume"):
        resume_run(part, max_evals=4)
