"""Warm start from earlier runs (``hps run --warm-from``, ``RunConfig.warm_from``).

The finished evaluations of earlier runs are the searcher's observations before the first ask:
model searchers use them (their first asks change), random search ignores them, they are never
counted as the new run's evaluations, an incompatible space is refused with one line before
anything is written, and a resume starts from the same stored observations.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.run.runner import RunConfig, RunError, resume_run, start_run
from hpsearch.run.warm_from import observations
from hpsearch.store import RunHistory, RunStore


def one_line_error(out, *fragments):
    assert out.exit_code == 2, out.output
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.output
    for f in fragments:
        assert f in lines[0], lines[0]
    assert "Traceback" not in out.output


def run(run_dir: Path, said: list | None = None, **settings):
    """A finished run (serial evaluator): its stored trials by trial_id and its summary."""
    settings.setdefault("evaluator", "serial")
    out = start_run(RunConfig(run_dir=str(run_dir), **settings),
                    announce=None if said is None else said.append)
    try:
        return out.store.trials(), out.summary
    finally:
        out.store.close()


def params(trials) -> list[dict]:
    return [t.params for t in trials]


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """A random-search run of hartmann6 (20 evaluations), the run the others start from."""
    d = tmp_path_factory.mktemp("earlier") / "random"
    run(d, problem="hartmann6", algo="random", seed=0, max_evals=20)
    return d


@pytest.fixture(scope="module")
def earlier_mf(tmp_path_factory) -> Path:
    """One Hyperband pass on mfhartmann6 up to 9 epochs (budgets 1, 3, 9), random searcher."""
    d = tmp_path_factory.mktemp("earlier") / "hyperband"
    run(d, problem="mfhartmann6", algo="hyperband", seed=0, algo_options={"max_resource": 9})
    return d


# -- the model searchers use it; random search does not --------------------------------------
@pytest.mark.parametrize("searcher", ["bayesian", "kde"])
def test_a_model_searchers_first_asks_change_with_a_warm_start(tmp_path, earlier, searcher):
    # no incumbents evaluated again: the model's own choices (the next test has them)
    common = dict(problem="hartmann6", algo="bayesian", searcher=searcher, seed=5, max_evals=3,
                  algo_options={"warm_incumbents": 0})
    cold, _ = run(tmp_path / "cold", **common)
    warm, _ = run(tmp_path / "warm", **common, warm_from=[str(earlier)])
    defaults = load_problem("hartmann6").problem.defaults
    assert cold[0].params == defaults  # a cold run starts with the problem's default configuration
    # the earlier run evaluated the defaults already: the model proposes from the first ask on
    assert all(a != b for a, b in zip(params(cold), params(warm))), (params(cold), params(warm))
    assert defaults not in params(warm)


@pytest.mark.parametrize("searcher", ["bayesian", "kde"])
def test_a_warm_start_evaluates_the_earlier_best_first_then_the_models_choices(tmp_path, earlier, searcher):
    with RunStore.open(earlier, readonly=True) as store:
        ranked = sorted(store.trials(), key=lambda t: (t.objective, t.trial_id))
    said: list[str] = []
    warm, summary = run(tmp_path / "warm", said, problem="hartmann6", algo="bayesian", searcher=searcher,
                        seed=5, max_evals=6, warm_from=[str(earlier)])
    assert params(warm)[:3] == [t.params for t in ranked[:3]]
    # evaluated again in this run (a deterministic objective: the same values), so its best is at once
    # the earlier best
    assert [t.objective for t in warm[:3]] == [t.objective for t in ranked[:3]]
    assert summary.best.objective <= ranked[0].objective
    # then the model: nothing the earlier run evaluated, and no random draws
    earlier_params = [t.params for t in ranked]
    assert all(p not in earlier_params for p in params(warm)[3:])
    assert said[1] == f"first asks: the 3 best earlier configurations (evaluated again), then the {searcher} " \
                      "model's choices"


def test_bohb_runs_the_earlier_best_at_the_full_budget_first_and_the_same_brackets(tmp_path, earlier_mf):
    common = dict(problem="mfhartmann6", algo="bohb", seed=3, algo_options={"max_resource": 9})
    cold, cold_summary = run(tmp_path / "cold", **common)
    said: list[str] = []
    warm, warm_summary = run(tmp_path / "warm", said, **common, warm_from=[str(earlier_mf)])
    with RunStore.open(earlier_mf, readonly=True) as store:
        earlier = store.trials()
    n_earlier = len(earlier)
    assert said[0].startswith(f"warm start: {n_earlier} evaluations from {earlier_mf} given to the bayesian "
                              "searcher before its first ask")
    assert said[1] == ("first asks: the 3 best earlier configurations (evaluated again), then the bayesian "
                       "model's choices; hyperband runs its full-budget bracket first")
    # the first pass starts with its full-budget bracket (s = 0): the earlier best at the full budget first,
    # then the model's choices at that budget
    full = [t for t in earlier if t.budget == 9]
    best = [t.params for t in sorted(full, key=lambda t: (t.objective, t.trial_id))[:3]]
    s0 = [t for t in warm if t.bracket == 0]
    assert [t.trial_id for t in s0] == list(range(len(s0))) and all(t.budget == 9 for t in s0)
    assert params(s0)[:3] == best
    # then the other brackets of the pass from the least to the most aggressive (s = 1, 2): the model's
    # choices reach the full budget as early as the pass allows; every bracket and rung runs as in a cold run
    shape = [(t.bracket, t.rung, t.budget, t.previous_budget) for t in cold]
    assert [x[0] for x in shape] == sorted((x[0] for x in shape), reverse=True)  # cold: s = 2, 1, 0
    moved = sorted(shape, key=lambda x: x[0])  # stable: each bracket's rungs in their order
    assert [(t.bracket, t.rung, t.budget, t.previous_budget) for t in warm] == moved
    assert warm_summary.n_done == cold_summary.n_done == len(cold)
    assert warm_summary.resource_spent == cold_summary.resource_spent


def test_bohb_keeps_the_papers_bracket_order_without_earlier_results_at_its_full_budget(tmp_path, earlier_mf):
    # the earlier pass went up to 9 epochs; this one goes to 27: its incumbents come first, at the
    # budget of the bracket that opens first, and the brackets run in the paper's order
    common = dict(problem="mfhartmann6", algo="bohb", seed=3, max_evals=6, algo_options={"max_resource": 27})
    cold, _ = run(tmp_path / "cold", **common)
    said: list[str] = []
    warm, _ = run(tmp_path / "warm", said, **common, warm_from=[str(earlier_mf)])
    assert said[1] == "first asks: the 3 best earlier configurations (evaluated again), then the bayesian " \
                      "model's choices"
    assert [(t.bracket, t.budget) for t in warm] == [(t.bracket, t.budget) for t in cold] == [(3, 1)] * 6
    with RunStore.open(earlier_mf, readonly=True) as store:
        at_9 = sorted((t for t in store.trials() if t.budget == 9), key=lambda t: (t.objective, t.trial_id))
    strip = [{k: v for k, v in p.items() if k != "epochs"} for p in params(warm)[:3]]
    assert strip == [{k: v for k, v in t.params.items() if k != "epochs"} for t in at_9[:3]]


@pytest.fixture(scope="module")
def earlier_at(tmp_path_factory):
    """earlier_at(R): one Hyperband pass on mfhartmann6 up to R epochs (random searcher), made once per R.

    mfhartmann6's noise shrinks with the budget and is 0 at 81 epochs: at R = 27 an evaluation again of a
    configuration gives another value, at R = 81 the same one."""
    made: dict[int, Path] = {}

    def make(top: int) -> Path:
        if top not in made:
            made[top] = tmp_path_factory.mktemp("earlier") / f"hyperband{top}"
            run(made[top], problem="mfhartmann6", algo="hyperband", seed=0, algo_options={"max_resource": top})
        return made[top]

    return make


def best_at(run_dir: Path, budget: int, k: int) -> list[dict]:
    """The ``k`` best configurations of a run at ``budget`` (its resource left out)."""
    with RunStore.open(run_dir, readonly=True) as store:
        ranked = sorted((t for t in store.trials() if t.budget == budget), key=lambda t: (t.objective, t.trial_id))
    return [strip(t.params) for t in ranked[:k]]


def strip(p: dict) -> dict:
    return {k: v for k, v in p.items() if k != "epochs"}


def test_bohb_fills_its_full_budget_bracket_with_the_earlier_best_when_the_objective_is_noisy(tmp_path,
                                                                                              earlier_at):
    # R = 27: the full-budget bracket holds 4; the first evaluation again of an earlier incumbent gives
    # another value (noise), so the 4th slot goes to the 4th best earlier configuration, not the model
    said: list[str] = []
    warm, _ = run(tmp_path / "warm", said, problem="mfhartmann6", algo="bohb", seed=3, max_evals=4,
                  algo_options={"max_resource": 27}, warm_from=[str(earlier_at(27))])
    assert said[1] == ("first asks: the 3 best earlier configurations, up to 4 if the objective shows noise "
                       "(evaluated again), then the bayesian model's choices; hyperband runs its full-budget "
                       "bracket first")
    assert [t.budget for t in warm] == [27] * 4
    assert [strip(p) for p in params(warm)] == best_at(earlier_at(27), 27, 4)
    with RunStore.open(earlier_at(27), readonly=True) as store:
        before = {tuple(strip(t.params).values()): t.objective for t in store.trials() if t.budget == 27}
    assert any(t.objective != before[tuple(strip(t.params).values())] for t in warm[:3])


def test_bohb_leaves_the_rest_of_the_bracket_to_the_model_when_the_objective_is_deterministic(tmp_path,
                                                                                              earlier_at):
    # R = 81: mfhartmann6 is exact at its full budget; the 3 incumbents give their earlier values again, so
    # the bracket's other 2 slots are the model's choices (configurations no earlier run evaluated)
    said: list[str] = []
    warm, _ = run(tmp_path / "warm", said, problem="mfhartmann6", algo="bohb", seed=3, max_evals=5,
                  algo_options={"max_resource": 81}, warm_from=[str(earlier_at(81))])
    assert "the 3 best earlier configurations, up to 5 if the objective shows noise" in said[1]
    assert [t.budget for t in warm] == [81] * 5
    top = best_at(earlier_at(81), 81, 5)
    assert [strip(p) for p in params(warm)[:3]] == top[:3]
    with RunStore.open(earlier_at(81), readonly=True) as store:
        seen = [strip(t.params) for t in store.trials()]
    assert all(strip(p) not in seen for p in params(warm)[3:])


def test_warm_incumbents_given_is_exactly_that_many_whatever_the_noise(tmp_path, earlier_at):
    warm, _ = run(tmp_path / "warm", problem="mfhartmann6", algo="bohb", seed=3, max_evals=4,
                  algo_options={"max_resource": 27, "warm_incumbents": 2}, warm_from=[str(earlier_at(27))])
    with RunStore.open(earlier_at(27), readonly=True) as store:
        seen = [strip(t.params) for t in store.trials()]
    assert [strip(p) for p in params(warm)[:2]] == best_at(earlier_at(27), 27, 2)
    assert all(strip(p) not in seen for p in params(warm)[2:])


@pytest.mark.parametrize("cut", [3, 8])
def test_a_noisy_warm_bohb_run_cut_in_the_middle_resumes_as_an_uninterrupted_one(tmp_path, earlier_at, cut):
    # cut before the noise decides the 4th slot of the full-budget bracket (3), and in the middle of the
    # next bracket's first rung (8)
    common = dict(problem="mfhartmann6", algo="bohb", seed=5, warm_from=[str(earlier_at(27))],
                  algo_options={"max_resource": 27})
    full, _ = run(tmp_path / "full", **common, max_evals=16)
    part, _ = run(tmp_path / "part", **common, max_evals=cut)
    assert len(part) == cut
    resumed = resume_run(tmp_path / "part", max_evals=16)
    try:
        again = resumed.store.trials()
    finally:
        resumed.store.close()
    assert [(t.params, t.budget, t.bracket, t.objective) for t in again] == \
        [(t.params, t.budget, t.bracket, t.objective) for t in full]
    assert [t.bracket for t in full] == [0] * 4 + [1] * 8 + [2] * 4  # s = 0, then 1 (6 + 2), then 2


def test_a_multi_fidelity_run_leaves_out_budgets_it_does_not_run(tmp_path, earlier_mf):
    said: list[str] = []
    run(tmp_path / "warm", said, problem="mfhartmann6", algo="bohb", seed=3, max_evals=2,
        algo_options={"max_resource": 3}, warm_from=[str(earlier_mf)])
    with RunStore.open(earlier_mf, readonly=True) as store:
        at_9 = sum(t.budget == 9 for t in store.trials())
    assert at_9 > 0
    assert said[0].endswith(f"; {at_9} left out: budgets hyperband does not run (it runs 1, 3)")


@pytest.mark.parametrize("algo", ["random", "hyperband"])
def test_random_search_ignores_a_warm_start(tmp_path, earlier, earlier_mf, algo):
    common = dict(problem="hartmann6", algo="random", seed=5, max_evals=6) if algo == "random" else \
        dict(problem="mfhartmann6", algo="hyperband", seed=5, algo_options={"max_resource": 9})
    source = earlier if algo == "random" else earlier_mf
    cold, _ = run(tmp_path / "cold", **common)
    said: list[str] = []
    warm, _ = run(tmp_path / "warm", said, **common, warm_from=[str(source)])
    assert params(warm) == params(cold)
    assert said[0].startswith("warm start: the random searcher learns nothing from earlier evaluations")


# -- not this run's evaluations ----------------------------------------------------------
def test_warm_observations_are_not_counted_as_evaluations(tmp_path, earlier, runner):
    trials, summary = run(tmp_path / "warm", problem="hartmann6", algo="bayesian", seed=1, max_evals=4,
                          warm_from=[str(earlier)])
    assert len(trials) == 4 and summary.n_done == 4 and summary.ended == "max-evals reached (4)"
    assert [t.trial_id for t in trials] == [0, 1, 2, 3]
    with RunStore.open(tmp_path / "warm", readonly=True) as store:
        assert RunHistory.from_store(store).counts["done"] == 4
        assert len(store.warm_start()["evaluations"]) == 20
    with open(tmp_path / "warm" / "results.csv") as f:
        assert len(list(csv.DictReader(f))) == 4
    # a resume to more evaluations counts only this run's own
    more = resume_run(tmp_path / "warm", max_evals=6)
    more.store.close()
    assert more.summary.n_done == 6 and more.summary.n_replayed == 4


# -- where it came from -------------------------------------------------------------------
def test_the_run_records_its_sources(tmp_path, earlier, runner, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(earlier, "a")
    out = runner.invoke(cli, ["run", "-p", "hartmann6", "--algo", "bayesian", "--max-evals", "2",
                              "--evaluator", "serial", "--run-dir", "b", "--warm-from", "a"])
    assert out.exit_code == 0, out.output
    assert "warm start: 20 evaluations from a given to the bayesian searcher before its first ask" in out.output
    shown = runner.invoke(cli, ["results", "b"])
    assert "warm start: 20 evaluations of a (observations before the first ask, not this run's evaluations)" \
        in shown.output
    with RunStore.open("b", readonly=True) as store:
        assert store.settings["warm_from"] == ["a"]
        source = store.warm_start()["sources"][0]
        assert (source["run_dir"], source["algo"], source["seed"], source["done"]) == ("a", "random", 0, 20)


# -- compatibility -------------------------------------------------------------------------
def space(objective: str = "loss", direction: str = "minimize", x: str = "(0.0, 1.0)", y_name: str = "y",
          y: str = "(0.0, 1.0)") -> str:
    return (f"from hpsearch import HpProblem\n"
            f"Problem = HpProblem(objective={objective!r}, direction={direction!r})\n"
            f"Problem.add_dim('x', {x}, default=0.25)\n"
            f"Problem.add_dim({y_name!r}, {y})\n")


RUN = "def run(config):\n    return (config['x'] - 0.3) ** 2\n"


@pytest.fixture
def toy_run(tmp_path, make_problem, runner, monkeypatch) -> Path:
    """A random run (20 evaluations) of a two-dimension problem, in the working directory as 'first'."""
    monkeypatch.chdir(tmp_path)
    folder = make_problem("base", problem=space(), model_run=RUN)
    out = runner.invoke(cli, ["run", "-p", str(folder), "--max-evals", "20", "--seed", "0",
                              "--evaluator", "serial", "--run-dir", "first"])
    assert out.exit_code == 0, out.output
    return tmp_path / "first"


@pytest.mark.parametrize("changed, message", [
    (dict(y_name="z"), "--warm-from first: dimension 'z' is not in that run's space (it has x, y); "
                       "warm start needs the same objective and the same dimension names and kinds"),
    (dict(y="['a', 'b']"), "--warm-from first: dimension 'y' is continuous there and categorical here"),
    (dict(y="(0, 10)"), "--warm-from first: dimension 'y' is continuous there and ordinal here"),
    (dict(objective="score"), "--warm-from first: its objective is 'loss', this run's is 'score'"),
])
def test_an_incompatible_space_is_refused_with_one_line(toy_run, make_problem, runner, changed, message):
    folder = make_problem("changed", problem=space(**changed), model_run=RUN)
    one_line_error(runner.invoke(cli, ["run", "-p", str(folder), "--algo", "bayesian", "--evaluator", "serial",
                                       "--run-dir", "second", "--warm-from", "first"]), message)
    assert not Path("second").exists()


def test_a_narrowed_range_drops_values_with_a_count_and_a_direction_may_differ(toy_run, make_problem):
    folder = make_problem("narrow", problem=space(direction="maximize", x="(0.0, 0.5)"), model_run=RUN)
    with RunStore.open(toy_run, readonly=True) as store:
        earlier = store.trials()
    outside = sum(t.params["x"] > 0.5 for t in earlier)
    assert 0 < outside < 20
    said: list[str] = []
    run(Path("second"), said, problem=str(folder), algo="bayesian", seed=1, max_evals=2,
        warm_from=[str(toy_run)])
    warm_lines = [line for line in said if line.startswith("warm start:")]
    assert warm_lines == [f"warm start: {20 - outside} evaluations from {toy_run} given to the bayesian "
                          "searcher before its first ask (not counted as this run's evaluations); "
                          f"{outside} left out: values outside this run's space"]
    with RunStore.open("second", readonly=True) as store:
        stored = store.warm_start()
    assert stored["sources"][0]["outside"] == outside
    kept = [t for t in earlier if t.params["x"] <= 0.5]
    assert [e["trial_id"] for e in stored["evaluations"]] == [t.trial_id for t in kept]
    # the raw objective is stored; this run maximises it, so each loss is its negative
    problem = load_problem(str(folder)).problem
    assert [o.loss for o in observations(stored, problem)] == [-t.objective for t in kept]


def test_warm_from_is_refused_with_resume_and_a_missing_run_is_one_line(toy_run, make_problem, runner):
    one_line_error(runner.invoke(cli, ["run", "--resume", "first", "--warm-from", "first"]),
                   "--resume: the run's stored settings are used")
    with pytest.raises(RunError, match="warm_from: a resume replays the warm start stored with the run"):
        resume_run(toy_run, warm_from=["first"])
    folder = make_problem("same", problem=space(), model_run=RUN)
    one_line_error(runner.invoke(cli, ["run", "-p", str(folder), "--run-dir", "second", "--warm-from",
                                       "nowhere"]), "--warm-from: nowhere: not a run directory")
    one_line_error(runner.invoke(cli, ["run", "-p", str(folder), "--run-dir", "second", "--warm-from",
                                       "first", "--warm-from", "./first"]),
                   "--warm-from ./first: given twice (also as first)")
    assert not Path("second").exists()


# -- resume ---------------------------------------------------------------------------------
@pytest.mark.parametrize("algo", ["bayesian", "bohb"])
def test_a_run_interrupted_among_the_incumbents_resumes_as_an_uninterrupted_one(tmp_path, earlier, earlier_mf,
                                                                                algo):
    common = dict(problem="hartmann6" if algo == "bayesian" else "mfhartmann6", algo=algo, seed=11,
                  warm_from=[str(earlier if algo == "bayesian" else earlier_mf)],
                  algo_options={} if algo == "bayesian" else {"max_resource": 9})
    full, _ = run(tmp_path / "full", **common, max_evals=8)
    part, _ = run(tmp_path / "part", **common, max_evals=2)
    with RunStore.open(earlier if algo == "bayesian" else earlier_mf, readonly=True) as store:
        top = max(t.budget or 0 for t in store.trials())
        ranked = sorted((t for t in store.trials() if (t.budget or 0) == top),
                        key=lambda t: (t.objective, t.trial_id))
    assert params(part) == [t.params for t in ranked[:2]]  # cut after two of the three incumbents
    resumed = resume_run(tmp_path / "part", max_evals=8)
    try:
        again = resumed.store.trials()
    finally:
        resumed.store.close()
    assert [(t.params, t.budget, t.objective) for t in again] == [(t.params, t.budget, t.objective) for t in full]


@pytest.mark.parametrize("algo", ["bayesian", "bohb"])
def test_a_resumed_warm_started_run_equals_an_uninterrupted_one(tmp_path, earlier, earlier_mf, algo):
    source = tmp_path / "source"
    shutil.copytree(earlier if algo == "bayesian" else earlier_mf, source)
    common = dict(problem="hartmann6" if algo == "bayesian" else "mfhartmann6", algo=algo, seed=7,
                  evaluator="serial", warm_from=[str(source)],
                  algo_options={} if algo == "bayesian" else {"max_resource": 9})
    full, _ = run(tmp_path / "full", **common, max_evals=12)
    part, _ = run(tmp_path / "part", **common, max_evals=5)
    assert len(part) == 5
    shutil.rmtree(source)  # the observations are stored in the run: the earlier run is not read again
    resumed = resume_run(tmp_path / "part", max_evals=12)
    try:
        again = resumed.store.trials()
    finally:
        resumed.store.close()
    assert [(t.params, t.budget, t.objective) for t in again] == [(t.params, t.budget, t.objective) for t in full]
