"""Check builders shared by the models: explicit proofs, complex-step witnesses, oracles.

Each builder returns a :class:`~symdl.verify.spec.CheckSpec`.  What a check compares
against is independent of what it checks: SymPy's explicit ``Matrix.jacobian``
for a proof, the complex-step derivative of the *forward* map for a numeric
witness, and PyTorch code in :mod:`symdl.verify.oracles.recurrent` for an oracle.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from ..numeric import compile as backends
from ..core.calculus import explicit_jacobian, instantiate, substitute_definitions
from ..core.elementwise import collapse_derivatives, expand_primes, sigmoid, sigmoid_prime, tanh_prime
from ..model.domains import random_values
from ..model.reference import Input, evaluate_expression
from .spec import CheckSpec, compare_trials

#: Sizes of the numeric and oracle trials: (n, m) pairs, more than one size each time.
TRIAL_SIZES = ((2, 3), (5, 2), (16, 7))
TRIALS_PER_SIZE = 3


def _zero_entry(z) -> bool:
    z = sp.expand(z)
    if z == 0:
        return True
    return sp.simplify(z.rewrite(sp.exp)) == 0


def _zero_in_exponentials(z) -> bool:
    """``z`` (tanh, the sigmoid and exp of real entries) is 0 as one fraction of exponentials: fast where the
    softmax's exponentials would otherwise be rewritten as tanh of half arguments (a minute at size 2)."""
    z = z.replace(lambda a: isinstance(a, (tanh_prime, sigmoid_prime)), lambda a: a.explicit(a.args[0]))
    z = sp.together(sp.powsimp(sp.expand(z.rewrite([sp.tanh, sigmoid], sp.exp), power_exp=True)))
    return sp.expand(sp.numer(z)) == 0


def _real_entries(*matrices) -> dict:
    """The entries of the instantiated matrix symbols, as real symbols (sqrt(x^2)/x = x/sqrt(x^2) only for real x)."""
    found = set().union(*(m.atoms(MatrixElement) for m in matrices))
    return {e: sp.Symbol(f"_r{k}", real=True) for k, e in enumerate(sorted(found, key=str))}


def explicit_proof(derived, forward, wrt, definitions: Mapping, dims: Sequence[sp.Symbol],
                   sizes=(1, 2, 3), timeout: float = 60.0, description: str = "") -> CheckSpec:
    """The derived Jacobian equals SymPy's ``Matrix.jacobian`` at each size, entry by entry."""

    def run():
        for k in sizes:
            at = {d: k for d in dims}
            want = collapse_derivatives(explicit_jacobian(forward, wrt, at, definitions))
            got = collapse_derivatives(instantiate(substitute_definitions(derived, definitions), at))
            if got.shape != want.shape:
                return False, f"shape {got.shape} against {want.shape} at size {k}", None
            real = _real_entries(got, want)
            for i in range(got.rows):
                for j in range(got.cols):
                    if _zero_in_exponentials((got[i, j] - want[i, j]).xreplace(real)):
                        continue
                    if not _zero_entry(expand_primes(got[i, j]) - expand_primes(want[i, j])):
                        return None, f"SymPy could not show entry ({i}, {j}) equal at size {k}", None
        return True, f"equal to SymPy's Matrix.jacobian entry by entry at sizes {', '.join(map(str, sizes))}", None

    return CheckSpec("symbolic", description or "explicit Jacobian", run, timeout=timeout)


def complex_step_jacobian(forward: Callable[[dict], np.ndarray], values: dict, wrt) -> np.ndarray:
    """Numerator-layout Jacobian of ``forward`` by the complex step (exact to rounding); ``wrt`` is one name or
    a tuple of names, whose columns come side by side (a block Jacobian by stacked variables)."""
    h = 1e-30
    cols = []
    for name in (wrt,) if isinstance(wrt, str) else wrt:
        x = np.asarray(values[name], dtype=np.float64)
        for j in range(x.size):
            xj = x.astype(np.complex128).reshape(-1)
            xj[j] += 1j * h
            cols.append(np.imag(np.asarray(forward({**values, name: xj.reshape(x.shape)}))).reshape(-1) / h)
    return np.stack(cols, axis=1)


def _enough(size: tuple, count: int) -> tuple:
    """A size for each of ``count`` dimensions: a third (attention's d, n, m) takes one more than the first."""
    return tuple(size) + tuple(size[0] + 1 + k for k in range(count - len(size))) if size else size


def random_trials(inputs: Sequence[Input], dims: Sequence[sp.Symbol], function_values, seed: int,
                  sizes: Sequence[tuple] = TRIAL_SIZES):
    """``(label, values, functions)`` for every function instantiation, size and repetition.

    Labels read ``"n = 2, m = 3 | tanh"`` so that :func:`~symdl.verify.spec.compare_trials` reports
    the largest error of each size.
    """
    rng = np.random.default_rng(seed)
    for label, fns in function_values:
        for size in (sizes if dims else ((),)):
            at = dict(zip(dims, _enough(size, len(dims))))
            where = ", ".join(f"{d} = {s}" for d, s in at.items()) or "scalars"
            for _ in range(TRIALS_PER_SIZE):
                yield f"{where}{' | ' + label if label else ''}", random_values(inputs, at, rng), fns, label


def complex_step_check(derived, forward, definitions: Mapping, inputs: Sequence[Input], functions: Mapping,
                       wrt: str, dims: Sequence[sp.Symbol], function_values: Sequence[tuple[str, dict]] = (("", {}),),
                       seed: int = 0, description: str = "") -> CheckSpec:
    """The derived closed form against the complex-step derivative of the forward map."""

    derived = substitute_definitions(derived, definitions)
    forward = substitute_definitions(forward, definitions)

    def run():
        ops = backends.ops("numpy")

        def forward_at(v):
            return evaluate_expression(forward, inputs, functions, v, ops, "numpy", "forward")

        trials = []
        for label, vals, fns, _ in random_trials(inputs, dims, function_values, seed):
            vals = {**vals, **fns}
            got = evaluate_expression(derived, inputs, functions, vals, ops, "numpy", "derived")
            trials.append((label, got, complex_step_jacobian(forward_at, vals, wrt)))
        return compare_trials(trials)

    return CheckSpec("numeric", description or "complex-step derivative of the forward map", run)


def oracle_check(ref_eval: Callable[[dict], np.ndarray], oracle: Callable[[dict], np.ndarray],
                 inputs: Sequence[Input], dims: Sequence[sp.Symbol], description: str,
                 function_values: Sequence[tuple[str, dict]] = (("", {}),), seed: int = 1) -> CheckSpec:
    """The reference evaluated by symdl against an independent torch computation."""

    def run():
        trials = [(label, ref_eval({**vals, **fns}), oracle({**vals, "_function": name}))
                  for label, vals, fns, name in random_trials(inputs, dims, function_values, seed)]
        return compare_trials(trials)

    return CheckSpec("oracle", description, run)


def symbolic_equal(a, b, description: str = "SymPy simplifies the difference to 0", timeout: float = 60.0,
                   simplifier: Callable | None = None) -> CheckSpec:
    """``a - b`` simplifies to zero (scalars, or explicit matrices entry by entry).

    No proof is not a refutation: when SymPy cannot reduce the difference the
    check is reported as not made.
    """

    def run():
        diff = sp.Matrix(a) - sp.Matrix(b) if isinstance(a, sp.MatrixBase) else a - b
        entries = list(diff) if isinstance(diff, sp.MatrixBase) else [diff]
        simp = simplifier or (lambda z: sp.simplify(sp.expand(z)))
        for z in entries:
            if sp.expand(z) != 0 and simp(z) != 0:
                return None, "SymPy could not reduce the difference to 0", None
        return True, "the difference simplifies to 0", None

    return CheckSpec("symbolic", description, run, timeout=timeout)


def numeric_equal(a, b, inputs: Sequence[Input], functions: Mapping = None, dims: Sequence[sp.Symbol] = (),
                  sizes: Sequence[tuple] = TRIAL_SIZES, function_values: Sequence[tuple[str, dict]] = (("", {}),),
                  definitions: Mapping = None, seed: int = 2, rtol: float | None = None,
                  description: str = "equal at random points in float64") -> CheckSpec:
    """``a`` and ``b`` (SymPy, in the inputs' symbols) agree at random points at several sizes."""
    functions = functions or {}
    a = substitute_definitions(a, definitions or {})
    b = substitute_definitions(b, definitions or {})

    def run():
        ops = backends.ops("numpy")
        trials = []
        for label, vals, fns, _ in random_trials(inputs, dims, function_values, seed, sizes):
            vals = {**vals, **fns}
            trials.append((label, evaluate_expression(a, inputs, functions, vals, ops, "numpy", "left side"),
                           evaluate_expression(b, inputs, functions, vals, ops, "numpy", "right side")))
        return compare_trials(trials, **({"rtol": rtol} if rtol else {}))

    return CheckSpec("numeric", description, run)
