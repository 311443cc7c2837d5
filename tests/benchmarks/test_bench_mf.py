"""tests/perf/bench_mf.py without its peers: an algorithm this hpsearch lacks is skipped with a note, the
table and the JSON are written, a rerun reuses the stored runs, and the targets are judged as the script's doc says."""
from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "tests" / "perf" / "bench_mf.py"


@pytest.fixture(scope="module")
def bench_mf():
    spec = importlib.util.spec_from_file_location("bench_mf_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_quick_run_skips_unknown_algorithms_and_writes_the_tables(bench_mf, tmp_path, capsys):
    out = tmp_path / "b"
    args = ["--quick", "--problems", "mfbranin", "--algos", "random,hyperband,nosuchalgo", "--peers", "none",
            "--out", str(out)]
    assert bench_mf.main(args) == 0
    text = capsys.readouterr().out
    assert "note: nosuchalgo: skipped, the installed hpsearch does not run it" in text
    table = (tmp_path / "b-quick" / "mfbranin" / "table.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    assert set(rows) == {"algorithm", "random", "hyperband"}
    assert "budget 810 resource units = 10 R (R = 81, r_min = 1, eta = 3); seeds 0..1 asked" in table
    assert "target: bohb targets: **not measured**" in table
    results = json.loads((tmp_path / "b-quick" / "results.json").read_text())["results"]["mfbranin"]
    assert results["algos"]["random"]["runs"] == 2 and results["algos"]["random"]["spent"] == 810
    # rerunning reuses every finished run and gives the same table
    assert bench_mf.main(args) == 0
    assert "finished before, skipped" in capsys.readouterr().out
    again = (tmp_path / "b-quick" / "mfbranin" / "table.md").read_text()
    assert again.split("\n(mfbranin:")[0] == table.split("\n(mfbranin:")[0]


def test_record_counts_resource_and_best_full_budget_score(bench_mf):
    r = bench_mf.Record("x", 0)
    r.add(1, None)
    r.add(3, 0.5)
    r.add(81, 0.2)
    assert r.spent == [1, 4, 85] and r.best == [float("inf"), 0.5, 0.2]
    assert r.within(3.9) == float("inf") and r.within(4) == 0.5 and r.within(None) == 0.2


def row(*medians):
    return {"runs": 5, "at": {f: (m, m, m) for f, m in zip((0.1, 0.25, 0.5, 1.0), medians)}}


def test_targets_say_met_or_missed_and_where(bench_mf):
    bench = bench_mf.make_bench("mfbranin", 100)
    summ = {"hyperband": row(5, 3, 1, 0.5), "bayesian": row(9, 4, 2, 0.1), "bohb": row(5, 2, 1, 0.15),
            "hpbandster-bohb": row(9, 9, 2, 0.1), "dehb": row(9, 9, 2, 0.3)}
    got = {t: state for t, state, _ in bench_mf.targets(summ, bench)}
    assert got == {
        "bohb <= min(hyperband, bayesian) at 10/25/50/100 %": "missed at 100 %",
        "bohb regret within 2x of bayesian's at 100 %": "met",
        "bohb ahead of hpbandster-bohb at 50 and 100 %": "missed at 100 %",
        "bohb ahead of dehb at 50 and 100 %": "met",
    }
    summ["bohb"] = row(5, 2, 1, 0.25)
    got = {t: state for t, state, _ in bench_mf.targets(summ, bench)}
    assert got["bohb regret within 2x of bayesian's at 100 %"] == "missed"
    del summ["bohb"]
    assert [t[1] for t in bench_mf.targets(summ, bench)] == ["not measured"]
