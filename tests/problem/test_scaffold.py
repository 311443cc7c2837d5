"""hps new: the scaffolded folder runs as generated, never overwrites, rejects bad names."""
import csv

import pytest

from hpsearch.cli import cli
from hpsearch.problem.loader import load_problem
from hpsearch.problem.scaffold import FILES


def test_new_folder_runs_as_generated(runner, in_tmp):
    out = runner.invoke(cli, ["new", "myprob", "--dir", "probs"])
    assert out.exit_code == 0, out.output
    folder = in_tmp / "probs" / "myprob"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    lines = out.output.splitlines()
    assert lines[0] == "created probs/myprob/"
    assert "  hps run --problem probs/myprob --algo random --max-evals 3" in lines
    assert any(line.startswith("  problem.py ") for line in lines)

    run = runner.invoke(cli, ["run", "--problem", "probs/myprob", "--algo", "random", "--max-evals", "3",
                              "--evaluator", "serial", "--seed", "0", "--run-dir", "r"])
    assert run.exit_code == 0, run.output
    assert "evaluations:   3 done, 0 failed, 0 timeout" in run.output
    rows = list(csv.DictReader(open(in_tmp / "r" / "results.csv")))
    assert [r["status"] for r in rows] == ["done"] * 3
    assert all(0.5 <= float(r["objective"]) <= 1.0 for r in rows)  # a real classifier's accuracy
    assert all(r["m:val_loss"] for r in rows)
    lp = load_problem(folder, with_run=False)
    assert lp.problem.resource.name == "epochs" and lp.problem.kind == "classification"
    assert lp.description.startswith("Logistic regression on synthetic data")


def test_new_model_warm_starts_like_training_from_scratch(in_tmp, runner):
    """The template's warm start: 3 epochs then 3 more == 6 epochs at once."""
    assert runner.invoke(cli, ["new", "ws"]).exit_code == 0
    lp = load_problem(in_tmp / "ws")
    from hpsearch.trial import TrialSpec, execute_trial

    config = {**lp.problem.defaults, "epochs": 3}
    root = str(in_tmp / "ckpt")

    def go(config_id, budget, previous):
        spec = TrialSpec(trial_id=0, config_id=config_id, config={**config, "epochs": budget}, budget=budget,
                         previous_budget=previous, seed=5, checkpoint_root=root, objective="val_accuracy")
        with lp.activate():
            res = execute_trial(lp.run, lp.accepts_trial, spec)
        assert res.status == "done", res.error
        return res

    go(0, 3, 0)
    warm = go(0, 6, 3)
    cold = go(1, 6, 0)
    assert [r["step"] for r in warm.reports] == [4, 5, 6]  # trained only the extra epochs
    assert warm.objective == cold.objective
    assert warm.metrics["val_loss"] == pytest.approx(cold.metrics["val_loss"], rel=1e-9)


def test_new_refuses_to_overwrite(runner, in_tmp):
    (in_tmp / "taken").mkdir()
    (in_tmp / "taken" / "mine.txt").write_text("keep me")
    out = runner.invoke(cli, ["new", "taken"])
    assert out.exit_code == 2
    assert out.output.strip().splitlines() == [
        "Error: taken: already exists; choose another NAME or --dir (hps new never overwrites)"]
    assert [p.name for p in (in_tmp / "taken").iterdir()] == ["mine.txt"]
    assert (in_tmp / "taken" / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize("name", ["9lives", "my prob", "../escape", "_hidden", ".dot", "a/b", ""])
def test_new_rejects_bad_names(runner, in_tmp, name):
    out = runner.invoke(cli, ["new", name])
    assert out.exit_code == 2, out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: NAME: expected a letter followed by letters")
    assert repr(name) in lines[0]
    assert list(in_tmp.iterdir()) == []
