"""Multi-objective search, driven directly with tuple losses: rung promotions on hand-made sets (ties,
duplicates, a dominated point never ahead of a front point), the pruners' ranking, ParEGO's
scalarisation and MOTPE's split, and determinism of every pruner for a sequence of reports."""
from __future__ import annotations

import numpy as np
import pytest

from hpsearch import HpProblem
from hpsearch.problem import pareto
from hpsearch.search import DONE, WAIT, Told, make_scheduler
from hpsearch.search.pruners import make_pruner
from hpsearch.search.searchers.scalarise import chebyshev, draw_weights, good_first
from hpsearch.trial import Status

#: a rung of nine results: (0, 4), (4, 0) and two copies of (2, 2) on the front; (0.5, 4.5) is dominated
#: by (0, 4) although its first objective beats every point but (0, 4); the rest are dominated.
RUNG = [(3, 3), (0.5, 4.5), (2, 2), (0, 4), (5, 5), (2, 2), (4, 0), (3.5, 3.5), (4.5, 4.5)]


def problem(resource: bool = True) -> HpProblem:
    p = HpProblem(objectives={"acc": "maximize", "size": "minimize"})
    p.add_dim("x", (0.0, 1.0))
    p.add_dim("c", ["a", "b"])
    if resource:
        p.add_dim("epochs", (1, 9), resource=True)
    return p


def tell(sched, s, loss, tid=0):
    status = Status.FAILED if loss is None else Status.DONE
    sched.tell(Told(trial_id=tid, suggestion=s, status=status, loss=loss))


# -- rung promotions ------------------------------------------------------------------------------
def test_hyperband_promotes_the_front_spread_first_and_never_a_dominated_point():
    sched = make_scheduler("hyperband", problem(), 0, {"max_resource": 9})
    first = sched.ask(9)
    assert [s.rung for s in first] == [0] * 9
    for tid, (s, loss) in enumerate(zip(first, RUNG)):
        tell(sched, s, loss, tid)
    up = [s for s in sched.ask(9) if s.rung == 1]  # (the next bracket opens too)
    promoted = [first.index(next(f for f in first if f.config_id == s.config_id)) for s in up]
    # boundary points first (infinite crowding), then the first copy of (2, 2): never (0.5, 4.5)
    assert promoted == [3, 6, 2]
    assert promoted == pareto.order(RUNG)[:3]
    assert all(s.rung == 1 and s.budget == 3 for s in up)


def test_hyperband_promotes_fewer_when_results_fail_and_ties_go_by_rung_order():
    sched = make_scheduler("hyperband", problem(), 0, {"max_resource": 9})
    first = sched.ask(9)
    losses = [None, (1, 1), (1, 1), None, None, None, None, None, None]
    for tid, (s, loss) in enumerate(zip(first, losses)):
        tell(sched, s, loss, tid)
    up = [s for s in sched.ask(9) if s.rung == 1]
    assert [s.config_id for s in up] == [first[1].config_id, first[2].config_id]


def test_asha_promotes_within_the_top_third_by_pareto_order():
    sched = make_scheduler("asha", problem(), 0, {"max_resource": 9, "max_configs": 9})
    first = [sched.ask(1)[0] for _ in range(9)]
    for tid, (s, loss) in enumerate(zip(first, RUNG)):
        tell(sched, s, loss, tid)
    up = []
    while True:
        got = sched.ask(1)
        if got is WAIT or got is DONE:
            break
        up.append(got[0])
    assert [s.rung for s in up] == [1, 1, 1]
    assert [first.index(next(f for f in first if f.config_id == s.config_id)) for s in up] == [3, 6, 2]


def test_asha_never_promotes_a_dominated_point_while_a_front_point_waits():
    sched = make_scheduler("asha", problem(), 0, {"max_resource": 9, "max_configs": 6})
    first = [sched.ask(1)[0] for _ in range(3)]
    for tid, (s, loss) in enumerate(zip(first, [(0.5, 4.5), (5, 5), (6, 6)])):
        tell(sched, s, loss, tid)
    up = sched.ask(1)[0]  # 3 results: the top one goes up
    assert (up.config_id, up.rung) == (first[0].config_id, 1)
    more = [sched.ask(1)[0] for _ in range(3)]
    assert all(s.rung == 0 for s in more)
    for tid, (s, loss) in enumerate(zip(more, [(0, 4), (7, 7), (8, 8)]), start=3):
        tell(sched, s, loss, tid)
    nxt = sched.ask(1)[0]  # 6 results, top two: (0, 4) now ranks first and goes up
    assert (nxt.config_id, nxt.rung) == (more[0].config_id, 1)


def test_a_single_objective_rung_is_ranked_as_before():
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0))
    p.add_dim("epochs", (1, 9), resource=True)
    sched = make_scheduler("hyperband", p, 0, {"max_resource": 9})
    first = sched.ask(9)
    for tid, (s, loss) in enumerate(zip(first, [3.0, 0.5, 2.0, 0.0, 5.0, 2.0, 4.0, 3.5, 4.5])):
        tell(sched, s, loss, tid)
    up = [s for s in sched.ask(9) if s.rung == 1]
    assert [s.config_id for s in up] == [first[i].config_id for i in (3, 1, 2)]


# -- pruners --------------------------------------------------------------------------------------
def test_asha_pruner_keeps_front_points_and_copies_and_stops_dominated_ones():
    pruner = make_pruner("asha", problem(), {"eta": 2})
    assert not pruner.report(0, 1, (0.0, 4.0))
    assert not pruner.report(1, 1, (4.0, 0.0))  # on the front with (0, 4): a boundary point, kept
    assert pruner.report(2, 1, (0.5, 4.5))  # dominated by (0, 4), although better in... nothing
    assert not pruner.report(3, 1, (0.0, 4.0))  # a copy of a front point wins the tie
    assert pruner.report(4, 1, (4.5, 0.5))


def test_hyperband_pruner_judges_tuples_within_a_bracket():
    pruner = make_pruner("hyperband", problem(), {"eta": 3})
    bracket0 = [t for t in range(40) if pruner.bracket_of(t) == 0][:3]
    assert not pruner.report(bracket0[0], 1, (0.0, 5.0))
    assert not pruner.report(bracket0[1], 1, (1.0, 0.0))  # also on the front: it wins the tie
    assert pruner.report(bracket0[2], 1, (2.0, 2.0))  # dominated by (1, 0): not in the top 1/3


def test_median_pruner_stops_a_trial_in_the_worse_half_of_the_non_dominated_ranking():
    pruner = make_pruner("median", problem(), {"grace_period": 1, "min_trials": 2})
    for tid, (a, b) in enumerate([(1.0, 1.0), (2.0, 0.5), (0.5, 2.0)]):
        assert not pruner.report(tid, 1, (a, b))
    assert pruner.report(3, 1, (3.0, 3.0))  # every other trial ranks ahead of it
    assert not pruner.report(4, 1, (0.2, 0.2))  # dominates them all
    # its best so far is each objective's best report: a later worse report does not stop it
    assert not pruner.report(4, 2, (5.0, 5.0))


@pytest.mark.parametrize("name, options", [("median", {"min_trials": 2}), ("asha", {}), ("hyperband", {})])
def test_every_pruner_decides_the_same_on_the_same_reports(name, options):
    rng = np.random.default_rng(3)
    reports = [(int(t), float(step), (float(a), float(b)))
               for t in range(12) for step, (a, b) in zip(range(1, 10), rng.random((9, 2)))]
    runs = []
    for _ in range(2):
        pruner = make_pruner(name, problem(), options)
        runs.append([pruner.report(t, step, loss) for t, step, loss in reports])
    assert runs[0] == runs[1]
    assert any(runs[0]) and not all(runs[0])


# -- the searchers' scalarisation and split -------------------------------------------------------
def test_parego_weights_are_on_the_simplex_and_seeded():
    a, b = draw_weights(np.random.default_rng(1), 3), draw_weights(np.random.default_rng(1), 3)
    assert np.allclose(a, b) and np.isclose(a.sum(), 1.0) and (a > 0).all()


def test_chebyshev_normalises_each_objective_by_its_observed_range():
    losses = [(0.0, 1000.0), (1.0, 0.0), None, (0.5, 500.0), (1.0, 1000.0)]
    got = chebyshev(losses, np.array([0.5, 0.5]), rho=0.0)
    assert got == [0.5, 0.5, None, 0.25, 0.5]
    # a weakly dominated point scores worse than the point dominating it once augmented
    aug = chebyshev([(0.0, 1.0), (0.0, 0.0), (1.0, 0.0)], np.array([0.5, 0.5]))
    assert aug[1] < aug[0] and aug[1] < aug[2]


def test_motpe_split_takes_whole_fronts_then_the_largest_contributions():
    losses = [(6, 6), (2, 5), None, (1, 1), (5, 2), (3, 3), (1, 1), (4, 4)]
    got = good_first(losses).tolist()
    assert got[:2] == [3, 6]  # the front: (1, 1) twice, in order
    # the second front, by hypervolume contribution within it (reference: its nadir + its range, (8, 8)):
    # (3, 3) adds 2 x 2, (2, 5) and (5, 2) 1 x 3 each (then by index)
    assert got[2:5] == [5, 1, 4]
    assert got[5:] == [7, 0, 2]  # then the dominated rest, the failure last
