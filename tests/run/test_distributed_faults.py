r"""A Dask worker killed in the middle of a chunk: its grading processes end with it, the scheduler gives the
chunk to another worker, and every line is answered once, in order, as a clean run answers it."""

from __future__ import annotations

import json
import os
import signal
import time

import dask
import distributed
import pytest

from symdl.run.batch import grade
from symdl.run.distributed import grade_dask
from symdl.run.lines import read_tasks

from test_batch_faults import LINES, descendants, groups_of, left_after


@pytest.fixture
def cluster():
    with dask.config.set({"distributed.worker.daemon": False}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                      silence_logs=50) as c, distributed.Client(c) as client:
            yield client


def _tasks():
    return read_tasks([json.dumps({"id": i, "against": a, "latex": t}) for i, (a, t) in enumerate(LINES * 4)])


def test_a_dask_worker_killed_mid_chunk_leaves_no_process_and_no_line_lost_or_repeated(cluster):
    clean = [json.dumps(v) for v in grade(_tasks(), jobs=1, timeout=10.0)]
    answers = grade_dask(_tasks(), cluster, chunk=4, timeout=10.0)
    got = [json.dumps(next(answers))]
    pids = cluster.run(os.getpid)
    deadline = time.monotonic() + 120
    busy: list[int] = []
    while not busy and time.monotonic() < deadline:  # a worker with its grading processes: mid-chunk
        busy = [p for p in pids.values() if descendants(p)]
        time.sleep(0.02)
    assert busy, "no Dask worker was grading"
    victim = busy[0]
    batch = descendants(victim)
    groups = groups_of(batch)
    os.kill(victim, signal.SIGKILL)
    left = left_after(batch, groups, 3.0)
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert left == set()
    got += [json.dumps(v) for v in answers]
    assert got == clean
