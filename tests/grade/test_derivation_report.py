r"""The graded report: ``symdl check --file F --report out.pdf`` (issue 13, item 8).

The truth of each link of the LSTM derivation is computed here in torch float64 (``torch.func.jacrev``);
the PDF is read back with pdftotext and each mark is held against that truth, on its own line.  Hostile
text is rendered (no TeX needed) and the LaTeX source is searched for anything of the person's that
reached it unescaped; the build's failures are simulated, so that the last good PDF is seen to survive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symdl.document import report
from symdl.document.derivation import MATH_COMMANDS
from symdl.document.render import BuildError
from symdl.grade.derivation import check_derivation

ROOT = Path(__file__).resolve().parents[2]

def needs_tex(test):
    """Marked as the document builds' tests are: slow, tex, and skipped where TeX or pdftotext is missing."""
    for mark in (pytest.mark.slow, pytest.mark.tex,
                 pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("latexmk") is None,
                                    reason="needs pdftotext and latexmk")):
        test = mark(test)
    return test

D = torch.float64

EXPLICIT = (r"\operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} \odot f_t \odot (1 - f_t)) W_{fh} D "
            r"+ \operatorname{diag}(g_t \odot i_t \odot (1 - i_t)) W_{ih} D")
#: A correct chain until line 7, where the input gate's tanh' term is dropped (the g gate's term).
WRONG = rf"""We name the pre-activations as we go.
\begin{{align*}}
  u_f &= W_{{fh}} h_{{t-1}} + W_{{fx}} x_t + b_f \\
  f_t &= \sigma(u_f) \\
  c_t &= f_t \odot c_{{t-1}} + i_t \odot g_t \quad \text{{(equation 1)}} \\
  \frac{{\partial c_t}}{{\partial c_{{t-1}}}} &= \operatorname{{diag}}(f_t) + \operatorname{{diag}}(c_{{t-1}}) \frac{{\partial f_t}}{{\partial c_{{t-1}}}} + \operatorname{{diag}}(g_t) \frac{{\partial i_t}}{{\partial c_{{t-1}}}} + \operatorname{{diag}}(i_t) \frac{{\partial g_t}}{{\partial c_{{t-1}}}} \\
  &= {EXPLICIT}, \quad D = \operatorname{{diag}}(o_{{t-1}} \odot (1 - \tanh^2(c_{{t-1}})))
\end{{align*}}
So the cell state's Jacobian has four terms.
"""


def lstm_truths(seed: int = 0) -> dict:
    """Whether each link of WRONG holds, by torch: lines 4 and 5 (the gate and the cell), line 6 (the
    four-term chain rule against jacrev) and line 7 (the explicit two-term form against line 6)."""
    g = torch.Generator().manual_seed(seed)
    n, m = 3, 2
    W = {f"{a}{b}": torch.randn(n, n if b == "h" else m, generator=g, dtype=D) for a in "fiog" for b in "hx"}
    b = {a: torch.randn(n, generator=g, dtype=D) for a in "fiog"}
    x, o_prev, c0 = torch.randn(m, generator=g, dtype=D), torch.rand(n, generator=g, dtype=D), \
        torch.randn(n, generator=g, dtype=D)

    def gate(a, c):
        pre = W[a + "h"] @ (o_prev * torch.tanh(c)) + W[a + "x"] @ x + b[a]
        return torch.tanh(pre) if a == "g" else torch.sigmoid(pre)

    def cell(c):
        return gate("f", c) * c + gate("i", c) * gate("g", c)

    jac = {a: torch.func.jacrev(lambda c, a=a: gate(a, c))(c0) for a in "fig"}
    f, i, gg = (gate(a, c0) for a in "fig")
    chain = torch.diag(f) + torch.diag(c0) @ jac["f"] + torch.diag(gg) @ jac["i"] + torch.diag(i) @ jac["g"]
    dh = torch.diag(o_prev * (1 - torch.tanh(c0) ** 2))
    two_terms = torch.diag(f) + torch.diag(c0 * f * (1 - f)) @ W["fh"] @ dh + torch.diag(gg * i * (1 - i)) @ W["ih"] @ dh
    return {6: torch.allclose(torch.func.jacrev(cell)(c0), chain), 7: torch.allclose(chain, two_terms)}


def pdf_lines(pdf: Path, layout: bool = True) -> list[str]:
    """The PDF's text, line by line; with ``layout`` a formula and the mark at its right share a line."""
    flags = ["-layout"] if layout else []
    return subprocess.run(["pdftotext", *flags, "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout.splitlines()


@needs_tex
def test_a_wrong_step_in_the_middle_is_marked_on_its_line_with_its_diagnosis(tmp_path):
    truth = lstm_truths()
    assert truth == {6: True, 7: False}
    src, out = tmp_path / "lstm.tex", tmp_path / "marked.pdf"
    src.write_text(WRONG)
    proc = subprocess.run([sys.executable, "-m", "symdl.cli.main", "check", "--file", str(src), "--against",
                           "lstm.cell_jacobian", "--json", "--report", str(out)], capture_output=True, text=True,
                          check=False)
    answer = json.loads(proc.stdout)  # --report leaves the JSON on standard output as it was
    assert proc.returncode == 1 and answer["first_wrong"] == 4 and f"wrote {out}" in proc.stderr
    lines = pdf_lines(out)
    marked = {int(m.group(1)): ln for ln in lines for m in [re.search(r"line (\d+) ", ln)] if m}
    assert set(marked) == {3, 4, 5, 6, 7}
    for k, holds in truth.items():
        assert ("not equivalent" in marked[k]) is (not holds) and "equivalent" in marked[k]
    assert "definition" in marked[3] and "equivalent" in marked[4] and "not equivalent" not in marked[5]
    after = lines[lines.index(marked[7]):]
    diagnosis = next(i for i, ln in enumerate(after) if "A missing term" in ln)
    assert "Wgh" in " ".join(after[diagnosis:diagnosis + 3])  # the dropped term is the g gate's
    assert not any("line" in ln and "equivalent" in ln for ln in after[1:diagnosis])  # under line 7, not later
    flowing = " ".join(pdf_lines(out, layout=False))  # the evidence box in reading order
    assert re.search(r"line 7 .*A missing term.*A point where the two sides differ.*relative error.*"
                     r"The final answer", flowing)
    assert "So the cell state" in "\n".join(lines)  # the person's prose, in its place


@needs_tex
def test_hostile_text_is_typeset_verbatim_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    text = (f"prose ^^5cinput{{/etc/passwd}} and $x$\n\\[ f_t = \\sigma(\\jobname) \\quad \\text{{{marker}}} \\]\n"
            f"\\[ i_t = \\openout{marker} \\]\n")
    out = tmp_path / "hostile.pdf"
    answer = check_derivation(text, model="lstm")
    report.write_report(out, text, answer)
    body = "\n".join(pdf_lines(out))
    assert out.exists() and not marker.exists()
    assert "\\openout" in body and "^^5cinput" in body  # shown as written, never run


def test_without_tex_the_report_is_an_error_and_no_file(tmp_path):
    src, out = tmp_path / "d.tex", tmp_path / "marked.pdf"
    src.write_text(WRONG)
    env = {**os.environ, "PATH": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "symdl.cli.main", "check", "--file", str(src), "--report", str(out)],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "--report needs TeX" in proc.stderr and "apt-get install" in proc.stderr
    assert list(tmp_path.iterdir()) == [src]


def test_report_and_batch_do_not_go_together(tmp_path, capsys):
    from symdl.cli.main import main

    assert main(["check", "--batch", str(tmp_path / "b.jsonl"), "--report", str(tmp_path / "r.pdf")]) == 2
    assert "does not go with --batch" in capsys.readouterr().err


# -- what reaches TeX --------------------------------------------------------------------------------

#: The control sequences a rendered report may hold: the templates' own, the whitelisted mathematics,
#: and the spellings of escaped characters.
TEMPLATES = ROOT / "symdl" / "templates"
ALLOWED = (set(re.findall(r"\\([A-Za-z]+)", "".join(p.read_text() for p in TEMPLATES.glob("*.j2"))))
           | MATH_COMMANDS | {"textbackslash", "textasciicircum", "textasciitilde", "allowbreak", "ttfamily",
                              "raggedright", "begin", "end", "left", "right", "times", "infty", "text"})
HOSTILE = ["\\write18{rm -rf x}", "\\input{/etc/passwd}", "\\csname foo\\endcsname", "^^5cinput", "\x07", "\x1b[2J",
           "\\catcode`\\@=11", "\\jobname", "\\openout", "\\makeatletter", "$\\jobname$", "%", "#", "&", "~",
           "\\text{\\jobname}", "\\begin{verbatim}", "\\end{align*}", "σ"]


def commands(source: str) -> set[str]:
    """The control sequences TeX would read in ``source`` (``\\\\`` and escaped characters aside)."""
    return set(re.findall(r"(?<!\\)(?:\\\\)*\\([A-Za-z]+)", source))


@pytest.mark.parametrize("payload", HOSTILE)
@pytest.mark.parametrize("where", ["prose @@ here", r"\[ f_t = \sigma(@@) \]", r"\[ f_t = \sigma(u) \quad \text{@@} \]",
                                   "f_t = @@", "@@"])
def test_hostile_text_never_reaches_tex_unescaped(payload, where):
    text = where.replace("@@", payload)
    answer = check_derivation(text, model="lstm", timeout=5)
    source = report.render_report(text, answer, title=payload)
    assert commands(source) <= ALLOWED, commands(source) - ALLOWED
    assert "^^" not in source and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", source)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(list("\\{}$^_%&#~ \n()=+-") + ["\\write18", "\\input", "\\text", "f_t", "\\sigma",
                                                               "\\[", "\\]", "\x07", "\\begin{align*}",
                                                               "\\end{align*}"]), max_size=40).map("".join))
def test_any_text_renders_with_only_allowed_commands(text):
    answer = check_derivation(text, model="lstm", timeout=5, total_timeout=10)
    source = report.render_report(text, answer)
    assert commands(source) <= ALLOWED, commands(source) - ALLOWED
    assert "^^" not in source and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", source)


# -- the build: atomic, and a line TeX cannot set shown verbatim ---------------------------------------


def test_a_failed_build_leaves_the_last_good_pdf(tmp_path, monkeypatch):
    out = tmp_path / "marked.pdf"
    out.write_bytes(b"%PDF the last good one")

    def fail(tex_path, workdir, timeout):
        raise BuildError("TeX failed on report.tex")

    monkeypatch.setattr(report, "latexmk_available", lambda: True)
    monkeypatch.setattr(report, "compile_pdf", fail)
    answer = check_derivation(WRONG, against="lstm.cell_jacobian")
    with pytest.raises(report.ReportError, match="was not written"):
        report.write_report(out, WRONG, answer)
    assert out.read_bytes() == b"%PDF the last good one" and list(tmp_path.iterdir()) == [out]


def test_when_tex_cannot_set_a_line_every_line_is_shown_as_written(tmp_path, monkeypatch):
    sources = []

    def compile_second(tex_path, workdir, timeout):
        sources.append(tex_path.read_text())
        if len(sources) == 1:
            raise BuildError("report.tex:40: Missing \\right. inserted")
        (workdir / "report.pdf").write_bytes(b"%PDF verbatim")
        return workdir / "report.pdf"

    monkeypatch.setattr(report, "latexmk_available", lambda: True)
    monkeypatch.setattr(report, "compile_pdf", compile_second)
    answer = check_derivation(WRONG, against="lstm.cell_jacobian")
    report.write_report(tmp_path / "marked.pdf", WRONG, answer)
    assert (tmp_path / "marked.pdf").read_bytes() == b"%PDF verbatim"
    assert r"\begin{align*}" in sources[0] and r"\begin{align*}" not in sources[1]
    assert "every line is shown as written" in sources[1] and r"f\_t =\allowbreak{} \textbackslash{}sigma(" in sources[1]
