"""Scalar helpers the fused row kernels call (see :mod:`symdl.numeric.fused.plan`); imports numba.

Each helper is the scalar form of the array operation of the same name in
:mod:`symdl.numeric.ops_numpy`, written the same way (``sigmoid`` through ``tanh``,
so it does not overflow for large ``|x|``).
"""

import math

import numba

#: Sums may be reassociated (the dot products vectorise) and fused into FMAs;
#: nothing else of IEEE arithmetic is relaxed (no assumptions about inf or NaN).
FASTMATH = {"reassoc", "contract"}


@numba.njit(inline="always")
def sigmoid(x):
    return 0.5 * (1.0 + math.tanh(0.5 * x))


@numba.njit(inline="always")
def sigmoid_prime(x):
    s = 0.5 * (1.0 + math.tanh(0.5 * x))
    return s * (1.0 - s)


@numba.njit(inline="always")
def tanh_prime(x):
    t = math.tanh(x)
    return 1.0 - t * t


@numba.njit(inline="always")
def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@numba.njit(inline="always")
def sign(x):
    return (x > 0) - (x < 0)
