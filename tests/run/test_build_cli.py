"""Rendering, building and the command line, read back from the PDFs (pypdf)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pypdf import PdfReader

from symdl.cli.main import main

TINY = '''
"""A tiny document for tests."""
import numpy as np
import sympy as sp
from symdl.verify.builders import numeric_equal, symbolic_equal
from symdl.document.derivation import Derivation, Figure, Section, Step, prose, tex
from symdl.model.reference import Input

x = sp.Symbol("x", real=True)

def fig(path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    f, a = plt.subplots(figsize=(3, 2))
    a.plot([0, 1, 2], [0, 1, 4])
    f.savefig(path, metadata={{"CreationDate": None}})
    plt.close(f)

def derivation():
    rhs = {rhs}
    return Derivation(
        slug="tiny", title={title!r}, description="tiny",
        question={question!r},
        sections=(Section({section!r}, (
            prose({prose!r}),
            Step("square", tex(r"(x + 1)^2 = x^2 + 2x + 1"), {reason!r},
                 checks=(symbolic_equal((x + 1) ** 2, rhs), numeric_equal((x + 1) ** 2, rhs, [Input(x)]))),
            Figure("parabola", "a parabola", fig),
        )),),
    )
'''

HOSTILE = r"\input{/etc/passwd} \write18{touch MARKER} \def\x{\x}\x % # & _ ^ ~ $ not math"


def write_doc(folder: Path, rhs="x**2 + 2*x + 1", title="Tiny", question="What is (x+1)^2?", section="Expand",
              prose_text="We expand.", reason="binomial"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.py").write_text(TINY.format(rhs=rhs, title=title, question=question, section=section,
                                                prose=prose_text, reason=reason))
    return folder


def pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)


def test_q1_builds_to_a_pdf_with_every_step_marked_and_a_ledger(tmp_path, capsys):
    assert main(["build", "q1_recurrent", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "[1/1] q1_recurrent" in out and f"wrote {tmp_path}/q1-recurrent.pdf" in out
    text = pdf_text(tmp_path / "q1-recurrent.pdf")
    assert "Ledger of the checks" in text
    for name in ("lstm.cell_jacobian", "rnn.jacobian_product", "lstm.state_jacobian"):
        assert name in text
    assert "refuted" not in text and "FAILED" not in text
    assert (tmp_path / "figures" / "q1-recurrent-norms.pdf").exists()


def test_hostile_text_is_shown_literally_and_nothing_runs(tmp_path, capsys):
    marker = tmp_path / "MARKER"
    docs = write_doc(tmp_path / "docs", title=HOSTILE, prose_text=HOSTILE.replace("$", "dollar"), reason=HOSTILE,
                     section=HOSTILE)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out")]) == 0
    finally:
        os.chdir(cwd)
    text = pdf_text(tmp_path / "out" / "tiny.pdf")
    assert r"\input{/etc/passwd}" in text and r"\write18{touch MARKER}" in text
    assert "root:" not in text
    assert not marker.exists()


def test_unsafe_math_in_prose_is_refused_with_the_module_and_line(tmp_path, capsys):
    docs = write_doc(tmp_path / "docs", prose_text=r"see $\input{/etc/passwd}$")
    assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "tiny.py:" in err and r"\input is not allowed" in err
    assert not (tmp_path / "out" / "tiny.pdf").exists()


def test_a_refuted_step_fails_the_build_and_keeps_the_last_good_pdf(tmp_path, capsys):
    out = tmp_path / "out"
    docs = write_doc(tmp_path / "docs")
    assert main(["build", "--derivations", str(docs), "--out", str(out)]) == 0
    good = (out / "tiny.pdf").read_bytes()
    write_doc(tmp_path / "docs", rhs="x**2 + x + 1")
    assert main(["build", "--derivations", str(docs), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "refuted: tiny: square" in err and "the last good .tex and PDF were left in place" in err
    assert (out / "tiny.pdf").read_bytes() == good
    assert "x^2 + 2x + 1" in (out / "tiny.tex").read_text()
    assert (out / "tiny.failed.tex").exists()


def test_a_tex_error_is_shown_as_file_line_message_with_an_excerpt(tmp_path, capsys):
    docs = write_doc(tmp_path / "docs")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "question.tex.j2").write_text(
        '((* extends "symdl/question.tex.j2" *))\n((* block intro *))\\undefinedcommandhere\n((* endblock *))\n')
    out = tmp_path / "out"
    assert main(["build", "--derivations", str(docs), "--out", str(out), "--templates", str(templates)]) == 2
    err = capsys.readouterr().err
    assert "tiny.failed.tex:" in err and "Undefined control sequence" in err and "\\undefinedcommandhere" in err
    assert "last good .tex and PDF" in err and not (out / "tiny.pdf").exists() and not (out / "tiny.tex").exists()


def test_without_latexmk_the_tex_is_written_and_the_packages_named(tmp_path):
    docs = write_doc(tmp_path / "docs")
    env = {**os.environ, "PATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "symdl.cli.main", "build", "--derivations", str(docs), "--out",
                           str(tmp_path / "out")], env=env, capture_output=True, text=True, cwd=os.getcwd())
    assert proc.returncode == 2
    assert "apt-get install texlive-latex-base" in proc.stderr and "latexmk" in proc.stderr
    assert (tmp_path / "out" / "tiny.tex").exists() and not (tmp_path / "out" / "tiny.pdf").exists()


def test_two_builds_in_two_folders_are_byte_identical(tmp_path):
    docs = write_doc(tmp_path / "docs")
    for name in ("a", "b"):
        assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / name)]) == 0
    for rel in ("tiny.tex", "tiny.pdf", "figures/tiny-parabola.pdf"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_list_names_references_and_derivations(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "lstm.cell_jacobian" in out and "q1_recurrent" in out and "RNN and LSTM gradients" in out


def test_verify_json_has_the_documented_shape(capsys):
    assert main(["verify", "--json", "rnn.state_jacobian"]) == 0
    data = json.loads(capsys.readouterr().out)
    (res,) = data["results"]
    assert res["name"] == "rnn.state_jacobian" and res["status"] == "verified"
    assert {c["method"] for c in res["checks"]} == {"symbolic", "numeric", "oracle"}
    assert all(isinstance(c["passed"], bool) and c["detail"] for c in res["checks"])


def test_verify_exits_1_on_a_refuted_step_and_2_on_unknown_names(tmp_path, capsys):
    docs = write_doc(tmp_path / "docs", rhs="x**2 + 1")
    assert main(["verify", "--derivations", str(docs), "tiny"]) == 1
    assert "refuted" in capsys.readouterr().out
    assert main(["verify", "no.such.thing"]) == 2
    err = capsys.readouterr().err
    assert "unknown reference or derivation 'no.such.thing'" in err and "lstm.cell_jacobian" in err
    assert main(["build", "no_such_doc"]) == 2
    assert "unknown derivation 'no_such_doc'" in capsys.readouterr().err


def test_a_derivation_module_that_raises_is_named_and_the_others_go_on(tmp_path, capsys):
    docs = write_doc(tmp_path / "docs")
    (docs / "broken.py").write_text(textwrap.dedent('''
        """Broken on purpose."""
        def derivation():
            raise RuntimeError("boom")
    '''))
    assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out"), "--no-pdf"]) == 2
    err = capsys.readouterr().err
    assert "broken.py:4: RuntimeError: boom" in err
    assert (tmp_path / "out" / "tiny.tex").exists()


def test_a_second_build_with_nothing_changed_is_skipped_and_a_change_rebuilds(tmp_path, capsys):
    docs = write_doc(tmp_path / "docs")
    out = tmp_path / "out"
    assert main(["build", "--derivations", str(docs), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["build", "--derivations", str(docs), "--out", str(out)]) == 0
    assert "up to date" in capsys.readouterr().out
    write_doc(tmp_path / "docs", reason="the binomial formula")
    assert main(["build", "--derivations", str(docs), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "up to date" not in text and "wrote" in text
    assert "the binomial formula" in pdf_text(out / "tiny.pdf")
    (out / "tiny.pdf").write_bytes(b"damaged")
    assert main(["build", "--derivations", str(docs), "--out", str(out)]) == 0
    assert "up to date" not in capsys.readouterr().out and pdf_text(out / "tiny.pdf")


def test_outputs_are_readable_by_others(tmp_path):
    docs = write_doc(tmp_path / "docs")
    assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out"), "--no-pdf"]) == 0
    assert (tmp_path / "out" / "tiny.tex").stat().st_mode & 0o044 == 0o044


def test_a_second_build_in_the_same_folder_waits_or_says_it_is_busy(tmp_path, capsys):
    from symdl.document.render import build_lock

    out = tmp_path / "out"
    docs = write_doc(tmp_path / "docs")
    with build_lock(out):
        assert main(["build", "--derivations", str(docs), "--out", str(out), "--no-wait"]) == 2
        assert "another symdl build is running" in capsys.readouterr().err


SLOW = '''
"""A document whose one check takes a minute, to be interrupted."""
import time
from symdl.document.derivation import Derivation, Section, Step, tex
from symdl.verify.spec import CheckSpec

def slow():
    time.sleep(60)
    return True, "slept", None

def derivation():
    return Derivation(slug="slow", title="Slow", description="slow", sections=(Section("S", (
        Step("wait", tex("x = x"), "a slow check", checks=(CheckSpec("numeric", "sleeps", slow),)),)),))
'''


def test_sigint_leaves_no_half_written_file(tmp_path):
    import signal
    import time

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "slow.py").write_text(SLOW)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "symdl.cli.main", "build", "--derivations", str(docs), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("[1/1] slow")  # the build is under way, inside the slow check
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".slow-")]
    assert leftovers == []
    assert not (out / "slow.pdf").exists() and not (out / "slow.tex").exists()


def test_the_audit_is_the_same_whatever_pythons_hash_seed(tmp_path):
    """Random draws once followed a set's order, which PYTHONHASHSEED changes from run to run."""
    texts = []
    for seed in ("1", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "symdl.cli.main", "build", "seed_audit", "--out", str(tmp_path / seed),
                        "--no-pdf", "--force"], env=env, capture_output=True, text=True, check=True)
        texts.append((tmp_path / seed / "seed-audit.tex").read_bytes())
    assert texts[0] == texts[1]
