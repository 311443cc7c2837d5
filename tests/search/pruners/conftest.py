"""A problem without a resource dimension: the pruners' steps are whatever the trial reports."""
from __future__ import annotations

import pytest

from hpsearch import HpProblem


@pytest.fixture
def problem() -> HpProblem:
    p = HpProblem(objective="loss", direction="minimize")
    p.add_dim("x", (0.0, 1.0), default=0.5)
    return p
