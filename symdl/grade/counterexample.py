"""A counterexample: the one record of a point where a hand form and its reference were compared, and how a
person reads it.

Both witnesses (:mod:`symdl.grade.witness`: compiled array code, and the finite interpretation of
integrals and sums) describe a point with :func:`counterexample`, the point where they differ or the
agreeing point with the largest error.  A :class:`~symdl.grade.verdict.Verdict` carries the record to
JSON as it is, and to text through :func:`format_counterexample`.  This module is apart from the witness
so that a verdict can be printed without the machinery that found it.
"""

from __future__ import annotations

import numpy as np


def plain(x):
    """A JSON value: a column vector as a flat list, a matrix as a list of rows."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x.reshape(-1)
    return x.tolist() if x.shape else float(x)


def counterexample(sizes: dict, functions: dict, inputs: dict, got, want, idx, err: float, **extra) -> dict:
    """The record of one point: its ``sizes``, how each abstract function was instantiated, the ``inputs`` (name as
    written -> value), both values, their relative error ``err``; ``extra`` (what the point means) after those;
    then the entry ``idx`` where the values differ most, or both shapes when ``idx`` is ``None``."""
    out = {"sizes": dict(sizes), "functions": dict(functions), "inputs": {k: plain(v) for k, v in inputs.items()},
           "hand": plain(got), "reference": plain(want), "relative_error": err, **extra}
    if idx is not None:
        out["entry"] = list(idx)
        out["hand_entry"] = float(got[idx]) if idx else float(got)
        out["reference_entry"] = float(want[idx]) if idx else float(want)
    else:
        out["shapes"] = {"hand": list(np.shape(got)), "reference": list(np.shape(want))}
    return out


def describe_size(size: dict) -> str:
    """``n = 2, m = 3``; ``N = 2, grids of 4 points``; ``|D_N| = 2, d = 3``; ``scalar inputs``."""
    if not size:
        return "scalar inputs"
    if "elementwise" in size:
        return f"vectors of {size['elementwise']} entries, elementwise"
    return ", ".join(f"grids of {v} points" if k == "grid" else f"{k} = {v}" for k, v in size.items())


def _array_text(v) -> str:
    if isinstance(v, str):
        return v
    a = np.asarray(v)
    if a.size and np.all(np.isfinite(a)) and np.all(a == np.round(a)):  # a step t, a count, a batch
        a = a.astype(np.int64)
    return np.array2string(a, precision=6, suppress_small=False, max_line_width=100, separator=", ")


def format_counterexample(cx: dict) -> str:
    """A counterexample for a person: sizes, inputs, both values and where they differ most."""
    lines = [f"counterexample at {describe_size(cx['sizes'])}:"]
    width = max([len(k) for k in cx["inputs"]] + [len("reference")])
    for name, label in cx.get("functions", {}).items():
        lines.append(f"  {name:>{width}} = {label}")
    rows = list(cx["inputs"].items()) + [("hand", cx["hand"]), ("reference", cx["reference"])]
    for name, v in rows:
        text = _array_text(v).replace("\n", "\n" + " " * (width + 5))
        lines.append(f"  {name:>{width}} = {text}")
    if "entry" in cx:
        where = f"largest difference at entry {cx['entry']}" if cx["entry"] else "the values differ"
        lines.append(f"  {where}: hand {cx['hand_entry']:.17g}, "
                     f"reference {cx['reference_entry']:.17g} (relative error {cx['relative_error']:.3g})")
    else:
        lines.append(f"  the shapes differ: hand {cx['shapes']['hand']}, reference {cx['shapes']['reference']}")
    return "\n".join(lines)
