"""The student's answers, each a Claim graded by its findings: question 1's, 2's and 3's in their own modules."""

from __future__ import annotations

from symdl.grade.rubric import Claim

from _audit.claims_q1 import Q1, SEED_JACOBIAN_READ
from _audit.claims_q2 import Q2
from _audit.claims_q3 import Q3

__all__ = ["CLAIMS", "SEED_JACOBIAN_READ"]

CLAIMS: tuple[Claim, ...] = Q1 + Q2 + Q3
