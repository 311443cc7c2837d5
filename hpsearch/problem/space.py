"""The search space: :class:`HpProblem`, its conditions, forbidden combinations, validation and sampling.

A problem folder's ``problem.py`` builds one :class:`HpProblem`::

    >>> from hpsearch import HpProblem
    >>> p = HpProblem(objective="loss", direction="minimize")
    >>> p.add_dim("lr", (1e-4, 1e-1, "log-uniform"), default=1e-2)
    Continuous('lr', [0.0001, 0.1], default=0.01)
    >>> p.add_dim("units", (16, 256), default=64)
    Ordinal('units', [16, 256], default=64)
    >>> p.add_dim("act", ["relu", "tanh"], default="relu")
    Categorical('act', {'relu', 'tanh'}, default='relu')
    >>> [d.kind for d in p.dims]
    ['continuous', 'ordinal', 'categorical']

Every declaration error is a :class:`SpaceError` whose message names the file
that declared the problem and the dimension, and states the rule that broke.
"""
from __future__ import annotations

import copy
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dimensions import (
    LOG_PRIORS,
    PRIORS,
    Categorical,
    Continuous,
    Dimension,
    Ordinal,
    SpaceError,
    display_path,
    make_dimension,
    same_value,
    shown,
)
from .objective import DIRECTIONS, MissingObjective, rank_key, to_loss, to_losses

__all__ = [
    "SpaceError",
    "Dimension",
    "Continuous",
    "Ordinal",
    "Categorical",
    "HpProblem",
    "Forbidden",
    "PRIORS",
    "LOG_PRIORS",
    "DIRECTIONS",
    "to_loss",
    "to_losses",
    "MissingObjective",
    "rank_key",
    "COST_METRIC",
]

#: the metric ``run`` returns its own duration in (seconds) unless the problem names another ``cost``.
COST_METRIC = "runtime_s"
#: how many draws :meth:`HpProblem.sample` makes before it calls a space effectively empty.
MAX_FORBIDDEN_TRIES = 1000


def _caller_file() -> str | None:
    """The file that called into HpProblem, for error messages."""
    f = sys._getframe(1)
    here = os.path.dirname(__file__)
    while f is not None and os.path.dirname(f.f_code.co_filename) == here:
        f = f.f_back
    return f.f_code.co_filename if f is not None else None


def _as_list(v: Any) -> list:
    return list(v) if isinstance(v, (list, tuple, set, frozenset, range)) else [v]



def _contains(values: Sequence[Any], v: Any) -> bool:
    """``v in values`` by :func:`same_value`."""
    return any(same_value(x, v) for x in values)


@dataclass(frozen=True)
class Forbidden:
    """A forbidden combination: the named dimensions may not take these values together.

    ``values`` maps a dimension to the values it must take for the clause to
    apply (one of them); a configuration where one of the named dimensions is
    inactive is not concerned.
    """

    values: tuple[tuple[str, tuple], ...]

    def matches(self, config: Mapping[str, Any]) -> bool:
        """True if ``config`` holds every named dimension with one of the listed values."""
        return all(n in config and _contains(vs, config[n]) for n, vs in self.values)

    def to_dict(self) -> dict:
        return {n: list(vs) for n, vs in self.values}

    def __str__(self) -> str:
        parts = ", ".join(f"{n}={shown(vs[0]) if len(vs) == 1 else list(vs)}" for n, vs in self.values)
        return f"add_forbidden({parts})"


class HpProblem:
    """A search space plus what to optimise.

    A dimension may be conditional (``when=``): it is *active*, and present in
    a configuration, only when each named parent is active and takes one of
    the listed values; combinations may be forbidden (:meth:`add_forbidden`).
    Every searcher gets both through this class: :meth:`sample` draws top-down
    and rejects forbidden draws, :meth:`check` refuses inactive values and
    forbidden combinations, :meth:`complete` turns any assignment into the
    configuration it describes.

    A multi-objective problem names two or more objectives with their
    directions instead (``objectives={"val_accuracy": "maximize", "n_params":
    "minimize"}``); ``run`` returns every one of them in its dict::

        >>> mo = HpProblem(objectives={"acc": "maximize", "size": "minimize"},
        ...                reference_point={"acc": 0.0, "size": 1000})
        >>> mo.multi_objective, mo.objectives
        (True, {'acc': 'maximize', 'size': 'minimize'})
        >>> mo.to_losses({"acc": 0.9, "size": 120})
        (-0.9, 120.0)
        >>> mo.reference_losses
        (-0.0, 1000.0)
        >>> HpProblem(objective="loss", direction="minimize").objectives
        {'loss': 'minimize'}

    Args:
        objective: name of the metric to optimise (a key of the dict that
            ``run`` returns, or the name given to a bare number).
        direction: ``"maximize"`` (default, as in DeepHyper) or ``"minimize"``.
        optimum: the known best objective value, when there is one, so that
            reports can show regret.
        kind: what sort of benchmark this is (``classification``,
            ``regression``, ``synthetic``, ...), for ``hps list`` and the docs.
        objectives: the multi-objective form, name -> direction for two or more
            objectives (instead of ``objective`` and ``direction``).
        reference_point: for the hypervolume of a multi-objective problem, each
            objective's worst value worth counting, in its own units (name ->
            value). Without it a report takes the nadir of the points it
            compares (:func:`hpsearch.problem.pareto.reference_point`).
        hypervolume_optimum: the hypervolume of the true front against
            ``reference_point``, when it is known, so that reports can show
            regret (optimum - hypervolume).
        cost: how many seconds an evaluation takes, which the ``simulated``
            evaluator charges as virtual time: the name of a metric of ``run``'s
            result, or a runtime model ``cost(config, trial) -> seconds`` (``trial``
            has ``budget``, ``previous_budget``, ``seed`` and ``config_id``; a stopped
            trial's ``budget`` is the step it reached). None: the metric
            ``runtime_s`` (:data:`COST_METRIC`) when ``run`` returns it, else the
            seconds ``run`` took.

    For a multi-objective problem :attr:`objective` and :attr:`direction` are
    the first objective's (the one a results table's objective column holds).
    """

    def __init__(self, objective: str | None = None, direction: str | None = None,
                 optimum: float | None = None, kind: str | None = None,
                 objectives: Mapping[str, str] | None = None,
                 reference_point: Mapping[str, float] | None = None,
                 hypervolume_optimum: float | None = None, cost: str | None = None):
        self.source = _caller_file()
        self.reference_point: dict[str, float] | None = None
        self.hypervolume_optimum: float | None = None
        if objectives is not None:
            self._objectives = self._declare_objectives(objectives, objective, direction, optimum)
            objective, direction = next(iter(self._objectives.items()))
            self.reference_point = self._declare_reference(reference_point)
            if hypervolume_optimum is not None:
                if self.reference_point is None:
                    raise SpaceError(f"{self._where()}hypervolume_optimum needs a reference_point (the "
                                     "hypervolume is measured against it)")
                self.hypervolume_optimum = _finite(self, "hypervolume_optimum", hypervolume_optimum)
        else:
            for name, given in (("reference_point", reference_point),
                                ("hypervolume_optimum", hypervolume_optimum)):
                if given is not None:
                    raise SpaceError(f"{self._where()}{name} applies to a multi-objective problem "
                                     "(objectives={...}), got it with a single objective")
            objective = "objective" if objective is None else objective
            direction = "maximize" if direction is None else direction
            if direction not in DIRECTIONS:
                raise SpaceError(f"{self._where()}direction must be 'maximize' or 'minimize', "
                                 f"got {direction!r}")
            if not isinstance(objective, str) or not objective:
                raise SpaceError(f"{self._where()}objective must be a non-empty name, got {objective!r}")
            self._objectives = {objective: direction}
        self.objective = objective
        self.direction = direction
        self.optimum = None if optimum is None else float(optimum)
        self.kind = kind
        if cost is not None and not callable(cost) and (not isinstance(cost, str) or not cost
                                                        or cost in self._objectives):
            raise SpaceError(f"{self._where()}cost must be the name of a metric other than the objective "
                             f"or a function cost(config, trial), got {cost!r}")
        self.cost = cost
        self.dims: list[Dimension] = []
        self._by_name: dict[str, Dimension] = {}
        self._starting_points: list[dict] = []
        self._forbidden_raw: list[dict] = []
        self.forbidden: list[Forbidden] = []
        self.fixed: dict[str, Any] = {}
        self._order: list[Dimension] | None = None  # parents first; None until validated

    # -- declaration -----------------------------------------------------------
    def _declare_objectives(self, objectives: Any, objective: Any, direction: Any,
                            optimum: Any) -> dict[str, str]:
        """Check the multi-objective form; return name -> direction in declaration order."""
        if objective is not None or direction is not None:
            raise SpaceError(f"{self._where()}give either objective=/direction= (one objective) or "
                             f"objectives={{name: direction}} (several), not both")
        if optimum is not None:
            raise SpaceError(f"{self._where()}optimum is a single objective's best value; a "
                             "multi-objective problem declares hypervolume_optimum= (with reference_point=)")
        if not isinstance(objectives, Mapping):
            raise SpaceError(f"{self._where()}objectives must be a dict name -> direction, got "
                             f"{objectives!r:.60}")
        if len(objectives) < 2:
            raise SpaceError(f"{self._where()}objectives needs two or more objectives, got "
                             f"{len(objectives)} ({', '.join(map(repr, objectives)) or 'none'}); "
                             "use objective=/direction= for one")
        out: dict[str, str] = {}
        for name, d in objectives.items():
            if not isinstance(name, str) or not name:
                raise SpaceError(f"{self._where()}objectives: a name must be a non-empty string, "
                                 f"got {name!r}")
            if d not in DIRECTIONS:
                raise SpaceError(f"{self._where()}objectives: {name!r} has direction {d!r}; it must be "
                                 "'maximize' or 'minimize'")
            out[name] = d
        return out

    def _declare_reference(self, reference: Any) -> dict[str, float] | None:
        """Check a reference point: one finite value for each objective, no other name."""
        if reference is None:
            return None
        if not isinstance(reference, Mapping):
            raise SpaceError(f"{self._where()}reference_point must be a dict objective -> value, got "
                             f"{reference!r:.60}")
        unknown = [k for k in reference if k not in self._objectives]
        if unknown:
            raise SpaceError(f"{self._where()}reference_point names {unknown[0]!r}, not an objective "
                             f"(objectives: {', '.join(self._objectives)})")
        missing = [k for k in self._objectives if k not in reference]
        if missing:
            raise SpaceError(f"{self._where()}reference_point is missing objective {missing[0]!r} "
                             f"(it needs a value for each of {', '.join(self._objectives)})")
        return {k: _finite(self, f"reference_point[{k!r}]", reference[k]) for k in self._objectives}

    def _where(self, name: str | None = None) -> str:
        where = f"{display_path(self.source)}: " if self.source else ""
        return where + (f"dimension {name!r}: " if name is not None else "")

    def add_dim(self, name: str, spec: Any, default: Any = None, resource: bool = False,
                when: Mapping[str, Any] | None = None, **options: Any) -> Dimension:
        """Declare a dimension from the shorthand or an explicit Dimension.

        Args:
            name: a unique identifier.
            spec: the shorthand (a tuple range, a list of choices) or a Dimension.
            default: its value in the first starting point.
            resource: True for the multi-fidelity resource.
            when: a condition, parent name -> value or list of values: the
                dimension is active only when every parent takes one of them.
            **options: ``mu``, ``sigma`` (normal priors) and ``step`` for a range.

        Raises:
            SpaceError: naming the file and the dimension, for any bad declaration.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise SpaceError(f"{self._where()}a dimension name must be an identifier, got {name!r}")
        if name in self._by_name:
            raise SpaceError(f"{self._where(name)}declared twice (names must be unique)")
        unknown = sorted(set(options) - {"mu", "sigma", "step"})
        if unknown:
            raise SpaceError(f"{self._where(name)}unknown option {unknown[0]!r} "
                             "(add_dim takes default, resource, when, mu, sigma, step)")
        try:
            dim = make_dimension(spec, **options)
            dim._bind(name, default, resource)
        except SpaceError as exc:
            raise SpaceError(f"{self._where(name)}{exc}") from None
        if when is not None:
            if dim.when is not None:
                raise SpaceError(f"{self._where(name)}a condition is given twice (in the dimension and "
                                 "in add_dim); give it once")
            dim.when = when
        if dim.when is not None and not isinstance(dim.when, Mapping):
            raise SpaceError(f"{self._where(name)}when must be a dict parent -> value(s), got {dim.when!r}")
        if dim.resource:
            if isinstance(dim, Categorical) or (isinstance(dim, Ordinal) and not dim.is_range):
                raise SpaceError(
                    f"{self._where(name)}a resource must be a numeric range, got {dim.describe()}")
            if dim.when:
                raise SpaceError(f"{self._where(name)}the resource cannot be conditional "
                                 "(multi-fidelity algorithms set it for every configuration)")
            other = self.resource
            if other is not None:
                raise SpaceError(
                    f"{self._where(name)}only one resource is allowed, {other.name!r} is one already"
                )
        self.dims.append(dim)
        self._by_name[name] = dim
        self._order = None
        return dim

    add_hyperparameter = add_dim  # DeepHyper's name

    def add_dims_from(self, other: HpProblem) -> None:
        """Declare here every dimension of ``other`` (its range, prior, default, resource and
        condition), then ``other``'s forbidden combinations and starting points.

        A folder that asks something else of another folder's model (another objective, a second
        one) keeps the search space in one place: its ``problem.py`` loads the other folder and
        copies its space. ``other`` is not changed; dimensions added here afterwards may extend it.

            >>> base = HpProblem(objective="val_accuracy")
            >>> _ = base.add_dim("units", (16, 1024, "log-uniform"), default=256)
            >>> _ = base.add_dim("epochs", (1, 9), default=3, resource=True)
            >>> mo = HpProblem(objectives={"val_accuracy": "maximize", "n_params": "minimize"})
            >>> mo.add_dims_from(base)
            >>> mo.names, mo.resource.name, mo.defaults["units"]
            (['units', 'epochs'], 'epochs', 256)

        Raises:
            SpaceError: a dimension of ``other`` is declared here already (nothing is added).
        """
        twice = next((d.name for d in other.dims if d.name in self._by_name), None)
        if twice is not None:
            raise SpaceError(f"{self._where(twice)}declared twice (names must be unique): "
                             "add_dims_from copies it from the other problem")
        for d in other.dims:
            dim = copy.deepcopy(d)
            self.add_dim(d.name, dim, default=d.default, resource=d.resource)
        for raw in other._forbidden_raw:
            self.add_forbidden(**raw)
        for point in other._starting_points:
            self.add_starting_point(**point)

    def add_starting_point(self, **values: Any) -> None:
        """Add a configuration to evaluate first; missing active dimensions take their default.

        Naming a dimension that is inactive in this point, or a forbidden
        combination, is an error (raised when the problem is validated).
        """
        unknown = [k for k in values if k not in self._by_name]
        if unknown:
            raise SpaceError(f"{self._where(unknown[0])}starting point names an undeclared dimension")
        point = {}
        for name, v in values.items():
            try:
                point[name] = self._by_name[name].check(v)
            except SpaceError as exc:
                raise SpaceError(f"{self._where(name)}starting point: {exc}") from None
        self._starting_points.append(point)
        self._order = None

    def add_forbidden(self, **values: Any) -> Forbidden:
        """Forbid a combination: ``add_forbidden(penalty="l1", solver="lbfgs")``.

        The named dimensions may not take these values together; a list stands
        for any of its values (``solver=["lbfgs", "newton-cg"]``). Forbidden
        configurations are never sampled, suggested or evaluated.
        """
        if not values:
            raise SpaceError(f"{self._where()}add_forbidden needs at least one name=value")
        self._forbidden_raw.append(dict(values))
        self._order = None
        return Forbidden(tuple((n, tuple(_as_list(v))) for n, v in values.items()))

    # -- validation --------------------------------------------------------------
    def validate(self) -> None:
        """Check conditions, forbidden clauses, defaults and starting points together.

        Called by the loader after ``problem.py`` is imported (and by every
        query below on first use), so that declarations may come in any order.

        Raises:
            SpaceError: one line naming the file and the dimension: an unknown
                parent, a cycle, a condition on a value the parent can never
                take, a forbidden default configuration, a starting point that
                sets an inactive dimension or is forbidden.
        """
        if self._order is not None:
            return
        for d in self.dims:
            d.parents = {}
            for pname, vals in (d.when or {}).items():
                if pname not in self._by_name:
                    raise SpaceError(f"{self._where(d.name)}when: unknown parent {pname!r} "
                                     f"(dimensions: {', '.join(self.names)})")
                parent = self._by_name[pname]
                if parent.resource:
                    raise SpaceError(f"{self._where(d.name)}when: parent {pname!r} is the resource, which "
                                     "multi-fidelity algorithms change; a condition cannot depend on it")
                if isinstance(parent, Continuous):
                    raise SpaceError(f"{self._where(d.name)}when: parent {pname!r} is continuous; a "
                                     "condition needs a categorical or ordinal parent")
                vals = _as_list(vals)
                if not vals:
                    raise SpaceError(f"{self._where(d.name)}when: {pname!r} needs at least one value")
                canon = []
                for v in vals:
                    try:
                        canon.append(parent.check(v))
                    except SpaceError:
                        raise SpaceError(f"{self._where(d.name)}when: {pname!r} can never take {shown(v)} "
                                         f"(its values: {parent.describe()})") from None
                d.parents[pname] = canon
        order = self._topological()
        forbidden = []
        for raw in self._forbidden_raw:
            items = []
            for n, vs in raw.items():
                if n not in self._by_name:
                    raise SpaceError(f"{self._where(n)}add_forbidden names an undeclared dimension")
                d = self._by_name[n]
                if d.resource:
                    raise SpaceError(f"{self._where(n)}add_forbidden: the resource cannot be forbidden by "
                                     "value (multi-fidelity algorithms set it)")
                if isinstance(d, Continuous):
                    raise SpaceError(f"{self._where(n)}add_forbidden: a continuous dimension cannot be "
                                     "forbidden by value (name categorical or ordinal dimensions)")
                vs = _as_list(vs)
                if not vs:
                    raise SpaceError(f"{self._where(n)}add_forbidden: needs at least one value")
                try:
                    items.append((n, tuple(d.check(v) for v in vs)))
                except SpaceError as exc:
                    raise SpaceError(f"{self._where(n)}add_forbidden: {exc}") from None
            forbidden.append(Forbidden(tuple(items)))
        self._order, self.forbidden = order, forbidden
        try:
            default = self.complete({})
            clause = self.forbidden_by(default)
            if clause is not None:
                raise SpaceError(f"{self._where(clause.values[0][0])}the default configuration is "
                                 f"forbidden by {clause}")
            for point in self._starting_points:
                full = self.complete(point)
                for n, v in point.items():
                    if n not in full:
                        raise SpaceError(f"{self._where(n)}starting point sets {shown(v)}, but the "
                                         f"dimension is inactive there (it needs "
                                         f"{self._by_name[n].describe_condition()})")
                clause = self.forbidden_by(full)
                if clause is not None:
                    raise SpaceError(f"{self._where(clause.values[0][0])}starting point "
                                     f"{_fmt_config(point)} is forbidden by {clause}")
        except SpaceError:
            self._order = None
            raise

    def _topological(self) -> list[Dimension]:
        """Dimensions with every parent before its children (declaration order otherwise)."""
        state: dict[str, int] = {}  # 1: visiting, 2: done
        out: list[Dimension] = []

        def visit(d: Dimension, path: list[str]) -> None:
            if state.get(d.name) == 2:
                return
            if state.get(d.name) == 1:
                cycle = path[path.index(d.name):] + [d.name]
                raise SpaceError(f"{self._where(d.name)}when: a cycle of conditions "
                                 f"({' -> '.join(cycle)})")
            state[d.name] = 1
            for p in d.parents:
                visit(self._by_name[p], path + [d.name])
            state[d.name] = 2
            out.append(d)

        for d in self.dims:
            visit(d, [])
        return out

    # -- queries ---------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dims]

    @property
    def order(self) -> list[Dimension]:
        """The dimensions with every parent before its children (validates first)."""
        self.validate()
        return list(self._order)

    @property
    def conditional(self) -> bool:
        """True if some dimension has a condition or some combination is forbidden."""
        return any(d.when for d in self.dims) or bool(self._forbidden_raw)

    @property
    def resource(self) -> Dimension | None:
        """The resource dimension, or None."""
        return next((d for d in self.dims if d.resource), None)

    @property
    def free_dims(self) -> list[Dimension]:
        """Dimensions a searcher chooses: not pinned by ``--fix``, and possibly active."""
        return [d for d in self.dims if d.name not in self.fixed and self.can_be_active(d.name)]

    def __getitem__(self, name: str) -> Dimension:
        return self._by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.dims)

    def _is_active(self, d: Dimension, values: Mapping[str, Any]) -> bool:
        """``d`` is active given its parents' entries in ``values`` (an absent parent is inactive)."""
        return all(p in values and _contains(allowed, values[p]) for p, allowed in d.parents.items())

    def active(self, config: Mapping[str, Any]) -> list[str]:
        """The dimensions active under ``config``'s values, in declaration order.

        Evaluated top-down: a dimension is active when each parent is active
        and ``config`` gives it one of the listed values.
        """
        self.validate()
        on: dict[str, Any] = {}
        for d in self._order:
            if self._is_active(d, on) and d.name in config:
                on[d.name] = config[d.name]
            elif self._is_active(d, on):
                on[d.name] = None  # active, value unknown: its children are not
        return [n for n in self.names if n in on]

    def tree(self) -> list[tuple[int, Dimension]]:
        """(depth, dimension) in tree order, for ``hps show`` and the docs.

        A conditional dimension is listed under its parent (the one declared
        last when it has several), one level deeper; the rest keep their
        declaration order.
        """
        order = self.order
        pos = {d.name: i for i, d in enumerate(order)}
        children: dict[str | None, list[Dimension]] = {}
        for d in self.dims:
            parent = max(d.parents, key=pos.__getitem__) if d.parents else None
            children.setdefault(parent, []).append(d)
        out: list[tuple[int, Dimension]] = []

        def walk(parent: str | None, depth: int) -> None:
            for d in children.get(parent, []):
                out.append((depth, d))
                walk(d.name, depth + 1)

        walk(None, 0)
        return out

    def can_be_active(self, name: str) -> bool:
        """False when ``--fix`` pins a parent (or an ancestor) so that ``name`` is never active."""
        self.validate()
        d = self._by_name[name]
        for p, allowed in d.parents.items():
            if not self.can_be_active(p):
                return False
            if p in self.fixed and not _contains(allowed, self.fixed[p]):
                return False
        return True

    def forbidden_by(self, config: Mapping[str, Any]) -> Forbidden | None:
        """The first forbidden clause ``config`` matches, or None."""
        self.validate()
        return next((f for f in self.forbidden if f.matches(config)), None)

    def is_forbidden(self, config: Mapping[str, Any]) -> bool:
        """True if ``config`` takes a forbidden combination."""
        return self.forbidden_by(config) is not None

    def complete(self, values: Mapping[str, Any]) -> dict:
        """The configuration ``values`` describe: active dimensions only, top-down.

        Each active dimension takes its ``--fix`` value, else its value in
        ``values``, else its default; values of inactive dimensions are
        dropped. This is how starting points are filled in and how a decoded
        model proposal becomes a configuration.
        """
        self.validate()
        out: dict[str, Any] = {}
        for d in self._order:
            if not self._is_active(d, out):
                continue
            if d.name in self.fixed:
                out[d.name] = self.fixed[d.name]
            elif d.name in values:
                out[d.name] = values[d.name]
            else:
                out[d.name] = d.default
        return {n: out[n] for n in self.names if n in out}

    @property
    def defaults(self) -> dict:
        """The default configuration (``--fix`` values applied; inactive dimensions absent)."""
        return self.complete({})

    @property
    def starting_points(self) -> list[dict]:
        """The defaults, then each added starting point, without repeats.

        With ``--fix`` a point is completed under the pinned values, and one
        that the pins make forbidden is skipped.
        """
        seen, out = set(), []
        for p in [{}, *self._starting_points]:
            p = self.complete(p)
            key = repr(sorted(p.items()))
            if key not in seen and not self.is_forbidden(p):
                seen.add(key)
                out.append(p)
        return out

    def sample(self, rng: np.random.Generator) -> dict:
        """One configuration drawn from the priors, top-down (fixed ones pinned).

        One uniform draw per declared dimension, mapped through the prior's
        quantiles; a dimension whose parents do not allow it is left out. A
        forbidden draw is rejected and drawn again, at most
        :data:`MAX_FORBIDDEN_TRIES` times.

        Raises:
            SpaceError: every draw was forbidden (the space is effectively empty).
        """
        self.validate()
        fixed = self.fixed
        index = {d.name: i for i, d in enumerate(self.dims)}
        for _ in range(MAX_FORBIDDEN_TRIES):
            units = rng.random(len(self.dims)).tolist()
            out: dict[str, Any] = {}
            for d in self._order:
                if self._is_active(d, out):
                    out[d.name] = fixed[d.name] if d.name in fixed else d.from_unit(units[index[d.name]])
            config = {n: out[n] for n in self.names if n in out}
            if not self.forbidden or self.forbidden_by(config) is None:
                return config
        clauses = "; ".join(map(str, self.forbidden))
        raise SpaceError(f"{self._where()}the space is effectively empty: {MAX_FORBIDDEN_TRIES} draws in a "
                         f"row were forbidden ({clauses}{'; --fix ' + _fmt_config(fixed) if fixed else ''})")

    def check(self, config: Mapping[str, Any], drop_inactive: bool = False) -> dict:
        """Validate a configuration; return it with values of the declared types.

        Every active dimension must be present; an inactive one must be absent
        (or is dropped, with ``drop_inactive``); a forbidden combination is refused.
        """
        self.validate()
        extra = [k for k in config if k not in self._by_name]
        if extra:
            raise SpaceError(f"{self._where(extra[0])}not a dimension of this problem")
        out: dict[str, Any] = {}
        for d in self._order:
            if not self._is_active(d, out):
                if d.name in config and not drop_inactive:
                    raise SpaceError(f"{self._where(d.name)}inactive in this configuration (it needs "
                                     f"{d.describe_condition()}), but set to {shown(config[d.name])}")
                continue
            if d.name not in config:
                raise SpaceError(f"{self._where(d.name)}missing from the configuration")
            try:
                out[d.name] = d.check(config[d.name])
            except SpaceError as exc:
                raise SpaceError(f"{self._where(d.name)}{exc}") from None
        out = {n: out[n] for n in self.names if n in out}
        clause = self.forbidden_by(out)
        if clause is not None:
            raise SpaceError(f"{self._where(clause.values[0][0])}the configuration is forbidden by {clause}")
        return out

    def to_loss(self, objective: float) -> float:
        """The value schedulers and searchers minimise (see :func:`to_loss`)."""
        return to_loss(self.direction, objective)

    @property
    def objectives(self) -> dict[str, str]:
        """Every objective, name -> direction, in declaration order (one for a single objective)."""
        return dict(self._objectives)

    @property
    def multi_objective(self) -> bool:
        """True when the problem declares two or more objectives."""
        return len(self._objectives) > 1

    def to_losses(self, metrics: Mapping[str, Any]) -> tuple[float, ...]:
        """Each objective's value in ``metrics`` as a value to minimise, in declaration order.

        Raises:
            MissingObjective: an objective is missing or not a finite number.
        """
        return to_losses(self._objectives, metrics)

    @property
    def reference_losses(self) -> tuple[float, ...] | None:
        """The declared reference point as losses (:meth:`to_losses` form), or None."""
        return None if self.reference_point is None else to_losses(self._objectives, self.reference_point)

    def fix(self, values: Mapping[str, Any]) -> HpProblem:
        """A copy with some dimensions pinned to a value (``--fix name=value``).

        String values are parsed as on the command line. Pinning a parent
        prunes the tree: children it rules out are never active. Pinning a
        dimension that the other pins make inactive, or a forbidden
        combination, is an error.
        """
        self.validate()
        new = object.__new__(HpProblem)
        new.__dict__.update(self.__dict__)
        new.fixed = dict(self.fixed)
        for name, value in values.items():
            if name not in self._by_name:
                close = ", ".join(self.names)
                raise SpaceError(f"--fix: no dimension {name!r} (dimensions: {close})")
            dim = self._by_name[name]
            try:
                new.fixed[name] = dim.parse(value) if isinstance(value, str) else dim.check(value)
            except SpaceError as exc:
                raise SpaceError(f"--fix: dimension {name!r}: {exc}") from None
        for name in new.fixed:
            if not new.can_be_active(name):
                d = self._by_name[name]
                pins = {p: new.fixed[p] for p in d.parents if p in new.fixed}
                raise SpaceError(f"--fix: dimension {name!r} is never active with --fix "
                                 f"{_fmt_config(pins) or 'as given'} (it needs {d.describe_condition()})")
        clause = next((f for f in self.forbidden
                       if all(n in new.fixed for n, _ in f.values) and f.matches(new.fixed)), None)
        if clause is not None:
            raise SpaceError(f"--fix: the pinned values are forbidden by {clause}")
        return new

    def to_dict(self) -> dict:
        """A JSON-able description, stored with each run."""
        self.validate()
        dims = []
        for d in self.dims:
            row = {"name": d.name, **d.to_dict(), "default": d.default, "resource": d.resource}
            if d.parents:
                row["when"] = {p: list(v) for p, v in d.parents.items()}
            dims.append(row)
        out = {
            "objective": self.objective,
            "direction": self.direction,
            "optimum": self.optimum,
            "kind": self.kind,
            "dims": dims,
            "fixed": self.fixed,
        }
        if self.forbidden:
            out["forbidden"] = [f.to_dict() for f in self.forbidden]
        if self.multi_objective:
            out["objectives"] = self.objectives
            out["reference_point"] = self.reference_point
            out["hypervolume_optimum"] = self.hypervolume_optimum
        if isinstance(getattr(self, "cost", None), str):
            out["cost"] = self.cost
        return out

    def __repr__(self) -> str:
        if self.multi_objective:
            return f"HpProblem(objectives={self.objectives!r}, dims={self.names})"
        return f"HpProblem(objective={self.objective!r}, direction={self.direction!r}, dims={self.names})"


def _finite(problem: HpProblem, what: str, value: Any) -> float:
    """``value`` as a finite float, else a SpaceError naming ``what``."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    if isinstance(value, bool) or not math.isfinite(out):
        raise SpaceError(f"{problem._where()}{what} must be a finite number, got {value!r}")
    return out


def _fmt_config(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={shown(v)}" for k, v in values.items())
