"""The scalar functions the fused row kernels call (see :mod:`symdl.numeric.fused`); imports numba.

Each is the numba spelling of a row of :data:`symdl.core.elementwise.SCALARS`,
compiled to be inlined into the kernel: a printed kernel binds the ones it
uses by name (``sigmoid = rt.FUNCTIONS["sigmoid"]``).
"""

import math
from types import FunctionType

import numba

from ...core.elementwise import spelled

#: Sums may be reassociated (the dot products vectorise) and fused into FMAs;
#: nothing else of IEEE arithmetic is relaxed (no assumptions about inf or NaN).
FASTMATH = {"reassoc", "contract"}


def _inlined(fn):
    """``fn`` compiled to be inlined; a built-in (``math.tanh``, ``abs``) is wrapped in a Python function first."""
    if not isinstance(fn, FunctionType):
        builtin = fn
        fn = lambda x: builtin(x)  # noqa: E731
    return numba.njit(inline="always")(fn)


#: The table's functions by name, compiled for the kernels.
FUNCTIONS = {name: _inlined(fn) for name, fn in spelled("numba", math).items()}
