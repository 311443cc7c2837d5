"""The scheduler has one name; the previous release's names still import and are the same objects."""
import pytest

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


def test_the_previous_scheduler_name_is_looked_up_when_used_and_other_names_are_missing():
    import hpsearch.search.base as base

    assert base.SearchBackend is Scheduler  # looked up now, not when this file was imported
    with pytest.raises(AttributeError) as info:
        getattr(base, "SearchBackends")  # noqa: B009 - the name is looked up at run time on purpose
    assert str(info.value) == "module 'hpsearch.search.base' has no attribute 'SearchBackends'"


def test_wait_and_done_are_named_and_false():
    assert (repr(search.WAIT), repr(search.DONE)) == ("WAIT", "DONE")
    assert (search.WAIT.name, search.DONE.name) == ("WAIT", "DONE")
    assert not search.WAIT and not search.DONE  # `if not got:` treats them as nothing to run
