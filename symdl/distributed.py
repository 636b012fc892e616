"""Batch grading on Dask (moved to :mod:`symdl.run.distributed`; this path stays for the README's users)."""

from .run.distributed import grade_chunk, grade_dask

__all__ = ["grade_chunk", "grade_dask"]
