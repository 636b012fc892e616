"""Peak memory of ``symdl check --batch`` at 2,000 and 100,000 lines (issue 16): it must stay flat.

The batch is a stream, so its memory should not grow with its length.  To grade 100,000 lines in
minutes, one line in 50 is a real form of benchmarks/batch.py and the others name a reference that
does not exist: each still goes through the whole engine (read, sent to a worker, answered, put in
order, written), only its check is short.  The figure is the peak resident memory of the command's
own process (the coordinator) and of the largest of its workers, as ``getrusage`` reports them.
Not a test.

    python benchmarks/batch_memory.py [--sizes 2000 100000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import FORMS, variant  # noqa: E402

MEASURE = ("import resource, sys\n"
           "from symdl.cli.main import main\n"
           "status = main(sys.argv[1:])\n"
           "me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
           "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
           "print(me, kids, status, file=sys.stderr)\n")


def write_batch(path: str, lines: int) -> None:
    with open(path, "w") as f:
        for i in range(lines):
            against, latex = FORMS[(i // 50) % len(FORMS)] if i % 50 == 0 else ("nope.nothing", "x")
            f.write(json.dumps({"id": i, "against": against, "latex": variant(latex, i)}) + "\n")


def measure(path: str, jobs: int) -> tuple[float, float, float, int]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", MEASURE, "check", "--batch", path, "--jobs", str(jobs)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    me, kids, status = proc.stderr.strip().splitlines()[-1].split()
    return int(me) / 1024, int(kids) / 1024, time.perf_counter() - start, int(status)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 100_000])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    print("| lines | coordinator peak RSS | largest worker peak RSS | wall | exit |\n| --- | --- | --- | --- | --- |")
    first = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = os.path.join(tmp, f"batch{n}.jsonl")
            write_batch(path, n)
            me, kids, wall, status = measure(path, args.jobs)
            first = first or (me, kids)
            print(f"| {n} | {me:.0f} MiB ({me / first[0]:.2f}x) | {kids:.0f} MiB ({kids / first[1]:.2f}x) | "
                  f"{wall:.0f} s | {status} |", flush=True)


if __name__ == "__main__":
    main()
