"""Model searchers: time per suggestion, and regret against gp_minimize and random search.

(s) Time per suggestion of every model searcher (``bayesian``, ``kde``), driven
    directly through the searcher interface (``suggest`` + ``observe``), at 50,
    100, 200 and 300 observations of hartmann6: mean and max over ``--window``
    steps after each size, all observations at one budget (as under fifo) and
    spread over the budgets 1, 3, 9, 27, 81 of a multi-fidelity scheduler.
    The target is <= 100 ms mean at 200 observations.

(a) Time per suggestion (one ``ask`` + one ``tell``, the objective's own time
    excluded) on hartmann6 at 50, 100, 200 and 300 observations. Our backend
    runs from its first evaluation and is timed over the ``--window`` steps
    that follow each size (the mean includes the scheduled hyperparameter
    refits; the max is the slowest step). Plain ``skopt.Optimizer`` with its
    defaults is told the same first N evaluations at once, then timed over
    ``--sk-steps`` tell+ask steps, once with BLAS threads as installed and once
    limited to one thread (as our backend does: on a busy machine threads
    fighting over the cores make the small matrix work many times slower).
(b) Regret (best found - known optimum) after ``--evals`` evaluations over
    ``--seeds`` seeds on branin and hartmann6, for our ``bayesian`` and
    ``random`` (through the real runner, serial evaluator) and
    ``skopt.gp_minimize`` with its defaults.

    python tests/perf/bench_bayesian.py                 # the full run (slow on a shared CPU)
    python tests/perf/bench_bayesian.py --seeds 2 --evals 30 --sizes 50,100 --window 10   # quick check
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings

from hpsearch.problem.loader import load_problem
from hpsearch.run.runner import RunConfig, start_run
from hpsearch.search import SEARCHERS, Told, make_scheduler, searcher_class


def timing(sizes: list[int], window: int, sk_steps: int, seed: int) -> list[tuple]:
    """Rows (N, ours mean ms, ours max ms, skopt mean ms, skopt with one BLAS thread mean ms)."""
    lp = load_problem("hartmann6")
    names = lp.problem.names
    backend = make_scheduler("bayesian", lp.problem, seed, {})
    X, y, step_s = [], [], []
    total = max(sizes) + window
    for i in range(total):
        t0 = time.perf_counter()
        s = backend.ask(1)[0]
        t1 = time.perf_counter()
        value = lp.run(s.config)
        t2 = time.perf_counter()
        backend.tell(Told(trial_id=i, suggestion=s, status="done", loss=value, objective=value))
        t3 = time.perf_counter()
        step_s.append((t1 - t0) + (t3 - t2))
        X.append([s.config[n] for n in names])
        y.append(value)
    rows = []
    for n in sizes:
        ours = step_s[n:n + window]
        sk = [_skopt_steps(lp, X[:n], y[:n], sk_steps, seed, one_thread) for one_thread in (False, True)]
        rows.append((n, statistics.mean(ours) * 1e3, max(ours) * 1e3, *sk))
        print(f"  timed N={n}", flush=True)
    return rows


def searcher_timing(name: str, sizes: list[int], window: int, seed: int, multi_fidelity: bool,
                    clock=time.perf_counter) -> list[tuple[int, float, float]]:
    """Rows (N, mean ms, max ms) of suggest + observe for one searcher, timed by ``clock``."""
    lp = load_problem("hartmann6")
    searcher = searcher_class(name)(lp.problem, seed, multi_fidelity=multi_fidelity)
    budgets = (1, 3, 9, 27, 81) if multi_fidelity else (None,)
    step_s = []
    for i in range(max(sizes) + window):
        t0 = clock()
        config = searcher.suggest(1)[0]
        t1 = clock()
        value = lp.run(config)
        t2 = clock()
        searcher.observe(config, budgets[i % len(budgets)], value)
        step_s.append((t1 - t0) + (clock() - t2))
    return [(n, statistics.mean(step_s[n:n + window]) * 1e3, max(step_s[n:n + window]) * 1e3) for n in sizes]


def _skopt_steps(lp, X: list, y: list, steps: int, seed: int, one_thread: bool) -> float:
    """Mean ms of skopt.Optimizer's tell+ask after being told X, y (BLAS as installed, or 1 thread)."""
    from skopt import Optimizer
    from threadpoolctl import threadpool_limits

    names = lp.problem.names
    opt = Optimizer([(0.0, 1.0)] * len(names), random_state=seed)
    with warnings.catch_warnings(), threadpool_limits(1 if one_thread else None, user_api="blas"):
        warnings.simplefilter("ignore")
        opt.tell(X, y)  # skopt fits here and prepares its next point
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            x = opt.ask()
            t1 = time.perf_counter()
            v = lp.run(dict(zip(names, x)))
            t2 = time.perf_counter()
            opt.tell(x, v)
            times.append((t1 - t0) + (time.perf_counter() - t2))
    return statistics.mean(times) * 1e3


def regret_ours(problem: str, algo: str, seed: int, evals: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = start_run(RunConfig(problem=problem, algo=algo, seed=seed, max_evals=evals,
                                  evaluator="serial", run_dir=f"{tmp}/run"))
        out.store.close()
        p = out.loaded.problem
        return p.to_loss(out.summary.best.objective) - p.to_loss(p.optimum)


def regret_gp_minimize(problem: str, seed: int, evals: int) -> float:
    from skopt import gp_minimize
    from threadpoolctl import threadpool_limits

    lp = load_problem(problem)
    p, names = lp.problem, lp.problem.names
    dims = [(d.low, d.high) for d in p.dims]
    with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):  # faster; same search
        warnings.simplefilter("ignore")
        res = gp_minimize(lambda x: p.to_loss(lp.run(dict(zip(names, x)))), dims, n_calls=evals,
                          random_state=seed)
    return float(res.fun) - p.to_loss(p.optimum)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--evals", type=int, default=50)
    ap.add_argument("--sizes", default="50,100,200,300")
    ap.add_argument("--window", type=int, default=30, help="our steps timed after each size")
    ap.add_argument("--sk-steps", type=int, default=3, help="skopt steps timed after each size")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--skip-searchers", action="store_true")
    ap.add_argument("--skip-regret", action="store_true")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="(s): wall time, or this process's CPU time (the same on a quiet machine, since the "
                         "searchers use one BLAS thread; unaffected by other jobs on a shared one)")
    args = ap.parse_args()

    if not args.skip_searchers:
        sizes = [int(s) for s in args.sizes.split(",")]
        clock = time.process_time if args.clock == "cpu" else time.perf_counter
        print(f"(s) {args.clock} time per suggestion (suggest + observe) of every model searcher, hartmann6",
              flush=True)
        print(f"{'searcher':<10} {'budgets':<12} {'observations':>12}  {'mean':>10}  {'max':>10}")
        for name in SEARCHERS:
            if not searcher_class(name).model_based:
                continue
            for mf in (False, True):
                for n, mean, mx in searcher_timing(name, sizes, args.window, 0, mf, clock):
                    print(f"{name:<10} {'1,3,..,81' if mf else 'one':<12} {n:>12}  {mean:>7.1f} ms  {mx:>7.1f} ms",
                          flush=True)
        print(flush=True)

    if not args.skip_timing:
        print("(a) time per suggestion (ask + tell), hartmann6", flush=True)
        rows = timing([int(s) for s in args.sizes.split(",")], args.window, args.sk_steps, seed=0)
        print(f"{'observations':>12}  {'bayesian mean':>13}  {'bayesian max':>12}  {'skopt.Optimizer':>15}"
              f"  {'skopt, 1 BLAS thread':>20}")
        for n, mean, mx, sk, sk1 in rows:
            print(f"{n:>12}  {mean:>10.1f} ms  {mx:>9.1f} ms  {sk:>12.1f} ms  {sk1:>17.1f} ms")
        print(flush=True)

    if not args.skip_regret:
        print(f"(b) regret after {args.evals} evaluations, {args.seeds} seeds", flush=True)
        results: dict[tuple[str, str], list[float]] = {}
        for problem in ("branin", "hartmann6"):
            for seed in range(args.seeds):
                for method in ("bayesian", "random", "gp_minimize"):
                    t0 = time.perf_counter()
                    if method == "gp_minimize":
                        r = regret_gp_minimize(problem, seed, args.evals)
                    else:
                        r = regret_ours(problem, method, seed, args.evals)
                    results.setdefault((problem, method), []).append(r)
                    print(f"  {problem} seed {seed} {method}: regret {r:.4g} "
                          f"({time.perf_counter() - t0:.1f} s)", flush=True)
        print(f"{'problem':<10} {'method':<12} {'mean regret':>12} {'median regret':>14}")
        for (problem, method), rs in results.items():
            print(f"{problem:<10} {method:<12} {statistics.mean(rs):>12.4g} {statistics.median(rs):>14.4g}")


if __name__ == "__main__":
    main()
