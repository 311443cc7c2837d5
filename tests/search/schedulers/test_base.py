"""What every scheduler shares: fresh configuration ids, how a result reaches the searcher (a failure is
never a number, a pruned trial is filed under the step it reached), which earlier evaluations a warm start
hands on, and fifo's one fidelity."""
import pytest

from hpsearch import HpProblem
from hpsearch.search import make_scheduler
from hpsearch.search.base import Observation, Suggestion, Told
from hpsearch.search.schedulers.base import Scheduler
from hpsearch.search.schedulers.fifo import FifoScheduler
from hpsearch.search.searchers.base import WARM_INCUMBENTS_OPTION, Searcher
from hpsearch.trial import Status


def problem(resource: bool = False) -> HpProblem:
    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0, 9), default=4)
    if resource:
        p.add_dim("epochs", (1, 9), default=9, resource=True)
    return p


class Recording(Searcher):
    """Proposes x = 0, 1, 2, ... and records every observation."""

    name = "recording"
    model_based = True
    OPTIONS = (WARM_INCUMBENTS_OPTION,)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._starts = []
        self.k = 0
        self.seen = []

    def _propose(self):
        self.k += 1
        return {**self.problem.defaults, "x": self.k - 1}

    def _learn(self, config, budget, loss):
        self.seen.append((config, budget, loss))


class Plain(Scheduler):
    """The base class's bookkeeping, with the budget the suggestion names."""

    name = "plain"

    def ask(self, n):
        return [Suggestion(config=c, config_id=cid, budget=3) for cid, c in self.new_configs(n)]

    def tell(self, result):
        self.observe(result)


def told(s: Suggestion, status: Status, loss, reached=None) -> Told:
    return Told(trial_id=s.config_id, suggestion=s, status=status, loss=loss, budget_reached=reached)


def test_new_configurations_get_ids_in_ask_order():
    sched = Plain(problem(), 0, Recording(problem(), 0))
    first, second = sched.ask(2), sched.ask(1)
    assert [s.config_id for s in first + second] == [0, 1, 2]
    assert [s.config["x"] for s in first + second] == [0, 1, 2]


def test_the_searcher_learns_done_losses_and_none_for_every_failure():
    searcher = Recording(problem(), 0)
    sched = Plain(problem(), 0, searcher)
    a, b, c, d = sched.ask(4)
    sched.tell(told(a, Status.DONE, 0.25))
    sched.tell(told(b, Status.FAILED, 0.5))  # a failure's value is never a number the searcher ranks
    sched.tell(told(c, Status.TIMEOUT, None))
    sched.tell(told(d, Status.INTERRUPTED, 0.1))
    assert searcher.seen == [(a.config, 3, 0.25), (b.config, 3, None), (c.config, 3, None), (d.config, 3, None)]
    assert searcher.pending == {}


def test_a_pruned_trial_is_filed_under_the_step_it_reached_with_its_last_value():
    searcher = Recording(problem(), 0)
    sched = Plain(problem(), 0, searcher)
    a, b, c = sched.ask(3)
    sched.tell(told(a, Status.STOPPED, 0.75, reached=2))
    sched.tell(told(b, Status.STOPPED, None, reached=2))  # no value reported: a failure at its budget
    sched.tell(told(c, Status.STOPPED, 0.5, reached=None))  # no step known: its own budget, as a failure
    assert searcher.seen == [(a.config, 2, 0.75), (b.config, 3, None), (c.config, 3, None)]


def test_the_searcher_sees_its_own_configuration_for_a_known_id():
    searcher = Recording(problem(), 0)
    sched = Plain(problem(), 0, searcher)
    (a,) = sched.ask(1)
    copy = Suggestion(config={"x": 8}, config_id=a.config_id, budget=3)
    sched.tell(told(copy, Status.DONE, 0.1))
    unknown = Suggestion(config={"x": 6}, config_id=99, budget=3)
    sched.tell(told(unknown, Status.DONE, 0.2))
    assert searcher.seen == [({"x": 0}, 3, 0.1), ({"x": 6}, 3, 0.2)]


def test_base_defaults_say_nothing_and_in_flight_follows_the_evaluations():
    sched = Plain(problem(), 0, Recording(problem(), 0))
    assert sched.max_evaluations() is None and sched.max_in_flight() is None
    assert sched.schedule_note() is None and sched.rung_budgets() is None
    assert Plain.default_max_evals() is None and Plain.budget_options(problem(), {}, 10.0) == {}
    assert sched.done_reason() == "the search is complete: plain has nothing left to evaluate"
    assert Plain.searcher_problem(problem(True), {}).fixed == {}

    class Ten(Plain):
        def max_evaluations(self):
            return 10

    assert Ten(problem(), 0, Recording(problem(), 0)).max_in_flight() == 10
    with pytest.raises(NotImplementedError):
        Scheduler(problem(), 0, Recording(problem(), 0)).ask(1)
    with pytest.raises(NotImplementedError):
        Scheduler(problem(), 0, Recording(problem(), 0)).tell(None)


def test_enqueue_goes_to_the_searcher():
    sched = Plain(problem(), 0, Recording(problem(), 0))
    assert sched.enqueue({"x": 8}) == {"x": 8}
    assert [s.config for s in sched.ask(2)] == [{"x": 8}, {"x": 0}]


# -- warm start --------------------------------------------------------------------------------
EARLIER = [Observation({"x": 1}, None, 0.5), Observation({"x": 2}, None, 0.25)]


def test_fifo_hands_on_every_earlier_evaluation_under_one_fidelity():
    searcher = Recording(problem(), 0, warm_incumbents=0)
    sched = FifoScheduler(problem(), 0, searcher)
    mf = [Observation({"x": 1, "epochs": 3}, 3, 0.5)]
    assert sched.usable(mf) == [Observation({"x": 1, "epochs": 3}, None, 0.5)]
    assert sched.warm_start(EARLIER) == 2
    assert searcher.seen == [({"x": 1}, None, 0.5), ({"x": 2}, None, 0.25)]


def test_a_multi_fidelity_scheduler_keeps_evaluations_on_its_rungs_with_the_resource_pinned():
    p = problem(True)
    sched = make_scheduler("asha", p, 0, {"max_resource": 9, "min_resource": 1, "eta": 3})
    assert sched.rung_budgets() == [1, 3, 9]
    earlier = [Observation({"x": 1, "epochs": 3}, 3, 0.5), Observation({"x": 2, "epochs": 2}, 2, 0.1),
               Observation({"x": 3, "epochs": 9}, 9.0, 0.2), Observation({"x": 4, "epochs": 9}, None, 0.3),
               Observation({"x": 5, "epochs": 1}, 1, 0.4)]
    assert sched.usable(earlier) == [Observation({"x": 1, "epochs": 9}, 3, 0.5),
                                     Observation({"x": 3, "epochs": 9}, 9, 0.2),
                                     Observation({"x": 5, "epochs": 9}, 1, 0.4)]
    assert sched.searcher.problem.fixed == {"epochs": 9}
    assert FifoScheduler.searcher_problem(p, {}) is p


def test_fifo_runs_each_configuration_once_at_its_own_resource_value():
    p = problem(True)
    searcher = Recording(p, 0)
    sched = FifoScheduler(p, 0, searcher)
    a, b = sched.ask(2)
    assert (a.config_id, a.budget, b.config_id, b.budget) == (0, 9, 1, 9)
    sched.tell(told(a, Status.DONE, 0.5))
    assert searcher.seen == [(a.config, None, 0.5)]  # one fidelity
    assert FifoScheduler.default_max_evals() == 100
    plain = FifoScheduler(problem(), 0, Recording(problem(), 0))
    assert [s.budget for s in plain.ask(2)] == [None, None]
    assert plain.max_evaluations() is None


def test_a_scheduler_refuses_an_option_it_does_not_take_naming_itself():
    from hpsearch.search import OptionError

    with pytest.raises(OptionError, match=r"^--eta: does not apply to scheduler fifo \(its options: none\)$"):
        FifoScheduler(problem(), 0, Recording(problem(), 0), eta=3)


def test_a_multi_fidelity_schedulers_searcher_problem_names_the_scheduler_when_there_is_no_resource():
    from hpsearch.search import OptionError
    from hpsearch.search.schedulers.asha import AshaScheduler

    with pytest.raises(OptionError, match=r"^--algo asha: the problem declares no resource dimension"):
        AshaScheduler.searcher_problem(problem(), {})


def test_new_configurations_come_from_the_named_stream_and_know_their_budget():
    from hpsearch.search.searchers.random import RandomSearcher

    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("u", (0.0, 1.0), default=0.5)
    sched = Plain(p, 3, RandomSearcher(p, 3))
    sched.new_configs(1)  # the default
    got = [c for _cid, c in sched.new_configs(2, stream=(1, 2))]
    alone = RandomSearcher(p, 3)
    alone.suggest(1)
    assert got == alone.suggest(2, stream=(1, 2))
    mf = Recording(problem(), 0, multi_fidelity=True)
    sched = Plain(problem(), 0, mf)
    sched.new_configs(1, full_budget=True)
    assert mf.full_budget is True
    sched.new_configs(1)
    assert mf.full_budget is False
