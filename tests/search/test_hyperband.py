"""Hyperband: promotion, parallel asks, option errors, and the real engine:
exact resource totals with and without warm start, checkpoints across rungs, results, kill -9 + resume."""
import csv
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from hpsearch import HpProblem
from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.run.engine import Engine, Limits
from hpsearch.run.runner import RunConfig, RunError, start_run
from hpsearch.search import DONE, WAIT, OptionError, Told, make_scheduler
from hpsearch.search.brackets import plan, total_evaluations, total_resource
from hpsearch.store import RunStore

from ..conftest import run_hps
from .contract_scheduler import ParallelFake

PROBLEM = """
from hpsearch import HpProblem
Problem = HpProblem(objective="loss", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 81), default=9, resource=True)
"""


def space(resource=("epochs", (1, 81))):
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    if resource:
        p.add_dim(resource[0], resource[1], default=resource[1][0], resource=True)
    return p


def loss(config):
    return (config["x"] - 0.3) ** 2 + 1.0 / config.get("epochs", config.get("fraction"))


def drive(backend, n=1, fail=lambda s: False):
    """Ask n at a time and tell each batch at once, until DONE; return the suggestions in order."""
    out = []
    while (got := backend.ask(n)) is not DONE:
        assert got is not WAIT, "WAIT with nothing in flight"
        for s in got:
            failed = fail(s)
            backend.tell(Told(trial_id=len(out), suggestion=s, status="failed" if failed else "done",
                              loss=None if failed else loss(s.config)))
            out.append(s)
    return out


@pytest.mark.parametrize("R,n", [(81, 1), (20, 1), (27, 4)])
def test_backend_follows_the_plan(R, n):
    b = make_scheduler("hyperband", space(), 3, {"max_resource": R})
    got = drive(b, n)
    assert len(got) == b.max_evaluations() == sum(r.n for br in plan(R) for r in br.rungs)
    counts = Counter((s.bracket, s.rung, s.budget) for s in got)
    assert counts == Counter({(br.s, i, r.r): r.n for br in plan(R) for i, r in enumerate(br.rungs)})
    assert all(s.config["epochs"] == s.budget and type(s.budget) is int for s in got)
    assert got[0].config == {"x": 0.5, "epochs": got[0].budget}  # the defaults first


def test_promotion_keeps_the_best_and_their_ids():
    b = make_scheduler("hyperband", space(), 0, {"max_resource": 27})
    got = drive(b)
    by_rung = {}
    for s in got:
        by_rung.setdefault((s.bracket, s.rung), []).append(s)
    for (s_, i), group in by_rung.items():
        if i == 0:
            assert all(s.previous_budget == 0 for s in group)
            continue
        below = sorted(by_rung[(s_, i - 1)], key=lambda s: loss(s.config))
        assert [s.config_id for s in group] == [s.config_id for s in below[:len(group)]]
        assert all(s.previous_budget == below[0].budget for s in group)
        assert {s.config["x"] for s in group} <= {s.config["x"] for s in below}


def test_failed_evaluations_are_never_promoted():
    b = make_scheduler("hyperband", space(), 0, {"max_resource": 9})
    failing = set()

    def fail(s):
        if s.rung == 0 and s.config_id % 2 == 0:
            failing.add(s.config_id)
            return True
        return False

    got = drive(b, fail=fail)
    assert not any(s.rung > 0 and s.config_id in failing for s in got)
    # s=2 rung 0: 9 configs, 5 fail (ids 0,2,4,6,8), 3 of the other 4 go on
    assert [s.config_id for s in got if s.bracket == 2 and s.rung == 1] and \
        len([s for s in got if s.bracket == 2 and s.rung == 1]) == 3


def test_all_failed_ends_the_bracket_early():
    b = make_scheduler("hyperband", space(), 0, {"max_resource": 9})
    got = drive(b, fail=lambda s: True)
    assert {s.rung for s in got} == {0}
    assert len(got) == 9 + 5 + 3


def test_parallel_asks_hand_out_a_rung_together_and_wait_only_when_nothing_can_start():
    # R=9: s=2: 9x1, 3x3, 1x9; s=1: 5x3, 1x9; s=0: 3x9
    b = make_scheduler("hyperband", space(), 0, {"max_resource": 9})
    first = b.ask(4)
    assert [(s.bracket, s.rung) for s in first] == [(2, 0)] * 4
    second = b.ask(4)
    third = b.ask(4)  # the last of s=2's rung 0, then s=1's first rung starts rather than idle
    assert [(s.bracket, s.rung) for s in third] == [(2, 0)] + [(1, 0)] * 3
    rest = b.ask(10)
    assert [(s.bracket, s.rung) for s in rest] == [(1, 0)] * 2 + [(0, 0)] * 3
    assert b.ask(4) is WAIT and b.ask(1) is WAIT  # everything open is out; asking changes nothing
    s2 = first + second + third[:1]
    for k, s in enumerate(s2):
        b.tell(Told(trial_id=k, suggestion=s, status="done", loss=loss(s.config)))
    promoted = b.ask(4)
    assert [(s.bracket, s.rung, s.budget, s.previous_budget) for s in promoted] == [(2, 1, 3, 1)] * 3
    best = sorted(s2, key=lambda s: loss(s.config))[:3]
    assert [s.config_id for s in promoted] == [s.config_id for s in best]
    assert b.ask(4) is WAIT


def test_parallel_is_deterministic_given_the_asks_and_tells():
    runs = []
    for _ in range(2):
        b = make_scheduler("hyperband", space(), 5, {"max_resource": 27})
        runs.append([(s.config_id, s.config, s.budget) for s in drive(b, n=4)])
    assert runs[0] == runs[1]


def test_brackets_draw_from_their_own_streams_and_iterations_repeat_the_plan():
    one = drive(make_scheduler("hyperband", space(), 1, {"max_resource": 9}))
    two = drive(make_scheduler("hyperband", space(), 1, {"max_resource": 9, "iterations": 2}))
    assert len(two) == 2 * len(one) == 44
    assert [s.config for s in two[:22]] == [s.config for s in one]
    assert {s.config["x"] for s in two[22:]}.isdisjoint({s.config["x"] for s in one})
    other = drive(make_scheduler("hyperband", space(), 2, {"max_resource": 9}))
    s1 = [s.config for s in one if s.bracket == 1]
    assert s1 != [s.config for s in other if s.bracket == 1]


def test_then_full_runs_the_first_pass_then_only_the_full_budget_bracket():
    b = make_scheduler("hyperband", space(), 3, {"max_resource": 27, "iterations": 3, "brackets": "then-full"})
    full_asks = []
    suggest = b.searcher.suggest
    b.searcher.suggest = lambda n, stream=None, full_budget=False: (
        full_asks.append((stream[1], full_budget)) or suggest(n, stream, full_budget))
    got = drive(b)
    brackets = plan(27)
    first = sum(r.n for br in brackets for r in br.rungs)
    assert Counter((s.bracket, s.rung, s.budget) for s in got[:first]) == Counter(
        {(br.s, i, r.r): r.n for br in brackets for i, r in enumerate(br.rungs)})
    assert {(s.bracket, s.budget) for s in got[first:]} == {(0, 27)}
    assert len(got) - first == 2 * len(brackets) * brackets[-1].rungs[0].n  # passes 2 and 3
    assert b.max_evaluations() is None
    assert all(full == (s == 0) for s, full in full_asks) and (0, True) in full_asks


def test_adaptive_brackets_stop_drawing_budgets_that_rank_configurations_backwards():
    b = make_scheduler("hyperband", space(), 4, {"max_resource": 9, "iterations": 40, "brackets": "adaptive"})
    got = []
    while (asked := b.ask(1)) is not DONE:
        s = asked[0]
        x = (s.config["x"] - 0.3) ** 2
        b.tell(Told(trial_id=len(got), suggestion=s, status="done", loss=x if s.budget == 9 else -x))
        got.append(s)
    first = total_evaluations(plan(9))
    assert {s.bracket for s in got[:first]} == {0, 1, 2}  # the first pass runs every bracket...
    assert {s.bracket for s in got[-20:]} == {0}  # ...then budgets 1 and 3 reverse the full budget's ranking


def test_float_resource():
    b = make_scheduler("hyperband", space(("fraction", (0.0, 1.0))), 0, {"min_resource": 0.1})
    got = drive(b)
    assert sorted({s.budget for s in got}) == [1 / 9, 1 / 3, 1.0]
    assert all(type(s.budget) is float and type(s.previous_budget) is float for s in got)
    with pytest.raises(OptionError, match=r"^--min-resource must be > 0, got 0 \(the lower bound"):
        make_scheduler("hyperband", space(("fraction", (0.0, 1.0))), 0, {})


@pytest.mark.parametrize("options,message", [
    ({"eta": 2.5}, "--eta must be an integer >= 2, got 2.5"),
    ({"iterations": 0}, "--iterations must be an integer >= 1, got 0"),
    ({"min_resource": 81}, "--min-resource must be < --max-resource (81), got 81"),
    ({"max_resource": 100}, "--max-resource must be within the resource 'epochs''s range [1, 81], got 100"),
    ({"max_resource": 20.5}, "--max-resource must be an integer (the resource 'epochs' is an integer), got 20.5"),
    ({"kappa": 1.0}, "--kappa: does not apply to --algo hyperband"),
])
def test_bad_options_name_the_flag_and_value(options, message):
    with pytest.raises(OptionError) as err:
        make_scheduler("hyperband", space(), 0, options)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_needs_an_unfixed_resource():
    with pytest.raises(OptionError, match="declares no resource dimension; declare one in problem.py"):
        make_scheduler("hyperband", space(resource=None), 0, {})
    with pytest.raises(OptionError, match="--fix epochs: --algo hyperband sets the resource itself"):
        make_scheduler("hyperband", space().fix({"epochs": 3}), 0, {})


# -- through the engine ---------------------------------------------------------------
WARM = """
import os
def run(config, trial):
    state = trial.checkpoint_dir / "epochs"
    done = int(state.read_text()) if state.exists() else 0
    if done != trial.previous_budget:  # a promoted trial must see what it wrote at the previous rung
        raise RuntimeError(f"checkpoint holds {done}, previous_budget is {trial.previous_budget}")
    with open(os.environ["HPS_COUNTER"], "a") as f:
        f.write(f"{trial.budget - trial.previous_budget}\\n")
    state.write_text(str(trial.budget))
    return (config["x"] - 0.3) ** 2 + 1.0 / trial.budget
"""

COLD = """
import os
def run(config):
    with open(os.environ["HPS_COUNTER"], "a") as f:
        f.write(f"{config['epochs']}\\n")
    return (config["x"] - 0.3) ** 2 + 1.0 / config["epochs"]
"""


def trained(path):
    return sum(int(line) for line in path.read_text().split())


@pytest.mark.parametrize("model_run,R,total", [(WARM, 81, 1581), (COLD, 81, 1902), (WARM, 20, 154)],
                         ids=["warm-R81", "cold-R81", "warm-R20"])
def test_one_pass_trains_exactly_the_papers_resource(tmp_path, make_problem, monkeypatch, model_run, R, total):
    counter = tmp_path / "counter.txt"
    monkeypatch.setenv("HPS_COUNTER", str(counter))
    folder = make_problem("counting", problem=PROBLEM, model_run=model_run)
    out = start_run(RunConfig(problem=str(folder), algo="hyperband", algo_options={"max_resource": R},
                              seed=4, evaluator="serial", run_dir=str(tmp_path / "run")))
    out.store.close()
    assert out.summary.n_failed == 0 and out.summary.n_done == sum(r.n for b in plan(R) for r in b.rungs)
    assert trained(counter) == total
    with open(tmp_path / "run" / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    got = Counter((int(r["bracket"]), int(r["rung"]), int(r["budget"])) for r in rows)
    assert got == Counter({(b.s, i, r.r): r.n for b in plan(R) for i, r in enumerate(b.rungs)})
    first_rung = {(r["bracket"], r["config_id"]) for r in rows if r["rung"] == "0"}
    assert all((r["bracket"], r["config_id"]) in first_rung for r in rows)
    assert all(r["p:epochs"] == r["budget"] for r in rows)


def test_runner_refuses_a_fixed_resource_or_none(tmp_path, make_problem, runner):
    folder = make_problem("counting", problem=PROBLEM, model_run=COLD)
    with pytest.raises(RunError, match="--fix epochs: --algo hyperband sets the resource itself"):
        start_run(RunConfig(problem=str(folder), algo="hyperband", fix={"epochs": "3"}, seed=0,
                            run_dir=str(tmp_path / "r")))
    res = runner.invoke(cli, ["run", "--problem", "hartmann6", "--algo", "hyperband",
                              "--run-dir", str(tmp_path / "r3")])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "declares no resource dimension; declare one in problem.py, e.g. Problem.add_dim(" in res.output
    res = runner.invoke(cli, ["run", "--problem", str(folder), "--algo", "hyperband", "--fix", "epochs=3",
                              "--run-dir", str(tmp_path / "r4")])
    assert res.exit_code == 2 and "--fix epochs: --algo hyperband sets the resource itself" in res.output


RESUMABLE = """
import os, signal
def run(config, trial):
    marker = os.path.join(os.path.dirname(__file__), "kill-at")
    if os.path.exists(marker) and int(open(marker).read()) == trial.id:
        os.remove(marker)
        os.kill(os.getpid(), signal.SIGKILL)  # the serial evaluator runs in the driver: kill -9 hps
    state = trial.checkpoint_dir / "epochs"
    done = int(state.read_text()) if state.exists() else 0
    assert done == trial.previous_budget, (done, trial.previous_budget)
    state.write_text(str(trial.budget))
    return {"loss": (config["x"] - 0.3) ** 2 + 1.0 / trial.budget, "trained": trial.budget - done}
"""


def results_table(path):
    with open(path, newline="") as f:
        return [(r["trial_id"], r["config_id"], r["bracket"], r["rung"], r["budget"], r["p:x"], r["p:epochs"],
                 r["objective"], r["m:trained"], r["status"]) for r in csv.DictReader(f)]


def test_kill_9_between_rungs_then_resume_equals_uninterrupted(tmp_path, make_problem, runner):
    folder = make_problem("resumable", problem=PROBLEM, model_run=RESUMABLE)
    # --max-resource/--eta/--iterations pass through the CLI: R=9 -> 22 evaluations a pass
    args = ["run", "--problem", folder, "--algo", "hyperband", "--max-resource", "9", "--eta", "3",
            "--iterations", "2", "--seed", "3", "--evaluator", "serial"]
    full = run_hps(*args, "--run-dir", "full", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    expected = results_table(tmp_path / "full" / "results.csv")
    assert len(expected) == 44
    assert [r[3] for r in expected[8:11]] == ["0", "1", "1"]  # trial 10 is in s=2's second rung

    (folder / "kill-at").write_text("10")
    crashed = run_hps(*args, "--run-dir", "crash", cwd=tmp_path)
    assert crashed.returncode == -9
    partial = results_table(tmp_path / "crash" / "results.csv")
    assert partial == expected[:10]

    resumed = run_hps("resume", "crash", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert re.search(r"\(10 from before the resume\)", resumed.stdout)
    assert results_table(tmp_path / "crash" / "results.csv") == expected

    # hps results: each configuration once, at its highest rung; --all shows every evaluation
    res = runner.invoke(cli, ["results", str(tmp_path / "crash"), "--top", "0", "--format", "csv"])
    rows = list(csv.DictReader(res.output.splitlines()))
    assert res.exit_code == 0 and len(rows) == 2 * 17
    assert len({r["config_id"] for r in rows}) == 34
    top = {r[1]: max(int(e[3]) for e in expected if e[1] == r[1]) for r in expected}
    assert all(int(r["rung"]) == top[r["config_id"]] for r in rows)
    assert rows[0]["budget"] == "9"  # largest budget first
    res = runner.invoke(cli, ["results", str(tmp_path / "crash"), "--top", "0", "--format", "csv", "--all"])
    assert res.exit_code == 0 and len(res.output.splitlines()) == 1 + 44


def test_hartmann6lc_benchmark_runs_under_hyperband(tmp_path):
    lp = load_problem("hartmann6lc")
    assert lp.description.startswith("Hartmann 6-D as a learning curve")
    out = start_run(RunConfig(problem="hartmann6lc", algo="hyperband", algo_options={"max_resource": 27},
                              seed=0, evaluator="serial", run_dir=str(tmp_path / "h")))
    out.store.close()
    assert out.summary.n_done == 69 and out.summary.best.budget == 27
    assert out.summary.best.objective >= lp.problem.optimum
    # low budgets are a biased, noisy view; the top budget is the exact function
    mr = lp.run.__globals__
    x = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    assert mr["curve"](x, 81) == pytest.approx(-3.32237, abs=1e-4)
    assert mr["curve"](x, 1) != mr["curve"](x, 81)
    # the noise is seeded by the configuration and budget, not by Python's per-process string hashing
    script = (f"import sys; sys.path.insert(0, {str(lp.folder)!r}); import model_run; "
              f"print(repr(model_run.curve({x!r}, 3)))")
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other.returncode == 0, other.stderr
    assert float(other.stdout) == mr["curve"](x, 3)


def test_parallel_workers_overlap_brackets_and_a_parallel_history_resumes(tmp_path, make_problem,
                                                                           monkeypatch):
    monkeypatch.setenv("HPS_COUNTER", str(tmp_path / "counter.txt"))
    folder = make_problem("par", problem=PROBLEM, model_run=WARM)
    lp = load_problem(folder)
    R, seed = 27, 8

    def engine(store, evaluator):
        backend = make_scheduler("hyperband", lp.problem, seed, {"max_resource": R})
        return Engine(lp.problem, backend, evaluator, store, Limits(), seed=seed)

    store = RunStore.create(tmp_path / "run", {"multi_fidelity": True}, lp.problem.names)
    first = ParallelFake(lp, 4, stop_after=30)
    summary = engine(store, first).run()
    assert summary.stopped_by == "signal" and summary.n_interrupted > 0
    assert any(len(brackets) > 1 for brackets in first.overlaps)  # next bracket started while waiting
    store.close()

    store = RunStore.open(tmp_path / "run")
    summary = engine(store, ParallelFake(lp, 4)).run()
    assert summary.n_replayed == 30 and summary.n_failed == 0  # checkpoints hold what previous rungs wrote
    rows = [t for t in store.trials() if t.status == "done"]
    store.close()
    assert len(rows) == sum(r.n for b in plan(R) for r in b.rungs) == 69
    got = Counter((t.bracket, t.rung, t.budget) for t in rows)
    assert got == Counter({(b.s, i, r.r): r.n for b in plan(R) for i, r in enumerate(b.rungs)})
    assert trained(tmp_path / "counter.txt") == total_resource(plan(R))  # warm start across both sessions


WIDE = """
from hpsearch import HpProblem
Problem = HpProblem(objective="loss", direction="minimize")
for i in range(9):
    Problem.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 9), default=1, resource=True)
"""


def test_bohb_says_when_one_pass_never_gives_its_model_enough_results(tmp_path, make_problem, runner):
    folder = make_problem("wide", problem=WIDE, model_run="def run(config):\n    return config['x0']\n")
    res = runner.invoke(cli, ["run", "--problem", str(folder), "--algo", "bohb", "--fidelities", "largest", "--seed",
                              "0", "--evaluator", "serial", "--run-dir", str(tmp_path / "one")])
    assert res.exit_code == 0, res.output
    assert ("note: the bayesian searcher's model needs 11 results at one budget and one Hyperband pass gives "
            "at most 9 (at budget 1), so the model never chooses: configurations are random draws, as under "
            "--algo hyperband; --iterations 2 or more lets the model choose") in res.output
    for args in (["--algo", "bohb", "--fidelities", "largest", "--iterations", "2"], ["--algo", "hyperband"],
                 ["--algo", "bohb"]):  # bohb's default --fidelities all: every budget's results count
        res = runner.invoke(cli, ["run", "--problem", str(folder), *args, "--seed", "0", "--evaluator", "serial",
                                  "--run-dir", str(tmp_path / args[-1])])
        assert res.exit_code == 0 and "note:" not in res.output, res.output


# -- the scheduler's own rules, on hand-made tells ------------------------------------------------
def wide(d):
    """d free dimensions and a resource: the bayesian searcher's model needs d + 2 results at one budget."""
    p = HpProblem(objective="loss", direction="minimize")
    for i in range(d):
        p.add_dim(f"x{i}", (0.0, 1.0), default=0.5)
    p.add_dim("epochs", (1, 81), default=1, resource=True)
    return p


def note(d, **options):
    return make_scheduler("hyperband", wide(d), 0, options, searcher="bayesian").schedule_note()


def test_the_schedule_note_names_the_passes_needed_for_the_model_to_choose():
    head = "note: the bayesian searcher's model needs 11 results at one budget and "
    tail = ", so the model never chooses: configurations are random draws, as under --algo hyperband"
    # R = 3, eta = 3: one pass runs 3 configurations at budget 1 and 3 (1 + 2) at budget 3
    assert note(9, max_resource=3, iterations=2) == (
        head + "2 Hyperband passes give at most 6 (at budget 3)" + tail + "; --iterations 4 or more lets the "
        "model choose")
    # then-full: each later pass runs the full-budget bracket alone, 2 x 2 more at budget 3: 3 passes give 11
    assert note(9, max_resource=3, iterations=2, brackets="then-full") == (
        head + "2 Hyperband passes give at most 7 (at budget 3)" + tail + "; --iterations 3 or more lets the "
        "model choose")
    assert note(8, max_resource=3) == (
        "note: the bayesian searcher's model needs 10 results at one budget and one Hyperband pass gives at "
        "most 3 (at budget 3)" + tail + "; --iterations 4 or more lets the model choose")


def test_no_schedule_note_when_the_passes_give_exactly_enough_or_the_brackets_are_drawn():
    assert note(9, max_resource=3, iterations=3, brackets="then-full") is None  # 11 results: the 11 needed
    assert note(9, max_resource=3, iterations=1, brackets="adaptive") is None  # drawn: no plan to count
    assert make_scheduler("hyperband", wide(9), 0, {"max_resource": 3}).schedule_note() is None  # random


def test_the_schedule_note_offers_no_iterations_when_fewer_than_100_passes_are_not_enough():
    # R = 2: one result at budget 2 per pass; 100 needed would take 100 passes
    assert note(98, max_resource=2) == (
        "note: the bayesian searcher's model needs 100 results at one budget and one Hyperband pass gives at "
        "most 1 (at budget 2), so the model never chooses: configurations are random draws, as under "
        "--algo hyperband")


@pytest.mark.parametrize("iterations, line", [
    (1, "the search is complete: hyperband's --iterations (1) pass is done"),
    (2, "the search is complete: hyperband's --iterations (2) passes are done"),
])
def test_the_done_reason_counts_the_passes(iterations, line):
    assert make_scheduler("hyperband", space(), 0, {"max_resource": 9, "iterations": iterations}).done_reason() \
        == line


def test_a_tell_of_a_trial_it_did_not_ask_for_is_refused():
    b = make_scheduler("hyperband", space(), 0, {"max_resource": 9})
    s = b.ask(1)[0]
    stranger = Told(trial_id=7, suggestion=type(s)(config=s.config, config_id=99, budget=1, info={"k": 5}),
                    status="done", loss=0.1)
    with pytest.raises(ValueError, match=r"^hyperband was told about trial 7, which it has not asked for$"):
        b.tell(stranger)
    wrong_rung = Told(trial_id=8, suggestion=type(s)(config=s.config, config_id=s.config_id, budget=3, rung=1,
                                                       info=dict(s.info)), status="done", loss=0.1)
    with pytest.raises(ValueError, match=r"^hyperband was told about trial 8, which it has not asked for$"):
        b.tell(wrong_rung)


def first_rung(b, losses, statuses=None):
    """Ask the first bracket's rung 0 and tell each its loss (and status); return the suggestions."""
    got = b.ask(len(losses))
    for i, (s, value) in enumerate(zip(got, losses)):
        b.tell(Told(trial_id=i, suggestion=s, status=(statuses or {}).get(i, "done"), loss=value))
    return got


def test_a_stopped_evaluation_is_never_promoted_whatever_its_last_loss():
    b = make_scheduler("hyperband", space(), 0, {"max_resource": 3})  # bracket s=1: 3 at budget 1, 1 at 3
    got = first_rung(b, [0.5, 0.1, 0.9], statuses={1: "stopped"})
    assert [s.config_id for s in b.ask(1)] == [got[0].config_id]


def test_a_tie_at_a_rung_goes_to_the_configuration_that_ranked_better_below():
    b = make_scheduler("hyperband", space(), 0, {"max_resource": 9})  # bracket s=2: 9 at 1, 3 at 3, 1 at 9
    got = first_rung(b, [0.9, 0.8, 0.2, 0.7, 0.6, 0.1, 0.5, 0.3, 0.4])
    second = b.ask(3)
    assert [s.config_id for s in second] == [got[i].config_id for i in (5, 2, 7)]  # best first
    for i, s in enumerate(second):
        b.tell(Told(trial_id=20 + i, suggestion=s, status="done", loss=0.5))  # all tied at budget 3
    assert [s.config_id for s in b.ask(1)] == [got[5].config_id]  # the best at budget 1, not the lowest id


def test_rank_agreement_of_a_budget_that_cannot_rank_is_zero():
    from hpsearch.search.schedulers.hyperband import rank_agreement

    assert rank_agreement([(1, 10), (2, 20), (3, 30)]) == 1.0
    assert rank_agreement([(1, 3), (2, 2), (3, 1)]) == -1.0
    assert rank_agreement([(1, 5), (2, 5), (3, 5)]) == 0.0  # constant: no ranking (tau is nan)


def test_each_suggestion_names_its_pass_and_its_brackets_place_in_the_run():
    b = make_scheduler("hyperband", space(), 0, {"max_resource": 9, "iterations": 2})  # 3 brackets a pass
    got = drive(b)
    assert got[0].info == {"iteration": 0, "k": 0} and got[-1].info == {"iteration": 1, "k": 5}
    assert {s.info["iteration"] for s in got if s.info["k"] >= 3} == {1}


def adaptive_draws(seed):
    b = make_scheduler("hyperband", space(), seed, {"max_resource": 9, "iterations": 6, "brackets": "adaptive"})
    return [(s.info["k"], s.bracket) for s in drive(b) if s.rung == 0 and s.info["iteration"] >= 1]


def test_adaptive_draws_are_the_seeds_own():
    # drawn brackets come from the run's seed: a replay draws the same, another seed draws others
    assert adaptive_draws(4) == adaptive_draws(4)
    assert adaptive_draws(4) != adaptive_draws(5)


@pytest.mark.parametrize("iterations, mode, at_once", [
    (1, "fixed", 17), (2, "fixed", 34),  # every first rung of every pass: 9 + 5 + 3 a pass
    (2, "then-full", 44), (2, "adaptive", 44),  # the first pass, then any bracket each time: 3 x the widest
])
def test_at_most_every_configuration_it_may_open_is_in_flight(iterations, mode, at_once):
    b = make_scheduler("hyperband", space(), 0, {"max_resource": 9, "iterations": iterations, "brackets": mode})
    assert b.max_in_flight() == at_once


def test_a_comparison_budget_sets_more_passes_than_it_can_pay_for():
    # hps compare ends a Hyperband run by its resource budget: one more pass than budget / R (rounded up)
    hyperband_class = type(make_scheduler("hyperband", space(), 0, {"max_resource": 9}))
    assert hyperband_class.budget_options(space(), {"max_resource": 9}, 100) == {"iterations": 13}
    assert hyperband_class.budget_options(space(), {"max_resource": 27}, 81) == {"iterations": 4}
    assert hyperband_class.budget_options(space(), {}, 100) == {"iterations": 3}  # R: the bound, 81


def test_then_full_counts_its_later_passes_at_the_full_budget_bracket():
    # R = 9: one pass gives 9 results at budget 1, 8 at 3, 5 at 9; each later then-full pass runs the
    # full-budget bracket (3 at budget 9) in place of each of the 3 brackets: 5 + 9 = 14 at budget 9
    assert note(13, max_resource=9, iterations=2, brackets="then-full") == (
        "note: the bayesian searcher's model needs 15 results at one budget and 2 Hyperband passes give at "
        "most 14 (at budget 9), so the model never chooses: configurations are random draws, as under "
        "--algo hyperband; --iterations 3 or more lets the model choose")
    assert note(13, max_resource=9, iterations=2) is None  # fixed: 18 at budget 1


def test_adaptive_draws_the_first_bracket_of_the_second_pass_too():
    first = set()
    for seed in range(10):
        b = make_scheduler("hyperband", space(), seed, {"max_resource": 9, "iterations": 2, "brackets": "adaptive"})
        first.add(next(s.bracket for s in drive(b) if s.info["k"] == 3))
    assert len(first) > 1  # not always the first pass's first bracket


def test_hyperband_without_a_resource_is_refused_naming_itself():
    p = space(resource=None)
    searcher = type(make_scheduler("hyperband", space(), 0, {}).searcher)(p, 0)
    with pytest.raises(OptionError, match=r"^--algo hyperband: the problem declares no resource dimension"):
        type(make_scheduler("hyperband", space(), 0, {}))(p, 0, searcher)
