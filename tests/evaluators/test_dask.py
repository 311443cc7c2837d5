"""The dask evaluator against a real cluster: `dask scheduler` + `dask worker` processes on 127.0.0.1."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

pytest.importorskip("distributed")

from hpsearch.evaluators import make_evaluator as build  # noqa: E402

from ..conftest import SLOW_PROBLEM, Cluster, hps_cmd, hps_env, run_hps, wait_rows  # noqa: E402
from .conftest import DEVICE_VARS, GPU_PROBLEM, GPU_RUN, RECYCLED_RUN, check_disjoint, gone, rows  # noqa: E402
from .contract import TOY, EvaluatorContract, started  # noqa: E402

PRINTING_RUN = """
import time
def run(config, trial):
    print(f"hello from trial {trial.id}")
    time.sleep(0.2)
    return {"objective": (config["x"] - 0.3) ** 2, "where": __file__}
"""


@pytest.mark.slow  # each test talks to a real Dask cluster (its start is counted in the first)
class TestDaskEvaluator(EvaluatorContract):
    @pytest.fixture
    def make_evaluator(self, cluster, tmp_path):
        with started("dask", tmp_path, dask_scheduler=cluster.address) as make:
            yield make


def configs(path):
    return sorted((r["trial_id"], r["config_id"], r["p:x"], r["objective"], r["status"]) for r in rows(path))


@pytest.mark.slow
def test_cluster_search_equals_local_search_and_logs_reach_the_driver(cluster, tmp_path, make_problem):
    folder = make_problem("printing", problem=SLOW_PROBLEM, model_run=PRINTING_RUN)
    args = ["--problem", folder, "--max-evals", "12", "--seed", "3", "--workers", "2"]
    local = run_hps("run", *args, "--run-dir", "local", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    remote = run_hps("run", *args, "--evaluator", "dask", "--dask-scheduler", cluster.address, "--run-dir", "dask",
                     cwd=tmp_path)
    assert remote.returncode == 0, remote.stderr
    assert "evaluations:   12 done, 0 failed, 0 timeout" in remote.stdout
    assert configs(tmp_path / "dask" / "results.csv") == configs(tmp_path / "local" / "results.csv")
    workers = {r["worker"].rsplit("/", 1)[0] for r in rows(tmp_path / "dask" / "results.csv")}
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    assert (tmp_path / "dask" / "logs" / "trial-5.log").read_text() == "hello from trial 5\n"
    assert "hello from" not in remote.stdout + remote.stderr
    # the workers ran a shipped copy of the folder, not the driver's
    where = {r["m:where"] for r in rows(tmp_path / "dask" / "results.csv")}
    assert len(where) == 1 and str(folder) not in where.pop()
    # the run's trial processes on the workers are stopped when it ends
    assert gone({int(r["worker"].rsplit("/", 1)[1]) for r in rows(tmp_path / "dask" / "results.csv")})


@pytest.mark.slow
def test_losing_a_worker_mid_run_loses_no_evaluation(cluster, tmp_path, make_problem):
    folder = make_problem("printing", problem=SLOW_PROBLEM, model_run=PRINTING_RUN)
    victim = cluster.add_worker("victim")
    cluster.wait_for_workers(3)
    from distributed import Client

    with Client(cluster.address, timeout=30) as client:
        info = client.scheduler_info()["workers"]
    victim_address = next(a for a, w in info.items() if w.get("name") == "victim")
    proc = subprocess.Popen(hps_cmd("run", "-p", folder, "--max-evals", "30", "--seed", "4", "--workers", "3",
                                    "--evaluator", "dask", "--dask-scheduler", cluster.address, "--run-dir", "r"),
                            cwd=tmp_path, env=hps_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        wait_rows(tmp_path / "r" / "results.csv", 6, proc)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "evaluations:   30 done, 0 failed, 0 timeout" in out
    table = rows(tmp_path / "r" / "results.csv")
    assert sorted(int(r["trial_id"]) for r in table) == list(range(30))
    on_victim = [r for r in table if r["worker"].rsplit("/", 1)[0] == victim_address]
    assert on_victim  # it was really working when it was killed
    assert gone({int(r["worker"].rsplit("/", 1)[1]) for r in on_victim})  # its trial process died with it


@pytest.mark.slow
def test_local_cluster_without_dask_scheduler(tmp_path, make_problem):
    folder = make_problem("printing", problem=SLOW_PROBLEM, model_run=PRINTING_RUN)
    p = run_hps("run", "-p", folder, "--max-evals", "6", "--seed", "3", "--workers", "2", "--evaluator", "dask",
                "--trial-timeout", "30", "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "evaluations:   6 done, 0 failed, 0 timeout" in p.stdout
    assert len({r["worker"].rsplit("/", 1)[0] for r in rows(tmp_path / "r" / "results.csv")}) == 2


@pytest.mark.parametrize("address", ["not an address", "tcp://host:port:extra"])
def test_bad_dask_scheduler_address_is_a_usage_error(tmp_path, make_problem, address):
    folder = make_problem("printing", problem=SLOW_PROBLEM, model_run=PRINTING_RUN)
    p = run_hps("run", "-p", folder, "--evaluator", "dask", "--dask-scheduler", address, "--run-dir", "r",
                cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1] == (
        f"Error: --dask-scheduler: expected an address such as tcp://HOST:PORT or an existing scheduler file, "
        f"got {address!r}")
    assert not (tmp_path / "r").exists()


def test_without_dask_installed_says_how_to_install(monkeypatch):
    from hpsearch.evaluators import EvaluatorError

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(EvaluatorError) as err:
        build("dask", TOY)
    assert str(err.value) == '--evaluator dask needs Dask, which is not installed: pip install "hpsearch[dask]"'




def test_a_problem_asks_for_fresh_trial_processes_on_dask_workers_too(cluster, tmp_path, make_problem):
    from collections import Counter

    from .contract import collect, spec

    folder = make_problem("leaky", problem=SLOW_PROBLEM, model_run=RECYCLED_RUN)  # MAX_TRIALS_PER_WORKER = 2
    with started("dask", tmp_path, folder=folder, dask_scheduler=cluster.address) as make:
        ev = make()
        results = []
        for t in range(6):
            ev.submit(spec(t))
            results.append(collect(ev, 1)[t])
    assert [r.status for r in results] == ["done"] * 6
    served = Counter(r.worker.rsplit("/", 1)[1] for r in results)
    assert max(served.values()) <= 2 and len(served) >= 3, served


@pytest.fixture(scope="module")
def gpu_cluster(tmp_path_factory):
    """Two 'GPU' workers (CUDA_VISIBLE_DEVICES 5 and 7, resource GPU=1) and one without GPUs."""
    c = Cluster(tmp_path_factory.mktemp("dask-gpus"))
    try:
        plain = {k: v for k, v in hps_env().items() if k not in DEVICE_VARS}
        c.add_worker("gpu5", "--resources", "GPU=1", env={**plain, "CUDA_VISIBLE_DEVICES": "5"})
        c.add_worker("gpu7", "--resources", "GPU=1", env={**plain, "CUDA_VISIBLE_DEVICES": "7"})
        c.add_worker("cpu", env=plain)
        c.wait_for_workers(3)
        yield c
    finally:
        c.close()


@pytest.mark.slow
def test_gpus_per_trial_runs_each_trial_on_its_dask_workers_gpu(gpu_cluster, tmp_path, make_problem):
    from distributed import Client


    with Client(gpu_cluster.address, timeout=30) as client:
        names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
    folder = make_problem("gpus", problem=GPU_PROBLEM, model_run=GPU_RUN)
    p = run_hps("run", "-p", folder, "--max-evals", "8", "--seed", "3", "--evaluator", "dask", "--dask-scheduler",
                gpu_cluster.address, "--gpus-per-trial", "1", "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "worker utilisation" in p.stdout and "of 2 workers" in p.stdout  # one trial per GPU worker
    used, overlaps = check_disjoint(tmp_path / "r", 1)
    assert used == {("5",), ("7",)} and overlaps > 0
    for r in rows(tmp_path / "r" / "results.csv"):  # each trial saw the GPU of the worker it ran on
        assert names[r["worker"].rsplit("/", 1)[0]] == f"gpu{r['m:cuda']}"

    p = run_hps("run", "-p", folder, "--max-evals", "2", "--evaluator", "dask", "--dask-scheduler",
                gpu_cluster.address, "--gpus-per-trial", "2", "--run-dir", "r2", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1] == (
        f"Error: --gpus-per-trial 2: no worker of the cluster at {gpu_cluster.address} offers 2 GPU(s); "
        "start workers with CUDA_VISIBLE_DEVICES=... dask worker ... --resources GPU=2")


def test_unpacked_copies_are_private_and_verified(make_problem, tmp_path, monkeypatch):
    """A folder planted in a shared /tmp under the expected name is never run."""
    import stat
    import tempfile

    from hpsearch.evaluators._dask_worker import (
        UnsafeCache,
        cache_root,
        pack_folder,
        problem_dir,
        unpack_folder,
    )

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = make_problem("shipped", problem="X = 1\n", model_run="def run(config):\n    return 1.0\n")
    data, digest = pack_folder(folder)
    planted = problem_dir(digest, "shipped")
    planted.mkdir(parents=True)
    (planted / "problem.py").write_text("X = 1\n")
    (planted / "model_run.py").write_text("def run(config):\n    return 1e9  # planted\n")
    target = unpack_folder(data, digest, "shipped")
    assert (target / "model_run.py").read_text() == "def run(config):\n    return 1.0\n"
    assert stat.S_IMODE(cache_root().stat().st_mode) == 0o700
    (target / "evil.py").write_text("import os\n")  # code that was not shipped
    assert not (unpack_folder(data, digest, "shipped") / "evil.py").exists()
    (target / "cache.npz").write_bytes(b"data")  # what run() may write beside itself is kept
    assert (unpack_folder(data, digest, "shipped") / "cache.npz").exists()

    root = cache_root()
    os.chmod(root, 0o777)  # as another user's directory of that name would be
    with pytest.raises(UnsafeCache, match="not a private directory of this user"):
        unpack_folder(data, digest, "shipped")
    os.chmod(root, 0o700)
    legacy = tmp_path / "hpsearch-problems" / digest / "shipped"  # the old shared location
    legacy.mkdir(parents=True)
    (legacy / "model_run.py").write_text("def run(config):\n    return 1e9\n")
    assert unpack_folder(data, digest, "shipped") != legacy
