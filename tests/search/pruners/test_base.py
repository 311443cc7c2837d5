"""What every rung-based pruner shares: the step range (options, else the resource's bounds, a --fix pin
as the maximum, else 1 and no maximum), its rules and messages, and the pruner options the CLI offers."""
from __future__ import annotations

import pytest

from hpsearch import HpProblem
from hpsearch.search.pruners import PrunerOptionError, all_options, make_pruner, pruner_class


def with_resource(low=2, high=54) -> HpProblem:
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("epochs", (low, high), default=low, resource=True)
    return p


def rungs_seen(pruner, steps) -> list:
    """Those of ``steps`` that are rungs: a second trial, tied with the first everywhere before, is
    stopped there for a worse loss (a fresh pruner per step)."""
    out = []
    for step in steps:
        p = pruner()
        p.report(0, step, 0.0)  # recorded at every rung up to step
        for earlier in [s for s in steps if s < step]:
            p.report(1, earlier, 0.0)  # a tie: goes on
        if p.report(1, step, 1.0):
            out.append(step)
    return out


def test_the_resource_bounds_are_the_default_step_range(problem):
    assert make_pruner("asha", with_resource(), {}).step_range() == (2.0, 54.0)
    assert rungs_seen(lambda: make_pruner("asha", with_resource(), {}), [1, 2, 6, 18, 54]) == [2, 6, 18]
    assert make_pruner("asha", problem, {}).step_range() == (1.0, None)  # no resource: 1 and no maximum


def test_options_override_the_resource_bounds():
    p = make_pruner("asha", with_resource(), {"min_resource": 3, "max_resource": 27})
    assert p.step_range() == (3.0, 27.0)
    assert rungs_seen(lambda: make_pruner("asha", with_resource(), {"max_resource": 18}), [2, 6, 18]) == [2, 6]


def test_a_fixed_resource_is_the_maximum():
    pinned = with_resource().fix({"epochs": "18"})
    assert make_pruner("asha", pinned, {}).step_range() == (2.0, 18.0)
    assert make_pruner("hyperband", pinned, {}).step_range() == (2.0, 18.0)


@pytest.mark.parametrize("options, message", [
    ({"min_resource": 54}, "--pruner-min-resource must be < --pruner-max-resource (54), got 54"),
    ({"max_resource": 2}, "--pruner-min-resource must be < --pruner-max-resource (2), got 2"),
])
def test_step_range_errors_name_the_pruner_flags(options, message):
    with pytest.raises(PrunerOptionError) as info:
        make_pruner("asha", with_resource(), options)
    assert str(info.value).startswith(message)


def test_the_cli_offers_every_pruners_options_once():
    assert sorted(all_options()) == ["eta", "grace_period", "max_resource", "min_resource", "min_trials"]
    assert all(o.prefix == "pruner-" for o in all_options().values())


def test_an_unknown_pruner_and_options_without_a_pruner(problem):
    with pytest.raises(PrunerOptionError, match=r"^--pruner: unknown pruner 'nope' \(choose from asha, "
                                                r"hyperband, median\)$"):
        pruner_class("nope")
    with pytest.raises(PrunerOptionError, match=r"^--pruner-grace-period: needs --pruner$"):
        make_pruner(None, problem, {"grace_period": 2})
    assert make_pruner(None, problem, {"grace_period": None}) is None
    assert make_pruner("median", problem, {"grace_period": None}).options["grace_period"] == 1
