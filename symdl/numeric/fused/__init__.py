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

Nothing here is written for a particular reference.  The pieces, in the order a call meets them:

- :mod:`.dispatch` -- :func:`wrap`: whether a call takes the kernel (``SYMDL_FUSED``, :data:`dispatch.MODE`);
- :mod:`.plan` -- :func:`.plan.plan`: reads the expression into scalar code at row ``i``;
- :mod:`.source` -- prints that code as a numba function;
- :mod:`.cache` -- imports the printed module from a private cache folder, so numba's own cache
  keeps the machine code between processes;
- :mod:`.runtime` -- the scalar functions the kernels call (imports numba).
"""

from .dispatch import load, wrap
from .plan import Plan

__all__ = ["Plan", "load", "wrap"]  # not plan(): the name stays the module's, symdl.numeric.fused.plan
