r"""check(): hand forms against references, with the verdicts a person would give them.

Each reference the checker reads gets correct forms written differently
(expanded, factored, aliased, as an equation) and wrong ones (a sign, a
missing term, the transposed layout, a wrong function).  Counterexamples are
held against torch (the oracles) and numpy, not against symdl's own values.
"""

import json

import numpy as np
import pytest
import sympy as sp

from symdl.cli import check as check_cli
from symdl.verify.oracles import recurrent as oracles
from symdl.grade.check import Verdict, check, format_counterexample
from symdl.model.registry import ref

GATE = r"W_{%sh} h_{t-1} + W_{%sx} x_t + b_%s"
U = {g: GATE % (g, g, g) for g in "figo"}
DH = r"\operatorname{diag}(o_{t-1} \odot \tanh'(c_{t-1}))"
FOUR = (r"\operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} \odot \sigma'(%s)) W_{fh} %s"
        r" + \operatorname{diag}(\tilde{c}_t \odot \sigma'(%s)) W_{ih} %s"
        r" + \operatorname{diag}(i_t \odot \tanh'(%s)) W_{gh} %s") % (U["f"], DH, U["i"], DH, U["g"], DH)
DC_DH = (r"\operatorname{diag}(c_{t-1} \odot \sigma'(%s)) W_{fh} + \operatorname{diag}(g_t \odot \sigma'(%s)) W_{ih}"
         r" + \operatorname{diag}(i_t \odot \tanh'(%s)) W_{gh}") % (U["f"], U["i"], U["g"])
TANH_C = r"\operatorname{diag}(o_t \odot \tanh'(c_t))"
STATE = (r"\begin{bmatrix} \operatorname{diag}(f_t) & %s \\ %s \operatorname{diag}(f_t) & "
         r"\operatorname{diag}(\tanh(c_t) \odot \sigma'(%s)) W_{oh} + %s (%s) \end{bmatrix}"
         % (DC_DH, TANH_C, U["o"], TANH_C, DC_DH))
STATE_SWAPPED = (r"\begin{bmatrix} \operatorname{diag}(f_t) & %s \operatorname{diag}(f_t) \\ %s & "
                 r"\operatorname{diag}(\tanh(c_t) \odot \sigma'(%s)) W_{oh} + %s (%s) \end{bmatrix}"
                 % (TANH_C, DC_DH, U["o"], TANH_C, DC_DH))

#: (reference, hand form, expected verdict)
FORMS = [
    ("rnn.state", r"\sigma(W_1 h_{t-1} + W_2 x_t)", "equivalent"),
    ("rnn.state", r"h_t = \sigma\left(\boldsymbol{W}_2 \boldsymbol{x}_t + \boldsymbol{W}_1 \boldsymbol{h}_{t-1}\right)",
     "equivalent"),
    ("rnn.state", r"\tanh(W_1 h_{t-1} + W_2 x_t)", "not_equivalent"),
    ("rnn.state", r"\sigma(W_1 h_{t-1} - W_2 x_t)", "not_equivalent"),
    ("rnn.state_jacobian", r"\operatorname{diag}(\sigma'(a_t)) W_1", "equivalent"),
    ("rnn.state_jacobian", r"\frac{\partial h_t}{\partial h_{t-1}} = \mathrm{diag}(\sigma'(W_1 h_{t-1} + W_2 x_t))"
                           r" \mathbf{W}_1", "equivalent"),
    ("rnn.state_jacobian", r"W_1^\top \operatorname{diag}(\sigma'(a_t))", "not_equivalent"),
    ("rnn.state_jacobian", r"\operatorname{diag}(\sigma(a_t)) W_1", "not_equivalent"),
    ("rnn.jacobian_product", r"\operatorname{diag}(\sigma'(a_{t+3})) W_1 \operatorname{diag}(\sigma'(a_{t+2})) W_1"
                             r" \operatorname{diag}(\sigma'(a_{t+1})) W_1", "equivalent"),
    ("rnn.jacobian_product", r"\frac{\partial h_{t+3}}{\partial h_t} = \operatorname{diag}(\sigma'(W_1 h_{t+2} + "
                             r"W_2 x_{t+3})) W_1 \operatorname{diag}(\sigma'(a_{t+2})) W_1 \cdot "
                             r"\operatorname{diag}(\sigma'(W_1 h_t + W_2 x_{t+1})) W_1", "equivalent"),
    ("rnn.jacobian_product", r"\operatorname{diag}(\sigma'(a_{t+1})) W_1 \operatorname{diag}(\sigma'(a_{t+2})) W_1"
                             r" \operatorname{diag}(\sigma'(a_{t+3})) W_1", "not_equivalent"),
    ("rnn.jacobian_product", r"\operatorname{diag}(\sigma'(a_{t+3})) W_1 \operatorname{diag}(\sigma'(a_{t+2})) W_1",
     "not_equivalent"),
    ("lstm.cell_update", r"f_t \odot c_{t-1} + i_t \odot g_t", "equivalent"),
    ("lstm.cell_update", r"c_t = \tilde{c}_t \odot i_t + c_{t-1} \odot \sigma(%s)" % U["f"], "equivalent"),
    ("lstm.cell_update", r"f_t \odot c_{t-1} - i_t \odot g_t", "not_equivalent"),
    ("lstm.cell_update", r"f_t \odot c_{t-1} + i_t \odot \sigma(%s)" % U["g"], "not_equivalent"),
    ("lstm.hidden", r"o_t \odot \tanh(c_t)", "equivalent"),
    ("lstm.hidden", r"h_t = \tanh(f_t \odot c_{t-1} + i_t \odot g_t) \odot o_t", "equivalent"),
    ("lstm.hidden", r"o_t \odot c_t", "not_equivalent"),
    ("lstm.hidden", r"o_{t-1} \odot \tanh(c_t)", "not_equivalent"),
    ("lstm.cell_jacobian", r"\frac{\partial c_t}{\partial c_{t-1}} = " + FOUR, "equivalent"),
    ("lstm.cell_jacobian", r"\operatorname{diag}(f_t) + \left[\operatorname{diag}(c_{t-1} \odot f_t \odot (1 - f_t))"
                           r" W_{fh} + \operatorname{diag}(g_t \odot i_t \odot (1-i_t)) W_{ih} + \operatorname{diag}"
                           r"(i_t \odot (1 - g_t^2)) W_{gh}\right] \operatorname{diag}(o_{t-1} \odot (1 - \tanh^2"
                           r"(c_{t-1})))", "equivalent"),
    ("lstm.cell_jacobian", r"\operatorname{diag}(f_t)", "not_equivalent"),
    ("lstm.cell_jacobian", FOUR.replace(r"\tanh'(%s)" % U["g"], r"\sigma'(%s)" % U["g"]), "not_equivalent"),
    ("lstm.cell_jacobian", FOUR.replace("W_{ih}", "W_{fh}").replace("W_{gh}", "W_{fh}"), "not_equivalent"),
    ("lstm.cell_jacobian", r"\left(" + FOUR + r"\right)^\top", "not_equivalent"),
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(f_t)", "equivalent"),
    ("lstm.cell_jacobian_direct", r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(\sigma(%s))" % U["f"],
     "equivalent"),
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(i_t)", "not_equivalent"),
    ("lstm.cell_jacobian_direct", FOUR, "not_equivalent"),
    ("lstm.state_jacobian", STATE, "equivalent"),
    ("lstm.state_jacobian", STATE.replace(r"%s (%s)" % (TANH_C, DC_DH), r"%s \cdot (%s)" % (TANH_C, DC_DH))
     .replace(r"\operatorname{diag}(f_t) &", r"\operatorname{diag}(\sigma(%s)) &" % U["f"]), "equivalent"),
    ("lstm.state_jacobian", STATE_SWAPPED, "not_equivalent"),
    ("lstm.state_jacobian", STATE.replace(r"\tanh(c_t) \odot", r"c_t \odot"), "not_equivalent"),
    ("optim.heavy_ball", r"w_{t+1} = w_t - \gamma_t \nabla f_i(w_t) + \beta_t (w_t - w_{t-1})", "equivalent"),
    ("optim.heavy_ball", r"(1 + \beta) w_t - \beta w_{t-1} - \eta g_t", "equivalent"),
    ("optim.heavy_ball", r"w_t - \gamma g_t + \beta (w_{t-1} - w_t)", "not_equivalent"),
    ("optim.heavy_ball", r"w_t - \gamma g_t", "not_equivalent"),
    ("optim.sgd_momentum_torch", r"\theta_t = \theta_{t-1} - \gamma b_t", "equivalent"),
    ("optim.sgd_momentum_torch", r"\theta_{t-1} - lr \cdot b_t", "equivalent"),
    ("optim.sgd_momentum_torch", r"\theta_{t-1} - \gamma (\mu b_{t-1} + (1 - \tau) g_t)", "not_equivalent"),
    ("optim.sgd_momentum_torch", r"\theta_{t-1} + \gamma b_t", "not_equivalent"),
    ("optim.rmsprop", r"w_{t+1} = w_t - \gamma \frac{\nabla f_i(w_t)}{\sqrt{v_{t+1}} + \epsilon}", "equivalent"),
    ("optim.rmsprop", r"w_t - \frac{\gamma g_t}{\sqrt{\alpha v_t + (1 - \alpha) g_t^2} + \epsilon}", "equivalent"),
    ("optim.rmsprop", r"w_t - \gamma \frac{g_t}{\sqrt{v_{t+1} + \epsilon}}", "not_equivalent"),
    ("optim.rmsprop", r"w_t - \gamma \frac{g_t}{v_{t+1} + \epsilon}", "not_equivalent"),
    ("optim.adam", r"w_{t+1} = w_t - \gamma \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}", "equivalent"),
    ("optim.adam", r"w_t - \gamma \frac{(\beta m_t + (1-\beta) g_t)/(1 - \beta^{t+1})}{\sqrt{\frac{\alpha v_t + "
                   r"(1-\alpha) g_t^2}{1-\alpha^{t+1}}} + \epsilon}", "equivalent"),
    ("optim.adam", r"w_{t+1} = w_t - \gamma \frac{m_t}{\sqrt{v_{t+1}} + \epsilon}", "not_equivalent"),
    ("optim.adam", r"w_t - \gamma \frac{m_{t+1}}{\sqrt{v_{t+1}} + \epsilon}", "not_equivalent"),
    ("optim.gd", r"\theta_{k+1} = \theta_k - \gamma \frac{1}{N}\sum_{i=1}^{N} \nabla \ell_i(\theta_k)", "equivalent"),
    ("optim.gd", r"\theta_k - \frac{\eta}{N}\sum_{i=1}^{N} \nabla \ell_i(\theta_k)", "equivalent"),
    ("optim.gd", r"\theta_k - \gamma \sum_{i=1}^{N} \nabla \ell_i(\theta_k)", "not_equivalent"),
    ("optim.gd", r"\theta_k + \frac{\gamma}{N}\sum_{i=1}^{N} \nabla \ell_i(\theta_k)", "not_equivalent"),
    ("optim.sgd", r"\theta_{k+1} = \theta_k - \gamma_k \frac{1}{|M_i|} \sum_{j \in M_i} \nabla \ell_j(\theta_k)",
     "equivalent"),
    ("optim.sgd", r"\theta_k - \frac{\gamma}{|B|} \sum_{j \in B} \nabla \ell_j(\theta_k)", "equivalent"),
    ("optim.sgd", r"\theta_k - \gamma \sum_{j \in B} \nabla \ell_j(\theta_k)", "not_equivalent"),
    ("optim.sgd", r"\theta_k - \frac{\gamma}{|B|} \sum_{j \in B} \theta_k", "not_equivalent"),
    ("ebm.inference", r"\hat y = \operatorname{argmin}_y F(x, y)", "equivalent"),
    ("ebm.inference", r"\operatorname{argmin}_{y} \left( F(x,y) + 0 \right)", "equivalent"),
    ("ebm.inference", r"\operatorname{argmax}_y F(x, y)", "not_equivalent"),
    ("ebm.inference", r"\operatorname{argmin}_y (-F(x, y))", "not_equivalent"),
    ("ebm.gibbs", r"\frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\, dy'}", "equivalent"),
    ("ebm.gibbs", r"P(y \mid x) = \frac{e^{-\beta F(x,y)}}{\int_{y} e^{-\beta F(x,y)} \mathrm{d}y}", "equivalent"),
    ("ebm.gibbs", r"\frac{\exp(\beta F(x,y))}{\int_{y'} \exp(\beta F(x,y'))\, dy'}", "not_equivalent"),
    ("ebm.gibbs", r"\exp(-\beta F(x,y))", "not_equivalent"),
    ("ebm.joint_gibbs", r"\frac{\exp(-\beta E(x,y,z))}{\int_{y'}\int_{z'} \exp(-\beta E(x,y',z')) dz' dy'}",
     "equivalent"),
    ("ebm.joint_gibbs", r"\exp(-\beta E(x,y,z)) / \int_{z'}\int_{y'} \exp(-\beta E(x,y',z')) dy' dz'", "equivalent"),
    ("ebm.joint_gibbs", r"\frac{\exp(-\beta E(x,y,z))}{\int_{y'} \exp(-\beta E(x,y',z)) dy'}", "not_equivalent"),
    ("ebm.joint_gibbs", r"\frac{\exp(-E(x,y,z))}{\int_{y'}\int_{z'} \exp(-E(x,y',z')) dz' dy'}", "not_equivalent"),
    ("ebm.free_energy", r"F_\beta(x,y) = -\frac{1}{\beta}\log \int_z \exp(-\beta E(x,y,z))\, dz", "equivalent"),
    ("ebm.free_energy", r"-\log\left(\int_z e^{-\beta E(x,y,z)} dz\right) / \beta", "equivalent"),
    ("ebm.free_energy", r"\frac{1}{\beta}\log \int_z \exp(-\beta E(x,y,z))\, dz", "not_equivalent"),
    ("ebm.free_energy", r"-\frac{1}{\beta}\int_z \exp(-\beta E(x,y,z))\, dz", "not_equivalent"),
    ("ebm.zero_temperature", r"\min_z E(x,y,z)", "equivalent"),
    ("ebm.zero_temperature", r"\lim_{\beta\to\infty} F_\beta(x,y) = \min_{z} E(x, y, z)", "equivalent"),
    ("ebm.zero_temperature", r"\max_z E(x,y,z)", "not_equivalent"),
    ("ebm.zero_temperature", r"\min_z E(x,y,z) - \log 2", "not_equivalent"),
    ("ebm.nll_loss", r"\frac{1}{N}\sum_{i=1}^{N} \left[F_w(x_i,y_i) + \frac{1}{\beta}\log\int_y \exp(-\beta F_w(x_i,y))"
                     r"\, dy\right]", "equivalent"),
    ("ebm.nll_loss", r"\frac{1}{N \beta}\sum_{i=1}^{N} \left[\beta F_w(x_i,y_i) + \log\int_y e^{-\beta F_w(x_i,y)} dy\right]",
     "equivalent"),
    ("ebm.nll_loss", r"\frac{1}{N}\sum_{i=1}^{N} \left[F_w(x_i,y_i) - \frac{1}{\beta}\log\int_y \exp(-\beta F_w(x_i,y))"
                     r"\, dy\right]", "not_equivalent"),
    ("ebm.nll_loss", r"\frac{1}{N}\sum_{i=1}^{N} F_w(x_i,y_i)", "not_equivalent"),
    ("ebm.nll_gradient", r"\frac{1}{N}\sum_{i=1}^{N} \big[\frac{\partial F_w(x_i,y_i)}{\partial w} - \int_y "
                         r"\frac{\exp(-\beta F_w(x_i,y))}{\int_{y'} \exp(-\beta F_w(x_i,y'))dy'} \frac{\partial F_w(x_i,y)}"
                         r"{\partial w}\, dy\big]", "equivalent"),
    ("ebm.nll_gradient", r"\frac{1}{N}\sum_{i=1}^{N} \frac{\partial}{\partial w}\left[F_w(x_i,y_i)\right] - \frac{1}{N}"
                         r"\sum_{i=1}^{N} \frac{\int_y e^{-\beta F_w(x_i,y)} \frac{\partial F_w(x_i,y)}{\partial w} dy}"
                         r"{\int_{y} e^{-\beta F_w(x_i,y)} dy}", "equivalent"),
    ("ebm.nll_gradient", r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_{i=1}^{N} \left[\frac{\partial "
                         r"F_w(x_i,y_i)}{\partial w} - \int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w}\, dy"
                         r"\right]", "equivalent"),
    ("ebm.gibbs", r"\mathbb{P}(y \mid x) = \frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\, dy'}", "equivalent"),
    ("ebm.gibbs", r"P(y \mid x)", "equivalent"),
    ("ebm.nll_gradient", r"\frac{1}{N}\sum_{i=1}^{N} \big[F_w(x_i,y_i) + F_w(x_i,y)\big]", "not_equivalent"),
    ("ebm.nll_gradient", r"\frac{1}{N}\sum_{i=1}^{N} \frac{\partial F_w(x_i,y_i)}{\partial w}", "not_equivalent"),
    ("contrastive.pirl_h", r"\frac{\exp(s(v_I, v_{I^t})/\tau)}{\exp(s(v_I, v_{I^t})/\tau) + \sum_{I' \in D_N} "
                           r"\exp(s(v_{I^t}, v_{I'})/\tau)}", "equivalent"),
    ("contrastive.pirl_h", r"\frac{1}{1 + \sum_{I' \in D_N} \exp\left(\frac{s(v_{I^t}, v_{I'}) - s(v_I, v_{I^t})}{\tau}"
                           r"\right)}", "equivalent"),
    ("contrastive.pirl_h", r"\frac{\exp(s(v_I, v_{I^t})/\tau)}{\exp(s(v_I, v_{I^t})/\tau) + \sum_{I' \in D_N} "
                           r"\exp(s(v_I, v_{I'})/\tau)}", "not_equivalent"),
    ("contrastive.pirl_h", r"\frac{\exp(s(v_I, v_{I^t}))}{\exp(s(v_I, v_{I^t})) + \sum_{I' \in D_N} "
                           r"\exp(s(v_{I^t}, v_{I'}))}", "not_equivalent"),
    ("contrastive.nce_loss", r"-\log h(f(v_I), g(v_{I^t})) - \sum_{I' \in D_N} \log\big(1 - h(g(v_{I^t}), f(v_{I'}))\big)",
     "equivalent"),
    ("contrastive.nce_loss", r"L_{NCE}(I, I^t) = -\left[\log h(f(v_I), g(v_{I^t})) + \sum_{I' \in D_N} \log(1 - "
                             r"h(g(v_{I^t}), f(v_{I'})))\right]", "equivalent"),
    ("contrastive.nce_loss", r"-\log h(f(v_I), g(v_{I^t})) + \sum_{I' \in D_N} \log\big(1 - h(g(v_{I^t}), f(v_{I'}))\big)",
     "not_equivalent"),
    ("contrastive.nce_loss", r"-\log h(f(v_I), g(v_{I^t}))", "not_equivalent"),
    ("latent.kmeans_energy", r"\lVert y - W z \rVert^2", "equivalent"),
    ("latent.kmeans_energy", r"E(y, z) = (y - Wz)^\top (y - Wz)", "equivalent"),
    ("latent.kmeans_energy", r"||y + Wz||^2", "not_equivalent"),
    ("latent.kmeans_energy", r"\|y - W z\|", "not_equivalent"),
    ("latent.sparse_coding_energy", r"\|y - W z\|_2^2 + \lambda \|z\|_1", "equivalent"),
    ("latent.sparse_coding_energy", r"\lambda \lVert z \rVert_1 + \lVert W z - y \rVert^2", "equivalent"),
    ("latent.sparse_coding_energy", r"\|y - W z\|^2 + \lambda \|z\|^2", "not_equivalent"),
    ("latent.sparse_coding_energy", r"\|y - W z\|^2", "not_equivalent"),
    ("latent.vae_kl", r"\frac{1}{2}\sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)", "equivalent"),
    ("latent.vae_kl", r"\sum_{j=1}^{d} \left(\frac{\sigma_j^2 + \mu_j^2 - 1}{2} - \log \sigma_j\right)", "equivalent"),
    ("latent.vae_kl", r"\frac{1}{2}\sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j)", "not_equivalent"),
    ("latent.vae_kl", r"\frac{1}{2}\sum_j (\sigma_j^2 + \mu_j^2 - \log \sigma_j^2)", "not_equivalent"),
    ("latent.vae_loss", r"\|y - \hat{y}\|^2 + \beta \frac{1}{2}\sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)",
     "equivalent"),
    ("latent.vae_loss", r"(y - \hat y)^T (y - \hat y) + \frac{\beta}{2}\sum_{j=1}^{d} (\sigma_j^2 + \mu_j^2 - 1) - \beta"
                        r"\sum_{j=1}^{d} \log \sigma_j", "equivalent"),
    ("latent.vae_loss", r"\|y - \hat{y}\|^2 - \beta \frac{1}{2}\sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)",
     "not_equivalent"),
    ("latent.vae_loss", r"\|y - \hat{y}\|^2", "not_equivalent"),
]


@pytest.mark.parametrize("name, form, expected", FORMS, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(FORMS)])
def test_verdicts(name, form, expected):
    v = check(form, against=name, timeout=1.5)
    assert v.verdict == expected, str(v)
    if expected == "equivalent":
        assert v.method in ("symbolic", "numeric") and v.trials >= 6 and len(v.sizes) >= 2
        assert v.max_error <= 1e-9
    else:
        assert v.method == "numeric" and v.counterexample is not None


def test_counterexample_is_at_n_2_and_agrees_with_torch():
    v = check(r"\operatorname{diag}(f_t)", against="lstm.cell_jacobian")
    cx = v.counterexample
    assert cx["sizes"] == {"n": 2, "m": 3}
    inputs = {k: np.asarray(x) for k, x in cx["inputs"].items()}
    assert set(inputs) == {i.name for i in ref("lstm.cell_jacobian").inputs}
    torch_value = oracles.lstm_cell_jacobian(inputs)
    assert np.allclose(cx["reference"], torch_value, rtol=1e-12, atol=1e-14)
    h = inputs["o_{t-1}"] * np.tanh(inputs["c_{t-1}"])
    f = 1 / (1 + np.exp(-(inputs["W_{fh}"] @ h + inputs["W_{fx}"] @ inputs["x_t"] + inputs["b_f"])))
    assert np.allclose(cx["hand"], np.diag(f), rtol=1e-13, atol=0)
    i, j = cx["entry"]
    diff = np.abs(np.asarray(cx["hand"]) - torch_value)
    assert diff[i, j] == pytest.approx(diff.max(), rel=1e-12)
    text = format_counterexample(cx)
    assert "n = 2" in text and "c_{t-1}" in text and f"entry [{i}, {j}]" in text


def test_a_vector_for_a_jacobian_is_not_equivalent_and_says_the_shapes():
    v = check(r"f_t", against="lstm.cell_jacobian_direct")
    assert v.verdict == "not_equivalent" and "shapes differ" in v.message
    assert v.counterexample["shapes"] == {"hand": [2], "reference": [2, 2]}


def test_errors_say_where_and_what():
    v = check(r"W_{fh} + c_{t-1}", against="lstm.cell_jacobian")
    assert v.verdict == "error" and v.position == 7 and "(n, n)" in v.message and v.caret.endswith("^")
    v = check(r"q_t", against="lstm.cell_jacobian")
    assert v.verdict == "error" and "W_{fh}" in v.message and "c_{t-1}" in v.message
    v = check(r"f_t", against="lstm.no_such_thing")
    assert v.verdict == "error" and "lstm.cell_jacobian" in v.message


def test_sympy_hand_forms():
    r = ref("optim.heavy_ball")
    s = r.symbols
    good = s["w_t"] - s[r"\gamma"] * s["g_t"] + s[r"\beta"] * (s["w_t"] - s["w_{t-1}"])
    assert check(good, against="optim.heavy_ball").verdict == "equivalent"
    assert check(good + s["g_t"], against="optim.heavy_ball").verdict == "not_equivalent"
    v = check(sp.Symbol("q") + good, against="optim.heavy_ball")
    assert v.verdict == "error" and "'q'" in v.message


def test_unknown_when_neither_numbers_nor_a_proof_decide():
    r = ref("optim.heavy_ball")
    s = r.symbols
    v = check(s["w_t"] - s[r"\gamma"] * sp.erf(s["g_t"]), against="optim.heavy_ball")
    assert v.verdict == "unknown" and v.method is None and "could not be evaluated" in v.message


def test_json_keys_are_the_contract():
    v = check(r"\operatorname{diag}(i_t)", against="lstm.cell_jacobian_direct")
    out = json.loads(json.dumps(v.to_json()))
    assert {"verdict", "method", "message", "counterexample"} <= set(out)
    assert not bool(v) and bool(check(r"\operatorname{diag}(f_t)", against="lstm.cell_jacobian_direct"))


def _cli(argv, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        import io

        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = check_cli.main(argv)
    return code, capsys.readouterr().out


def test_cli_exit_statuses_and_stdin(capsys, monkeypatch):
    code, out = _cli(["--against", "optim.heavy_ball", "-"], capsys,
                     r"-\gamma g_t + w_t + \beta (w_t - w_{t-1})" + "\n", monkeypatch)
    assert code == 0 and out.startswith("equivalent")
    code, out = _cli(["--against", "optim.heavy_ball", "--json"], capsys, r"-\gamma g_t + w_t", monkeypatch)
    data = json.loads(out)
    assert code == 1 and data["verdict"] == "not_equivalent" and "w_{t-1}" in data["counterexample"]["inputs"]
    code, out = _cli(["--against", "optim.heavy_ball", r"w_t - \gamma g_t +"], capsys)
    assert code == 2 and out.splitlines()[-1].endswith("^") and "character 18" in out
    code, out = _cli(["--against", "optim.heavy_ball", "--timeout", "0", "w_t"], capsys)
    assert code == 2 and "timeout" in out


def test_cli_unknown_is_exit_3(capsys, monkeypatch):
    monkeypatch.setattr("symdl.grade.check.check", lambda *a, **k: Verdict("unknown", None, "timed out", "x"))
    code, out = _cli(["--against", "optim.heavy_ball", "--json", "w_t"], capsys)
    assert code == 3 and json.loads(out)["verdict"] == "unknown"
