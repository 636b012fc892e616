"""Sizes and symbol constructors shared by the models.

Every symbol's name is its LaTeX as REFERENCES.md writes it (``c_{t-1}``,
``W_{fh}``, ``\\beta_1``): that name is the key of ``evaluate``'s values, and
the printer shows it as written.
"""

import sympy as sp

n = sp.Symbol("n", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)


def vector(name: str, size=n) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, size, 1)


def matrix(name: str, rows=n, cols=n) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, rows, cols)


def scalar(name: str, **assumptions) -> sp.Symbol:
    return sp.Symbol(name, real=True, **assumptions)
