"""Worker utilisation per algorithm x evaluator x workers, with trials sleeping 0.2-1.0 s each.

Utilisation = time inside run() / (workers x wall time while the workers are up),
as the engine reports it (RunSummary.utilisation). The run goes through
``runner.start_run`` (as ``hps run``). The "incl. startup" column divides by a
wall clock around the whole start_run instead: it also counts starting the
workers (seconds for a Dask LocalCluster) and shutting them down, which the
"startup s" column shows. ASHA and Hyperband get enough configurations
(--max-configs / --iterations) that --evals ends every run. Each row shows the
1-minute load average of the machine when the row started and ended.

    python tests/perf/bench_utilisation.py [--algos random,asha,hyperband,bohb]
        [--evaluators process,dask] [--evals 1500] [--workers 8,32,64] [--dask-slots 32,128]
        [--dask-cluster processes,threads] [--profile DIR]

``--workers`` are process workers (and Dask LocalCluster worker processes when
``--dask-slots`` is empty); ``--dask-slots N`` with N <= 32 runs ``--evaluator
dask --workers N`` (hps starts a LocalCluster of N single-threaded workers), and
with N > 32 starts one LocalCluster of ``N // 32`` worker processes with 32
threads each and runs against its address. ``--dask-cluster threads`` runs every
slot count against one LocalCluster of threads in the driver's process instead
(``N // 32`` workers of 32 threads; each thread still runs its trials in its own
worker process). ``--profile DIR`` writes a cProfile of the driver for each row
into DIR. Process workers are forked from the run's fork server;
``HPS_WORKER_START=popen`` in the environment starts them as fresh interpreters.

Columns: "utilisation" is the engine's figure (as the run's summary prints it);
"-w.start" also leaves out the worker-seconds spent starting workers during the
run (``RunSummary.starting_s``: the process evaluator starts each as a trial
first needs it); "-tail" also leaves out the worker-seconds idle after the last
trial started (nothing left to hand out: the run waits for its last trials).
What remains is lost in the driver: between a trial's end and the next start.
"cpu ms" is the driver's CPU time per evaluation (all its threads, not the workers').

Targets: process >= 95 % at 8, 32 and 64 workers; dask >= 90 % at 32 and 128 slots.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import io
import logging
import os
import tempfile
import textwrap
import time
from pathlib import Path

from hpsearch.reporting.progress import Progress
from hpsearch.run.runner import RunConfig, start_run
from hpsearch.search import ALIASES, PRESETS

PROBLEM = '''
"""Sleeps a random 0.2-1.0 s per evaluation (utilisation benchmark)."""
from hpsearch import HpProblem

Problem = HpProblem(objective="loss", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("y", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 27), default=9, resource=True)
'''
RUN = '''
import random
import time


def run(config, trial):
    time.sleep(random.Random(trial.id).uniform(0.2, 1.0))
    return {"loss": (config["x"] - 0.3) ** 2 + (config["y"] - 0.6) ** 2 + 1.0 / config["epochs"]}
'''
TARGET = {"process": 0.95, "dask": 0.90}


def write_problem(root: Path) -> Path:
    folder = root / "sleepy"
    folder.mkdir()
    (folder / "problem.py").write_text(textwrap.dedent(PROBLEM))
    (folder / "model_run.py").write_text(textwrap.dedent(RUN))
    return folder


def options_for(algo: str, evals: int) -> dict:
    """Enough configurations that --evals, not the scheduler, ends the run."""
    if algo == "asha":
        return {"max_configs": evals}
    if algo in ("hyperband", "bohb"):
        return {"iterations": max(10, evals // 10)}
    return {}


@contextlib.contextmanager
def local_cluster(slots: int, processes: bool = True):
    """A LocalCluster of 32-thread workers (processes, or threads of this one) holding ``slots`` trials
    at once; yields its address."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=max(1, slots // 32), threads_per_worker=min(32, slots),
                           processes=processes, protocol="tcp://",  # hps takes a tcp address, not inproc
                           dashboard_address=None, silence_logs=logging.ERROR)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def tail_idle(trials, workers: int) -> float:
    """Worker-seconds idle after the last trial started: nothing was left to hand out."""
    last = max(t.started_at for t in trials)
    end = max(t.finished_at for t in trials)
    busy = sum(max(0.0, min(t.finished_at, end) - max(t.started_at, last)) for t in trials)
    return max(workers * (end - last) - busy, 0.0)


def once(folder: Path, algo: str, evaluator: str, evals: int, workers: int, seed: int,
         address: str | None = None, profile: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(problem=str(folder), algo=algo, algo_options=options_for(algo, evals), max_evals=evals,
                        seed=seed, evaluator=evaluator, workers=workers, run_dir=f"{tmp}/run",
                        dask_scheduler=address, allow_many_workers=True)
        prof = cProfile.Profile() if profile is not None else None
        load0 = os.getloadavg()[0]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        if prof is not None:
            prof.enable()
        out = start_run(cfg, observer=Progress(stream=io.StringIO(), tty=False))
        if prof is not None:
            prof.disable()
            profile.mkdir(parents=True, exist_ok=True)
            prof.dump_stats(str(profile / f"{algo}-{evaluator}-{workers}.prof"))
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0  # the driver's CPU (its threads; not the workers')
        load1 = os.getloadavg()[0]
        with open(Path(tmp) / "run" / "results.csv", newline="") as f:
            table = list(csv.DictReader(f))
        busy = sum(float(r["duration_s"]) for r in table)
        s = out.summary
        trials = [t for t in out.store.trials() if t.started_at and t.finished_at]
        up = s.workers * (s.wall_s - s.startup_s)
        started = up - s.starting_s  # less the worker-seconds of workers starting during the run
        tail = tail_idle(trials, s.workers)
        out.store.close()
        return {"n": len(table), "done": s.n_done, "wall": wall, "busy": busy, "workers": s.workers,
                "engine": s.utilisation, "check": busy / (s.workers * wall), "startup": s.startup_s,
                "no_start": s.busy_s / started, "no_tail": s.busy_s / (started - tail),
                "load": f"{load0:.1f}-{load1:.1f}", "cpu_ms": 1000 * cpu / max(len(table), 1)}


def row(algo: str, ev: str, r: dict, kind: str = "") -> str:
    target = TARGET[ev]
    verdict = f">= {target:.0%} " + ("met" if r["engine"] >= target else "MISSED")
    label = f"{ev}/{kind}" if kind else ev
    return (f"{algo:<10} {label:<15} {r['workers']:>7} {r['n']:>5} {r['wall']:>8.2f} {r['busy']:>8.2f} "
            f"{r['startup']:>9.2f} {r['engine']:>11.1%} {r['no_start']:>9.1%} {r['no_tail']:>9.1%} "
            f"{r['check']:>13.1%} {r['cpu_ms']:>7.2f} {r['load']:>9}  {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--algos", default="random,asha,hyperband,bohb")
    ap.add_argument("--evaluators", default="process,dask")
    ap.add_argument("--evals", type=int, default=1500)
    ap.add_argument("--workers", default="8,32,64", help="process workers, comma-separated")
    ap.add_argument("--dask-slots", default="32,128", help="Dask worker slots (one LocalCluster each)")
    ap.add_argument("--dask-cluster", default="processes",
                    help="processes (hps's own LocalCluster up to 32 slots), threads, or both: processes,threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", type=Path, default=None)
    args = ap.parse_args()
    algos = [a for a in args.algos.split(",") if ALIASES.get(a, a) in PRESETS or "+" in a]
    with tempfile.TemporaryDirectory() as root:
        folder = write_problem(Path(root))
        print(f"{'algo':<10} {'evaluator':<15} {'workers':>7} {'evals':>5} {'wall s':>8} {'busy s':>8} "
              f"{'startup s':>9} {'utilisation':>11} {'-w.start':>9} {'-tail':>9} {'incl. startup':>13} "
              f"{'cpu ms':>7} {'load avg':>9}  target", flush=True)
        for ev in args.evaluators.split(","):
            if ev == "dask" and args.dask_slots:
                for kind in args.dask_cluster.split(","):
                    for slots in (int(s) for s in args.dask_slots.split(",")):
                        if slots <= 32 and kind == "processes":  # hps starts its own, as --workers N
                            for algo in algos:
                                r = once(folder, algo, ev, args.evals, slots, args.seed, None, args.profile)
                                print(row(algo, ev, r, kind), flush=True)
                            continue
                        with local_cluster(slots, processes=kind == "processes") as address:
                            for algo in algos:
                                r = once(folder, algo, ev, args.evals, slots, args.seed, address,
                                         args.profile)
                                print(row(algo, ev, r, kind), flush=True)
                continue
            for workers in (int(w) for w in args.workers.split(",")):
                for algo in algos:
                    r = once(folder, algo, ev, args.evals, workers, args.seed, None, args.profile)
                    print(row(algo, ev, r), flush=True)


if __name__ == "__main__":
    main()
