"""Branch coverage of the core, per module: the search package, the stop conditions, the store and run
history, the engine and the error-to-exit-code map.

Runs the test suite once under pytest-cov with branch coverage, the ``hps`` and worker subprocesses
and forked processes included (coverage's ``patch = subprocess, _exit, fork``; a process killed with
SIGKILL saves nothing, so the figures are a floor), and prints one row per core module: statements, branches, the branches taken, and coverage's combined percentage, marked below
the 90 % target. Not part of the test command (it reruns the suite, about 1.3 times as slow).

    python tests/perf/coverage_core.py                     # the whole suite
    python tests/perf/coverage_core.py tests/search tests/run/test_stopping.py   # some tests
    python tests/perf/coverage_core.py --from .coverage     # print the table of an earlier run

Exit status 0 when every core module is at or above the target, 1 otherwise.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: the core: what the mutation score and the coverage target are about (globs, relative to the repo)
CORE = ["hpsearch/search/*.py", "hpsearch/search/*/*.py", "hpsearch/run/stopping.py", "hpsearch/run/engine.py",
        "hpsearch/store/*.py", "hpsearch/errors.py"]
TARGET = 90.0


def is_core(path: str) -> bool:
    return any(fnmatch.fnmatch(path, pattern) for pattern in CORE)


RC = """
[run]
branch = True
source = hpsearch
parallel = True
data_file = {data_file}
patch =
    subprocess
    _exit
    fork
sigterm = True
"""


def run_suite(tests: list[str], data_file: Path, extra: list[str]) -> int:
    for old in [data_file, *data_file.parent.glob(data_file.name + ".*")]:  # this data, and its parts
        old.unlink(missing_ok=True)
    rc = data_file.with_name(data_file.name + "rc")
    rc.write_text(RC.format(data_file=data_file))
    env = {**os.environ, "PYTHONPATH": str(REPO), "COVERAGE_FILE": str(data_file)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov=hpsearch", "--cov-branch",
           f"--cov-config={rc}", "--cov-report=", *extra, *tests]
    print("$", " ".join(cmd), flush=True)
    code = subprocess.call(cmd, cwd=REPO, env=env)
    import coverage

    cov = coverage.Coverage(data_file=str(data_file), config_file=str(rc))
    cov.combine(strict=False)  # the subprocesses' files, if pytest-cov left any
    cov.save()
    rc.unlink()
    return code


def table(data_file: Path) -> list[dict]:
    """One row per core module from a coverage data file."""
    import coverage

    cov = coverage.Coverage(data_file=str(data_file))
    cov.load()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cov.json"
        cov.json_report(outfile=str(out), include=[str(REPO / "hpsearch" / "*")])
        files = json.loads(out.read_text())["files"]
    rows = []
    for name, data in files.items():
        rel = os.path.relpath(os.path.join(REPO, name) if not os.path.isabs(name) else name, REPO)
        if not is_core(rel):
            continue
        s = data["summary"]
        rows.append({"module": rel, "statements": s["num_statements"], "missed": s["missing_lines"],
                     "branches": s["num_branches"], "partial": s["num_partial_branches"],
                     "branches_taken": s["covered_branches"], "percent": s["percent_covered"],
                     "missing": data.get("missing_lines", [])})
    return sorted(rows, key=lambda r: r["module"])


def show(rows: list[dict]) -> bool:
    head = f"{'module':44} {'stmts':>6} {'miss':>5} {'branch':>6} {'taken':>6} {'cover':>7}"
    print(head)
    print("-" * len(head))
    ok = True
    for r in rows:
        below = r["percent"] < TARGET
        ok = ok and not below
        print(f"{r['module']:44} {r['statements']:6d} {r['missed']:5d} {r['branches']:6d} "
              f"{r['branches_taken']:6d} {r['percent']:6.1f}%" + ("  < target" if below else ""))
    total_s = sum(r["statements"] for r in rows)
    total_b = sum(r["branches"] for r in rows)
    covered = sum(r["statements"] - r["missed"] + r["branches_taken"] for r in rows)
    print("-" * len(head))
    print(f"{'core (all)':44} {total_s:6d} {sum(r['missed'] for r in rows):5d} {total_b:6d} "
          f"{sum(r['branches_taken'] for r in rows):6d} {100.0 * covered / max(total_s + total_b, 1):6.1f}%")
    print(f"target: every module >= {TARGET:g}% (statements and branches together, as coverage counts)")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tests", nargs="*", help="test paths (default: the whole suite)")
    ap.add_argument("--from", dest="data", type=Path, help="print the table of this coverage data file")
    ap.add_argument("--keep", type=Path, default=REPO / ".coverage", help="where the coverage data goes")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    ap.add_argument("--pytest-args", default="", help="extra pytest arguments, e.g. '-m \"not slow\"'")
    args = ap.parse_args(argv)
    data = args.data
    if data is None:
        data = args.keep
        rc = run_suite(args.tests, data, args.pytest_args.split())
        if rc not in (0, 1):
            print(f"pytest exited {rc}", file=sys.stderr)
            return rc
    rows = table(data)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if show(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
