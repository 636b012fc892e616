"""How many of the hand forms in tests/grade/hand_forms.py symdl decides right (their truth is torch's).

    PYTHONPATH=. python benchmarks/hand_forms.py          # prints one line of counts, then each miss

"accepted correct a/b": correct forms answered ``equivalent``; "rejected wrong c/d": wrong forms answered
``not_equivalent``; "refused e": forms answered ``error`` (correct notation not read).  Issue 13 counted
42 of 80 right on its own corpus at 3eccb9f.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "grade"))

from hand_forms import FORMS, truth  # noqa: E402

from symdl.grade.check import check  # noqa: E402


def main() -> int:
    counts = {"correct": 0, "accepted": 0, "wrong": 0, "rejected": 0, "refused": 0}
    misses = []
    for form in FORMS:
        correct = truth(form)
        verdict = check(form.latex, against=form.against, timeout=1).verdict
        counts["correct" if correct else "wrong"] += 1
        counts["refused"] += verdict == "error"
        if verdict == ("equivalent" if correct else "not_equivalent"):
            counts["accepted" if correct else "rejected"] += 1
        else:
            misses.append(f"  {form.against}: {verdict} (truth: {'correct' if correct else 'wrong'}): {form.latex}")
    print(f"accepted correct {counts['accepted']}/{counts['correct']}, rejected wrong {counts['rejected']}/"
          f"{counts['wrong']}, refused {counts['refused']}")
    print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
