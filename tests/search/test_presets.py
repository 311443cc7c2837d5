"""The presets' registry: every option of every component listed once with the components that take it,
and the one line naming both components' options when an option applies to neither."""
import pytest

from hpsearch.search import OptionError
from hpsearch.search.presets import all_options, route_options


def test_every_option_is_listed_once_with_every_component_that_takes_it():
    listed = [(opt.name, who) for opt, who in all_options()]
    assert listed == [
        ("schedule", ["preset bohb"]),
        ("max_resource", ["scheduler hyperband", "scheduler asha"]),
        ("min_resource", ["scheduler hyperband", "scheduler asha"]),
        ("eta", ["scheduler hyperband", "scheduler asha"]),
        ("iterations", ["scheduler hyperband"]),
        ("brackets", ["scheduler hyperband"]),
        ("max_configs", ["scheduler asha"]),
        ("prior", ["searcher random", "searcher bayesian", "searcher kde"]),
        ("initial_points", ["searcher bayesian"]),
        ("base_estimator", ["searcher bayesian"]),
        ("acq_func", ["searcher bayesian"]),
        ("kappa", ["searcher bayesian"]),
        ("xi", ["searcher bayesian"]),
        ("max_train", ["searcher bayesian"]),
        ("mo_acquisition", ["searcher bayesian"]),
        ("random_fraction", ["searcher bayesian", "searcher kde"]),
        ("warm_incumbents", ["searcher bayesian", "searcher kde"]),
        ("fidelities", ["searcher bayesian", "searcher kde"]),
        ("top_fraction", ["searcher kde"]),
        ("bandwidth_factor", ["searcher kde"]),
        ("min_bandwidth", ["searcher kde"]),
        ("n_samples", ["searcher kde"]),
    ]
    assert all(opt.flag == "--" + opt.name.replace("_", "-") for opt, _ in all_options())


def test_an_option_neither_component_takes_names_both_components_options():
    with pytest.raises(OptionError) as info:
        route_options("asha", "kde", {"n_initial_points": 3})
    assert str(info.value) == (
        "--n-initial-points: does not apply to --algo asha+kde (scheduler asha takes --max-resource, "
        "--min-resource, --eta, --max-configs; searcher kde takes --top-fraction, --bandwidth-factor, "
        "--min-bandwidth, --n-samples, --random-fraction, --warm-incumbents, --prior, --fidelities)")
    with pytest.raises(OptionError, match=r"^--eta: does not apply to --algo random \(scheduler fifo takes none; "
                       r"searcher random takes --prior\)$"):
        route_options("random", None, {"eta": 3})


# -- names ---------------------------------------------------------------------------------------
def test_a_preset_names_its_scheduler_and_searcher_and_aliases_resolve():
    from hpsearch.search.presets import resolve

    assert resolve("random") == ("random", "fifo", "random")
    assert resolve("bayesian") == ("bayesian", "fifo", "bayesian")
    assert resolve("skopt") == ("bayesian", "fifo", "bayesian")
    assert resolve("hyperband") == ("hyperband", "hyperband", "random")
    assert resolve("asha", "tpe") == ("asha", "asha", "kde")
    assert resolve("bohb", "skopt") == ("bohb", "hyperband", "bayesian")
    assert resolve("hyperband", "random") == ("hyperband", "hyperband", "random")


def test_unknown_names_are_one_line_listing_the_choices():
    from hpsearch.search.presets import resolve

    with pytest.raises(OptionError) as info:
        resolve("grid")
    assert str(info.value) == "--algo: unknown algorithm 'grid' (choose from asha, bayesian, bohb, hyperband, random)"
    with pytest.raises(OptionError) as info:
        resolve("asha", "cmaes")
    assert str(info.value) == "--searcher: unknown searcher 'cmaes' (choose from bayesian, kde, random)"


def test_a_searcher_that_serves_some_schedulers_is_refused_by_the_others(monkeypatch):
    from hpsearch.search.presets import resolve
    from hpsearch.search.searchers.kde import KdeSearcher

    monkeypatch.setattr(KdeSearcher, "serves", ("fifo", "hyperband"))
    assert resolve("random", "kde") == ("random", "fifo", "kde")
    assert resolve("bohb", "kde") == ("bohb", "hyperband", "kde")
    with pytest.raises(OptionError) as info:
        resolve("asha", "tpe")
    assert str(info.value) == ("--searcher kde: cannot serve --algo asha (scheduler asha); "
                               "it serves fifo, hyperband")


def test_split_algo_and_label_name_a_combination_once():
    from hpsearch.search.presets import label, split_algo

    assert split_algo("asha+bayesian") == ("asha", "bayesian")
    assert split_algo(" asha + kde ") == ("asha", "kde")
    assert split_algo("asha") == ("asha", None)
    assert split_algo("asha+") == ("asha", None)
    assert label("asha", None) == "asha"
    assert label("asha", "random") == "asha"  # the preset's own searcher
    assert label("bohb", "skopt") == "bohb"
    assert label("asha", "tpe") == "asha+kde"
    assert label("skopt", "kde") == "bayesian+kde"
    assert label("hyperband", "bayesian") == "hyperband+bayesian"


def test_classes_by_name():
    from hpsearch.search.presets import algo_scheduler_class, scheduler_class, searcher_class
    from hpsearch.search.schedulers.asha import AshaScheduler
    from hpsearch.search.schedulers.fifo import FifoScheduler
    from hpsearch.search.schedulers.hyperband import HyperbandScheduler
    from hpsearch.search.searchers.bayesian import BayesianSearcher
    from hpsearch.search.searchers.kde import KdeSearcher

    assert searcher_class("tpe") is KdeSearcher and searcher_class("skopt") is BayesianSearcher
    assert scheduler_class("asha") is AshaScheduler
    assert algo_scheduler_class("bohb") is HyperbandScheduler
    assert algo_scheduler_class("bayesian", "kde") is FifoScheduler


# -- options ---------------------------------------------------------------------------------------
def test_options_go_to_the_component_that_declares_them_and_none_means_not_given():
    assert route_options("asha", "kde", {"eta": 4, "top_fraction": 0.2, "kappa": None, "max_configs": None}) == \
        ({"eta": 4}, {"top_fraction": 0.2})
    assert route_options("random", None, {"prior": "default"}) == ({}, {"prior": "default"})


def test_a_presets_own_defaults_apply_unless_the_option_is_given():
    pooled = {"fidelities": "all"}
    assert route_options("bohb", None, {}) == ({"brackets": "then-full"}, pooled)
    assert route_options("bohb", None, {"brackets": None}) == ({"brackets": "then-full"}, pooled)
    assert route_options("bohb", None, {"brackets": "all"}) == ({"brackets": "all"}, pooled)
    assert route_options("bohb", None, {"fidelities": "largest"}) == ({"brackets": "then-full"},
                                                                      {"fidelities": "largest"})
    assert route_options("hyperband", None, {}) == ({}, {})


def test_make_scheduler_builds_the_scheduler_owning_its_searcher_with_the_options_routed():
    from hpsearch import HpProblem
    from hpsearch.search.presets import make_scheduler

    p = HpProblem(objective="y", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    p.add_dim("epochs", (1, 27), default=27, resource=True)
    sched = make_scheduler("asha", p, 7, {"eta": 3, "n_samples": 5, "kappa": None}, searcher="kde")
    assert sched.name == "asha" and sched.seed == 7 and sched.options["eta"] == 3
    assert sched.searcher.name == "kde" and sched.searcher.options["n_samples"] == 5
    assert sched.searcher.seed == 7 and sched.searcher.multi_fidelity is True
    assert sched.searcher.problem.fixed == {"epochs": 27}  # the scheduler sets the resource
    fifo = make_scheduler("random", p, 3, {})
    assert fifo.searcher.multi_fidelity is False and fifo.searcher.problem.fixed == {}
    assert fifo.searcher.name == "random" and fifo.searcher.seed == 3


def test_naming_a_combination_checks_its_searcher():
    from hpsearch.search.presets import algo_scheduler_class, label

    with pytest.raises(OptionError, match=r"^--searcher: unknown searcher 'nope'"):
        algo_scheduler_class("asha", "nope")
    with pytest.raises(OptionError, match=r"^--searcher: unknown searcher 'nope'"):
        label("asha", "nope")
