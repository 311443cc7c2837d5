"""Ask/tell (hpsearch.Study): the same history as `hps run --evaluator serial` for every preset, continued
after an interruption with the trials out asked again, and every misuse one error that stores nothing."""
import signal
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

import hpsearch
from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.run.study import StudyError
from hpsearch.search import OptionError
from hpsearch.store import RunStore, load_run

from ..conftest import PROBLEMS, hps_env, run_hps

MIXED = PROBLEMS / "mixed"

#: preset -> (keywords of Study, flags of hps run): small schedules on the mixed problem (steps 1..27)
PRESETS = {
    "random": ({}, []),
    "bayesian": ({"initial_points": 2}, ["--initial-points", "2"]),
    "hyperband": ({"max_resource": 9}, ["--max-resource", "9"]),
    "asha": ({"max_resource": 9}, ["--max-resource", "9"]),
    "bohb": ({"max_resource": 9, "initial_points": 2}, ["--max-resource", "9", "--initial-points", "2"]),
}


def history(run_dir):
    """Every stored evaluation as the search saw it, and the order of asks and tells."""
    with RunStore.open(run_dir, readonly=True) as store:
        return [(t.trial_id, t.config_id, t.bracket, t.rung, t.budget, t.previous_budget, t.params, t.objective,
                 t.status, t.ask_seq, t.ask_n, t.tell_seq) for t in store.trials()], store.ended


def drive(study, run, stop_after=None):
    """Ask one trial, run it, tell it, until the study is done (or ``stop_after`` tells)."""
    told = 0
    while not study.done and (stop_after is None or told < stop_after):
        trial = study.ask()
        study.tell(trial, run(trial.config))
        told += 1


@pytest.mark.parametrize("algo", sorted(PRESETS))
def test_ask_tell_writes_the_history_hps_run_writes(algo, tmp_path):
    options, flags = PRESETS[algo]
    result = CliRunner().invoke(cli, ["run", "--problem", str(MIXED), "--algo", algo, "--seed", "3",
                                      "--evaluator", "serial", "--max-evals", "25",
                                      "--run-dir", str(tmp_path / "cli"), *flags])
    assert result.exit_code == 0, result.output
    lp = load_problem(MIXED)
    with hpsearch.Study(lp.problem, algo=algo, seed=3, max_evals=25, run_dir=tmp_path / "study",
                        **options) as study:
        drive(study, lp.run)
        assert study.ended == history(tmp_path / "cli")[1]
    want, got = history(tmp_path / "cli"), history(tmp_path / "study")
    assert got == want and len(want[0]) > 10


def test_budgets_and_rungs_reach_the_trial(tmp_path):
    lp = load_problem(MIXED)
    with hpsearch.Study(lp.problem, algo="hyperband", seed=1, max_resource=9, run_dir=tmp_path / "s") as study:
        trials = study.ask(50)
        assert trials and study.ask() is None  # the first rungs are out: hyperband waits for them
        assert {t.budget for t in trials} <= {1, 3, 9} and all(t.config["steps"] == t.budget for t in trials)
        assert all(t.checkpoint_dir.is_dir() and t.checkpoint_dir.parent.parent == study.run_dir.absolute()
                   for t in trials)
        for t in trials:
            study.tell(t, lp.run(t.config))
        assert not study.done and study.ask() is not None  # promotions


SESSION = """
import hpsearch, os, sys
from hpsearch.problem.loader import load_problem
lp = load_problem(sys.argv[1])
study = hpsearch.Study(lp.problem, algo=sys.argv[3], seed=5, max_evals=16, max_resource=9, run_dir=sys.argv[2])
out = study.ask(3)
study.tell(out[0], lp.run(out[0].config))
print(*[t.trial_id for t in out[1:]], flush=True)
os.kill(os.getpid(), 9)  # killed with two trials out
"""


@pytest.mark.parametrize("algo", ["asha", "random"])
def test_a_killed_study_continues_with_the_trials_out_asked_again(algo, tmp_path):
    lp = load_problem(MIXED)
    options = {"max_resource": 9} if algo == "asha" else {}
    with hpsearch.Study(lp.problem, algo=algo, seed=5, max_evals=16, run_dir=tmp_path / "whole",
                        **options) as study:  # the same asks and tells, without the kill
        out = study.ask(3)
        for t in out:
            study.tell(t, lp.run(t.config))
        drive(study, lp.run)
    script = SESSION.replace(", max_resource=9", "" if algo == "random" else ", max_resource=9")
    p = subprocess.run([sys.executable, "-c", script, str(MIXED), str(tmp_path / "cut"), algo], env=hps_env(),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == -signal.SIGKILL, p.stderr
    out_ids = [int(x) for x in p.stdout.split()]
    with RunStore.open(tmp_path / "cut", readonly=True) as store:
        assert [t.trial_id for t in store.trials() if t.status == "running"] == out_ids

    with hpsearch.Study.load(tmp_path / "cut") as study:
        again = [study.ask(), study.ask()]
        assert [t.trial_id for t in again] == out_ids  # re-asked first, not lost
        for t in again:
            study.tell(t, lp.run(t.config))
        drive(study, lp.run)
    assert history(tmp_path / "cut") == history(tmp_path / "whole")


def test_closing_with_trials_out_then_loading_asks_them_again(tmp_path):
    lp = load_problem(MIXED)
    study = hpsearch.Study(lp.problem, seed=2, max_evals=6, run_dir=tmp_path / "s")
    first = study.ask(2)
    study.close()
    with RunStore.open(tmp_path / "s", readonly=True) as store:
        assert [t.status for t in store.trials()] == ["interrupted", "interrupted"]
        assert store.ended == "study closed with 2 evaluation(s) not told"
    with pytest.raises(StudyError, match=r"closed; continue it with hpsearch\.Study\.load"):
        study.ask()
    with hpsearch.Study.load(tmp_path / "s", max_evals=8) as study:
        again = study.ask(2)
        assert [(t.trial_id, t.config) for t in again] == [(t.trial_id, t.config) for t in first]
        for t in again:
            study.tell(t, lp.run(t.config))
        drive(study, lp.run)
        assert len(study.results()) == 8 and study.ended == "max-evals reached (8)"


def test_misuse_is_one_error_and_changes_nothing_stored(tmp_path):
    problem = hpsearch.HpProblem(objective="loss", direction="minimize")
    problem.add_dim("x", (0.0, 1.0), default=0.5)
    other = hpsearch.Study(problem, seed=1, max_evals=5, run_dir=tmp_path / "other")
    study = hpsearch.Study(problem, seed=1, max_evals=5, run_dir=tmp_path / "s")
    a, b = study.ask(2)
    study.tell(a, {"loss": 0.25, "acc": 0.9})
    before = history(tmp_path / "s"), (tmp_path / "s" / "results.csv").read_text()
    bad = [
        (lambda: study.tell(a, 0.1), r"tell: trial 0 was told already \(stored done\)"),
        (lambda: study.tell(7, 0.1), r"tell: unknown trial 7 \(this study never asked it\)"),
        (lambda: study.tell(b, "high"), r"tell: trial 1: expected a number or a dict with the key 'loss', "
                                        r"got str 'high'"),
        (lambda: study.tell(b, {"acc": 1.0}), r"expected a number or a dict with the key 'loss', got dict"),
        (lambda: study.tell(b, [0.1]), r"got list \[0\.1\]"),
        (lambda: study.tell(b), r"give its value .* or failed='reason', not neither"),
        (lambda: study.tell(b, 0.1, failed="x"), r"not both"),
        (lambda: study.tell("1", 0.1), r"expected a trial from ask\(\) or its trial_id, got str"),
        (lambda: study.tell(other.ask(), 0.1), r"tell: trial 0 was asked from another study"),
        (lambda: study.ask(0), r"ask: n must be an integer >= 1, got 0"),
    ]
    for call, message in bad:
        with pytest.raises(StudyError, match=message):
            call()
        assert (history(tmp_path / "s"), (tmp_path / "s" / "results.csv").read_text()) == before
    study.tell(b, float("nan"))  # as from run(): a failed evaluation, not an error
    study.tell(study.ask(), failed="out of memory")
    df = study.results()
    assert list(df["status"]) == ["done", "failed", "failed"]
    assert list(df["error"])[1:] == ["objective is nan (not a finite number)", "out of memory"]
    assert df["m:acc"].iloc[0] == 0.9 and study.best.trial_id == 0
    other.close()
    study.close()


def test_a_pruner_stops_a_reporting_trial_and_it_is_stored_stopped(tmp_path):
    problem = hpsearch.HpProblem(objective="loss", direction="minimize")
    problem.add_dim("x", (0.0, 1.0), default=0.0)
    problem.add_dim("epochs", (1, 9), default=9, resource=True)
    study = hpsearch.Study(problem, algo="random", seed=0, max_evals=8, pruner="median", pruner_min_trials=2,
                           fix={"epochs": 9}, run_dir=tmp_path / "s")
    stopped_at = {}
    while not study.done:
        t = study.ask()
        loss = None
        for step in range(1, 10):
            loss = t.config["x"] + 1.0 / step
            if t.report(step, loss=loss):
                stopped_at[t.trial_id] = step
                break
        study.tell(t, loss)
    df = study.results()
    assert stopped_at, "the median pruner stopped none"
    assert set(df.loc[df["status"] == "stopped", "trial_id"]) == set(stopped_at)
    with RunStore.open(tmp_path / "s", readonly=True) as store:
        tid = next(iter(stopped_at))
        assert [r["step"] for r in store.reports(tid)] == list(range(1, stopped_at[tid] + 1))
    study.close()


def test_stop_when_ends_the_study_and_stores_the_trials_out_as_stopped(tmp_path):
    problem = hpsearch.HpProblem(objective="score")
    problem.add_dim("x", (0.0, 1.0), default=0.5)
    with hpsearch.Study(problem, seed=0, stop_when="score>=0.4", run_dir=tmp_path / "s") as study:
        a, b = study.ask(2)
        study.tell(a, 0.5)
        assert study.done and study.ask() is None
        assert study.ended == "stop condition met: score 0.5 >= 0.4 at trial 0"
        with pytest.raises(StudyError, match=r"tell: trial 1 was told already \(stored stopped: stopped: the "
                                             r"run met its condition"):
            study.tell(b, 0.1)


def test_enqueued_configurations_come_first_and_a_continued_study_replays_them(tmp_path):
    problem = hpsearch.HpProblem(objective="loss", direction="minimize")
    problem.add_dim("x", (0.0, 1.0), default=0.5)
    problem.add_dim("act", ["relu", "tanh"], default="relu")
    study = hpsearch.Study(problem, seed=4, max_evals=6, run_dir=tmp_path / "s")
    assert study.enqueue({"x": 0.125}) == {"x": 0.125, "act": "relu"}
    study.enqueue({"act": "tanh"})
    with pytest.raises(hpsearch.SpaceError, match=r"enqueue: no dimension 'y' \(dimensions: x, act\)"):
        study.enqueue({"y": 1})
    first = study.ask(3)
    assert [t.config for t in first] == [{"x": 0.125, "act": "relu"}, {"x": 0.5, "act": "tanh"},
                                         {"x": 0.5, "act": "relu"}]  # then the default
    study.enqueue({"x": 1.0})
    for t in first:
        study.tell(t, t.config["x"])
    study.close()
    with hpsearch.Study.load(tmp_path / "s") as study:  # replays both enqueues at their place
        assert study.ask().config == {"x": 1.0, "act": "relu"}


def test_study_options_are_checked_as_the_cli_checks_them(tmp_path, runner):
    problem = hpsearch.HpProblem()
    problem.add_dim("x", (0.0, 1.0), default=0.5)
    cli_error = runner.invoke(cli, ["run", "--problem", str(MIXED), "--algo", "random", "--eta", "3"]).output
    with pytest.raises(OptionError) as err:
        hpsearch.Study(problem, algo="random", eta=3, run_dir=tmp_path / "s")
    assert f"Error: {err.value}" in cli_error
    with pytest.raises(StudyError, match="Study: workers does not apply to an ask/tell study"):
        hpsearch.Study(problem, workers=2, run_dir=tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_a_study_run_is_an_ordinary_run_directory(tmp_path, in_tmp):
    problem = hpsearch.HpProblem(direction="minimize")
    problem.add_dim("x", (-1.0, 1.0), default=0.0)
    with hpsearch.Study(problem, seed=0, max_evals=5, run_dir="s") as study:
        drive(study, lambda c: c["x"] ** 2)
    p = run_hps("results", "s", "--format", "csv", cwd=in_tmp)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 6, p.stderr
    assert run_hps("plot", "s", cwd=in_tmp).returncode == 0
    p = run_hps("resume", "s", "--max-evals", "9", cwd=in_tmp)
    assert p.returncode == 2 and p.stderr.strip().splitlines() == [
        "Error: s: this run was made from Python; continue it with hpsearch.Study.load('s') or "
        "hpsearch.optimize(..., run_dir='s')"]
    assert load_run("s").settings["evaluator"] == "study"


def test_importing_hpsearch_stays_light():
    code = textwrap.dedent("""
        import sys, hpsearch
        heavy = [m for m in ("pandas", "hpsearch.run.engine", "hpsearch.run.study", "hpsearch.search",
                             "hpsearch.store", "hpsearch.evaluators") if m in sys.modules]
        assert not heavy, heavy
        assert hpsearch.Study.__module__ == "hpsearch.run.study" and callable(hpsearch.optimize)
        assert callable(hpsearch.load_run) and callable(hpsearch.load_comparison)
    """)
    p = subprocess.run([sys.executable, "-c", code], env=hps_env(), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_loading_a_study_this_process_still_holds_says_so(tmp_path):
    from hpsearch.errors import UsageError

    lp = load_problem(MIXED)
    with hpsearch.Study(lp.problem, seed=2, max_evals=4, run_dir=tmp_path / "s") as study:
        trial = study.ask()
        study.tell(trial, lp.run(trial.config))
        with pytest.raises(UsageError, match=r"s: already open in this process \(a Study, run or store "
                                                 r"not closed yet\); close it first$"):
            hpsearch.Study.load(tmp_path / "s")
    with hpsearch.Study.load(tmp_path / "s") as again:  # closed: free again
        assert len(again.results()) == 1
