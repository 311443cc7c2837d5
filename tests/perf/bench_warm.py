"""Warm start from earlier runs: how much sooner a second run reaches the first run's best.

For each case (a problem and an ``--algo``) and each of ``--seeds`` seeds k:

1. a *first* run with seed k (``bayesian``: ``--evals`` evaluations; ``bohb``:
   its own end, one Hyperband pass unless ``--iterations``);
2. a *warm* second run with seed 1000 + k, ``--warm-from`` the first run;
3. a *cold* second run with seed 1000 + k and no warm start (the control);

each second run with the same limit as the first. Reported per case: the
number of evaluations the first run needed to reach its own best (its
incumbent's position), and the number each second run needed to reach that
value (a ``done`` evaluation at least as good; in a multi-fidelity run one at
the first run's incumbent budget, R), median [q25, q75] over seeds, with how
many seeds reached it at all (a second run that never does counts as its limit
+ 1, so a median over seeds that did not all reach it is a lower bound). The
target is warm <= first / 2 in the median.

Second runs under fifo stop as soon as they reach the value (``--stop-when``);
multi-fidelity runs go to their end (a stop condition would also fire on a
low-budget preview). Every evaluator is serial; runs are stored in ``--out``
and not run again, so an interrupted bench continues where it stopped.

    python tests/perf/bench_warm.py                          # every case, 10 seeds
    python tests/perf/bench_warm.py --seeds 2 --cases hartmann6:bayesian   # a quick check
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from hpsearch.problem.objective import to_loss
from hpsearch.run.runner import RunConfig, start_run
from hpsearch.store import RunHistory, RunStore

#: problem:algo -> the options of every run of that case.
CASES = {
    "hartmann6:bayesian": {},
    "mfhartmann6:bohb": {},
    "sgddigits:bayesian": {},
    "sgddigits:bohb": {},
}


def run_once(run_dir: Path, problem: str, algo: str, seed: int, evals: int | None, iterations: int | None,
             warm_from: Path | None = None, stop_when: list[str] | None = None) -> Path:
    """One run into ``run_dir`` (kept: a directory that holds a finished run is not run again)."""
    if (run_dir / "results.db").exists():
        with RunStore.open(run_dir, readonly=True) as store:
            if store.ended:
                return run_dir
        raise SystemExit(f"{run_dir}: an unfinished run; remove it or resume it with hps resume")
    options = {"iterations": iterations} if algo == "bohb" and iterations else {}
    cfg = RunConfig(problem=problem, algo=algo, seed=seed, max_evals=evals if algo != "bohb" else None,
                    evaluator="serial", run_dir=str(run_dir), algo_options=options,
                    warm_from=[str(warm_from)] if warm_from else [], stop_when=stop_when or [])
    start_run(cfg).store.close()
    return run_dir


def first_best(run_dir: Path) -> tuple[float, object, str]:
    """The first run's incumbent: its objective, its budget, and the run's direction."""
    with RunStore.open(run_dir, readonly=True) as store:
        h = RunHistory.from_store(store)
    return h.incumbent.objective, h.incumbent.budget, h.direction


def reach(run_dir: Path, target: float, budget: object, direction: str, mf: bool
          ) -> tuple[int | None, int | None]:
    """Evaluations (finished, in completion order) until one reaches ``target`` (at ``budget`` when mf),
    and how many of them were at ``budget`` (mf; else the same count); (None, None) if none does."""
    with RunStore.open(run_dir, readonly=True) as store:
        h = RunHistory.from_store(store)
    goal = to_loss(direction, target)
    at_budget = 0
    for p, t in zip(h.points, h.finished):
        top = not mf or (t.budget is not None and float(t.budget) == float(budget))
        at_budget += top
        if p.objective is not None and top and to_loss(direction, p.objective) <= goal + 1e-12:
            return p.evaluations, at_budget
    return None, None


def quartiles(xs: list[float]) -> str:
    xs = sorted(xs)
    if len(xs) < 2:
        return f"{xs[0]:g}" if xs else "-"
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return f"{statistics.median(xs):g} [{q[0]:g}, {q[2]:g}]"


def bench_case(case: str, seeds: int, evals: int, iterations: int | None, out: Path) -> dict:
    problem, algo = case.split(":")
    mf = algo == "bohb"
    rows = []
    for k in range(seeds):
        base = out / case.replace(":", "-") / f"seed{k}"
        first = run_once(base / "first", problem, algo, k, evals, iterations)
        target, budget, direction = first_best(first)
        with RunStore.open(first, readonly=True) as store:
            limit = len(store.trials())
            objective = store.objective
        op = "<=" if direction == "minimize" else ">="
        stop = None if mf else [f"{objective}{op}{target!r}"]
        warm = run_once(base / "warm", problem, algo, 1000 + k, limit, iterations, warm_from=first,
                        stop_when=stop)
        cold = run_once(base / "cold", problem, algo, 1000 + k, limit, iterations, stop_when=stop)
        row = {"seed": k, "first_evals": limit, "first_best": target}
        for name, d in (("first", first), ("warm", warm), ("cold", cold)):
            row[name], row[f"{name}_full"] = reach(d, target, budget, direction, mf)
        rows.append(row)
        print(f"  {case} seed {k}: first best {target:.6g} at {row['first']}/{limit}; "
              f"warm {row['warm']}, cold {row['cold']}"
              + (f" (full-budget evaluations: first {row['first_full']}, warm {row['warm_full']}, "
                 f"cold {row['cold_full']})" if mf else ""), flush=True)

    def counts(key: str) -> list[float]:
        limit = "first_full" if key.endswith("_full") else "first_evals"
        worst = max(r[limit] for r in rows) if key.endswith("_full") else None
        return [r[key] if r[key] is not None else (worst if worst is not None else r[limit]) + 1
                for r in rows]

    out_row = {"case": case, "rows": rows, "evals": quartiles([r["first_evals"] for r in rows]),
               "warm_reached": sum(r["warm"] is not None for r in rows),
               "cold_reached": sum(r["cold"] is not None for r in rows)}
    for suffix in ("", "_full"):
        first_med = statistics.median(counts("first" + suffix))
        warm_med = statistics.median(counts("warm" + suffix))
        out_row.update({f"first{suffix}_q": quartiles(counts("first" + suffix)),
                        f"warm{suffix}_q": quartiles(counts("warm" + suffix)),
                        f"cold{suffix}_q": quartiles(counts("cold" + suffix)),
                        f"ratio{suffix}": warm_med / first_med, f"met{suffix}": warm_med <= first_med / 2})
    out_row["mf"] = mf
    return out_row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES), help="problem:algo pairs, comma-separated")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--evals", type=int, default=50, help="evaluations of each bayesian run")
    ap.add_argument("--iterations", type=int, default=None, help="bohb's --iterations (default one pass)")
    ap.add_argument("--out", type=Path, default=Path("runs/bench-warm"))
    args = ap.parse_args()
    t0 = time.time()
    results = [bench_case(c, args.seeds, args.evals, args.iterations, args.out) for c in args.cases.split(",")]
    wall = time.time() - t0
    print(f"\n{args.seeds} seeds; evaluations to reach the first run's best, median [q25, q75] "
          "(a second run that never reaches it counts as the first run's evaluations + 1)\n")
    head = "| case | evaluations | first run reaches its best at | warm second run | " \
           "cold second run | warm / first | target (<= 1/2) |"
    print(head)
    print("|" + "---|" * 7)
    for r in results:
        n = len(r["rows"])
        print(f"| {r['case']} | {r['evals']} | {r['first_q']} | {r['warm_q']} ({r['warm_reached']}/{n} reach it) "
              f"| {r['cold_q']} ({r['cold_reached']}/{n}) | {r['ratio']:.2f} | {'met' if r['met'] else 'missed'} |")
        if r["mf"]:
            print(f"| {r['case']}, full-budget evaluations only | | {r['first_full_q']} | {r['warm_full_q']} | "
                  f"{r['cold_full_q']} | {r['ratio_full']:.2f} | {'met' if r['met_full'] else 'missed'} |")
    print(f"\nwall time {wall:.0f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"results": results, "wall_s": wall}, indent=1))


if __name__ == "__main__":
    main()
