"""Checking a whole derivation against checking its last line alone (issue 13, "Performance").

The correct LSTM derivation of ``benchmarks/lstm_derivation.tex`` (seven links, two definitions, the
final answer against lstm.cell_jacobian) and its last right side alone, each as a whole
``symdl check`` process, alternately, several times; the figure is the ratio of the median wall
times (the machine is shared: only a ratio measured side by side means anything).  The goal is at
most 3.  Every run must give the same answer.  Not a test.

    python benchmarks/derivation.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

SYMDL = str(Path(sys.executable).parent / "symdl")
HERE = Path(__file__).resolve().parent
AGAINST = "lstm.cell_jacobian"


def last_right_side(path: Path) -> str:
    """The derivation's last right side, its inline definition of D written out."""
    last = path.read_text().split(r"\end{align*}")[0].strip().splitlines()[-1]
    rhs, _, definition = last.partition(r", \quad D = ")
    return rhs.split("&=", 1)[1].replace(" D", " " + definition.strip()).strip()


def timed(args) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([SYMDL, "check", "--against", AGAINST, *args], capture_output=True, text=True)
    return time.perf_counter() - start, proc.stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    path = HERE / "lstm_derivation.tex"
    whole, alone, answers = [], [], set()
    for _ in range(runs):
        t, first = timed(["--file", str(path)])
        whole.append(t)
        u, single = timed([last_right_side(path)])
        alone.append(u)
        answers.add((first, single.split(":")[0]))
    assert len(answers) == 1, answers
    ratio = statistics.median(whole) / statistics.median(alone)
    print(f"derivation {statistics.median(whole):.2f} s, last line alone {statistics.median(alone):.2f} s, "
          f"ratio of medians {ratio:.2f} (goal <= 3); {answers.pop()}")


if __name__ == "__main__":
    main()
