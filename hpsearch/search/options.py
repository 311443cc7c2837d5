"""How a search component (searcher or scheduler) declares its options, once.

Each component lists :class:`Option` objects in its ``OPTIONS``; the CLI
builds its flags from them (a flag shared by several components, such as
``--eta`` of hyperband and asha, is one :class:`Option` object referenced by
both), ``hps compare`` routes them, and the docs print them. Validation is
here too, so there is one integer check, one choice check, one number check:

    >>> eta = Option("eta", int, 3, "The reduction factor.", least=2)
    >>> eta.check(3.0, "scheduler hyperband")
    3
    >>> eta.check(1, "scheduler hyperband")
    Traceback (most recent call last):
    ...
    hpsearch.search.base.OptionError: --eta must be an integer >= 2, got 1
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .base import OptionError

__all__ = ["Option", "check_int", "check_number", "check_choice", "positive", "resolve", "recorded",
           "replayed"]


def check_int(flag: str, value: Any, least: int | None = None) -> int:
    """``value`` as an int (``3.0`` is 3; ``3.5``, ``True`` and text are refused), >= ``least``."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) \
        and float(value).is_integer()
    if not ok or (least is not None and value < least):
        rule = f"an integer >= {least}" if least is not None else "an integer"
        raise OptionError(f"{flag} must be {rule}, got {value!r}")
    return int(value)


def check_number(flag: str, value: Any, least: float | None = None, most: float | None = None) -> float:
    """``value`` as a finite float within ``[least, most]``."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or (least is not None and value < least) or (most is not None and value > most):
        bounds = [f">= {least:g}" if least is not None else "", f"<= {most:g}" if most is not None else ""]
        rule = " and ".join(b for b in bounds if b)
        raise OptionError(f"{flag} must be a finite number{' ' + rule if rule else ''}, got {value!r}")
    return float(value)


def positive(flag: str, value: Any) -> Any:
    """A ``validate`` for a number that must be > 0 (``least`` allows the bound itself)."""
    if not value > 0:
        raise OptionError(f"{flag} must be > 0, got {value:g}")
    return value


def check_choice(flag: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` as one of ``choices`` (case-insensitive), spelled as declared."""
    choices = tuple(choices)
    for c in choices:
        if isinstance(value, str) and value.lower() == c.lower():
            return c
    raise OptionError(f"{flag}: expected one of {', '.join(choices)}, got {value!r}")


@dataclass(frozen=True)
class Option:
    """One option of a search component.

    Attributes:
        name: the keyword (``max_resource``); the flag is ``--max-resource``.
        type: ``int``, ``float`` or ``str``.
        default: used when the option is not given (None: the component decides,
            e.g. from the problem's resource).
        help: one sentence for ``--help`` and the docs.
        choices: the allowed values of a ``str`` option.
        least, most: bounds of a number.
        validate: an extra check, ``(flag, value) -> value``, raising OptionError.
        prefix: put before the name in the flag (``"pruner-"``: ``--pruner-grace-period``).
        absent: for an option whose default (or a preset's default for it) changes what a run does:
            the value a stored run that does not record the option resumes with (the behaviour it
            was made with); a new run records its value when it differs (:func:`recorded`,
            :func:`replayed`). None: nothing is recorded.
    """

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    least: float | None = None
    most: float | None = None
    validate: Callable[[str, Any], Any] | None = None
    prefix: str = ""
    absent: Any = None

    @property
    def flag(self) -> str:
        return "--" + self.prefix + self.name.replace("_", "-")

    def check(self, value: Any, component: str = "") -> Any:
        """The value checked and converted; None stays None (the component's default applies)."""
        if value is None:
            return None
        if self.choices is not None:
            value = check_choice(self.flag, value, self.choices)
        elif self.type is int:
            value = check_int(self.flag, value, None if self.least is None else int(self.least))
            if self.most is not None and value > self.most:
                raise OptionError(f"{self.flag} must be an integer <= {self.most:g}, got {value}")
        elif self.type is float:
            value = check_number(self.flag, value, self.least, self.most)
        if self.validate is not None:
            value = self.validate(self.flag, value)
        return value


def resolve(options: Iterable[Option], given: dict[str, Any], component: str,
            prefix: str = "") -> dict[str, Any]:
    """Every declared option's value: ``given`` (checked) or the default.

    ``prefix`` is the flag prefix of the options (see :attr:`Option.prefix`), for naming one not declared.

    Raises:
        OptionError: an option ``component`` does not take, or a value that breaks its rule.
    """
    declared = {o.name: o for o in options}
    for key in given:
        if key not in declared:
            flags = ", ".join(o.flag for o in declared.values()) or "none"
            raise OptionError(f"--{prefix}{key.replace('_', '-')}: does not apply to {component} "
                              f"(its options: {flags})")
    out = {}
    for name, opt in declared.items():
        value = given.get(name)
        out[name] = opt.default if value is None else opt.check(value, component)
    return out


def recorded(options: Iterable[Option], effective: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``given`` (a run's options as it stores them) plus the ``effective`` value of each option that
    declares :attr:`Option.absent` where that value differs from it, so a resume does what the run did
    even after the option's default changes.

    >>> opt = Option("mode", str, "new", "A mode.", choices=("old", "new"), absent="old")
    >>> recorded([opt], {"mode": "new"}, {}), recorded([opt], {"mode": "old"}, {})
    ({'mode': 'new'}, {})
    """
    out = dict(given)
    for opt in options:
        if opt.absent is not None and out.get(opt.name) is None and effective.get(opt.name) != opt.absent:
            out[opt.name] = effective.get(opt.name)
    return out


def replayed(options: Iterable[Option], stored: dict[str, Any]) -> dict[str, Any]:
    """A stored run's options as it resumes: each option that declares :attr:`Option.absent` and that
    the run does not record gets that value (the run was made before the option, or with that value).

    >>> opt = Option("mode", str, "new", "A mode.", choices=("old", "new"), absent="old")
    >>> replayed([opt], {}), replayed([opt], {"mode": "new"})
    ({'mode': 'old'}, {'mode': 'new'})
    """
    out = dict(stored)
    for opt in options:
        if opt.absent is not None and out.get(opt.name) is None:
            out[opt.name] = opt.absent
    return out
