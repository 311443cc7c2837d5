"""ASHA promotes exactly as Li et al. (2020) Algorithm 2."""
import pytest

from hpsearch import HpProblem
from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.search import DONE, WAIT, OptionError, Told, make_scheduler
from hpsearch.search.schedulers.asha import rung_budgets
from hpsearch.store import RunStore

from ..conftest import run_full_and_resumed
from .contract_searcher import MIXED

EPOCHS = """
from hpsearch import HpProblem
Problem = HpProblem(objective="loss", direction="minimize")
Problem.add_dim("x", (0.0, 1.0), default=0.5)
Problem.add_dim("epochs", (1, 81), default=9, resource=True)
"""


def asha(seed=0, **options):
    lp = load_problem(MIXED)  # resource steps in 1..27: rungs 1, 3, 9, 27
    return make_scheduler("asha", lp.problem, seed, options)


def tell(backend, s, loss, tid=0, status="done"):
    backend.tell(Told(trial_id=tid, suggestion=s, status=status, loss=loss if status == "done" else None,
                      objective=None if status != "done" else -loss))


def test_the_best_of_three_is_promoted_on_the_next_ask_and_not_before():
    b = asha()
    firsts = []
    for loss in (5.0, 1.0):
        [s] = b.ask(1)
        assert (s.rung, s.budget, s.previous_budget, s.bracket) == (0, 1, 0, 0)
        firsts.append(s)
        tell(b, s, loss)
    [s3] = b.ask(1)  # two results at rung 0: floor(2/3) = 0, nothing to promote
    assert s3.rung == 0 and s3.config_id == 2
    tell(b, s3, 3.0)
    [p] = b.ask(1)  # three results: the best (loss 1.0, config 1) goes up
    assert p.config_id == firsts[1].config_id == 1
    assert (p.rung, p.budget, p.previous_budget, p.bracket) == (1, 3, 1, 0)
    assert p.config == {**firsts[1].config, "steps": 3}
    [q] = b.ask(1)  # config 1 is promoted already and rung 0 has 3 results: a new configuration
    assert (q.config_id, q.rung) == (3, 0)


def test_promotions_go_up_to_the_top_rung_with_warm_start_lineage():
    b = asha()  # 27 configurations (3^3)
    seen = []
    while True:
        got = b.ask(1)
        if got is DONE:
            break
        [s] = got
        seen.append(s)
        tell(b, s, float(s.config_id))  # config 0 is the best everywhere
    lineage = [(s.rung, s.budget, s.previous_budget) for s in seen if s.config_id == 0]
    assert lineage == [(0, 1, 0), (1, 3, 1), (2, 9, 3), (3, 27, 9)]
    assert [sum(s.rung == k for s in seen) for k in range(4)] == [27, 9, 3, 1]
    assert [s.config_id for s in seen if s.rung == 2] == [0, 1, 2]
    assert len({s.config_id for s in seen}) == 27


def test_a_busy_ask_never_waits_while_it_can_start_something():
    b = asha()  # max_configs 27
    first = b.ask(4)
    second = b.ask(4)
    assert len(first) == len(second) == 4
    assert len({s.config_id for s in first + second}) == 8
    for i, s in enumerate(first + second):
        tell(b, s, float(i), tid=i)
    # 8 results at rung 0: two promotions then new configurations, all in one ask
    got = b.ask(4)
    assert [(s.rung, s.config_id) for s in got] == [(1, 0), (1, 1), (0, 8), (0, 9)]


def test_wait_while_in_flight_and_done_when_everything_is_started_and_told():
    b = asha(max_configs=2)
    got = b.ask(4)
    assert len(got) == 2  # only two configurations may start
    assert b.ask(1) is WAIT
    tell(b, got[0], 1.0)
    assert b.ask(1) is WAIT  # one result: nothing promotable, one still in flight
    tell(b, got[1], 2.0, tid=1)
    assert b.ask(1) is DONE  # floor(2/3) = 0: nothing to promote ever


def test_failed_configurations_are_never_promoted():
    b = asha(max_configs=6)
    got = b.ask(6)
    for i, s in enumerate(got):
        tell(b, s, 0.0, tid=i, status="failed" if i != 5 else "done")
    # six results, top floor(6/3) = 2 of them: config 5 (done) and a failed one
    p = b.ask(4)
    assert [(s.config_id, s.rung) for s in p] == [(5, 1)]
    tell(b, p[0], 0.0, tid=6)
    assert b.ask(4) is DONE


def test_timed_out_configurations_are_never_promoted():
    b = asha(max_configs=3)
    got = b.ask(3)
    for i, s in enumerate(got):
        tell(b, s, 0.0, tid=i, status="timeout")
    assert b.ask(1) is DONE


def test_rung_budgets_for_r81_eta3(make_problem):
    assert rung_budgets(1, 81, 3, True) == [1, 3, 9, 27, 81]
    assert rung_budgets(1, 81, 9, True) == [1, 9, 81]
    assert rung_budgets(3, 81, 3, True) == [3, 9, 27, 81]
    assert rung_budgets(0.5, 4.0, 2, False) == [0.5, 1.0, 2.0, 4.0]
    lp = load_problem(make_problem("ep", problem=EPOCHS, model_run="def run(c):\n    return c['x']\n"))
    b = make_scheduler("asha", lp.problem, 0, {})
    assert b.budgets == [1, 3, 9, 27, 81]
    assert b.max_configs == 81  # Hyperband's widest bracket for R=81, eta=3
    assert all(type(v) is int for v in b.budgets)
    assert make_scheduler("asha", lp.problem, 0, {"max_resource": 27.0, "eta": 3}).budgets == [1, 3, 9, 27]


@pytest.mark.parametrize("options,message", [
    ({"max_resource": 100}, "--max-resource must be within the resource 'steps''s range [1, 27], got 100"),
    ({"min_resource": 2.5}, "--min-resource must be an integer (the resource 'steps' is an integer), got 2.5"),
    ({"min_resource": 9, "max_resource": 3}, "--min-resource must be < --max-resource (3), got 9"),
    ({"min_resource": 3, "max_resource": 3}, "--min-resource must be < --max-resource (3), got 3"),
    ({"max_configs": 0}, "--max-configs must be an integer >= 1, got 0"),
    ({"iterations": 2}, "--iterations: does not apply to --algo asha"),
])
def test_bad_options_are_one_line_usage_errors(options, message):
    with pytest.raises(OptionError) as err:
        asha(**options)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("args,message", [
    (["--max-resource", "100"], "Error: --max-resource must be within the resource 'steps''s range [1, 27]"),
    (["--min-resource", "0"], "Error: --min-resource must be within the resource 'steps''s range [1, 27]"),
])
def test_cli_validation_exits_2_with_one_line(runner, in_tmp, args, message):
    res = runner.invoke(cli, ["run", "--problem", str(MIXED), "--algo", "asha", "--evaluator", "serial",
                              *args])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), res.output


def test_cli_asha_on_a_problem_without_resource_exits_2(runner, in_tmp):
    res = runner.invoke(cli, ["run", "--problem", "branin", "--algo", "asha", "--evaluator", "serial"])
    assert res.exit_code == 2
    assert "declares no resource dimension" in res.output and len(res.output.strip().splitlines()) == 1


def test_cli_asha_with_the_resource_fixed_exits_2(runner, in_tmp):
    res = runner.invoke(cli, ["run", "--problem", str(MIXED), "--algo", "asha", "--evaluator", "serial",
                              "--fix", "steps=3"])
    assert res.exit_code == 2
    assert res.output.strip() == "Error: --fix steps: --algo asha sets the resource itself; it cannot be fixed"


def test_hps_run_asha_without_max_evals_finishes(runner, in_tmp):
    res = runner.invoke(cli, ["run", "--problem", str(MIXED), "--algo", "asha", "--evaluator", "serial",
                              "--seed", "3", "--run-dir", "r", "--max-resource", "9", "--eta", "3"])
    assert res.exit_code == 0, res.output
    with RunStore.open(in_tmp / "r") as store:
        trials = store.trials()
    # R=9, r_min=1, eta=3: 9 configurations at rung 0 (then DONE); asynchronous promotion sends at
    # least the final top third of each rung up (more when early leaders are overtaken)
    rung0 = sorted((t for t in trials if t.rung == 0), key=lambda t: -t.objective)
    assert len(rung0) == 9
    rung1 = sorted((t for t in trials if t.rung == 1), key=lambda t: -t.objective)
    assert {t.config_id for t in rung0[:3]} <= {t.config_id for t in rung1}
    assert rung1[0].config_id in {t.config_id for t in trials if t.rung == 2}
    assert {t.budget for t in trials} == {1, 3, 9}
    assert all(t.status == "done" for t in trials)
    for t in trials:
        if t.rung:
            prev = [u for u in trials if u.config_id == t.config_id and u.rung == t.rung - 1]
            assert len(prev) == 1 and t.previous_budget == prev[0].budget
            assert {k: v for k, v in t.params.items() if k != "steps"} == \
                {k: v for k, v in prev[0].params.items() if k != "steps"}


def test_resume_with_workers_equals_uninterrupted(tmp_path):
    common = dict(problem=str(MIXED), algo="asha", seed=5, evaluator="serial")
    run_full_and_resumed(tmp_path, common, k=17)
    with RunStore.open(tmp_path / "full") as a, RunStore.open(tmp_path / "part") as b:
        ra = [(t.config_id, t.rung, t.budget, t.objective) for t in a.trials()]
        rb = [(t.config_id, t.rung, t.budget, t.objective) for t in b.trials()]
    assert ra == rb and len(ra) > 27


def test_a_stopped_configuration_is_never_promoted_whatever_its_last_loss():
    b = asha(max_configs=3)
    got = b.ask(3)
    for i, (s, loss) in enumerate(zip(got, (0.5, 0.1, 0.9))):
        b.tell(Told(trial_id=i, suggestion=s, status="done" if i != 1 else "stopped", loss=loss))
    p = b.ask(3)
    assert [(s.config_id, s.rung) for s in p] == [(got[0].config_id, 1)]  # the best done one, not the stopped


def test_a_configuration_that_reached_the_top_rung_is_never_asked_again():
    b = make_scheduler("asha", space(), 0, {"max_resource": 2, "eta": 2, "max_configs": 8})  # rungs 1, 2
    asked = []
    for _ in range(100):  # 8 configurations, at most 2 rungs each: DONE well before
        got = b.ask(1)
        if got is DONE:
            break
        [s] = got
        asked.append((s.config_id, s.rung))
        tell(b, s, 1.0 / (1 + s.config_id), tid=len(asked))  # later configurations are better
    assert got is DONE and len(asked) == len(set(asked))
    for cid in {c for c, _ in asked}:
        assert [r for c, r in asked if c == cid] in ([0], [0, 1])


def space(low=1):
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("epochs", (low, 81), default=low, resource=True)
    return p


def test_a_comparison_budget_sets_more_configurations_than_it_can_pay_for():
    # hps compare ends an ASHA run by its resource budget: each configuration costs at least r_min, so
    # budget / r_min of them (rounded up), and one more, are never all started first
    asha_class = type(asha())
    assert asha_class.budget_options(space(), {}, 9) == {"max_configs": 10}
    assert asha_class.budget_options(space(2), {}, 9) == {"max_configs": 6}
    assert asha_class.budget_options(space(), {"min_resource": 3}, 100) == {"max_configs": 35}


def test_a_problem_without_a_resource_is_refused_naming_asha():
    no_resource = HpProblem(objective="loss", direction="minimize")
    no_resource.add_dim("x", (0.0, 1.0), default=0.5)
    asha_class = type(asha())
    message = r"^--algo asha: the problem declares no resource dimension; declare one in problem.py"
    with pytest.raises(OptionError, match=message):
        asha_class.budget_options(no_resource, {}, 100)
    searcher = type(asha().searcher)(no_resource, 0)
    with pytest.raises(OptionError, match=message):
        asha_class(no_resource, 0, searcher)
