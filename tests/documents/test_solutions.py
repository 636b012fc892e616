"""The three worked solutions read as a solution manual: typeset mathematics, no implementation words, and a
framed short answer for every sub-question the seed answers (issue 15).

The documents are built once into a temporary folder (``symdl build NAME --out DIR``) and read back: the body
text with pdftotext, up to the appendix (the audit of the seed and the ledger, where names of checks belong),
and the framed answers from the .tex the build writes beside the PDF.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from symdl.cli.main import main

pytestmark = [pytest.mark.slow, pytest.mark.tex,
              pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("latexmk") is None,
                                 reason="needs pdftotext and latexmk")]

DOCUMENTS = {"q1_recurrent": "q1-recurrent", "q2_optimisation": "q2-optimisation", "q3_energy": "q3-energy"}
#: Every document the project builds: the worked solutions above, the GRU's and the seed audit.
ALL = {**DOCUMENTS, "gru_update_gate": "gru-update-gate", "seed_audit": "seed-audit"}

#: The sub-questions each seed answer is filed under: question 1 is one answer; question 2's parts (a) to (h),
#: and the learning-rate rule after (h), which the documents call (i); question 3's parts (a) to (f).
SEED_LABELS = {
    "q1-recurrent": ("",),
    "q2-optimisation": tuple("abcdefghi"),
    "q3-energy": tuple("abcdef"),
}

#: What raw markup looks like once it reaches a reader: TeX that was printed instead of typeset, and the ASCII
#: spellings of formulas (sigma(...), c_(t-1)).
RAW_MARKUP = {
    "a subscript in braces": re.compile(r"_\{"),
    "a superscript in braces": re.compile(r"\^\{"),
    "a TeX command": re.compile(r"\\[A-Za-z]+"),
    "sigma written in letters": re.compile(r"\bsigma\("),
    "an ASCII subscript": re.compile(r"_\(t"),
}

#: Words of the implementation that have no place in a student's text.
IMPLEMENTATION = {
    "SymPy": re.compile(r"\bsympy\b", re.I),
    "a SymPy call": re.compile(r"\bsp\.[a-z]"),
    "gammasimp": re.compile(r"gammasimp"),
    "the engine": re.compile(r"\bthe engine\b", re.I),
    "the contract": re.compile(r"\bthe contract\b", re.I),
    "at(gap=k)": re.compile(r"at\(gap"),
    "symdl's API": re.compile(r"symdl\.[a-z]"),
    "a reference name": re.compile(r"\b(?:rnn|lstm|optim|ebm|contrastive|latent)\.[a-z_]+[a-z]"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("solutions")
    assert main(["build", *ALL, "--out", str(out)]) == 0
    return out


def body_text(pdf) -> str:
    """The text a reader meets before the appendix (the audit and the ledger)."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    cut = min((m.start() for m in (re.search(r"^\f?Appendix\s*$", text, re.M), re.search("Ledger of the checks", text))
               if m), default=len(text))
    return text[:cut]


def framed_answers(tex: str) -> dict[str, str]:
    """label -> the text of the framed answer opening with "Answer (label)." ("" for a lone "Answer.")."""
    out = {}
    for m in re.finditer(r"\\begin\{answer\}(.*?)\\end\{answer\}", tex, re.S):
        head = re.match(r"\s*\\textbf\{Answer(?: \(([a-z])\))?\.\}", m.group(1))
        if head:
            out[head.group(1) or ""] = m.group(1)[head.end():]
    return out


@pytest.mark.parametrize("slug", [*DOCUMENTS.values(), "gru-update-gate"])
def test_body_text_has_no_raw_markup_and_no_implementation_words(built, slug):
    body = body_text(built / f"{slug}.pdf")
    assert len(body) > 2000, "the body text was not found"
    found = []
    for table in (RAW_MARKUP, IMPLEMENTATION):
        for what, pattern in table.items():
            for m in pattern.finditer(body):
                found.append(f"{what}: ...{body[max(m.start() - 40, 0):m.end() + 40]!r}...")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("slug", DOCUMENTS.values())
def test_every_sub_question_of_the_seed_opens_with_a_framed_answer(built, slug):
    answers = framed_answers((built / f"{slug}.tex").read_text(encoding="utf-8"))
    missing = [label for label in SEED_LABELS[slug] if label not in answers]
    assert not missing, f"no framed answer for {missing}; found {sorted(answers)}"
    for label in SEED_LABELS[slug]:
        assert len(answers[label].split()) >= 12, f"the answer to ({label}) is too short to answer anything"
    body = body_text(built / f"{slug}.pdf")
    for label in SEED_LABELS[slug]:
        assert (f"Answer ({label})." if label else "Answer.") in body


def test_a_body_with_raw_markup_is_caught(tmp_path):
    """The patterns catch what issue 15 found in the documents."""
    for sample in ("h_t = sigma(W_1 h_{t-1})", r"\nabla \ell_i", "f_t * c_(t-1)", "x^{2}"):
        assert any(p.search(sample) for p in RAW_MARKUP.values()), sample
    for sample in ("SymPy's diff", "lstm.cell_jacobian", "the engine differentiates", "sp.diff", "at(gap=k)"):
        assert any(p.search(sample) for p in IMPLEMENTATION.values()), sample


#: TeX's word for a line it let run into the margin: in a paragraph ("in paragraph at lines 58--59") or in display
#: mathematics ("detected at line 61").
OVERFULL = re.compile(r"^Overfull \\hbox \(([\d.]+)pt too wide\) (in paragraph at lines|detected at line) ([\d-]+)", re.M)


def overfull(log: str) -> list[str]:
    return [f"{'display' if m.group(2).startswith('detected') else 'paragraph'} at line {m.group(3)}: "
            f"{m.group(1)}pt too wide" for m in OVERFULL.finditer(log)]


@pytest.mark.parametrize("slug", ALL.values())
def test_no_line_runs_into_the_margin(built, slug, tmp_path):
    """The .tex the build wrote, typeset again here so that its LaTeX log can be read: no display and no line of
    text is wider than the text block."""
    from symdl.document.render import compile_pdf

    work = tmp_path / "tex"
    shutil.copytree(built, work, ignore=lambda folder, names: [n for n in names if folder == str(built)
                                                               and (n.endswith(".pdf") or n.startswith(".symdl"))])
    compile_pdf(work / f"{slug}.tex", work)
    log = (work / f"{slug}.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log or overfull(log), "the log's overfull boxes were not read"
    assert not overfull(log), "\n".join(overfull(log))


def test_overfull_lines_are_read_from_a_log():
    log = ("Overfull \\hbox (252.40712pt too wide) detected at line 61\n[][]\n"
           "Overfull \\hbox (0.53873pt too wide) in paragraph at lines 255--255\n")
    assert overfull(log) == ["display at line 61: 252.40712pt too wide", "paragraph at line 255--255: 0.53873pt too wide"]
