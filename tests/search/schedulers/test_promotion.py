"""Each scheduler's promotion cut on hand-made results: ASHA promotes a configuration once it ranks in
the top floor(n / eta) of its rung (failures count in n); Hyperband promotes the best n_(i+1) of a
finished rung, ties by their order in the rung."""
from __future__ import annotations

from hpsearch import HpProblem
from hpsearch.search import DONE, Told, make_scheduler


def problem() -> HpProblem:
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("epochs", (1, 27), default=1, resource=True)
    return p


def tell(scheduler, s, loss, status="done"):
    scheduler.tell(Told(trial_id=s.config_id, suggestion=s, status=status,
                        loss=loss if status == "done" else None))


def test_asha_cut_is_floor_of_rung_size_over_eta_with_ties_to_the_first_configuration():
    b = make_scheduler("asha", problem(), 0, {"max_resource": 27})  # rungs 1, 3, 9, 27
    starts = b.ask(3)
    for s, loss in zip(starts, (1.0, 0.5, 0.5)):
        tell(b, s, loss)
    [up] = b.ask(1)  # 3 results: floor(3/3) = 1 goes up, of the tie the lower configuration id
    assert (up.config_id, up.rung) == (1, 1)
    more = b.ask(2)
    assert [(s.config_id, s.rung) for s in more] == [(3, 0), (4, 0)]  # config 2 ranks second: not yet
    for s, loss in zip(more, (0.9, 0.8)):
        tell(b, s, loss)
    [new] = b.ask(1)  # 5 results: floor(5/3) = 1 still, and config 1 is up already
    assert (new.config_id, new.rung) == (5, 0)
    tell(b, new, 2.0)
    [up2] = b.ask(1)  # 6 results: floor(6/3) = 2, so config 2 (second best) goes up
    assert (up2.config_id, up2.rung, up2.budget, up2.previous_budget) == (2, 1, 3, 1)


def test_asha_failures_count_in_the_rung_but_never_go_up():
    b = make_scheduler("asha", problem(), 0, {"max_resource": 27, "max_configs": 6})
    got = b.ask(6)
    for s, status in zip(got, ("failed", "timeout", "failed", "done", "failed", "done")):
        tell(b, s, 0.7 if s.config_id == 3 else 0.9, status)
    # six in the rung, floor(6/3) = 2: the two done ones rank first (failures rank last)
    promoted = b.ask(6)
    assert [(s.config_id, s.rung) for s in promoted] == [(3, 1), (5, 1)]


def test_hyperband_promotes_the_best_of_a_finished_rung_ties_in_rung_order():
    b = make_scheduler("hyperband", problem(), 0, {"max_resource": 9})  # bracket s=2: 9 at 1, 3 at 3, 1 at 9
    first = b.ask(9)
    assert [s.budget for s in first] == [1] * 9
    losses = [5.0, 4.0, 3.0, 3.0, 1.0, 9.0, 9.0, 9.0, 2.0]
    for s, loss in zip(first[:-1], losses[:-1]):
        tell(b, s, loss)
    assert b.ask(1)[0].bracket == 1  # rung 0 of bracket 2 is not finished: nothing promoted yet
    tell(b, first[-1], losses[-1])
    promoted = b.ask(3)
    assert [(s.config_id, s.budget, s.previous_budget) for s in promoted] == [(4, 3, 1), (8, 3, 1), (2, 3, 1)]


def test_hyperband_promotes_fewer_when_fewer_succeeded():
    b = make_scheduler("hyperband", problem(), 0, {"max_resource": 9})
    first = b.ask(9)
    for s in first:
        tell(b, s, float(s.config_id), "done" if s.config_id in (6, 2) else "failed")
    promoted = b.ask(3)
    assert [(s.config_id, s.rung) for s in promoted[:2]] == [(2, 1), (6, 1)]
    assert all(s.bracket != 2 for s in promoted[2:])  # only two succeeded: the rest is the next bracket


def test_hyperband_a_rung_where_everything_failed_ends_its_bracket():
    b = make_scheduler("hyperband", problem(), 0, {"max_resource": 3})  # s=1: 3 at 1, 1 at 3; s=0: 2 at 3
    first = b.ask(3)
    for s in first:
        tell(b, s, None, "failed")
    nxt = b.ask(5)
    assert [(s.bracket, s.rung) for s in nxt] == [(0, 0), (0, 0)]
    for s in nxt:
        tell(b, s, 1.0)
    assert b.ask(1) is DONE
