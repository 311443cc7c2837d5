"""The one seed mixer: derived seeds for per-trial and per-step random streams."""
from __future__ import annotations

__all__ = ["mix_seed"]

_M64 = (1 << 64) - 1


def mix_seed(seed: int, n: int) -> int:
    """A seed in [0, 2**31) for item ``n`` of a run with ``seed``, well mixed (splitmix64 finaliser).

    Stable across processes and platforms (no ``hash()``):

    >>> mix_seed(0, 0), mix_seed(0, 1) != mix_seed(1, 0)
    (269157861, True)
    """
    z = (seed * 0x9E3779B97F4A7C15 + n + 1) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return (z ^ (z >> 31)) & 0x7FFFFFFF
