"""``--algo`` names are presets: a scheduler and a searcher; ``--searcher`` swaps the searcher.

    >>> resolve("bohb")
    ('bohb', 'hyperband', 'bayesian')
    >>> resolve("asha", "bayesian")
    ('asha', 'asha', 'bayesian')
    >>> split_algo("asha+bayesian")
    ('asha', 'bayesian')

Options given on the command line are routed to the component that declares
them; one that neither takes is refused with one line naming the option and
both components.

A preset may run another scheduler when many workers are in flight: ``bohb``
runs synchronous Hyperband up to :data:`ASYNC_FROM` workers and ASHA's
asynchronous promotions, with the same model, from there on (``--schedule``,
declared once here as :data:`SCHEDULE`). A run stores the schedule it chose,
so a resume replays it whatever ``--workers`` it is given:

    >>> choose_schedule("bohb", None, {}, workers=64)
    {'schedule': 'async'}
    >>> resolve("bohb", None, {"schedule": "async"})
    ('bohb', 'asha', 'bayesian')
    >>> choose_schedule("asha", None, {"eta": 3}, workers=64)
    {'eta': 3}
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from ..problem.space import HpProblem
from .base import OptionError
from .options import Option, recorded, replayed

__all__ = ["Preset", "PRESETS", "SCHEDULE", "SCHEDULES", "ASYNC_FROM", "PRESET_OPTIONS", "choose_schedule",
           "ALIASES", "SEARCHERS", "SEARCHER_ALIASES", "SCHEDULERS", "resolve",
           "split_algo", "searcher_class", "scheduler_class", "algo_scheduler_class", "route_options",
           "make_scheduler", "all_options", "label", "backend_class", "make_backend", "options_to_store",
           "options_to_resume"]


@dataclass(frozen=True)
class Preset:
    """An ``--algo`` name: its scheduler, its default searcher and one line for the docs."""

    scheduler: str
    searcher: str
    summary: str
    options: tuple[tuple[str, Any], ...] = ()  # the preset's own defaults for its components' options
    #: the scheduler of ``--schedule async`` (None: the preset has one schedule, ``scheduler``)
    asynchronous: str | None = None


#: ``--schedule`` choices: ``auto`` decides from the workers, ``sync`` and ``async`` are what it decides.
SCHEDULES = ("auto", "sync", "async")
#: from this many workers on, ``--schedule auto`` is ``async``. Measured with ``tests/perf/bench_scale.py``
#: (mfhartmann6, 64 R; median final regret sync / async, and virtual seconds to hyperband-on-1-worker's
#: final regret): 1 worker 0.034 / 0.13 (10 seeds); 8 workers 0.22 / 0.12 but 131 / 204 s (10 seeds);
#: 16 workers 0.15 / 0.16, 100 / 99 s; 32 workers 0.33 / 0.21, 81 / 83 s; 64 workers 0.41 / 0.14, 77 / 77 s
#: (5 seeds). Below 32 sync is ahead early and the end is mixed; from 32 on async ends lower, as soon.
ASYNC_FROM = 32
SCHEDULE = Option("schedule", str, "auto",
                  "bohb: 'sync' runs Hyperband's brackets, which wait at rung boundaries (BOHB as "
                  "published); 'async' promotes as ASHA does, with the same model learning from every budget "
                  f"(asynchronous BOHB); 'auto' is async from {ASYNC_FROM} workers on, sync below (the run "
                  "stores its choice, so a resume replays it).", choices=SCHEDULES)
#: options of a preset itself (not of its components): they choose the components.
PRESET_OPTIONS: tuple[Option, ...] = (SCHEDULE,)


#: --algo name -> preset.
PRESETS: dict[str, Preset] = {
    "random": Preset("fifo", "random", "independent draws from each prior"),
    "bayesian": Preset("fifo", "bayesian", "model-based search on scikit-optimize's surrogates"),
    "hyperband": Preset("hyperband", "random", "Hyperband (Li et al., JMLR 2018), exact to the paper"),
    "asha": Preset("asha", "random", "asynchronous successive halving (Li et al., MLSys 2020)"),
    "bohb": Preset("hyperband", "bayesian", "Hyperband guided by a model fitted on the largest budget with "
                   "enough results, as BOHB (Falkner et al., ICML 2018), and on every budget before one has "
                   "them; after the first pass, the model's choices at the full budget. From "
                   f"{ASYNC_FROM} workers on (--schedule), ASHA's asynchronous promotions with the same "
                   "model, as asynchronous BOHB",
                   options=(("brackets", "then-full"), ("fidelities", "all")), asynchronous="asha"),
}
ALIASES: dict[str, str] = {"skopt": "bayesian"}

#: --searcher name -> "module:Class" (relative to this package), imported on first use.
SEARCHERS: dict[str, str] = {
    "random": "searchers.random:RandomSearcher",
    "bayesian": "searchers.bayesian:BayesianSearcher",
    "kde": "searchers.kde:KdeSearcher",
}
SEARCHER_ALIASES: dict[str, str] = {"skopt": "bayesian", "tpe": "kde"}

#: scheduler name -> "module:Class".
SCHEDULERS: dict[str, str] = {
    "fifo": "schedulers.fifo:FifoScheduler",
    "hyperband": "schedulers.hyperband:HyperbandScheduler",
    "asha": "schedulers.asha:AshaScheduler",
}


def _load(target: str) -> Any:
    module, cls = target.split(":")
    return getattr(importlib.import_module(f".{module}", __package__), cls)


def split_algo(text: str) -> tuple[str, str | None]:
    """``"asha+bayesian"`` -> ``("asha", "bayesian")``; ``"asha"`` -> ``("asha", None)``."""
    algo, plus, searcher = text.partition("+")
    return algo.strip(), (searcher.strip() or None) if plus else None


def label(algo: str, searcher: str | None) -> str:
    """How a combination is named in tables and directories: ``asha+bayesian``, or the preset's name."""
    name, scheduler, default = resolve(algo, searcher)
    return name if searcher is None or SEARCHER_ALIASES.get(searcher, searcher) == PRESETS[name].searcher \
        else f"{name}+{SEARCHER_ALIASES.get(searcher, searcher)}"


def _preset(algo: str) -> tuple[str, Preset]:
    name = ALIASES.get(algo, algo)
    if name not in PRESETS:
        raise OptionError(f"--algo: unknown algorithm {algo!r} "
                          f"(choose from {', '.join(sorted(PRESETS))})")
    return name, PRESETS[name]


def _schedule(name: str, preset: Preset, options: dict[str, Any] | None) -> str:
    """The scheduler ``options`` choose for the preset (``--schedule auto`` or none given: sync)."""
    value = (options or {}).get("schedule")
    if value is None:
        return preset.scheduler
    if preset.asynchronous is None:
        raise OptionError(f"--schedule: does not apply to --algo {name} (it has one schedule, "
                          f"scheduler {preset.scheduler})")
    return preset.asynchronous if SCHEDULE.check(value) == "async" else preset.scheduler


def choose_schedule(algo: str, searcher: str | None, options: dict[str, Any], workers: int) -> dict[str, Any]:
    """``options`` with ``--schedule auto`` (or none given) decided for ``workers`` workers, for a preset
    that has a choice (others: ``options`` unchanged). What a new run stores, so a resume replays it.

    >>> choose_schedule("bohb", None, {"schedule": "auto"}, workers=8)
    {'schedule': 'sync'}
    >>> choose_schedule("bohb", None, {"schedule": "sync"}, workers=256)
    {'schedule': 'sync'}
    """
    name, preset = _preset(algo)
    value = options.get("schedule")
    if preset.asynchronous is None:
        _schedule(name, preset, options)  # a --schedule given to a preset without one: refused
        return dict(options)
    value = "auto" if value is None else SCHEDULE.check(value)
    if value == "auto":
        value = "async" if workers >= ASYNC_FROM else "sync"
    return {**options, "schedule": value}


def resolve(algo: str, searcher: str | None = None, options: dict[str, Any] | None = None
            ) -> tuple[str, str, str]:
    """``(preset name, scheduler name, searcher name)``; unknown names are a one-line usage error.

    ``options``: the run's options, whose ``schedule`` picks the scheduler of a preset that has a choice.
    """
    name, preset = _preset(algo)
    scheduler = _schedule(name, preset, options)
    chosen = preset.searcher if searcher is None else SEARCHER_ALIASES.get(searcher, searcher)
    if chosen not in SEARCHERS:
        raise OptionError(f"--searcher: unknown searcher {searcher!r} "
                          f"(choose from {', '.join(sorted(SEARCHERS))})")
    serves = _load(SEARCHERS[chosen]).serves
    if serves is not None and scheduler not in serves:
        raise OptionError(f"--searcher {chosen}: cannot serve --algo {name} (scheduler "
                          f"{scheduler}); it serves {', '.join(serves)}")
    return name, scheduler, chosen


def searcher_class(name: str) -> Any:
    """The searcher class for a ``--searcher`` name or alias."""
    return _load(SEARCHERS[SEARCHER_ALIASES.get(name, name)])


def scheduler_class(name: str) -> Any:
    """The scheduler class for a scheduler name (``fifo``, ``hyperband``, ``asha``)."""
    return _load(SCHEDULERS[name])


def algo_scheduler_class(algo: str, searcher: str | None = None,
                         options: dict[str, Any] | None = None) -> Any:
    """The scheduler class an ``--algo`` preset runs (what the engine talks to) with ``options``."""
    return scheduler_class(resolve(algo, searcher, options)[1])


def _flags(options: tuple[Option, ...]) -> str:
    return ", ".join(o.flag for o in options) or "none"


def route_options(algo: str, searcher: str | None, options: dict[str, Any]
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``options`` (None values: not given) into the scheduler's and the searcher's.

    The preset's own options (``schedule``) choose the scheduler and go to neither.

    Raises:
        OptionError: an option neither component takes, named with both components.
    """
    name, sched_name, search_name = resolve(algo, searcher, options)
    sched, srch = scheduler_class(sched_name), searcher_class(search_name)
    mine = {o.name for o in sched.OPTIONS}
    theirs = {o.name for o in srch.OPTIONS}
    own = {o.name for o in PRESET_OPTIONS}
    for key, value in options.items():
        if value is not None and key not in mine and key not in theirs and key not in own:
            raise OptionError(
                f"--{key.replace('_', '-')}: does not apply to --algo {label(algo, searcher)} "
                f"(scheduler {sched_name} takes {_flags(sched.OPTIONS)}; "
                f"searcher {search_name} takes {_flags(srch.OPTIONS)})")
    given = {**dict(PRESETS[name].options), **{k: v for k, v in options.items() if v is not None}}
    return ({k: v for k, v in given.items() if k in mine}, {k: v for k, v in given.items() if k in theirs})


def _declared(algo: str, searcher: str | None, options: dict[str, Any] | None = None) -> tuple[Option, ...]:
    _, sched_name, search_name = resolve(algo, searcher, options)
    return (*scheduler_class(sched_name).OPTIONS, *searcher_class(search_name).OPTIONS)


def options_to_store(algo: str, searcher: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """A new run's options as it stores them: ``options`` plus the value it will use of each option
    whose default may change what a resume does (:attr:`Option.absent`, e.g. a preset's ``--fidelities``).

        >>> options_to_store("bohb", None, {})  # the preset's --fidelities all
        {'fidelities': 'all'}
        >>> options_to_store("asha", "bayesian", {"eta": 3})  # the value older runs had: nothing to add
        {'eta': 3}
    """
    sched_opts, search_opts = route_options(algo, searcher, options)
    declared = _declared(algo, searcher, options)
    effective = {o.name: o.default for o in declared} | sched_opts | search_opts
    return recorded(declared, effective, options)


def options_to_resume(algo: str, searcher: str | None, stored: dict[str, Any]) -> dict[str, Any]:
    """A stored run's options as it resumes: an option it does not record gets the value runs had
    before that option could change (:attr:`Option.absent`), so the run replays as it ran.

        >>> options_to_resume("bohb", None, {})["fidelities"]
        'largest'
    """
    return replayed(_declared(algo, searcher, stored), stored)


def make_scheduler(algo: str, problem: HpProblem, seed: int | None, options: dict[str, Any],
                   searcher: str | None = None) -> Any:
    """The scheduler of ``--algo`` (with ``--searcher``), owning its searcher, ready to ask.

    Options set to None are left at the components' defaults; ``schedule`` left at ``auto`` is
    ``sync`` here (the workers are not known: :func:`choose_schedule` decides that for a run).
    """
    _, sched_name, search_name = resolve(algo, searcher, options)
    sched_opts, search_opts = route_options(algo, searcher, options)
    sched = scheduler_class(sched_name)
    search_problem = sched.searcher_problem(problem, sched_opts)
    owned = searcher_class(search_name)(search_problem, seed, multi_fidelity=sched.multi_fidelity,
                                        **search_opts)
    return sched(problem, seed, owned, **sched_opts)


# The previous release's names, kept for code written against it.
backend_class = algo_scheduler_class
make_backend = make_scheduler


def all_options() -> list[tuple[Option, list[str]]]:
    """Every option of every registered component, once, with the components that take it (the
    presets' own options first, taken by the presets that have a choice)."""
    seen: dict[str, tuple[Option, list[str]]] = {}
    presets = [(f"preset {n}", PRESET_OPTIONS) for n, p in PRESETS.items() if p.asynchronous is not None]
    parts = presets + [(f"scheduler {n}", scheduler_class(n).OPTIONS) for n in SCHEDULERS] \
        + [(f"searcher {n}", searcher_class(n).OPTIONS) for n in SEARCHERS]
    for who, options in parts:
        for opt in options:
            if opt.name in seen:
                seen[opt.name][1].append(who)
            else:
                seen[opt.name] = (opt, [who])
    return list(seen.values())
