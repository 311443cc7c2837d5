"""Model searchers: time per suggestion, and regret against gp_minimize and random search.

(s) Time per suggestion of every model searcher (``bayesian``, ``kde``), driven
    directly through the searcher interface (``suggest`` + ``observe``), at 50,
    100, 200 and 300 observations of hartmann6: mean and max over ``--window``
    steps after each size, all observations at one budget (as under fifo) and
    spread over the budgets 1, 3, 9, 27, 81 of a multi-fidelity scheduler.
    The target is <= 100 ms mean at 200 observations.

(p) Time per suggestion at scale, with configurations pending as on a
    cluster: the ``bayesian`` searcher is warm-started with N evaluations of
    random configurations of hartmann6 (``--scale-sizes``, 200 to 2,000; all
    at one budget, or spread over 1, 3, .., 81 as under bohb or
    asha+bayesian), then ``P`` configurations are asked and kept pending
    (``--pending``: 1 and 32), and each of ``--scale-window`` steps asks one
    more and observes the oldest pending one (so the model always sees N + P
    points, P of them as constant-liar lies). Reported: mean and max of the
    steps (scheduled hyperparameter refits included where they fall), one
    more step with a forced hyperparameter refit ("refit"; the schedule
    refits each time the data has grown by 10 %, so "amortised" adds it
    spread over N / 10 steps), and the first P + 1 asks after the warm start
    ("first asks"), which fit the hyperparameters on the N points from
    scratch with restarts (what a ``--warm-from`` run pays once).
    ``--no-fit-sizes`` switches hyperparameter fitting off at those sizes:
    a lower bound for a GP whose fits would take hours there.
    The target is <= 100 ms mean at 2,000 observations with 32 pending,
    measured with ``--clock cpu``.

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
    python tests/perf/bench_bayesian.py --clock cpu --skip-searchers --skip-timing --skip-regret   # (p) only
    python tests/perf/bench_bayesian.py --skip-searchers --skip-timing --skip-scale --evals 100,200  # (b) only
"""
from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
import warnings

from hpsearch.problem.loader import load_problem
from hpsearch.run.runner import RunConfig, start_run
from hpsearch.search import SEARCHERS, Told, make_scheduler, searcher_class
from hpsearch.search.base import Observation


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


def scale_timing(size: int, pending: int, window: int, seed: int, multi_fidelity: bool,
                 clock=time.process_time, fit: bool = True) -> tuple[float, float, float, float, float]:
    """(first asks, mean, max, one refit, amortised mean) in ms of the bayesian searcher warm-started
    with ``size`` evaluations, asked with ``pending`` configurations in flight (see (p) in the module
    docstring); ``fit=False`` skips every hyperparameter fit (NaN for refit and amortised)."""
    from unittest import mock

    import numpy as np

    from hpsearch.search.searchers import bayesian

    if not fit:
        with mock.patch.object(bayesian._GP, "fit_hyper", lambda *a, **k: None):
            return scale_timing(size, pending, window, seed, multi_fidelity, clock)[:3] + (math.nan, math.nan)

    lp = load_problem("hartmann6")
    budgets = (1, 3, 9, 27, 81) if multi_fidelity else (None,)
    rng = np.random.default_rng(seed + 1000)
    earlier = []
    for i in range(size):
        config = lp.problem.sample(rng)
        earlier.append(Observation(config=config, budget=budgets[i % len(budgets)], loss=lp.run(config)))
    searcher = searcher_class("bayesian")(lp.problem, seed, multi_fidelity=multi_fidelity)
    searcher.warm_start(earlier)
    t0 = clock()
    flight = searcher.suggest(pending)
    searcher.observe(flight[0], budgets[0], lp.run(flight[0]))  # a starting point may have come first
    flight = flight[1:] + searcher.suggest(1)  # the model has been fitted on the N points by now
    first = clock() - t0
    step_s = []
    for i in range(window):
        t0 = clock()
        flight.append(searcher.suggest(1)[0])
        config = flight.pop(0)
        t1 = clock()
        value = lp.run(config)
        t2 = clock()
        searcher.observe(config, budgets[i % len(budgets)], value)
        step_s.append((t1 - t0) + (clock() - t2))
    mean = statistics.mean(step_s)
    refit = math.nan
    if fit and getattr(bayesian._GP.fit_hyper, "__name__", "") == "fit_hyper":
        for model in searcher._models.values():  # one more step with a scheduled hyperparameter refit
            model._next_fit = 0
        t0 = clock()
        flight.append(searcher.suggest(1)[0])
        refit = clock() - t0
    # the schedule refits each time the data has grown by 10 %
    amortised = mean + max(refit - mean, 0.0) / max(1, size // 10)
    return first * 1e3, mean * 1e3, max(step_s) * 1e3, refit * 1e3, amortised * 1e3


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


def regret_ours(problem: str, algo: str, seed: int, evals: list[int], options: dict | None = None) -> list[float]:
    """Regret after each of ``evals`` evaluations (one run of max(evals), ``options`` for the algorithm)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = start_run(RunConfig(problem=problem, algo=algo, seed=seed, max_evals=max(evals),
                                  algo_options=dict(options or {}), evaluator="serial", run_dir=f"{tmp}/run"))
        p = out.loaded.problem
        trials = sorted(out.store.trials(), key=lambda t: t.trial_id)
        out.store.close()
        losses = [p.to_loss(t.objective) if t.status == "done" and t.objective is not None else math.inf
                  for t in trials]
        return [min(losses[:e]) - p.to_loss(p.optimum) for e in evals]


def regret_gp_minimize(problem: str, seed: int, evals: list[int]) -> list[float]:
    from skopt import gp_minimize
    from threadpoolctl import threadpool_limits

    lp = load_problem(problem)
    p, names = lp.problem, lp.problem.names
    dims = [(d.low, d.high) for d in p.dims]
    with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):  # faster; same search
        warnings.simplefilter("ignore")
        res = gp_minimize(lambda x: p.to_loss(lp.run(dict(zip(names, x)))), dims, n_calls=max(evals),
                          random_state=seed)
    return [float(min(res.func_vals[:e])) - p.to_loss(p.optimum) for e in evals]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--evals", default="100,200", help="(b): regret after these numbers of evaluations")
    ap.add_argument("--methods", default="bayesian,random,gp_minimize",
                    help="(b): the methods compared; NAME:key=value:key=value gives ours options, e.g. "
                         "bayesian:max_train=100")
    ap.add_argument("--sizes", default="50,100,200,300")
    ap.add_argument("--window", type=int, default=30, help="our steps timed after each size")
    ap.add_argument("--sk-steps", type=int, default=3, help="skopt steps timed after each size")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--skip-searchers", action="store_true")
    ap.add_argument("--skip-regret", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--scale-sizes", default="200,500,1000,2000", help="(p): observations")
    ap.add_argument("--pending", default="1,32", help="(p): configurations pending at each ask")
    ap.add_argument("--scale-window", type=int, default=20, help="(p): steps timed at each size")
    ap.add_argument("--no-fit-sizes", default="",
                    help="(p): sizes timed with hyperparameter fits switched off (a lower bound, for a GP that "
                         "would take hours to fit there)")
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

    if not args.skip_scale:
        clock = time.process_time if args.clock == "cpu" else time.perf_counter
        print(f"(p) bayesian at scale: {args.clock} time per suggestion (suggest + observe) with configurations "
              f"pending, hartmann6, {args.scale_window} steps", flush=True)
        no_fit = {int(s) for s in args.no_fit_sizes.split(",") if s}
        print(f"{'budgets':<10} {'observations':>12} {'pending':>8}  {'mean':>10}  {'max':>10}  {'refit':>10}  "
              f"{'amortised':>10}  {'first asks':>10}")
        for mf in (False, True):
            for n in [int(s) for s in args.scale_sizes.split(",")]:
                for pending in [int(s) for s in args.pending.split(",")]:
                    first, mean, mx, refit, amortised = scale_timing(n, pending, args.scale_window, 0, mf, clock,
                                                                      fit=n not in no_fit)
                    print(f"{'1,3,..,81' if mf else 'one':<10} {n:>12} {pending:>8}  {mean:>7.1f} ms  "
                          f"{mx:>7.1f} ms  {refit:>7.0f} ms  {amortised:>7.1f} ms  {first:>7.0f} ms"
                          f"{'  (no hyperparameter fits)' if n in no_fit else ''}", flush=True)
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
        evals = [int(e) for e in args.evals.split(",")]
        methods = args.methods.split(",")
        print(f"(b) regret after {args.evals} evaluations, {args.seeds} seeds", flush=True)
        results: dict[tuple[str, str, int], list[float]] = {}
        for problem in ("branin", "hartmann6"):
            for seed in range(args.seeds):
                for method in methods:
                    t0 = time.perf_counter()
                    if method == "gp_minimize":
                        rs = regret_gp_minimize(problem, seed, evals)
                    else:
                        algo, *opts = method.split(":")
                        options = {k: int(v) if v.isdigit() else v for k, v in (o.split("=") for o in opts)}
                        rs = regret_ours(problem, algo, seed, evals, options)
                    for e, r in zip(evals, rs):
                        results.setdefault((problem, method, e), []).append(r)
                    print(f"  {problem} seed {seed} {method}: regret "
                          f"{', '.join(f'{r:.4g}' for r in rs)} ({time.perf_counter() - t0:.1f} s)", flush=True)
        print(f"{'problem':<10} {'method':<12} {'evals':>6} {'mean regret':>12} {'median regret':>14}")
        for (problem, method, e), rs in results.items():
            print(f"{problem:<10} {method:<12} {e:>6} {statistics.mean(rs):>12.4g} {statistics.median(rs):>14.4g}")

if __name__ == "__main__":
    main()
