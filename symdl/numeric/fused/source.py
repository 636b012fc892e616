"""Printing a fused kernel: the Python (numba) text of one pass over rows (see :mod:`symdl.numeric.fused`).

The text is our own, printed from SymPy objects symdl built; it is imported
from the kernel cache (:mod:`.cache`), never evaluated from a string.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import AppliedUndef

from ...core.elementwise import SCALARS


class NotFusible(Exception):
    """The expression is not a sum of scaled matrices whose scales print as scalar code."""


def scalar_code(e) -> str:
    """Python (numba) source of a scalar SymPy expression at row ``i``; :class:`NotFusible` if it has none."""
    if isinstance(e, sp.Symbol):
        return e.name
    if isinstance(e, sp.Integer):
        return f"{int(e)}.0"
    if isinstance(e, sp.Rational):
        return f"({e.p}.0 / {e.q}.0)"
    if isinstance(e, sp.Float):
        return repr(float(e))
    if e is sp.pi:
        return "math.pi"
    if e is sp.E:
        return "math.e"
    if isinstance(e, (sp.Add, sp.Mul)):
        return "(" + (" + " if isinstance(e, sp.Add) else " * ").join(scalar_code(a) for a in e.args) + ")"
    if isinstance(e, sp.Pow):
        base, x = e.args
        if x == sp.Rational(1, 2):
            return f"math.sqrt({scalar_code(base)})"
        return f"({scalar_code(base)} ** {int(x) if x.is_Integer else scalar_code(x)})"
    if isinstance(e, (sp.Max, sp.Min)):
        return "%s(%s)" % ("max" if isinstance(e, sp.Max) else "min", ", ".join(scalar_code(a) for a in e.args))
    if isinstance(e, sp.Function) and not isinstance(e, AppliedUndef) and e.func in SCALARS:
        return "%s(%s)" % (SCALARS[e.func].name, ", ".join(scalar_code(a) for a in e.args))
    raise NotFusible(type(e).__name__)


def kernel_source(form, matrices, rows_per_pass: int) -> str:
    """The module text of the kernel of a :class:`~.plan.RowForm`, reading ``matrices`` in that order."""
    return "\n".join(_Printer(form, matrices, rows_per_pass).lines()) + "\n"


class _Printer:
    """Names the kernel's arguments and prints its loop: ``R`` rows a pass, the last pass clamped to ``n - 1``."""

    def __init__(self, form, matrices, rows_per_pass: int):
        self.form, self.R = form, rows_per_pass
        rows = form.rows
        self.m_name = {x: f"M{j}" for j, x in enumerate(matrices)}
        self.v_name = {v: f"V{j}" for j, v in enumerate(rows.vectors)}
        self.c_name = [f"C{j}" for j in range(len(rows.columns))]
        self.local = [*rows.vectors.values(), *rows.reads.values(), *rows.dots.values(), *(x for x, _ in form.shared)]

    def at(self, k) -> dict:
        """Symbols of the k-th row of a pass: ``e0`` -> ``e0_k`` (scalar inputs are shared)."""
        return {x: sp.Symbol(f"{x.name}_{k}") for x in self.local}

    def lines(self) -> list[str]:
        out = self.header()
        vectors = self.form.rows.vectors
        for k in range(self.R):
            out += [f"        {self.at(k)[sym].name} = {self.v_name[v]}[i{k}]" for v, sym in vectors.items()]
            out += [f"        {self.at(k)[sym].name} = {self.c_name[self.form.rows.columns.index(e)]}"
                    f"[{f'i{k}' if getattr(e, 'is_Matrix', False) else 0}]" for e, sym in self.form.rows.reads.items()]
        out += self.dot_products()
        for k in range(self.R):
            out += self.row(k)
        return out

    def header(self) -> list[str]:
        """Imports, the table's functions the kernel calls, its signature and the loop over passes."""
        f = self.form
        called = {SCALARS[g.func].name for e in [v for _, v in f.shared] + f.scales + [f.diagonal]
                  for g in e.atoms(sp.Function) if g.func in SCALARS}
        args = [*self.m_name.values(), *self.v_name.values(), *self.c_name, *(p.name for p in f.rows.scalars.values())]
        return ["import math", "", "import numba", "", "from symdl.numeric.fused import runtime as rt", "",
                *(f'{name} = rt.FUNCTIONS["{name}"]' for name in sorted(called)), "", "",
                "@numba.njit(cache=True, nogil=True, fastmath=rt.FASTMATH)",
                "def kernel(out, %s):" % ", ".join(args),
                "    n = out.shape[0]",
                f"    for i in range(0, n, {self.R}):",
                # the last pass may run past n: its extra rows repeat row n - 1 (the same values, written again)
                *(f"        i{k} = min(i + {k}, n - 1)" for k in range(self.R))]

    def dot_products(self) -> list[str]:
        """One loop over j for every product with the same vector, for every row of the pass."""
        out, rows = [], self.form.rows
        for u in range(len(rows.columns)):
            group = [(w, t) for (w, uu), t in rows.dots.items() if rows.columns.index(uu) == u]
            if not group:
                continue
            out += [f"        {self.at(k)[t].name} = 0.0" for k in range(self.R) for _, t in group]
            out += [f"        for j in range({self.c_name[u]}.shape[0]):", f"            u = {self.c_name[u]}[j]"]
            out += [f"            {self.at(k)[t].name} += {self.m_name[w]}[i{k}, j] * u"
                    for k in range(self.R) for w, t in group]
        return out

    def row(self, k) -> list[str]:
        """Row ``i + k`` of the sum: terms sharing a column scale are summed before it is applied."""
        f, ren = self.form, self.at(k)
        out = [f"        {ren[x].name} = {scalar_code(v.xreplace(ren))}" for x, v in f.shared]
        out += [f"        r{j}_{k} = {scalar_code(v.xreplace(ren))}" for j, v in enumerate(f.scales)]
        groups: dict = {}
        for j, x in enumerate(f.terms):
            groups.setdefault(f.columns[j], []).append((j, x))
        parts = []
        for c, items in groups.items():
            inner = " + ".join(f"r{j}_{k} * {self.m_name[x]}[i{k}, j]" for j, x in items)
            parts.append(f"({inner})" if c is None else f"({inner}) * {self.c_name[c]}[j]")
        out += ["        for j in range(out.shape[1]):", f"            out[i{k}, j] = " + " + ".join(parts)]
        if f.square:
            out += [f"        out[i{k}, i{k}] += {scalar_code(f.diagonal.xreplace(ren))}"]
        return out
