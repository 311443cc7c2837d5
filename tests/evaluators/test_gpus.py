"""GPUs per worker (--gpus, --gpus-per-trial) and --workers auto, on a machine without GPUs.

A fake ``nvidia-smi`` on PATH prints N devices as the real ``nvidia-smi -L`` does; every
trial's ``run()`` reports the ``CUDA_VISIBLE_DEVICES`` it saw, ``trial.devices`` and when it
ran, so the tests check that trials running at the same time never share a GPU and that the
store records what each trial saw.
"""
from __future__ import annotations

import csv
import os
import stat

import pytest

from hpsearch.evaluators import EvaluatorError
from hpsearch.evaluators import make_evaluator as build
from hpsearch.evaluators.devices import Placement, cores, find_gpus, parse_gpus
from hpsearch.store import RunStore
from hpsearch.trial import TrialSpec, visible_devices

from ..conftest import run_hps
from .conftest import DEVICE_VARS, GPU_PROBLEM, GPU_RUN, check_disjoint, rows
from .contract import collect


def fake_nvidia_smi(folder, n: int):
    """An ``nvidia-smi`` that lists n GPUs for ``-L``; returns its directory (put it first on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "nvidia-smi"
    lines = "\n".join(f"GPU {i}: NVIDIA Fake A100-SXM4-80GB (UUID: GPU-{i:08d}-fake-0000-0000-000000000000)"
                      for i in range(n))
    exe.write_text(f"#!/bin/sh\n[ \"$1\" = -L ] || exit 9\ncat <<'EOF'\n{lines}\nEOF\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


@pytest.fixture
def no_device_vars(monkeypatch):
    for var in DEVICE_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def four_gpus(tmp_path, monkeypatch, no_device_vars):
    """This process (and its children) see 4 fake GPUs through nvidia-smi."""
    bin_dir = fake_nvidia_smi(tmp_path / "bin", 4)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


# -- finding GPUs and planning slots ------------------------------------------------------------
def test_nvidia_smi_lists_the_gpus(four_gpus):
    assert find_gpus() == (["0", "1", "2", "3"], "nvidia-smi")
    assert parse_gpus("all") == (["0", "1", "2", "3"], "nvidia-smi")
    assert parse_gpus("2")[0] == ["0", "1"]
    assert parse_gpus("0,2,3")[0] == ["0", "2", "3"]
    assert parse_gpus("3,")[0] == ["3"]  # one device by id
    assert parse_gpus("0")[0] == []  # a count: none


def test_cuda_visible_devices_wins_over_nvidia_smi(four_gpus, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")  # e.g. set by SLURM for this job
    assert find_gpus() == (["2", "3"], "CUDA_VISIBLE_DEVICES")
    assert Placement.plan("process", None, "all", None).slots == [["2"], ["3"]]
    with pytest.raises(EvaluatorError) as err:
        parse_gpus("0,1")
    assert str(err.value) == ("--gpus 0,1: device 0 is not among the GPUs found "
                              "(2, 3 from CUDA_VISIBLE_DEVICES)")


def test_without_nvidia_smi_the_environment_names_the_gpus(tmp_path, monkeypatch, no_device_vars):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
    with pytest.raises(EvaluatorError) as err:
        Placement.plan("process", None, "all", None)
    assert str(err.value) == ("--gpus all: no GPU found (nvidia-smi is not on PATH and "
                              "CUDA_VISIBLE_DEVICES is not set)")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    assert Placement.plan("process", None, "all", None).slots == [["0"], ["1"], ["2"]]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    with pytest.raises(EvaluatorError, match=r"^--gpus all: no GPU found \(CUDA_VISIBLE_DEVICES='-1' hides"):
        Placement.plan("process", None, "all", None)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert Placement.plan("process", None, "2", None).slots == [["0"], ["1"]]  # a count is trusted


def test_a_failing_nvidia_smi_is_no_gpu(tmp_path, monkeypatch, no_device_vars):
    exe = tmp_path / "nvidia-smi"
    exe.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate' >&2\nexit 9\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_gpus() == ([], "nvidia-smi -L failed (exit code 9: NVIDIA-SMI has failed because it could "
                               "not communicate) and CUDA_VISIBLE_DEVICES is not set")


@pytest.mark.parametrize("workers, k, slots", [
    (None, None, [["0"], ["1"], ["2"], ["3"]]),
    ("auto", 1, [["0"], ["1"], ["2"], ["3"]]),
    (2, 1, [["0"], ["1"]]),
    (None, 2, [["0", "1"], ["2", "3"]]),
    (1, 2, [["0", "1"]]),
    (None, 3, [["0", "1", "2"]]),
    (3, 0, [[], [], []]),  # trials without GPUs: every GPU hidden
])
def test_slots_are_disjoint_sets_of_k_gpus(four_gpus, workers, k, slots):
    p = Placement.plan("process", workers, "all", k)
    assert p.slots == slots and p.workers == len(slots)
    assert p.evaluator_options() == {"gpu_slots": slots}


@pytest.mark.parametrize("evaluator, workers, gpus, k, message", [
    ("process", 5, "all", 1, "--workers 5: only 4 GPU slot(s) (4 GPUs 0,1,2,3 / --gpus-per-trial 1); "
     "use --workers 4 or fewer, or --gpus-per-trial 0 to run trials without GPUs"),
    ("process", None, "all", 5, "--gpus-per-trial 5: needs at least 5 GPUs, got 4 (0, 1, 2, 3)"),
    ("process", None, "all", -1, "--gpus-per-trial must be >= 0, got -1"),
    ("process", None, "6", None, "--gpus 6: only 4 GPU(s) found (0, 1, 2, 3 from nvidia-smi)"),
    ("process", None, "1,1", None, "--gpus 1,1: a device is listed twice"),
    ("process", None, "gpu0", None,
     "--gpus: expected all, a number of GPUs or comma-separated device ids (e.g. 0,2,3), got 'gpu0'"),
    ("process", "many", None, None, "--workers: expected a number >= 1 or auto, got 'many'"),
    ("serial", None, "all", None, "--gpus needs --evaluator process (the serial evaluator runs trials in the "
     "driver, whose devices are set already)"),
    ("dask", None, "all", 1, "--gpus: with --evaluator dask each Dask worker owns its GPUs (start it with "
     "CUDA_VISIBLE_DEVICES=... dask worker ... --resources GPU=N); use --gpus-per-trial K"),
])
def test_bad_gpu_settings_are_one_line_errors(four_gpus, evaluator, workers, gpus, k, message):
    with pytest.raises(EvaluatorError) as err:
        Placement.plan(evaluator, workers, gpus, k)
    assert str(err.value) == message


def test_workers_auto_without_gpus_is_cores_over_threads(monkeypatch):
    monkeypatch.delenv("HPS_THREADS", raising=False)
    p = Placement.plan("process", "auto", None, None)
    assert p.workers == cores() and p.slots is None
    assert p.note == f"{cores()} (auto: {cores()} cores / 1 thread per trial, HPS_THREADS)"
    monkeypatch.setenv("HPS_THREADS", str(cores() + 1))
    assert Placement.plan("process", "auto", None, None).workers == 1  # at least one
    monkeypatch.setenv("HPS_THREADS", "two")
    with pytest.raises(EvaluatorError, match="^HPS_THREADS must be a whole number of threads >= 1, got 'two'$"):
        Placement.plan("process", "auto", None, None)
    assert Placement.plan("process", None, None, None) == Placement(1)  # nothing asked: nothing changes


def test_visible_devices_reads_cuda_then_rocm():
    assert visible_devices({"HIP_VISIBLE_DEVICES": "1"}) == ["1"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": "GPU-ab12,GPU-cd34"}) == ["GPU-ab12", "GPU-cd34"]
    assert visible_devices({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert visible_devices({}) == []


# -- the process evaluator: a replaced worker keeps its slot's GPUs ------------------------------
def gpu_spec(tid: int, mode: str = "ok", timeout: float | None = None) -> TrialSpec:
    return TrialSpec(trial_id=tid, config_id=tid, config={"x": tid / 10, "mode": mode}, seed=tid,
                     objective="objective", timeout=timeout)


@pytest.mark.slow
def test_a_replaced_worker_gets_its_slots_gpus_back(tmp_path, make_problem, no_device_vars):
    folder = make_problem("gpus", problem=GPU_PROBLEM, model_run=GPU_RUN)
    ev = build("process", folder, workers=2, trial_timeout=2.0, run_dir=tmp_path,
               gpu_slots=[["0", "1"], ["2", "3"]])
    ev.start()
    try:
        ev.submit(gpu_spec(0, "exit"))  # slot 0: its worker crashes
        ev.submit(gpu_spec(1, "sleep", timeout=2.0))  # slot 1: its worker is killed at the timeout
        first = collect(ev, 2, limit=30)
        later = {}
        for t in range(2, 8):
            ev.submit(gpu_spec(t))
            if t % 2:
                later.update(collect(ev, 2))
    finally:
        ev.close()
    assert (first[0].status, first[0].devices) == ("failed", ["0", "1"])
    assert first[0].error == "worker died (exit code 3)"
    assert (first[1].status, first[1].devices) == ("timeout", ["2", "3"])
    by_slot = {"w0": ["0", "1"], "w1": ["2", "3"]}
    for r in later.values():
        assert r.status == "done", r.error
        slot = r.worker.split("/")[0]
        assert r.devices == by_slot[slot], r
        assert r.metrics["cuda"] == r.metrics["hip"] == r.metrics["seen"] == ",".join(by_slot[slot])
    assert {r.worker.split("/")[0] for r in later.values()} == {"w0", "w1"}
    new_pids = {r.worker for r in later.values()}
    assert first[0].worker not in new_pids and first[1].worker not in new_pids  # really replaced


# -- whole runs through the CLI ------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("workers, k, n_gpus, expected", [
    (1, 1, 4, {("0",)}),
    (2, 1, 4, {("0",), ("1",)}),
    (4, 1, 4, {("0",), ("1",), ("2",), ("3",)}),
    (1, 2, 4, {("0", "1")}),
    (2, 2, 4, {("0", "1"), ("2", "3")}),
    (4, 2, 8, {("0", "1"), ("2", "3"), ("4", "5"), ("6", "7")}),
])
def test_each_running_trial_has_its_own_gpus_and_the_store_records_them(
        tmp_path, make_problem, monkeypatch, no_device_vars, workers, k, n_gpus, expected):
    bin_dir = fake_nvidia_smi(tmp_path / "bin", n_gpus)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    folder = make_problem("gpus", problem=GPU_PROBLEM, model_run=GPU_RUN)
    p = run_hps("run", "-p", folder, "--max-evals", str(2 * workers + 2), "--seed", "1", "--gpus", "all",
                "--gpus-per-trial", str(k), "--workers", str(workers), "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    slots = " | ".join(",".join(s) for s in sorted(expected))
    assert f"workers:       {workers} (GPUs {slots} from nvidia-smi, {k} per trial)\n" in p.stdout
    used, overlaps = check_disjoint(tmp_path / "r", k)
    assert used == expected
    if workers > 1:
        assert overlaps > 0  # trials really ran at the same time
    for t in range(2 * workers + 2):  # the trial's log names its GPUs
        assert (tmp_path / "r" / "logs" / f"trial-{t}.log").read_text().startswith("hps: trial ")
    # results.csv keeps its fixed columns; hps results shows the devices
    assert "devices" not in rows(tmp_path / "r" / "results.csv")[0]
    table = run_hps("results", "r", "--format", "csv", cwd=tmp_path)
    shown = {r["trial_id"]: r["devices"] for r in csv.DictReader(table.stdout.splitlines())}
    with RunStore.open(tmp_path / "r", readonly=True) as store:
        assert shown == {str(t.trial_id): ",".join(t.devices) for t in store.trials()}


def test_gpu_errors_exit_2_and_write_nothing(tmp_path, make_problem, four_gpus, monkeypatch):
    folder = make_problem("gpus", problem=GPU_PROBLEM, model_run=GPU_RUN)
    p = run_hps("run", "-p", folder, "--gpus", "all", "--gpus-per-trial", "2", "--workers", "4",
                "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "Error: --workers 4: only 2 GPU slot(s) (4 GPUs 0,1,2,3 / --gpus-per-trial 2); use --workers 2 or "
        "fewer, or --gpus-per-trial 0 to run trials without GPUs"]
    monkeypatch.setenv("PATH", os.environ["PATH"].split(os.pathsep, 1)[1])  # no nvidia-smi any more
    p = run_hps("run", "-p", folder, "--gpus", "all", "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "Error: --gpus all: no GPU found (nvidia-smi is not on PATH and CUDA_VISIBLE_DEVICES is not set)"]
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_resume_keeps_the_gpus_and_may_change_them(tmp_path, make_problem, four_gpus):
    folder = make_problem("gpus", problem=GPU_PROBLEM, model_run=GPU_RUN)
    p = run_hps("run", "-p", folder, "--max-evals", "4", "--seed", "2", "--gpus", "all", "--gpus-per-trial",
                "2", "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    p = run_hps("resume", "r", "--max-evals", "8", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "workers:       2 (default: GPUs 0,1 | 2,3 from nvidia-smi, 2 per trial)" in p.stdout
    p = run_hps("resume", "r", "--max-evals", "12", "--gpus", "1,3", "--gpus-per-trial", "1", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    with RunStore.open(tmp_path / "r", readonly=True) as store:
        devices = {t.trial_id: tuple(t.devices) for t in store.trials()}
        assert (store.settings["gpus"], store.settings["gpus_per_trial"]) == ("1,3", 1)
    assert {devices[t] for t in range(8)} == {("0", "1"), ("2", "3")}
    assert {devices[t] for t in range(8, 12)} == {("1",), ("3",)}


@pytest.mark.slow
def test_workers_auto_on_this_machine(tmp_path, make_problem, monkeypatch, no_device_vars):
    folder = make_problem("gpus", problem=GPU_PROBLEM, model_run=GPU_RUN)
    monkeypatch.delenv("HPS_THREADS", raising=False)
    n = cores()  # 2 on the build machine
    p = run_hps("run", "-p", folder, "--max-evals", str(3 * n), "--workers", "auto", "--run-dir", "r",
                cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"workers:       {n} (auto: {n} cores / 1 thread per trial, HPS_THREADS)\n" in p.stdout
    assert (f"of {n} workers" if n > 1 else "engine overhead") in p.stdout  # one worker: no utilisation
    table = rows(tmp_path / "r" / "results.csv")
    assert {r["worker"].split("/")[0] for r in table} == {f"w{i}" for i in range(n)}
    with RunStore.open(tmp_path / "r", readonly=True) as store:
        assert store.settings["workers"] == "auto" and all(t.devices == [] for t in store.trials())
    p = run_hps("run", "-p", folder, "--max-evals", "2", "--workers", "auto", "--run-dir", "r2", cwd=tmp_path,
                env={"HPS_THREADS": str(n)})
    assert p.returncode == 0, p.stderr
    assert f"workers:       1 (auto: {n} cores / {n} thread{'s' if n > 1 else ''} per trial, HPS_THREADS)\n" \
        in p.stdout
