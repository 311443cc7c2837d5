"""One driver per run directory: the lock names its holder, is free again once released or once its
holder dies in any way, and a process the holder forked never keeps it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from hpsearch.errors import UsageError
from hpsearch.store.lock import LOCK_NAME, DirectoryInUse, RunDirLock

from ..conftest import hps_env

HOLD = """
import os, sys, time
from hpsearch.store.lock import RunDirLock
lock = RunDirLock(sys.argv[1]).acquire()
if sys.argv[2] == "fork":
    if os.fork() == 0:  # the child, past the fork (its at-fork handlers have run); outlives the holder
        print(os.getpid(), flush=True)
        time.sleep(120)
        os._exit(0)
    os._exit(0)
print("held", flush=True)
time.sleep(120)
"""


def test_a_second_lock_is_refused_naming_the_holder(tmp_path):
    with RunDirLock(tmp_path / "run") as lock:
        assert lock.held and (tmp_path / "run" / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        with pytest.raises(DirectoryInUse) as info:
            RunDirLock(tmp_path / "run").acquire()
        assert str(info.value) == f"{tmp_path / 'run'}: in use by another hps process (pid {os.getpid()})"
        assert isinstance(info.value, UsageError)
    assert not lock.held
    with RunDirLock(tmp_path / "run") as again:  # released: free for the next driver
        assert again.held


def test_acquire_twice_is_the_same_lock_and_release_twice_is_harmless(tmp_path):
    lock = RunDirLock(tmp_path)
    assert lock.acquire() is lock and lock.acquire() is lock
    lock.release()
    lock.release()
    assert not lock.held
    RunDirLock(tmp_path).acquire().release()


def test_the_lock_dies_with_a_killed_holder(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "hold"], env=hps_env(),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "held\n"
        with pytest.raises(DirectoryInUse, match=f"pid {proc.pid}"):
            RunDirLock(tmp_path).acquire()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    with RunDirLock(tmp_path) as lock:  # no stale lock
        assert lock.held


def test_a_process_forked_by_the_holder_does_not_keep_the_lock(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "fork"], env=hps_env(),
                            stdout=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    proc.stdout.close()  # the child keeps its copy of the pipe open
    try:
        assert proc.wait(timeout=60) == 0  # the holder has exited
        os.kill(child, 0)  # the holder's child is still alive...
        with RunDirLock(tmp_path) as lock:  # ...and the lock is free all the same
            assert lock.held
    finally:
        os.kill(child, signal.SIGKILL)


@pytest.mark.parametrize("content", ["999999999\n", "not a pid\n", ""])
def test_a_holder_that_names_no_live_process_is_pid_unknown(tmp_path, content):
    import fcntl

    (tmp_path / LOCK_NAME).write_text(content)
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR)  # another open file: flock conflicts with it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DirectoryInUse, match=r"in use by another hps process \(pid unknown\)$"):
            RunDirLock(tmp_path).acquire()
    finally:
        os.close(fd)


def test_a_directory_that_cannot_be_made_is_an_os_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        RunDirLock(tmp_path / "file" / "run").acquire()
