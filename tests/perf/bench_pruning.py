"""Pruned search against unpruned random search, Optuna's pruners and multi-fidelity peers: resource and regret.

On two learning-curve problems, every method gets the same run function (it
calls ``trial.report`` each epoch and stops when told):

* ``hartmann6lc`` (synthetic, R = 81 epochs, optimum -3.32237), and
* ``digitsmlp`` (tests/perf/problems/digitsmlp: a NumPy MLP trained on
  scikit-learn's digits, R = 27 epochs; "regret" is the validation error minus
  the lowest validation error any run of the benchmark found).

Methods: ``random`` (no pruning, ``--full N`` evaluations at R, so N*R
resource); ours, ``S + P`` for searcher S in random, bayesian, kde and pruner P
in median, asha, hyperband (``hps run --algo random|bayesian [--searcher kde]
--fix epochs=R --pruner P`` with ``max_resource_spent = N*R/3``); Optuna's
RandomSampler and TPESampler with MedianPruner and HyperbandPruner on the same
resource (Optuna ask/tell; epochs trained counted the same way); and the
multi-fidelity peers on the same resource, an evaluation at budget b costing b
(no warm start): DEHB (``dehb``), SMAC3's HyperbandFacade (``smac-hb``) and
MultiFidelityFacade (``smac-mf``). Regret is the best full-budget evaluation's;
the table gives the median over seeds (and the quartiles), and the median
resource actually trained. A peer that is not installed is skipped with a note.

    pip install "hpsearch[bench]"   # optuna, smac, dehb (see the install notes on the Algorithms page)
    OMP_NUM_THREADS=1 python tests/perf/bench_pruning.py --seeds 10 [--problems hartmann6lc,digitsmlp]
    python tests/perf/bench_pruning.py --seeds 3 --methods "bayesian + median,optuna tpe + median"
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
import warnings
from collections.abc import Callable
from contextlib import redirect_stdout
from functools import partial
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
#: our searchers: name in the table -> (--algo, --searcher)
SEARCHERS = {"random": ("random", None), "bayesian": ("bayesian", None), "kde": ("bayesian", "kde")}
OPTUNA = [("random", "median"), ("random", "hyperband"), ("tpe", "median"), ("tpe", "hyperband")]
MF_PEERS = {"dehb": "dehb", "smac-hb": "smac", "smac-mf": "smac"}


def ours(spec: dict, pruner: str | None, seed: int, budget: float | None, max_evals: int | None,
         searcher: str = "random", options: dict | None = None) -> dict:
    algo, searcher_name = SEARCHERS[searcher]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(problem=spec["problem"], algo=algo, searcher=searcher_name, seed=seed,
                        evaluator="serial", run_dir=f"{tmp}/run", fix={"epochs": spec["R"]}, pruner=pruner,
                        max_evals=max_evals if budget is None else 100_000, max_resource_spent=budget,
                        algo_options=dict(options or {}))
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


class _Quiet:
    """The ``trial`` of a multi-fidelity peer's evaluation: reports are taken, nothing is stopped."""

    def __init__(self, seed: int):
        self.seed, self.previous_budget, self.budget, self.id, self.config_id = seed, 0, None, 0, 0

    def report(self, step, **metrics) -> bool:
        return False


def _cs(problem, seed: int):
    """The space (resource excluded) as a ConfigSpace ``ConfigurationSpace``."""
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace(seed=seed)
    for d in problem.dims:
        log = getattr(d, "prior", "") == "log-uniform"
        if d.resource:
            continue
        if isinstance(d, Continuous):
            cs.add(CS.UniformFloatHyperparameter(d.name, d.low, d.high, log=log))
        elif isinstance(d, Categorical):
            cs.add(CS.CategoricalHyperparameter(d.name, list(d.choices)))
        elif getattr(d, "values", None):
            cs.add(CS.OrdinalHyperparameter(d.name, list(d.values)))
        else:
            cs.add(CS.UniformIntegerHyperparameter(d.name, d.low, d.high, log=log))
    return cs


def mf_peer(spec: dict, peer: str, seed: int, budget: float, root: str) -> dict:
    """DEHB or a SMAC3 multi-fidelity facade on the same resource (an evaluation at b costs b)."""
    lp = load_problem(spec["problem"])
    R, problem = spec["R"], lp.problem
    res = problem.resource.name
    spent, best, n = 0.0, math.inf, 0

    def evaluate(raw: dict, b: int) -> float:
        nonlocal spent, best, n
        config = {d.name: d.check(raw[d.name].item() if hasattr(raw[d.name], "item") else raw[d.name])
                  for d in problem.dims if not d.resource}
        config[res] = b
        value = lp.run(config, _Quiet(seed * 100_003 + n))[problem.objective]
        spent += b
        n += 1
        if b == R:
            best = min(best, value)
        return float(value)

    with lp.activate(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if peer == "dehb":
            from dehb import DEHB
            from loguru import logger

            logger.remove()
            cs = _cs(problem, seed)
            opt = DEHB(cs=cs, dimensions=len(list(cs.values())), min_fidelity=1, max_fidelity=R, eta=3,
                       n_workers=1, seed=seed, output_path=f"{root}/dehb")
            while spent < budget:
                job = opt.ask()
                b = int(round(float(job["fidelity"])))
                opt.tell(job, {"fitness": evaluate(dict(job["config"]), b), "cost": b})
        else:
            from smac import HyperbandFacade, MultiFidelityFacade, Scenario
            from smac.runhistory.dataclasses import TrialValue

            cls = HyperbandFacade if peer == "smac-hb" else MultiFidelityFacade
            scenario = Scenario(_cs(problem, seed), deterministic=True, min_budget=1, max_budget=R,
                                n_trials=10**7, seed=seed, output_directory=f"{root}/smac")
            opt = cls(scenario, lambda config, seed=0, budget=None: 0.0,  # ask/tell only; SMAC wants one
                      intensifier=cls.get_intensifier(scenario, eta=3), overwrite=True, logging_level=40)
            while spent < budget:
                info = opt.ask()
                b = int(round(float(info.budget)))
                opt.tell(info, TrialValue(cost=evaluate(dict(info.config), b)))
    return {"spent": spent, "best": best, "trials": n}


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
    return q[0], statistics.median(xs), q[2]


def methods(spec: dict, options: dict, peers: list[str], have_optuna: bool) -> dict[str, Callable]:
    """Every row of the table: its name -> a function of the seed giving ``{spent, best, trials}``."""
    R, full = spec["R"], spec["full"]
    budget = full * R / 3
    out: dict[str, Callable] = {"random (no pruner)": partial(_ours, spec, None, None, full, "random", options)}
    for searcher in SEARCHERS:
        for p in OURS:
            out[f"{searcher} + {p}"] = partial(_ours, spec, p, budget, None, searcher, options)
    if have_optuna:
        for sampler, p in OPTUNA:
            out[f"optuna {sampler} + {p}"] = partial(_optuna, spec, sampler, p, budget)
    for peer in peers:
        out[peer] = partial(_peer, spec, peer, budget)
    return out


def _ours(spec, pruner, budget, max_evals, searcher, options, seed):
    return ours(spec, pruner, seed, budget, max_evals, searcher, options)


def _optuna(spec, sampler, pruner, budget, seed):
    return optuna_run(spec, sampler, pruner, seed, budget)


def _peer(spec, peer, budget, seed):
    with tempfile.TemporaryDirectory() as tmp, redirect_stdout(io.StringIO()):
        return mf_peer(spec, peer, seed, budget, tmp)


def print_table(name: str, rows: dict[str, list[dict]]) -> None:
    """One problem's table: median resource, trials and regret (quartiles) per method."""
    spec = PROBLEMS[name]
    R, full = spec["R"], spec["full"]
    budget = full * R / 3
    seeds = max(len(rs) for rs in rows.values())
    optimum = load_problem(spec["problem"], with_run=False).problem.optimum
    if optimum is None:  # the best value any run found stands in for the optimum
        optimum = min(r["best"] for rs in rows.values() for r in rs)
    print(f"\n{name}: R={R}, unpruned random {full} evaluations ({full * R} units); pruned runs get "
          f"{budget:g} units (1/3); median over {seeds} seeds [quartiles]")
    print(f"{'method':28s} {'seeds':>5s} {'resource':>9s} {'trials':>7s}  {'regret':>28s}  {'best':>9s}")
    for method, rs in rows.items():
        regrets = [r["best"] - optimum for r in rs]
        lo, med, hi = quartiles(regrets)
        res = statistics.median(r["spent"] for r in rs)
        n = statistics.median(r["trials"] for r in rs)
        best = statistics.median(r["best"] for r in rs)
        print(f"{method:28s} {len(rs):5d} {res:9.0f} {n:7.0f}  {med:10.4f} [{lo:.4f}, {hi:.4f}]  {best:9.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0, help="Seeds first-seed .. first-seed + seeds - 1 "
                    "(to split a run over processes; --merge puts the parts together).")
    ap.add_argument("--merge", nargs="*", default=None, help="Print the table of these --out files put "
                    "together (running nothing).")
    ap.add_argument("--problems", default="hartmann6lc,digitsmlp")
    ap.add_argument("--methods", default=None, help="Only these rows (comma-separated, as the table names "
                    "them); default: all.")
    ap.add_argument("--prior", default=None, choices=("default", "none"), help="--prior for our searchers "
                    "(default: each searcher's own).")
    ap.add_argument("--out", default=None, help="Also write the raw results as JSON here.")
    args = ap.parse_args()
    if args.merge is not None:
        merged: dict[str, dict[str, list[dict]]] = {}
        for path in args.merge:
            for name, rows in json.loads(Path(path).read_text()).items():
                for method, rs in rows.items():
                    merged.setdefault(name, {}).setdefault(method, []).extend(rs)
        for name, rows in merged.items():
            print_table(name, rows)
        return
    wanted = None if args.methods is None else {m.strip() for m in args.methods.split(",")}
    have_optuna = importlib.util.find_spec("optuna") is not None
    if not have_optuna:
        print("optuna is not installed (pip install 'hpsearch[bench]'): Optuna rows skipped", file=sys.stderr)
    peers = [p for p, mod in MF_PEERS.items() if importlib.util.find_spec(mod) is not None]
    for p in set(MF_PEERS) - set(peers):
        print(f"{p}: not installed (pip install 'hpsearch[bench]'): skipped", file=sys.stderr)
    options = {} if args.prior is None else {"prior": args.prior}
    raw: dict = {}
    for name in args.problems.split(","):
        spec = PROBLEMS[name]
        rows: dict[str, list[dict]] = {}
        t0 = time.perf_counter()
        todo = {m: fn for m, fn in methods(spec, options, peers, have_optuna).items()
                if wanted is None or m in wanted}
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for method, fn in todo.items():
                rows.setdefault(method, []).append(fn(seed))
            if args.out:  # kept as it grows: an interrupted bench keeps its finished seeds
                Path(args.out).write_text(json.dumps({**raw, name: rows}, indent=1))
            print(f"{name}: seed {seed} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        raw[name] = rows
        print_table(name, rows)
    if args.out:
        Path(args.out).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
