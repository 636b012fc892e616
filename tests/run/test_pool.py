"""The worker pool under the build and the batch: deadlines, messages, and stopping."""

import signal
import time

from symdl.run.pool import STOP, Pool


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
