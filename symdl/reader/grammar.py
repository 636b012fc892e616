"""The grammar of the notation of REFERENCES.md (LALR(1), lark) and its parser.

The grammar lives in this module (not in a data file) so that it ships with
the package.  The parser is built once per process; building its LALR tables
takes 40-80 ms, loading them with ``Lark.load`` about 4 ms.  The cache file is
``$XDG_CACHE_HOME/symdl/parser-<key>.lark`` (``~/.cache/symdl`` by default),
the key a hash of the grammar, the parser's options, lark's and Python's
versions: a changed grammar is a new file, never a stale one.  It is written
atomically (``Lark.save`` to a private temporary file, renamed into place), and
read only when it belongs to this user, nobody else may write it and its first
line carries the key; otherwise, or when it cannot be read, the parser is built
as before.  A cache folder that cannot be made or written just means no cache.
(lark's own ``cache=`` option writes its file in place and hashes the file's
name into its check, so a file renamed into place would never match.)
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
from functools import lru_cache

from lark.lark import PostLex

GRAMMAR = r"""
// The notation of REFERENCES.md, as an LALR(1) grammar for lark.
//
// The tree says how the text is put together; symdl.reader.builder turns it
// into SymPy objects in one reference's symbols.  Names (c_{t-1}, W_{fh},
// \tilde{c}_t) are not terminals: a name is an atom with its subscripts and
// primes, resolved against the reference's symbols after parsing.
//
// Precedence, loosest first: equation, + and -, \odot / \cdot / "/", juxtaposition,
// postfix scripts and primes, atoms.

start: expr
     | expr EQUALS expr                  -> equation

?expr: sum

?sum: product
    | MINUS product                      -> neg
    | PLUS product                       -> pos
    | sum PLUS product                   -> add
    | sum MINUS product                  -> sub

?product: juxt
        | product ODOT juxt              -> odot
        | product CDOT juxt              -> cdot
        | product SLASH juxt             -> div

juxt: postfix+

postfix: atom suffix*

suffix: "_" script                       -> sub
      | "^" script                       -> sup
      | PRIME                            -> prime

script: SINGLE                           -> script_char
      | GREEK                            -> script_greek
      | TOP                              -> script_top
      | PRIMECMD                         -> script_prime
      | "{" subcontent "}"               -> script_group

?subcontent: expr
           | PRIME                       -> prime_only
           | PRIMECMD                    -> prime_only
           | TOP                         -> top_only
           | expr EQUALS expr            -> sub_eq
           | expr IN expr                -> sub_in
           | expr TO expr                -> sub_to
           | expr SIM expr               -> sub_sim
           | expr ("," expr)+            -> sub_list

?atom: NAME                              -> name
     | NUMBER                            -> number
     | GREEK                             -> greek
     | FUNC                              -> func
     | OPNAME                            -> opname
     | CAL                               -> cal
     | BOLD atom                         -> bold
     | ACCENT atom                       -> accent
     | "{" expr "}"                      -> group
     | "(" expr ")"                      -> paren
     | "(" expr ("," expr)+ ")"          -> tuple
     | "(" expr ("," expr)* MID expr ")" -> conditional
     | "[" expr "]"                      -> bracket
     | "[" expr ("," expr)+ "]"          -> concat
     | FRAC atom atom                    -> frac
     | FRACDIGITS                        -> frac_digits
     | SQRT atom                         -> sqrt
     | PARTIAL                           -> partial
     | NABLA                             -> nabla
     | BIGOP                             -> bigop
     | INFTY                             -> infty
     | LNORM expr RNORM                  -> norm
     | LBAR expr RBAR                    -> abs
     | BEGIN rows END                    -> matrix
     | CASES branches ENDCASES           -> cases

rows: row (ROWSEP row)* ROWSEP?
row: expr ("&" expr)*
branches: branch (ROWSEP branch)* ROWSEP?
branch: expr ","? "&" condition ","?
condition: IFWORD? expr (EQUALS | REL) expr
         | OTHERWISE                     -> otherwise

EQUALS: "=" | "\\leftarrow" | ":="
MINUS: "-"
PLUS: "+"
SLASH: "/"
ODOT: /\\(odot|circ)(?![A-Za-z])/
CDOT: /\\(cdot|times)(?![A-Za-z])/
IN: /\\in(?![A-Za-z])/
SIM: /\\sim(?![A-Za-z])/
REL: /\\(geq?|leq?|neq?|geqslant|leqslant)(?![A-Za-z])/ | "<" | ">"
IFWORD.2: /\\(text|textrm|mathrm)\s*\{\s*(if|for|when)\s*\}/
OTHERWISE.2: /\\(text|textrm|mathrm)\s*\{\s*(otherwise|else)\s*\}/
CASES: /\\begin\s*\{d?cases\}/
ENDCASES: /\\end\s*\{d?cases\}/
TO: /\\(to|rightarrow)(?![A-Za-z])/
MID: /\\mid(?![A-Za-z])/ | "|"
PRIME: "'"
PRIMECMD: /\\prime(?![A-Za-z])/
TOP: /\\(top|intercal|mathsf\s*\{\s*T\s*\})(?![A-Za-z])/
NAME: /[A-Za-z]+/
SINGLE: /[A-Za-z0-9]/
NUMBER: /[0-9]+(\.[0-9]+)?/
GREEK: /\\(alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|lambda|mu|nu|xi|pi|rho|sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Pi|Sigma|Phi|Psi|Omega|ell)(?![A-Za-z])/
FUNC: /\\(tanh|exp|log|ln|sin|cos)(?![A-Za-z])/
OPNAME: /\\(operatorname|mathrm|text|textrm|mathit|textit)\s*\{[A-Za-z ]*\}/
CAL: /\\(mathcal|mathbb)\s*\{[A-Za-z]\}/
BOLD: /\\(boldsymbol|mathbf|bm|pmb|vec|textbf|emph)(?![A-Za-z])/
ACCENT: /\\(tilde|hat|bar|widetilde|widehat|overline|dot)(?![A-Za-z])/
FRACDIGITS.2: /\\[dt]?frac\s*[0-9]\s*[0-9](?![0-9])/
FRAC: /\\[dt]?frac(?![A-Za-z])/
SQRT: /\\sqrt(?![A-Za-z])/
PARTIAL: /\\partial(?![A-Za-z])/
NABLA: /\\nabla(?![A-Za-z])/
BIGOP: /\\(sum|prod|int|lim|min|max|argmin|argmax|arg\s*\\(min|max)|operatorname\s*\*?\s*\{\s*arg\s*(\\,)?\s*(min|max)\s*\}|mathbb\s*\{E\}|mathbb\s*E)(?![A-Za-z])/
INFTY: /\\infty(?![A-Za-z])/
DBAR.2: /\\\||\|\||\\Vert(?![A-Za-z])/
LNORM: /\\lVert(?![A-Za-z])/
RNORM: /\\rVert(?![A-Za-z])/
LBAR: /\\lvert(?![A-Za-z])/
RBAR: /\\rvert(?![A-Za-z])/
BEGIN: /\\begin\s*\{[bpv]?matrix\}/
END: /\\end\s*\{[bpv]?matrix\}/
ROWSEP: "\\\\"

// Sizes and spacing are layout, not mathematics.
SIZE: /\\(left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![A-Za-z])(\s*\.)?/
SPACE: /\\[,;:! ]/ | /\\(quad|qquad|displaystyle|textstyle)(?![A-Za-z])/ | "~"
%import common.WS
%ignore WS
%ignore SIZE
%ignore SPACE
"""


#: Tokens after which a ``\|`` or ``||`` closes an open norm rather than opening another.
OPERAND_ENDS = frozenset({"NAME", "NUMBER", "SINGLE", "RPAR", "RSQB", "RBRACE", "PRIME", "GREEK", "TOP", "INFTY",
                          "RNORM", "RBAR", "CAL", "OPNAME"})


def _norm_bars(stream):
    r"""``\|``, ``\Vert`` and ``||`` are all delimiters of a norm, ``|`` of an absolute value (``|B|``) or
    the bar of ``P(y | x)``; which one is decided from the token before (an LALR grammar
    cannot tell an opening bar from a closing one)."""
    depth, bars, prev, limits = 0, 0, None, _Limits()
    for tok in stream:
        after_limits = limits.after(tok)
        if tok.type == "MID" and str(tok) == "|" and after_limits and not bars:  # \sum_j |z_j|: opens
            tok.type, bars, prev = "LBAR", bars + 1, "LBAR"
            yield tok
            continue
        if tok.type == "DBAR":
            if depth and prev in OPERAND_ENDS:
                tok.type, depth = "RNORM", depth - 1
            else:
                tok.type, depth = "LNORM", depth + 1
        elif tok.type == "MID" and str(tok) == "|":
            if bars and prev in OPERAND_ENDS:
                tok.type, bars = "RBAR", bars - 1
            elif prev not in OPERAND_ENDS or (prev == "RBAR" and not bars):  # |a| |b|: a second one opens
                tok.type, bars = "LBAR", bars + 1
        prev = tok.type
        yield tok


class _Limits:
    r"""Whether a token comes right after a big operator's limits (``\sum_j``, ``\sum_{j=1}^{d}``): there a bar
    opens an absolute value, though the letter before it would otherwise close one."""

    def __init__(self):
        self.state, self.braces = None, 0  # None, "op" (after the operator or a script), "script", "group"

    def after(self, tok) -> bool:
        done = self.state == "op"
        kind, text = tok.type, str(tok)
        if kind == "BIGOP":
            self.state = "op"
        elif self.state == "op" and text in ("_", "^"):
            self.state = "script"
        elif self.state == "script":
            self.state, self.braces = ("group", 1) if text == "{" else ("op", 0)
        elif self.state == "group":
            self.braces += {"{": 1, "}": -1}.get(text, 0)
            self.state = "op" if self.braces == 0 else "group"
        else:
            self.state = None
        return done and self.state is None


#: How the parser is built (the cache key hashes these with the grammar).
OPTIONS = dict(parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


class NormBars(PostLex):
    """The post-lexer: :func:`_norm_bars`.  A module-level class, so that ``Lark.save`` pickles it."""

    always_accept = ("DBAR", "MID")

    def process(self, stream):
        return _norm_bars(stream)


def cache_dir() -> str:
    """Where the parser tables are cached: ``$XDG_CACHE_HOME/symdl``, else ``~/.cache/symdl``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "symdl")


def cache_key() -> str:
    """A hash of everything the cached tables depend on."""
    import lark

    text = "\0".join([GRAMMAR, repr(sorted(OPTIONS.items())), repr(NormBars.always_accept), lark.__version__,
                       "%d.%d" % sys.version_info[:2]])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cache_path() -> str:
    return os.path.join(cache_dir(), f"parser-{cache_key()}.lark")


def _trusted(fd: int) -> bool:
    """Whether the open file is a regular file of this user that no one else may write (it is a pickle)."""
    st = os.fstat(fd)
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def _load(path: str):
    """The parser saved at ``path``, or ``None`` when there is none, or it is not to be trusted or read."""
    from lark import Lark

    try:
        # O_NONBLOCK: opening a FIFO someone left at the path must not wait for a writer (_trusted refuses it)
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            if not _trusted(f.fileno()) or f.readline() != MAGIC + cache_key().encode() + b"\n":
                return None
            return Lark.load(f)
    except Exception:  # missing, truncated, from another lark: built afresh and saved again
        return None


def _save(parser, path: str) -> None:
    """Write ``parser`` to ``path`` atomically (a private file renamed into place); quietly nothing
    when the folder cannot be made or written."""
    folder = os.path.dirname(path)
    tmp = None
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".parser-", suffix=".tmp", dir=folder)  # mode 0600
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + cache_key().encode() + b"\n")
            parser.save(f)
        os.replace(tmp, path)
        tmp = None
    except Exception:  # read-only home, full disk, a file where the folder should be: no cache
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


#: The first bytes of a cache file, before its key.
MAGIC = b"symdl-parser "


@lru_cache(maxsize=1)
def parser():
    """The LALR parser, positions kept on every node (for error messages); its tables are read
    from this user's cache when they are there, else built and saved there."""
    from lark import Lark

    path = cache_path()
    loaded = _load(path)
    if loaded is not None:
        return loaded
    built = Lark(GRAMMAR, postlex=NormBars(), **OPTIONS)
    _save(built, path)
    return built
