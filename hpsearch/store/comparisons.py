"""A comparison directory on disk: ``compare.json`` (the settings and which runs are finished)
beside one ordinary run directory per algorithm and seed (``<algo>-seed<k>/``).

:mod:`hpsearch.run.compare` writes it; ``hps compare``'s table, ``compare.png``
and the dashboard read it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import UsageError

__all__ = ["SETTINGS_FILE", "CompareError", "load_settings", "save_settings", "is_comparison_dir",
           "run_name"]

SETTINGS_FILE = "compare.json"


class CompareError(UsageError):
    """A comparison cannot start, resume or be read as asked (a usage error; one line)."""


def is_comparison_dir(path: str | os.PathLike) -> bool:
    """True if ``path`` holds a comparison's ``compare.json``."""
    return (Path(path) / SETTINGS_FILE).is_file()


def run_name(algo: str, seed: int) -> str:
    """The run directory of one algorithm and seed inside a comparison directory."""
    return f"{algo}-seed{seed}"


def load_settings(out: str | os.PathLike) -> dict:
    """The comparison's stored settings (``compare.json``)."""
    path = Path(out) / SETTINGS_FILE
    if not path.is_file():
        raise CompareError(f"{out}: not a comparison directory (no {SETTINGS_FILE} in it)")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CompareError(f"{path}: unreadable ({exc})") from None


def save_settings(out: Path, settings: dict) -> None:
    """Write ``compare.json`` atomically (a reader never sees half of it)."""
    tmp = out / (SETTINGS_FILE + ".tmp")
    tmp.write_text(json.dumps(settings, indent=2))
    os.replace(tmp, out / SETTINGS_FILE)
