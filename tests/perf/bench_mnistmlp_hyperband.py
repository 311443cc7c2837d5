"""The default mnistmlp Hyperband run (R=9, eta=3), scheduled here, for wall time and best val_accuracy.

Stands in for ``hps run --problem mnistmlp --algo hyperband --workers 2`` until
the Hyperband backend and the process evaluator are merged: the same brackets
(s=2: 9x1, 3x3, 1x9; s=1: 5x3, 1x9; s=0: 3x9; 23 evaluations, 69 epochs with
warm start), the defaults as the first configuration, the rest random; each
rung's evaluations run side by side on reused worker processes (one
TensorFlow thread each), and a later bracket's rung starts while an earlier
bracket waits for its rung, as the backend may do. Prints one line per
evaluation, then wall time, evaluations, epochs trained, best val_accuracy at
the full budget, and each worker's RSS after its first and last trial.

    HPS_DATA_DIR=../shared/data python tests/perf/bench_mnistmlp_hyperband.py [--workers 2] [--seed 0]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing as mp
import os
import tempfile
import time

import numpy as np

_lp = None


def _init(threads: str) -> None:
    global _lp
    os.environ["HPS_THREADS"] = threads
    from hpsearch.loader import load_problem

    _lp = load_problem("mnistmlp")


def _evaluate(spec):
    import psutil

    from hpsearch.trial import execute_trial

    with _lp.activate():
        result = execute_trial(_lp.run, True, spec)
    return result, psutil.Process().memory_info().rss / 2**20, os.getpid()


def brackets(R: int, eta: int, r_min: int = 1) -> list[tuple[int, list[tuple[int, int]]]]:
    """The paper's Algorithm 1 in integers: [(s, [(n_i, r_i), ...]), ...], s from s_max down."""
    s_max = 0
    while r_min * eta ** (s_max + 1) <= R:
        s_max += 1
    out = []
    for s in range(s_max, -1, -1):
        n = -(-(s_max + 1) * eta**s // (s + 1))
        out.append((s, [(n // eta**i, R // eta ** (s - i)) for i in range(s + 1)]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", default="1", help="HPS_THREADS per worker")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-resource", type=int, default=9)
    ap.add_argument("--eta", type=int, default=3)
    args = ap.parse_args()

    from hpsearch.loader import load_problem
    from hpsearch.trial import TrialSpec

    problem = load_problem("mnistmlp", with_run=False).problem
    plan = brackets(args.max_resource, args.eta)
    print("plan:", "; ".join(f"s={s}: " + ", ".join(f"{n}x{r}" for n, r in rungs) for s, rungs in plan))
    t0 = time.perf_counter()
    root = tempfile.mkdtemp(prefix="hb-ckpt-")
    next_trial, next_config = 1, 1
    # Per bracket: its rungs, the current rung index, configs of the rung, results of the rung.
    state = []
    for s, rungs in plan:
        rng = np.random.default_rng([args.seed, s])
        configs = []
        for _ in range(rungs[0][0]):
            cfg = dict(problem.defaults) if next_config == 1 else problem.sample(rng)
            configs.append((next_config, cfg))
            next_config += 1
        state.append({"s": s, "rungs": rungs, "i": 0, "todo": configs, "done": [], "running": 0})
    ctx = mp.get_context("spawn")
    rows, rss = [], {}
    with cf.ProcessPoolExecutor(args.workers, mp_context=ctx, initializer=_init,
                                initargs=(args.threads,)) as pool:
        futures = {}
        while True:
            for b in state:  # fill free workers, earliest bracket first
                while b["todo"] and len(futures) < args.workers:
                    cid, cfg = b["todo"].pop(0)
                    n_i, r_i = b["rungs"][b["i"]]
                    prev = b["rungs"][b["i"] - 1][1] if b["i"] else 0
                    spec = TrialSpec(trial_id=next_trial, config_id=cid, config={**cfg, "epochs": r_i},
                                     budget=r_i, previous_budget=prev, bracket=b["s"], rung=b["i"],
                                     seed=1000 * args.seed + cid, checkpoint_root=root,
                                     objective="val_accuracy")
                    next_trial += 1
                    futures[pool.submit(_evaluate, spec)] = (b, spec, cfg)
                    b["running"] += 1
            if not futures:
                break
            finished, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                b, spec, cfg = futures.pop(fut)
                result, mem, pid = fut.result()
                rss.setdefault(pid, []).append(mem)
                b["running"] -= 1
                value = result.objective if result.status == "done" else -1.0
                b["done"].append((value, spec.config_id, cfg))
                trained = result.metrics.get("epochs_trained", 0)
                rows.append((spec, result, trained))
                print(f"{time.perf_counter() - t0:6.0f}s  trial {spec.trial_id:2d}  s={spec.bracket} "
                      f"rung {spec.rung}  config {spec.config_id:2d}  budget {spec.budget} "
                      f"(+{trained})  {result.duration_s:5.1f}s  "
                      f"val_accuracy {value:.4f}  units {cfg['units1']}/{cfg['units2']} "
                      f"batch {cfg['batch_size']} {cfg['optimizer']} lr {cfg['learning_rate']:.2g}  "
                      f"pid {pid} RSS {mem:.0f} MiB" + (f"  [{result.error}]" if result.error else ""),
                      flush=True)
                if not b["todo"] and b["running"] == 0 and b["i"] + 1 < len(b["rungs"]):
                    keep = b["rungs"][b["i"] + 1][0]
                    ranked = sorted(b["done"], key=lambda t: -t[0])[:keep]
                    b["i"] += 1
                    b["todo"] = [(cid, cfg) for _, cid, cfg in ranked]
                    b["done"] = []
    wall = time.perf_counter() - t0
    full = [r.objective for spec, r, _ in rows if r.status == "done" and spec.budget == args.max_resource]
    print(f"\nwall time {wall:.0f} s ({wall / 60:.1f} min) with {args.workers} workers x {args.threads} thread(s); "
          f"{len(rows)} evaluations; {sum(t for _, _, t in rows)} epochs trained; "
          f"failed {sum(r.status != 'done' for _, r, _ in rows)}; "
          f"best val_accuracy at {args.max_resource} epochs {max(full) if full else float('nan'):.4f}")
    for pid, values in rss.items():
        print(f"worker {pid}: {len(values)} trials, RSS after first {values[0]:.0f} MiB, "
              f"after last {values[-1]:.0f} MiB, max {max(values):.0f} MiB")


if __name__ == "__main__":
    main()
