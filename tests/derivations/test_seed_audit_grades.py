"""The seed audit's grades of issue 15: the seven re-examined and the claims once skipped.

Each grade follows from its checks (the verdict is what the outcomes give, and it changes when the deciding
check does), and each check that refutes the student is held against a computation of this test's own, in
PyTorch or numpy, that shares nothing with the audit's.
"""

import re
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "derivations"))

import seed_audit  # noqa: E402
from _audit import q2_adaptive, q2_nonmono, q2_sgd, q3_checks, q3_latent  # noqa: E402
from _audit.q2_momentum import _usual_betas  # noqa: E402
from _audit.cells import mixed_cell  # noqa: E402
from _audit.findings import num  # noqa: E402
from _audit.sections import plain  # noqa: E402
from _audit.summary import evidence_line, first_sentence, summary_table  # noqa: E402

from symdl.document.derivation import TeX, prose  # noqa: E402

#: The grades issue 15 asked to re-examine (after), and the claims it asked to grade: key -> grade.
CHANGED = {"2.classes": "correct", "2.classwhy": "imprecise", "2.early": "imprecise", "2.accum": "incorrect",
           "2.likegd": "incorrect", "2.cost": "incorrect", "2.nonmono": "incorrect", "2.decay": "correct",
           "3.h": "imprecise", "3.maximise": "incorrect", "3.vae": "imprecise"}
ADDED = {"2.optimum": "imprecise", "2.sparse": "incorrect", "2.lowest": "incorrect", "2.direction": "incorrect",
         "2.usual": "correct", "2.eps": "correct", "2.rmsmom": "correct", "2.general": "imprecise",
         "3.determin": "incorrect", "3.nokl": "imprecise", "3.piecewise": "correct"}


@pytest.fixture(scope="module")
def grades():
    return {c.key: (c, verdict, checks) for c, verdict, checks in seed_audit.graded()}


# -- each grade follows from its checks -----------------------------------------------------------------


@pytest.mark.parametrize("key, want", sorted({**CHANGED, **ADDED}.items()))
def test_the_grade_is_what_the_checks_give(grades, key, want):
    c, verdict, checks = grades[key]
    assert verdict == want == seed_audit.verdict_of(c.findings, checks)
    assert all(ch.made and ch.passed for ch in checks)
    deciding = {"incorrect": "fails", "imprecise": "loose", "correct": "holds"}[want]
    assert any(f.kind == deciding for f in c.findings)


@pytest.mark.parametrize("key", sorted({**CHANGED, **ADDED}))
def test_the_grade_changes_when_a_deciding_check_does(grades, key):
    """Were a deciding check refuted, the claim would be undecided (and the build would fail); without the
    findings of the deciding kind, the grade would be another: the check decides, not the label."""
    c, verdict, checks = grades[key]
    deciding = {"incorrect": "fails", "imprecise": "loose", "correct": "holds"}[verdict]
    for i, f in enumerate(c.findings):
        if f.kind != deciding:
            continue
        refuted = checks[:i] + (replace(checks[i], passed=False),) + checks[i + 1:]
        assert seed_audit.verdict_of(c.findings, refuted) == seed_audit.UNDECIDED
    rest = [(f, ch) for f, ch in zip(c.findings, checks) if f.kind != deciding]
    without = seed_audit.verdict_of(tuple(f for f, _ in rest), tuple(ch for _, ch in rest))
    assert without != verdict


def test_split_claims_have_parts_with_different_grades(grades):
    assert grades["2.classes"][1] != grades["2.classwhy"][1]
    assert {grades[k][1] for k in ("2.early", "2.accum", "2.likegd")} == {"imprecise", "incorrect"}
    assert (grades["2.nonmono"][1], grades["2.decay"][1]) == ("incorrect", "correct")


def test_tally(grades):
    counts = seed_audit.tally()
    assert len(grades) == 54 and counts == {"correct": 18, "imprecise": 20, "incorrect": 16, "not graded": 0,
                                            "undecided": 0}


# -- the checks that refute the student, held against independent computations ---------------------------


def test_rmsprop_refuses_sparse_gradients_and_adagrad_takes_them():
    import torch

    emb = torch.nn.Embedding(5, 3, sparse=True)
    emb(torch.tensor([0, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        torch.optim.RMSprop(emb.parameters()).step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.optim.Adagrad(emb.parameters()).step()
    assert "refuses" in q2_adaptive._sparse_refused()[1]


def test_rmsprop_keeps_less_state_than_adam():
    import torch

    sizes = {}
    for make in (torch.optim.RMSprop, torch.optim.Adam):
        p = torch.nn.Parameter(torch.ones(4))
        opt = make([p])
        p.sum().backward()
        opt.step()
        sizes[make.__name__] = sum(v.numel() for v in opt.state[p].values() if v.shape == p.shape)
    assert sizes["RMSprop"] < sizes["Adam"]
    ok, detail, _ = q2_adaptive._cost()
    assert ok and "costs less" in detail


def test_a_decay_keeps_the_direction_of_torchs_sgd_step():
    import torch

    steps = []
    for lr in (0.1, 0.025):
        torch.manual_seed(0)
        w = torch.nn.Parameter(torch.randn(6, dtype=torch.float64))
        opt = torch.optim.SGD([w], lr=lr, momentum=0.9)
        before = []
        for _ in range(3):  # the same gradients, so the same buffer, for both rates
            opt.zero_grad()
            w.grad = torch.arange(1.0, 7.0, dtype=torch.float64)
            before.append(w.detach().clone())
            opt.step()
        steps.append((w.detach() - before[-1]).numpy())
    cosine = steps[0] @ steps[1] / (np.linalg.norm(steps[0]) * np.linalg.norm(steps[1]))
    assert cosine == pytest.approx(1, abs=1e-12) and np.linalg.norm(steps[1]) < np.linalg.norm(steps[0])
    assert q2_nonmono._direction_kept()[0]


def _awd_lstm_rate(losses, nonmono, rate=0.1, decay=4.0):
    """The rule as AWD-LSTM's training loop writes it, after the last epoch."""
    e = len(losses)
    if e > nonmono and losses[-1] > min(losses[:-nonmono]):
        return rate / decay
    return rate


def test_not_greater_is_not_the_lowest_yet():
    losses = [1.0, 0.9, 0.95]
    assert _awd_lstm_rate(losses, 2) == 0.1 == q2_nonmono.rate_after(losses, 2)  # the rate is kept ...
    assert losses[-1] > min(losses)  # ... though the loss is not the lowest yet
    assert q2_nonmono._not_lowest()[0]


def test_the_seeds_reading_of_nonmono_decays_where_the_rule_does_not():
    losses = [1.0, 0.9, 0.5, 0.6]
    seed_reading = 0.1 / 4 if losses[-1] > min(losses[:-1]) else 0.1
    assert _awd_lstm_rate(losses, 2) == 0.1 != seed_reading
    assert _awd_lstm_rate([1.0, 0.9, 1.2], 1) == 0.025 == q2_nonmono.rate_after([1.0, 0.9, 1.2], 1)


def _per_sample_gradients(w):
    """Per-sample gradients of the audit's least-squares problem, by torch autograd."""
    import torch

    X, y, _, _ = q2_sgd._noise_problem()
    wt = torch.tensor(w, requires_grad=True)
    rows = []
    for x_i, y_i in zip(torch.tensor(X), torch.tensor(y)):
        (g,) = torch.autograd.grad(0.5 * (x_i @ wt - y_i) ** 2, wt)
        rows.append(g.numpy())
    return np.array(rows)


def test_far_from_the_optimum_one_sample_is_not_gds_step():
    _, _, _, w_far = q2_sgd._noise_problem()
    g = _per_sample_gradients(w_far)
    mean = g.mean(0)
    miss = np.sqrt(np.mean(np.sum((g - mean) ** 2, 1))) / np.linalg.norm(mean)
    assert miss > 2  # a one-sample step misses GD's by more than twice GD's length
    assert q2_sgd._not_comparable()[0] and num(miss) in q2_sgd._not_comparable()[1]


def test_sgd_accumulates_nothing_and_its_noise_depends_on_where():
    import torch

    w = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    assert not opt.state[w]  # plain SGD keeps no state from step to step
    X, y, _, w_far = q2_sgd._noise_problem()
    w_opt = np.linalg.lstsq(X, y, rcond=None)[0]
    near = w_opt + 0.01 * (w_far - w_opt) / np.linalg.norm(w_far - w_opt)
    ratios = []
    for point in (near, w_far):
        g = _per_sample_gradients(point)
        ratios.append(np.linalg.norm(g.mean(0)) / np.sqrt(np.mean(np.sum((g - g.mean(0)) ** 2, 1))))
    assert ratios[0] < 0.1 < ratios[1]
    assert q2_sgd._noise_not_accumulated()[0]


def test_constant_step_sgd_stalls_where_gd_converges():
    import torch

    X, y, w_star = (torch.tensor(a) for a in q2_sgd._run_problem())
    torch.manual_seed(1)

    def excess(w):
        return float(0.5 * ((X @ w - y) ** 2).mean() - 0.5 * ((X @ w_star - y) ** 2).mean())

    w = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    opt = torch.optim.SGD([w], lr=0.05)
    for k in torch.randint(0, len(y), (200 * 15,)):
        opt.zero_grad()
        (0.5 * (X[k] @ w - y[k]) ** 2).backward()
        opt.step()
    assert excess(w.detach()) > 1e-6
    assert q2_sgd._noise_ball()[0] and q2_sgd._decaying_converges()[0]


def test_maximising_the_nce_loss_lowers_the_positive_score():
    import torch

    torch.manual_seed(2)
    a = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)  # the positive pair's similarity / tau
    negatives = torch.randn(4, dtype=torch.float64)
    h = torch.exp(a) / (torch.exp(a) + torch.exp(negatives).sum())
    loss = -torch.log(h)
    (grad,) = torch.autograd.grad(loss, a)
    a_up = a.detach() + 0.1 * grad  # an ascent step on the loss
    h_up = torch.exp(a_up) / (torch.exp(a_up) + torch.exp(negatives).sum())
    assert grad < 0 and h_up < h.detach()
    assert "minimised" in q3_checks._nce_not_maximised()[1]


def test_the_seeds_h_is_a_score_but_not_pirls():
    import torch

    rng = np.random.default_rng(3)
    v_I, v_It, negs = (torch.tensor(rng.normal(size=s)) for s in (4, 4, (3, 4)))
    cos = torch.nn.functional.cosine_similarity
    seed = torch.softmax(torch.cat([cos(v_I, v_It, dim=0)[None], cos(v_I[None], negs)]) / 0.5, 0)[0]
    pirl = torch.softmax(torch.cat([cos(v_I, v_It, dim=0)[None], cos(v_It[None], negs)]) / 0.5, 0)[0]
    assert 0 < float(seed) < 1 and abs(float(seed - pirl)) > 1e-3
    assert float(q3_checks.seed_h(v_I.numpy(), v_It.numpy(), negs.numpy(), 0.5)) == pytest.approx(float(seed))


def test_the_free_energy_is_below_the_minimum_at_every_finite_beta():
    import torch

    E = torch.tensor([0.04, 0.0, 0.16], dtype=torch.float64)
    for beta in (1.0, 10.0, 100.0):
        assert float(-torch.logsumexp(-beta * E, 0) / beta) < float(E.min())
    ok, detail, _ = q3_checks._no_deterministic_free_energy(tuple(c.seed for c in seed_audit.CLAIMS if c.key in
                                                                      ("3.joint", "3.marginal", "3.freegibbs", "3.free")))
    assert ok and "none of the seed's 4 formulas" in detail
    assert not q3_checks._no_deterministic_free_energy((r"F(x, y) = \min_z E(x, y, z)",))[0]


def test_a_divergence_of_a_point_grows_without_bound():
    from torch.distributions import Normal, kl_divergence

    kls = [float(kl_divergence(Normal(0.5, s), Normal(0.0, 1.0))) for s in (1e-2, 1e-4, 1e-8)]
    assert kls[0] < kls[1] < kls[2] and kls[2] - kls[1] == pytest.approx(np.log(1e4), rel=1e-6)
    assert q3_latent._kl_of_a_point()[0] and q3_latent._vae_terms()[0]


def test_the_audits_adam_is_torchs_adam():
    import torch

    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(6, 4)), rng.normal(size=6)
    w = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    opt = torch.optim.Adam([w], lr=0.003)
    for _ in range(50):
        opt.zero_grad()
        (0.5 * ((torch.tensor(X) @ w - torch.tensor(y)) ** 2).mean()).backward()
        opt.step()
    np.testing.assert_allclose(q2_adaptive._adam_fit(X, y, 50, 0.003), w.detach().numpy(), rtol=1e-10)


def test_adams_first_moment_follows_the_recurrence_of_torchs_momentum_buffer():
    import torch

    g = torch.tensor(np.random.default_rng(5).normal(size=(6, 3)))
    p, q = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64)), torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    sgd, adam = torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.9), torch.optim.Adam([q], betas=(0.9, 0.999))
    buffers, moments = [], []
    for row in g:
        p.grad, q.grad = row.clone(), row.clone()
        sgd.step()
        adam.step()
        buffers.append(sgd.state[p]["momentum_buffer"].clone())
        moments.append(adam.state[q]["exp_avg"].clone())
    for t in range(1, len(g)):  # after the first step both follow m_t = 0.9 m_(t-1) + 0.1 g_t
        for seq in (buffers, moments):
            np.testing.assert_allclose(seq[t] - 0.9 * seq[t - 1], 0.1 * g[t], rtol=1e-12)
    assert q2_adaptive._first_moment_is_momentum()[0] and q2_adaptive._adam_without_momentum()[0]


def test_zero_epsilon_leaves_torchs_rmsprop_undefined_at_a_zero_gradient():
    import torch

    for eps, finite in ((0.0, False), (1e-7, True)):
        w = torch.nn.Parameter(torch.ones(2))
        opt = torch.optim.RMSprop([w], eps=eps)
        w.grad = torch.zeros(2)
        opt.step()
        assert bool(torch.isfinite(w).all()) is finite
    assert q2_adaptive._eps()[0]


def test_momentum_of_09_is_stable_up_to_38():
    for gl, stable in ((3.7, True), (3.9, False)):
        w, w_prev = 1.0, 1.0
        for _ in range(2000):
            w, w_prev = w - gl * w + 0.9 * (w - w_prev), w
        assert (abs(w) < 1e-6) is stable
    assert _usual_betas()[0]


def test_expected_share_of_classes_by_enumeration():
    from itertools import product

    K = 4
    batches = list(product(range(K), repeat=K))
    share = sum(len(set(b)) for b in batches) / (len(batches) * K)
    assert share == pytest.approx(q2_sgd.expected_share(K, K), rel=1e-12)


def test_one_atom_sparse_code_is_soft_thresholding():
    w = np.array([[2.0], [1.0]])
    Y = np.array([[0.1, 0.0], [1.0, 0.5], [-3.0, 1.0]])
    Z = q3_latent._lasso_codes(w, Y, 0.5)
    a, c = Y @ w[:, 0], float(w[:, 0] @ w[:, 0])
    want = np.sign(a) * np.maximum(np.abs(a) - 0.25, 0) / c  # argmin ||y - w z||^2 + 0.5 |z|
    np.testing.assert_allclose(Z[:, 0], want, atol=1e-12)


# -- the document: a grade beside its checks, never a contradiction ---------------------------------------


def test_the_table_says_the_grade_and_the_checks_apart(grades):
    table = summary_table()
    assert table.header == ("answer", "the seed says", "grade", "evidence", "see")
    assert len(table.rows) == len(grades)
    for row, (key, (c, verdict, checks)) in zip(table.rows, grades.items()):
        assert row[0].split()[0] == key
        grade, evidence = row[2], row[3]
        assert isinstance(grade, TeX) and r"\boxed{\text{%s}}" % verdict in grade and "checks hold" in grade
        assert isinstance(evidence, TeX)
        line = evidence_line(c, verdict, checks)
        assert not re.match(r"(passed|check holds|holds)\b", line, re.I), line  # no outcome beside a grade
        assert row[4].startswith(f"q{c.question}")


def test_the_words_of_the_table_hold_no_markup(grades):
    for c, _, _ in grades.values():
        assert not re.search(r"[_^\\$]|sigma\(|\w\(t", c.says), c.says
        for f in c.findings:  # descriptions: mathematics only between dollar signs
            assert not re.search(r"_\{|\^\{|_\(", re.sub(r"\$[^$]*\$", "", plain(f.spec.description))), f.spec.description


def test_every_evidence_is_typeset_through_the_checked_path(grades):
    for c, verdict, checks in grades.values():
        prose(seed_audit.evidence(c, checks))  # raises on a command off the whitelist
        prose(c.repairs)
        outside = re.sub(r"\$[^$]*\$", "", evidence_line(c, verdict, checks))
        assert not re.search(r"\\[A-Za-z]|_\{|\^\{", outside), (c.key, outside)


def test_first_sentence_stops_outside_mathematics():
    assert first_sentence("a $0.5. x$ b. c") == "a $0.5. x$ b"
    assert first_sentence("no stop") == "no stop"


def test_mixed_cells_wrap_words_and_keep_mathematics_whole():
    cell = mixed_cell("the ratio is $\\frac{a}{b} = 0.42$ far away, and the words wrap to the column", 20)
    assert cell.startswith(r"\begin{aligned}[t]") and cell.count(r"\\") >= 2
    assert r"{\frac{a}{b} = 0.42}" in cell  # the formula whole, in one line
    words = " ".join(re.findall(r"\\text\{([^}]*)\}", cell)).split()
    assert words == "the ratio is far away, and the words wrap to the column".split()
    with pytest.raises(ValueError):
        mixed_cell("a {brace}", 20)


def test_references_are_named_in_the_ledger_not_in_the_reader_text():
    assert plain("symdl.check: the seed's form is equivalent to optim.adam") == "the seed's form equals the reference"
    assert plain("the rate on each side (optim.lr_decay_nonmono)") == "the rate on each side"
