"""Symbols and check helpers shared by the parts of the question-2 worked solution."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symdl.models import optim as O
from symdl.verify.spec import CheckSpec, relative_error


S = O.S
r, gl = sp.Symbol("r"), sp.Symbol(r"\gamma\lambda", real=True)
beta, gamma, lam = O.beta, O.gamma, sp.Symbol(r"\lambda", positive=True)
K = 6
gs = sp.symbols("g_1:7", real=True)
rates = sp.symbols(r"\gamma_1:7", positive=True)
theta0 = S(r"\theta_0")


def _check(method, description, fn, timeout=None):
    return CheckSpec(method, description, fn, timeout=timeout if method == "symbolic" else None)


def _differs(a, b, what: str) -> tuple:
    """A refutation check's outcome: passed when the two values differ (``a`` is the claim refuted)."""
    err = relative_error(a, b)
    return err > 1e-6, f"{what}: {np.asarray(a).tolist()} against {np.asarray(b).tolist()} (relative gap {err:.3g})", err
