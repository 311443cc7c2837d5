"""Progress lines for a run without a terminal: a line for each new best and the first failure, others
at most once per interval; on a terminal, a bar."""
from __future__ import annotations

import io
from types import SimpleNamespace

from hpsearch.reporting.progress import Progress
from hpsearch.trial import Status


def trial(tid, status=Status.DONE, objective=None, error=None, budget=None, step=None):
    return SimpleNamespace(trial_id=tid, status=status, objective=objective, error=error, budget=budget,
                           step_reached=step)


def test_log_lines_for_new_bests_and_the_first_failure_only():
    out = io.StringIO()
    p = Progress(total=6, stream=out, tty=False, interval=3600)
    best = trial(0, objective=0.5)
    p.on_result(best, best, None)
    p.on_result(trial(1, objective=0.9), best, None)  # not better, interval not passed: no line
    p.on_result(trial(2, Status.FAILED, error="ValueError: boom"), best, None)
    p.on_result(trial(3, Status.TIMEOUT, error="slow"), best, None)  # a second failure: no line
    better = trial(4, objective=0.25, budget=9)
    p.on_result(better, better, None)
    p.on_result(trial(5, Status.STOPPED, objective=0.3, step=4), better, None)
    assert out.getvalue().splitlines() == [
        "[1/6] trial 0 objective=0.5 best=0.5 (trial 0)",
        "[3/6] trial 2 failed: ValueError: boom best=0.5 (trial 0)",
        "[5/6] trial 4 budget=9 objective=0.25 best=0.25 (trial 4)",
    ]


def test_with_no_interval_every_result_has_a_line():
    out = io.StringIO()
    p = Progress(stream=out, tty=False, interval=0)
    p.on_result(trial(0, objective=1.0), None, None)
    p.on_result(trial(1, Status.STOPPED, objective=0.3, step=4), None, None)
    assert out.getvalue().splitlines() == ["[1] trial 0 objective=1", "[2] trial 1 stopped at step 4 objective=0.3"]


def test_a_terminal_gets_a_bar_with_the_best_and_the_first_failure():
    out = io.StringIO()
    p = Progress(total=3, stream=out, tty=True)
    engine = SimpleNamespace(limits=SimpleNamespace(max_evals=3), scheduler=None,
                             summary=SimpleNamespace(n_finished=0, best=None))
    p.on_start(engine)
    best = trial(0, objective=0.5)
    p.on_result(best, best, None)
    p.on_result(trial(1, Status.FAILED, error="boom"), best, None)
    p.on_result(trial(2, Status.FAILED, error="again"), best, None)
    p.on_end(None)
    text = out.getvalue()
    assert "3/3" in text and "best=0.5" in text
    assert "trial 1 failed: boom" in text and "again" not in text


def test_a_resumed_run_says_how_many_were_stored():
    out = io.StringIO()
    p = Progress(stream=out, tty=False, interval=3600)
    engine = SimpleNamespace(limits=SimpleNamespace(max_evals=None),
                             scheduler=SimpleNamespace(max_evaluations=lambda: 20),
                             summary=SimpleNamespace(n_finished=7, best=trial(3, objective=0.1)))
    p.on_start(engine)
    assert p.total == 20
    assert out.getvalue() == "resumed: 7 evaluations already stored\n"
    p.on_result(trial(7, objective=0.5), trial(3, objective=0.1), None)  # the stored best is still best
    assert out.getvalue().splitlines() == ["resumed: 7 evaluations already stored"]
    p.on_result(trial(8, objective=0.05), trial(8, objective=0.05), None)
    assert out.getvalue().splitlines()[-1] == "[9/20] trial 8 objective=0.05 best=0.05 (trial 8)"
