"""GPUs and cores: which devices exist, how many workers, and which worker gets which GPUs.

``hps run --gpus all|N|0,2,3 --gpus-per-trial K`` gives each worker of the
``process`` evaluator its own disjoint set of K GPUs through
``CUDA_VISIBLE_DEVICES`` (and ``HIP_VISIBLE_DEVICES`` for ROCm), set in the
worker's environment before it imports anything; a worker replaced after a
timeout or a crash gets its slot's GPUs back. ``--workers`` then defaults to
the number of GPU slots. ``--workers auto`` is the number of GPU slots with
GPUs, else the cores divided by the threads one trial needs (``HPS_THREADS``,
default 1). On Dask, workers own their GPUs (each started with its own
``CUDA_VISIBLE_DEVICES`` and ``--resources GPU=N``) and ``--gpus-per-trial K``
asks the scheduler for K of them per trial.

Finding the GPUs never imports a framework: ``CUDA_VISIBLE_DEVICES`` (or the
ROCm equivalents) when set in the environment, since that is the user's or
the batch system's choice (SLURM sets it) and ``nvidia-smi`` ignores it; else
the ``GPU i: ...`` lines of ``nvidia-smi -L``.

>>> Placement.plan("process", None, "all", 2, env={"CUDA_VISIBLE_DEVICES": "0,1,2,3"}).slots
[['0', '1'], ['2', '3']]
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from ..trial import DEVICE_VARS, visible_devices
from .base import EvaluatorError

__all__ = ["Placement", "find_gpus", "parse_gpus", "device_env", "cores", "threads_per_trial"]

_NVSMI = re.compile(r"^GPU (\d+):")


def _nvidia_smi(env: dict) -> tuple[list[str], str]:
    """GPU indices listed by ``nvidia-smi -L`` on ``env``'s PATH, and why there are none."""
    exe = shutil.which("nvidia-smi", path=env.get("PATH", os.defpath))
    if exe is None:
        return [], "nvidia-smi is not on PATH"
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=30, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        return [], f"nvidia-smi -L failed: {exc}"
    if out.returncode != 0:
        first = (out.stderr or out.stdout).strip().splitlines()[:1]
        return [], f"nvidia-smi -L failed (exit code {out.returncode}{': ' + first[0] if first else ''})"
    ids = [m.group(1) for m in map(_NVSMI.match, out.stdout.splitlines()) if m]
    return ids, "" if ids else "nvidia-smi -L lists no GPU"


def find_gpus(env: dict | None = None) -> tuple[list[str], str]:
    """The GPUs of this machine as ``(ids, where they were found)``; ids are empty when none.

    ``where`` names the source (``CUDA_VISIBLE_DEVICES``, ``nvidia-smi``), or says
    why nothing was found.
    """
    env = dict(os.environ if env is None else env)
    for var in DEVICE_VARS:
        if var in env:
            ids = visible_devices({var: env[var]})
            return ids, var if ids else f"{var}={env[var]!r} hides every GPU"
    ids, why = _nvidia_smi(env)
    return ids, "nvidia-smi" if ids else f"{why} and CUDA_VISIBLE_DEVICES is not set"


def parse_gpus(text: str, env: dict | None = None) -> tuple[list[str], str]:
    """``--gpus``: ``all``, a count N (the first N GPUs found), or device ids ``0,2,3``.

    A single number is a count (``--gpus 0``: none); name one device with a
    trailing comma (``--gpus 3,``). Returns ``(ids, source)``.

    Raises:
        EvaluatorError: one line naming the option and the value that broke the rule.
    """
    text = str(text).strip()
    expected = ("--gpus: expected all, a number of GPUs or comma-separated device ids (e.g. 0,2,3), "
                f"got {text!r}")
    if text.lower() == "all":
        ids, where = find_gpus(env)
        if not ids:
            raise EvaluatorError(f"--gpus all: no GPU found ({where})")
        return ids, where
    if text.isdigit():
        n = int(text)
        if n == 0:
            return [], "--gpus 0"
        found, where = find_gpus(env)
        if not found:  # nothing to check against: trust the user's count
            return [str(i) for i in range(n)], f"--gpus {n}"
        if n > len(found):
            raise EvaluatorError(f"--gpus {n}: only {len(found)} GPU(s) found "
                                 f"({', '.join(found)} from {where})")
        return found[:n], where
    ids = [d.strip() for d in text.split(",") if d.strip()]
    if "," not in text or not ids or not all(re.fullmatch(r"[\w:-]+", d) for d in ids):
        raise EvaluatorError(expected)
    if len(set(ids)) != len(ids):
        raise EvaluatorError(f"--gpus {text}: a device is listed twice")
    found, where = find_gpus(env)
    missing = [d for d in ids if found and d not in found]
    if missing:
        raise EvaluatorError(f"--gpus {text}: device {missing[0]} is not among the GPUs found "
                             f"({', '.join(found)} from {where})")
    return ids, "--gpus"


def device_env(env: dict, ids: list[str]) -> dict:
    """``env`` with only ``ids`` visible to CUDA and ROCm (none at all when ``ids`` is empty)."""
    out = dict(env)
    out.pop("ROCR_VISIBLE_DEVICES", None)  # a narrower ROCr list would renumber HIP's ids
    out["CUDA_VISIBLE_DEVICES"] = out["HIP_VISIBLE_DEVICES"] = ",".join(ids)
    return out


def cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. a container's or a batch job's share)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def threads_per_trial() -> int:
    """Threads one trial needs: ``$HPS_THREADS`` (default 1)."""
    text = os.environ.get("HPS_THREADS", "").strip()
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise EvaluatorError(f"HPS_THREADS must be a whole number of threads >= 1, got {text!r}")
    return int(text)


def parse_workers(value: int | str | None) -> int | str | None:
    """``--workers``: a number >= 1 or ``auto`` (None: not given)."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    if text.lstrip("-").isdigit():
        return int(text)
    raise EvaluatorError(f"--workers: expected a number >= 1 or auto, got {value!r}")


@dataclass
class Placement:
    """How many workers a run gets and which GPUs each one sees.

    Attributes:
        workers: evaluations at once.
        slots: the process evaluator's GPU ids per worker (None: leave the environment alone).
        gpus_per_trial: the Dask resource ``GPU`` each trial asks for (0: none).
        note: what was chosen and why, for the run's summary (None when nothing was decided).
    """

    workers: int
    slots: list[list[str]] | None = None
    gpus_per_trial: int = 0
    note: str | None = None

    @classmethod
    def plan(cls, evaluator: str, workers: int | str | None, gpus: str | None,
             gpus_per_trial: int | None, env: dict | None = None) -> Placement:
        """Decide from the run's settings (``workers`` None: not given; ``gpus_per_trial`` None: default 1).

        Raises:
            EvaluatorError: a usage error, one line.
        """
        workers = parse_workers(workers)
        if isinstance(workers, int) and workers < 1:
            raise EvaluatorError(f"--workers must be >= 1 or auto, got {workers}")
        k = gpus_per_trial
        if k is not None and k < 0:
            raise EvaluatorError(f"--gpus-per-trial must be >= 0, got {k}")
        if evaluator == "dask":
            if gpus is not None:
                raise EvaluatorError(
                    "--gpus: with --evaluator dask each Dask worker owns its GPUs (start it with "
                    "CUDA_VISIBLE_DEVICES=... dask worker ... --resources GPU=N); use --gpus-per-trial K")
            n, note = cls._cpu_workers(workers)
            return cls(n, None, k or 0, note)
        if gpus is None and k is None:
            n, note = cls._cpu_workers(workers)
            return cls(n, None, 0, note)
        if evaluator != "process":
            flag = "--gpus needs --evaluator process" if gpus is not None else \
                "--gpus-per-trial needs --evaluator process or dask"
            raise EvaluatorError(f"{flag} (the {evaluator} evaluator runs trials in the driver, whose "
                                 "devices are set already)")
        ids, where = parse_gpus("all" if gpus is None else gpus, env) if k != 0 else ([], "")
        if k is None:
            k = 1 if ids else 0  # --gpus 0: trials without GPUs
        if k == 0:  # trials without GPUs: hide them
            n, note = cls._cpu_workers(workers)
            return cls(n, [[] for _ in range(n)], 0, f"{note or n} (no GPU per trial)")
        if not ids:
            raise EvaluatorError(f"--gpus-per-trial {k}: --gpus {gpus} gives no GPU; use --gpus-per-trial 0 "
                                 "to run trials without GPUs")
        n_slots = len(ids) // k
        if n_slots == 0:
            raise EvaluatorError(f"--gpus-per-trial {k}: needs at least {k} GPUs, got {len(ids)} "
                                 f"({', '.join(ids)})")
        if isinstance(workers, int) and workers > n_slots:
            raise EvaluatorError(
                f"--workers {workers}: only {n_slots} GPU slot(s) ({len(ids)} GPUs {','.join(ids)} / "
                f"--gpus-per-trial {k}); use --workers {n_slots} or fewer, or --gpus-per-trial 0 to run "
                "trials without GPUs")
        n = n_slots if workers in (None, "auto") else workers
        slots = [ids[i * k:(i + 1) * k] for i in range(n)]
        how = "auto: " if workers == "auto" else "default: " if workers is None else ""
        note = f"{n} ({how}GPUs {' | '.join(','.join(s) for s in slots)} from {where}, {k} per trial)"
        return cls(n, slots, 0, note)

    @staticmethod
    def _cpu_workers(workers: int | str | None) -> tuple[int, str | None]:
        if workers != "auto":
            return workers or 1, None
        c, t = cores(), threads_per_trial()
        n = max(1, c // t)
        return n, f"{n} (auto: {c} cores / {t} thread{'s' if t > 1 else ''} per trial, HPS_THREADS)"

    def at_most(self, n: int, why: str) -> Placement:
        """This placement with no more than ``n`` workers (the first ``n`` GPU slots); ``why`` names
        what bounds them, for the run's summary."""
        if self.workers <= n:
            return self
        slots = None if self.slots is None else self.slots[:n]
        return Placement(n, slots, self.gpus_per_trial, f"{n} (of {self.workers}: {why})")

    def evaluator_options(self) -> dict:
        """Keyword arguments for the evaluator: ``gpu_slots`` (process) or ``gpus_per_trial`` (dask)."""
        out: dict = {}
        if self.slots is not None:
            out["gpu_slots"] = self.slots
        if self.gpus_per_trial:
            out["gpus_per_trial"] = self.gpus_per_trial
        return out
