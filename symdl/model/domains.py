"""Where an input's values may lie, and the one sampler of random points inside it.

A :class:`Domain` answers two questions about an input: may it take this value (``evaluate`` refuses
a learning rate of -1 with the domain's text), and what is a random value of it (:meth:`Domain.sample`).
Every random input symdl draws, for the checks of derived results (:mod:`symdl.verify`) and for the
witness of a hand form (:mod:`symdl.grade`), comes from :meth:`Domain.sample`.

Each domain keeps the random stream it has always drawn (the same generator calls, in the same order),
so a seed gives the values it gave before: the documents' numbers and the tests' counterexamples hang on
them.  Values stay well scaled (about 0.7 for a real number) and away from the edges of a domain, where
float64 comparisons say little.

Most domains are boxes, asked of each entry alone (``contains(0.3)``).  The domains of a whole vector or
matrix (a probability vector, a one-hot vector, a symmetric positive definite matrix) are asked of the
whole array (``whole=True``: ``contains`` takes the array), and draw a whole array at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import sympy as sp


@dataclass(frozen=True)
class Domain:
    """Where an input's values may lie: a name, a text for messages, a test, and a random stream."""

    name: str
    text: str
    contains: Callable[[float], bool]  # of one entry; of the whole array when ``whole``
    draw: Callable[[np.random.Generator, tuple], np.ndarray]
    whole: bool = False

    def sample(self, shape: tuple, rng: np.random.Generator):
        """Random float64 values inside the domain: an array of ``shape``, a float when ``shape`` is ``()``."""
        x = self.draw(rng, shape)
        return x if shape else float(x)


DOMAINS = {
    "real": Domain("real", "any real number", lambda x: math.isfinite(x),
                   lambda rng, shape: rng.normal(0.0, 0.7, shape)),
    "positive": Domain("positive", "> 0", lambda x: x > 0,
                       lambda rng, shape: rng.uniform(0.5, 2.0, shape)),
    "nonnegative": Domain("nonnegative", ">= 0", lambda x: x >= 0,
                          lambda rng, shape: rng.uniform(0.0, 2.0, shape)),
    "unit": Domain("unit", "in [0, 1)", lambda x: 0 <= x < 1,
                   lambda rng, shape: rng.uniform(0.0, 0.95, shape)),
    "probability": Domain("probability", "in (0, 1)", lambda x: 0 < x < 1,
                          lambda rng, shape: rng.uniform(0.05, 0.95, shape)),
    "count": Domain("count", "an integer >= 0", lambda x: float(x).is_integer() and x >= 0,
                    lambda rng, shape: rng.integers(0, 5, shape).astype(np.float64)),
    # 1, 2 or 3: the first step of a recurrence is often special (b_1 = g_1), and the next two are not
    "step": Domain("step", "an integer >= 1", lambda x: float(x).is_integer() and x >= 1,
                   lambda rng, shape: rng.integers(1, 4, shape).astype(np.float64)),
}


def _column(shape: tuple) -> int:
    """The length of a vector of ``shape`` (``(k,)`` or ``(k, 1)``); a ValueError for anything else."""
    if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1):
        return shape[0]
    raise ValueError(f"a vector domain takes a vector, not an array of shape {shape}")


def _is_vector(x: np.ndarray) -> bool:
    return x.ndim == 1 or (x.ndim == 2 and x.shape[1] == 1)


def _simplex(x: np.ndarray) -> bool:
    return _is_vector(x) and bool(np.all(x >= 0)) and abs(float(np.sum(x)) - 1.0) <= 1e-9 * max(1, x.size)


def _onehot(x: np.ndarray) -> bool:
    return _is_vector(x) and bool(np.all((x == 0) | (x == 1))) and int(np.sum(x == 1)) == 1


def _spd(x: np.ndarray) -> bool:
    if x.ndim != 2 or x.shape[0] != x.shape[1] or not np.allclose(x, x.T, rtol=1e-12, atol=1e-12):
        return False
    try:
        np.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        return False
    return True


def _draw_simplex(rng, shape):
    """Dirichlet(2, ..., 2): every entry inside (0, 1), none at an edge."""
    return rng.dirichlet(np.full(_column(shape), 2.0)).reshape(shape)


def _draw_onehot(rng, shape):
    out = np.zeros(_column(shape))
    out[rng.integers(_column(shape))] = 1.0
    return out.reshape(shape)


def _draw_spd(rng, shape):
    """A A^T / k + I / 2 for a normal A: symmetric, eigenvalues at least 1/2, entries about 1."""
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"spd takes a square matrix, not an array of shape {shape}")
    a = rng.normal(0.0, 1.0, shape)
    return a @ a.T / shape[0] + 0.5 * np.eye(shape[0])


#: The domains of a whole array.
DOMAINS.update({
    "simplex": Domain("simplex", "a probability vector: entries >= 0 that sum to 1", _simplex, _draw_simplex, True),
    "onehot": Domain("onehot", "a one-hot vector: one entry 1, the others 0", _onehot, _draw_onehot, True),
    "spd": Domain("spd", "a symmetric positive definite matrix", _spd, _draw_spd, True),
})


def concrete_shape(shape: Sequence, sizes: Mapping) -> tuple[int, ...]:
    """An input's ``shape`` (size symbols such as ``n``, and integers) at ``sizes`` (``{n: 3}``)."""
    return tuple(int(sizes[d]) if isinstance(d, sp.Symbol) else int(d) for d in shape)


def random_values(inputs, sizes: Mapping, rng: np.random.Generator) -> dict:
    """Random float64 values for ``inputs`` (:class:`~symdl.model.reference.Input`), inside each one's domain,
    at the given sizes, drawn in the inputs' order."""
    return {inp.name: DOMAINS[inp.domain].sample(concrete_shape(inp.shape, sizes), rng) for inp in inputs}
