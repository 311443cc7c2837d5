"""One driver per run directory: the lock names its holder, is free again once released or once its
holder dies in any way, and a process the holder forked never keeps it."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import pytest

from hpsearch.errors import UsageError
from hpsearch.store.lock import LOCK_NAME, DirectoryInUse, RunDirLock

from ..conftest import hps_env

HOLD = """
import os, signal, sys, time
signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as in a terminal, whatever the test runner ignores
from hpsearch.store.lock import RunDirLock
lock = RunDirLock(sys.argv[1]).acquire()
if sys.argv[2] == "fork":
    if os.fork() == 0:  # the child, past the fork (its at-fork handlers have run); outlives the holder
        print(os.getpid(), flush=True)
        time.sleep(120)
        os._exit(0)
    os._exit(0)
print("held", flush=True)
for line in sys.stdin:  # answers each line while it holds the lock
    print("still here", flush=True)
"""


def test_a_second_lock_in_the_holding_process_is_refused_saying_so(tmp_path):
    with RunDirLock(tmp_path / "run") as lock:
        assert lock.held and (tmp_path / "run" / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        with pytest.raises(DirectoryInUse) as info:
            RunDirLock(tmp_path / "run").acquire()
        assert str(info.value) == (f"{tmp_path / 'run'}: already open in this process (a Study, run or store "
                                   "not closed yet); close it first")
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
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "held\n"
        with pytest.raises(DirectoryInUse, match=f"pid {proc.pid}"):
            RunDirLock(tmp_path).acquire()
        proc.stdin.write("still there?\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "still here\n"  # naming the holder did not disturb it
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
        os.kill(child, signal.SIGTERM)  # (not SIGKILL: a coverage run saves what the child ran)


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


def test_the_lock_file_is_not_world_writable(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    with RunDirLock(tmp_path):
        assert stat.S_IMODE((tmp_path / LOCK_NAME).stat().st_mode) == 0o644 & ~umask


def test_a_lock_file_with_bytes_that_are_no_text_is_pid_unknown(tmp_path):
    import fcntl

    (tmp_path / LOCK_NAME).write_bytes(b"\xff\xfe12\n")
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DirectoryInUse, match=r"\(pid unknown\)$"):
            RunDirLock(tmp_path).acquire()
    finally:
        os.close(fd)


def test_a_holder_of_another_user_is_named(tmp_path, monkeypatch):
    import fcntl

    (tmp_path / LOCK_NAME).write_text("4242\n")
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

        def kill(pid, sig):  # as os.kill(pid, 0) answers for another user's live process
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(os, "kill", kill)
        with pytest.raises(DirectoryInUse, match=r"\(pid 4242\)$"):
            RunDirLock(tmp_path).acquire()
    finally:
        os.close(fd)


def test_an_unexpected_lock_error_is_raised_as_it_is(tmp_path, monkeypatch):
    import errno
    import fcntl

    def flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", flock)
    with pytest.raises(OSError, match="No locks available"):
        RunDirLock(tmp_path).acquire()


def test_a_pid_that_cannot_be_written_does_not_stop_the_driver(tmp_path, monkeypatch):
    def pwrite(fd, data, offset):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", pwrite)
    with RunDirLock(tmp_path) as lock:
        assert lock.held


def test_release_survives_a_descriptor_that_is_already_gone(tmp_path, monkeypatch):
    lock = RunDirLock(tmp_path).acquire()
    real_close = os.close
    fds = []

    def close(fd):
        fds.append(fd)
        real_close(fd)
        raise OSError(9, "Bad file descriptor")

    monkeypatch.setattr(os, "close", close)
    lock.release()
    monkeypatch.undo()
    assert not lock.held and len(fds) == 1
    RunDirLock(tmp_path).acquire().release()  # and it is free


def test_missing_parent_folders_are_made(tmp_path):
    with RunDirLock(tmp_path / "a" / "b" / "run") as lock:
        assert lock.held and (tmp_path / "a" / "b" / "run" / LOCK_NAME).is_file()
