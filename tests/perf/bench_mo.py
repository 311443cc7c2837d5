"""Multi-objective search quality: hps searchers and schedulers against Optuna, median hypervolume regret.

Problems: the bundled folders, loaded as a user's run loads them
(:func:`hpsearch.problem.loader.load_problem`: their ``problem.py`` space,
reference point and hypervolume optimum, their ``model_run.run``):

* ``zdtshift`` (two objectives) and ``dtlzshift`` (three): every method gets
  200 evaluations per seed; the regret (the declared hypervolume optimum -
  hypervolume of every evaluation so far, against the declared reference
  point) is read after 100 and after 200 evaluations. Ours: ``random``,
  ``bayesian`` and ``kde`` under fifo. Optuna 5: ``NSGAIISampler`` and
  ``TPESampler`` (multi-objective), default settings, on the same space (a
  ``suggest_float`` per range, a ``suggest_categorical`` per categorical) and
  the same ``run``.
* ``mfzdtshift`` (noisy, biased low budgets, R = 81 epochs): every method gets
  the same resource, ``--budget-r`` full evaluations' worth (what was trained:
  a promotion trains only the difference, as a warm-started run does).
  Ours: ``asha+kde`` (MO-ASHA with MOTPE), ``asha`` (MO-ASHA, random), ``bohb``
  (Hyperband then the model's choices at full budget). Optuna's
  ``TPESampler`` at the full budget (it cannot prune a multi-objective
  study). The regret counts only evaluations at the full budget (their values
  are exact there), at 25, 50 and 100 % of the resource. ``run`` is called
  without a trial, so its noise is keyed by the configuration and the budget,
  the same for every method.

Our schedulers are driven directly through :func:`hpsearch.search.make_scheduler`
ask/tell with tuple losses (serially). Each (problem, method, seed) is
stored in ``OUT/runs/<problem>-<method>-<seed>.json`` and not run again.

    nice -n 10 python tests/perf/bench_mo.py                    # everything: 10 seeds
    nice -n 10 python tests/perf/bench_mo.py --problems zdtshift --methods bayesian,optuna-tpe --seeds 3
    python tests/perf/bench_mo.py --report-only

Targets: our best method's median regret at or below half of Optuna's best at
100 and at 200 evaluations on ``zdtshift`` and ``dtlzshift``; on
``mfzdtshift`` our best ahead of Optuna at 25, 50 and 100 % of the resource.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import time
from functools import cache

import numpy as np

from hpsearch.problem import pareto
from hpsearch.problem.dimensions import Categorical
from hpsearch.problem.loader import LoadedProblem, load_problem
from hpsearch.search import DONE, WAIT, Told, make_scheduler
from hpsearch.trial import Status

SYNTHETIC = ("zdtshift", "dtlzshift")
MULTI_FIDELITY = ("mfzdtshift",)
PROBLEMS = SYNTHETIC + MULTI_FIDELITY
SYN_METHODS = ("random", "bayesian", "kde", "optuna-nsga2", "optuna-tpe")
MF_METHODS = ("asha+kde", "asha", "bohb", "optuna-tpe")
CHECKPOINTS = (100, 200)
FRACTIONS = (0.25, 0.5, 1.0)
#: searcher or scheduler options per method (none: the defaults).
EXTRA: dict[str, dict] = {}


@cache
def loaded(name: str) -> LoadedProblem:
    """The bundled problem folder ``name``, imported as ``hps run -p name`` imports it."""
    return load_problem(name)


def max_resource(name: str) -> float | None:
    dim = loaded(name).problem.resource
    return None if dim is None else float(dim.high)


def losses(name: str, config: dict) -> tuple[float, ...]:
    """``model_run.run(config)`` as the problem's loss tuple (each objective minimised)."""
    lp = loaded(name)
    with lp.activate():
        metrics = lp.run(dict(config))
    return lp.problem.to_losses(metrics)


# -- ours -----------------------------------------------------------------------------------
def run_ours(problem_name: str, method: str, seed: int, evals: int | None, resource: float | None) -> list:
    """Drive one of our schedulers; return [(loss tuple, budget, cost, at full budget)] in completion order."""
    problem = loaded(problem_name).problem
    top = max_resource(problem_name)
    method, *knobs = method.split("@")
    extra = dict(k.split("=", 1) for k in knobs)
    algo, searcher = {"random": ("random", None), "bayesian": ("bayesian", None),
                      "kde": ("random", "kde")}.get(method, (method.partition("+")[0], method.partition("+")[2]))
    options: dict = dict(EXTRA.get(method, {}))
    for k, v in extra.items():
        options[k] = float(v) if v.replace(".", "", 1).isdigit() and "." in v else (int(v) if v.isdigit() else v)
    if top is not None:
        if algo == "asha":
            options["max_configs"] = 100000
        else:
            options["iterations"] = 1000
    sched = make_scheduler(algo, problem, seed, options, searcher=searcher or None)
    out: list = []
    spent = 0.0
    tid = 0
    while True:
        if evals is not None and len(out) >= evals:
            break
        if resource is not None and spent >= resource:
            break
        got = sched.ask(1)
        if got is WAIT or got is DONE:
            break
        s = got[0]
        config = dict(s.config)
        if top is not None:
            config[problem.resource.name] = s.budget
        loss = losses(problem_name, config)
        cost = float(s.budget - s.previous_budget) if s.budget is not None else 1.0
        spent += cost
        full = s.budget is None or float(s.budget) >= top
        out.append((list(loss), None if s.budget is None else float(s.budget), cost, full))
        sched.tell(Told(trial_id=tid, suggestion=s, status=Status.DONE, loss=loss, objective=loss[0]))
        tid += 1
    return out


# -- Optuna ---------------------------------------------------------------------------------
def run_optuna(problem_name: str, method: str, seed: int, evals: int | None, resource: float | None) -> list:
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    problem = loaded(problem_name).problem
    top = max_resource(problem_name)
    sampler = (optuna.samplers.NSGAIISampler(seed=seed) if method == "optuna-nsga2"
               else optuna.samplers.TPESampler(seed=seed))
    study = optuna.create_study(directions=["minimize"] * len(problem.objectives), sampler=sampler)
    n = evals if evals is not None else int(resource // top)
    out: list = []
    for _ in range(n):
        trial = study.ask()
        config = {}
        for dim in problem.dims:
            if dim.resource:
                config[dim.name] = dim.high
            elif isinstance(dim, Categorical):
                config[dim.name] = trial.suggest_categorical(dim.name, list(dim.choices))
            else:
                config[dim.name] = trial.suggest_float(dim.name, dim.low, dim.high, log=dim.log_scale)
        loss = losses(problem_name, config)
        study.tell(trial, list(loss))
        out.append((list(loss), top, top if top else 1.0, True))
    return out


# -- scoring --------------------------------------------------------------------------------
def regret(problem_name: str, rows: list) -> float:
    problem = loaded(problem_name).problem
    pts = [r[0] for r in rows if r[3]]
    optimum = problem.hypervolume_optimum
    return optimum - pareto.hypervolume(pts, problem.reference_losses) if pts else optimum


def scores(problem_name: str, rows: list, total: float | None) -> dict:
    if problem_name in SYNTHETIC:
        return {str(n): regret(problem_name, rows[:n]) for n in CHECKPOINTS}
    out = {}
    for f in FRACTIONS:
        spent, upto = 0.0, []
        for r in rows:
            if spent >= f * total:
                break
            spent += r[2]
            upto.append(r)
        out[f"{int(f * 100)}%"] = regret(problem_name, upto)
    return out


def one(out_dir: str, problem_name: str, method: str, seed: int, budget_r: float) -> dict:
    path = os.path.join(out_dir, "runs", f"{problem_name}-{method}-{seed}.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    evals, resource = (max(CHECKPOINTS), None) if problem_name in SYNTHETIC else (None, budget_r * max_resource(problem_name))
    t0 = time.process_time()
    rows = (run_optuna if method.startswith("optuna") else run_ours)(problem_name, method, seed, evals, resource)
    rec = {"problem": problem_name, "method": method, "seed": seed, "cpu_s": time.process_time() - t0,
           "evaluations": len(rows), "scores": scores(problem_name, rows, resource)}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(rec, f)
    print(f"{problem_name:10s} {method:13s} seed {seed}: {rec['scores']}  ({rec['cpu_s']:.1f} CPU s)", flush=True)
    return rec


def table(out_dir: str, problems: list, methods_of: dict, seeds: int) -> str:
    lines = []
    for p in problems:
        recs = {}
        for m in methods_of[p]:
            got = []
            for s in range(seeds):
                path = os.path.join(out_dir, "runs", f"{p}-{m}-{s}.json")
                if os.path.exists(path):
                    with open(path) as f:
                        got.append(json.load(f))
            if got:
                recs[m] = got
        if not recs:
            continue
        cols = list(next(iter(recs.values()))[0]["scores"])
        unit = "evaluations" if p in SYNTHETIC else "of the resource"
        lines += [f"\n### {p} (hypervolume optimum {loaded(p).problem.hypervolume_optimum:.4f}; median regret "
                  f"[q25, q75] over seeds, at {unit})\n",
                  "| method | seeds | " + " | ".join(cols) + " | evaluations | CPU s/run |",
                  "|---" * (len(cols) + 4) + "|"]
        med = {}
        for m, got in recs.items():
            cells = []
            for c in cols:
                v = np.array([g["scores"][c] for g in got])
                med[(m, c)] = float(np.median(v))
                cells.append(f"{np.median(v):.4f} [{np.quantile(v, .25):.4f}, {np.quantile(v, .75):.4f}]")
            ev = np.median([g["evaluations"] for g in got])
            cpu = np.median([g["cpu_s"] for g in got])
            lines.append(f"| {m} | {len(got)} | " + " | ".join(cells) + f" | {ev:.0f} | {cpu:.1f} |")
        ours = [m for m in recs if not m.startswith("optuna")]
        peers = [m for m in recs if m.startswith("optuna")]
        if ours and peers:
            verdicts = []
            for c in cols:
                best_ours = min(ours, key=lambda m: med[(m, c)])
                best_peer = min(peers, key=lambda m: med[(m, c)])
                a, b = med[(best_ours, c)], med[(best_peer, c)]
                if p in SYNTHETIC:
                    ok = a <= b / 2
                    verdicts.append(f"{c}: {best_ours} {a:.4f} vs half of {best_peer} {b / 2:.4f} -> "
                                    f"{'met' if ok else 'MISSED'}")
                else:
                    ok = a < b
                    verdicts.append(f"{c}: {best_ours} {a:.4f} vs {best_peer} {b:.4f} -> "
                                    f"{'met' if ok else 'MISSED'}")
            lines.append("\nTarget: " + "; ".join(verdicts))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--methods", default=None, help="comma-separated (default: every method of each problem)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--seed-from", type=int, default=0, help="run seeds from this one only (to split a run "
                    "over processes; the table reads every stored seed below --seeds)")
    ap.add_argument("--budget-r", type=float, default=60.0,
                    help="mfzdtshift: the resource in full evaluations (R = 81 epochs each)")
    ap.add_argument("--out", default="bench_mo_out")
    ap.add_argument("--report-only", action="store_true")
    a = ap.parse_args()
    problems = a.problems.split(",")
    methods_of = {p: (SYN_METHODS if p in SYNTHETIC else MF_METHODS) for p in problems}
    if a.methods:  # each problem runs those of the methods it has (a variant "method@option=value" too)
        methods_of = {p: [m for m in a.methods.split(",") if m.split("@")[0] in methods_of[p]]
                      for p in problems}
    t0 = time.time()
    if not a.report_only:
        for p in problems:
            for m in methods_of[p]:
                for s in range(a.seed_from, a.seeds):
                    one(a.out, p, m, s, a.budget_r)
    all_methods = {p: (SYN_METHODS if p in SYNTHETIC else MF_METHODS) for p in problems}
    if a.methods:
        all_methods = {p: list(dict.fromkeys([*all_methods[p], *methods_of[p]])) for p in problems}
    report = table(a.out, problems, all_methods, a.seeds)
    print(report)
    print(f"\n(wall {time.time() - t0:.0f} s)")
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write(report + "\n")


if __name__ == "__main__":
    main()
