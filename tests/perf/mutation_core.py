"""Mutation testing of the core with mutmut, one module at a time, within a time budget.

For each module this copies the checkout into a scratch folder, tells mutmut (in that copy's setup.cfg)
to mutate that module alone and to run the tests that are about it, runs ``mutmut run`` with one child
process at the lowest priority (``nice -n 19``: the machine's 2 cores are shared), stops it when the
module's share of the budget is spent, and reads the outcome of every mutant from mutmut's files.

Score = (killed + timeout) / (mutants checked), as mutmut's badge counts it; a mutant no test reaches
("no tests") counts as a survivor. Mutants left unchecked when the budget ran out are reported apart.
Target: at least 85 % per module. Needs the ``mutation`` extra (``pip install -e '.[mutation]'``);
never part of the test command.

    python tests/perf/mutation_core.py                           # every core module, 4 h budget
    python tests/perf/mutation_core.py --budget 1800 run/stopping.py errors.py search/fidelity.py
    python tests/perf/mutation_core.py --report                  # the table of the last runs
    python tests/perf/mutation_core.py --survivors run/stopping.py   # each survivor's diff
    python tests/perf/mutation_core.py store/runstore.py --recheck --with-tests tests/store/test_runstore_rules.py

Work folders are kept in --work (default /tmp/hps-mutation/<module>) so that a later call with the
same module resumes where the budget stopped it (mutmut keeps each checked mutant's outcome).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: module (relative to hpsearch/) -> the tests that are about it (run for each of its mutants that
#: they reach). The core: the search package, the stop conditions, the store and run history, the
#: engine, and the error-to-exit-code map.
SEARCH_TESTS = ["tests/search", "tests/problem/test_space_conditions.py"]
PRUNER_TESTS = ["tests/search", "tests/run/test_pruning.py"]  # the rules, and pruning through the engine
MODULES: dict[str, list[str]] = {
    "errors.py": ["tests/test_errors.py", "tests/test_cli.py"],
    "run/stopping.py": ["tests/run/test_stopping.py", "tests/run/test_pruning.py"],
    "search/fidelity.py": ["tests/search"],
    "search/brackets.py": ["tests/search"],
    "search/pruners/__init__.py": PRUNER_TESTS,
    "search/pruners/base.py": PRUNER_TESTS,
    "search/pruners/median.py": PRUNER_TESTS,
    "search/pruners/asha.py": PRUNER_TESTS,
    "search/pruners/hyperband.py": PRUNER_TESTS,
    "search/options.py": ["tests/search"],
    "search/base.py": ["tests/search"],
    "search/presets.py": ["tests/search", "tests/test_cli.py"],
    "search/__init__.py": ["tests/search"],
    "search/encoding.py": SEARCH_TESTS,
    "search/schedulers/base.py": ["tests/search"],
    "search/schedulers/fifo.py": ["tests/search"],
    "search/schedulers/asha.py": ["tests/search/test_asha.py", "tests/search/schedulers", "tests/search/test_contracts.py"],
    "search/schedulers/hyperband.py": ["tests/search/test_hyperband.py", "tests/search/schedulers",
                                       "tests/search/test_contracts.py"],
    "search/searchers/base.py": ["tests/search"],
    "search/searchers/random.py": ["tests/search/test_random.py", "tests/search/test_contracts.py"],
    "search/searchers/kde.py": ["tests/search/searchers/test_kde.py", "tests/search/test_encoding.py",
                                "tests/search/test_contracts.py", "tests/search/test_bayesian.py"],
    "search/searchers/bayesian.py": ["tests/search/searchers/test_bayesian.py", "tests/search/test_bayesian.py",
                                     "tests/search/test_contracts.py"],
    "store/lock.py": ["tests/store/test_lock.py", "tests/store/test_run_dir_safety.py"],
    "store/comparisons.py": ["tests/store/test_comparisons.py", "tests/run/test_compare.py"],
    "store/history.py": ["tests/store/test_history.py", "tests/store/test_history_rules.py",
                         "tests/reporting/test_tables.py"],
    "store/runstore.py": ["tests/store", "tests/run/test_engine.py", "tests/run/test_crash_safety.py"],  # the
    # engine is the store's one writer: its tests are the store's rules in use (commit order, resume)
    "run/engine.py": ["tests/run/test_engine.py", "tests/run/test_engine_resource.py", "tests/run/test_run_ended.py",
                      "tests/run/test_pruning.py", "tests/test_errors.py"],
}
#: the groups of a full run, one ``mutmut run`` each (its stats phase, every selected test once, is paid
#: once per group; a mutant only runs the tests that reach its function), the smallest first so that a
#: short budget still covers most modules. A group's work folder is named after its first module.
GROUPS: list[list[str]] = [
    ["run/stopping.py"],
    ["errors.py"],
    ["search/fidelity.py", "search/brackets.py", "search/pruners/median.py", "search/pruners/asha.py",
     "search/pruners/hyperband.py", "search/pruners/base.py", "search/pruners/__init__.py"],
    ["store/lock.py", "store/history.py", "store/comparisons.py"],
    ["search/options.py", "search/base.py", "search/presets.py", "search/__init__.py", "search/encoding.py",
     "search/schedulers/base.py", "search/schedulers/fifo.py", "search/schedulers/asha.py",
     "search/schedulers/hyperband.py", "search/searchers/base.py", "search/searchers/random.py",
     "search/searchers/kde.py", "search/searchers/bayesian.py"],
    ["run/engine.py"],
    ["store/runstore.py"],
]
ORDER = [m for group in GROUPS for m in group]
TARGET = 85.0
KILLED = {1, 3, 36, 24, -24, 152, 255}  # killed, or killed by a timeout (an endless loop)
NOT_CHECKED = {None, 2}
SKIPPED = {34}


def slug(module: str) -> str:
    return module.replace("/", "-").removesuffix(".py")


def folder(group: list[str]) -> str:
    """The work folder's name of a group: its first module, and how many more it holds."""
    return slug(group[0]) + (f"-and-{len(group) - 1}" if len(group) > 1 else "")


def meta_path(module: str, work: Path) -> Path:
    return work / "mutants" / "hpsearch" / (module + ".meta")


def find_work(module: str, root: Path) -> Path | None:
    """The work folder under ``root`` holding the newest outcome of ``module`` (a run of it alone or
    of any group it was in), or None."""
    found = [w for w in root.glob("*") if meta_path(module, w).exists()
             and f"hpsearch/{module}" in (w / "setup.cfg").read_text(errors="replace").split("[mutmut]")[-1]]
    return max(found, key=lambda w: meta_path(module, w).stat().st_mtime, default=None)


def prepare(modules: list[str], work: Path, fresh: bool, repo: Path = REPO, tests: list[str] | None = None,
            ) -> Path:
    """A copy of the checkout ``repo`` with a [mutmut] section for ``modules`` and their tests (``tests``:
    instead of :data:`MODULES`'s); an existing copy is kept (mutmut resumes in it)."""
    if fresh and work.exists():
        shutil.rmtree(work)
    if (work / "setup.cfg").exists():
        return work
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".coverage*", "mutants")  # tests/data/runs: fixtures
    for name in ("hpsearch", "tests", "benchmarks", "docs"):
        shutil.copytree(repo / name, work / name, ignore=ignore)
    for name in ("setup.py", "setup.cfg", "README.rst", "ruff.toml"):
        if (repo / name).exists():
            shutil.copy2(repo / name, work / name)
    tests = "\n    ".join(tests or dict.fromkeys(t for m in modules for t in MODULES[m]))
    mutate = "\n    ".join(f"hpsearch/{m}" for m in modules)
    with open(work / "setup.cfg", "a") as f:
        f.write(f"""
[mutmut]
source_paths = hpsearch/
only_mutate =
    {mutate}
also_copy =
    benchmarks/
    docs/
    README.rst
pytest_add_cli_args_test_selection =
    {tests}
pytest_add_cli_args =
    -p
    no:cacheprovider
    -x
    -q
""")
    return work


def run(work: Path, seconds: float, names: list[str] | None = None) -> str:
    """``nice -n 19 mutmut run --max-children 1 [NAMES]`` in ``work`` for at most ``seconds``."""
    log = open(work / "mutmut.log", "a")
    start = time.monotonic()
    proc = subprocess.Popen(["nice", "-n", "19", mutmut_exe(), "run", "--max-children", "1", *(names or [])],
                            cwd=work, env=mutmut_env(),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(timeout=max(seconds, 1))
        how = f"finished in {time.monotonic() - start:.0f} s (exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)  # mutmut saves what it checked
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        how = f"stopped by the budget after {time.monotonic() - start:.0f} s"
    finally:
        log.close()
    return how


def outcome(module: str, work: Path | None) -> dict:
    """Counts of the module's mutants by outcome, and its survivors' names."""
    meta = meta_path(module, work) if work is not None else None
    if meta is None or not meta.exists():
        return {"module": module, "work": None, "mutants": 0, "checked": 0, "killed": 0, "survived": [],
                "no_tests": [], "suspicious": [], "unchecked": 0, "score": None}
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    log = work / "mutmut.log"
    if log.exists() and "could not find any test case for any mutant" in log.read_text(errors="replace"):
        codes = {k: 33 if c is None else c for k, c in codes.items()}  # no selected test reaches them
    checked = {k: c for k, c in codes.items() if c not in NOT_CHECKED and c not in SKIPPED}
    killed = [k for k, c in checked.items() if c in KILLED]
    survived = sorted(k for k, c in checked.items() if c == 0)
    no_tests = sorted(k for k, c in checked.items() if c in (5, 33))
    other = sorted(k for k, c in checked.items() if c not in KILLED and c not in (0, 5, 33))
    return {"module": module, "work": work.name, "mutants": len(codes), "checked": len(checked), "killed": len(killed),
            "survived": survived, "no_tests": no_tests, "suspicious": other,
            "unchecked": len(codes) - len(checked),
            "score": 100.0 * len(killed) / len(checked) if checked else None}


def show(rows: list[dict]) -> None:
    head = (f"{'module':32} {'mutants':>7} {'checked':>7} {'killed':>6} {'survived':>8} {'no test':>7} "
            f"{'score':>7}  work folder")
    print(head)
    print("-" * len(head))
    for r in rows:
        score = "-" if r["score"] is None else f"{r['score']:6.1f}%"
        flag = "" if r["score"] is None or r["score"] >= TARGET else "  < target"
        left = f"  ({r['unchecked']} not checked)" if r["unchecked"] else ""
        print(f"{r['module']:32} {r['mutants']:7d} {r['checked']:7d} {r['killed']:6d} {len(r['survived']):8d} "
              f"{len(r['no_tests']):7d} {score:>7}  {r['work'] or '-'}{flag}{left}")
    total = {k: sum(r[k] if isinstance(r[k], int) else len(r[k]) for r in rows)
             for k in ("mutants", "checked", "killed", "survived", "no_tests")}
    score = f"{100.0 * total['killed'] / total['checked']:6.1f}%" if total["checked"] else "-"
    print(f"{'all':32} {total['mutants']:7d} {total['checked']:7d} {total['killed']:6d} {total['survived']:8d} "
          f"{total['no_tests']:7d} {score:>7}")
    print(f"score = (killed + timeout) / checked; target {TARGET:g}% per module")


def mutmut_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CI")}
    env.update(MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    return env


def mutmut_exe() -> str:
    return shutil.which("mutmut") or str(Path(sys.executable).with_name("mutmut"))


def survivors(module: str, work: Path | None) -> None:
    r = outcome(module, work)
    for name in r["survived"] + r["no_tests"]:
        print(subprocess.run([mutmut_exe(), "show", name], cwd=work, env=mutmut_env(),
                             capture_output=True, text=True).stdout)


def sync_tests(work: Path, repo: Path) -> None:
    """Replace the work folder's tests/ with the checkout's (mutmut copies them into mutants/ on each run
    and collects the stats of tests it has not seen)."""
    shutil.rmtree(work / "tests")
    shutil.rmtree(work / "mutants" / "tests", ignore_errors=True)
    shutil.copytree(repo / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="*", help=f"modules under hpsearch/ (default: all {len(ORDER)}, by group)")
    ap.add_argument("--budget", type=float, default=4 * 3600,
                    help="seconds for all the groups together (split evenly over those not yet done)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/hps-mutation"))
    ap.add_argument("--fresh", action="store_true", help="start over (forget earlier outcomes)")
    ap.add_argument("--report", action="store_true", help="only print the table of the work folders")
    ap.add_argument("--survivors", action="store_true", help="print each surviving mutant's diff")
    ap.add_argument("--recheck", action="store_true",
                    help="in each module's existing work folder, take the checkout's tests and run its "
                    "survivors again (the after of a before/after table; killed mutants stay killed)")
    ap.add_argument("--keep-selection", action="store_true",
                    help="with --recheck: keep each work folder's test selection (a narrow one given with "
                    "--tests) instead of adding the tests MODULES names for its modules")
    ap.add_argument("--with-tests", nargs="+", metavar="TEST",
                    help="with --recheck: run the survivors with these tests alone (a few fast files, e.g. the "
                    "new ones) in a scratch copy, and copy the kills into the work folder")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    ap.add_argument("--repo", type=Path, default=REPO,
                    help="the checkout to mutate and test (e.g. an earlier commit's, for a before/after table)")
    ap.add_argument("--tests", nargs="+", help="these test paths instead of each module's own (e.g. the "
                    "paths of an earlier layout of tests/); implies --together")
    ap.add_argument("--together", action="store_true",
                    help="one mutmut run for all the modules given, with the union of their tests "
                    "(default: the modules given run in the groups of GROUPS they belong to)")
    args = ap.parse_args(argv)
    missing = [t for t in args.with_tests or [] if not (args.repo / t.split("::")[0]).exists()]
    if missing:
        ap.error(f"--with-tests: no such test file: {', '.join(missing)} (give the modules before --with-tests)")
    modules = args.modules or ORDER
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        ap.error(f"not a core module: {', '.join(unknown)} (choose from {', '.join(ORDER)})")
    if args.survivors:
        for m in modules:
            survivors(m, find_work(m, args.work))
        return 0
    if args.report:
        rows = [outcome(m, find_work(m, args.work)) for m in modules]
    elif args.recheck and args.with_tests:
        rows = recheck_with(modules, args.work, args.repo.resolve(), time.monotonic() + args.budget,
                            args.with_tests)
    elif args.recheck:
        rows = recheck(modules, args.work, args.repo.resolve(), time.monotonic() + args.budget,
                       grow=not args.keep_selection)
    else:
        if args.together or args.tests:
            groups = [modules]
        else:  # the groups of GROUPS, cut down to the modules given
            groups = [g for g in ([m for m in group if m in modules] for group in GROUPS) if g]
        rows = []
        end = time.monotonic() + args.budget
        for i, group in enumerate(groups):
            work = args.work / folder(group)
            share = (end - time.monotonic()) / (len(groups) - i)
            if share < 30:
                print(f"{', '.join(group)}: budget spent, not run", flush=True)
            else:
                prepare(group, work, args.fresh, args.repo.resolve(), args.tests)
                print(f"{', '.join(group)}: {run(work, share)}", flush=True)
            rows += [outcome(m, work) for m in group]
    show(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if all(r["score"] is not None and r["score"] >= TARGET for r in rows) else 1


def mutmut_section(work: Path) -> dict[str, list[str]]:
    """The list values of the work folder's [mutmut] section (one item a line)."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(work / "setup.cfg")
    return {k: v.split() for k, v in cfg["mutmut"].items()}


def refresh_selection(work: Path) -> list[str]:
    """Add the tests :data:`MODULES` names today for the folder's modules to its test selection, keeping
    the cached verdicts: the selection only grows, so a mutant the old tests killed stays killed (mutmut
    would otherwise forget every verdict when the selection changes); the new tests' stats are collected
    on the next run. Returns the paths added."""
    section = mutmut_section(work)
    old = section.get("pytest_add_cli_args_test_selection", [])
    modules = [m.removeprefix("hpsearch/") for m in section["only_mutate"]]
    added = [t for m in modules for t in MODULES.get(m, []) if t not in old]
    added = list(dict.fromkeys(added))
    if added:
        add_to_selection(work, added)
    stats = work / "mutants" / "mutmut-stats.json"
    if stats.exists():  # the verdicts stand for the grown selection
        fingerprint = subprocess.run(
            [str(Path(mutmut_exe()).with_name("python")), "-c", "import json; from mutmut.configuration "
             "import config; print(json.dumps(config().config_fingerprint()))"],
            cwd=work, env=mutmut_env(), capture_output=True, text=True, check=True).stdout
        data = json.loads(stats.read_text())
        data["config_fingerprint"]["test_selection"] = json.loads(fingerprint)["test_selection"]
        stats.write_text(json.dumps(data, indent=4))
    return added


def add_to_selection(work: Path, added: list[str]) -> None:
    """Append test paths to the folder's ``pytest_add_cli_args_test_selection``."""
    text = (work / "setup.cfg").read_text()
    head, mutmut = text.split("[mutmut]", 1)
    lines = mutmut.split("\n")
    i = next(k for k, line in enumerate(lines) if line.startswith("pytest_add_cli_args_test_selection"))
    j = i + 1
    while j < len(lines) and lines[j].startswith((" ", "\t")):
        j += 1
    lines[j:j] = [f"    {t}" for t in added]
    (work / "setup.cfg").write_text(head + "[mutmut]" + "\n".join(lines))


def recheck(modules: list[str], root: Path, repo: Path, end: float, grow: bool = True) -> list[dict]:
    """Run the survivors (and the mutants no test reached) of ``modules`` again with ``repo``'s tests, one
    ``mutmut run NAMES`` per work folder (``grow``: add the tests :data:`MODULES` names to its selection)."""
    by_work: dict[Path, list[str]] = {}
    for m in modules:
        work = find_work(m, root)
        if work is not None:
            by_work.setdefault(work, []).append(m)
    for i, (work, group) in enumerate(by_work.items()):
        names = [n for m in group for r in [outcome(m, work)] for n in r["survived"] + r["no_tests"]]
        share = (end - time.monotonic()) / (len(by_work) - i)
        if not names or share < 30:
            print(f"{work.name}: {'nothing to recheck' if not names else 'budget spent, not run'}", flush=True)
            continue
        sync_tests(work, repo)
        added = refresh_selection(work) if grow else []
        if added:
            print(f"{work.name}: tests added to the selection: {' '.join(added)}", flush=True)
        print(f"{work.name}: {len(names)} mutants again: {run(work, share, names)}", flush=True)
    return [outcome(m, find_work(m, root)) for m in modules]


def recheck_with(modules: list[str], root: Path, repo: Path, end: float, tests: list[str]) -> list[dict]:
    """Run the survivors (and the mutants no test reached) of each module again in a scratch copy of
    ``repo`` whose test selection is ``tests`` alone (fast: the stats and each mutant run only those), and
    record the kills in the module's work folder. A kill there is a kill by the suite (those tests are
    part of it); a survivor there keeps its verdict. The module's source must be the work folder's, so
    that the mutants have the same names."""
    todo = [(m, find_work(m, root)) for m in modules]
    todo = [(m, w) for m, w in todo if w is not None]
    for i, (m, work) in enumerate(todo):
        names = [n for r in [outcome(m, work)] for n in r["survived"] + r["no_tests"]]
        share = (end - time.monotonic()) / (len(todo) - i)
        if (work / "hpsearch" / m).read_bytes() != (repo / "hpsearch" / m).read_bytes():
            print(f"{m}: the work folder {work} mutates another version of it; not rechecked", flush=True)
            continue
        if not names or share < 30:
            print(f"{m}: {'nothing to recheck' if not names else 'budget spent, not run'}", flush=True)
            continue
        scratch = root.parent / (root.name + "-with-tests") / slug(m)
        prepare([m], scratch, True, repo, tests)
        print(f"{m}: {len(names)} mutants with {' '.join(tests)}: {run(scratch, share, names)}", flush=True)
        codes = json.loads(meta_path(m, scratch).read_text())["exit_code_by_key"]
        killed = {n: codes[n] for n in names if codes.get(n) in KILLED}
        meta = meta_path(m, work)
        data = json.loads(meta.read_text())
        data["exit_code_by_key"].update(killed)
        meta.write_text(json.dumps(data, indent=4))
        print(f"{m}: {len(killed)} of {len(names)} killed, recorded in {work.name}", flush=True)
    return [outcome(m, find_work(m, root)) for m in modules]


if __name__ == "__main__":
    sys.exit(main())
