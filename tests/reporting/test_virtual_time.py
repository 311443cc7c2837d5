"""Virtual time on the x axis: ``hps plot --x-axis virtual-time`` and ``hps compare --x-axis virtual-time``
for runs of the simulated evaluator, and one line when a run has no virtual times."""
from __future__ import annotations

import csv
import io

from hpsearch.cli import cli
from hpsearch.store import RunHistory, RunStore


def test_a_simulated_run_says_its_virtual_time_and_plots_against_it(runner, in_tmp):
    out = runner.invoke(cli, ["run", "-p", "mfbranin", "--algo", "asha", "--evaluator", "simulated",
                              "--workers", "500", "--max-evals", "120", "--seed", "1", "--run-dir", "r"])
    assert out.exit_code == 0, out.output
    with RunStore.open(in_tmp / "r", readonly=True) as store:
        history = RunHistory.from_store(store)
    ends = history.virtual_times()
    assert ends == sorted(ends) and len(ends) == 120
    assert f"virtual time {ends[-1]:.6g} s on 81 simulated workers" in out.output  # asha: 81 at once

    out = runner.invoke(cli, ["plot", "r", "--x-axis", "virtual-time"])
    assert out.exit_code == 0, out.output
    assert (in_tmp / "r" / "plots" / "best_vs_virtual_time.png").stat().st_size > 0
    xs, best, _, _ = history.best_so_far(by_virtual_time=True)
    assert xs == ends[len(ends) - len(xs):] and len(best) == len(xs)


def test_virtual_time_of_a_run_without_it_is_one_line(runner, in_tmp):
    out = runner.invoke(cli, ["run", "-p", "branin", "--max-evals", "3", "--evaluator", "serial",
                              "--run-dir", "r"])
    assert out.exit_code == 0, out.output
    assert "virtual time" not in out.output
    out = runner.invoke(cli, ["plot", "r", "--x-axis", "virtual-time"])
    assert out.exit_code == 2
    assert "--x-axis virtual-time" in out.output and "--evaluator simulated" in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_compare_at_256_simulated_workers_against_virtual_time(runner, in_tmp):
    args = ["compare", "-p", "mfbranin", "--algo", "random,asha", "--seeds", "2", "--budget", "1000",
            "--evaluator", "simulated", "--workers", "256", "--out", "cmp"]
    out = runner.invoke(cli, [*args, "--x-axis", "virtual-time", "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output[out.output.index("algo,"):])))
    assert [r["algo"] for r in rows] == ["random", "asha"]
    horizon = float(rows[0]["horizon_virtual_s"])
    # random: 13 full evaluations (1000 / 81, the last crossing the budget) all at once on 256 workers
    assert 60 < float(rows[0]["virtual_s_median"]) < 120 and horizon >= float(rows[1]["virtual_s_median"])
    assert (in_tmp / "cmp" / "compare.png").stat().st_size > 0

    out = runner.invoke(cli, ["compare", "--resume", "cmp", "--x-axis", "virtual-time"])
    assert out.exit_code == 0, out.output
    assert "virtual s" in out.output and "simulated workers" in out.output


def test_compare_against_virtual_time_needs_simulated_runs(runner, in_tmp):
    out = runner.invoke(cli, ["compare", "-p", "branin", "--algo", "random", "--seeds", "1", "--budget", "3",
                              "--evaluator", "serial", "--out", "cmp", "--x-axis", "virtual-time"])
    assert out.exit_code == 2
    assert "has no virtual times" in out.output
