"""The user's prior over good configurations, as the searchers use it (``--prior default|none``).

Every free dimension contributes one factor of a product density on the
shared unit-cube encoding (:mod:`hpsearch.search.encoding`):

* a continuous or integer range with a declared ``normal`` / ``log-normal``
  prior: that normal, on the encoding's (linear / log) scale, truncated to
  the range;
* any other range: a normal centred on the dimension's default with a
  standard deviation of :data:`WIDTH` of the (encoded) range, truncated;
* an ordinal list: the same normal over the list positions, normalised;
* a categorical: its declared ``weights``, else :data:`DEFAULT_MASS` on the
  default and the rest shared equally by every choice.

Densities are relative to the uniform density of the encoding (a log density
of 0 is "no opinion"); an inactive dimension contributes nothing.

Two uses, one per kind of proposal:

* **Random draws** (every proposal of ``random``, the initial and
  ``random_fraction`` draws of ``bayesian`` and ``kde``) come from a
  PriorBand-style mixture (Mallik et al., NeurIPS 2023,
  :meth:`Prior.mix`): a share :data:`UNIFORM_SHARE` from the problem's own
  sampler (what ``--prior none`` draws), the rest from the prior until some
  budget has :data:`EVIDENCE` successes; from then on, the non-uniform share is
  split between the prior and draws around the incumbent in proportion to how
  well each density explains the best third of the configurations seen at
  that budget. A misleading prior loses its share once the evidence is there.
* **Model proposals** (``bayesian``, ``kde``): piBO (Hvarfner et al., ICLR
  2022): the acquisition is multiplied by ``prior(x) ** (trust * beta / n)``,
  n the observations the model was fitted on, so the prior's pull fades as
  data accumulates (:func:`pibo_weight`); candidates include draws from the
  prior. ``trust`` (:meth:`Prior.agreement`) is the posterior probability
  that the best configurations seen come from the prior rather than from a
  uniform density (1 before any evidence), so a misleading prior is dropped
  as soon as the evidence is in, not only after beta / n has decayed.

Everything is drawn from the generator the caller passes, so a seed and a
sequence of observations give the same proposals (a resume replays them).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..problem.space import HpProblem
from .encoding import EncodedSpace, position
from .options import Option

__all__ = ["PRIOR_OPTION", "PRIOR_CHOICES", "Prior", "pibo_weight", "WIDTH", "DEFAULT_MASS", "BETA",
           "UNIFORM_SHARE", "EVIDENCE", "LOCAL_SCALE", "prior_on", "PriorUse"]

PRIOR_CHOICES = ("default", "none")

#: shared by every searcher (one ``--prior`` flag).
PRIOR_OPTION = Option(
    "prior", str, None,
    "Use the space's defaults and declared priors as a prior: 'default' (random draws mix prior, "
    "incumbent-local and uniform draws; model searchers weight their acquisition by the prior, fading "
    "with observations) or 'none' (default: each searcher's measured choice, see the Algorithms page).",
    choices=PRIOR_CHOICES)

#: a range's prior around its default: this share of the encoded range as standard deviation.
WIDTH = 0.25
#: the probability a categorical's default gets beyond its share of the rest (no declared weights).
DEFAULT_MASS = 0.5
#: piBO's beta: the prior counts as much as ``beta / n`` of the acquisition's log.
BETA = 10.0
#: the share of random draws that come from the problem's sampler whatever the evidence.
UNIFORM_SHARE = 0.5
#: successes at one budget before the incumbent competes with the prior.
EVIDENCE = 5
#: the standard deviation (encoded units) of draws around the incumbent.
LOCAL_SCALE = 0.15
#: draws from the prior added to a model searcher's candidates.
N_CANDIDATES = 256


def prior_on(value: str | None, default: str) -> bool:
    """Whether the prior is used: the ``--prior`` value, or the searcher's ``default`` when not given."""
    return (default if value is None else value) == "default"


class Prior:
    """The product density of the module docstring over ``enc``'s free dimensions.

    Args:
        enc: the encoded space of the searcher's problem.
    """

    def __init__(self, enc: EncodedSpace):
        self.enc = enc
        # per group: ("normal", centre, sd) on the unit scale, or ("discrete", probabilities)
        self.factors: list[tuple] = []
        for kind, d, _c, w in enc.groups:
            if kind in ("real", "int"):
                self.factors.append(("normal", *_range_normal(enc, d)))
            elif kind == "list":
                n = len(d.values)
                u = np.arange(n) / (n - 1)
                centre = position(d.values, d.default) / (n - 1)
                p = np.exp(-0.5 * ((u - centre) / WIDTH) ** 2)
                self.factors.append(("discrete", p / p.sum()))
            else:
                if d.weights:
                    p = np.array(d.weights, dtype=float)
                else:
                    p = np.full(w, (1.0 - DEFAULT_MASS) / w)
                    p[position(d.choices, d.default)] += DEFAULT_MASS
                self.factors.append(("discrete", p / p.sum()))

    # -- density -------------------------------------------------------------------------
    def log_density(self, X: np.ndarray) -> np.ndarray:
        """log prior density (relative to uniform) of each one-hot row of ``X``."""
        from scipy.special import ndtr

        X = np.atleast_2d(X)
        out = np.zeros(len(X))
        for (kind, _d, c, w), f in zip(self.enc.groups, self.factors):
            active = X[:, c] != self.enc.inactive
            if f[0] == "normal":
                _, m, s = f
                z = (np.clip(X[:, c], 0.0, 1.0) - m) / s
                mass = ndtr((1.0 - m) / s) - ndtr(-m / s)
                logp = -0.5 * z * z - math.log(s * math.sqrt(2 * math.pi) * mass)
            else:
                p = f[1]
                if kind == "list":
                    idx = np.rint(np.clip(X[:, c], 0.0, 1.0) * (len(p) - 1)).astype(int)
                else:
                    idx = np.argmax(X[:, c:c + w], axis=1)
                logp = np.log(np.maximum(p[idx] * len(p), 1e-300))
            out += np.where(active, logp, 0.0)
        return out

    # -- draws ---------------------------------------------------------------------------
    def draw(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """``m`` one-hot rows drawn from the prior (snapped; inactive columns imputed)."""
        from scipy.special import ndtr, ndtri

        X = np.zeros((m, self.enc.n_cols))
        for (kind, _d, c, _w), f in zip(self.enc.groups, self.factors):
            if f[0] == "normal":
                _, mu, s = f
                lo, hi = ndtr(-mu / s), ndtr((1.0 - mu) / s)
                u = lo + rng.random(m) * max(hi - lo, 1e-300)
                X[:, c] = mu + s * ndtri(np.clip(u, 1e-300, 1 - 1e-16))
            else:
                idx = rng.choice(len(f[1]), size=m, p=f[1])
                if kind == "list":
                    X[:, c] = idx / (len(f[1]) - 1)
                else:
                    X[np.arange(m), c + idx] = 1.0
        return self.enc.snap(X)

    def config(self, rows: np.ndarray, taken: Any = ()) -> dict | None:
        """The first of ``rows`` whose configuration is allowed and not in ``taken``, or None."""
        found = self.enc.first_new(rows, range(len(rows)), taken, tries=len(rows))
        return None if found is None else found[0]

    # -- the PriorBand-style mixture -------------------------------------------------------
    def mix(self, observations: dict[Any, tuple[list, list]]
            ) -> tuple[float, float, float, np.ndarray | None]:
        """``(uniform, prior, incumbent)`` shares of the next random draw and the incumbent's row.

        ``observations`` maps a budget to ``(one-hot rows, losses)`` (a loss
        None for a failure). With no budget holding :data:`EVIDENCE` successes
        the non-uniform share is the prior's; otherwise the highest such budget
        decides: the best third of its configurations (at least 2) scores the
        prior's density against the density of draws around its best one.
        """
        rest = 1.0 - UNIFORM_SHARE
        top = self.top(observations)
        if top is None:
            return UNIFORM_SHARE, rest, 0.0, None
        incumbent = top[0]
        # the shares in proportion to the summed densities (log-sum-exp for safety)
        a, b = _logsumexp(self.log_density(top)), _logsumexp(self._log_local(top, incumbent))
        share_prior = 1.0 / (1.0 + math.exp(min(b - a, 700.0)))
        return UNIFORM_SHARE, rest * share_prior, rest * (1.0 - share_prior), incumbent

    def top(self, observations: dict[Any, tuple[list, list]]) -> np.ndarray | None:
        """The best third (at least 2, best first) of the configurations at the highest budget with
        :data:`EVIDENCE` successes, as one-hot rows; None before any budget has them."""
        ready = [b for b, (_x, y) in observations.items() if sum(v is not None for v in y) >= EVIDENCE]
        if not ready:
            return None
        budget = max(ready, key=lambda b: math.inf if b is None else float(b))
        rows, losses = observations[budget]
        ok = [i for i, v in enumerate(losses) if v is not None]
        ok.sort(key=lambda i: losses[i])
        return np.array([rows[i] for i in ok[:max(2, len(ok) // 3)]])

    def agreement(self, observations: dict[Any, tuple[list, list]]) -> float:
        """The posterior probability of the prior against a uniform density, given the best
        configurations of :meth:`top` (even odds before): 1 before any evidence."""
        top = self.top(observations)
        if top is None:
            return 1.0
        log_ratio = float(self.log_density(top).sum())
        return 1.0 / (1.0 + math.exp(min(-log_ratio, 700.0)))

    def _log_local(self, X: np.ndarray, centre: np.ndarray) -> np.ndarray:
        """log density (relative to uniform) of draws around ``centre`` (Gaussian, categoricals kept)."""
        out = np.zeros(len(X))
        for kind, _d, c, w in self.enc.groups:
            if centre[c] == self.enc.inactive:
                continue
            active = X[:, c] != self.enc.inactive
            if kind == "cat":
                same = np.argmax(X[:, c:c + w], axis=1) == int(np.argmax(centre[c:c + w]))
                stay = 1.0 - 1.0 / max(len(self.enc.groups), 1) * (w - 1) / w
                logp = np.where(same, math.log(stay * w), math.log(max((1 - stay) / (w - 1) * w, 1e-300)))
            else:
                z = (X[:, c] - centre[c]) / LOCAL_SCALE
                logp = -0.5 * z * z - math.log(LOCAL_SCALE * math.sqrt(2 * math.pi))
            out += np.where(active, logp, 0.0)
        return out

    def random_draw(self, problem: HpProblem, observations: dict[Any, tuple[list, list]],
                    rng: np.random.Generator, taken: Any = ()) -> dict:
        """One configuration from the mixture of :meth:`mix` (the problem's sampler for the uniform share)."""
        uniform, prior, _local, incumbent = self.mix(observations)
        u = float(rng.random())
        if u < uniform or not self.enc.n_cols:
            return problem.sample(rng)
        if u < uniform + prior or incumbent is None:
            rows = self.draw(8, rng)
        else:
            rows = self.enc.perturb(incumbent[None, :], 8, LOCAL_SCALE, rng)
        config = self.config(rows, taken)
        return problem.sample(rng) if config is None else config


def pibo_weight(log_weight: np.ndarray) -> np.ndarray:
    """piBO's factor from its log (:meth:`PriorUse.log_weight`), kept finite."""
    return np.exp(np.clip(log_weight, -700.0, 700.0))


def _range_normal(enc: EncodedSpace, d: Any) -> tuple[float, float]:
    """The (centre, sd) on the unit scale of a range dimension's prior."""
    lo, hi = (math.log(d.low), math.log(d.high)) if d.log_scale else (float(d.low), float(d.high))
    if d.prior in ("normal", "log-normal") and d.mu is not None:
        return (d.mu - lo) / (hi - lo), d.sigma / (hi - lo)
    v = math.log(d.default) if d.log_scale else float(d.default)
    return (v - lo) / (hi - lo), WIDTH


def _logsumexp(v: np.ndarray) -> float:
    top = float(np.max(v))
    return top + math.log(float(np.exp(v - top).sum()))



class PriorUse:
    """What a searcher holds when its prior is on: the :class:`Prior` and the evidence for :meth:`Prior.mix`.

    Args:
        problem: the searcher's problem.
    """

    def __init__(self, problem: HpProblem):
        self.problem = problem
        self.enc = EncodedSpace(problem)
        self.prior = Prior(self.enc)
        self.observations: dict[Any, tuple[list, list]] = {}

    def observe(self, config: dict, budget: Any, loss: float | None) -> None:
        """Record an observation (None: a failure)."""
        rows, losses = self.observations.setdefault(budget, ([], []))
        rows.append(self.enc.encode(config))
        losses.append(float(loss) if loss is not None and math.isfinite(loss) else None)

    def random_draw(self, rng: np.random.Generator, taken: Any = ()) -> dict:
        """One random draw from the mixture (see :meth:`Prior.random_draw`)."""
        return self.prior.random_draw(self.problem, self.observations, rng, taken)

    def log_density(self, X: np.ndarray) -> np.ndarray:
        """The prior's log density of one-hot rows (see :meth:`Prior.log_density`)."""
        return self.prior.log_density(X)

    def trust(self) -> float:
        """How far the evidence backs the prior, in [0, 1] (see :meth:`Prior.agreement`): the best
        configurations seen are more likely under the prior than under a uniform density."""
        return self.prior.agreement(self.observations)

    def log_weight(self, X: np.ndarray, n: int) -> np.ndarray:
        """piBO's log factor ``trust * (beta / n) * log prior(x)`` of each one-hot row of ``X``."""
        return self.log_density(X) * (self.trust() * BETA / max(n, 1))

    def candidates(self, rng: np.random.Generator, m: int = N_CANDIDATES) -> np.ndarray:
        """``m`` one-hot rows from the prior, for a model searcher's candidate set."""
        return self.prior.draw(m, rng)
