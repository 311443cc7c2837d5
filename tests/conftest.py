"""Shared fixtures: the repo's paths, a CliRunner, subprocess helpers, problem-folder factory."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
PROBLEMS = DATA / "problems"

# Scripts (perf/) and problem folders and stored runs (data/), not test modules: --doctest-modules
# must not import them (their problem.py files share one module name).
collect_ignore_glob = ["perf/*", "data/*"]


def run_full_and_resumed(tmp_path: Path, common: dict, k: int, n: int | None = None):
    """The same run uninterrupted (``tmp_path/full``) and stopped after ``k`` evaluations, then resumed
    (``tmp_path/part``); ``n``: both go to ``n`` evaluations (None: the run's own end).

    Returns the uninterrupted run's and the resumed run's summaries (their stores closed).
    """
    from hpsearch.run.runner import RunConfig, resume_run, start_run

    full = start_run(RunConfig(**common, max_evals=n, run_dir=str(tmp_path / "full")))
    full.store.close()
    part = start_run(RunConfig(**common, max_evals=k, run_dir=str(tmp_path / "part")))
    part.store.close()
    resumed = resume_run(tmp_path / "part", max_evals=10_000 if n is None else n)
    resumed.store.close()
    return full.summary, resumed.summary


def hps_env(extra: dict | None = None) -> dict:
    """Environment for a real ``hps`` subprocess that imports this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("HPS_DATA_DIR", str(REPO.parent / "shared" / "data"))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def hps_cmd(*args: str) -> list[str]:
    """``python -m hpsearch ARGS`` with this interpreter."""
    return [sys.executable, "-m", "hpsearch", *map(str, args)]


def run_hps(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120,
            ) -> subprocess.CompletedProcess:
    """Run ``hps`` in a subprocess and wait for it."""
    return subprocess.run(hps_cmd(*args), cwd=cwd, env=hps_env(env), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def make_problem(tmp_path):
    """Write a problem folder: make_problem(name, problem=..., model_run=..., **siblings) -> path."""

    def make(name: str = "prob", problem: str | None = None, model_run: str | None = None,
             root: Path | None = None, **siblings: str) -> Path:
        folder = (root or tmp_path) / name
        folder.mkdir(parents=True, exist_ok=True)
        if problem is not None:
            (folder / "problem.py").write_text(textwrap.dedent(problem))
        if model_run is not None:
            (folder / "model_run.py").write_text(textwrap.dedent(model_run))
        for stem, text in siblings.items():
            (folder / f"{stem}.py").write_text(textwrap.dedent(text))
        return folder

    return make


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run the test with the working directory in a fresh temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
