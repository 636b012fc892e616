"""The worker pool under the build and the batch: an interrupt never falls between a fork and the bookkeeping of
its worker, and a worker whose coordinator is gone ends instead of waiting forever."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from symdl.run import pool as pool_module
from symdl.run.pool import STOP, Pool, uninterrupted


def _idle(conn):
    while conn.recv() is not STOP:
        pass


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_an_interrupt_in_the_block_is_delivered_after_it():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with uninterrupted():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler would have run by now
            reached.append(True)
    assert reached == [True] and signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("when", ["in the fork", "after the fork"])
def test_a_ctrl_c_at_the_fork_leaves_no_worker_the_pool_does_not_know(monkeypatch, when):
    """Ctrl-C in the parent right after fork() returned, or right after the process started: the old pool left
    that worker out of its list, so it was never killed and kept the build's output pipes open for good."""
    forked = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
            if when == "in the fork":
                os.kill(os.getpid(), signal.SIGINT)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    real_start = pool_module.mp.context.ForkProcess.start

    def start(self):
        real_start(self)
        if when == "after the fork":
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(pool_module.mp.context.ForkProcess, "start", start)
    try:
        with pytest.raises(KeyboardInterrupt):
            with Pool(_idle) as pool:
                pool.spawn()
                time.sleep(5)  # not reached: the interrupt comes as soon as the worker is in the pool's list
        assert len(forked) == 1 and not _alive(forked[0]) and pool.workers == []
    finally:
        for pid in forked:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


COORDINATOR = textwrap.dedent('''
    import sys, time
    from symdl.run.pool import STOP, Pool

    def idle(conn):
        while conn.recv() is not STOP:
            pass

    with Pool(idle) as pool:
        workers = [pool.spawn() for _ in range(2)]
        print(" ".join(str(w.pid) for w in workers), flush=True)
        time.sleep(60)
''')


def test_a_worker_whose_coordinator_is_killed_ends():
    proc = subprocess.Popen([sys.executable, "-c", COORDINATOR], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        proc.kill()  # SIGKILL: no cleanup at all
        proc.wait(10)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [p for p in pids if _alive(p)]
        for p in left:
            os.kill(p, signal.SIGKILL)
        assert left == []  # each read end-of-file on its pipe: no process held the coordinator's end but it
    finally:
        proc.kill()
        proc.stdout.close()


def test_a_busy_worker_is_killed_at_its_deadline_and_an_idle_one_told_to_stop():
    def serve(conn):
        while (msg := conn.recv()) is not STOP:
            time.sleep(msg)
            conn.send("slept")

    with Pool(serve) as pool:
        fast, slow = pool.spawn(), pool.spawn()
        for w, seconds in ((fast, 0.1), (slow, 30)):
            w.assign(f"sleep {seconds}", timeout=1.0)
            assert pool.send(w, seconds)
        events = []
        while len(events) < 2:
            for e in pool.wait():
                events.append(e)
                if e.kind == "message":  # answered: idle again, and no longer under the deadline
                    e.worker.release()
    assert [(e.kind, e.task) for e in events] == [("message", "sleep 0.1"), ("expired", "sleep 30")]
    assert events[0].message == "slept" and 1.0 <= events[1].seconds < 5
    assert fast.proc.exitcode == 0 and slow.proc.exitcode == -signal.SIGKILL and pool.workers == []
