r"""Reading display mathematics out of a file (REFERENCES.md, "Checking a whole derivation / What it reads").

Pure text: every expectation here is written out by hand (rows, sides, reasons, lines and columns
counted from 1 in the original input), never produced by the code under test.
"""

from __future__ import annotations

import re

import pytest

from symdl.reader.chain import begins_with_operator, chain, is_symbol, relations
from symdl.reader.display import MAX_CHARS, MAX_LINE, MAX_LINES, DisplayError, read_display


def rows(text):
    return [(r.line, r.math.text) for r in read_display(text).rows]


def sides(text):
    return [([s.text for s in chain(r.math).sides], list(chain(r.math).relations)) for r in read_display(text).rows]


ENVIRONMENTS = ["align", "align*", "gather", "gather*", "equation", "equation*", "multline", "flalign*"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_display_environment_is_read(env):
    text = f"Some words.\n\\begin{{{env}}}\n  a_t = b_t\n\\end{{{env}}}\nMore words."
    d = read_display(text)
    assert [(r.line, r.column, r.math.text) for r in d.rows] == [(3, 3, "a_t = b_t")]
    assert d.skipped == [{"line": 1, "text": "Some words."}, {"line": 5, "text": "More words."}]


@pytest.mark.parametrize("open_, close", [("\\[", "\\]"), ("$$", "$$")])
def test_brackets_and_double_dollars(open_, close):
    assert rows(f"We have\n{open_} h_t = \\sigma(a_t) {close}\nso.") == [(2, "h_t = \\sigma(a_t)")]


def test_a_line_that_is_only_one_inline_formula_is_mathematics_and_inline_math_in_prose_is_not():
    d = read_display("Here $x = 1$ is prose.\n  $c_t = f_t$ .\n\\[ a = b \\]")
    assert [(r.line, r.math.text) for r in d.rows] == [(2, "c_t = f_t"), (3, "a = b")]
    assert d.skipped == [{"line": 1, "text": "Here $x = 1$ is prose."}]


def test_aligned_and_split_inside_equation_give_their_rows():
    text = "\\begin{equation}\n\\begin{aligned}[t]\na &= b \\\\\n  &= c\n\\end{aligned}\n\\end{equation}"
    assert sides(text) == [(["a", "b"], ["="]), (["", "c"], ["="])]
    text = "\\begin{equation}\\begin{split}\na &= b \\\\ &= c\\end{split}\\end{equation}"
    assert sides(text) == [(["a", "b"], ["="]), (["", "c"], ["="])]


def test_rows_break_only_at_the_top_level():
    text = ("\\begin{align*}\nv &= \\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases} \\\\\n"
            "M &= \\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix} \\\\\nz &= {a \\\\ b}\n\\end{align*}")
    got = sides(text)
    assert got[0] == (["v", "\\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases}"], ["="])
    assert got[1] == (["M", "\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}"], ["="])
    assert got[2] == (["z", "{a \\\\ b}"], ["="])


def test_labels_tags_and_nonumber_are_dropped_with_columns_kept():
    text = "\\begin{align}\n  a &= b \\label{eq:one} \\tag{3} \\\\\n  c &= d \\nonumber \\notag\n\\end{align}"
    d = read_display(text)
    assert [(r.line, r.column, r.math.text) for r in d.rows] == [(2, 3, "a  = b"), (3, 3, "c  = d")]


def test_reasons_are_kept_and_never_read_as_mathematics():
    text = ("\\begin{align*}\n a &= b \\quad \\text{(chain rule)} \\\\\n c &= d \\qquad\\text{by (2)}, \\\\\n"
            " e &= f && \\text{definition} \\\\\n g &= h % the product rule\n\\end{align*}")
    d = read_display(text)
    assert [(r.math.text, r.reason) for r in d.rows] == [
        ("a  = b", "(chain rule)"), ("c  = d", "by (2)"), ("e  = f", "definition"), ("g  = h", "the product rule")]


@pytest.mark.parametrize("tail", ["\\quad \\text{where } u_t = W_1 h_{t-1}", ", \\quad u_t = W_1 h_{t-1}",
                                  ", \\; u_t = W_1 h_{t-1}", ",\\quad\\text{where }u_t = W_1 h_{t-1}."])
def test_a_trailing_definition(tail):
    (row,) = read_display("h_t = \\sigma(u_t)" + tail).rows
    assert row.math.text == "h_t = \\sigma(u_t)"
    assert row.definition.text == "u_t = W_1 h_{t-1}" and row.reason is None


def test_a_comma_inside_brackets_is_no_definition():
    (row,) = read_display("F = f(x, \\quad y = 1)").rows
    assert row.definition is None and row.math.text == "F = f(x, \\quad y = 1)"


def test_chains_and_continued_rows():
    assert sides("A = B = C") == [(["A", "B", "C"], ["=", "="])]
    text = "\\begin{align*}\nJ &= a \\\\\n  &\\quad + b \\\\\n  &- c \\\\\n  &= d\n\\end{align*}"
    got = sides(text)
    assert got[0][0][0] == "J" and " ".join(got[0][0][1].split()) == "a \\quad + b - c"
    assert got[1] == (["", "d"], ["="])
    assert read_display(text).rows[1].line == 5


def test_relations_are_named_and_only_top_level_ones_count():
    assert [r.symbol for r in relations(r"a \approx b \le c \ge d \propto e \to f := g \leq h")] == [
        r"\approx", r"\le", r"\ge", r"\propto", r"\to", ":=", r"\le"]
    assert relations(r"\sum_{i=1}^{N} x_i + \lim_{\beta \to \infty} F + P(Y = y)") == []


def test_one_formula_a_line_when_there_is_no_display_mathematics():
    text = "Write the gate first.\nu = W_{fh} h_{t-1}\n  = v\n+ w\nf_t = \\sigma(u)\nThat is all."
    d = read_display(text)
    assert [(r.line, " ".join(r.math.text.split())) for r in d.rows] == [(2, "u = W_{fh} h_{t-1}"), (3, "= v + w"),
                                                                           (5, "f_t = \\sigma(u)")]
    assert [s["line"] for s in d.skipped] == [1, 6] and not d.single


def test_input_without_any_relation_is_one_formula():
    d = read_display("\\operatorname{diag}(f_t)\n")
    assert d.single and [r.math.text for r in d.rows] == ["\\operatorname{diag}(f_t)"]
    assert read_display("\\[ \\operatorname{diag}(f_t) \\]").single


def test_operators_that_continue_a_row():
    assert begins_with_operator("&\\quad + b") and begins_with_operator("  - c") and begins_with_operator("\\cdot x")
    assert not begins_with_operator("&= b") and not begins_with_operator("\\cdots")


@pytest.mark.parametrize("name", ["u_t", "\\hat{m}_{t+1}", "\\boldsymbol{\\delta}_t", "f_t'", "x^{(i)}",
                                  "\\mathcal{L}", "W_{f h}", "\\tilde{c}_t", "h_{t,i}"])
def test_one_symbol(name):
    assert is_symbol(name)


@pytest.mark.parametrize("text", ["W_1 h", "x^2", "ab", "f(x)", "\\frac{a}{b}", "2u", "\\hat{m}_{t+1}^2"])
def test_not_one_symbol(text):
    assert not is_symbol(text)


# -- refusals: each names its line and column ----------------------------------------------------------


@pytest.mark.parametrize("command", ["\\newcommand{\\x}{y}", "\\def\\x{y}", "\\input{/etc/passwd}", "\\include{a}",
                                     "\\immediate\\write18{ls}", "\\csname x\\endcsname", "\\renewcommand{\\a}{b}"])
def test_commands_that_define_or_read_are_refused_naming_the_line(command):
    with pytest.raises(DisplayError) as err:
        read_display(f"a = b\n  c = {command}\n")
    assert err.value.line == 2 and err.value.column == 7
    assert re.match(r"\\[A-Za-z]+", command).group(0) in str(err.value)


@pytest.mark.parametrize("text,line,column,words", [
    ("x\n\\begin{align}\na = b\n", 2, 1, "never closed"),
    ("\\begin{align}\na = b\n\\end{equation}", 3, 1, "does not close \\begin{align} opened at line 1"),
    ("a = b\n\\end{align*}", 2, 1, "closes nothing"),
    ("\\[ a = b", 1, 1, "never closed"),
    ("a = b \\]", 1, 7, "closes nothing"),
    ("\\begin{align}\n a = \\begin{cases} 1 \\end{align}", 2, 22, "does not close \\begin{cases}"),
])
def test_unbalanced_environments(text, line, column, words):
    with pytest.raises(DisplayError) as err:
        read_display(text)
    assert (err.value.line, err.value.column) == (line, column) and words in err.value.message


def test_control_characters_are_refused():
    with pytest.raises(DisplayError) as err:
        read_display("a = b\nc = \x07d")
    assert (err.value.line, err.value.column) == (2, 5)


def test_the_limits():
    assert len(read_display("a = b\n" * MAX_LINES).rows) == MAX_LINES  # at the limit: read
    with pytest.raises(DisplayError) as err:
        read_display("a = b\n" * MAX_LINES + "c = d")
    assert err.value.line == MAX_LINES + 1
    read_display("a = " + "b" * (MAX_LINE - 4))
    with pytest.raises(DisplayError) as err:
        read_display("a = b\n" + "c = " + "d" * MAX_LINE)
    assert err.value.line == 2 and "a line" in err.value.message
    with pytest.raises(DisplayError) as err:
        read_display(("x = " + "y" * 1000 + "\n") * (MAX_CHARS // 1000))
    assert "characters long" in err.value.message and err.value.line == MAX_CHARS // 1005 + 1
