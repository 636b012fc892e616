"""How a result is held true: check specs and their builders, bounded proofs, independent oracles."""
