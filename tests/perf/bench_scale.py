"""The algorithms at scale: regret against virtual wall-clock time at 1, 8, 64 and 256 workers.

With the ``simulated`` evaluator (each evaluation charged the virtual time its
problem's runtime model says: 1 s per epoch trained, warm start charged only
the extra epochs, a seeded log-normal slowdown of sd 0.1), for each
multi-fidelity benchmark of ``--problems``, each algorithm of ``--algos``
(``A+S`` means ``--algo A --searcher S``) and each worker count of
``--workers``, ``--seeds`` runs of ``hps compare`` on an equal budget of
``--budget-r`` full evaluations (in resource units: what was trained, so the
compute is the same at every worker count and more workers finish sooner). The
comparisons are ordinary comparison directories ``OUT/<problem>/w<W>``
(rerunning continues them).

The score is the regret of the best *full-budget* evaluation finished by a
virtual time (as ``hps compare``). Per benchmark a markdown table gives, per
algorithm and worker count, the median regret over seeds at fixed virtual
times (fractions of the time hyperband on one worker takes), the final regret,
the virtual time at which the median curve reaches hyperband-at-1-worker's
final regret, and the speed-up over hyperband at one worker to reach it. The
targets are checked and printed: the best hps algorithm at 64 workers (the
lowest final regret there) reaches that regret at least 32 times sooner than
hyperband at 1 worker first reaches it (and, second check, than the end of
the hyperband-at-1-worker run), and it is
ahead of asynchronous random and asha at every worker count: a final median
regret at or below theirs (the times of the table where it is behind, and a
later time to hyperband-at-1-worker's regret, are named; before its first
full-budget evaluation a multi-fidelity algorithm has no score, '-', while
random has one). Tables go to
``OUT/report.md`` and the figures to ``OUT/results.json``; ``--figure`` draws
regret against virtual time at each worker count for ``--figure-problem``.

    nice -n 10 python tests/perf/bench_scale.py --problems mfhartmann6 \\
        --figure docs/images/scale_mfhartmann6.png --rst docs/parallel-scale.inc
    nice -n 10 python tests/perf/bench_scale.py --seeds 2 --workers 1,64   # gauge the time first
    python tests/perf/bench_scale.py --report-only                      # tables of what OUT holds

Cost: the simulator, the engine and the store take under 1 ms of CPU per
evaluation (profiled: hyperband at 256 workers, 618 evaluations in 0.44 s);
the rest is the searchers. On mfhartmann6 at 64 R, per seed: random,
hyperband and asha a few seconds together at any worker count; bohb 4-30 s;
asha+bayesian 6 s at 1 worker but minutes at 256 (its GP asked for hundreds
of configurations with hundreds pending).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from hpsearch.reporting.comparison import best_within, summarise
from hpsearch.run.compare import CompareConfig, run_comparison

PROBLEMS = ("mfhartmann6", "mfhartmann3", "mfbranin", "hartmann6lc")
ALGOS = ("random", "hyperband", "asha", "bohb", "asha+bayesian")
WORKERS = (1, 8, 64, 256)
#: the times of the table, as fractions of hyperband-at-1-worker's median virtual duration
FRACTIONS = (1 / 256, 1 / 64, 1 / 32, 1 / 8, 1.0)
REFERENCE = ("hyperband", 1)
ASYNC_BASELINES = ("random", "asha")
TARGET_WORKERS, TARGET_SPEEDUP = 64, 32.0


def run_all(problem: str, algos: list[str], workers: list[int], seeds: int, budget_r: float,
            out: Path) -> None:
    """Seed by seed, each worker count (a comparison skips its finished runs), so that an interrupted
    bench has whole seeds at every worker count."""
    r_max = 81  # every bundled multi-fidelity benchmark's resource goes to 81
    for k in range(1, seeds + 1):
        for w in workers:
            t0 = time.monotonic()
            run_comparison(CompareConfig(problem=problem, algos=list(algos), seeds=k, budget=budget_r * r_max,
                                         out=str(out / problem / f"w{w}"), evaluator="simulated", workers=w))
            print(f"{problem} seed {k - 1} w={w}: {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)


def curves(problem: str, algos: list[str], workers: list[int], seeds: int, out: Path) -> dict:
    """(algo, workers) -> the runs' curves (virtual end times, best regret so far) of seeds 0..seeds-1."""
    got = {}
    for w in workers:
        d = out / problem / f"w{w}"
        if not (d / "compare.json").exists():
            continue
        cmp = summarise(d, seeds=seeds, x_axis="virtual-time")
        done = {name for name, state in cmp.settings.get("runs", {}).items() if state.get("finished")}
        for algo in algos:
            finished = [c for c in cmp.curves.get(algo, []) if c.name in done]  # not a run in progress
            if finished:
                got[(algo, w)] = finished
    return got


def median_at(cs: list, t: float) -> float:
    return float(np.median([best_within(c, t) for c in cs]))


def time_to(cs: list, target: float) -> float:
    """The first virtual time at which the median over seeds is at or below ``target`` (inf: never); the
    median changes only when one of the runs finishes an evaluation."""
    for t in np.unique(np.concatenate([c.spent for c in cs])):
        if median_at(cs, t) <= target:
            return float(t)
    return math.inf


def analyse(problem: str, got: dict, algos: list[str], workers: list[int], budget_r: float = 64.0) -> dict:
    ref = got.get(REFERENCE)
    if ref is None:
        return {}
    t_ref_end = float(np.median([c.spent[-1] for c in ref]))
    target = median_at(ref, math.inf)  # hyperband at 1 worker: final median regret
    t_ref = time_to(ref, target)
    times = [f * t_ref_end for f in FRACTIONS]
    rows = {}
    for (algo, w), cs in got.items():
        t_hit = time_to(cs, target)
        rows[f"{algo}@{w}"] = {
            "algo": algo, "workers": w, "seeds": len(cs),
            "at": [median_at(cs, t) for t in times],
            "final": median_at(cs, math.inf),
            "virtual_s": float(np.median([c.spent[-1] for c in cs])),
            "time_to_target": t_hit,
            "speedup": t_ref / t_hit if t_hit > 0 and math.isfinite(t_hit) else 0.0,
            "speedup_end": t_ref_end / t_hit if t_hit > 0 and math.isfinite(t_hit) else 0.0,
        }
    checks = []
    at64 = [r for r in rows.values() if r["workers"] == TARGET_WORKERS and r["algo"] in algos]
    if at64:
        best = min(at64, key=lambda r: (r["final"], -r["speedup"]))  # the lowest final regret at 64 workers
        ok = best["speedup"] >= TARGET_SPEEDUP
        checks.append((f"best at {TARGET_WORKERS} workers ({best['algo']}, the lowest final regret) reaches "
                       f"hyperband@1's final regret {target:.4g} >= {TARGET_SPEEDUP:g}x sooner than hyperband@1 "
                       f"first reaches it: {best['speedup']:.1f}x", ok))
        floor = min((r["time_to_target"] for r in at64), default=math.inf)
        checks.append((f"the same, against the end of the hyperband@1 run ({t_ref_end:.0f} s): "
                       f"{best['speedup_end']:.1f}x (no algorithm at {TARGET_WORKERS} workers reaches it before "
                       f"{_r(floor)} s: one full-budget evaluation takes ~81 s of virtual time)",
                       best["speedup_end"] >= TARGET_SPEEDUP))
        for w in workers:
            mine = rows.get(f"{best['algo']}@{w}")
            if mine is None:
                continue
            for base in ASYNC_BASELINES:
                other = rows.get(f"{base}@{w}")
                if other is None or base == best["algo"]:
                    continue
                ahead = mine["final"] <= other["final"]
                late = [f"t={_t(t)}" for t, a, b in zip(times, mine["at"], other["at"]) if a > b]
                slower = mine["time_to_target"] > other["time_to_target"]
                notes = ([f"behind at {', '.join(late)} of the table"] if late else []) + (
                    [f"reaches hyperband@1's regret later ({_r(mine['time_to_target'])} s vs "
                     f"{_r(other['time_to_target'])} s)"] if slower else [])
                checks.append((f"{best['algo']}@{w} ahead of {base}@{w} (final median regret "
                               f"{_r(mine['final'])} vs {_r(other['final'])})"
                               + (f"; but {'; '.join(notes)}" if notes else ""), ahead))
    return {"problem": problem, "target": target, "t_ref": t_ref, "t_ref_end": t_ref_end, "times": times,
            "rows": rows, "checks": checks, "notes": bounds(got, t_ref, workers, budget_r)}


def bounds(got: dict, t_ref: float, workers: list[int], budget_r: float) -> list[str]:
    """What the budget allows, in numbers: the earliest full-budget result at the target's worker count
    (no speed-up over hyperband@1's first reach can exceed ``t_ref`` over it), and the worker counts at
    which the budget is less than one round of full-budget evaluations (one per worker)."""
    notes = []
    firsts = [float(np.asarray(c.spent)[np.isfinite(c.best)][0]) for (_, w), cs in got.items()
              if w == TARGET_WORKERS for c in cs if np.isfinite(c.best).any()]
    if firsts:
        first = min(firsts)
        notes.append(f"at {TARGET_WORKERS} workers no full-budget evaluation of any run ends before {first:.1f} s "
                     f"of virtual time (R epochs at ~1 s each, less the jitter), so no algorithm can reach "
                     f"hyperband@1's final regret more than {t_ref:.0f} / {first:.1f} = {t_ref / first:.1f}x "
                     "sooner than hyperband@1 first reaches it")
    for w in workers:
        if budget_r < w:
            notes.append(f"at {w} workers the budget ({budget_r:g} R) is {budget_r / w:.2f} of one round of "
                         f"full-budget evaluations ({w} R, one per worker): it runs out after "
                         f"~{budget_r / w * 81:.0f} s of virtual time with every worker busy, before any "
                         "configuration started at a low rung can be promoted to R (81 epochs), so only "
                         "evaluations started at R (random, Hyperband's last bracket) score")
    return notes


def _t(t: float) -> str:
    return f"{t:.3g}"


def _x(x: float) -> str:
    return f"{x:.1f}x" if x else "-"


def _r(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.3g}"


def table(res: dict, algos: list[str], workers: list[int]) -> str:
    head = (["algo", "workers", "seeds"] + [f"t={_t(t)} s" for t in res["times"]]
            + ["final", "virtual s", f"time to {res['target']:.3g}", "speed-up", "vs its end"])
    lines = [f"### {res['problem']}", "",
             f"Median regret over seeds at virtual times (fractions 1/256, 1/64, 1/32, 1/8 and 1 of the "
             f"{res['t_ref_end']:.0f} s hyperband takes on 1 worker); time for the median to reach "
             f"hyperband@1's final regret {res['target']:.3g} (hyperband@1: {res['t_ref']:.0f} s) and the "
             "speed-up over it (vs its end: over the whole hyperband@1 run).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in workers:
        for algo in algos:
            r = res["rows"].get(f"{algo}@{w}")
            if r is None:
                continue
            cells = ([algo, str(w), str(r["seeds"])] + [_r(x) for x in r["at"]]
                     + [_r(r["final"]), f"{r['virtual_s']:.0f}", _r(r["time_to_target"]), _x(r["speedup"]),
                        _x(r["speedup_end"])])
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {'met' if ok else 'MISSED'}: {text}" for text, ok in res["checks"]]
    lines += [f"- note: {text}" for text in res.get("notes", [])]
    return "\n".join(lines) + "\n"


def rst(results: list[dict], algos: list[str], workers: list[int], command: str) -> str:
    """The tables as reStructuredText (``--rst``, included by the docs' Parallel page)."""
    out = [f".. generated by: {command}", ""]
    for res in results:
        head = (["algo", "workers", "seeds"] + [f"t={_t(t)} s" for t in res["times"]]
                + ["final", "virtual s", f"time to {res['target']:.3g}", "speed-up", "vs its end"])
        out += [f"**{res['problem']}**: median regret at virtual times (1/256, 1/64, 1/32, 1/8 and all of "
                f"the {res['t_ref_end']:.0f} s hyperband takes on 1 worker), the final one, the median run's "
                f"virtual duration, when the median reaches hyperband-on-1-worker's final regret "
                f"{res['target']:.3g} (which hyperband on 1 worker reaches at {res['t_ref']:.0f} s) and the "
                "speed-up over that (and over the whole hyperband-on-1-worker run)", "",
                ".. list-table::", "   :header-rows: 1", ""]
        out.append("   * - " + "\n     - ".join(head))
        for w in workers:
            for algo in algos:
                r = res["rows"].get(f"{algo}@{w}")
                if r is None:
                    continue
                cells = ([f"``{algo}``", str(w), str(r["seeds"])] + [_r(x) for x in r["at"]]
                         + [_r(r["final"]), f"{r['virtual_s']:.0f}", _r(r["time_to_target"]), _x(r["speedup"]),
                            _x(r["speedup_end"])])
                out.append("   * - " + "\n     - ".join(cells))
        out.append("")
        out += [f"* {'met' if c['met'] else '**missed**'}: {c['check']}" for c in res["checks"]]
        out += [f"* note: {text}" for text in res.get("notes", [])]
        out.append("")
    return "\n".join(out) + "\n"


def figure(problem: str, got: dict, algos: list[str], workers: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(workers), figsize=(4.2 * len(workers), 3.8), sharey=True, dpi=100)
    axes = np.atleast_1d(axes)
    end = max(float(c.spent[-1]) for cs in got.values() for c in cs)
    for ax, w in zip(axes, workers):
        runs = [(a, got[(a, w)]) for a in algos if (a, w) in got]
        if not runs:
            continue
        top = max(float(c.spent[-1]) for _, cs in runs for c in cs)
        grid = np.geomspace(30.0, top, 300)
        for i, (algo, cs) in enumerate(runs):
            values = np.array([[best_within(c, t) for t in grid] for c in cs])
            with np.errstate(invalid="ignore"):
                q = np.percentile(values, [50, 25, 75], axis=0)
            q = np.where(np.isfinite(q), np.maximum(q, 1e-6), np.nan)
            ax.plot(grid, q[0], color=f"C{i}", label=algo)
            ax.fill_between(grid, q[1], q[2], color=f"C{i}", alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(30.0, end)
        ax.set_title(f"{w} worker{'s' if w > 1 else ''}")
        ax.set_xlabel("virtual time (s)")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("regret (full-budget evaluations)")
    axes[-1].legend(loc="lower left", fontsize="small")
    counts = sorted({len(cs) for cs in got.values()})
    seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    fig.suptitle(f"{problem}: median regret and interquartile range over {seeds} seeds, simulated workers")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--algos", default=",".join(ALGOS))
    ap.add_argument("--workers", default=",".join(map(str, WORKERS)))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget-r", type=float, default=64.0, help="budget per run, in full evaluations (R)")
    ap.add_argument("--out", default="runs/bench-scale")
    ap.add_argument("--figure", default=None, help="PNG of regret against virtual time per worker count")
    ap.add_argument("--figure-problem", default=None, help="the problem drawn (default: the first)")
    ap.add_argument("--rst", default=None, help="also write the tables as reStructuredText here")
    ap.add_argument("--report-only", action="store_true", help="tables of what OUT holds, running nothing")
    args = ap.parse_args(argv)
    problems = [p for p in args.problems.split(",") if p]
    algos = [a for a in args.algos.split(",") if a]
    workers = [int(w) for w in args.workers.split(",") if w]
    out = Path(args.out)
    t0 = time.monotonic()
    report, results = [], []
    for problem in problems:
        if not args.report_only:
            run_all(problem, algos, workers, args.seeds, args.budget_r, out)
        got = curves(problem, algos, workers, args.seeds, out)
        res = analyse(problem, got, algos, workers, args.budget_r)
        if not res:
            print(f"{problem}: no hyperband run on 1 worker in {out}, skipped", file=sys.stderr)
            continue
        text = table(res, algos, workers)
        print(text, flush=True)
        report.append(text)
        results.append({**res, "checks": [{"check": c, "met": ok} for c, ok in res["checks"]]})
        if args.figure and problem == (args.figure_problem or problems[0]):
            figure(problem, got, algos, workers, Path(args.figure))
            print(f"figure: {args.figure}", file=sys.stderr)
    wall = time.monotonic() - t0
    cmd = "python tests/perf/bench_scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(f"`{cmd}` ({wall:.0f} s)\n\n" + "\n".join(report))
    (out / "results.json").write_text(json.dumps({"command": cmd, "wall_s": wall, "budget_r": args.budget_r,
                                                  "results": results}, indent=1, default=str))
    if args.rst:
        Path(args.rst).write_text(rst(results, algos, workers, cmd))
    print(f"wall {wall:.0f} s; {out / 'report.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
