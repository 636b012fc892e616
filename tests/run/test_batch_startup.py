r"""What ``symdl check --batch`` does before its first line, and that doing less of it changes no verdict.

The parser's LALR tables are cached in this user's cache folder
(:mod:`symdl.reader.grammar`): a parser read back from the cache must read
every form exactly as one built from the grammar (the same tree, the same
positions, the same errors), the file must be written atomically and only
trusted when it is this user's, and a cache that cannot be used must leave
the parser built as before.  The command's output must be the same bytes
whatever ``--jobs`` is and whether the cache was cold or warm.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lark
import pytest
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from symdl.reader import grammar

SYMDL = str(Path(sys.executable).parent / "symdl")

#: Forms that exercise the grammar: scripts, primes, accents, fractions, norms and bars (the
#: post-lexer's work), conditionals, big operators, matrices, equations; then forms that fail.
FORMS = [
    r"\operatorname{diag}(f_t) + \left[\operatorname{diag}(c_{t-1} \odot f_t \odot (1 - f_t)) W_{fh}\right]",
    r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(\sigma'(a_t)) W_1^\top",
    r"w_{t+1} = w_t - \gamma \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}",
    r"\|x - y\|^2 + |B| \cdot \lVert W \rVert + \|\|a\| b\|",
    r"\mathbb{P}(y \mid x) = \frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\, dy'}",
    r"P(y | x) + |a - |b||",
    r"\sum_{i=1}^{N} \log p(x_i) - \min_{z \in \mathcal{Z}} E(x, z)",
    r"\begin{bmatrix} a & b \\ c & d \end{bmatrix} [x, y]",
    r"\tilde{c}_t \circ \boldsymbol{h}_{t-1}' \times 2.5 / 10^{-12} I",
    r"\nabla_{w} L(w_t) \leftarrow \tanh^2(c_{t-1})^\top",
    r"\frac{", r"w_t + \input{/etc/passwd}", r"a +", r"(a", r"a ) b", r"\|x", "x $ y", "", "\\",
]


def _shape(node):
    """A tree with every token's type, text and span and every node's span: what ``==`` on lark
    trees leaves out (a Token compares equal to any string with its text)."""
    if isinstance(node, Token):
        return ("token", node.type, str(node), node.start_pos, node.end_pos)
    assert isinstance(node, Tree)
    meta = node.meta
    span = (getattr(meta, "start_pos", None), getattr(meta, "end_pos", None))
    return (str(node.data), span, [_shape(c) for c in node.children])


def _reading(parser, text):
    try:
        return _shape(parser.parse(text))
    except UnexpectedInput as exc:
        return (type(exc).__name__, getattr(exc, "pos_in_stream", None), str(getattr(exc, "token", "")),
                sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ()))


def _built() -> Lark:
    return Lark(grammar.GRAMMAR, postlex=grammar.NormBars(), **grammar.OPTIONS)


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "symdl"


def _no_building(monkeypatch):
    """From here on, building the LALR tables fails: a parser can only come from the cache."""
    def refuse(self):
        raise AssertionError("the parser was built, not read from the cache")

    monkeypatch.setattr(Lark, "_build_parser", refuse)


def test_a_parser_read_from_the_cache_reads_every_form_as_a_built_one(cache_home, monkeypatch):
    first = grammar.parser.__wrapped__()  # builds and saves
    files = sorted(p.name for p in cache_home.iterdir())
    assert files == [f"parser-{grammar.cache_key()}.lark"]  # no temporary file left behind
    path = cache_home / files[0]
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_bytes().startswith(grammar.MAGIC + grammar.cache_key().encode() + b"\n")
    built = _built()
    _no_building(monkeypatch)
    cached = grammar.parser.__wrapped__()
    assert isinstance(cached.options.postlex, grammar.NormBars)
    for text in FORMS:
        want = _reading(built, text)
        assert _reading(cached, text) == want, text
        assert _reading(first, text) == want, text
    ok = [t for t in FORMS if _reading(built, t)[0] == "start" or _reading(built, t)[0] == "equation"]
    assert len(ok) >= 8  # the comparison covered forms that read, not only failures


def test_the_cache_is_keyed_by_the_grammar(cache_home, monkeypatch):
    with pytest.raises(UnexpectedInput):
        grammar.parser.__wrapped__().parse(r"a \gets b")  # the grammar does not know \gets
    old = grammar.cache_key()
    monkeypatch.setattr(grammar, "GRAMMAR", grammar.GRAMMAR.replace('":="', '":=" | "\\\\gets"', 1))
    assert grammar.cache_key() != old
    new = grammar.parser.__wrapped__()  # built from the changed grammar: the old tables would not read \gets
    assert new.parse(r"a \gets b").data == "equation"
    assert {p.name for p in cache_home.iterdir()} == {f"parser-{old}.lark", f"parser-{grammar.cache_key()}.lark"}


@pytest.mark.parametrize("damage", ["other users may write it", "garbage after the key", "another key",
                                    "truncated"])
def test_a_cache_file_that_is_not_trusted_or_not_whole_is_replaced_not_read(cache_home, damage, monkeypatch):
    grammar.parser.__wrapped__()
    path = cache_home / f"parser-{grammar.cache_key()}.lark"
    good = path.read_bytes()
    if damage == "other users may write it":  # whole and valid, but a pickle anyone could have written
        path.chmod(0o666)
    elif damage == "garbage after the key":
        path.write_bytes(grammar.MAGIC + grammar.cache_key().encode() + b"\n" + b"\x80\x05garbage")
    elif damage == "another key":
        path.write_bytes(good.replace(grammar.cache_key().encode(), b"0" * 32, 1))
    else:
        path.write_bytes(good[: len(good) // 2])
    builds = []
    build = Lark._build_parser
    monkeypatch.setattr(Lark, "_build_parser", lambda self: builds.append(1) or build(self))
    want = _reading(_built(), FORMS[3])
    assert len(builds) == 1
    assert _reading(grammar.parser.__wrapped__(), FORMS[3]) == want
    assert len(builds) == 2  # built, not read
    assert path.stat().st_mode & 0o777 == 0o600  # saved again, private
    _no_building(monkeypatch)
    assert _reading(grammar.parser.__wrapped__(), FORMS[3]) == want  # and whole: it is read back


def test_a_cache_folder_that_cannot_be_made_leaves_the_parser_built(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    parser = grammar.parser.__wrapped__()
    assert _reading(parser, FORMS[0]) == _reading(_built(), FORMS[0])
    assert blocker.read_text() == "a file where the cache folder would be"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]


def test_processes_filling_an_empty_cache_at_once_all_read_correctly(tmp_path):
    # pretty(), not str(): a built parser labels its nodes with lark Tokens, a loaded one with plain
    # strings, which lark (and the reader) compare as equal
    script = ("import json, sys; from symdl.reader.grammar import parser; "
              "print(json.dumps(parser().parse(sys.argv[1]).pretty()))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", script, FORMS[3]], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    want = json.dumps(_built().parse(FORMS[3]).pretty())
    assert [(p.returncode, o.strip(), e) for p, (o, e) in zip(procs, outs)] == [(0, want, "")] * 4
    assert sorted(p.name for p in (tmp_path / "symdl").iterdir()) == [f"parser-{grammar.cache_key()}.lark"]


# -- the command: the same bytes whatever --jobs is and however warm the cache ----------------------


LINES = [
    ("optim.heavy_ball", r"w_t - \gamma g_t + \beta (w_t - w_{t-1})"),
    ("optim.heavy_ball", r"w_t - \gamma g_t"),
    ("rnn.state_jacobian", r"\operatorname{diag}(\sigma'(a_t)) W_1"),
    ("rnn.state_jacobian", r"W_1^\top \operatorname{diag}(\sigma'(a_t))"),
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(i_t)"),
    ("ebm.gibbs", r"\frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\, dy'}"),
    ("ebm.gibbs", r"\exp(-\beta F(x,y))"),
    ("optim.adam", r"w_t + \input{/etc/passwd}"),
    ("optim.adam", r"\frac{"),
    ("nope.nothing", "x"),
]


def _batch() -> str:
    rows = [json.dumps({"id": f"s{i}", "against": a, "latex": t}) for i, (a, t) in enumerate(LINES)]
    return "\n".join(rows[:4] + ["this is not json", '{"id": 3}'] + rows[4:]) + "\n"


def test_the_output_is_the_same_bytes_with_one_or_two_jobs_and_a_cold_or_warm_cache(tmp_path):
    runs = {}
    for label, jobs in (("cold, 1 job", "1"), ("warm, 2 jobs", "2"), ("warm, 1 job", "1")):
        proc = subprocess.run([SYMDL, "check", "--batch", "-", "--jobs", jobs], input=_batch().encode(), capture_output=True,
                              env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)}, timeout=300)
        assert proc.returncode == 0, proc.stderr
        runs[label] = proc.stdout
    assert runs["cold, 1 job"] == runs["warm, 2 jobs"] == runs["warm, 1 job"]
    out = [json.loads(line) for line in runs["cold, 1 job"].splitlines()]
    assert [o["verdict"] for o in out] == ["equivalent", "not_equivalent", "equivalent", "not_equivalent", "error",
                                           "error", "not_equivalent", "equivalent", "not_equivalent", "error",
                                           "error", "error"]
    assert out[10]["position"] == 6 and "unknown reference 'nope.nothing'" in out[11]["message"]
    assert (tmp_path / "symdl" / f"parser-{grammar.cache_key()}.lark").exists()


def test_a_fifo_where_the_cache_file_would_be_is_not_waited_on(tmp_path):
    # a reader opening a FIFO waits for a writer: the grader would hang before its first line
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    (tmp_path / "symdl").mkdir()
    os.mkfifo(tmp_path / "symdl" / f"parser-{grammar.cache_key()}.lark")
    script = "from symdl.reader.grammar import parser; print(parser().parse('a + b').data)"
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout.strip()) == (0, "start")
