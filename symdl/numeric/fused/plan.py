"""One pass over rows for a derived sum of scaled matrices (a numba kernel printed from the expression).

Many derived Jacobians have the form

    J = sum_k diag(a_k) X_k diag(b_k) + sum diag(d),

the LSTM cell Jacobian among them: three weight matrices scaled by gate
derivatives, plus ``diag(f_t)``.  The row scales ``a_k`` hold matrix-vector
products (the gates' pre-activations ``W h + U x + b``).  Evaluated operation
by operation (:mod:`symdl.numeric.compile`), every product and every term is a pass
over memory.  Row ``i`` of ``J`` needs only row ``i`` of each weight matrix, so
one loop over rows can compute the dot products of row ``i``, the row scales
at ``i``, and row ``i`` of ``J`` while those weight rows are still in cache:
every matrix is read once and ``J`` written once, the floor set by memory
traffic.

Nothing here is written for a particular reference.  :func:`plan` reads the
structure of a derived expression, turns each row scale into a scalar SymPy
expression at row ``i`` (a product ``W u`` becomes a dot product of row ``i``
of ``W`` with the vector ``u``), shares repeated subexpressions with
``sympy.cse``, and prints a numba function.  Vectors indexed by column (the
column scales ``b_k`` and the ``u`` of each product) are computed first by the
ordinary numpy code.  The printed module is written to a cache folder and
imported from there, so numba's own cache keeps the machine code between
processes.

The fused kernel is used by :func:`symdl.numeric.compile.compile_expr` when numba is
installed (the ``fast`` extra), the result has at least :data:`MIN_ENTRIES`
entries, and the inputs are real float32/float64 arrays on the CPU that
autograd does not need to record.  Anything else takes the ordinary path,
which computes the same expression.  ``SYMDL_FUSED=never`` (or ``always``)
overrides the choice; so does setting :data:`MODE`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct

from ...core.elementwise import SCALARS

#: "auto" (large results, numba installed), "always" (whenever the inputs allow), "never".
MODE = os.environ.get("SYMDL_FUSED", "auto")
#: Smallest result (rows x columns) for which "auto" uses the fused kernel.
MIN_ENTRIES = 128 * 128
#: Rows a pass of the kernel's loop handles (their dot products share one loop).
ROWS = 2


class NotFusible(Exception):
    """The expression is not a sum of scaled matrices whose scales print as scalar code."""


# --------------------------------------------------------------------------- structure

def terms_of(expr, inputs) -> tuple[list, list] | None:
    """``([(c, a, X, b), ...], [d, ...])`` for ``sum c diag(a) X diag(b) + sum diag(d)``; else None.

    ``X`` is an input matrix, ``c`` a scalar factor (1 when there is none), ``a`` and ``b`` may be None.
    """
    from ..compile import _scaled_product

    if not isinstance(expr, sp.MatrixExpr) or expr.shape[1] == 1:
        return None
    scaled, diags = [], []
    for t in expr.args if isinstance(expr, sp.MatAdd) else (expr,):
        if isinstance(t, DiagMatrix):
            diags.append(t.args[0])
            continue
        c = sp.Integer(1)
        if isinstance(t, sp.MatMul):
            c = sp.Mul(*[f for f in t.args if not getattr(f, "is_Matrix", False)])
            mats = [f for f in t.args if getattr(f, "is_Matrix", False)]
            t = mats[0] if len(mats) == 1 else sp.MatMul(*mats)
        parts = (None, t, None) if isinstance(t, sp.MatrixSymbol) else _scaled_product(t)
        if parts is None or not isinstance(parts[1], sp.MatrixSymbol) or parts[1] not in inputs:
            return None
        scaled.append((c, *parts))
    return (scaled, diags) if scaled else None


class _Rows:
    """Vector expressions at row ``i``, as scalar SymPy expressions."""

    def __init__(self, inputs):
        self.inputs = set(inputs)
        self.vectors: dict = {}   # input vector -> symbol of its entry i
        self.scalars: dict = {}   # scalar input -> symbol
        self.dots: dict = {}      # (W, u) -> symbol of (W u)_i
        self.columns: list = []   # vectors computed before the loop (u of each product, column scales)

    def column(self, u) -> int:
        if u not in self.columns:
            self.columns.append(u)
        return self.columns.index(u)

    def scalar(self, s):
        if not isinstance(s, sp.Expr) or s.is_Matrix:
            raise NotFusible(s)
        for x in s.free_symbols:
            if x not in self.inputs:
                raise NotFusible(x)
            self.scalars.setdefault(x, sp.Symbol(f"p{len(self.scalars)}"))
        return s.xreplace(self.scalars)

    def __call__(self, e):
        if isinstance(e, sp.MatrixSymbol):
            if e in self.inputs and e.shape[1] == 1:
                return self.vectors.setdefault(e, sp.Symbol(f"e{len(self.vectors)}"))
            raise NotFusible(e)
        if isinstance(e, sp.MatAdd):
            return sp.Add(*[self(a) for a in e.args])
        if isinstance(e, HadamardProduct):
            return sp.Mul(*[self(a) for a in e.args])
        if isinstance(e, HadamardPower):
            return self(e.base) ** self.scalar(e.exp)
        if isinstance(e, ElementwiseApplyFunction):
            lam = e.function
            if not isinstance(lam, sp.Lambda):
                raise NotFusible(lam)
            (var,) = lam.variables
            others = {x: self.scalar(x) for x in lam.expr.free_symbols - {var}}
            return lam.expr.xreplace({var: self(e.expr), **others})
        if isinstance(e, sp.MatMul):
            coeff = sp.Mul(*[self.scalar(a) for a in e.args if not getattr(a, "is_Matrix", False)])
            mats = [a for a in e.args if getattr(a, "is_Matrix", False)]
            if len(mats) == 1:
                return coeff * self(mats[0])
            if len(mats) == 2 and isinstance(mats[0], DiagMatrix):  # diag(v) u = v (.) u
                return coeff * self(mats[0].args[0]) * self(mats[1])
            if len(mats) == 2 and isinstance(mats[0], sp.MatrixSymbol) and mats[0] in self.inputs:
                self.column(mats[1])
                t = self.dots.setdefault((mats[0], mats[1]), sp.Symbol(f"t{len(self.dots)}"))
                return coeff * t
        raise NotFusible(type(e).__name__)


def scalar_code(e) -> str:
    """Python (numba) source of a scalar SymPy expression built by :class:`_Rows`."""
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
    if isinstance(e, sp.Add):
        return "(" + " + ".join(scalar_code(a) for a in e.args) + ")"
    if isinstance(e, sp.Mul):
        return "(" + " * ".join(scalar_code(a) for a in e.args) + ")"
    if isinstance(e, sp.Pow):
        base, x = e.args
        if x == sp.Rational(1, 2):
            return f"math.sqrt({scalar_code(base)})"
        if x.is_Integer:
            return f"({scalar_code(base)} ** {int(x)})"
        return f"({scalar_code(base)} ** {scalar_code(x)})"
    if isinstance(e, (sp.Max, sp.Min)):
        return "%s(%s)" % ("max" if isinstance(e, sp.Max) else "min", ", ".join(scalar_code(a) for a in e.args))
    if isinstance(e, sp.Function) and not isinstance(e, AppliedUndef) and e.func in SCALARS:
        return "%s(%s)" % (SCALARS[e.func].name, ", ".join(scalar_code(a) for a in e.args))
    raise NotFusible(type(e).__name__)


# --------------------------------------------------------------------------- the plan

@dataclass
class Plan:
    """What the kernel reads (indices into the compiled function's inputs) and its source."""

    source: str
    matrices: list            # input index of each matrix argument
    vectors: list             # input index of each vector read at row i
    scalars: list             # input index of each scalar input
    columns: list             # vector expressions computed before the loop
    square: bool
    kernel: object = field(default=None, repr=False)
    columns_fn: list = field(default_factory=list, repr=False)  # compiled numpy code of ``columns``


def plan(expr, inputs, rows_per_pass: int | None = None) -> Plan | None:
    """The fused kernel of ``expr``, or ``None`` when it does not have the form (see the module).

    Each pass of the loop handles ``rows_per_pass`` rows (:data:`ROWS`): their dot products share
    one loop over the vector, which keeps more loads in flight (about 9% faster at n = 1024 for 2).
    """
    found = terms_of(expr, inputs)
    if found is None:
        return None
    scaled, diags = found
    R = ROWS if rows_per_pass is None else rows_per_pass
    rows = _Rows(inputs)
    try:
        row_scales = [rows.scalar(c) * (1 if a is None else rows(a)) for c, a, _, _ in scaled]
        diagonal = sp.Add(*[rows(d) for d in diags])
        col = [None if b is None else rows.column(b) for _, _, _, b in scaled]
        replacements, reduced = sp.cse(row_scales + [diagonal], symbols=sp.numbered_symbols("x"), order="none")
        for _, v in replacements:
            scalar_code(v)
        for v in reduced:
            scalar_code(v)
    except NotFusible:
        return None

    index = {s: k for k, s in enumerate(inputs)}
    mats = []
    for key in [x for _, _, x, _ in scaled] + [w for w, _ in rows.dots]:
        if index[key] not in mats:
            mats.append(index[key])
    m_name = {inputs[k]: f"M{j}" for j, k in enumerate(mats)}
    v_name = {v: f"V{j}" for j, v in enumerate(rows.vectors)}
    c_name = [f"C{j}" for j in range(len(rows.columns))]
    local = [*rows.vectors.values(), *rows.dots.values(), *(x for x, _ in replacements)]

    def at(k):
        """Symbols of the k-th row of a pass: ``e0`` -> ``e0_k`` (scalar inputs are shared)."""
        return {x: sp.Symbol(f"{x.name}_{k}") for x in local}

    used = sorted({SCALARS[f.func].name for _, v in replacements for f in v.atoms(sp.Function) if f.func in SCALARS}
                  | {SCALARS[f.func].name for v in reduced for f in v.atoms(sp.Function) if f.func in SCALARS})
    src = ["import math", "", "import numba", "", "from symdl.numeric.fused import runtime as rt", "",
           *(f'{name} = rt.FUNCTIONS["{name}"]' for name in used), "", "",
           "@numba.njit(cache=True, nogil=True, fastmath=rt.FASTMATH)",
           "def kernel(out, %s):" % ", ".join(
               [m_name[inputs[k]] for k in mats] + list(v_name.values()) + c_name
               + [p.name for p in rows.scalars.values()]),
           "    n = out.shape[0]",
           f"    for i in range(0, n, {R}):"]
    # the last pass may run past n: its extra rows repeat row n - 1 (the same values, written again)
    src += [f"        i{k} = min(i + {k}, n - 1)" for k in range(R)]
    for k in range(R):
        src += [f"        {at(k)[sym].name} = {v_name[v]}[i{k}]" for v, sym in rows.vectors.items()]
    for u in range(len(rows.columns)):  # one loop over j for every product with the same vector
        group = [(w, t) for (w, uu), t in rows.dots.items() if rows.columns.index(uu) == u]
        if not group:
            continue
        src += [f"        {at(k)[t].name} = 0.0" for k in range(R) for _, t in group]
        src += [f"        for j in range({c_name[u]}.shape[0]):", f"            u = {c_name[u]}[j]"]
        src += [f"            {at(k)[t].name} += {m_name[w]}[i{k}, j] * u" for k in range(R) for w, t in group]
    # row i of the sum: terms sharing a column scale are summed before it is applied
    groups: dict = {}
    for j, (_, _, x, _) in enumerate(scaled):
        groups.setdefault(col[j], []).append((j, x))
    for k in range(R):
        ren = at(k)
        src += [f"        {ren[x].name} = {scalar_code(v.xreplace(ren))}" for x, v in replacements]
        src += [f"        r{j}_{k} = {scalar_code(v.xreplace(ren))}" for j, v in enumerate(reduced[:-1])]
        parts = []
        for c, items in groups.items():
            inner = " + ".join(f"r{j}_{k} * {m_name[x]}[i{k}, j]" for j, x in items)
            parts.append(f"({inner})" if c is None else f"({inner}) * {c_name[c]}[j]")
        src += ["        for j in range(out.shape[1]):", f"            out[i{k}, j] = " + " + ".join(parts)]
        if diags:
            src += [f"        out[i{k}, i{k}] += {scalar_code(reduced[-1].xreplace(ren))}"]
    return Plan(source="\n".join(src) + "\n", matrices=mats, vectors=[index[v] for v in rows.vectors],
                scalars=[index[s] for s in rows.scalars], columns=list(rows.columns), square=bool(diags))


# --------------------------------------------------------------------------- loading

def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symdl" / "kernels"


def load(source: str):
    """Import the printed module from the cache folder (numba caches its machine code beside it)."""
    import numba

    key = hashlib.sha256(f"{numba.__version__}\n{sys.version}\n{source}".encode()).hexdigest()[:24]
    name = f"symdl_kernel_{key}"
    if name in sys.modules:
        return sys.modules[name].kernel
    path = _cache_dir() / f"{name}.py"
    try:
        if not path.is_file() or path.read_text() != source:
            from ...files import write_atomic

            write_atomic(path, source)
        if not (_private(path.parent) and _private(path)):
            raise PermissionError(f"{path} could be written by another user")
    except OSError:  # no writable or private cache: a private folder, compiled afresh in this process
        path = Path(tempfile.mkdtemp(prefix="symdl-kernel-")) / f"{name}.py"
        path.write_text(source.replace("cache=True", "cache=False"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module.kernel


def _private(path: Path) -> bool:
    """Owned by this user and writable by nobody else: only then is a cached module imported."""
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


_NUMBA: list = []


def numba_available() -> bool:
    if not _NUMBA:
        try:
            import numba  # noqa: F401
            _NUMBA.append(True)
        except ImportError:
            _NUMBA.append(False)
    return _NUMBA[0]


# --------------------------------------------------------------------------- dispatch

def wrap(fn, expr, inputs, dims):
    """``fn`` (the ordinary compiled function), calling the fused kernel instead where it applies."""
    found = terms_of(expr, inputs)
    if found is None:
        return fn
    first = list(inputs).index(found[0][0][2])  # the input index of one X: its shape is the result's
    ndims = len(dims)
    state: dict = {}

    def call(_like, *args):
        import numpy as np

        mode = MODE
        if mode == "never":
            return fn(_like, *args)
        x = args[ndims + first]
        shape = getattr(x, "shape", ())
        if len(shape) != 2 or (mode != "always" and shape[0] * shape[1] < MIN_ENTRIES) or not numba_available():
            return fn(_like, *args)
        arrays = _as_numpy(args[ndims:])
        if arrays is None:
            return fn(_like, *args)
        if "plan" not in state:
            state["plan"] = plan(expr, inputs)
        p = state["plan"]
        if p is None:
            return fn(_like, *args)
        if p.kernel is None:
            try:
                p.kernel = load(p.source)
                p.columns_fn = [compile_column(c, inputs, dims) for c in p.columns]
                out = _run(p, arrays, args[:ndims], shape)
            except Exception as exc:  # a kernel that does not compile must not cost the user the result
                state["plan"] = None
                warnings.warn(f"symdl: the fused kernel did not compile ({type(exc).__name__}: {exc}); "
                              "the ordinary code computes this expression", RuntimeWarning, stacklevel=2)
                return fn(_like, *args)
        else:
            out = _run(p, arrays, args[:ndims], shape)
        if isinstance(x, np.ndarray):
            return out
        import torch

        return torch.from_numpy(out)

    call.__wrapped__ = fn
    return call


def compile_column(c, inputs, dims):
    from ..compile import compile_expr

    return compile_expr(c, inputs, (), dims, "numpy")


def _as_numpy(values):
    """The inputs as numpy arrays of one real float dtype, or ``None`` (then the ordinary path runs)."""
    import numpy as np

    out, dtype = [], None
    torch = sys.modules.get("torch")
    for v in values:
        if torch is not None and isinstance(v, torch.Tensor):
            if v.device.type != "cpu" or (v.requires_grad and torch.is_grad_enabled()):
                return None
            if v.is_conj() or v.is_neg():
                v = v.resolve_conj().resolve_neg()
            v = v.detach().numpy()
        elif not isinstance(v, np.ndarray):
            return None
        if v.dtype not in (np.float32, np.float64) or (dtype is not None and v.dtype != dtype):
            return None
        dtype = v.dtype
        out.append(v)
    return out


def _run(p: Plan, arrays, dimvals, shape):
    import numpy as np

    cols = [np.ascontiguousarray(f(arrays[0], *dimvals, *arrays).reshape(-1)) for f in p.columns_fn]
    mats = [np.ascontiguousarray(arrays[k]) for k in p.matrices]
    vecs = [np.ascontiguousarray(arrays[k].reshape(-1)) for k in p.vectors]
    scal = [float(arrays[k].reshape(())) for k in p.scalars]
    if p.square and shape[0] != shape[1]:
        raise ValueError(f"a diagonal term needs a square result, got {shape}")
    out = np.empty(shape, dtype=arrays[0].dtype)
    p.kernel(out, *mats, *vecs, *cols, *scal)
    return out
