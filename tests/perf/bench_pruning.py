"""Pruned random search against unpruned random search and Optuna's pruners: resource spent and regret.

On two learning-curve problems, every method gets the same run function (it
calls ``trial.report`` each epoch and stops when told):

* ``hartmann6lc`` (synthetic, R = 81 epochs, optimum -3.32237), and
* ``digitsmlp`` (tests/perf/problems/digitsmlp: a NumPy MLP trained on
  scikit-learn's digits, R = 27 epochs; "regret" is the validation error minus
  the lowest validation error any run of the benchmark found).

Methods: ``random`` (no pruning, ``--full N`` evaluations at R, so N*R
resource), ``random+median|asha|hyperband`` (ours: ``hps run --algo random
--fix epochs=R --pruner P`` with ``max_resource_spent = N*R/3``), and Optuna's
RandomSampler and TPESampler with MedianPruner and HyperbandPruner on the same
resource (Optuna ask/tell; epochs trained counted the same way). Regret is the
best full-budget evaluation's; the table gives the median over seeds (and the
quartiles), and the median resource actually trained.

    pip install "hpsearch[bench]"   # optuna
    OMP_NUM_THREADS=1 python tests/perf/bench_pruning.py --seeds 10 [--problems hartmann6lc,digitsmlp]
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hpsearch.problem.loader import load_problem
from hpsearch.problem.space import Categorical, Continuous
from hpsearch.reporting.progress import Progress
from hpsearch.run.runner import RunConfig, start_run

HERE = Path(__file__).resolve().parent
PROBLEMS = {
    "hartmann6lc": {"problem": "hartmann6lc", "R": 81, "full": 100},
    "digitsmlp": {"problem": str(HERE / "problems" / "digitsmlp"), "R": 27, "full": 30},
}
OURS = ["median", "asha", "hyperband"]
OPTUNA = [("random", "median"), ("random", "hyperband"), ("tpe", "median"), ("tpe", "hyperband")]


def ours(spec: dict, pruner: str | None, seed: int, budget: float | None, max_evals: int | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(problem=spec["problem"], algo="random", seed=seed, evaluator="serial",
                        run_dir=f"{tmp}/run", fix={"epochs": spec["R"]}, pruner=pruner,
                        max_evals=max_evals if budget is None else 100_000, max_resource_spent=budget)
        out = start_run(cfg, observer=Progress(stream=io.StringIO(), tty=False))
        trials = out.store.trials(finished_only=True)
        out.store.close()
    done = [t.objective for t in trials if t.status == "done"]
    return {"spent": sum(t.resource_used for t in trials), "best": min(done) if done else math.inf,
            "trials": len(trials)}


class _Shim:
    """The ``trial`` a run function sees, backed by an Optuna trial (report -> should_prune)."""

    def __init__(self, trial, objective: str, seed: int):
        self.t, self.objective, self.seed = trial, objective, seed
        self.budget, self.previous_budget, self.id, self.config_id = None, 0, trial.number, trial.number
        self.step = 0
        self.pruned = False

    def report(self, step, **metrics) -> bool:
        self.step = step
        self.t.report(metrics[self.objective], step)
        self.pruned = self.t.should_prune()
        return self.pruned


def suggest(trial, problem, R: int) -> dict:
    config = {}
    for d in problem.dims:
        if d.resource:
            config[d.name] = R
        elif isinstance(d, Continuous):
            config[d.name] = trial.suggest_float(d.name, d.low, d.high, log=d.prior == "log-uniform")
        elif isinstance(d, Categorical) or getattr(d, "values", None):
            choices = list(getattr(d, "choices", None) or d.values)
            config[d.name] = trial.suggest_categorical(d.name, choices)
        else:
            config[d.name] = trial.suggest_int(d.name, d.low, d.high, log=d.prior == "log-uniform")
    return config


def optuna_run(spec: dict, sampler: str, pruner: str, seed: int, budget: float) -> dict:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    lp = load_problem(spec["problem"])
    R = spec["R"]
    samplers = {"random": lambda: optuna.samplers.RandomSampler(seed=seed),
                "tpe": lambda: optuna.samplers.TPESampler(seed=seed)}
    pruners = {"median": lambda: optuna.pruners.MedianPruner(),
               "hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=R,
                                                                    reduction_factor=3)}
    study = optuna.create_study(direction="minimize", sampler=samplers[sampler](), pruner=pruners[pruner]())
    spent, best, n = 0.0, math.inf, 0
    with lp.activate():
        while spent < budget:
            trial = study.ask()
            config = suggest(trial, lp.problem, R)
            shim = _Shim(trial, lp.problem.objective, seed * 100_003 + trial.number)
            value = lp.run(config, shim)[lp.problem.objective]
            spent += shim.step
            n += 1
            if shim.pruned:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(trial, value)
                best = min(best, value)
    return {"spent": spent, "best": best, "trials": n}


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
    return q[0], statistics.median(xs), q[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", default="hartmann6lc,digitsmlp")
    ap.add_argument("--out", default=None, help="Also write the raw results as JSON here.")
    args = ap.parse_args()
    have_optuna = importlib.util.find_spec("optuna") is not None
    if not have_optuna:
        print("optuna is not installed (pip install 'hpsearch[bench]'): Optuna rows skipped", file=sys.stderr)
    raw: dict = {}
    for name in args.problems.split(","):
        spec = PROBLEMS[name]
        R, full = spec["R"], spec["full"]
        budget = full * R / 3
        rows: dict[str, list[dict]] = {}
        t0 = time.perf_counter()
        for seed in range(args.seeds):
            rows.setdefault("random (no pruner)", []).append(ours(spec, None, seed, None, full))
            for p in OURS:
                rows.setdefault(f"random + {p}", []).append(ours(spec, p, seed, budget, None))
            if have_optuna:
                for sampler, p in OPTUNA:
                    rows.setdefault(f"optuna {sampler} + {p}", []).append(
                        optuna_run(spec, sampler, p, seed, budget))
            print(f"{name}: seed {seed} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        optimum = load_problem(spec["problem"], with_run=False).problem.optimum
        if optimum is None:  # the best value any run found stands in for the optimum
            optimum = min(r["best"] for rs in rows.values() for r in rs)
        raw[name] = rows
        print(f"\n{name}: R={R}, unpruned random {full} evaluations ({full * R} units); pruned runs get "
              f"{budget:g} units (1/3); median over {args.seeds} seeds [quartiles]")
        print(f"{'method':28s} {'resource':>9s} {'trials':>7s}  {'regret':>28s}")
        for method, rs in rows.items():
            regrets = [r["best"] - optimum for r in rs]
            lo, med, hi = quartiles(regrets)
            res = statistics.median(r["spent"] for r in rs)
            n = statistics.median(r["trials"] for r in rs)
            print(f"{method:28s} {res:9.0f} {n:7.0f}  {med:10.4f} [{lo:.4f}, {hi:.4f}]")
    if args.out:
        Path(args.out).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
