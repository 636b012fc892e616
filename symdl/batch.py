"""Batch grading (moved to :mod:`symdl.run.batch`; this path stays for the README's users)."""

from .run.batch import grade
from .run.command import run_batch
from .run.lines import Task, read_tasks

__all__ = ["Task", "grade", "read_tasks", "run_batch"]
