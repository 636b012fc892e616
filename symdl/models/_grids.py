"""Numbers on finite grids, for the references of seed question 3, on the numpy or torch backend.

REFERENCES.md reads integrals as sums over finite grids.  These helpers take
a grid as an array (one point per row), call an abstract function once per
point, and normalise with a stable log-sum-exp that also carries numpy's
complex step.  Bad input raises :class:`~symdl.model.reference.EvaluationError`
naming the key.
"""

from __future__ import annotations

import numpy as np

from ..model.reference import EvaluationError
from ..verify.spec import RTOL, CheckSpec, compare_trials


def _torch(backend):
    return backend == "torch"


def asarray(v, backend):
    if _torch(backend):
        import torch

        return v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v, dtype=np.float64))
    v = np.asarray(v)
    return v.astype(np.result_type(v.dtype, np.float64), copy=False)


def scalar(v, backend):
    return asarray(v, backend).reshape(())


def stack(vals, backend):
    if _torch(backend):
        import torch

        return torch.stack([scalar(v, backend) for v in vals])
    return np.stack([scalar(v, backend) for v in vals])


def logsumexp(a, backend):
    """A stable log-sum-exp along the last axis; for numpy it also carries a complex step."""
    if _torch(backend):
        import torch

        return torch.logsumexp(a, -1)
    top = np.max(a.real, axis=-1, keepdims=True)
    return np.log(np.sum(np.exp(a - top), axis=-1)) + top[..., 0]


def grid(ref_name: str, values, key: str, backend):
    """The grid ``values[key]``, one point per row; an empty grid is an error that names it."""
    g = asarray(values[key], backend)
    if g.ndim == 0 or g.shape[0] == 0:
        raise EvaluationError(f"{ref_name}: the grid {key!r} is empty (shape {tuple(g.shape)}); "
                              f"give at least one point, one per row")
    return g


def positive(ref_name: str, values, key: str) -> float:
    """``values[key]`` as a number > 0, or an error naming it."""
    v = values[key]
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise EvaluationError(f"{ref_name}: {key} must be a number, got {type(v).__name__}") from None
    if not f > 0 or not np.isfinite(f):
        raise EvaluationError(f"{ref_name}: invalid {key} value: {f} (must be > 0)")
    return f


def callable_of(ref_name: str, values, key: str):
    fn = values[key]
    if not callable(fn):
        raise EvaluationError(f"{ref_name}: {key!r} must be a callable of the backend, got {type(fn).__name__}")
    return fn


def energies(fn, head, g, backend):
    """``fn(*head, g[k])`` for every grid row ``k``."""
    return stack([fn(*head, g[k]) for k in range(g.shape[0])], backend)


def gradient_w(fn, head, wv, backend):
    """``d fn(*head, w) / dw`` at ``wv``: autograd (torch) or the complex step (numpy)."""
    if _torch(backend):
        import torch

        with torch.enable_grad():
            wt = wv if wv.requires_grad else wv.detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(scalar(fn(*head, wt), backend), wt, create_graph=wv.requires_grad)
        return g
    wv = np.asarray(wv, dtype=np.float64)
    out = np.empty(wv.shape)
    for j in np.ndindex(wv.shape):
        wc = wv.astype(np.complex128)
        wc[j] += 1e-30j
        val = np.asarray(fn(*head, wc))
        if np.iscomplexobj(val):
            out[j] = np.imag(val).reshape(()) / 1e-30
        else:
            eps = 1e-6 * max(1.0, abs(wv[j]))
            wp, wm = wv.copy(), wv.copy()
            wp[j] += eps
            wm[j] -= eps
            out[j] = (np.asarray(fn(*head, wp)).reshape(()) - np.asarray(fn(*head, wm)).reshape(())) / (2 * eps)
    return out


def _texp(a):
    import torch

    return torch.exp(a)


def exp(a, backend):
    return _texp(a) if _torch(backend) else np.exp(a)


def stack_rows(rows, backend):
    if _torch(backend):
        import torch

        return torch.stack(rows)
    return np.stack(rows)


def trials_check(method: str, description: str, make) -> CheckSpec:
    """A numeric or oracle check over the trials ``make()`` yields as ``(label, got, want)``."""
    return CheckSpec(method, description, lambda: compare_trials(list(make()), RTOL))


def both_backends(ref, values_of):
    """``(label, value)`` for the numpy and torch backends; ``values_of(backend)`` gives the values."""
    for backend in ("numpy", "torch"):
        out = ref.evaluate(values_of(backend), backend=backend)
        yield backend, np.asarray(out.detach() if hasattr(out, "detach") else out, dtype=np.float64)
