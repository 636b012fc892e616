"""The parts of derivations/seed_audit.py, the seed audit (a private package: symdl loads only
derivations/*.py whose name does not start with ``_`` as documents).
"""
