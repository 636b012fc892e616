"""symdl's verdict on each hand form of :mod:`hand_forms` matches its truth, computed there in torch.

A correct form must be ``equivalent`` and a wrong one ``not_equivalent``: a false verdict either way
costs a student marks.  The only refusals allowed are the notations still refused, each with a message
that names the notation and says how to write it.
"""

import pytest
from hand_forms import FORMS, truth

from symdl.grade.check import check


@pytest.mark.parametrize("form", FORMS, ids=[f"{k}-{f.against}" for k, f in enumerate(FORMS)])
def test_verdict_matches_the_torch_truth(form):
    correct = truth(form)
    verdict = check(form.latex, against=form.against, timeout=1)
    if form.refused is not None:
        assert correct  # a refusal is listed only for correct notation symdl does not read yet
        assert verdict.verdict == "error" and form.refused in verdict.message, verdict.message
        return
    assert verdict.verdict == ("equivalent" if correct else "not_equivalent"), verdict.message
    if form.note is not None:
        assert form.note in verdict.message and verdict.details["notes"]


def test_the_corpus_is_measured_across_topics_correct_and_wrong():
    truths = [truth(f) for f in FORMS]
    assert len(FORMS) >= 80 and 30 <= sum(truths) <= len(FORMS) - 30
    assert {f.against.split(".")[0] for f in FORMS} == {"rnn", "lstm", "optim", "ebm", "latent", "contrastive"}
