"""Batch grading (moved to :mod:`symdl.run.batch`; this path stays for the README's users)."""

from .run.batch import Task, grade, read_tasks, run_batch

__all__ = ["Task", "grade", "read_tasks", "run_batch"]
