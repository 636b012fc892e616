"""Batch grading throughput: ``symdl check --batch`` with --jobs 2 against --jobs 1 (issue 7, part 6).

200 lines, right and wrong hand forms of rnn, lstm, optim and ebm references,
graded by the whole command.  The two job counts run alternately, several
times, and the figure is the ratio of the median wall times (the machine is
shared: only a ratio measured side by side means anything).  The machine's
ceiling is measured just before and just after each pair of runs, and the
pairs with two cores free on both sides are also summarised apart, labelled
as such (when another job holds a core the ratio says nothing about symdl).
The start-up is measured as the wall time of a one-line batch.  With
``--baseline DIR`` (a checkout of an older commit, such as ``git worktree add
/tmp/old HEAD~3``) the same command from that tree runs in the same loop, so a
change is measured side by side too.  The output of every run must be the same
bytes.  Not a test.

    python benchmarks/batch.py [--lines 200] [--runs 5] [--quiet N] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYMDL = str(Path(sys.executable).parent / "symdl")

FORMS = [
    ("rnn.state", r"\sigma(W_1 h_{t-1} + W_2 x_t)"),
    ("rnn.state", r"\tanh(W_1 h_{t-1} + W_2 x_t)"),
    ("rnn.state_jacobian", r"\operatorname{diag}(\sigma'(a_t)) W_1"),
    ("rnn.state_jacobian", r"W_1^\top \operatorname{diag}(\sigma'(a_t))"),
    ("lstm.cell_update", r"f_t \odot c_{t-1} + i_t \odot g_t"),
    ("lstm.cell_update", r"f_t \odot c_{t-1} - i_t \odot g_t"),
    ("lstm.hidden", r"o_t \odot \tanh(c_t)"),
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(f_t)"),
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(i_t)"),
    ("lstm.cell_jacobian", r"\operatorname{diag}(f_t) + \left[\operatorname{diag}(c_{t-1} \odot f_t \odot (1 - f_t))"
                           r" W_{fh} + \operatorname{diag}(g_t \odot i_t \odot (1-i_t)) W_{ih} + \operatorname{diag}"
                           r"(i_t \odot (1 - g_t^2)) W_{gh}\right] \operatorname{diag}(o_{t-1} \odot (1 - \tanh^2"
                           r"(c_{t-1})))"),
    ("optim.heavy_ball", r"w_t - \gamma g_t + \beta (w_t - w_{t-1})"),
    ("optim.heavy_ball", r"w_t - \gamma g_t"),
    ("optim.adam", r"w_{t+1} = w_t - \gamma \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}"),
    ("optim.adam", r"w_t - \gamma \frac{m_{t+1}}{\sqrt{v_{t+1}} + \epsilon}"),
    ("optim.rmsprop", r"w_t - \gamma \frac{g_t}{\sqrt{\alpha v_t + (1 - \alpha) g_t^2} + \epsilon}"),
    ("ebm.gibbs", r"\frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\, dy'}"),
    ("ebm.gibbs", r"\exp(-\beta F(x,y))"),
    ("optim.adam", r"w_t + \input{/etc/passwd}"),
    ("lstm.cell_jacobian", r"W_{fh} + c_{t-1}"),
    ("optim.adam", "not json"),
]


def variant(latex: str, i: int) -> str:
    """Every other line scaled by 1 + i/1000: a class's answers are mostly distinct, so nothing
    compiled for one line can be reused for the next."""
    if i % 2 == 0:
        return latex
    lhs, eq, rhs = latex.rpartition("= ")
    return f"{lhs}{eq}{1 + i / 1000:g} \\cdot ({rhs})"


def batch_file(lines: int) -> str:
    """``lines`` JSON lines cycling through FORMS (one of them deliberately not JSON)."""
    out = []
    for i in range(lines):
        against, latex = FORMS[i % len(FORMS)]
        out.append(latex if latex == "not json" else
                   json.dumps({"id": i, "against": against, "latex": variant(latex, i)}))
    return "\n".join(out) + "\n"


def run(path: str, jobs: int, tree: str | None = None) -> tuple[float, float, str]:
    """Wall time of the whole command, the grading time it reports (after Python and SymPy have
    started), and its output; ``tree`` runs the symdl package of that source tree instead."""
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = os.pathsep.join([tree, *filter(None, [env.get("PYTHONPATH")])])
    start = time.perf_counter()
    proc = subprocess.run([SYMDL, "check", "--batch", path, "--jobs", str(jobs)], capture_output=True, text=True,
                          env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"symdl check --batch failed ({proc.returncode}): {proc.stderr[-2000:]}")
    graded = float(re.search(r"graded in ([0-9.]+) s", proc.stderr).group(1))
    return elapsed, graded, proc.stdout


#: A run's --jobs 1 / --jobs 2 pair counts as quiet when the ceiling measured just before and just
#: after it is at least this (another job held no core).
QUIET = 1.8


def _burn(n: int = 5_000_000) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def cores_free() -> float:
    """How many cores this shared machine gives right now: two pure-Python loops run one after
    the other, then side by side (2.0 on an idle 2-core machine; the batch ratio cannot beat it)."""
    import multiprocessing as mp

    start = time.perf_counter()
    _burn(), _burn()
    serial = time.perf_counter() - start
    start = time.perf_counter()
    procs = [mp.get_context("fork").Process(target=_burn) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return serial / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--baseline", metavar="DIR", help="also time the symdl of this source tree, alternately")
    ap.add_argument("--quiet", type=int, default=0, metavar="N",
                    help="go on after --runs until every tree has N pairs with two cores free (at most 4x --runs)")
    args = ap.parse_args()
    trees = {"": None} | ({f" (baseline {args.baseline})": os.path.abspath(args.baseline)} if args.baseline else {})
    with tempfile.TemporaryDirectory() as tmp:
        path, one = os.path.join(tmp, "batch.jsonl"), os.path.join(tmp, "one.jsonl")
        Path(path).write_text(batch_file(args.lines))
        Path(one).write_text(batch_file(1))
        times = {(t, j): [] for t in trees for j in (1, 2)}
        grading = {(t, j): [] for t in trees for j in (1, 2)}
        startup = {t: [] for t in trees}
        outputs: set[str] = set()
        verdicts: list[str] = []
        free: list[float] = []
        quiet: dict[str, list[tuple[float, float]]] = {t: [] for t in trees}
        runs = 0
        while runs < args.runs or (runs < 4 * args.runs and min(len(q) for q in quiet.values()) < args.quiet):
            runs += 1
            for label, tree in trees.items():
                before = cores_free()
                pair, graded_pair = [], []
                for jobs in (1, 2):
                    elapsed, graded, out = run(path, jobs, tree)
                    times[label, jobs].append(elapsed)
                    grading[label, jobs].append(graded)
                    outputs.add(out)
                    verdicts = [json.loads(line)["verdict"] for line in out.splitlines()]
                    pair.append(elapsed)
                    graded_pair.append(graded)
                after = cores_free()
                free.extend([before, after])
                if min(before, after) >= QUIET:  # two cores free just before and just after this pair
                    quiet[label].append((pair[0] / pair[1], graded_pair[0] / graded_pair[1]))
                startup[label].append(run(one, 1, tree)[0])
    med = statistics.median
    counts = {v: verdicts.count(v) for v in dict.fromkeys(verdicts)}
    print(f"batch of {args.lines} lines {counts}, {runs} runs of each, alternating; medians:")
    print("| measure | --jobs 1 | --jobs 2 | ratio (target >= 1.6x) |\n| --- | --- | --- | --- |")
    for label in trees:
        one, two = med(times[label, 1]), med(times[label, 2])
        g1, g2 = med(grading[label, 1]), med(grading[label, 2])
        print(f"| whole command (wall){label} | {one:.2f} s | {two:.2f} s | {one / two:.2f}x |")
        print(f"| grading, as the command reports it{label} | {g1:.2f} s | {g2:.2f} s | {g1 / g2:.2f}x |")
        for i, what in enumerate(("whole command", "grading")):
            q = [pair[i] for pair in quiet[label]]
            print(f"| {what}, pairs with two cores free (ceiling >= {QUIET} before and after){label} | | | "
                  + (f"{med(q):.2f}x (median of {len(q)}: {', '.join(f'{r:.2f}' for r in q)}) |" if q else "none |"))
        print(f"| start-up: a one-line batch (wall){label} | {med(startup[label]):.2f} s | | |")
    print(f"| two CPU loops side by side (the machine's ceiling) | | | {med(free):.2f}x "
          f"(runs: {', '.join(f'{f:.2f}' for f in free)}) |")
    if len(outputs) != 1:
        print(f"warning: the runs printed {len(outputs)} different outputs (--jobs 1, --jobs 2"
              f"{', the baseline' if args.baseline else ''})", file=sys.stderr)


if __name__ == "__main__":
    main()
