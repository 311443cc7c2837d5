"""A run never starts more worker processes than its evaluations can use, nor more than this machine
can hold (unless told to with --allow-many-workers), and it starts them as trials need them."""
import pytest

from hpsearch.cli import cli
from hpsearch.evaluators import machine
from hpsearch.evaluators.machine import Room, TooManyWorkers, check_workers
from hpsearch.problem.loader import load_problem
from hpsearch.run.runner import RunConfig, plan_workers
from hpsearch.search import make_scheduler

from ..conftest import run_hps
from .contract import TOY, collect, spec

GIB = 2**30


def worker_logs(run_dir):
    """Each worker process the run started writes ``logs/worker-<slot>.log`` when it starts."""
    return sorted(p.name for p in (run_dir / "logs").glob("worker-*.log"))


def test_one_evaluation_starts_one_worker_process(tmp_path):
    p = run_hps("run", "--problem", "polynome2", "--max-evals", "1", "--workers", "6", "--evaluator", "process",
                "--seed", "1", "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert worker_logs(tmp_path / "r") == ["worker-0.log"]
    assert "workers:       1 (of 6: --max-evals 1)\n" in p.stdout


def test_workers_start_as_trials_need_them(tmp_path):
    from hpsearch.evaluators import make_evaluator

    ev = make_evaluator("process", TOY, workers=4, run_dir=tmp_path)
    ev.start()
    try:
        for t in range(3):  # one at a time: the one worker that is up takes each
            ev.submit(spec(t))
            assert collect(ev, 1)[t].status == "done"
        assert worker_logs(tmp_path) == ["worker-0.log"]
        for t in range(3, 5):  # two at once: a second worker starts
            ev.submit(spec(t))
        assert {r.status for r in collect(ev, 2).values()} == {"done"}
    finally:
        ev.close()
    assert worker_logs(tmp_path) == ["worker-0.log", "worker-1.log"]


@pytest.mark.parametrize("algo, options, most", [
    ("hyperband", {}, 143),  # mfbranin: R=81, eta=3 -> first rungs of 81 + 34 + 15 + 8 + 5 configurations
    ("hyperband", {"iterations": 2}, 286),
    ("asha", {"max_configs": 20}, 20),
    ("random", {}, None),
])
def test_a_scheduler_bounds_the_workers_by_what_it_can_have_in_flight(algo, options, most):
    lp = load_problem("mfbranin", with_run=False)
    scheduler = make_scheduler(algo, lp.problem, 0, options)
    assert scheduler.max_in_flight() == most
    cfg = RunConfig(problem="mfbranin", algo=algo, algo_options=options, workers=1000, max_evals=None,
                    allow_many_workers=True)
    assert plan_workers(cfg, scheduler).workers == (most or 1000)
    cfg.max_evals = 7
    assert plan_workers(cfg, scheduler).workers == 7


def test_the_bound_holds_on_what_a_scheduler_hands_out():
    """Hyperband with every worker it could use: the most evaluations out at once is max_in_flight."""
    from hpsearch.search.base import DONE, WAIT, Told
    from hpsearch.trial import Status

    lp = load_problem("mfbranin", with_run=False)
    scheduler = make_scheduler("hyperband", lp.problem, 0, {})
    out, most = [], 0
    while True:
        got = scheduler.ask(10_000)
        if got is DONE:
            break
        if got is not WAIT:
            out.extend(got)
        most = max(most, len(out))
        s = out.pop(0)
        scheduler.tell(Told(trial_id=0, suggestion=s, status=Status.DONE, loss=float(s.config_id)))
    assert most == scheduler.max_in_flight()


def test_the_machine_rule():
    assert Room(cores=2, memory=23 * GIB).most == 64  # 32 per core
    assert Room(cores=64, memory=2 * GIB).most == 2 * 1024 // machine.IDLE_WORKER_MIB  # the memory
    assert Room(cores=4, memory=None).most == 128
    check_workers(64, 64, room=Room(cores=2, memory=23 * GIB))
    with pytest.raises(TooManyWorkers) as exc:
        check_workers(100_000, 100_000, room=Room(cores=2, memory=23 * GIB))
    assert str(exc.value) == (
        "--workers 100000: this machine can hold at most 64 worker processes (2 cores x 32 = 64; 23.0 GiB "
        "available / ~20 MiB per idle worker = 1177); pass --allow-many-workers to start them anyway")
    check_workers(100_000, 100_000, allow=True, room=Room(cores=2, memory=23 * GIB))  # the user insists


def test_too_many_workers_are_refused_before_anything_is_written(tmp_path):
    p = run_hps("run", "--problem", "polynome2", "--max-evals", "1000000", "--workers", "100000",
                "--run-dir", "r", cwd=tmp_path)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --workers 100000: this machine can hold at most ")
    assert lines[0].endswith("; pass --allow-many-workers to start them anyway")
    assert not (tmp_path / "r").exists()


@pytest.fixture
def small_machine(monkeypatch):
    """A machine that holds two worker processes (one core, 40 MiB free)."""
    monkeypatch.setattr(machine.Room, "here", classmethod(lambda cls: Room(cores=1, memory=40 * 2**20)))


@pytest.mark.slow
def test_the_flag_starts_them_anyway_and_a_resume_keeps_it(tmp_path, runner, small_machine, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["run", "--problem", "polynome2", "--max-evals", "3", "--workers", "3", "--seed", "1"]
    res = runner.invoke(cli, [*args, "--run-dir", "r"])
    assert res.exit_code == 2
    assert "Error: --workers 3: this machine can hold at most 2 worker processes (1 core x 32 = 32; 40 MiB " \
           "available / ~20 MiB per idle worker = 2); pass --allow-many-workers" in res.output
    assert not (tmp_path / "r").exists()
    res = runner.invoke(cli, [*args, "--run-dir", "r", "--allow-many-workers"])
    assert res.exit_code == 0, res.output
    assert worker_logs(tmp_path / "r") == ["worker-0.log", "worker-1.log", "worker-2.log"]
    res = runner.invoke(cli, ["resume", "r", "--max-evals", "6"])  # stored with the run
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["compare", "--problem", "polynome2", "--algo", "random", "--seeds", "1",
                              "--budget", "3", "--workers", "3", "--out", "c"])
    assert res.exit_code == 2 and "this machine can hold at most 2 worker processes" in res.output
    assert not (tmp_path / "c").exists()
    res = runner.invoke(cli, ["compare", "--problem", "polynome2", "--algo", "random", "--seeds", "1",
                              "--budget", "3", "--workers", "3", "--out", "c", "--allow-many-workers"])
    assert res.exit_code == 0, res.output
