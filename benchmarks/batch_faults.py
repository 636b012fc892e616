"""The fault matrix of batch grading (issue 16): what was killed, when, lines lost, lines regraded, the delay
against a clean run, and the processes left 3 s after the kill.  Not a test; prints a Markdown table.

Every scenario grades the same batch (benchmarks/batch.py's forms) and holds its output against a clean
run's: "lost" counts the lines of the clean output missing or different at the end (after --resume where
the scenario resumes), "regraded" the lines graded twice (for a killed pool worker: the line it had; for a
killed Dask worker: the chunk it had; for a killed command: the lines graded again on --resume).

    python benchmarks/batch_faults.py [--lines 200] [--chunk 50]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import SYMDL, batch_file  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "run"))
from test_batch_faults import descendants, groups_of, left_after, processes  # noqa: E402


def _start(args, out: Path):
    return subprocess.Popen([SYMDL, "check", *args], stdout=out.open("w"), stderr=subprocess.PIPE, text=True)


def _wait_lines(path: Path, n: int, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (not path.exists() or path.read_text().count("\n") < n):
        time.sleep(0.02)


def _kill(pids: set[int], sig=signal.SIGKILL) -> tuple[set[int], set[int]]:
    """Kill ``pids`` and say which processes of the batch are left 3 s later (their groups included)."""
    batch = set().union(*(descendants(p) | {p} for p in pids))
    groups = groups_of(batch)
    for p in pids:
        os.kill(p, sig)
    return batch, left_after(batch - pids, groups, 3.0)


def _lost(clean: str, got: str) -> int:
    a, b = clean.splitlines(), got.splitlines()
    return sum(1 for i, line in enumerate(a) if i >= len(b) or b[i] != line) + max(0, len(b) - len(a))


def scenarios(path: str, tmp: Path, lines: int, address: str | None, chunk: int):
    out = tmp / "out.jsonl"
    t0 = time.monotonic()
    clean = subprocess.run([SYMDL, "check", "--batch", path, "--jobs", "2"], capture_output=True, text=True).stdout
    base = time.monotonic() - t0
    print(f"clean run: {lines} lines in {base:.1f} s with --jobs 2")
    yield "nothing (clean run, --jobs 2)", "-", 0, 0, 0.0, 0, clean, clean
    # a pool worker, a third of the way through
    t0 = time.monotonic()
    proc = _start(["--batch", path, "--jobs", "2"], out)
    _wait_lines(out, lines // 3)
    workers = {p for p, (ppid, _) in processes().items() if ppid == proc.pid}
    victim = min(workers)
    _, left = _kill({victim})
    proc.wait()
    yield "one pool worker (SIGKILL)", f"after {lines // 3} lines", None, 1, time.monotonic() - t0 - base, \
        len(left), clean, out.read_text()
    # the command itself, then --resume
    target = tmp / "verdicts.jsonl"
    t0 = time.monotonic()
    proc = _start(["--batch", path, "--jobs", "2", "--output", str(target)], out)
    _wait_lines(target.with_name(target.name + ".partial"), lines // 2)
    _, left = _kill({proc.pid})
    proc.wait()
    kept = target.with_name(target.name + ".partial").read_text().count("\n")
    subprocess.run([SYMDL, "check", "--batch", path, "--jobs", "2", "--output", str(target), "--resume"],
                   capture_output=True)
    yield "the command (SIGKILL), then --resume", f"after {lines // 2} lines", None, lines - kept, \
        time.monotonic() - t0 - base, len(left), clean, target.read_text()
    if address:
        yield from _dask(path, tmp, lines, address, chunk, clean, "nanny")
        with _bare_cluster() as bare:
            yield from _dask(path, tmp, lines, bare, chunk, clean, "no nanny")


def _dask(path, tmp, lines, address, chunk, clean, how):
    from distributed import Client

    out = tmp / "dask.jsonl"
    t0 = time.monotonic()
    subprocess.run([SYMDL, "check", "--batch", path, "--scheduler", address, "--chunk", str(chunk)],
                   capture_output=True)
    base = time.monotonic() - t0
    print(f"clean run on the cluster: {base:.1f} s, chunk {chunk}")
    with Client(address) as client:
        pids = list(client.run(os.getpid).values())
    t0 = time.monotonic()
    proc = _start(["--batch", path, "--scheduler", address, "--chunk", str(chunk)], out)
    _wait_lines(out, lines // 3)
    busy = [p for p in pids if descendants(p)]
    _, left = _kill({busy[0]} if busy else set())
    proc.wait()
    yield f"one Dask worker (SIGKILL, {how})", f"after {lines // 3} lines", None, chunk, \
        time.monotonic() - t0 - base, len(left), clean, out.read_text()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--chunk", type=int, default=50)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "batch.jsonl")
        Path(path).write_text(batch_file(args.lines))
        cluster = None if args.no_dask else _cluster()
        try:
            rows = list(scenarios(path, Path(tmp), args.lines, cluster.scheduler_address if cluster else None,
                                  args.chunk))
            print("| killed | when | lines lost | lines regraded | delay vs clean | processes left 3 s later |")
            print("| --- | --- | --- | --- | --- | --- |")
            for what, when, _, regraded, delay, left, clean, got in rows:
                print(f"| {what} | {when} | {_lost(clean, got)} | {regraded} | {delay:+.1f} s | {left} |")
        finally:
            if cluster:
                cluster.close()


@contextmanager
def _bare_cluster():
    """A scheduler and two ``dask worker --no-nanny`` processes: a killed worker is not restarted."""
    import distributed

    dask_cli = str(Path(sys.executable).parent / "dask")
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0", silence_logs=50) as cluster:
        workers = [subprocess.Popen([dask_cli, "worker", cluster.scheduler_address, "--no-nanny", "--nthreads", "1",
                                     "--dashboard-address", ":0"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for _ in range(2)]
        try:
            with distributed.Client(cluster.scheduler_address) as client:
                client.wait_for_workers(2, timeout=120)
            yield cluster.scheduler_address
        finally:
            for w in workers:
                w.kill()
                w.wait()


def _cluster():
    import dask
    import distributed

    dask.config.set({"distributed.worker.daemon": False})
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                    silence_logs=50)


if __name__ == "__main__":
    main()
