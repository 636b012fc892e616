r"""A link with a product over a range, checked at range lengths 1 to 6 against length 1 only (issue 13,
"Performance").

The link is the RNN's product of Jacobians, ``\frac{\partial h_\tau}{\partial h_t} = \prod_{k=t+1}^{\tau}
\operatorname{diag}(\sigma'(W_1 h_{k-1} + W_2 x_k)) W_1``, checked by ``symdl check --model rnn --lengths N``
as a whole process, N = 6 and N = 1 alternately, several times; the figure is the ratio of the median
wall times (the machine is shared: only a ratio measured side by side means anything).  The goal is at
most 3.  Every run must say equivalent.  Not a test.

    python benchmarks/derivation_range.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from benchmarks.derivation import SYMDL

LINK = (r"\frac{\partial h_\tau}{\partial h_t} = "
        r"\prod_{k=t+1}^{\tau} \operatorname{diag}(\sigma'(W_1 h_{k-1} + W_2 x_k)) W_1")


def timed(lengths: int) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([SYMDL, "check", "--model", "rnn", "--lengths", str(lengths), LINK], capture_output=True,
                          text=True, check=False)
    return time.perf_counter() - start, proc.stdout.splitlines()[0] if proc.stdout else proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    six, one, answers = [], [], set()
    for _ in range(runs):
        for lengths, times in ((6, six), (1, one)):
            seconds, first = timed(lengths)
            times.append(seconds)
            answers.add(first)
    assert answers == {"equivalent (rnn): 1 link checked, all equivalent"}, answers
    ratio = statistics.median(six) / statistics.median(one)
    print(f"lengths 1 to 6 {statistics.median(six):.2f} s, length 1 only {statistics.median(one):.2f} s, "
          f"ratio of medians {ratio:.2f} (goal <= 3)")


if __name__ == "__main__":
    main()
