"""Worker memory over many mnistmlp trials in one reused process (as a process-pool worker runs them).

Runs ``run()`` of the mnistmlp benchmark N times in this process on a small
MNIST subset but with the real model sizes (random configurations from the
space, units up to 1024), every third trial warm-started from the previous
one's checkpoint, and prints the resident set size (psutil) after trial 5 and
after the last trial. The difference must stay small (no growth per trial).

With ``--process`` the same trials go through the ``process`` evaluator (one
worker), and the RSS is the worker's: it shows the effect of mnistmlp's
``MAX_TRIALS_PER_WORKER`` (a fresh worker after that many trials), which bounds
what TensorFlow keeps per trained model.

    HPS_DATA_DIR=../shared/data python tests/perf/bench_memory.py [--trials 50] [--subset 2000,500]
        [--process]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import psutil


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--subset", default="2000,500", help="HPS_MNIST_SUBSET (train,validation sizes)")
    ap.add_argument("--threads", default="1", help="HPS_THREADS (what one of 2 workers gets)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--process", action="store_true", help="through the process evaluator (1 worker)")
    args = ap.parse_args()
    os.environ["HPS_MNIST_SUBSET"] = args.subset
    os.environ["HPS_THREADS"] = args.threads

    from hpsearch.problem.loader import load_problem
    from hpsearch.trial import TrialSpec, execute_trial

    lp = load_problem("mnistmlp")
    rng = np.random.default_rng(args.seed)
    proc = psutil.Process()
    rss = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        evaluator = None
        if args.process:
            from hpsearch.evaluators import make_evaluator

            evaluator = make_evaluator("process", lp.folder, workers=1, run_dir=root)
            evaluator.start()
        config_id, config = 0, None
        for i in range(1, args.trials + 1):
            if i % 3 == 0 and config is not None:  # promote the previous configuration: 1 -> 2 epochs
                spec = TrialSpec(trial_id=i, config_id=config_id, config={**config, "epochs": 2}, budget=2,
                                 previous_budget=1, seed=config_id, checkpoint_root=root,
                                 objective="val_accuracy")
            else:
                config_id += 1
                config = {**lp.problem.sample(rng), "epochs": 1}
                spec = TrialSpec(trial_id=i, config_id=config_id, config=config, budget=1, seed=config_id,
                                 checkpoint_root=root, objective="val_accuracy")
            if evaluator is None:
                with lp.activate():
                    r = execute_trial(lp.run, lp.accepts_trial, spec)
                rss[i] = proc.memory_info().rss / 2**20
            else:
                evaluator.submit(spec)
                got = []
                while not got:
                    got = evaluator.wait(timeout=5.0)
                r = got[0]
                try:
                    rss[i] = psutil.Process(int(r.worker.split("/")[1])).memory_info().rss / 2**20
                except psutil.NoSuchProcess:  # recycled right after this trial
                    rss[i] = rss.get(i - 1, float("nan"))
            print(f"trial {i:3d}  {r.status:6s}  units {spec.config['units1']:4d}/{spec.config['units2']:4d}  "
                  f"batch {spec.config['batch_size']:3d}  budget {spec.budget} (from {spec.previous_budget})  "
                  f"val_accuracy {r.objective if r.objective is not None else float('nan'):.4f}  "
                  f"RSS {rss[i]:7.1f} MiB" + (f"  [{r.error}]" if r.error else "")
                  + (f"  worker {r.worker}" if evaluator else ""), flush=True)
        if evaluator is not None:
            evaluator.close()
    n = args.trials
    print(f"\n{n} trials in {time.perf_counter() - t0:.0f} s; RSS after trial 5: {rss[min(5, n)]:.1f} MiB, "
          f"after trial {n}: {rss[n]:.1f} MiB ({rss[n] - rss[min(5, n)]:+.1f} MiB), "
          f"max {max(rss.values()):.1f} MiB")


if __name__ == "__main__":
    main()
