"""The exam's own text, transcribed and not graded."""

from __future__ import annotations

from symdl.grade.rubric import QuestionText

# -- the exam's own text: transcribed, not graded -----------------------------------------------------

QUESTION_TEXT: tuple[QuestionText, ...] = (
    QuestionText("1.rnn", "background",
                 r"\boldsymbol{h}_t = \sigma(\boldsymbol{W}_1 \boldsymbol{h}_{t-1} + \boldsymbol{W}_2 \boldsymbol{x}_t)"),
    QuestionText("1.vanish", "background",
                 "dh_tau/dh_t is what vanishes or explodes, through the repeated application of W_1", math=False),
    QuestionText("1.eq1", "eq. (1)",
                 r"\boldsymbol{c}_t = \boldsymbol{f}_t \odot \boldsymbol{c}_{t-1} + \boldsymbol{i}_t \odot "
                 r"\tilde{\boldsymbol{c}}_t"),
    QuestionText("1.eq2", "eq. (2)", r"\boldsymbol{h}_t = \boldsymbol{o}_t \odot \tanh(\boldsymbol{c}_t)"),
    QuestionText("1.cand", "gates",
                 r"\tilde{\boldsymbol{c}}_t = \tanh(\boldsymbol{W}_{gh}\boldsymbol{h}_{t-1} + "
                 r"\boldsymbol{W}_{gx}\boldsymbol{x}_t + \boldsymbol{b}_g)",
                 repairs=r"'egin', 'ilde', 'anh', 'oldsymbol' read as \begin, \tilde, \tanh, \boldsymbol (lost \b, \t)"),
    QuestionText("1.forget", "gates",
                 r"\boldsymbol{f}_t = \sigma(\boldsymbol{W}_{ih}\boldsymbol{h}_{t-1} + \boldsymbol{W}_{ix}\boldsymbol{x}_t"
                 r" + \boldsymbol{b}_i)",
                 repairs=r"'extbf{\emph{f}}' read as \textbf{f} (lost \t). The extraction lost a line: this is the "
                         "input gate's line (W_ih, W_ix, b_i) under f_t's name; the question defines i_t with those "
                         "and the forget gate f_t with W_fh, W_fx, b_f"),
    QuestionText("1.out", "gates",
                 r"\boldsymbol{o}_t = \sigma(\boldsymbol{W}_{oh}\boldsymbol{h}_{t-1} + \boldsymbol{W}_{ox}\boldsymbol{x}_t"
                 r" + \boldsymbol{b}_o)", repairs="'extbf{\\emph{o}}' read as \\textbf{o} (lost \\t)"),
    QuestionText("2.loss", "question",
                 r"L(\hat{\boldsymbol{Y}}_{\theta}(\boldsymbol{X}), \boldsymbol{y}) = \frac{1}{N} \sum_{i} "
                 r"\ell(\hat{\boldsymbol{y}}_{\theta}(x_i), y_i)"),
)
