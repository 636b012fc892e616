"""The seed audit: claims graded by symdl.check, the known errors found, sections for the worked solutions."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "derivations"))

import seed_audit  # noqa: E402

from symdl.derivation import Derivation, Section, Table, TeX  # noqa: E402


@pytest.fixture(scope="module")
def grades():
    return {c.key: (c, grade, evidence) for c, grade, evidence in seed_audit.graded()}


def test_known_errors_are_graded_incorrect_with_a_counterexample(grades):
    for key in ("1.jacobian", "1.candidate", "2.adam", "3.grad2"):
        c, grade, evidence = grades[key]
        assert grade == "incorrect", (key, evidence)
        assert "not equivalent to " + c.against in evidence and "the reference" in evidence
    grade, evidence = grades["2.negative"][1:]
    assert grade == "incorrect" and "not equivalent to optim.heavy_ball" in evidence and "w_{t-1}" in evidence


def test_right_equations_are_graded_correct_by_the_checker(grades):
    for key in ("1.rnn", "1.eq1", "1.eq2", "2.heavy", "2.rmsprop", "3.free", "3.nll", "3.nce"):
        c, grade, evidence = grades[key]
        assert grade == "correct" and f"equivalent to {c.against}" in evidence, (key, evidence)


def test_every_claim_is_graded_and_repairs_are_noted(grades):
    assert len(grades) >= 35
    assert {g for _, g, _ in grades.values()} == set(seed_audit.GRADES)
    assert "Transcription" in grades["1.cand"][2] and "\\tanh" in grades["1.cand"][2]
    assert "minus" in grades["2.heavy"][2] and "minus" in grades["3.kmeans"][2]


def test_derivation_and_sections():
    d = seed_audit.derivation()
    assert isinstance(d, Derivation) and d.slug == "seed-audit" and len(d.sections) == 4
    s = seed_audit.audit_section(2)
    assert isinstance(s, Section) and "question 2" in s.title
    table = next(b for b in s.blocks if isinstance(b, Table))
    keys = [row[0].split()[0] for row in table.rows]
    assert keys == [c.key for c in seed_audit.CLAIMS if c.question == 2]
    assert any(isinstance(cell, TeX) for row in table.rows for cell in row)
    with pytest.raises(ValueError):
        seed_audit.audit_section(4)
