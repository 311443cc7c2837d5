"""Multi-fidelity search quality: hps algorithms and peers side by side, regret at 10/25/50/100 %.

For each multi-fidelity benchmark (``--problems``), ``--seeds`` seeds and a
budget of ``--budget-r`` full evaluations (100 R by default, in resource units:
what was trained):

* the hps algorithms of ``--algos`` (``A+S`` means ``--algo A --searcher S``;
  ``A@name=value`` adds the option ``--name value``, e.g.
  ``bohb@fidelities=largest``, for ablations) through :mod:`hpsearch.compare`
  with the serial evaluator, into ``OUT/<problem>/hps`` (a normal comparison
  directory: rerunning the script continues it, and adding an algorithm runs
  only the new one; an algorithm with options gets a comparison directory of
  its own, ``OUT/<problem>/hps@name=value``). An algorithm the installed
  hpsearch does not know is skipped with a note;
* the peers of ``--peers``, each given the same space, the same R, r_min and
  eta, and the same budget: HpBandSter's BOHB (``hpbandster``, in-process
  nameserver on 127.0.0.1; unmaintained, its README recommends SMAC3 and DEHB),
  DEHB (``dehb``, ask/tell), SMAC3's ``HyperbandFacade`` (``smac-hb``: random
  configurations under Hyperband) and ``MultiFidelityFacade`` (``smac-mf``: its
  random forest under Hyperband), both ask/tell, and Optuna's TPESampler
  with its HyperbandPruner (``optuna``; the trial reports the benchmark's value
  after every unit of resource). Resource is counted as what was trained: the
  peers do not warm start, so an evaluation at budget b costs b (HpBandSter,
  DEHB, SMAC3) and an Optuna trial pruned after k steps cost k. A peer stops when
  what it trained reaches the budget (the evaluation that crosses it counts,
  as in ``hps compare``). Each peer run is stored in
  ``OUT/<problem>/peers/<peer>-seed<k>.json`` and not run again. A peer that is
  not installed is skipped with a note (``pip install "hpsearch[bench]"``).

The score is the regret ``|best - optimum|`` of the best *full-budget*
evaluation (budget == R) finished within 10, 25, 50 and 100 % of the budget
(100 %: the whole run), or the best objective when the problem declares no
optimum (sgddigits: best validation accuracy). Each benchmark gets a markdown
table (median [q25, q75] over seeds; the evaluations column counts Optuna's
trials, not the steps they reported) with a line per target (bohb at or below
min(hyperband, bayesian) at every fraction, within 2x of bayesian at 100 %, ahead of
HpBandSter BOHB, DEHB and SMAC3 at 50 and 100 %: met
or missed, and at which fractions; a tie counts as met), printed and written
to ``OUT/<problem>/table.md``; everything is also in ``OUT/results.json`` and
``OUT/report.md``, with the wall time of the invocation. Peers run in this
process.

    python tests/perf/bench_mf.py                       # the full run (long on a shared CPU)
    python tests/perf/bench_mf.py --seeds 5             # gauge the time first
    python tests/perf/bench_mf.py --quick               # smoke run: 2 seeds, 10 R, every problem
    python tests/perf/bench_mf.py --problems mfbranin --peers optuna --algos random,hyperband
    python tests/perf/bench_mf.py --report-only          # tables of what OUT holds, running nothing

Time (one core, measured with 5 seeds): per synthetic benchmark and seed about
1 CPU-minute for the four hps algorithms and DEHB and Optuna together, and 1 to
2 CPU-minutes more for HpBandSter's BOHB alone (its KDE sampling: ~0.1 s per
evaluation); sgddigits trains for real, about 4 CPU-minutes per seed. On a busy
shared machine multiply by the load. Runs are stored as they finish, so an
interrupted bench loses at most the run in progress.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import logging
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # measure the checkout this script is in
from hpsearch.problem.loader import LoadedProblem, load_problem  # noqa: E402
from hpsearch.reporting.comparison import summarise  # noqa: E402
from hpsearch.run.compare import (  # noqa: E402
    CompareConfig,
    ComparisonInterrupted,
    comparison_settings,
    run_comparison,
)
from hpsearch.run.engine import trial_seed  # noqa: E402
from hpsearch.trial import TrialSpec, execute_trial  # noqa: E402

PROBLEMS = ["hartmann6lc", "mfhartmann3", "mfhartmann6", "mfbranin", "sgddigits"]
ALGOS = ["random", "bayesian", "hyperband", "asha", "bohb", "asha+bayesian"]
PEERS = {"hpbandster-bohb": "hpbandster", "dehb": "dehb", "optuna-tpe-hb": "optuna", "smac-hb": "smac",
         "smac-mf": "smac"}
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
ETA = 3


# -- one run's record, whoever ran it ------------------------------------------------------
@dataclass
class Record:
    """One run: after each finished evaluation, the cumulative resource and the best score so far.

    The score is loss-like (lower is better): the regret when the optimum is
    known, else the objective with the sign of a loss.
    """

    algo: str
    seed: int
    spent: list[float] = field(default_factory=list)
    best: list[float] = field(default_factory=list)
    evaluations: int = 0
    wall_s: float = 0.0

    def add(self, cost: float, score: float | None) -> None:
        prev_spent = self.spent[-1] if self.spent else 0.0
        prev_best = self.best[-1] if self.best else math.inf
        self.spent.append(prev_spent + cost)
        self.best.append(prev_best if score is None else min(prev_best, score))
        self.evaluations += 1

    def total(self) -> float:
        return self.spent[-1] if self.spent else 0.0

    def within(self, limit: float | None) -> float:
        """Best score among evaluations finished within ``limit`` resource (None: all)."""
        if not self.best:
            return math.inf
        if limit is None:
            return self.best[-1]
        i = int(np.searchsorted(np.array(self.spent), limit, side="right"))
        return self.best[i - 1] if i > 0 else math.inf


@dataclass
class Bench:
    """One benchmark's settings, as every participant sees them."""

    lp: LoadedProblem
    r_max: int
    r_min: int
    budget: float

    @property
    def name(self) -> str:
        return self.lp.name

    def score(self, objective: float) -> float:
        """Lower is better: regret against the known optimum, else the loss."""
        p = self.lp.problem
        sign = -1.0 if p.direction == "maximize" else 1.0
        if p.optimum is not None:
            return max(sign * (objective - p.optimum), 0.0)
        return sign * objective

    def display(self, score: float) -> float:
        p = self.lp.problem
        return -score if p.optimum is None and p.direction == "maximize" else score

    @property
    def metric(self) -> str:
        p = self.lp.problem
        return "regret" if p.optimum is not None else f"best {p.objective}"


# -- the benchmark as a peer sees it: evaluate(config, budget) -> loss ---------------------------
class Objective:
    """Runs the problem's own ``run(config, trial)`` for a peer, counting resource as it is trained.

    Each distinct configuration gets a config id and a per-configuration seed
    (as hps's engine derives them from the run's seed), so a configuration's
    noise at a budget is the same whoever evaluates it. Checkpoints live in a
    temporary directory for this run only.
    """

    def __init__(self, bench: Bench, algo: str, seed: int, root: str):
        self.bench, self.seed, self.root = bench, seed, root
        self.record = Record(algo, seed)
        self._ids: dict[str, int] = {}
        self._trial = 0

    @property
    def exhausted(self) -> bool:
        return self.record.total() >= self.bench.budget

    def evaluate(self, config: dict, budget: int, previous: int = 0, key: str | None = None) -> float:
        """The loss of ``config`` trained to ``budget`` (from ``previous``); records cost and score."""
        lp, res = self.bench.lp, self.bench.lp.problem.resource
        key = key or repr(sorted(config.items()))
        config_id = self._ids.setdefault(key, len(self._ids))
        self._trial += 1
        full = {**config, res.name: int(budget)}
        spec = TrialSpec(trial_id=self._trial, config_id=config_id, config=full, budget=int(budget),
                         previous_budget=int(previous), seed=trial_seed(self.seed, config_id),
                         checkpoint_root=self.root, objective=lp.problem.objective)
        with lp.activate(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = execute_trial(lp.run, lp.accepts_trial, spec)
        ok = result.status == "done" and result.objective is not None
        loss = self.bench.score(result.objective) if ok else math.inf
        self.record.add(int(budget) - int(previous), loss if ok and int(budget) == self.bench.r_max else None)
        return loss if math.isfinite(loss) else 1e12


def _values(lp: LoadedProblem, raw: dict) -> dict:
    """A peer's configuration as hps values (plain Python types, checked against the space)."""
    return {d.name: d.check(raw[d.name].item() if hasattr(raw[d.name], "item") else raw[d.name])
            for d in lp.problem.dims if not d.resource}


def _search_dims(lp: LoadedProblem) -> list:
    return [d for d in lp.problem.dims if not d.resource]


def configspace(lp: LoadedProblem, seed: int):
    """The problem's space (resource excluded) as a ConfigSpace ``ConfigurationSpace``."""
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace(seed=seed)
    hps = []
    for d in _search_dims(lp):
        log = getattr(d, "prior", "") == "log-uniform"
        if d.kind == "continuous":
            hps.append(CS.UniformFloatHyperparameter(d.name, d.low, d.high, log=log))
        elif d.kind == "ordinal" and d.values is None:
            hps.append(CS.UniformIntegerHyperparameter(d.name, d.low, d.high, log=log))
        elif d.kind == "ordinal":
            hps.append(CS.OrdinalHyperparameter(d.name, list(d.values)))
        else:
            hps.append(CS.CategoricalHyperparameter(d.name, list(d.choices), weights=d.weights))
    cs.add(hps)
    return cs


# -- peers ----------------------------------------------------------------------------------------
def hpbandster_brackets_cost(r_max: int, r_min: int, eta: int, iterations: int) -> float:
    """Resource HpBandSter's BOHB trains in its first ``iterations`` brackets (no warm start)."""
    s_max = int(math.floor(math.log(r_max / r_min) / math.log(eta) + 1e-9)) + 1
    budgets = r_max * np.power(eta, -np.linspace(s_max - 1, 0, s_max))
    total = 0.0
    for it in range(iterations):
        s = s_max - 1 - (it % s_max)
        n0 = int(math.floor(s_max / (s + 1)) * eta**s)
        ns = [max(int(n0 * eta ** (-i)), 1) for i in range(s + 1)]
        total += sum(n * round(b) for n, b in zip(ns, budgets[-s - 1:]))
    return total


def run_hpbandster(bench: Bench, seed: int, root: str) -> Record:
    import random

    import Pyro4

    # ConfigSpace >= 1 hands out numpy strings, which Pyro's default serializer refuses.
    Pyro4.config.SERIALIZER = "pickle"
    Pyro4.config.SERIALIZERS_ACCEPTED.add("pickle")
    import hpbandster.core.nameserver as hpns
    from hpbandster.core.worker import Worker
    from hpbandster.optimizers import BOHB

    for name in ("hpbandster", "Pyro4", "BOHB"):
        logging.getLogger(name).setLevel(logging.ERROR)
    obj = Objective(bench, "hpbandster-bohb", seed, root)

    class BenchWorker(Worker):
        def compute(self, config, budget, **kwargs):
            if obj.exhausted:  # the budget is spent: the rest of this bracket is not counted
                return {"loss": 0.0, "info": {}}
            return {"loss": obj.evaluate(_values(bench.lp, config), int(round(budget))), "info": {}}

    np.random.seed(seed)
    random.seed(seed)
    iterations = 1
    while hpbandster_brackets_cost(bench.r_max, bench.r_min, ETA, iterations) < bench.budget:
        iterations += 1
    run_id = f"bench-mf-{os.getpid()}-{seed}"
    ns = hpns.NameServer(run_id=run_id, host="127.0.0.1", port=0)  # a free port, not Pyro's fixed 9090
    host, port = ns.start()
    worker = BenchWorker(nameserver=host, nameserver_port=port, run_id=run_id)
    worker.run(background=True)
    opt = BOHB(configspace=configspace(bench.lp, seed), run_id=run_id, nameserver=host,
               nameserver_port=port, min_budget=bench.r_min, max_budget=bench.r_max, eta=ETA)
    try:
        opt.run(n_iterations=iterations, min_n_workers=1)
    finally:
        opt.shutdown(shutdown_workers=True)
        ns.shutdown()
    return obj.record


def run_dehb(bench: Bench, seed: int, root: str) -> Record:
    from dehb import DEHB

    with contextlib.suppress(ImportError):
        from loguru import logger

        logger.remove()  # DEHB logs every bracket
    obj = Objective(bench, "dehb", seed, root)
    cs = configspace(bench.lp, seed)
    opt = DEHB(cs=cs, dimensions=len(list(cs.values())), min_fidelity=bench.r_min,
               max_fidelity=bench.r_max, eta=ETA, n_workers=1, seed=seed,
               output_path=os.path.join(root, "dehb"))
    while not obj.exhausted:
        job = opt.ask()
        fidelity = int(round(float(job["fidelity"])))
        loss = obj.evaluate(_values(bench.lp, job["config"]), fidelity)
        opt.tell(job, {"fitness": loss, "cost": fidelity})
    return obj.record


def run_optuna(bench: Bench, seed: int, root: str) -> Record:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    obj = Objective(bench, "optuna-tpe-hb", seed, root)
    study = optuna.create_study(
        direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(min_resource=bench.r_min, max_resource=bench.r_max,
                                              reduction_factor=ETA))
    dims = _search_dims(bench.lp)
    while not obj.exhausted:
        trial = study.ask()
        config = {}
        for d in dims:
            log = getattr(d, "prior", "") == "log-uniform"
            if d.kind == "continuous":
                config[d.name] = trial.suggest_float(d.name, d.low, d.high, log=log)
            elif d.kind == "ordinal" and d.values is None:
                config[d.name] = trial.suggest_int(d.name, d.low, d.high, log=log)
            else:  # an ordinal list too: Optuna has no ordered choice
                config[d.name] = trial.suggest_categorical(d.name, list(getattr(d, "values", None)
                                                                        or d.choices))
        key, previous, loss, state = f"optuna-{trial.number}", 0, math.inf, None
        for step in range(bench.r_min, bench.r_max + 1):  # warm start inside one trial: 1 unit a step
            loss = obj.evaluate(config, step, previous, key=key)
            previous = step
            if obj.exhausted:
                break
            trial.report(loss, step)
            if trial.should_prune():
                state = optuna.trial.TrialState.PRUNED
                break
        if state is None and not obj.exhausted:
            study.tell(trial, loss)
        else:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    obj.record.evaluations = len(study.trials)  # a trial is one evaluation, however many steps it reported
    return obj.record


def run_smac(bench: Bench, seed: int, root: str, facade: str = "hb") -> Record:
    """SMAC3's multi-fidelity facades, ask/tell: ``hb`` (HyperbandFacade: random configurations) or
    ``mf`` (MultiFidelityFacade: its random forest with Hyperband, BOHB-like); a budget b costs b."""
    from smac import HyperbandFacade, MultiFidelityFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    obj = Objective(bench, f"smac-{facade}", seed, root)
    cls = HyperbandFacade if facade == "hb" else MultiFidelityFacade
    scenario = Scenario(configspace(bench.lp, seed), deterministic=True, min_budget=bench.r_min,
                        max_budget=bench.r_max, n_trials=10**7, seed=seed,
                        output_directory=os.path.join(root, "smac"))
    opt = cls(scenario, lambda config, seed=0, budget=None: 0.0,  # ask/tell only; SMAC wants one
              intensifier=cls.get_intensifier(scenario, eta=ETA), overwrite=True, logging_level=40)
    while not obj.exhausted:
        info = opt.ask()
        budget = int(round(float(info.budget)))
        loss = obj.evaluate(_values(bench.lp, dict(info.config)), budget)
        opt.tell(info, TrialValue(cost=loss))
    return obj.record


PEER_RUNNERS: dict[str, Callable[[Bench, int, str], Record]] = {
    "hpbandster-bohb": run_hpbandster, "dehb": run_dehb, "optuna-tpe-hb": run_optuna,
    "smac-hb": run_smac, "smac-mf": lambda b, s, r: run_smac(b, s, r, "mf")}


# -- hps algorithms through hpsearch.compare -------------------------------------------------------
def with_options(spec: str) -> tuple[str, dict[str, str]]:
    """``"bohb@fidelities=all"`` -> ``("bohb", {"fidelities": "all"})``; options as the CLI would give them."""
    algo, *rest = spec.split("@")
    return algo, dict(kv.split("=", 1) for kv in rest)


def known_algos(bench: Bench, algos: list[str], notes: list[str]) -> list[str]:
    """The algorithms the installed hpsearch accepts on this problem; the others get a note."""
    ok = []
    for a in algos:
        algo, options = with_options(a)
        try:
            comparison_settings(CompareConfig(problem=str(bench.lp.folder), algos=[algo], seeds=1,
                                              budget=bench.budget, evaluator="serial",
                                              algo_options=options))
        except Exception as exc:  # noqa: BLE001 - any refusal means: skip it, say why
            notes.append(f"{a}: skipped, the installed hpsearch does not run it ({exc})")
            continue
        ok.append(a)
    return ok


def run_hps(bench: Bench, algos: list[str], seeds: int, out: Path, report_only: bool = False
            ) -> dict[str, list[Record]]:
    """Run (or continue) the comparisons; the finished runs as records (``report_only``: run nothing).

    The algorithms without options share ``OUT/hps``; each one with options (``A@name=value``) has a
    comparison of its own, labelled with its spec."""
    records: dict[str, list[Record]] = {}
    plain = [a for a in algos if "@" not in a]
    groups = ([("hps", plain, {}, None)] if plain else []) \
        + [(f"hps@{a.split('@', 1)[1]}", [with_options(a)[0]], with_options(a)[1], a) for a in algos if "@" in a]
    for folder, names, options, spec in groups:
        cmp_dir = out / folder
        if report_only and not (cmp_dir / "compare.json").is_file():
            continue
        if not report_only:
            cfg = CompareConfig(problem=str(bench.lp.folder), algos=names, seeds=seeds, budget=bench.budget,
                                out=str(cmp_dir), evaluator="serial", algo_options=dict(options))
            run_comparison(cfg, echo=lambda m, s=spec: print(f"  hps {s or ''} {m}", flush=True))
        cmp = summarise(cmp_dir, algos=names, seeds=seeds)
        finished = {k for k, v in cmp.settings.get("runs", {}).items() if v.get("finished")}
        for algo, curves in cmp.curves.items():
            for c in curves:
                if c.name not in finished:
                    continue
                records.setdefault(spec or algo, []).append(Record(
                    spec or algo, c.seed, [float(v) for v in c.spent], [float(v) for v in c.best],
                    c.evaluations, float(c.wall_s or 0.0)))
    return records


def run_peers(bench: Bench, peers: list[str], seeds: int, out: Path, notes: list[str],
              report_only: bool = False) -> dict[str, list[Record]]:
    """Run each peer on each seed not stored yet; the stored records (``report_only``: run nothing)."""
    records: dict[str, list[Record]] = {}
    for peer in peers:
        module = PEERS[peer]
        if importlib.util.find_spec(module) is None:
            notes.append(f"{peer}: skipped, {module} is not installed (pip install \"hpsearch[bench]\")")
            continue
        for seed in range(seeds):
            path = out / "peers" / f"{peer}-seed{seed}.json"
            if path.is_file():
                rec = Record(**json.loads(path.read_text()))
            elif report_only:
                continue
            else:
                t0 = time.perf_counter()
                try:
                    with tempfile.TemporaryDirectory(prefix="bench-mf-") as root, \
                            contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # the peers' dependencies' deprecation notices
                        rec = PEER_RUNNERS[peer](bench, seed, root)
                except Exception as exc:  # noqa: BLE001 - a broken peer must not stop the others
                    notes.append(f"{peer}: seed {seed} failed ({type(exc).__name__}: {exc}); not counted")
                    print(f"  {peer}-seed{seed}: FAILED {type(exc).__name__}: {exc}", flush=True)
                    continue
                rec.wall_s = time.perf_counter() - t0
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(asdict(rec)))
                print(f"  {peer}-seed{seed}: {rec.evaluations} evaluations, {rec.total():g} resource, "
                      f"{rec.wall_s:.1f} s", flush=True)
            records.setdefault(peer, []).append(rec)
    return records


# -- the table and the targets --------------------------------------------------------------------
def quartiles(values: list[float]) -> tuple[float, float, float]:
    a = np.array(values, dtype=float)
    if not len(a):
        return math.inf, math.inf, math.inf
    with np.errstate(invalid="ignore"):  # inf (no full-budget evaluation yet) is a value here
        q = np.percentile(a, [50, 25, 75])
    return tuple(float(v) if np.isfinite(v) else math.inf for v in q)  # type: ignore[return-value]


def summary(bench: Bench, records: dict[str, list[Record]]) -> dict[str, dict]:
    """algo -> {fraction: (median, q25, q75) of the loss-like score}, evaluations, spent, wall."""
    out = {}
    for algo, recs in records.items():
        at = {f: quartiles([r.within(None if f == 1.0 else f * bench.budget) for r in recs])
              for f in FRACTIONS}
        out[algo] = {"runs": len(recs), "at": at,
                     "evaluations": float(np.median([r.evaluations for r in recs])),
                     "spent": float(np.median([r.total() for r in recs])),
                     "wall_s": float(np.median([r.wall_s for r in recs]))}
    return out


def _fmt(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.4g}"


def targets(summ: dict[str, dict], bench: Bench) -> list[tuple[str, str, str]]:
    """The multi-fidelity targets on one benchmark (listed in the module doc): (target, met|missed|not measured|not applicable, numbers).

    Without a known optimum the best objectives are compared: the orderings still apply, the
    factor of 2 (a ratio of regrets) does not.
    """
    rows = []
    regret = bench.lp.problem.optimum is not None

    def fmt(x: float) -> str:
        return _fmt(bench.display(x))

    def med(algo: str, f: float) -> float:
        return summ[algo]["at"][f][0]

    if "bohb" not in summ:
        return [("bohb targets", "not measured", "bohb did not run (not in this hpsearch)")]
    base = [a for a in ("hyperband", "bayesian") if a in summ]
    if base:
        worse = [f for f in FRACTIONS if med("bohb", f) > min(med(a, f) for a in base)]
        rows.append((f"bohb <= min({', '.join(base)}) at 10/25/50/100 %",
                     f"missed at {', '.join(f'{int(f * 100)} %' for f in worse)}" if worse else "met",
                     ", ".join(f"{int(f * 100)} %: {fmt(med('bohb', f))} vs "
                               f"{fmt(min(med(a, f) for a in base))}" for f in FRACTIONS)))
    if "bayesian" in summ and regret:
        b, bay = med("bohb", 1.0), med("bayesian", 1.0)
        rows.append(("bohb regret within 2x of bayesian's at 100 %", "met" if b <= 2 * bay else "missed",
                     f"{fmt(b)} vs {fmt(bay)}"))
    elif "bayesian" in summ:
        rows.append(("bohb within 2x of bayesian at 100 %", "not applicable",
                     "no known optimum, so no regret to compare"))
    for peer in ("hpbandster-bohb", "dehb", "smac-hb", "smac-mf"):
        if peer in summ:
            behind = [f for f in (0.5, 1.0) if med("bohb", f) > med(peer, f)]
            rows.append((f"bohb ahead of {peer} at 50 and 100 %",
                         f"missed at {', '.join(f'{int(f * 100)} %' for f in behind)}" if behind else "met",
                         ", ".join(f"{int(f * 100)} %: {fmt(med('bohb', f))} vs {fmt(med(peer, f))}"
                                   for f in (0.5, 1.0))))
    return rows


def table(bench: Bench, summ: dict[str, dict], seeds: int, notes: list[str]) -> str:
    head = ["algorithm", "runs"] + [f"{bench.metric} @{int(f * 100)} %" for f in FRACTIONS] \
        + ["evaluations", "resource trained", "wall s"]
    lines = [f"### {bench.name}", "",
             f"budget {bench.budget:g} resource units = {bench.budget / bench.r_max:g} R (R = {bench.r_max}, "
             f"r_min = {bench.r_min}, eta = {ETA}); seeds 0..{seeds - 1} asked, the runs column says how many "
             f"finished; median [q25, q75] over seeds of the "
             f"{bench.metric} of the best full-budget evaluation finished within that share of the budget; "
             "'-': none yet.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for algo, s in summ.items():
        cells = [algo, str(s["runs"])]
        for f in FRACTIONS:
            m, lo, hi = (bench.display(v) for v in s["at"][f])
            lo, hi = sorted((lo, hi))
            cells.append(f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]")
        cells += [f"{s['evaluations']:g}", f"{s['spent']:g}", f"{s['wall_s']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- target: {t}: **{state}** ({nums})" for t, state, nums in targets(summ, bench)]
    lines += [f"- note: {n}" for n in notes]
    return "\n".join(lines) + "\n"


def most_benchmarks(results: dict) -> str:
    """The cross-benchmark target: bohb ahead of each peer at 50 and 100 % on most benchmarks."""
    lines = []
    for peer in ("hpbandster-bohb", "dehb", "smac-hb", "smac-mf"):
        states = [t[1] for r in results.values() for t in r["targets"] if t[0].startswith(f"bohb ahead of {peer}")]
        if states:
            met = sum(s == "met" for s in states)
            lines.append(f"- target: bohb ahead of {peer} at 50 and 100 % on most benchmarks: "
                         f"**{'met' if met > len(states) / 2 else 'missed'}** ({met} of {len(states)})")
    return "### all benchmarks\n\n" + "\n".join(lines) + "\n" if lines else ""


def make_bench(name: str, budget_r: float) -> Bench:
    lp = load_problem(name)
    res = lp.problem.resource
    if res is None:
        raise SystemExit(f"--problems: {name} has no resource dimension (not multi-fidelity)")
    return Bench(lp, int(res.high), int(res.low), budget_r * int(res.high))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--algos", default=",".join(ALGOS), help="hps --algo names; A+S = --algo A --searcher S")
    ap.add_argument("--peers", default=",".join(PEERS), help=f"any of {', '.join(PEERS)} (or 'none')")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget-r", type=float, default=100.0, help="budget in full evaluations (R)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 seeds, 10 R (into OUT-quick)")
    ap.add_argument("--out", default="bench-mf")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: tables from the finished runs stored in OUT (the runs column says how many)")
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.budget_r, args.out = 2, 10.0, args.out + "-quick"
    peers = [] if args.peers == "none" else [p for p in args.peers.split(",") if p]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        ap.error(f"--peers: unknown peer(s) {', '.join(unknown)} (choose from {', '.join(PEERS)})")
    out = Path(args.out)
    t_start = time.perf_counter()
    report, results = [], {}
    for name in [p for p in args.problems.split(",") if p]:
        t0 = time.perf_counter()
        bench = make_bench(name, args.budget_r)
        print(f"== {name}: {args.seeds} seeds, budget {bench.budget:g} ({args.budget_r:g} R)", flush=True)
        notes: list[str] = []
        algos = known_algos(bench, [a for a in args.algos.split(",") if a], notes)
        for n in notes:
            print(f"  note: {n}", flush=True)
        records = run_hps(bench, algos, args.seeds, out / name, args.report_only)
        records.update(run_peers(bench, peers, args.seeds, out / name, notes, args.report_only))
        if args.report_only and not records:
            print("  nothing stored yet", flush=True)
            continue
        summ = summary(bench, records)
        text = table(bench, summ, args.seeds, notes)
        took = time.perf_counter() - t0
        text += f"\n({name}: {took:.0f} s this invocation)\n"
        (out / name).mkdir(parents=True, exist_ok=True)
        (out / name / "table.md").write_text(text)
        print(text, flush=True)
        report.append(text)
        results[name] = {"budget": bench.budget, "max_resource": bench.r_max, "seeds": args.seeds,
                         "metric": bench.metric, "notes": notes,
                         "targets": targets(summ, bench),
                         "algos": {a: {**s, "at": {str(f): v for f, v in s["at"].items()}}
                                   for a, s in summ.items()}}
    overall = most_benchmarks(results)
    if overall:
        print(overall)
        report.append(overall)
    total = time.perf_counter() - t_start
    header = (f"# bench_mf: {' '.join(sys.argv)}\n\nwall time of this invocation: {total:.0f} s "
              f"({total / 60:.1f} min); a rerun reuses finished runs from {out}\n\n")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(header + "\n".join(report))
    (out / "results.json").write_text(json.dumps({"command": sys.argv, "wall_s": total, "results": results},
                                                 indent=1, default=str))
    print(f"total wall time {total:.0f} s ({total / 60:.1f} min); tables in {out}/report.md")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ComparisonInterrupted, KeyboardInterrupt):
        print("\ninterrupted: rerun the same command to continue (finished runs are kept)", file=sys.stderr)
        sys.exit(130)
