"""Throughput of ``symdl check --batch --scheduler`` on a two-worker LocalCluster against ``--jobs 2`` on the same
cores (issue 16 asks at least 0.8x), for several chunk sizes.  Not a test.

The cluster is started once (its start is not the batch's); then, alternately and several times, the whole
command grades the same batch with ``--jobs 2`` and on the cluster at each chunk size.  The figure is the
ratio of median wall times, measured side by side (the machine is shared: only a ratio means anything).
Every run's output must be the same bytes.

    python benchmarks/batch_dask.py [--lines 400] [--runs 3] [--chunks 25 50 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import SYMDL, batch_file  # noqa: E402


def timed(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([SYMDL, "check", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"symdl check {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return time.perf_counter() - start, proc.stdout


def main() -> None:
    import dask
    import distributed

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=400)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chunks", type=int, nargs="+", default=[25, 50, 100])
    args = ap.parse_args()
    dask.config.set({"distributed.worker.daemon": False})
    with tempfile.TemporaryDirectory() as tmp, distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=50) as cluster:
        path = os.path.join(tmp, "batch.jsonl")
        Path(path).write_text(batch_file(args.lines))
        runs = {"--jobs 2": ["--batch", path, "--jobs", "2"]}
        runs |= {f"cluster, chunk {c}": ["--batch", path, "--scheduler", cluster.scheduler_address, "--chunk", str(c)]
                 for c in args.chunks}
        timed(runs[f"cluster, chunk {args.chunks[0]}"])  # the workers import symdl once, as a long-lived cluster has
        times: dict[str, list[float]] = {k: [] for k in runs}
        outputs = set()
        for _ in range(args.runs):
            for label, argv in runs.items():
                seconds, out = timed(argv)
                times[label].append(seconds)
                outputs.add(out)
    base = statistics.median(times["--jobs 2"])
    print(f"batch of {args.lines} lines, {args.runs} runs of each, alternating; medians:")
    print("| run | wall | throughput / --jobs 2 (target >= 0.8x) |\n| --- | --- | --- |")
    for label, t in times.items():
        print(f"| {label} | {statistics.median(t):.2f} s | {base / statistics.median(t):.2f}x |")
    print(f"outputs: {'the same bytes' if len(outputs) == 1 else f'{len(outputs)} different'}")


if __name__ == "__main__":
    main()
