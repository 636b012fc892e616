r"""The Dask adapter: ``symdl.run.distributed.grade_dask`` on a real local cluster of two worker processes.

The verdicts must be the local grader's (:func:`symdl.run.batch.grade`) for the same
lines, in input order, a malformed line and an unknown reference included; a
chunk whose task fails answers each of its lines ``error`` in the local
grader's shape while the other chunks are graded.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys

import cloudpickle  # distributed's dependency
import dask
import distributed  # the test extra installs dask[distributed]
import pytest

from symdl.run.batch import grade
from symdl.run.lines import read_tasks
from symdl.run.distributed import grade_chunk, grade_dask

ROWS = [
    {"id": "a", "against": "optim.heavy_ball", "latex": r"w_t - \gamma g_t + \beta (w_t - w_{t-1})"},
    {"id": "b", "against": "optim.heavy_ball", "latex": r"w_t - \gamma g_t"},
    {"id": "c", "against": "rnn.state_jacobian", "latex": r"\operatorname{diag}(\sigma'(a_t)) W_1"},
    None,  # a line that is not JSON
    {"id": "d", "against": "lstm.cell_jacobian_direct", "latex": r"\operatorname{diag}(i_t)"},
    {"id": "e", "against": "nope.nothing", "latex": "x"},
    {"id": "f", "against": "optim.adam", "latex": r"\frac{"},
    {"id": "g", "against": "ebm.gibbs", "latex": r"\exp(-\beta F(x,y))"},
    {"id": "h", "against": "lstm.cell_update", "latex": r"f_t \odot c_{t-1} + i_t \odot g_t"},
]


def _tasks():
    return list(read_tasks([json.dumps(r) if r is not None else "{not json" for r in ROWS]))


@pytest.fixture(scope="module")
def client():
    # a nanny starts each worker as a daemonic process unless told otherwise, and a daemonic
    # process may not start the child processes symdl checks lines in; the scheduler's HTTP server
    # takes a free port (dashboard_address=None falls back to 8787, which fails when anything holds it)
    with dask.config.set({"distributed.worker.daemon": False, "distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                      silence_logs=50) as cluster, distributed.Client(cluster) as c:
            cloudpickle.register_pickle_by_value(sys.modules[__name__])  # _fail_on_b below, on the workers
            try:
                yield c
            finally:
                cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_the_cluster_gives_the_local_verdicts_in_input_order(client):
    local = list(grade(_tasks(), jobs=1, timeout=10.0))
    remote = list(grade_dask(_tasks(), client, chunk=2, timeout=10.0))
    assert [json.dumps(v) for v in remote] == [json.dumps(v) for v in local]
    assert [v["id"] for v in remote] == ["a", "b", "c", None, "d", "e", "f", "g", "h"]
    assert [v["verdict"] for v in remote] == ["equivalent", "not_equivalent", "equivalent", "error", "not_equivalent",
                                              "error", "error", "not_equivalent", "equivalent"]
    assert "line 4 is not JSON" in remote[3]["message"] and "unknown reference 'nope.nothing'" in remote[5]["message"]
    ran = client.run(lambda: "symdl.run.batch" in sys.modules)  # the chunks ran in the worker processes
    assert len(ran) == 2 and any(ran.values())


def _fail_on_b(items, *args):
    """A task that fails when its chunk holds line b (``w_t - \\gamma g_t``), else grades it."""
    if any(latex == r"w_t - \gamma g_t" for _, latex in items):
        raise RuntimeError("this worker lost its disk")
    return grade_chunk(items, *args)


def test_a_failed_chunk_answers_its_lines_with_errors_and_the_others_are_graded(client):
    local = list(grade(_tasks(), jobs=1, timeout=10.0))
    remote = list(grade_dask(_tasks(), client, chunk=2, timeout=10.0, fn=_fail_on_b))
    assert [v["id"] for v in remote] == [v["id"] for v in local]
    failed = remote[:2]  # lines 1 and 2 are the first chunk of two
    for v, task in zip(failed, _tasks()[:2]):
        assert v == {"id": task.id, "line": task.line, "verdict": "error", "method": None, "reference": task.against,
                     "message": "the Dask task grading lines 1-2 failed, so this line has no verdict: "
                                "RuntimeError: this worker lost its disk", "lost": True}
    assert remote[2:] == local[2:]


def test_a_daemonic_worker_says_how_to_let_it_start_processes():
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()

    def run():
        try:
            grade_chunk([("optim.heavy_ball", "w_t")])
            child.send("no error")
        except RuntimeError as exc:
            child.send(str(exc))

    proc = ctx.Process(target=run, daemon=True)
    proc.start()
    assert parent.poll(60)
    message = parent.recv()
    proc.join(10)
    assert "daemonic" in message and "distributed.worker.daemon = False" in message


def test_chunk_must_be_positive(client):
    with pytest.raises(ValueError, match="chunk must be at least 1"):
        list(grade_dask(_tasks(), client, chunk=0))


def test_a_submission_failing_part_way_cancels_the_chunks_already_sent():
    class Client:  # a stand-in: the third submission fails, as with a lost scheduler connection
        def __init__(self):
            self.sent, self.cancelled = [], []

        def submit(self, fn, *args, **kw):
            if len(self.sent) == 2:
                raise OSError("scheduler connection lost")
            self.sent.append(object())
            return self.sent[-1]

        def cancel(self, futures):
            self.cancelled.extend(futures)

    client = Client()
    with pytest.raises(OSError, match="connection lost"):
        list(grade_dask(_tasks(), client, chunk=2))
    assert len(client.sent) == 2 and client.cancelled == client.sent


def test_the_command_on_a_scheduler_writes_the_bytes_of_one_and_two_jobs(client, tmp_path):
    import subprocess
    from pathlib import Path

    rows = [json.dumps(r) if r is not None else "{not json" for r in ROWS] + \
        [json.dumps({"id": "deriv", "model": "optim", "latex": r"m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t"})]
    batch = tmp_path / "b.jsonl"
    batch.write_text("\n".join(rows) + "\n")
    symdl = str(Path(sys.executable).parent / "symdl")

    def run(*extra):
        return subprocess.run([symdl, "check", "--batch", str(batch), *extra], capture_output=True, text=True,
                              timeout=600)

    on_cluster = run("--scheduler", client.scheduler.address, "--chunk", "2")
    one, two = run("--jobs", "1"), run("--jobs", "2")
    assert on_cluster.returncode == one.returncode == two.returncode == 0, on_cluster.stderr
    assert on_cluster.stdout == one.stdout == two.stdout
    assert [json.loads(line)["id"] for line in one.stdout.splitlines()][-1] == "deriv"
    assert json.loads(one.stdout.splitlines()[-1])["steps"][0]["verdict"] == "equivalent"
    assert run("--scheduler", "tcp://127.0.0.1:1", "--chunk", "2").returncode == 2
