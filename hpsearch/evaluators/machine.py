"""How many worker processes this machine can hold.

Each worker of the ``process`` evaluator (and each Dask worker of a local
cluster) is a Python process of its own. Starting far more of them than the
machine can hold ends badly: ``--workers 100000`` loaded a 2-core machine to
297 and the kernel's out-of-memory killer killed the driver. So a run refuses,
before it writes anything, more worker processes than the smaller of:

- :data:`WORKERS_PER_CORE` per core (starting one idle worker costs ~0.16 s of
  CPU, so 32 per core already spend ~5 s of each core on starting them), and
- the memory available (``MemAvailable``, lowered by a cgroup's limit) divided by
  :data:`IDLE_WORKER_MIB`, what one idle worker takes.

``--allow-many-workers`` starts them anyway.

>>> Room(cores=2, memory=23 * 2**30).most
64
>>> Room(cores=64, memory=2 * 2**30).most
102
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from .base import EvaluatorError
from .devices import cores

__all__ = ["Room", "TooManyWorkers", "check_workers", "available_memory", "WORKERS_PER_CORE",
           "IDLE_WORKER_MIB", "ALLOW_FLAG"]

#: The most worker processes per core.
WORKERS_PER_CORE = 32
#: Memory of one idle worker that loaded a small problem (polynome2), measured on Linux with
#: CPython 3.11 as its proportional set size: 20 MiB (resident 36 MiB, of which 18 MiB its own).
IDLE_WORKER_MIB = 20
#: The flag that starts more workers than :class:`Room` allows.
ALLOW_FLAG = "--allow-many-workers"

_UNLIMITED = 2**60  # cgroup v1 writes "no limit" as a number near 2**63


class TooManyWorkers(EvaluatorError):
    """More worker processes than this machine can hold (a usage error)."""


def _read_int(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().split()[0])
    return None


def _meminfo_available() -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(ValueError, OSError, AttributeError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return None


def _cgroup_room() -> int | None:
    """Bytes left under this process's cgroup memory limit (v2 ``memory.max``, v1 ``limit_in_bytes``)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    rooms = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # v2
            files = ("memory.max", "memory.current")
            bases = [Path("/sys/fs/cgroup") / path.lstrip("/"), Path("/sys/fs/cgroup")]
        elif "memory" in controllers.split(","):  # v1
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes")
            bases = [Path("/sys/fs/cgroup/memory") / path.lstrip("/"), Path("/sys/fs/cgroup/memory")]
        else:
            continue
        for base in bases:  # a container sees its own cgroup at the root
            limit, used = _read_int(base / files[0]), _read_int(base / files[1])
            if limit is not None and used is not None:
                if limit < _UNLIMITED:
                    rooms.append(max(limit - used, 0))
                break
    return min(rooms) if rooms else None


def available_memory() -> int | None:
    """Bytes this process may still use: the system's available memory, or less under a cgroup
    limit (a container, a batch job); None when neither can be read."""
    known = [m for m in (_meminfo_available(), _cgroup_room()) if m is not None]
    return min(known) if known else None


@dataclass(frozen=True)
class Room:
    """What this machine offers worker processes.

    Attributes:
        cores: the cores this process may run on.
        memory: bytes available (None: unknown, then only the cores count).
    """

    cores: int
    memory: int | None

    @classmethod
    def here(cls) -> Room:
        return cls(cores(), available_memory())

    @property
    def by_cores(self) -> int:
        return WORKERS_PER_CORE * self.cores

    @property
    def by_memory(self) -> int | None:
        return None if self.memory is None else self.memory // (IDLE_WORKER_MIB * 2**20)

    @property
    def most(self) -> int:
        """The most worker processes: the smaller of the cores' and the memory's bound (at least 1)."""
        bounds = [self.by_cores] + ([self.by_memory] if self.by_memory is not None else [])
        return max(1, min(bounds))

    def describe(self) -> str:
        """``2 cores x 32 = 64; 22.7 GiB available / ~20 MiB per idle worker = 1163``."""
        text = f"{self.cores} core{'s' if self.cores != 1 else ''} x {WORKERS_PER_CORE} = {self.by_cores}"
        if self.memory is not None:
            text += (f"; {_size(self.memory)} available / ~{IDLE_WORKER_MIB} MiB per idle worker "
                     f"= {self.by_memory}")
        return text


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def check_workers(processes: int, asked: int | str | None, allow: bool = False,
                  room: Room | None = None) -> None:
    """Refuse ``processes`` local worker processes when this machine cannot hold them.

    Args:
        processes: how many worker processes the run would start here.
        asked: ``--workers`` as the user gave it (for the message).
        allow: the user insists (``--allow-many-workers``): never refuse.
        room: the machine (default: this one, measured now).

    Raises:
        TooManyWorkers: one line stating the rule, the figures and the flag.
    """
    if allow or processes <= 1:
        return
    room = room or Room.here()
    if processes > room.most:
        shown = asked if asked is not None else processes
        also = "" if str(shown) == str(processes) else f" ({processes} of them usable at once)"
        raise TooManyWorkers(
            f"--workers {shown}{also}: this machine can hold at most {room.most} worker processes "
            f"({room.describe()}); pass {ALLOW_FLAG} to start them anyway")
