"""mnistmlp Hyperband on every GPU (``--gpus all``, one trial per GPU) against one worker on one GPU.

Prints the devices each trial ran on (from the run store) and the wall times of both runs.
Run it on a machine with GPUs (and TensorFlow with CUDA):

    HPS_DATA_DIR=/path/to/data python tests/perf/bench_gpus.py [--gpus-per-trial 1]
        [--max-resource 9] [--eta 3] [--seed 0] [--subset N[,M]] [--keep DIR]

``--fake-gpus N`` puts a fake ``nvidia-smi`` listing N GPUs on PATH, to try the
script where there is none (trials then train on the CPU, each worker seeing
its own ``CUDA_VISIBLE_DEVICES``); the times mean nothing then.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from hpsearch.evaluators import EvaluatorError
from hpsearch.evaluators.devices import find_gpus
from hpsearch.run.runner import RunConfig, start_run


def fake_nvidia_smi(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "nvidia-smi"
    lines = "\n".join(f"GPU {i}: Fake GPU (UUID: GPU-{i:08d}-fake)" for i in range(n))
    exe.write_text(f"#!/bin/sh\ncat <<'EOF'\n{lines}\nEOF\n")
    exe.chmod(0o755)
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ['PATH']}"


def once(label: str, run_dir: Path, args, gpus: str, workers: int | None) -> float:
    cfg = RunConfig(problem="mnistmlp", algo="hyperband", seed=args.seed, gpus=gpus,
                    gpus_per_trial=args.gpus_per_trial, workers=workers, run_dir=str(run_dir),
                    algo_options={"max_resource": args.max_resource, "eta": args.eta})
    t0 = time.perf_counter()
    out = start_run(cfg)
    wall = time.perf_counter() - t0
    s = out.summary
    try:
        print(f"\n== {label}: {out.placement or workers}")
        print(f"{'trial':>5}  {'bracket':>7}  {'rung':>4}  {'epochs':>6}  {'devices':>8}  {'seconds':>8}  "
              f"{'val_acc':>7}  status")
        for t in out.store.trials(order="tell_seq"):
            acc = "" if t.objective is None else f"{t.objective:.4f}"
            print(f"{t.trial_id:>5}  {t.bracket!s:>7}  {t.rung!s:>4}  {t.budget!s:>6}  "
                  f"{','.join(t.devices or []) or '-':>8}  {t.duration_s or 0:>8.1f}  {acc:>7}  {t.status}")
        best = "" if s.best is None else f", best val_accuracy {s.best.objective:.4f}"
        print(f"{s.n_done} done, {s.n_failed} failed, {s.n_timeout} timeout; wall {wall:.1f} s, "
              f"utilisation {s.utilisation or 0:.0%} of {s.workers} workers{best}")
    finally:
        out.store.close()
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpus-per-trial", type=int, default=1)
    ap.add_argument("--max-resource", type=int, default=9)
    ap.add_argument("--eta", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--subset", default=None, help="HPS_MNIST_SUBSET: train on fewer images (N or N,M)")
    ap.add_argument("--fake-gpus", type=int, default=0, help="pretend to have N GPUs (a fake nvidia-smi)")
    ap.add_argument("--keep", default=None, help="keep the run directories here")
    args = ap.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="hps-bench-gpus-"))
    if args.subset:
        os.environ["HPS_MNIST_SUBSET"] = args.subset
    if args.fake_gpus:
        fake_nvidia_smi(root / "fake-bin", args.fake_gpus)
    ids, where = find_gpus()
    if not ids:
        sys.exit(f"no GPU found ({where}); this benchmark needs GPUs (or --fake-gpus N to try it)")
    print(f"GPUs: {', '.join(ids)} (from {where}); mnistmlp hyperband R={args.max_resource} eta={args.eta} "
          f"seed={args.seed}, {args.gpus_per_trial} GPU(s) per trial")
    try:
        many = once("--gpus all", root / "all", args, "all", None)
        one = once("one worker", root / "one", args, ",".join(ids[:args.gpus_per_trial]) + ",", 1)
    except EvaluatorError as exc:
        sys.exit(str(exc))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nwall time: {many:.1f} s with --gpus all against {one:.1f} s with one worker "
          f"(speed-up x{one / many:.2f})")


if __name__ == "__main__":
    main()
