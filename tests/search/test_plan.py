"""``hps plan`` prints the paper's bracket tables and totals; bad options are one-line usage errors."""
import pytest

from hpsearch.cli import cli


def rungs(output):
    """{s: [(n_i, r_i), ...]} read back from the printed table."""
    out = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) == 7 and cells[0].isdigit():
            out.setdefault(int(cells[0]), []).append((int(cells[2]), cells[3]))
    return out


def test_plan_r81_eta3(runner):
    res = runner.invoke(cli, ["plan", "--max-resource", "81", "--eta", "3"])
    assert res.exit_code == 0, res.output
    assert rungs(res.output) == {
        4: [(81, "1"), (27, "3"), (9, "9"), (3, "27"), (1, "81")],
        3: [(34, "3"), (11, "9"), (3, "27"), (1, "81")],
        2: [(15, "9"), (5, "27"), (1, "81")],
        1: [(8, "27"), (2, "81")],
        0: [(5, "81")],
    }
    assert "s_max=4" in res.output
    assert "evaluations:                       206" in res.output
    assert "total resource with warm start:    1581" in res.output
    assert "total resource without warm start: 1902" in res.output


def test_plan_r20_integer(runner):
    res = runner.invoke(cli, ["plan", "-R", "20"])
    assert res.exit_code == 0, res.output
    assert rungs(res.output) == {2: [(9, "2"), (3, "7"), (1, "20")], 1: [(5, "7"), (1, "20")], 0: [(3, "20")]}
    assert "total resource with warm start:    154" in res.output
    assert "total resource without warm start: 174" in res.output


def test_plan_min_resource_and_float(runner):
    res = runner.invoke(cli, ["plan", "-R", "81", "--min-resource", "9"])
    assert res.exit_code == 0, res.output
    assert rungs(res.output) == {2: [(9, "9"), (3, "27"), (1, "81")], 1: [(5, "27"), (1, "81")], 0: [(3, "81")]}
    res = runner.invoke(cli, ["plan", "-R", "1", "--min-resource", "0.1", "--float"])
    assert res.exit_code == 0, res.output
    assert rungs(res.output)[2] == [(9, "0.111111"), (3, "0.333333"), (1, "1")]
    assert "real resource" in res.output


@pytest.mark.parametrize("args,message", [
    (["-R", "81", "--min-resource", "81"], "--min-resource must be < --max-resource (81), got 81"),
    (["-R", "81", "--min-resource", "0"], "--min-resource must be > 0, got 0"),
    (["-R", "20.5"], "--max-resource must be an integer for an integer resource, got 20.5"),
    (["--eta", "3"], "--max-resource is required (or --problem P to read it from P's resource)"),
    (["-p", "branin"], "--algo hyperband: the problem declares no resource dimension"),
    (["-p", "mnistmlp", "-R", "20"], "--max-resource must be within the resource 'epochs''s range [1, 9], got 20"),
    (["-p", "mnistmlp", "--float"], "--float: with --problem, the problem's resource says whether it is real"),
    (["-p", "nosuchproblem"], "nosuchproblem"),
])
def test_plan_usage_errors(runner, args, message):
    res = runner.invoke(cli, ["plan", *args])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_plan_reads_the_problems_resource(runner):
    """What `hps run --problem mnistmlp --algo hyperband` will do: R=9, r_min=1 from epochs (1, 9)."""
    res = runner.invoke(cli, ["plan", "-p", "mnistmlp"])
    assert res.exit_code == 0, res.output
    assert rungs(res.output) == {2: [(9, "1"), (3, "3"), (1, "9")], 1: [(5, "3"), (1, "9")], 0: [(3, "9")]}
    assert "total resource with warm start:    69" in res.output
    res = runner.invoke(cli, ["plan", "-p", "hartmann6lc", "--min-resource", "3"])
    assert res.exit_code == 0, res.output
    assert "R=81, eta=3, r_min=3" in res.output
