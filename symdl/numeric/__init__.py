"""Numbers from derived expressions: one printed code for numpy and torch, fused row kernels."""
