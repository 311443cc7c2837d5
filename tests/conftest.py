"""Shared fixtures: the repo's paths, a CliRunner, subprocess helpers, problem-folder factory."""
from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
PROBLEMS = DATA / "problems"

# Scripts (perf/) and problem folders and stored runs (data/), not test modules: --doctest-modules
# must not import them (their problem.py files share one module name).
collect_ignore_glob = ["perf/*", "data/*"]

def pytest_configure(config):
    # mutmut (tests/perf/mutation_core.py) first records which tests reach which function, with
    # MUTANT_UNDER_TEST=stats; a subprocess a test starts cannot record (mutmut's settings are not in its
    # folder) and would fail, so it runs the code unmutated. This process keeps recording (mutmut also
    # holds the value in memory); while a mutant is tested, subprocesses run that mutant too.
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":
        del os.environ["MUTANT_UNDER_TEST"]


# -- no silent skips in CI ----------------------------------------------------------------------
#: Node-id prefixes of tests that may skip when CI=true, each with why it cannot run on CI's machine.
#: Every other skip fails a CI run (a skip must never hide a broken feature). CI's machine has no GPU,
#: but no test needs a real one (the GPU tests fake nvidia-smi and CUDA_VISIBLE_DEVICES), so the list
#: is empty; a test that needs real GPU hardware goes here, e.g.
#: ``"tests/evaluators/test_real_gpu.py": "needs a CUDA device; CI's machine has none"``.
CI_ALLOWED_SKIPS: dict[str, str] = {}

_skipped: list = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report)


def pytest_collectreport(report):
    if report.skipped:
        _skipped.append(report)


def disallowed_skips(reports, allowed: dict[str, str]) -> list[str]:
    """``nodeid: reason`` of each skip whose node id starts with none of ``allowed``'s prefixes."""
    out = []
    for r in reports:
        if not any(r.nodeid.startswith(prefix) for prefix in allowed):
            reason = r.longrepr[2] if isinstance(r.longrepr, tuple) else str(r.longrepr)
            out.append(f"{r.nodeid}: {reason}")
    return out


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI", "").lower() not in ("true", "1") or hasattr(session.config, "workerinput"):
        return  # not CI, or a pytest-xdist worker (the controller sees every worker's reports)
    bad = disallowed_skips(_skipped, CI_ALLOWED_SKIPS)
    if bad:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.ensure_newline()
            tr.write_sep("=", f"CI=true: {len(bad)} skipped test(s) not on CI_ALLOWED_SKIPS (tests/conftest.py)",
                         red=True)
            for line in bad:
                tr.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


# -- a slow problem and waiting on a live run ----------------------------------------------------
SLOW_PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="objective", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
"""
SLOW_RUN = """
import time
def run(config):
    time.sleep(0.05)
    return config["x"]
"""


def wait_rows(csv_path, n, proc, limit=60):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()
        if csv_path.exists() and len(csv_path.read_text().splitlines()) > n:
            return
        time.sleep(0.05)
    raise AssertionError("the run did not progress")


def wait_until(condition, proc, limit=120):
    end = time.monotonic() + limit
    while not condition():
        assert proc.poll() is None and time.monotonic() < end, "the run did not progress"
        time.sleep(0.05)


def one_line_error(out, *fragments):
    assert out.exit_code == 2, out.output
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.output
    for f in fragments:
        assert f in lines[0]
    assert "Traceback" not in out.output


# -- run directories: what results.db and results.csv hold, read-only storage -------------------
def csv_rows(run_dir) -> list[tuple]:
    with open(run_dir / "results.csv", newline="") as f:
        return [(r["trial_id"], r["config_id"], r["status"]) for r in csv.DictReader(f)]


def can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


def killed_after_a_checkpoint(root) -> Path:
    """A 2-worker run killed with SIGKILL once results.db holds some rows and results.db-wal more."""
    run_dir = root / "kr"
    proc = subprocess.Popen(hps_cmd("run", "--problem", "hartmann6lc", "--workers", "2", "--max-evals", "5000",
                                    "--seed", "1", "--run-dir", run_dir), env=hps_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        db = run_dir / "results.db"
        wait_until(lambda: db.exists() and db.stat().st_size > 64 * 1024, proc)  # the driver checkpointed
        wait_rows(run_dir / "results.csv", len(csv_rows(run_dir)) + 5, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert (run_dir / "results.db-wal").stat().st_size and (run_dir / "results.db-shm").exists()
    return run_dir


def committed(run_dir, query="") -> dict[int, str]:
    """trial_id -> status of every committed row: read from a writable copy of results.db and its -wal
    (``query="immutable=1"``: from results.db alone, ignoring the -wal)."""
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("", "-wal"):
            if (run_dir / f"results.db{suffix}").exists():
                shutil.copyfile(run_dir / f"results.db{suffix}", f"{tmp}/results.db{suffix}")
        conn = sqlite3.connect(f"file:{tmp}/results.db?{query}", uri=True)
        try:
            return dict(conn.execute("SELECT trial_id, status FROM trials"))
        finally:
            conn.close()


def finished(rows: dict[int, str]) -> dict[int, str]:
    return {t: s for t, s in rows.items() if s not in ("running", "interrupted")}


def read_only(run_dir, script: str) -> list[str]:
    """``unshare -m sh -c`` with ``run_dir`` bind-mounted read-only over itself, then ``script``."""
    return ["unshare", "-m", "sh", "-c", f"mount --bind {run_dir} {run_dir} && mount -o remount,ro,bind {run_dir} "
            f"|| exit 99\ntouch {run_dir}/probe 2>/dev/null && exit 98\n{script}"]


# -- a real Dask cluster on loopback --------------------------------------------------------------
DASK = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
WORKER = [sys.executable, "-m", "distributed.cli.dask_worker"]
#: the documented commands, ``dask scheduler`` and ``dask worker`` (with its nanny), of this Python
RECIPE_SCHEDULER = [sys.executable, "-m", "dask", "scheduler"]
RECIPE_WORKER = [sys.executable, "-m", "dask", "worker"]


class Cluster:
    """A Dask scheduler and workers in subprocesses, killed at the end whatever happens."""

    def __init__(self, tmp, scheduler=DASK):
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self.file = tmp / "scheduler.json"
        self.dask_scheduler = self._spawn([*scheduler, "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                           "--scheduler-file", str(self.file)], "scheduler")
        end = time.monotonic() + 120
        while (address := self._address()) is None:  # polled until the file holds the whole JSON
            assert self.dask_scheduler.poll() is None, "dask scheduler exited"
            assert time.monotonic() < end, "dask scheduler did not start in 120 s"
            time.sleep(0.1)
        self.address = address

    def _address(self) -> str | None:
        try:
            return json.loads(self.file.read_text())["address"]
        except (OSError, ValueError, KeyError):
            return None

    def _spawn(self, cmd, name, env=None):
        log = open(self.tmp / f"{name}.log", "w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env or hps_env(),
                                cwd=self.tmp, start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def add_worker(self, name, *extra, env=None, command=(*WORKER, "--no-nanny")):
        """Start a one-thread worker (its own process group: :meth:`kill` ends it with its nanny)."""
        return self._spawn([*command, self.address, "--nthreads", "1", "--no-dashboard",
                            "--host", "127.0.0.1", "--name", name,
                            "--local-directory", str(self.tmp / f"{name}-space"), *extra], name, env)

    @staticmethod
    def kill(proc):
        """SIGKILL a worker's whole process group (a nanny and its worker die together)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def wait_for_workers(self, n, limit=60):
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(n, timeout=limit)

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    import os

                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait(10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Dask scheduler with two one-thread workers on 127.0.0.1 (needs the dask extra)."""
    pytest.importorskip("distributed")
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        c.add_worker("w1")
        c.add_worker("w2")
        c.wait_for_workers(2)
        yield c
    finally:
        c.close()
