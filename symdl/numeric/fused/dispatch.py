"""Whether a call takes the fused kernel: :func:`wrap` around the ordinary compiled function.

The fused kernel is used by :func:`symdl.numeric.compile.compile_expr` when numba is
installed (the ``fast`` extra), the result has at least :data:`MIN_ENTRIES`
entries, and the inputs are real float32/float64 arrays on the CPU that
autograd does not need to record.  Anything else takes the ordinary path,
which computes the same expression.  ``SYMDL_FUSED=never`` (or ``always``)
overrides the choice; so does setting :data:`MODE`.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np

from . import cache
# ROWS (rows a pass of the loop) is read here when wrap plans, so that setting dispatch.ROWS, like MODE, takes effect
from .plan import ROWS, Plan, plan, terms_of

#: "auto" (large results, numba installed), "always" (whenever the inputs allow), "never".
MODE = os.environ.get("SYMDL_FUSED", "auto")
#: Smallest result (rows x columns) for which "auto" uses the fused kernel.
MIN_ENTRIES = 128 * 128


def _cache_dir() -> Path:
    """Where printed kernels are cached: ``$XDG_CACHE_HOME/symdl/kernels`` (``~/.cache`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symdl" / "kernels"


def load(source: str):
    """The kernel printed in ``source``, through the user's kernel cache."""
    return cache.load(source, _cache_dir())


def wrap(fn, expr, inputs, dims, compile_column):
    """``fn`` (the ordinary compiled function), calling the fused kernel instead where it applies.

    ``compile_column(c)`` compiles a vector the kernel reads by column (numpy, the same signature as ``fn``).
    """
    found = terms_of(expr, inputs)
    if found is None:
        return fn
    first = list(inputs).index(found[0][0][2])  # the input index of one X: its shape is the result's
    ndims = len(dims)
    kernel = _Kernel(expr, inputs, compile_column)

    def call(_like, *args):
        x = args[ndims + first]
        arrays = _fusible(x, args[ndims:])
        out = None if arrays is None else kernel(arrays, args[:ndims], x.shape)
        if out is None:
            return fn(_like, *args)
        if isinstance(x, np.ndarray):
            return out
        import torch

        return torch.from_numpy(out)

    call.__wrapped__ = fn
    return call


class _Kernel:
    """The plan of one expression, made, loaded and compiled at its first fused call; ``None`` once it failed."""

    def __init__(self, expr, inputs, compile_column):
        self.expr, self.inputs, self.compile_column = expr, inputs, compile_column
        self.plan: Plan | None = None
        self.failed = False

    def __call__(self, arrays, dimvals, shape):
        """The result, or ``None`` when the expression has no kernel (then the ordinary path runs)."""
        if self.failed:
            return None
        if self.plan is None:
            self.plan = plan(self.expr, self.inputs, ROWS)
            self.failed = self.plan is None
            if self.failed:
                return None
        p = self.plan
        if p.kernel is not None:
            return _run(p, arrays, dimvals, shape)
        try:
            p.kernel = load(p.source)
            p.columns_fn = [self.compile_column(c) for c in p.columns]
            return _run(p, arrays, dimvals, shape)
        except Exception as exc:  # a kernel that does not compile must not cost the user the result
            self.failed = True
            warnings.warn(f"symdl: the fused kernel did not compile ({type(exc).__name__}: {exc}); "
                          "the ordinary code computes this expression", RuntimeWarning, stacklevel=3)
            return None


def _fusible(x, values):
    """The inputs as numpy arrays when this call may take the kernel (mode, size, numba, dtypes), else None."""
    mode = MODE
    shape = getattr(x, "shape", ())
    if mode == "never" or len(shape) != 2 or (mode != "always" and shape[0] * shape[1] < MIN_ENTRIES):
        return None
    if not cache.numba_available():
        return None
    return _as_numpy(values)


def _as_numpy(values):
    """The inputs as numpy arrays of one real float dtype, or ``None`` (then the ordinary path runs)."""
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
    cols = [np.ascontiguousarray(f(arrays[0], *dimvals, *arrays).reshape(-1)) for f in p.columns_fn]
    mats = [np.ascontiguousarray(arrays[k]) for k in p.matrices]
    vecs = [np.ascontiguousarray(arrays[k].reshape(-1)) for k in p.vectors]
    scal = [float(arrays[k].reshape(())) for k in p.scalars]
    if p.square and shape[0] != shape[1]:
        raise ValueError(f"a diagonal term needs a square result, got {shape}")
    out = np.empty(shape, dtype=arrays[0].dtype)
    p.kernel(out, *mats, *vecs, *cols, *scal)
    return out
