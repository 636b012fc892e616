"""Fused row kernels: a derived sum of scaled matrices printed as one numba pass over rows."""
