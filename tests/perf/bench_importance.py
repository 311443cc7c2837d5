"""Importance on the same finished trials: hps (exact fANOVA) against Optuna's fANOVA and PED-ANOVA.

The bundled problem ``anova8`` has a closed-form variance decomposition: the
main effects of x1..x8 explain 0.28, 0.20, 0.145, 0.105, 0.075, 0.055, 0.04 and
0 of the variance, the pair (x3, x5) 0.10 (``benchmarks/anova8``). For each
size a random search of that many evaluations runs (serial evaluator, seed 0);
then on its finished trials:

* ``hps``: :func:`hpsearch.reporting.importance.importance` on the run
  directory (reading the store, the forest's fit and the decomposition; sklearn
  imported beforehand), the median of ``--repeat`` runs, without and with pairs;
* ``optuna fanova``: :class:`optuna.importance.FanovaImportanceEvaluator`
  (seed 0, its defaults) on an in-memory study holding the same trials;
* ``optuna ped-anova``: :class:`optuna.importance.PedAnovaImportanceEvaluator`.

Each Optuna evaluator runs in a child process stopped after ``--timeout``
seconds. Reported: the time, the ranking, whether it is the true one, and
Spearman's rank correlation with the truth (x8 last). Optuna is a peer being
measured, never a test dependency (``pip install optuna``; the ``bench`` extra).

    python tests/perf/bench_importance.py [--sizes 2000 10000] [--timeout 900]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from hpsearch.reporting.importance import importance
from hpsearch.run.runner import RunConfig, start_run
from hpsearch.store import RunStore

try:
    from benchmarks.anova8.model_run import PAIR_SHARES, SHARES
except ImportError:  # an installed hpsearch, run from elsewhere
    from hpsearch.benchmarks.anova8.model_run import PAIR_SHARES, SHARES

TRUTH = tuple(sorted(SHARES, key=lambda n: -SHARES[n]))


def make_run(run_dir: Path, n: int) -> list[tuple[dict, float]]:
    out = start_run(RunConfig(problem="anova8", algo="random", max_evals=n, seed=0, run_dir=str(run_dir),
                              evaluator="serial"))
    out.store.close()
    with RunStore.open(run_dir, readonly=True) as store:
        return [(t.params, t.objective) for t in store.trials() if t.status == "done"]


def spearman(ranking: tuple[str, ...]) -> float:
    pos = {n: i for i, n in enumerate(ranking)}
    d = np.array([pos[n] - i for i, n in enumerate(TRUTH)], dtype=float)
    k = len(TRUTH)
    return 1 - 6 * float(d @ d) / (k * (k * k - 1))


def _optuna(method: str, trials: list[tuple[dict, float]], queue) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dist = {n: optuna.distributions.FloatDistribution(0.0, 1.0) for n in SHARES}
    study = optuna.create_study(direction="minimize")
    study.add_trials([optuna.trial.create_trial(params=p, distributions=dist, value=v) for p, v in trials])
    evaluator = (optuna.importance.FanovaImportanceEvaluator(seed=0) if method == "fanova"
                 else optuna.importance.PedAnovaImportanceEvaluator())
    t0 = time.perf_counter()
    result = evaluator.evaluate(study)
    queue.put((time.perf_counter() - t0, dict(result)))


def optuna_importance(method: str, trials: list, timeout: float) -> tuple[float | None, dict | None]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_optuna, args=(method, trials, queue), daemon=True)
    proc.start()
    try:
        return queue.get(timeout=timeout)
    except Exception:  # noqa: BLE001 - queue.Empty: it did not finish in time
        return None, None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def row(method: str, n: int, seconds: float | None, shares: dict | None, timeout: float) -> str:
    if shares is None:
        over = f"> {timeout:.0f}"
        return f"{method:17s} {n:6d}  {over:>9s}  did not finish"
    ranking = tuple(sorted(shares, key=lambda k: -shares[k]))
    ok = "yes" if ranking == TRUTH else "no"
    return (f"{method:17s} {n:6d}  {seconds:9.2f}  {' > '.join(ranking):44s} {ok:5s} "
            f"{spearman(ranking):6.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--timeout", type=float, default=900.0, help="Seconds each Optuna evaluator may take.")
    ap.add_argument("--repeat", type=int, default=3, help="hps runs per size (the median is reported).")
    ap.add_argument("--no-optuna", action="store_true", help="Measure hps only.")
    args = ap.parse_args()
    import sklearn.ensemble  # noqa: F401 - its import time is not the method's

    print(f"anova8, random search, seed 0; {os.cpu_count()} cores; true ranking {' > '.join(TRUTH)}")
    print(f"{'method':17s} {'trials':>6s}  {'seconds':>9s}  {'ranking':44s} {'true':5s} {'rho':>6s}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            run = Path(tmp) / f"anova8-{n}"
            trials = make_run(run, n)
            timed = {}
            for pairs in (False, True):  # without pairs: what `hps importance` computes by default
                times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    imp = importance(run, pairs=pairs)
                    times.append(time.perf_counter() - t0)
                timed[pairs] = (statistics.median(times), imp)
            print(row("hps", n, timed[False][0], dict(timed[False][1].shares), 0))
            print(row("hps --pairs", n, timed[True][0], dict(timed[True][1].shares), 0))
            imp = timed[True][1]
            err = max(abs(imp.shares[k] - SHARES[k]) for k in SHARES)
            (a, b), share = next(iter(PAIR_SHARES.items()))
            print(f"{'':17s} {'':6s}  {'':9s}  shares "
                  + ", ".join(f"{k} {imp.shares[k]:.3f}" for k in TRUTH)
                  + f" (truth {', '.join(f'{SHARES[k]:.3f}' for k in TRUTH)}; largest error {err:.3f}); "
                  f"top pair {':'.join(imp.pair_ranking[0])} {imp.pairs[imp.pair_ranking[0]]:.3f} "
                  f"(truth {a}:{b} {share})")
            if args.no_optuna:
                continue
            for method in ("fanova", "ped-anova"):
                seconds, shares = optuna_importance(method, trials, args.timeout)
                print(row(f"optuna {method}", n, seconds, shares, args.timeout), flush=True)


if __name__ == "__main__":
    main()
