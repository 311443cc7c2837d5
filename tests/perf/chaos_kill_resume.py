"""Chaos: SIGKILL the driver at random moments, resume, and check that nothing is lost or left behind.

For each of random, bayesian, hyperband and asha (2 process workers), the
driver (``hps run``, then ``hps resume``) is killed with SIGKILL at a random
moment, ``--kills`` times in all spread over the algorithms; after each kill
the script checks that no worker and no child process of a trial survives
(every process carrying this script's tag in its environment), and that every
evaluation the database held before stays there unchanged. After each kill
the run store is reopened as a resume does (taking the lock, rebuilding
results.csv), and results.csv must then equal results.db row for row. Finally
each run is resumed to its end and checked again: every trial finished once,
none lost, none duplicated, results.csv == results.db.

Each trial sleeps 0.05-0.4 s and starts a ``sleep`` child that it kills itself
when it ends, so only a trial cut off by the kill could leave one.

After each attempt (a kill, or the run ending on its own) a reader reads the
run through a read-only bind mount (``unshare -m``, as root): the run
directory itself, or every other time a copy of it without ``results.db-shm``.
``hps results`` there must list every finished evaluation the database holds
(counted with sqlite3 on a writable copy of results.db and its -wal), and
leave results.db, -wal and -shm byte for byte as they were.

    python tests/perf/chaos_kill_resume.py --kills 20 --seed 0
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from hpsearch.store import RunStore  # noqa: E402

ALGOS = {
    "random": ["--max-evals", "80"],
    "bayesian": ["--max-evals", "50", "--initial-points", "5"],
    "hyperband": ["--iterations", "3"],
    "asha": ["--max-configs", "81"],
}
PROBLEM = '''
"""Chaos problem."""
from hpsearch import HpProblem
Problem = HpProblem(objective="loss", direction="minimize")
Problem.add_dim("epochs", (1, 9), default=3, resource=True)
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("y", (-2.0, 2.0), default=0.0)
'''
RUN = '''
import random, subprocess, time
def run(config, trial):
    child = subprocess.Popen(["sleep", "{tag}"])
    try:
        time.sleep(random.Random(trial.id).uniform(0.05, 0.4))
        return (config["x"] - 0.3) ** 2 + config["y"] ** 2 / config["epochs"]
    finally:
        child.kill()
        child.wait()
'''


def tagged(tag: str) -> list[psutil.Process]:
    """Live processes started by this script's drivers (they inherit HPS_CHAOS_TAG)."""
    out = []
    for p in psutil.process_iter():
        try:
            if p.pid != os.getpid() and p.environ().get("HPS_CHAOS_TAG") == tag and p.status() != "zombie":
                out.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return out


def survivors(tag: str, grace: float = 5.0) -> list[str]:
    end = time.monotonic() + grace
    while time.monotonic() < end:
        left = tagged(tag)
        if not left:
            return []
        time.sleep(0.1)
    out = []
    for p in tagged(tag):
        try:
            out.append(f"{p.pid} {' '.join(p.cmdline())}")
            p.kill()
        except psutil.NoSuchProcess:
            pass
    return out


def db_rows(run_dir: Path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{run_dir / 'results.db'}?mode=ro", uri=True)
    try:
        return [tuple("" if v is None else str(v) for v in r) for r in conn.execute(
            "SELECT trial_id, config_id, status, objective FROM trials WHERE tell_seq IS NOT NULL "
            "ORDER BY tell_seq")]
    finally:
        conn.close()


def unfinished(run_dir: Path) -> int:
    conn = sqlite3.connect(f"file:{run_dir / 'results.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM trials WHERE tell_seq IS NULL").fetchone()[0]
    finally:
        conn.close()


def csv_rows(run_dir: Path) -> list[tuple]:
    with open(run_dir / "results.csv", newline="") as f:
        return [(r["trial_id"], r["config_id"], r["status"], r["objective"]) for r in csv.DictReader(f)]


FINISHED = ("done", "failed", "timeout", "stopped")


def can_mount() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-m", "true"], capture_output=True).returncode == 0


def store_files(run_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(run_dir.glob("results.db*"))}


def committed_finished(run_dir: Path) -> set[int]:
    """Finished trial ids committed to results.db and its -wal, read from a writable copy."""
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("", "-wal"):
            if (run_dir / f"results.db{suffix}").exists():
                shutil.copyfile(run_dir / f"results.db{suffix}", f"{tmp}/results.db{suffix}")
        conn = sqlite3.connect(f"{tmp}/results.db")
        try:
            marks = ",".join("?" * len(FINISHED))
            return {r[0] for r in conn.execute(f"SELECT trial_id FROM trials WHERE status IN ({marks})", FINISHED)}
        finally:
            conn.close()


def read_only_reader(run_dir: Path, env: dict) -> tuple[set[int] | None, str]:
    """Finished trial ids ``hps results`` lists with ``run_dir`` bind-mounted read-only (None: it failed)."""
    script = (f"mount --bind {run_dir} {run_dir} && mount -o remount,ro,bind {run_dir} || exit 99\n"
              f"touch {run_dir}/probe 2>/dev/null && exit 98\n"
              f"exec {sys.executable} -m hpsearch results {run_dir} --format csv --top 0 --all --failed")
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return None, f"exit {p.returncode}: {p.stderr.strip()[-300:]}"
    return {int(r["trial_id"]) for r in csv.DictReader(p.stdout.splitlines())}, ""


def same(db: list[tuple], csv_: list[tuple]) -> bool:
    def norm(rows):
        return [(a, b, c, "" if not d else f"{float(d):.12g}") for a, b, c, d in rows]

    return norm(db) == norm(csv_)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--min-delay", type=float, default=1.5, help="earliest kill, seconds after the start")
    ap.add_argument("--max-delay", type=float, default=8.0, help="latest kill, seconds after the start")
    ap.add_argument("--no-reader", action="store_true", help="skip the read-only reader after each kill")
    args = ap.parse_args()
    reader = not args.no_reader and can_mount()
    if not args.no_reader and not reader:
        print("no read-only reader: unshare -m is not available (it needs root)", flush=True)
    reads = {"reads": 0, "rows": 0, "mismatches": 0, "changed": 0, "without_shm": 0}
    rng = random.Random(args.seed)
    tag = f"chaos-{os.getpid()}-{rng.randrange(10**9)}"
    root = Path(tempfile.mkdtemp(prefix="hps-chaos-"))
    folder = root / "chaosprob"
    folder.mkdir()
    (folder / "problem.py").write_text(textwrap.dedent(PROBLEM))
    (folder / "model_run.py").write_text(textwrap.dedent(RUN.format(tag=f"{1000 + rng.random():.9f}")))
    env = {**os.environ, "HPS_CHAOS_TAG": tag, "PYTHONPATH": os.pathsep.join(
        [str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    algos = list(ALGOS)
    complete: set[str] = set()  # runs that ended before a kill: no more attempts on them
    failures: list[str] = []
    stats = {a: {"kills": 0, "killed_with_rows": [], "mid_flight": 0} for a in algos}
    seen: dict[str, dict] = {a: {} for a in algos}  # trial_id -> row, once finished
    t_start = time.monotonic()

    def check_kept(algo: str, run_dir: Path) -> None:
        rows = {r[0]: r for r in db_rows(run_dir)}
        for tid, row in seen[algo].items():
            if rows.get(tid) != row:
                failures.append(f"{algo}: trial {tid} was {row}, now {rows.get(tid)}")
        seen[algo].update(rows)

    attempts = kills = 0
    while kills < args.kills and len(complete) < len(algos):
        algo = algos[attempts % len(algos)]
        attempts += 1
        if algo in complete:
            continue
        i = attempts
        run_dir = root / algo
        if (run_dir / "results.db").exists():
            cmd = ["resume", str(run_dir)]
        else:
            cmd = ["run", "--problem", str(folder), "--algo", algo, "--seed", str(args.seed), "--workers",
                   str(args.workers), "--run-dir", str(run_dir), *ALGOS[algo]]
        delay = rng.uniform(args.min_delay, args.max_delay)
        proc = subprocess.Popen([sys.executable, "-m", "hpsearch", *cmd], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            proc.wait(delay)
            note = f"finished before the kill (exit {proc.returncode})"
            complete.add(algo)
            if proc.returncode != 0:
                failures.append(f"{algo}: {cmd[0]} exited {proc.returncode}: {proc.stderr.read()[-500:]}")
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stats[algo]["kills"] += 1
            kills += 1
            note = "killed"
        left = survivors(tag)
        if left:
            failures.append(f"kill {i} ({algo}): {len(left)} processes survived: {left[:4]}")
        if (run_dir / "results.db").exists():
            check_kept(algo, run_dir)
            n = len(db_rows(run_dir))
            stats[algo]["killed_with_rows"].append(n)
            stats[algo]["mid_flight"] += unfinished(run_dir) > 0
        else:
            n = 0
        print(f"attempt {i:2d} (kills {kills}/{args.kills}) {algo:9s} {cmd[0]:6s} at {delay:4.2f} s: {note}; "
              f"{n} finished rows stored, survivors {len(left)}", flush=True)
        if reader and (run_dir / "results.db").exists():
            target = run_dir
            if reads["reads"] % 2:  # a copy made without the -shm (e.g. copied while the run was killed)
                target = root / "ro-copy"
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(run_dir, target, ignore=shutil.ignore_patterns("results.db-shm", "logs"))
                reads["without_shm"] += 1
            truth, before = committed_finished(target), store_files(target)
            shown, why = read_only_reader(target, env)
            reads["reads"] += 1
            reads["rows"] += len(truth)
            if shown != truth:
                reads["mismatches"] += 1
                said = f"failed ({why})" if shown is None else f"listed {len(shown)} finished rows"
                failures.append(f"{algo}: after attempt {i}, hps results on read-only {target.name} {said}; "
                                f"the database holds {len(truth)}")
            if store_files(target) != before:
                reads["changed"] += 1
                failures.append(f"{algo}: after attempt {i}, reading {target.name} changed its store files")
            print(f"    read-only reader on {'a copy without -shm' if target != run_dir else 'the run dir'}: "
                  f"{'failed' if shown is None else len(shown)} of {len(truth)} finished rows", flush=True)
        # what a resume does first: take the lock (free: the driver is dead) and rebuild results.csv
        if (run_dir / "results.db").exists():
            RunStore.open(run_dir).close()
            if not same(db_rows(run_dir), csv_rows(run_dir)):
                failures.append(f"{algo}: after kill {i} and reopening, results.csv != results.db")

    print("\nfinal resumes:")
    for algo in algos:
        run_dir = root / algo
        cmd = (["resume", str(run_dir)] if (run_dir / "results.db").exists() else
               ["run", "--problem", str(folder), "--algo", algo, "--seed", str(args.seed), "--workers",
                str(args.workers), "--run-dir", str(run_dir), *ALGOS[algo]])
        p = subprocess.run([sys.executable, "-m", "hpsearch", *cmd], env=env, capture_output=True, text=True,
                           timeout=900)
        if p.returncode != 0:
            failures.append(f"{algo}: final {cmd[0]} exited {p.returncode}: {p.stderr[-500:]}")
        check_kept(algo, run_dir)
        db, cs = db_rows(run_dir), csv_rows(run_dir)
        ids = [r[0] for r in db]
        if not same(db, cs):
            failures.append(f"{algo}: results.csv ({len(cs)} rows) != results.db ({len(db)} rows)")
        if len(ids) != len(set(ids)) or unfinished(run_dir):
            failures.append(f"{algo}: duplicated or unfinished trials")
        left = survivors(tag)
        if left:
            failures.append(f"{algo}: {len(left)} processes survived the end of the run")
        st = stats[algo]
        print(f"  {algo:9s}: {st['kills']} kills ({st['mid_flight']} with trials in flight), "
              f"{len(db)} evaluations in the end, results.csv == results.db: {same(db, cs)}, "
              f"survivors: {len(left)}")
    wall = time.monotonic() - t_start
    if reader:
        print(f"\nread-only reader: {reads['reads']} reads, one after each attempt ({reads['without_shm']} of "
              f"a copy without -shm), {reads['rows']} finished rows compared, {reads['mismatches']} mismatches, "
              f"{reads['changed']} reads that changed a store file")
    print(f"\n{kills} SIGKILLs in {attempts} attempts, {wall:.0f} s; failures: {len(failures)}")
    for f in failures:
        print("  FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
