"""The two comparison tables the docs show: hartmann6lc (5 seeds) and hartmann6 (10 seeds, 100 evaluations).

Runs ``hps compare`` with every registered algorithm that applies, serial
evaluator, into OUT/hartmann6lc and OUT/hartmann6 (rerunning continues them),
and prints both tables and where the plots are.

    python tests/perf/bench_compare.py [--out bench-compare] [--format table|csv|json]
"""
from __future__ import annotations

import argparse

from click.testing import CliRunner

from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.run.compare import default_algos

CASES = [
    ("hartmann6lc", ["--seeds", "5"]),  # default budget 100 R = 8100 epochs
    ("hartmann6", ["--seeds", "10", "--budget", "100"]),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="bench-compare")
    ap.add_argument("--format", default="table", choices=["table", "csv", "json"])
    args = ap.parse_args()
    for problem, extra in CASES:
        lp = load_problem(problem, with_run=False)
        algos = default_algos(lp.problem.resource is not None)
        cmd = ["compare", "--problem", problem, "--algo", ",".join(algos), *extra, "--evaluator", "serial",
               "--out", f"{args.out}/{problem}", "--format", args.format]
        print("$ hps " + " ".join(cmd))
        res = CliRunner().invoke(cli, cmd)
        print(res.stdout)
        if res.exit_code:
            raise SystemExit(res.output)


if __name__ == "__main__":
    main()
