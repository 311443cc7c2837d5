"""The presets' registry: every option of every component listed once with the components that take it,
and the one line naming both components' options when an option applies to neither."""
import pytest

from hpsearch.search import OptionError
from hpsearch.search.presets import all_options, route_options


def test_every_option_is_listed_once_with_every_component_that_takes_it():
    listed = [(opt.name, who) for opt, who in all_options()]
    assert listed == [
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
        "--min-bandwidth, --n-samples, --random-fraction, --warm-incumbents, --prior)")
    with pytest.raises(OptionError, match=r"^--eta: does not apply to --algo random \(scheduler fifo takes none; "
                       r"searcher random takes --prior\)$"):
        route_options("random", None, {"eta": 3})
