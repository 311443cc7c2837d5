"""``hps dashboard``: a read-only web view of run and comparison directories.

An optional extra (``pip install "hpsearch[dashboard]"``: Flask and Plotly).
The server reads run stores through :class:`~hpsearch.store.RunStore` opened
read-only, one short-lived connection per refresh, and never writes to a run;
pages are HTML skeletons whose scripts poll small JSON endpoints every second.
Plotly's JavaScript is served from the ``plotly`` package itself (no CDN), so
the dashboard works offline, e.g. on a cluster login node.
"""
from __future__ import annotations

from ..errors import UsageError

__all__ = ["MissingExtra", "require_extra", "MISSING"]

MISSING = 'hps dashboard needs the dashboard extra: pip install "hpsearch[dashboard]"'


class MissingExtra(UsageError):
    """Flask or Plotly is not installed (a usage error: one line, exit 2)."""


def require_extra() -> None:
    """Raise :class:`MissingExtra` unless the dashboard's dependencies import."""
    try:
        import flask  # noqa: F401
        import plotly  # noqa: F401
    except ImportError:
        raise MissingExtra(MISSING) from None
