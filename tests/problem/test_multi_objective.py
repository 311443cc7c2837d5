"""Declaring several objectives: the form, its one-line errors, the loss tuple, the stored round trip."""
import math

import pytest

from hpsearch import HpProblem, SpaceError
from hpsearch.problem.objective import MissingObjective
from hpsearch.store.runstore import RunStore
from tests.conftest import one_line_error

MO = {"val_accuracy": "maximize", "n_params": "minimize"}


def test_the_multi_objective_form_beside_the_single_one():
    mo = HpProblem(objectives=MO, reference_point={"n_params": 1e6, "val_accuracy": 0.0},
                   hypervolume_optimum=0.9e6)
    assert mo.multi_objective and mo.objectives == MO
    assert (mo.objective, mo.direction) == ("val_accuracy", "maximize")  # the first objective's
    assert mo.to_losses({"n_params": 1000, "val_accuracy": 0.75, "loss": 3}) == (-0.75, 1000.0)
    assert mo.reference_point == {"val_accuracy": 0.0, "n_params": 1e6}  # declaration order
    assert mo.reference_losses == (0.0, 1e6)
    single = HpProblem(objective="loss", direction="minimize")
    assert not single.multi_objective and single.objectives == {"loss": "minimize"}
    assert single.to_losses({"loss": 2.5}) == (2.5,)
    assert HpProblem().objectives == {"objective": "maximize"}


@pytest.mark.parametrize("kwargs, message", [
    ({"objectives": {"a": "maximise", "b": "minimize"}}, "objectives: 'a' has direction 'maximise'"),
    ({"objectives": {"a": "maximize"}}, "objectives needs two or more objectives, got 1 ('a')"),
    ({"objectives": {}}, "objectives needs two or more objectives, got 0"),
    ({"objectives": MO, "objective": "val_accuracy"}, "not both"),
    ({"objectives": MO, "direction": "minimize"}, "not both"),
    ({"objectives": MO, "reference_point": {"val_accuracy": 0}}, "reference_point is missing objective "
                                                                  "'n_params'"),
    ({"objectives": MO, "reference_point": {"val_accuracy": 0, "n_params": 1, "x": 2}},
     "reference_point names 'x', not an objective"),
    ({"objectives": MO, "reference_point": {"val_accuracy": 0, "n_params": math.inf}},
     "reference_point['n_params'] must be a finite number"),
    ({"objectives": MO, "hypervolume_optimum": 1.0}, "hypervolume_optimum needs a reference_point"),
    ({"objectives": MO, "optimum": 1.0}, "declares hypervolume_optimum"),
    ({"objective": "a", "reference_point": {"a": 0}}, "reference_point applies to a multi-objective"),
])
def test_bad_declarations_are_one_line_space_errors(kwargs, message):
    with pytest.raises(SpaceError) as err:
        HpProblem(**kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_missing_or_non_finite_objective_names_it():
    mo = HpProblem(objectives=MO)
    with pytest.raises(MissingObjective, match="objective 'n_params' is missing"):
        mo.to_losses({"val_accuracy": 0.5})
    with pytest.raises(MissingObjective, match="objective 'n_params' is nan"):
        mo.to_losses({"val_accuracy": 0.5, "n_params": math.nan})


def test_the_stored_settings_round_trip(tmp_path):
    mo = HpProblem(objectives=MO, reference_point={"val_accuracy": 0.0, "n_params": 1e6},
                   hypervolume_optimum=5.0)
    mo.add_dim("units", (16, 256))
    store = RunStore.create(tmp_path / "run", {"space": mo.to_dict()}, ["units"])
    store.close()
    back = RunStore.open(tmp_path / "run", readonly=True)
    assert back.multi_objective and back.objectives == MO
    assert back.reference_point == {"val_accuracy": 0.0, "n_params": 1e6}
    assert back.hypervolume_optimum == 5.0
    assert back.objective == "val_accuracy"
    back.close()


def test_a_single_objective_space_is_stored_as_before_and_old_stores_have_one_objective(tmp_path):
    single = HpProblem(objective="loss", direction="minimize")
    single.add_dim("x", (0.0, 1.0))
    assert set(single.to_dict()) == {"objective", "direction", "optimum", "kind", "dims", "fixed"}
    store = RunStore.create(tmp_path / "old", {"space": {"objective": "loss", "direction": "minimize"}}, ["x"])
    assert store.objectives == {"loss": "minimize"} and not store.multi_objective
    assert store.reference_point is None and store.hypervolume_optimum is None
    store.close()


def test_a_bad_declaration_in_a_problem_folder_exits_2_with_one_line(make_problem, runner):
    from hpsearch.cli import cli

    folder = make_problem(problem="""
        from hpsearch import HpProblem
        Problem = HpProblem(objectives={"acc": "maximize", "size": "smallest"})
        Problem.add_dim("x", (0.0, 1.0))
    """, model_run="def run(config):\n    return {'acc': 1, 'size': 2}\n")
    one_line_error(runner.invoke(cli, ["show", str(folder)]), "'size' has direction 'smallest'")
    folder = make_problem(name="one", problem="""
        from hpsearch import HpProblem
        Problem = HpProblem(objectives={"acc": "maximize"})
        Problem.add_dim("x", (0.0, 1.0))
    """, model_run="def run(config):\n    return {'acc': 1}\n")
    one_line_error(runner.invoke(cli, ["show", str(folder)]), "two or more objectives")
