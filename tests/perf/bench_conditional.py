"""Issue 15: search quality on the conditional benchmarks, conditional encoding vs a flat one.

For each conditional benchmark (``condbranches``: regret, known optimum 0;
``cashdigits``: held-out accuracy) it runs ``hps compare`` with the serial
evaluator over N seeds (default 10):

* ``random`` and ``bayesian`` on the conditional problem (inactive dimensions
  absent; the Bayesian backend encodes them as a constant outside the cube);
* ``bayesian`` on a *flat* copy of the same space, written into
  ``OUT/flat/<name>``: every dimension always active (no ``when=``), and
  ``run`` reads only the dimensions the conditional tree would activate
  (``HpProblem.complete``), so the objective is the same function.

It prints the three tables and a summary of the median final value.

    python tests/perf/bench_conditional.py [--out bench-conditional] [--seeds 10]
        [--problems condbranches,cashdigits] [--budget condbranches=60,cashdigits=40]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from click.testing import CliRunner

from hpsearch.cli import cli
from hpsearch.problem.loader import find_problem

FLAT_PROBLEM = '''\
"""Flat copy of {name}: every dimension always active (benchmark of conditional vs flat encoding)."""
import copy

from hpsearch import HpProblem
from hpsearch.loader import load_problem

COND = load_problem(r"{folder}", with_run=False).problem
Problem = HpProblem(objective=COND.objective, direction=COND.direction, optimum=COND.optimum, kind=COND.kind)
for _d in COND.dims:
    _flat = copy.copy(_d)
    _flat.when, _flat.parents = None, {{}}
    Problem.add_dim(_d.name, _flat)
for _f in COND.forbidden:
    Problem.add_forbidden(**_f.to_dict())
'''

FLAT_RUN = '''\
"""run() of {name} on the values the conditional tree activates (the same objective)."""
from hpsearch.loader import load_problem

_LP = load_problem(r"{folder}")


def run(config):
    return _LP.run(_LP.problem.complete(config))
'''

DEFAULT_BUDGET = {"condbranches": 60, "cashdigits": 40}


def flat_copy(name: str, out: Path) -> Path:
    """Write the flat problem folder of benchmark ``name`` under ``out``; return it."""
    folder = find_problem(name)
    flat = out / "flat" / f"{name}_flat"
    flat.mkdir(parents=True, exist_ok=True)
    (flat / "problem.py").write_text(FLAT_PROBLEM.format(name=name, folder=folder))
    (flat / "model_run.py").write_text(FLAT_RUN.format(name=name, folder=folder))
    return flat


def compare(problem: str, algos: str, seeds: int, budget: int, out: Path, fmt: str) -> str:
    cmd = ["compare", "--problem", problem, "--algo", algos, "--seeds", str(seeds), "--budget", str(budget),
           "--evaluator", "serial", "--out", str(out), "--format", fmt]
    print("$ hps " + " ".join(cmd), flush=True)
    res = CliRunner().invoke(cli, cmd)
    if res.exit_code:
        raise SystemExit(res.output)
    return res.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="bench-conditional")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", default="condbranches,cashdigits")
    ap.add_argument("--budget", default="", help="name=evaluations,... (default condbranches=60,cashdigits=40)")
    args = ap.parse_args()
    out = Path(args.out)
    budgets = dict(DEFAULT_BUDGET)
    budgets.update({k: int(v) for k, v in (kv.split("=") for kv in args.budget.split(",") if kv)})
    summary = []
    for name in args.problems.split(","):
        runs = [("conditional", name, "random,bayesian", out / name),
                ("flat", str(flat_copy(name, out)), "bayesian", out / f"{name}_flat")]
        for label, problem, algos, where in runs:
            print(compare(problem, algos, args.seeds, budgets[name], where, "table"))
            rows = json.loads(compare(problem, algos, args.seeds, budgets[name], where, "json"))
            for r in rows:
                metric = next(k for k in r if k.endswith("_100_median"))
                summary.append((name, f"{r['algo']} ({label})", metric.removesuffix("_100_median"), r[metric],
                                r[metric.replace("median", "q25")], r[metric.replace("median", "q75")]))
    print(f"final value, median over {args.seeds} seeds [q25, q75]:")
    for name, algo, metric, med, lo, hi in summary:
        print(f"  {name:14s} {algo:26s} {metric:12s} {med:.4g} [{lo:.4g}, {hi:.4g}]")


if __name__ == "__main__":
    main()
