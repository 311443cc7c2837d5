"""hps plot: PNG files written headless, one per parameter plus best-so-far (and rungs for
multi-fidelity runs); failed rows skipped; an empty run is exit 1 with one line."""
import datetime as dt

import pytest

from hpsearch import HpProblem
from hpsearch.cli import cli
from hpsearch.reporting.plots import best_so_far, plot_run
from hpsearch.search.base import Suggestion
from hpsearch.store import RunStore
from hpsearch.trial import TrialResult

from ..conftest import PROBLEMS, run_hps

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_pngs(paths):
    for p in paths:
        data = p.read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 2000, p


def test_plot_plain_run(runner, in_tmp):
    # toy: a categorical mode (ok/raise/kill/...), x and sleep: pinned to harmless values.
    out = runner.invoke(cli, ["run", "-p", str(PROBLEMS / "toy"), "--max-evals", "25", "--seed", "2",
                              "--run-dir", "r", "--evaluator", "serial", "--fix", "sleep=0",
                              "--fix", "mode=ok"])
    assert out.exit_code == 0, out.output
    plot = runner.invoke(cli, ["plot", "r"])
    assert plot.exit_code == 0, plot.output
    names = ["best_vs_evaluations.png", "best_vs_resource.png", "param_mode.png", "param_x.png",
             "param_sleep.png", "importance.png", "marginal_x.png"]  # x: the one free parameter
    assert plot.output.splitlines() == [f"r/plots/{n}" for n in names]
    assert sorted(p.name for p in (in_tmp / "r" / "plots").iterdir()) == sorted(names)
    assert_pngs((in_tmp / "r" / "plots").iterdir())


FLAKY = dict(
    problem="""
        from hpsearch import HpProblem
        Problem = HpProblem(objective="score", direction="maximize")
        Problem.add_dim("x", (0.0, 1.0), default=0.5)
        Problem.add_dim("units", (8, 512, "log-uniform"), default=64)
        Problem.add_dim("opt", ["adam", "sgd", "rmsprop"], default="adam")
        Problem.add_dim("batch", [16, 32, 64], default=32)
    """,
    model_run="""
        def run(config):
            if config["x"] > 0.6:
                raise ValueError("diverged")
            return config["x"] + (config["opt"] == "adam")
    """,
)


def test_plot_run_with_failed_rows(in_tmp, runner, make_problem):
    folder = make_problem("flaky", **FLAKY)
    out = runner.invoke(cli, ["run", "-p", str(folder), "--max-evals", "30", "--seed", "1",
                              "--run-dir", "r", "--evaluator", "serial"])
    assert out.exit_code == 0, out.output
    with RunStore.open(in_tmp / "r", readonly=True) as store:
        statuses = [t.status for t in store.trials()]
    assert 5 <= statuses.count("failed") <= 25, statuses
    files = plot_run(in_tmp / "r")
    assert [f.name for f in files][:7] == ["best_vs_evaluations.png", "best_vs_resource.png", "param_x.png",
                                           "param_units.png", "param_opt.png", "param_batch.png",
                                           "importance.png"]
    assert len(files) == 11 and all(f.name.startswith("marginal_") for f in files[7:])  # top 3 and a pair
    assert_pngs(files)


def test_plot_empty_run_and_all_failed_exit_1(runner, in_tmp):
    RunStore.create(in_tmp / "empty", {"algo": "random", "space": {}}, ["x"]).close()
    out = runner.invoke(cli, ["plot", "empty"])
    assert out.exit_code == 1
    assert out.output.strip() == "Error: empty: no successful evaluation to plot yet (no evaluation)"
    assert not (in_tmp / "empty" / "plots").exists()

    runner.invoke(cli, ["run", "-p", str(PROBLEMS / "toy"), "--max-evals", "2", "--run-dir", "bad",
                        "--evaluator", "serial", "--fix", "mode=raise", "--fix", "sleep=0"])
    out = runner.invoke(cli, ["plot", "bad"])
    assert out.exit_code == 1
    assert out.output.strip() == "Error: bad: no successful evaluation to plot yet (2 failed)"


def test_plot_not_a_run_dir_exit_2(runner, in_tmp):
    out = runner.invoke(cli, ["plot", "nowhere"])
    assert out.exit_code == 2
    assert out.output.strip() == "Error: nowhere: not a run directory (no results.db in it)"


def fake_hyperband_store(run_dir):
    """A multi-fidelity run written through the store's API: two brackets, promotions, a failure."""
    p = HpProblem(objective="loss", direction="minimize", optimum=0.0)
    p.add_dim("epochs", (1, 9), default=3, resource=True)
    p.add_dim("lr", (1e-3, 1.0, "log-uniform"), default=0.1)
    p.add_dim("act", ["relu", "tanh"], default="relu")
    settings = {"problem_name": "fake", "algo": "hyperband", "space": p.to_dict(), "multi_fidelity": True}
    store = RunStore.create(run_dir, settings, p.names)
    # (config_id, bracket, rung, budget, previous_budget, lr, act, loss or None for a failure)
    rows = [(0, 1, 0, 3, 0, 0.01, "relu", 0.50), (1, 1, 0, 3, 0, 0.1, "tanh", 0.20),
            (2, 1, 0, 3, 0, 0.5, "relu", None), (1, 1, 1, 9, 3, 0.1, "tanh", 0.30),
            (3, 0, 0, 9, 0, 0.05, "tanh", 0.25), (4, 0, 0, 9, 0, 0.9, "relu", 0.40)]
    t0 = dt.datetime(2026, 1, 1).timestamp()
    for tid, (cid, br, rung, budget, prev, lr, act, loss) in enumerate(rows):
        s = Suggestion(config={"epochs": budget, "lr": lr, "act": act}, config_id=cid, budget=budget,
                       previous_budget=prev, bracket=br, rung=rung)
        store.add_trials([tid], [s], ask_seq=2 * tid, ask_n=1)
        status = "done" if loss is not None else "failed"
        store.finish_trial(TrialResult(tid, status, objective=loss, error=None if loss else "boom",
                                       started_at=t0 + tid, finished_at=t0 + tid + 1, duration_s=1.0,
                                       worker="w0"), tell_seq=2 * tid + 1)
    return store


@pytest.mark.slow
def test_plot_multi_fidelity_run_draws_rungs(tmp_path, runner):
    fake_hyperband_store(tmp_path / "hb").close()
    out = runner.invoke(cli, ["plot", str(tmp_path / "hb")])
    assert out.exit_code == 0, out.output
    names = [line.rsplit("/", 1)[1] for line in out.output.splitlines()]
    assert names == ["best_vs_evaluations.png", "best_vs_resource.png", "param_epochs.png", "param_lr.png",
                     "param_act.png", "rungs.png"]
    assert_pngs((tmp_path / "hb" / "plots").iterdir())


def test_best_so_far_counts_resource_and_prefers_larger_budgets(tmp_path):
    store = fake_hyperband_store(tmp_path / "hb")
    finished = store.trials(finished_only=True, order="tell_seq")
    store.close()
    x, best, dot_x, dot_y = best_so_far(finished, "minimize", multi_fidelity=True, by_resource=True)
    # spent: 3, 3, 3 (failed, still spent), 9-3 (warm start), 9, 9
    assert x == [3, 6, 9, 15, 24, 33]
    # 0.2 at budget 3 is beaten by 0.3 at budget 9 (a larger budget ranks first), then 0.25 at budget 9
    assert best == [0.5, 0.2, 0.2, 0.3, 0.25, 0.25]
    assert dot_x == [3, 6, 15, 24, 33] and dot_y == [0.5, 0.2, 0.3, 0.25, 0.4]
    x, best, _, _ = best_so_far(finished, "minimize", multi_fidelity=False)
    assert x == [1, 2, 3, 4, 5, 6] and best == [0.5, 0.2, 0.2, 0.2, 0.2, 0.2]


@pytest.mark.slow
def test_plot_subprocess_is_headless(tmp_path):
    """A real process with no display and no MPLBACKEND set still writes the PNGs."""
    fake_hyperband_store(tmp_path / "hb").close()
    proc = run_hps("plot", str(tmp_path / "hb"), env={"DISPLAY": "", "MPLBACKEND": ""}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 6
