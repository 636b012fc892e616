r"""A numeric witness for expressions with integrals, sums, minima, norms and abstract functions.

REFERENCES.md lets an integral over a variable stand for a sum over a finite
set.  This module evaluates a SymPy expression (a hand form, or a reference's
own expression) under one *finite interpretation*, the same for both sides:

- ``\int_{y'} f \, dy'`` is the sum of ``f`` over a grid of the variable's letter
  (``y`` and ``y'`` share the grid of ``y``), ``\min_z`` and ``\operatorname{argmin}_y`` range over it;
- ``\sum_{i=1}^{N}`` runs over ``N`` samples, a symbol subscripted by ``i``
  (``x_i``, ``\mu_j``) reading sample ``i`` (or entry ``j`` of the vector ``\mu``);
- ``\sum_{I' \in D_N}`` runs over a few negatives (``v_{I'}`` reads negative ``I'``);
- an abstract function (``F``, ``F_w``, ``E``, ``s``, ``h``) is a random smooth
  function of its arguments (``F_w`` also of ``w``), several families in turn;
- ``\partial / \partial w`` is a complex-step derivative.

The evaluation is a walk over the SymPy tree with numpy, nothing compiled from
text.  :func:`interpretations` draws the random interpretations, giving a value to
everything both sides range over (:mod:`symdl.grade.ranges`); agreement under
several of them is the numeric witness (:func:`symdl.grade.witness.finite_witness`),
one disagreement is a counterexample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from ..core.elementwise import SCALARS
from ..reader.names import canon
from ..model.domains import DOMAINS, concrete_shape
from .ranges import Ranges, grid_letter, loop_labels, ranges

STEP = 1e-30
#: Most grid points one evaluation visits (about a second of the tree walk); nested integrals multiply them.
MAX_STEPS = 100_000

#: The table's scalar functions as numpy spells them (complex-step safe), by SymPy class.
_SCALAR = {f: row.numpy(np) for f, row in SCALARS.items()}


class Unsupported(ValueError):
    """A construct this interpretation has no meaning for (named in the message)."""


def random_function(name: str, arity: int, family: int, rng) -> callable:
    """A smooth random function of ``arity`` scalars (plus ``w`` for ``F_w``); complex-step safe."""
    a = rng.normal(0, 0.8, arity + 1)
    b = rng.normal(0, 0.8, arity + 1)
    c = rng.uniform(0.5, 1.5, 3)

    def raw(*args):
        u = sum(ai * x for ai, x in zip(a, args)) + a[-1]
        v = sum(bi * x for bi, x in zip(b, args)) + b[-1]
        if family == 0:
            return c[0] * np.tanh(u) + c[1] * v * v
        if family == 1:
            return c[0] * np.sin(u) + c[1] * np.exp(0.3 * v)
        return c[0] * u * v + c[2] * np.log1p(u * u)

    def f(*args):
        # values in (0.05, 0.95): a score such as PIRL's h stays a probability, log(1 - h) finite
        return 0.05 + 0.9 / (1 + np.exp(-raw(*args)))

    return f


@dataclass
class Interpretation:
    """Values for one finite interpretation: inputs, grids, sample counts and functions."""

    values: dict = field(default_factory=dict)  # canonical name -> number or array
    grids: dict = field(default_factory=dict)  # variable letter -> 1-D array
    counts: dict = field(default_factory=dict)  # canonical set name (D_N) -> number of members
    functions: dict = field(default_factory=dict)  # function name -> callable
    dims: dict = field(default_factory=dict)  # size symbol -> int


class Evaluator:
    """Evaluates SymPy expressions under an :class:`Interpretation`."""

    def __init__(self, interp: Interpretation):
        self.i = interp
        self.bound: dict = {}  # canonical name -> value of a bound variable
        self.index: dict = {}  # canonical loop variable -> 0-based sample index
        self.steps = 0  # grid points visited: nested integrals multiply them (40 nested: 4^40)

    # -- symbols ----------------------------------------------------------------------------
    def symbol(self, s) -> object:
        key = canon(s.name)
        if key in self.bound:
            return self.bound[key]
        for var, k in self.index.items():
            if re.search(r"_" + re.escape(var) + r"(?![A-Za-z0-9])", key):
                if key in self.i.values:  # member k: an entry, or a row (a negative v_{I'} as a vector)
                    return np.asarray(self.i.values[key])[k] if np.ndim(self.i.values[key]) else \
                        self.i.values[key]
                base = key[: key.rfind("_" + var)]
                if base in self.i.values:
                    return np.asarray(self.i.values[base]).reshape(-1)[k]
        if key in self.i.values:
            return self.i.values[key]
        if s in self.i.dims:
            return self.i.dims[s]
        raise Unsupported(f"no value for the symbol {s.name}")

    # -- the walk ---------------------------------------------------------------------------
    def ev(self, e):
        if isinstance(e, (sp.Symbol, sp.MatrixSymbol)) and not isinstance(e, sp.Dummy):
            v = self.symbol(e)
            return np.asarray(v).reshape(-1, 1) if isinstance(e, sp.MatrixSymbol) and e.shape[1] == 1 else v
        if isinstance(e, sp.Dummy):
            return self.bound[e]
        if e.is_Number or isinstance(e, sp.NumberSymbol):
            return float(e)
        if e is sp.oo:
            return np.inf
        method = getattr(self, "_" + type(e).__name__, None)
        if method is not None:
            return method(e)
        if isinstance(e, AppliedUndef):
            return self._undef(e)
        f = _SCALAR.get(e.func)
        if f is not None:
            return f(*[self.ev(a) for a in e.args])
        name = type(e).__name__
        handler = getattr(self, "_construct_" + name, None)
        if handler is not None:
            return handler(*e.args)
        raise Unsupported(f"no finite meaning for {name}")

    def _Add(self, e):
        return sum(self.ev(a) for a in e.args)

    def _Mul(self, e):
        out = 1.0
        for a in e.args:
            out = out * self.ev(a)
        return out

    def _Pow(self, e):
        b, x = self.ev(e.base), self.ev(e.exp)
        return np.sqrt(b) if e.exp == sp.Rational(1, 2) else b ** x

    _MatAdd = _Add

    def _MatMul(self, e):
        out = None
        scal = 1.0
        for a in e.args:
            v = self.ev(a)
            if getattr(a, "is_Matrix", False):
                out = v if out is None else out @ v
            else:
                scal = scal * v
        return scal * out

    def _HadamardProduct(self, e):
        return self._Mul(e)

    def _HadamardPower(self, e):
        return self.ev(e.base) ** self.ev(e.exp)

    def _Transpose(self, e):
        return np.swapaxes(self.ev(e.arg), -1, -2)

    def _DiagMatrix(self, e):
        return np.diagflat(self.ev(e.args[0]))

    def _Identity(self, e):
        return np.eye(int(self.ev(e.rows)))

    def _OneMatrix(self, e):
        return np.ones((int(self.ev(e.rows)), int(self.ev(e.cols))))

    def _ZeroMatrix(self, e):
        return np.zeros((int(self.ev(e.rows)), int(self.ev(e.cols))))

    def _ElementwiseApplyFunction(self, e):
        lam = e.function
        self.bound[lam.variables[0]] = self.ev(e.expr)
        try:
            return self.ev(lam.expr)
        finally:
            del self.bound[lam.variables[0]]

    def _undef(self, e):
        name = e.func.__name__
        f = self.i.functions.get(name)
        if f is None:
            raise Unsupported(f"no instance of the function {name}")
        args = [self.ev(a) for a in e.args]
        if name.endswith("_w") and "w" in self.i.values:
            args.append(self.symbol(sp.Symbol("w")))
        return f(*args)

    def _Derivative(self, e):
        (var, count), = e.variable_count
        if count != 1 or not isinstance(var, sp.Symbol):
            raise Unsupported("only first derivatives by a scalar are read")
        key = canon(var.name)
        saved = self.i.values[key]
        self.i.values[key] = saved + 1j * STEP
        try:
            return np.imag(self.ev(e.expr)) / STEP
        finally:
            self.i.values[key] = saved

    def _visit(self, points: int) -> None:
        """Count the points a loop is about to visit; nested loops multiply them, so past :data:`MAX_STEPS` the
        expression has no finite interpretation here (``unknown``), rather than an evaluation that never ends."""
        self.steps += points
        if self.steps > MAX_STEPS:
            raise Unsupported(f"more than {MAX_STEPS:,} grid points in nested integrals, sums or minima")

    def _over_grid(self, var, fn):
        grid = self.i.grids.get(grid_letter(var.name))
        if grid is None:
            raise Unsupported(f"no grid for the variable {var.name}")
        key = canon(var.name)
        saved = self.bound.get(key)
        self._visit(len(grid))
        out = []
        for g in grid:
            self.bound[key] = g
            out.append(fn())
        if saved is None:
            self.bound.pop(key, None)
        else:
            self.bound[key] = saved
        return grid, out

    def _Integral(self, e):
        return self._nested(e)

    def _nested(self, e):
        def run(k):
            if k < 0:
                return self.ev(e.function)
            return sum(self._over_grid(e.limits[k][0], lambda: run(k - 1))[1])

        return run(len(e.limits) - 1)

    def _Sum(self, e):
        var, low, high = e.limits[0]
        lo, hi = int(round(float(np.real(self.ev(low))))), int(round(float(np.real(self.ev(high)))))
        key = canon(var.name)
        total = 0.0
        self._visit(max(0, hi - lo + 1))
        for k in range(lo, hi + 1):
            self.index[key], self.bound[key] = k - 1, float(k)
            total = total + (self.ev(e.function) if len(e.limits) == 1 else self._Sum(sp.Sum(e.function,
                                                                                              *e.limits[1:])))
        self.index.pop(key, None)
        self.bound.pop(key, None)
        return total

    def _members(self, over) -> list:
        """0-based members of a set: the indices a batch ``B`` holds, or ``range(count)``."""
        key = canon(str(over))
        if key in self.i.values and np.ndim(self.i.values[key]):
            return [int(m) - 1 for m in np.asarray(self.i.values[key]).reshape(-1)]
        return list(range(self.i.counts.get(key, 2)))

    def _construct_SumOverSet(self, body, var, over):
        key = canon(var.name)
        total = 0.0
        members = self._members(over)
        self._visit(len(members))
        for k in members:
            self.index[key] = k
            total = total + self.ev(body)
        self.index.pop(key, None)
        return total

    def _construct_batch_gradient_sum(self, batch):
        """optim.sgd's sum of the per-sample gradients over the batch ``B``."""
        grads = np.asarray(self.i.values[canon(r"\nabla \ell_i(\theta_k)")]).reshape(-1)
        return sum(grads[k] for k in self._members(batch))

    def _construct_MinOver(self, body, var):
        return min(self._over_grid(var, lambda: self.ev(body))[1], key=np.real)

    def _construct_MaxOver(self, body, var):
        return max(self._over_grid(var, lambda: self.ev(body))[1], key=np.real)

    def _construct_ArgminOver(self, body, var):
        grid, vals = self._over_grid(var, lambda: self.ev(body))
        return grid[int(np.argmin(np.real(vals)))]

    def _construct_sample_gradient(self, i):
        """optim.gd's ``\\nabla \\ell_i(\\theta_k)``: sample ``i`` of the per-sample gradients."""
        return self.symbol(sp.Symbol(r"\nabla \ell_%s(\theta_k)" % i))

    def _construct_ArgmaxOver(self, body, var):
        grid, vals = self._over_grid(var, lambda: self.ev(body))
        return grid[int(np.argmax(np.real(vals)))]

    def _construct_SquaredNorm(self, v):
        x = self.ev(v)
        return np.sum(x * x)

    def _construct_Dot(self, u, v):
        """``v_I^\top v_{I^t}`` of two feature vectors (:meth:`symdl.reader.names.NameTable.is_vector`)."""
        return np.sum(self.ev(u) * self.ev(v), axis=-1)

    def _construct_Transposed(self, v):
        """A feature vector's transpose standing alone: its entries."""
        return self.ev(v)

    def _construct_SumOf(self, v):
        r"""``\mathbf{1}^\top v``: the sum of the entries of a vector."""
        return np.sum(self.ev(v))

    def _construct_L1Norm(self, v):
        return np.sum(np.abs(self.ev(v)))


# -- building interpretations ------------------------------------------------------------------------

#: How a counterexample names each family of random functions.
FAMILIES = ("random smooth function (tanh and quadratic)", "random smooth function (sine and exponential)",
            "random smooth function (product and log)")
COSINE = "cosine similarity"


def cosine(u, v):
    """``s(u, v)`` of REFERENCES.md (contrastive): the cosine similarity of two vectors."""
    u, v = np.asarray(u), np.asarray(v)
    return np.sum(u * v, axis=-1) / (np.sqrt(np.sum(u * u, axis=-1)) * np.sqrt(np.sum(v * v, axis=-1)))


def interpretations(ref, exprs, sizes, rng, families=(0, 1, 2), points: int = 2):
    """``(label, Interpretation)`` pairs: for each size ``(count, grid_size, dims)``, function family and
    random point, the same for every expression of ``exprs``."""
    scope = ranges(exprs)
    out = []
    for count, grid_size, at in sizes:
        for fam in (families if scope.functions else families[:1]):
            for _ in range(points if scope.functions else points * len(families)):
                it = _interpretation(ref, scope, count, grid_size, at, fam, rng)
                out.append((_label(exprs, scope, count, grid_size, at, fam), it))
    return out


def _interpretation(ref, scope: Ranges, count: int, grid_size: int, at: dict, fam: int, rng) -> Interpretation:
    """One random interpretation; the order of the draws is part of what a seed pins."""
    it = Interpretation(dims=dict(at))
    for high in scope.loops.values():
        if isinstance(high, sp.Symbol) and high not in at:
            it.values[canon(high.name)] = float(count)
            it.counts[canon(high.name)] = count
    for inp in ref.inputs:
        shape = concrete_shape(inp.shape, at)
        key = canon(inp.name)
        indexed = any(re.search(r"_" + re.escape(v) + r"(?![A-Za-z0-9])", key) for v in scope.loops)
        if key in scope.similar and not shape:  # a feature vector, of size d (a row per negative)
            shape = (count, grid_size - 1) if indexed else (grid_size - 1,)
        elif indexed and not shape:
            shape = (count,)
        x = DOMAINS[inp.domain].sample(shape, rng)
        it.values[key] = np.asarray(x).reshape(-1) if len(shape) == 2 and shape[1] == 1 else x
    for g in sorted(scope.grids):  # sorted: a set's order changes with PYTHONHASHSEED, and so would the draws
        it.grids[g] = np.sort(rng.normal(0, 1.0, grid_size))
    _batches(ref, scope.sets, it, count, rng)
    for alias, target in ref.aliases.items():
        if canon(target) in it.values:
            it.values.setdefault(canon(alias), it.values[canon(target)])
    for name, arity in sorted(scope.functions.items()):
        it.functions[name] = random_function(name, arity, fam, rng)
    if scope.similar:
        it.functions["s"] = cosine
    return it


def _batches(ref, sets, it: Interpretation, count: int, rng) -> None:
    """A set summed over that is an input (optim.sgd's batch ``B``): distinct sample indices, with
    the per-sample inputs given one more sample than the batch holds."""
    for inp in ref.inputs:
        key = canon(inp.name)
        if key in sets and not inp.shape:
            total = count + 2
            for other in ref.inputs:
                if re.search(r"_i(?![A-Za-z0-9])", canon(other.name)):
                    it.values[canon(other.name)] = rng.normal(0, 0.7, total)
            it.values[key] = np.sort(rng.choice(np.arange(1, total + 1), count, replace=False)).astype(float)
            it.values[canon("|" + inp.name + "|")] = float(count)


def _label(exprs, scope: Ranges, count: int, grid_size: int, at: dict, fam: int) -> dict:
    """How a counterexample names the interpretation: the sizes, and the family of each random function."""
    similar = bool(scope.similar)
    label = {**{k: count for k in loop_labels(exprs, at)}, **({"grid": grid_size} if scope.grids else {}),
             **{str(k): v for k, v in at.items()}, **({"d": grid_size - 1} if similar else {})}
    if scope.functions or similar:
        label["functions"] = {**{name: FAMILIES[fam] for name in scope.functions},
                              **({"s": COSINE} if similar else {})}
    return label
