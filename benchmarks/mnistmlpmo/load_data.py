"""The mnistmlp folder's data loading, run here (one copy of the code, in ../mnistmlp/load_data.py)."""
from pathlib import Path

_SOURCE = Path(__file__).resolve().parent.parent / "mnistmlp" / "load_data.py"
exec(compile(_SOURCE.read_text(encoding="utf-8"), str(_SOURCE), "exec"))  # noqa: S102 - our own file
