"""Finding and importing problem folders: names, paths, HPS_PATH, sibling isolation, errors."""
import sys

import pytest

from hpsearch.problem.loader import ProblemLoadError, find_problem, list_problems, load_problem

PROBLEM = """
    \"\"\"A test problem.\"\"\"
    from hpsearch import HpProblem
    Problem = HpProblem(objective="y", direction="minimize")
    Problem.add_dim("x", (0.0, 1.0), default=0.5)
"""


def test_bundled_benchmarks_are_listed():
    names = {p.name for p in list_problems()}
    assert {"polynome2", "branin", "hartmann6"} <= names
    info = {p.name: p for p in list_problems()}["branin"]
    assert (info.kind, info.n_dims, info.optimum) == ("synthetic", 2, pytest.approx(0.397887, abs=1e-6))


def test_find_by_path_and_on_hps_path(make_problem, tmp_path, monkeypatch):
    folder = make_problem("mine", problem=PROBLEM, model_run="def run(config): return config['x']\n",
                          root=tmp_path / "lib")
    assert find_problem(str(folder)) == folder.resolve()
    with pytest.raises(ProblemLoadError, match="no problem named 'mine'"):
        find_problem("mine")
    monkeypatch.setenv("HPS_PATH", str(tmp_path / "lib"))
    assert find_problem("mine") == folder.resolve()
    assert "mine" in {p.name for p in list_problems()}
    lp = load_problem("mine")
    assert lp.description == "A test problem."
    assert lp.run({"x": 0.25}) == 0.25 and lp.accepts_trial is False


def test_unknown_name_suggests_close_names():
    with pytest.raises(ProblemLoadError) as err:
        find_problem("branni")
    assert "no problem named 'branni'; did you mean branin" in str(err.value)  # (, mfbranin)


def test_same_sibling_name_in_two_folders_does_not_mix(make_problem, tmp_path):
    run = """
        import load_data
        def run(config):
            import helper_lazy
            return load_data.VALUE + helper_lazy.VALUE
    """
    a = make_problem("a", problem=PROBLEM, model_run=run, load_data="VALUE = 1\n",
                     helper_lazy="VALUE = 10\n")
    b = make_problem("b", problem=PROBLEM, model_run=run, load_data="VALUE = 2\n",
                     helper_lazy="VALUE = 20\n")
    la, lb = load_problem(a), load_problem(b)
    with la.activate():
        assert la.run({"x": 0}) == 11
    with lb.activate():
        assert lb.run({"x": 0}) == 22
    with la.activate():
        assert la.run({"x": 0}) == 11
    assert "load_data" not in sys.modules  # nothing leaks into the driver's namespace


@pytest.mark.parametrize("files, message", [
    ({"model_run": "def run(config): return 0\n"}, "no problem.py in this folder"),
    ({"problem": "x = 1\n", "model_run": "def run(c): return 0\n"},
     "problem.py: defines no attribute 'Problem' (expected Problem = HpProblem(...))"),
    ({"problem": "Problem = {'x': (0, 1)}\n", "model_run": "def run(c): return 0\n"},
     "problem.py: 'Problem' must be an hpsearch.HpProblem, got dict"),
    ({"problem": PROBLEM}, "model_run.py: no such file (it must define run(config))"),
    ({"problem": PROBLEM, "model_run": "def train(c): return 0\n"},
     "model_run.py: defines no function 'run' (expected def run(config) or def run(config, trial))"),
    ({"problem": PROBLEM, "model_run": "def run(:\n    pass\n"}, "model_run.py:1: SyntaxError"),
    ({"problem": PROBLEM, "model_run": "import numpy\nimport no_such_module_xyz\ndef run(c): return 0\n"},
     "model_run.py:2: ModuleNotFoundError: No module named 'no_such_module_xyz'"),
    ({"problem": PROBLEM, "model_run": "import helper\ndef run(c): return 0\n",
      "helper": "x = 1 / 0\n"}, "helper.py:1: ZeroDivisionError: division by zero"),
    ({"problem": PROBLEM, "model_run": "def run(a, b, c): return 0\n"},
     "model_run.py: run() takes (config) or (config, trial), got 3 required arguments"),
])
def test_load_errors_are_one_line_with_file_and_line(make_problem, files, message):
    folder = make_problem("bad", **files)
    with pytest.raises(ProblemLoadError) as err:
        load_problem(folder)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_run_with_trial_argument_is_detected(make_problem):
    folder = make_problem("t", problem=PROBLEM, model_run="def run(config, trial=None): return 0\n")
    assert load_problem(folder).accepts_trial is True
