"""A slow problem with hostile strings, and an ``hps run`` of it in a subprocess (shared by the live tests)."""
from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from ..conftest import hps_cmd, hps_env

HOSTILE = "<img src=x onerror=alert(1)>"
ERROR = "<script>alert('err')</script>"
PROBLEM = f'''
from hpsearch import HpProblem
Problem = HpProblem(objective="loss", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("tag", ["plain", {HOSTILE!r}], default={HOSTILE!r})
'''
RUN = f'''
import time
def run(config):
    time.sleep(SLEEP)
    if config["x"] > 0.85:
        raise ValueError({ERROR!r})
    return config["x"]
'''


def slow_problem(root: Path, sleep: float = 0.2, name: str = "slow<b>prob") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "problem.py").write_text(textwrap.dedent(PROBLEM))
    (folder / "model_run.py").write_text(textwrap.dedent(RUN).replace("SLEEP", repr(sleep)))
    return folder


def start_hps_run(folder: Path, run_dir: Path, max_evals: int) -> subprocess.Popen:
    return subprocess.Popen(hps_cmd("run", "-p", folder, "--max-evals", max_evals, "--seed", 3,
                                    "--run-dir", run_dir, "--evaluator", "serial"),
                            env=hps_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
