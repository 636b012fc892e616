"""Question 3: energy-based models, free energy, the NLL gradient, PIRL's NCE loss, K-means, sparse coding, the VAE.

Every displayed result is computed by SymPy from the definitions in
symdl.models.ebm, symdl.models.contrastive and symdl.models.latent
(sp.diff under the integral sign, sums over grids of symbolic size, sp.limit,
sp.integrate of Gaussian densities) and checked against PyTorch: logsumexp
normalisers, autograd, cosine_similarity, kl_divergence, cdist.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sympy as sp

from symdl import ref
from symdl.verify.builders import symbolic_equal
from symdl.document.derivation import (Derivation, Figure, ReferenceBlock, Section, Step, Table, math as display, prose,
                                       tex)
from symdl.models import contrastive as C
from symdl.models import ebm as M
from symdl.models import latent as Lt
from symdl.verify.spec import CheckSpec

# The parts live in the private package derivations/_q3/; symdl's loader puts this folder on sys.path, and a
# module loaded by its path alone needs it too.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _q3.checks import (exp_free_energy_is_partition, kl_collapse, latent_gradient_numeric,  # noqa: E402
                        latent_gradient_pieces, latent_gradient_symbolic, likelihood_check, nce_derivatives,
                        reparam_symbolic, reparam_torch, seed_counterexample_table, seed_h_by_checker,
                        seed_joint_check, seed_last_line, sparse_piecewise_linear, symbolic)
from _q3.figures import (free_energy_figure_checks, gibbs_figure_check, kmeans_figure_check,  # noqa: E402
                         make_free_energy_figure, make_gibbs_figure, make_kmeans_figure)

QUESTION = (
    r"Energy-based models. An EBM is a scalar function $F(x, y)$ with a trainable parameter vector $w$: low when "
    r"$x$ and $y$ are compatible, as the training set defines it, and higher otherwise. (a) Given $x$, how is a "
    r"compatible $y$ inferred? (b) Give $P(y \mid x)$ for a Gibbs-Boltzmann distribution. (c) With a latent "
    r"variable $z$, give the deterministic and the probabilistic free energy $F(x, y)$ as functions of "
    r"$E(x, y, z)$. (d) Give the negative log-likelihood loss that maximises $\prod_i P(y_i \mid x_i)$, and its "
    r"gradient. (e) Describe PIRL's noise-contrastive (NCE) loss. (f) Describe architectural methods: K-means, "
    r"sparse coding and the variational autoencoder (VAE)."
)


def _notation() -> Table:
    rows = [
        (tex(r"x,\ y,\ z"), "the input, the variable to predict, and a latent variable"),
        (tex(r"F(x, y),\ E(x, y, z)"), "the energy of a pair, and the energy with the latent variable"),
        (tex(r"F_\beta(x, y)"), "the free energy at inverse temperature beta"),
        (tex(r"\beta > 0"), "inverse temperature"),
        (tex(r"w,\ F_w"), "the trainable parameters, and the energy they define"),
        (tex(r"P_w(y \mid x)"), "the Gibbs-Boltzmann distribution of that energy"),
        (tex(r"(x_i, y_i),\ N"), "a training pair, and their number"),
        (tex(r"v_I,\ v_{I^t},\ D_N"), "features of an image and of its transformed version, and the set of "
                                      "negatives"),
        (tex(r"f,\ g,\ s,\ \tau"), "PIRL's two projection heads, cosine similarity, and the temperature"),
        (tex(r"W,\ w_k,\ \lambda"), "a dictionary of prototypes or atoms, its k-th column, and the sparsity weight"),
        (tex(r"q(z \mid y),\ \mu(y),\ \sigma(y)"), "the VAE's encoder distribution, its mean and its standard "
                                                   "deviation"),
        (tex(r"\mathrm{KL}(q \,\Vert\, p)"), "Kullback-Leibler divergence"),
    ]
    return Table(("symbol", "meaning"), tuple(rows), caption="Notation", widths=(0.25, 0.65))


def _inference_section() -> Section:
    """(a): inference is an argmin, the mode of the Gibbs distribution."""
    return Section("(a) Inference", (
        prose("Answer (a). Choose the $y$ of lowest energy, $\\hat y = \\operatorname{argmin}_y F(x, y)$: the most "
              "compatible $y$. Under the Gibbs distribution of part (b) it is also the most probable $y$, since "
              "$\\beta > 0$. On a finite set of candidates (a grid) it is the grid point of lowest energy; on a "
              "continuum it is found by minimising, for instance by gradient descent in $y$."),
        _notation(),
        ReferenceBlock("ebm.inference"),
        Step("mode", tex(r"\frac{P(y_j \mid x)}{P(y_k \mid x)} = e^{\beta (F(x, y_k) - F(x, y_j))} > 1 "
                         r"\iff F(x, y_j) < F(x, y_k)"),
             "the normaliser cancels in the ratio; for $\\beta > 0$ the argmin is the mode of the Gibbs distribution",
             checks=(CheckSpec("symbolic", "the mode is the argmin", M._mode_is_argmin, timeout=60),)),
        prose("The seed's answer (a) is right."),
    ))


def _gibbs_section() -> Section:
    """(b): the Gibbs-Boltzmann distribution and its normalisation."""
    return Section("(b) The Gibbs-Boltzmann distribution", (
        prose("Answer (b). $P(y \\mid x) = \\dfrac{e^{-\\beta F(x, y)}}{\\int_{y'} e^{-\\beta F(x, y')}\\, dy'}$ "
              "with $\\beta > 0$: the energy's exponential, normalised over every $y'$. Low energy means high "
              "probability, and $\\beta$ sets how sharply the mass gathers at the minimum."),
        ReferenceBlock("ebm.gibbs"),
        Step("normalised", display(sp.simplify(sp.simplify(M.integral(M.GIBBS, M.y)).as_dummy()),
                                   r"\int_y P(y \mid x)\, dy"),
             "the denominator does not depend on $y$ (shown with $F$ left abstract)",
             checks=(CheckSpec("symbolic", "the integral normalises", M._integral_normalises, timeout=60),
                     CheckSpec("symbolic", "a sum over a grid of K points normalises", M._sum_normalises, timeout=60))),
        prose("The seed's equation (4) integrates over $y$ in the denominator but reuses the letter $y$ that is "
              "free in the numerator, and writes no differential: the denominator needs its own variable $y'$. With "
              "that reading it is right, with $\\beta > 0$."),
        Figure("gibbs", "One energy and its Gibbs distributions at four inverse temperatures: small $\\beta$ "
                        "spreads the mass, large $\\beta$ concentrates it on the argmin.",
               make_gibbs_figure, checks=(gibbs_figure_check(),), width="0.95"),
    ))


def _zero_temperature_blocks() -> tuple:
    """(c): the free energy tends to the minimum energy as the temperature goes to zero."""
    *_, Fb3 = M.zero_temperature_pieces(3)
    _, lim3, _, factored3, _ = M.zero_temperature_limit(3)
    return (
        prose("Zero temperature. Take a finite set of $|Z|$ latent values with energies $E_k = m + d_k$, where "
              "$m = \\min_z E$ and $d_k > 0$ for the others (shown for $|Z| = 3$; the checks run $|Z| = 2, 3, 4$)."),
        Step("factor", display(factored3, r"F_\beta"), "factor $e^{-\\beta m}$ out of the sum and expand the "
             "logarithm; the factored form equals the definition",
             checks=(symbolic_equal(Fb3, factored3, "the factored form equals the definition",
                                    simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True))),)),
        Step("bound", tex(r"\min_z E - \frac{\log |Z|}{\beta} \le F_\beta(x, y) \le \min_z E"),
             "each $e^{-\\beta d_k} \\in (0, 1]$, so the sum lies in $[1, |Z|]$", relation="\\le",
             checks=ref("ebm.zero_temperature").checks[1:3]),
        Step("limit", display(lim3, r"\lim_{\beta \to \infty} F_\beta"), "the limit; the bound squeezes too",
             checks=ref("ebm.zero_temperature").checks[:1] + ref("ebm.zero_temperature").checks[3:], boxed=True),
        ReferenceBlock("ebm.zero_temperature"),
        Figure("free-energy", "$F_\\beta$ of six latent energies against $\\beta$, inside the bound "
                              "$[\\min E - \\log|Z|/\\beta, \\min E]$ and converging to $\\min_z E$.",
               make_free_energy_figure, checks=free_energy_figure_checks(), width="0.7"),
    )


def _latent_section() -> Section:
    """(c): marginalising a latent variable gives the Gibbs distribution of the free energy; zero temperature."""
    _, target = M.marginal_pieces()
    return Section("(c) Latent variables and the free energy", (
        prose("Answer (c). Deterministic: $F(x, y) = \\min_z E(x, y, z)$, the energy at the best latent value. "
              "Probabilistic: $F_\\beta(x, y) = -\\frac{1}{\\beta} \\log \\int_z e^{-\\beta E(x, y, z)}\\, dz$, "
              "the free energy, with which marginalising $z$ out of the joint Gibbs distribution gives "
              "$P(y \\mid x) \\propto e^{-\\beta F_\\beta(x, y)}$. The two agree at zero temperature: "
              "$F_\\beta \\to \\min_z E$ as $\\beta \\to \\infty$."),
        ReferenceBlock("ebm.joint_gibbs"),
        Step("marginal", tex(r"P(y \mid x) = \int_z P(y, z \mid x)\, dz = "
                             r"\frac{\int_z e^{-\beta E(x, y, z)}\, dz}{\int_{y'} \int_{z'} e^{-\beta E(x, y', z')}\,"
                             r" dz'\, dy'}"),
             "sum rule; the joint normaliser does not depend on $z$", relation="def", label="marginal",
             checks=ref("ebm.joint_gibbs").checks[:1]),
        Step("free-energy", display(sp.exp(-M.beta * M.FREE_ENERGY), r"e^{-\beta F_\beta(x, y)}"),
             "define $F_\\beta(x,y) = -\\frac{1}{\\beta} \\log \\int_z e^{-\\beta E(x,y,z)}\\, dz$; the "
             "exponential undoes the logarithm",
             checks=(symbolic("exp(-beta F_beta) is the partition function over z", exp_free_energy_is_partition),),
             label="free-energy"),
        Step("marginal-gibbs", display(target, r"P(y_j \mid x)"),
             "substitute $\\eqref{eq:free-energy}$ into $\\eqref{eq:marginal}$; on grids of any sizes $J$ (for $y$) and $K$ (for $z$), "
             "$\\sum_k P(y_j, z_k \\mid x)$ reduces to this",
             checks=ref("ebm.free_energy").checks[:2], boxed=True),
        ReferenceBlock("ebm.free_energy"),
        *_zero_temperature_blocks(),
        Step("seed-joint", tex(r"\sum_{y} \sum_{z} \frac{e^{-\beta E(x, y, z)}}{\sum_{y'} e^{-\beta E(x, y', z)}} "
                               r"= |Z| \ne 1"),
             "the seed normalises the joint over $y$ only", relation="given", checks=(seed_joint_check(),)),
        prose("What the seed gets right and wrong in (c). It gives only the probabilistic free energy: the "
              "deterministic one, $F(x, y) = \\min_z E(x, y, z)$, which (c) asks for, is missing. Its joint "
              "divides by $\\int_y$ alone, and its marginal has $\\int_y$ where $\\int_z$ belongs in the numerator "
              "and $\\int_y\\int_z$ in the denominator; as written the joint sums to $|Z|$, not 1. Its final line "
              "$e^{-\\beta F_\\beta} / \\int_y e^{-\\beta F_\\beta}$ and its definition of $F_\\beta$ are right: "
              "the intermediate steps are wrong, the result is right."),
    ))


def _nll_section() -> Section:
    """(d): the NLL loss from the likelihood, its gradient by Leibniz, and the seed's last line."""
    return Section("(d) The negative log-likelihood loss and its gradient", (
        prose("Answer (d). $\\mathcal{L}(w) = \\frac{1}{N} \\sum_{i=1}^{N} \\Big[ F_w(x_i, y_i) + \\frac{1}{\\beta} "
              "\\log \\int_y e^{-\\beta F_w(x_i, y)}\\, dy \\Big]$, which is $-\\frac{1}{N\\beta}$ times the log of "
              "the likelihood $\\prod_i P_w(y_i \\mid x_i)$. Its gradient is "
              "$\\frac{\\partial \\mathcal{L}}{\\partial w} = \\frac{1}{N} \\sum_i \\Big[ \\frac{\\partial F_w(x_i, "
              "y_i)}{\\partial w} - \\mathbb{E}_{y \\sim P_w(y \\mid x_i)} \\frac{\\partial F_w(x_i, y)}{\\partial w} "
              "\\Big]$: a descent step pushes the energy of the data down and pulls it up wherever the model puts "
              "mass."),
        Step("likelihood", tex(r"P(y_1, \ldots, y_N \mid x_1, \ldots, x_N, w) = \prod_{i=1}^{N} P_w(y_i \mid x_i)"),
             "the training pairs are drawn independently", relation="given", given="modelling choice"),
        Step("nll", display(M.nll_one_pair(), r"-\frac{1}{\beta} \log P_w(y_i \mid x_i)"),
             "expand the logarithm of the Gibbs density; averaging over the $N$ pairs gives the loss, in units "
             "of energy (the product over pairs is checked on a grid of 3 points with $N = 2$)",
             checks=(symbolic_equal(M.nll_one_pair(), M.NLL_TERM, "one pair's term of the loss",
                                    simplifier=lambda e: sp.simplify(e.as_dummy())),
                     *ref("ebm.nll_loss").checks[:1], likelihood_check()), label="nll"),
        ReferenceBlock("ebm.nll_loss"),
        Step("leibniz", display(M.w_implicit(M.nll_gradient_derived()), r"\frac{\partial \mathcal{L}_i}{\partial w}"),
             "differentiate one sample's loss $\\eqref{eq:nll}$ under the integral sign, with $F_w$ left abstract",
             checks=ref("ebm.nll_gradient").checks[:2], label="leibniz"),
        Step("expectation", tex(r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N} \sum_i \Big["
                                r"\frac{\partial F_w(x_i, y_i)}{\partial w} - \mathbb{E}_{y \sim P_w(\cdot \mid x_i)}"
                                r"\frac{\partial F_w(x_i, y)}{\partial w}\Big]"),
             "average $\\eqref{eq:leibniz}$ over the pairs; the ratio is the Gibbs density: push down the energy of the data, pull up the energy where the "
             "model puts mass", checks=ref("ebm.nll_gradient").checks[2:], boxed=True),
        ReferenceBlock("ebm.nll_gradient"),
        Step("latent-gradient", display(M.w_implicit(latent_gradient_pieces()[0]),
                                        r"\frac{\partial F_\beta}{\partial w}"),
             "with a latent $z$, differentiate $F_\\beta$ under the integral: this is "
             "$\\mathbb{E}_{z \\sim P(z \\mid x, y)} \\frac{\\partial E(x, y, z)}{\\partial w}$",
             checks=(symbolic("Leibniz for the free energy, E abstract", latent_gradient_symbolic),
                     CheckSpec("oracle", "complex step of ebm.free_energy and torch autograd of -(1/beta) logsumexp",
                               latent_gradient_numeric))),
        Step("seed-gradient", tex(r"\frac{\partial \mathcal{L}}{\partial w} \ne F_w(x_i, y_i) + F_{\beta, w}(x_i, y)"),
             "adding a constant $c$ to $F_w$ leaves the gradient alone but moves the seed's last line by $2c$",
             relation="given", checks=(symbolic("the seed's last line is not the gradient", seed_last_line),)),
        prose("What the seed gets right and wrong in (d). The loss is right. Its intermediate line, "
              "$-\\log P(y_i \\mid x_i, w)$ written as "
              "$\\sum_i^N \\beta F_w(x_i, y_i) + \\log \\int_y \\exp(-\\beta F_w(x_i, y))$, is, for one pair, "
              "$\\beta$ times that pair's term of the loss, as it should be (no $\\frac{1}{\\beta}$ belongs there); "
              "its defect is the stray $\\sum_i$ on the right of a left side that is one sample's. The first "
              "gradient line has the right shape for one sample, but writes $P(y_i \\mid x_i)$ inside the integral "
              "where the density at $y$ belongs. The last line, $F_w + F_{\\beta,w}$, is wrong: it has no "
              "derivatives and its sign is flipped."),
    ))


def _pirl_section() -> Section:
    """(e): PIRL's h and NCE loss, the signs of the loss's gradient, and the seed's h."""
    nce_d = dict(nce_derivatives())
    return Section("(e) PIRL and the NCE loss", (
        prose("Answer (e). PIRL learns features that do not change when an image $I$ is transformed into $I^t$. "
              "With $v_I$ and $v_{I^t}$ their features, projection heads $f$ and $g$, cosine similarity $s$ and a "
              "temperature $\\tau$, the score $h(u, v) = \\frac{e^{s(u, v)/\\tau}}{e^{s(u, v)/\\tau} + "
              "\\sum_{I' \\in D_N} e^{s(v, v_{I'})/\\tau}}$ is the softmax share of a pair against the "
              "negatives $D_N$ (other images, kept in a memory bank). The loss "
              "$L_{\\mathrm{NCE}} = -\\log h(f(v_I), g(v_{I^t})) - \\sum_{I' \\in D_N} "
              "\\log\\big(1 - h(g(v_{I^t}), f(v_{I'}))\\big)$ is minimised: it raises the similarity of the "
              "positive pair (lowers its energy $-s/\\tau$) and lowers the negatives' (raises their energy). "
              "It is a contrastive method: energy is pushed down on data and up on chosen negatives."),
        ReferenceBlock("contrastive.pirl_h"),
        ReferenceBlock("contrastive.nce_loss"),
        prose("Write every similarity as a free real: $a = s(f(v_I), g(v_{I^t}))$ for the positive pair, "
              "$b_k = s(g(v_{I^t}), v_{I'_k})$ and $c_k = s(g(v_{I^t}), f(v_{I'_k}))$ for the negatives, and "
              "$d_{kl} = s(f(v_{I'_k}), v_{I'_l})$ for the negatives in the denominator of "
              "$h(g(v_{I^t}), f(v_{I'_k}))$. The energy of a pair is $-s/\\tau$. The derivatives of the loss, "
              "with two negatives:"),
        Step("grad-positive", display(nce_d["a"], r"\frac{\partial L_{\mathrm{NCE}}}{\partial a}"),
             "negative: a gradient step raises $a$, lowering the positive pair's energy",
             checks=ref("contrastive.nce_loss").checks[:1]),
        Step("grad-negative", display(nce_d["c_1"], r"\frac{\partial L_{\mathrm{NCE}}}{\partial c_1}"),
             "positive: a gradient step lowers $c_1$, raising the negative pair's energy",
             checks=ref("contrastive.nce_loss").checks[:1]),
        Step("grad-denominator", display(nce_d["b_1"], r"\frac{\partial L_{\mathrm{NCE}}}{\partial b_1}"),
             "positive too: the negatives are pushed away from the transformed image",
             checks=ref("contrastive.nce_loss").checks[:1]),
        Step("seed-h", tex(r"h_{\mathrm{seed}}(v_I, v_{I^t}) = h(v_{I^t}, v_I) \ne h(v_I, v_{I^t})"),
             "the seed compares the negatives with $v_I$ instead of $v_{I^t}$: its $h$ is PIRL's with the "
             "arguments swapped, and there are points where the two differ", relation="given",
             checks=(C.seed_form_check(), C.seed_form_exact(), seed_h_by_checker())),
        seed_counterexample_table(),
        prose("What the seed gets right and wrong in (e). The loss $L_{\\mathrm{NCE}}$ is PIRL's, and pushing "
              "energies down on positive pairs and up on negatives follows from the signs above. Its $h$ swaps one "
              "argument: it is still a valid softmax-contrastive score (a share in $(0, 1)$ of the pair against the "
              "negatives), but not PIRL's, and the two agree only when $s(v_I, v_{I'}) = s(v_{I^t}, v_{I'})$ for "
              "every negative. “Tries to maximise the cost function” is wrong as written: $L_{\\mathrm{NCE}}$ is "
              "minimised, as its gradient's signs show; what is maximised is the log-probability it negates."),
    ))


def _vae_blocks() -> tuple:
    """The VAE: encoder, reparameterisation, objective, and what the KL term prevents."""
    kl_first = ref("latent.vae_kl").checks[:1] + ref("latent.vae_kl").checks[2:3]
    return (
        prose("The VAE. An encoder maps $y$ to the mean $\\mu(y)$ and the standard deviation $\\sigma(y)$ of a "
              "Gaussian $q(z \\mid y) = \\mathcal{N}(\\mu(y), \\operatorname{diag}\\sigma(y)^2)$; a decoder maps a "
              "code $z$ back to $\\hat y = \\mathrm{Dec}(z)$. To differentiate an expectation over $z$ with respect "
              "to the encoder, the sample is written as a function of noise that does not depend on it:"),
        Step("reparameterisation",
             tex(r"z = \mu + \sigma \odot \epsilon,\ \epsilon \sim \mathcal{N}(0, I): \quad "
                 r"\frac{\partial}{\partial \mu}\, \mathbb{E}_{z \sim \mathcal{N}(\mu, \sigma^2)}[g(z)] = "
                 r"\mathbb{E}_{\epsilon}\Big[\frac{\partial}{\partial \mu}\, g(\mu + \sigma \epsilon)\Big]"
                 r" \text{ (likewise for } \sigma)"),
             "the reparameterisation: the expectation moves to a fixed distribution, so the derivative passes "
             "inside it (checked per coordinate for two test functions $g$, and through PyTorch's reparameterised sampling)",
             checks=(symbolic("the reparameterised expectation and its derivatives", reparam_symbolic, 240),
                     CheckSpec("oracle", "autograd through torch.distributions.Normal.rsample against the closed "
                                         "form", reparam_torch))),
        Step("kl-integral", display(Lt.kl_derived(), r"\int q \log \frac{q}{p}\, dt"),
             "one coordinate: $q = \\mathcal{N}(\\mu_j, \\sigma_j^2)$, $p = \\mathcal{N}(0, 1)$, integrated in $s$, "
             "where $t = \\mu_j + \\sigma_j s$ and $dt = \\sigma_j\\, ds$ ($\\sigma_j > 0$ keeps the limits); the "
             "densities factorise, so the divergence of the diagonal Gaussian sums over $j$",
             checks=kl_first),
        ReferenceBlock("latent.vae_kl"),
        Step("vae-objective",
             tex(r"\mathcal{L}(y) = \mathbb{E}_{z \sim q(z \mid y)}\big[\lVert y - \mathrm{Dec}(z) \rVert^2\big] + "
                 r"\beta\, \mathrm{KL}\big(q(z \mid y) \,\Vert\, \mathcal{N}(0, I)\big)"),
             "the VAE's loss: expected reconstruction error plus $\\beta$ times the divergence above (checked for "
             "one sampled code against PyTorch's squared error and Gaussian divergence)", relation="def",
             checks=ref("latent.vae_loss").checks),
        Step("kl-collapse",
             tex(r"\frac{\partial\, \mathrm{KL}_j}{\partial \sigma_j} = \sigma_j - \frac{1}{\sigma_j}, \qquad "
                 r"\lim_{\sigma_j \to 0^{+}} \mathrm{KL}_j = \infty"),
             "without the divergence nothing stops the encoder from shrinking $\\sigma$ to 0 and spreading "
             "$\\mu$: the code then carries unlimited information and the energy can be low everywhere; the term "
             "pulls each $\\sigma_j$ towards 1",
             checks=(symbolic("derivative and limit of the derived divergence", kl_collapse),)),
    )


def _architecture_section() -> Section:
    """(f): K-means, sparse coding and the VAE."""
    zp, zn = Lt.sparse_code_branches()
    return Section("(f) Architectural methods", (
        prose("Answer (f). Architectural methods limit the volume of low energy by the model's construction "
              "instead of pushing energy up on negatives. K-means: $E(y, z) = \\lVert y - W z \\rVert^2$ with $z$ "
              "one-hot, so $F(y) = \\min_k \\lVert y - w_k \\rVert^2$ is low only near the $k$ prototypes. Sparse "
              "coding: $E(y, z) = \\lVert y - W z \\rVert^2 + \\lambda \\lVert z \\rVert_1$; the $\\ell_1$ term "
              "keeps few columns of $W$ active, so low energy lies near unions of low-dimensional subspaces. VAE: "
              "an encoder gives $\\mu(y)$ and $\\sigma(y)$, a code is sampled as $z = \\mu + \\sigma \\odot "
              "\\epsilon$, and the loss is $\\mathbb{E}_{z \\sim q(z \\mid y)} \\lVert y - \\mathrm{Dec}(z) "
              "\\rVert^2 + \\beta\\, \\mathrm{KL}(q(z \\mid y) \\,\\Vert\\, \\mathcal{N}(0, I))$; the divergence "
              "limits the information the code carries."),
        Step("one-hot", tex(r"z = e_k \implies W z = w_k, \quad \lVert y - W z \rVert^2 = \lVert y - w_k \rVert^2"),
             "a one-hot code picks one column of $W$ (shown for $d = 2$, $k = 3$)",
             checks=ref("latent.kmeans_energy").checks[:1]),
        ReferenceBlock("latent.kmeans_energy"),
        Figure("kmeans", "The K-means free energy $F(y) = \\min_k \\lVert y - w_k \\rVert^2$ for three prototypes "
                         "in the plane: low energy only near the prototypes.",
               make_kmeans_figure, checks=(kmeans_figure_check(),), width="0.55"),
        ReferenceBlock("latent.sparse_coding_energy"),
        prose("At a one-hot $z$ the sparse-coding energy is the K-means energy plus $\\lambda$; in general the "
              "$\\ell_1$ term limits how many columns of $W$ combine, which bounds the volume of low energy."),
        Step("sparse-one-atom", display(sp.Piecewise((zp, Lt.atom_a > Lt.lam / 2), (zn, Lt.atom_a < -Lt.lam / 2),
                                                     (0, True)),
                                        r"\operatorname{argmin}_z \lVert y - w z \rVert^2 + \lambda |z|"),
             "one atom $w$ and a scalar code: with $a = w^\\top y$ and $c = \\lVert w \\rVert^2$, solve the "
             "stationarity condition on each sign of $z$; between the branches the minimiser is 0. This is soft "
             "thresholding: the $\\ell_1$ term sets small codes exactly to zero",
             checks=ref("latent.sparse_coding_energy").checks[:2], boxed=True),
        Step("sparse-piecewise-linear", tex(r"\frac{\partial^2 z^*}{\partial a^2} = 0, \quad "
                                            r"\frac{\partial z^*}{\partial a} = \frac{1}{c} \text{ on each branch}"),
             "the code, and so the reconstruction $w z^*$, is a piecewise linear function of $y$",
             checks=(symbolic("second derivatives of the branches", sparse_piecewise_linear),)),
        *_vae_blocks(),
        ReferenceBlock("latent.vae_loss"),
        prose("What the seed gets right and wrong in (f). Its K-means and sparse-coding energies are right once "
              "the lost minus sign is restored ($\\lVert y - W z \\rVert$), but it names them $F(x, y)$: they are "
              "latent-variable energies $E(y, z)$, whose free energy is the minimum over $z$, so both are imprecise. "
              "“Sparse coding approximates the data with a piecewise linear function” is right: the code is "
              "piecewise linear in $y$. Its VAE loss, $l_{\\mathrm{rec}} + \\beta\\, l_{\\mathrm{KL}}(z, "
              "\\mathcal{N}(0, I_d))$, has the right two terms, but the divergence is between the encoder's "
              "distribution $q(z \\mid y)$ and the prior, not of $z$, and the seed has no expectation over "
              "$z \\sim q(z \\mid y)$, no encoder giving $\\mu$ and $\\sigma$, and no reparameterisation. That "
              "without the divergence the VAE “resembles an autoencoder” is right; “which leads to overfitting” "
              "misnames the failure, which is unlimited information in the code and low energy everywhere."),
    ))


def derivation(runner=None) -> Derivation:
    return Derivation(
        slug="q3-energy",
        title="Question 3: Energy-based models",
        description="Gibbs distributions, free energy, the NLL gradient, PIRL's NCE loss and architectural EBMs",
        question=QUESTION,
        sections=(_inference_section(), _gibbs_section(), _latent_section(), _nll_section(), _pirl_section(),
                  _architecture_section()) + _audit(runner),
        template="solution.tex.j2",
    )


def _audit(runner) -> tuple:
    """The seed audit's section for this question, when the audit module is there."""
    try:
        from _audit.sections import audit_section
    except ImportError:
        return ()
    return (audit_section(3, runner),)
