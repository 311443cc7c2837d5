"""The scheduler has one name; the previous release's names still import and are the same objects."""
import hpsearch.search as search
from hpsearch.search.base import BackendOptionError, OptionError, SearchBackend
from hpsearch.search.schedulers.base import Scheduler


def test_previous_names_are_aliases_of_the_scheduler():
    assert SearchBackend is search.SearchBackend is search.Scheduler is Scheduler
    assert search.make_backend is search.make_scheduler
    assert search.backend_class is search.algo_scheduler_class
    assert BackendOptionError is search.BackendOptionError is OptionError is search.OptionError


def test_every_preset_runs_a_scheduler():
    for algo in search.PRESETS:
        assert issubclass(search.algo_scheduler_class(algo), Scheduler)
    assert search.scheduler_class("fifo") is search.algo_scheduler_class("random")
