"""Every registered searcher runs the searcher contract; every scheduler, alone and paired with every
searcher, runs the scheduler contract (through the real engine for resume), and so does every schedule
a preset chooses between (bohb's synchronous and asynchronous ones)."""
from __future__ import annotations

import pytest

from hpsearch.search import PRESETS, SCHEDULERS, SEARCHERS

from .contract_scheduler import SchedulerContract
from .contract_searcher import SearcherContract


@pytest.fixture(params=sorted(SEARCHERS))
def searcher_name(request):
    return request.param


class TestSearchers(SearcherContract):
    @pytest.fixture(autouse=True)
    def _name(self, searcher_name):
        self.name = searcher_name


@pytest.fixture(params=[(sc, se) for sc in sorted(SCHEDULERS) for se in sorted(SEARCHERS)],
                ids=lambda p: f"{p[0]}+{p[1]}")
def pair(request):
    return request.param


class TestSchedulerSearcherPairs(SchedulerContract):
    @pytest.fixture(autouse=True)
    def _pair(self, pair):
        self.scheduler, self.searcher = pair


@pytest.fixture(params=[(sc, se) for sc in ("asha", "hyperband") for se in ("bayesian", "kde")],
                ids=lambda p: f"{p[0]}+{p[1]}")
def pooled_pair(request):
    return request.param


class TestPooledModelPairs(SchedulerContract):
    """The model searchers learning from every budget (``--fidelities all``) under each multi-fidelity
    scheduler."""

    extra = {"fidelities": "all"}

    @pytest.fixture(autouse=True)
    def _pair(self, pooled_pair):
        self.scheduler, self.searcher = pooled_pair


@pytest.fixture(params=[(name, schedule) for name, p in sorted(PRESETS.items()) if p.asynchronous
                        for schedule in ("sync", "async")], ids=lambda p: f"{p[0]}-{p[1]}")
def preset_schedule(request):
    return request.param


class TestPresetSchedules(SchedulerContract):
    """A preset that chooses its scheduler (bohb: Hyperband or ASHA), with each choice and its own searcher."""

    @pytest.fixture(autouse=True)
    def _preset(self, preset_schedule):
        self.algo, schedule = preset_schedule
        preset = PRESETS[self.algo]
        self.scheduler = preset.asynchronous if schedule == "async" else preset.scheduler
        self.searcher, self.extra = preset.searcher, {"schedule": schedule}
