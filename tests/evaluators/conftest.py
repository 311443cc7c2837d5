"""Helpers shared by the evaluator tests: waiting for processes to end, results.csv rows, problems that
recycle their workers or read their GPUs."""
from __future__ import annotations

import csv
import itertools
import time

from hpsearch.store import RunStore


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def gone(pids, limit=10.0):
    """True once none of the pids is a live process (zombies of other parents count as gone)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        alive = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(") ")[-1].split()[0] != "Z":
                        alive.append(pid)
            except FileNotFoundError:
                pass
        if not alive:
            return True
        time.sleep(0.1)
    return False


RECYCLED_RUN = """
MAX_TRIALS_PER_WORKER = 2

def run(config):
    return config["x"]
"""


GPU_PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="objective", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
"""
GPU_RUN = """
import os, time

def run(config, trial):
    t0 = time.time()
    time.sleep(0.3)
    if config.get("mode") == "exit":
        os._exit(3)
    if config.get("mode") == "sleep":
        time.sleep(60)
    return {"objective": config["x"], "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "hip": os.environ.get("HIP_VISIBLE_DEVICES"), "seen": ",".join(trial.devices),
            "t0": t0, "t1": time.time()}
"""
DEVICE_VARS = ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES")



def check_disjoint(run_dir, k: int) -> tuple[set, int]:
    """Every trial saw exactly its stored devices, k of them; overlapping trials share none.

    Returns the device sets used and how many pairs of trials overlapped in time.
    """
    with RunStore.open(run_dir, readonly=True) as store:
        trials = store.trials()
    assert trials and all(t.status == "done" for t in trials)
    for t in trials:
        assert len(t.devices) == k, t
        assert t.metrics["cuda"] == t.metrics["seen"] == ",".join(t.devices), t
    overlaps = 0
    for a, b in itertools.combinations(trials, 2):
        if a.metrics["t0"] < b.metrics["t1"] and b.metrics["t0"] < a.metrics["t1"]:
            overlaps += 1
            assert not set(a.devices) & set(b.devices), (a.trial_id, a.devices, b.trial_id, b.devices)
    return {tuple(t.devices) for t in trials}, overlaps
