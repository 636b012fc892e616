"""symdl's benchmarks, as ratios measured side by side in one run (`make bench`).

These machines are shared and noisy, so every figure is a ratio of two medians
measured in the same run, never an absolute time, and nothing here is a test
assertion. Results go to stdout as a Markdown table (paste into BENCHMARKS.md).

    python benchmarks/run.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SYMDL = str(Path(PY).parent / "symdl")

FOUR_TERMS = (r"\operatorname{diag}(c_{t-1} \odot \sigma'(W_{fh} h_{t-1} + W_{fx} x_t + b_f)) W_{fh} "
              r"\operatorname{diag}(o_{t-1} \odot \tanh'(c_{t-1})) + \operatorname{diag}(f_t) "
              r"+ \operatorname{diag}(\tilde{c}_t \odot \sigma'(W_{ih} h_{t-1} + W_{ix} x_t + b_i)) W_{ih} "
              r"\operatorname{diag}(o_{t-1} \odot \tanh'(c_{t-1})) "
              r"+ \operatorname{diag}(i_t \odot \tanh'(W_{gh} h_{t-1} + W_{gx} x_t + b_g)) W_{gh} "
              r"\operatorname{diag}(o_{t-1} \odot \tanh'(c_{t-1}))")


def wall(cmd, stdin=None, runs=5, env=None) -> float:
    """Median wall time of a whole process."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def median_call(fn, runs=7, warmup=1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_import(runs):
    sympy = wall([PY, "-c", "import sympy"], runs=runs)
    symdl = wall([PY, "-c", "import symdl"], runs=runs)
    torch_loaded = subprocess.run([PY, "-c", "import sys, symdl; symdl.ref('lstm.cell_jacobian'); "
                                   "print(sorted(m for m in ('torch', 'matplotlib', 'jinja2') if m in sys.modules))"],
                                  capture_output=True, text=True, cwd=ROOT).stdout.strip()
    return [("import symdl / import sympy", symdl / sympy, "<= 1.3", f"{symdl:.3f} s / {sympy:.3f} s"),
            ("heavy modules loaded by ref(...)", None, "none", torch_loaded or "(check failed)")]


def bench_check(runs):
    sympy = wall([PY, "-c", "import sympy"], runs=runs)
    check = wall([SYMDL, "check", "--against", "lstm.cell_jacobian", "-"], stdin=FOUR_TERMS, runs=runs)
    verdict = subprocess.run([SYMDL, "check", "--json", "--against", "lstm.cell_jacobian", "-"], input=FOUR_TERMS,
                             capture_output=True, text=True, cwd=ROOT).stdout
    try:
        v = json.loads(verdict)["verdict"]
    except ValueError:
        v = "no JSON"
    return [("symdl check lstm.cell_jacobian / import sympy", check / sympy, "<= 2.5",
             f"{check:.3f} s / {sympy:.3f} s, verdict {v}")]


def _lstm_values(n, m, torch):
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    v = {f"W_{{{k}h}}": r(n, n) / n ** 0.5 for k in "figo"}
    v.update({f"W_{{{k}x}}": r(n, m) / m ** 0.5 for k in "figo"})
    v.update({f"b_{k}": r(n) for k in "figo"})
    v.update({"c_{t-1}": r(n), "o_{t-1}": torch.rand(n, generator=g, dtype=torch.float64), "x_t": r(m)})
    return v


def bench_kernel(runs, n=1024, threads=1):
    import torch

    torch.set_num_threads(threads)  # with 2 threads on a shared VM, waking the second thread costs a 4-8 ms tick

    import symdl
    sys.path.insert(0, str(ROOT))
    from symdl.verify.oracles.recurrent import lstm_cell

    import symdl.numeric.fused.plan as fused

    v = _lstm_values(n, n, torch)
    ref = symdl.ref("lstm.cell_jacobian")
    fused.MODE = "never"  # the same expression op by op (row and column scalings, addcmul_): the "before"
    t_ops = median_call(lambda: ref.evaluate(v, backend="torch"), runs, warmup=2)
    fused.MODE = "auto"
    ran = []
    real_run = fused._run
    fused._run = lambda *a: ran.append(1) or real_run(*a)
    t_eval = median_call(lambda: ref.evaluate(v, backend="torch"), runs, warmup=2)
    fused._run = real_run
    path = "fused row kernel (numba)" if ran else "op by op (numba not installed?)"
    cell = lstm_cell({k: a.numpy() for k, a in v.items()})
    o, x, c = v["o_{t-1}"], v["x_t"], v["c_{t-1}"]
    jac = torch.func.jacrev(lambda cc: cell(x, (o * torch.tanh(cc), cc))[1])
    with torch.no_grad():
        t_jac = median_call(lambda: jac(c), max(3, runs // 2), warmup=1)
    A = torch.randn(n, n, dtype=torch.float64)
    t_clone = median_call(lambda: A.clone(), runs * 3, warmup=3)
    pool = [torch.randn(n, n, dtype=torch.float64) for _ in range(16)]  # 128 MiB: larger than the caches
    it = iter(range(10 ** 9))
    t_cold = median_call(lambda: pool[next(it) % 16].clone(), runs * 3, warmup=3)
    return [
        ("jacrev(LSTMCell) / evaluate, n = 1024", t_jac / t_eval, ">= 25", f"{t_jac * 1e3:.1f} ms / {t_eval * 1e3:.2f} ms"),
        ("evaluate op by op (SYMDL_FUSED=never) / evaluate", t_ops / t_eval, "", f"{t_ops * 1e3:.2f} ms / "
         f"{t_eval * 1e3:.2f} ms; evaluate ran: {path}"),
        ("evaluate op by op / A.clone() of a matrix not in cache", t_ops / t_cold, "", "the path before the kernel"),
        ("evaluate / A.clone() of one matrix, warm in cache", t_eval / t_clone, "<= 6",
         f"{t_eval * 1e3:.2f} ms / {t_clone * 1e3:.3f} ms"),
        ("evaluate / A.clone() of a matrix not in cache (as evaluate's weights are)", t_eval / t_cold, "<= 6",
         f"{t_eval * 1e3:.2f} ms / {t_cold * 1e3:.3f} ms"),
    ]


def bench_scale():
    code = ("import resource, torch, symdl, sys\n"
            "sys.path.insert(0, %r)\n"
            "from benchmarks.run import _lstm_values\n"
            "v = _lstm_values(4096, 4096, torch)\n"
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "J = symdl.ref('lstm.cell_jacobian').evaluate(v, backend='torch')\n"
            "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(base / 1024, peak / 1024, bool(torch.isfinite(J).all()))\n") % str(ROOT)
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout.split()
    rows = []
    if len(out) == 3:
        base, peak, finite = float(out[0]), float(out[1]), out[2]
        rows.append(("peak RSS of evaluate at n = m = 4096 / (process with its 1 GiB of inputs + 128 MiB for J)",
                     peak / (base + 128), "no n^3 (512 GiB)",
                     f"RSS before {base:.0f} MiB, peak {peak:.0f} MiB, J finite: {finite}"))
    code2 = ("import sys; sys.path.insert(0, %r); sys.path.insert(0, %r)\n"
             "import numpy as np\nimport q1_recurrent as q\n"
             "c = [q.lstm_log_norms(1000, b, n_=8) for b in ((-2.0, 0.0), (5.0, 5.0))] + [q.rnn_log_norms(1000, 'tanh', 2.0, n_=8)]\n"
             "print(all(np.isfinite(x).all() for x in c), [round(float(x[-1]), 1) for x in c])\n") % (
        str(ROOT), str(ROOT / "derivations"))
    res = subprocess.run([PY, "-c", code2], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    rows.append(("T = 1000 Jacobian products, log-space norms", None, "finite", res))
    return rows


def _timed(cmd, cwd=ROOT, env=None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the process and everything it waited for) of a command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, cwd=cwd, env=env)
    wall_s = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall_s, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _burn(n: int = 4_000_000) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def _cores_free() -> float:
    """Cores this shared machine gives right now: two Python loops one after the other / side by side."""
    import multiprocessing as mp

    t0 = time.perf_counter()
    _burn(), _burn()
    serial = time.perf_counter() - t0
    procs = [mp.get_context("fork").Process(target=_burn) for _ in range(2)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return serial / (time.perf_counter() - t0)


def bench_build(runs):
    """Cold builds (default jobs, and -j 1) and latexmk alone on the same .tex files, interleaved so that each sees
    the same load; medians of ``runs``.  With SYMDL_BENCH_BASELINE=DIR (an older checkout) its cold build runs in
    the same loop."""
    env = {**os.environ, "openin_any": "p", "openout_any": "p"}
    baseline = os.environ.get("SYMDL_BENCH_BASELINE")

    def latexmk_only(out):
        with tempfile.TemporaryDirectory() as w:
            for t in sorted(out.glob("*.tex")):
                (Path(w) / t.name).write_bytes(t.read_bytes())
            (Path(w) / "figures").mkdir()
            for f in (out / "figures").glob("*"):
                (Path(w) / "figures" / f.name).write_bytes(f.read_bytes())
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            for t in sorted(out.glob("*.tex")):
                subprocess.run(["latexmk", "-pdf", "-quiet", "-interaction=nonstopmode", t.name], cwd=w,
                               capture_output=True, env=env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return time.perf_counter() - t0, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    cold, cold1, tex, base, free = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(runs):
            free.append(_cores_free())
            out = Path(tmp) / f"out{r}"
            cold.append(_timed([SYMDL, "build", "--out", str(out), "--force"]))
            tex.append(latexmk_only(out))
            cold1.append(_timed([SYMDL, "build", "--out", str(Path(tmp) / f"j1-{r}"), "--force", "-j", "1"]))
            if baseline:
                base.append(_timed([PY, "-m", "symdl.cli.main", "build", "--out", str(Path(tmp) / f"base-{r}"), "--force"],
                                   cwd=baseline, env={**os.environ, "PYTHONPATH": baseline}))
            free.append(_cores_free())
        warm = wall([SYMDL, "build", "--out", str(out)], runs=runs)

    def med(pairs, k=0):
        return statistics.median(p[k] for p in pairs)

    c, c1, t = med(cold), med(cold1), med(tex)
    rows = [("second build, nothing changed / cold build", warm / c, "<= 0.25", f"{warm:.2f} s / {c:.2f} s"),
            ("cold build / latexmk alone on the same .tex", c / t, "<= 2",
             f"{c:.2f} s / {t:.2f} s (CPU {med(cold, 1):.1f} s / {med(tex, 1):.1f} s; runs {', '.join(f'{w:.1f}' for w, _ in cold)} s)"),
            ("cold build with -j 1 / latexmk alone", c1 / t, "",
             f"{c1:.2f} s / {t:.2f} s (CPU {med(cold1, 1):.1f} s)")]
    if baseline:
        b = med(base)
        rows.append((f"cold build of {baseline} / latexmk alone", b / t, "",
                     f"{b:.2f} s / {t:.2f} s (CPU {med(base, 1):.1f} s; runs {', '.join(f'{w:.1f}' for w, _ in base)} s)"))
    quiet = [r for r in range(runs) if min(free[2 * r], free[2 * r + 1]) >= 1.8]
    if quiet:
        qc, qt = statistics.median(cold[r][0] for r in quiet), statistics.median(tex[r][0] for r in quiet)
        rows.append((f"the same, rounds with two cores free (ceiling >= 1.8 before and after): {len(quiet)} of {runs}",
                     qc / qt, "<= 2", f"{qc:.2f} s / {qt:.2f} s" + (
                         f"; -j 1 {statistics.median(cold1[r][0] for r in quiet):.2f} s" +
                         (f"; {baseline} {statistics.median(base[r][0] for r in quiet):.2f} s" if baseline else ""))))
    rows.append(("the machine's ceiling around each round: two CPU loops side by side / one", statistics.median(free),
                 "", ", ".join(f"{f:.2f}" for f in free)))
    return rows


def bench_models(runs):
    """Model files (issue 14): derive as a whole process, loading a file against building in Python, and the
    GRU's derived Jacobian at n = m = 1024 against torch.func.jacrev of nn.GRUCell."""
    quantity = r"\frac{\partial h_t}{\partial h_{t-1}}"
    sympy = wall([PY, "-c", "import sympy"], runs=runs)
    derive = wall([SYMDL, "derive", "gru", quantity], runs=runs)
    from_file = wall([PY, "-c", "import symdl; symdl.register('models/gru.toml'); symdl.ref('gru.state_jacobian').expr"],
                     runs=runs)
    from_python = wall([PY, "-c", "import sys; sys.path.insert(0, 'benchmarks'); import symdl, gru_python; "
                        "symdl.register(gru_python.model()); symdl.ref('gru.state_jacobian').expr"], runs=runs)
    code = ("import sys, time, torch, numpy as np; sys.path.insert(0, 'tests/model'); torch.set_num_threads(1)\n"
            "import symdl; from test_model_files import gru_values, torch_gru\n"
            "v = gru_values(1024, 1024); J = symdl.ref('gru.state_jacobian'); J.evaluate(v)\n"
            "cell, x, h = torch_gru(v); f = lambda: torch.func.jacrev(lambda hh: cell(x[None], hh[None])[0])(h)\n"
            "def med(g):\n  ts = []\n  for _ in range(5):\n    t = time.perf_counter(); g(); ts.append(time.perf_counter() - t)\n"
            "  return sorted(ts)[2]\n"
            "print(med(lambda: J.evaluate(v)), med(f))")
    ours, theirs = map(float, subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout.split())
    return [("symdl derive gru dh_t/dh_{t-1} / import sympy", derive / sympy, "<= 2.5", f"{derive:.3f} s / {sympy:.3f} s"),
            ("model file to ref(...).expr / the same model built in Python", from_file / from_python, "<= 1.5",
             f"{from_file:.3f} s / {from_python:.3f} s"),
            ("jacrev of nn.GRUCell / derived GRU Jacobian, n = m = 1024, second call", theirs / ours, ">= 20",
             f"{theirs * 1e3:.1f} ms / {ours * 1e3:.1f} ms")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--only", nargs="*", default=["import", "check", "kernel", "scale", "build", "models"])
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the kernel benchmark (default 1)")
    args = ap.parse_args(argv)
    runs = 5 if args.quick else 7
    rows = []
    table = {"import": lambda: bench_import(runs), "check": lambda: bench_check(runs),
             "kernel": lambda: bench_kernel(runs, threads=args.threads), "scale": bench_scale, "build": lambda: bench_build(3),
             "models": lambda: bench_models(runs)}
    for name in args.only:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += table[name]()
    print(f"| measure | ratio | target | medians |\n| --- | --- | --- | --- |")
    for what, ratio, target, detail in rows:
        r = "" if ratio is None else f"{ratio:.2f}"
        print(f"| {what} | {r} | {target} | {detail} |")
    print(f"\nmachine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
          f"python {sys.version.split()[0]}; maxrss of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
