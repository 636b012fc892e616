"""The seed's answer to question 1 (LSTMs and vanishing gradients), claim by claim, each graded by its findings."""

from __future__ import annotations

from symdl.grade.rubric import Claim

from _audit.findings import agrees, computed, differs
from _audit.forms import FOUR, FOUR_DISPLAY, U
from _audit.q1_checks import (_additive_still_vanishes, _bptt_is_one_path, _bptt_not_the_gradient,
                              _bptt_sum_is_the_gradient, _dominating_term, _forget_path_only_with_h_fixed,
                              _forget_product_decays, seed_derivation)

_SEED_JACOBIAN = (r"\frac{\partial \boldsymbol{c}_t}{\partial \boldsymbol{c}_{t-1}} = \sigma'(\boldsymbol{W}"
                  r"[\boldsymbol{h}_{t-1}, \boldsymbol{x}_t]) \boldsymbol{W} \boldsymbol{o}_{t-1} \odot "
                  r"\tanh'(\boldsymbol{c}_{t-1}) \boldsymbol{c}_{t-1} \\ & \quad + \boldsymbol{f}_t + \sigma'(\cdot) "
                  r"\boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1}) \tilde{\boldsymbol{c}}_t "
                  r"+ \sigma'(\cdot) \boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1}) "
                  r"\boldsymbol{i}_t")
#: The seed's Jacobian read per gate: each term with its gate's own W and pre-activation, products of vectors as
#: diag(.) factors.  Its one departure from the reference: sigma' where the candidate's tanh' belongs.
SEED_JACOBIAN_READ = FOUR.replace(r"\tanh'(%s)" % U["g"], r"\sigma'(%s)" % U["g"])

Q1: tuple[Claim, ...] = (
    Claim("1.credited", 1, "answer",
          "the cell state's term with the don't-forget gate is credited with solving the vanishing gradient problem",
          r"\frac{\partial c_t}{\partial c_{t-1}}\Big|_{h_{t-1}\ \mathrm{fixed}} = \operatorname{diag}(f_t), \qquad "
          r"\Big\|\prod_{k=t+1}^{\tau} \operatorname{diag}(f_k)\Big\|_2 \le \big(\max_{k,i} f_{k,i}\big)^{\tau - t}",
          findings=(computed("loose", "numeric", "the additive path alone still decays (lstm.cell_jacobian_direct)",
                             _forget_product_decays),
                    computed("loose", "numeric", r"$\operatorname{diag}(f_t)$ is the additive path, not the whole Jacobian",
                             _forget_path_only_with_h_fixed))),
    Claim("1.bptt", 1, "answer",
          "back-propagation through time: the gradient is one chain along the cell state, through the product of "
          "its step-to-step Jacobians",
          r"\frac{\partial \mathcal{L}_t}{\partial W} = \sum_{k=1}^{t} \frac{\partial \mathcal{L}_t}{\partial s_t} "
          r"\Big[\prod_{j=k+1}^{t} \frac{\partial s_j}{\partial s_{j-1}}\Big] \frac{\partial^{+} s_k}{\partial W}, "
          r"\quad s_k = (c_k, h_k)",
          seed=r"\frac{\partial \mathcal{L}_t}{\partial \boldsymbol{W}} = \frac{\partial \mathcal{L}_t}{\partial "
               r"\boldsymbol{h}_t} \frac{\partial \boldsymbol{h}_t}{\partial \boldsymbol{c}_t} \Big[\prod_{t=2} "
               r"\frac{\partial \boldsymbol{c}_t}{\partial \boldsymbol{c}_{t-1}}\Big] \frac{\partial \boldsymbol{c}_1}"
               r"{\partial \boldsymbol{W}}",
          repairs=r"'rac', 'oldsymbol', 'ight' read as \frac, \boldsymbol, \right (lost \f, \b, \r); the product read "
                  r"over $k = 2, \ldots, t$; $W$ taken as $W_{fh}$, the loss as $\lVert h_t \rVert^2/2$",
          findings=(computed("loose", "oracle", "the seed's chain is not the whole gradient", _bptt_not_the_gradient),
                    computed("loose", "oracle", "the seed's chain is one path of the gradient", _bptt_is_one_path),
                    computed("context", "oracle", "the correct form: the sum over time", _bptt_sum_is_the_gradient))),
    Claim("1.additive", 1, "answer",
          "since the terms of the bracket are additive, the gradients will not explode or vanish",
          r"\Big\|\prod_{k=1}^{30} \frac{\partial c_k}{\partial c_{k-1}}\Big\|_2 \ll 1 \text{ is possible: a sum of "
          r"terms can still vanish (or explode)}",
          findings=(computed("fails", "numeric", "a product of four-term cell Jacobians vanishes (lstm.cell_jacobian)",
                             _additive_still_vanishes),)),
    Claim("1.jacobian", 1, "answer", "the cell-state Jacobian, four additive terms",
          FOUR_DISPLAY, seed=_SEED_JACOBIAN,
          repairs=r"'anh', 'ilde', 'oldsymbol', 'ight)', 'rac' read as \tanh, \tilde, \boldsymbol, \right), \frac; "
                  r"$W[h_{t-1}, x_t]$ read per gate, each term with its own gate's weights and pre-activation ($W_{fh}$ "
                  r"with $c_{t-1}$, $W_{ih}$ with the candidate, $W_{gh}$ with $i_t$), the most charitable faithful "
                  r"reading; products of vectors as $\operatorname{diag}$ factors",
          findings=(computed("fails", "numeric", "the seed's derivation goes wrong at its display, link 2",
                             seed_derivation(SEED_JACOBIAN_READ)),
                    differs(SEED_JACOBIAN_READ, "lstm.cell_jacobian", "the seed's Jacobian read per gate"),
                    agrees(FOUR, "lstm.cell_jacobian", what="the same with the candidate's derivative corrected "
                                                            "(its only error)"))),
    Claim("1.dominate", 1, "answer",
          "if one of the four additive terms dominates, the LSTM back-propagates like a vanilla RNN and the "
          "gradient may still vanish or blow up",
          r"\prod_k \frac{\partial c_k}{\partial c_{k-1}} \approx \prod_k \operatorname{diag}(i_k \odot "
          r"\tanh'(u_{g,k})) W_{gh} D_{k-1} \quad \text{when it dominates}",
          findings=(computed("holds", "numeric", "a dominating term makes the product RNN-like", _dominating_term),)),
)
