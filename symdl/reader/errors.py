r"""What went wrong while reading, and where: :class:`ReadError` and the words of its messages.

Every error of the reader is a :class:`ReadError` carrying the character offset, the reason and
what was expected there, so that a person sees the line with a caret under the column.  A syntax
error from the parser (lark) is put in the same words by :func:`syntax_error`: lark names its
terminals (``LPAR``, ``BIGOP``), a person wants ``'('`` and ``\sum, \int, \min ...``.
"""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken


class ReadError(ValueError):
    """Text that could not be read: where (a character offset), why, and what was expected."""

    def __init__(self, message: str, position: int | None = None, text: str = "", expected: str = ""):
        super().__init__(message)
        self.message, self.position, self.text, self.expected = message, position, text, expected

    def caret(self) -> str:
        """The input with a caret under the offending character (the line it is on)."""
        if self.position is None or not self.text:
            return ""
        start = self.text.rfind("\n", 0, self.position) + 1
        end = self.text.find("\n", self.position)
        line = self.text[start:end if end >= 0 else len(self.text)]
        return f"{line}\n{' ' * (self.position - start)}^"

    def __str__(self) -> str:
        where = f"at character {self.position}: " if self.position is not None else ""
        return where + self.message


class Source:
    """The text being read: the base of every part of the builder, which point their errors into it."""

    text: str

    def error(self, message: str, pos: int, expected: str = "") -> ReadError:
        return ReadError(message, pos, self.text, expected)

    def src(self, start: int, end: int) -> str:
        return self.text[start:end]


#: What the parser's terminals look like to a person, for "expected ..." messages.
TERMINALS = {
    "NAME": "a name", "SINGLE": "a letter or digit", "NUMBER": "a number", "GREEK": "a Greek letter",
    "FUNC": "a function such as \\tanh", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'",
    "LBRACE": "'{'", "RBRACE": "'}'", "EQUALS": "'='", "PLUS": "'+'", "MINUS": "'-'", "SLASH": "'/'",
    "ODOT": "\\odot", "CDOT": "\\cdot", "COMMA": "','", "FRAC": "\\frac", "SQRT": "\\sqrt",
    "BOLD": "\\boldsymbol", "ACCENT": "\\tilde or \\hat", "OPNAME": "\\operatorname{...}",
    "PARTIAL": "\\partial", "NABLA": "\\nabla", "BIGOP": "\\sum, \\int, \\min ...", "TOP": "\\top",
    "PRIME": "a prime '", "CIRCUMFLEX": "'^'", "UNDERSCORE": "'_'", "RNORM": "\\rVert", "END": "\\end{...}",
    "MID": "\\mid", "$END": "the end of the input", "CASES": "\\begin{cases}", "ENDCASES": "\\end{cases}",
    "ROWSEP": "\\\\ (a new row)",
    "FRACDIGITS": "\\frac12", "SIM": "\\sim", "REL": "a relation such as \\ge", "IFWORD": "\\text{if}",
    "OTHERWISE": "\\text{otherwise}",
}


def describe(expected) -> str:
    """The terminals lark expected, as a person reads them (every operand in one phrase)."""
    names = [TERMINALS.get(t, t) for t in sorted(expected) if not t.startswith("__")]
    if len(set(expected) & OPERANDS) >= 3:
        names = ["an operand (a name, a number, '(' or a command)"] + [
            TERMINALS.get(t, t) for t in sorted(expected) if t not in OPERANDS and t not in COMMAND_TERMINALS]
    return ", ".join(dict.fromkeys(names))


OPERANDS = {"NAME", "NUMBER", "GREEK", "FUNC", "LPAR", "LSQB", "LBRACE", "FRAC", "SQRT", "BOLD", "ACCENT",
            "OPNAME", "PARTIAL", "NABLA", "BIGOP", "CAL", "INFTY", "LNORM", "LBAR", "BEGIN", "CASES",
            "FRACDIGITS"}
COMMAND_TERMINALS = {"PLUS", "MINUS"}

#: Commands left unread on purpose, each with why and what to write instead: an ellipsis leaves the reader to
#: guess the terms it stands for, and a supremum over a continuous variable is not something symdl computes.
NOT_READ = {
    **dict.fromkeys((r"\ldots", r"\cdots", r"\dots", r"\dotsb", r"\dotsc", r"\vdots"),
                    "stands for terms symdl does not guess: write the sum or product over a range, "
                    r"\sum_{k=1}^{t} or \prod_{k=t+1}^{\tau}"),
    **dict.fromkeys((r"\sup", r"\inf"), r"is not computed (a bound over a continuous variable): write \max or \min over "
                    "what the model can enumerate, or state the bound in words"),
}
#: Relations typed as characters: the command a derivation writes for each (none is checked but =).
CHARACTER_RELATIONS = {"≤": r"\le", "≥": r"\ge", "≠": r"\ne", "⇒": r"\Rightarrow", "⇔": r"\iff", "→": r"\to",
                       "≈": r"\approx"}

#: The syntax errors lark raises, which :func:`syntax_error` puts in a person's words.
SYNTAX_ERRORS = (UnexpectedCharacters, UnexpectedToken, UnexpectedEOF)


def syntax_error(exc, text: str) -> ReadError:
    """lark's syntax error ``exc`` in ``text`` as a :class:`ReadError`: where, and what was expected."""
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        ch = text[pos] if pos < len(text) else ""
        if ch == "\\":
            cmd = re.match(r"\\([A-Za-z]+|.?)", text[pos:], re.DOTALL).group(0)  # a lone \ at the end too
            why = f"{cmd} {NOT_READ[cmd]}" if cmd in NOT_READ else f"unknown command {cmd}"
            return ReadError(why, pos, text, describe(exc.allowed or ()))
        if ch in CHARACTER_RELATIONS:
            return ReadError(f"'{ch}' is a relation typed as a character: write {CHARACTER_RELATIONS[ch]} (a relation "
                             "other than = is reported as not checked)", pos, text, describe(exc.allowed or ()))
        return ReadError(f"unexpected '{ch}'; expected {describe(exc.allowed or ())}", pos, text,
                         describe(exc.allowed or ()))
    expected = describe(exc.expected or ())
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        pos, what = exc.token.start_pos, repr(str(exc.token))
    else:  # the end of the input came too soon
        pos, what = len(text), "end of the input"
    return ReadError(f"unexpected {what}; expected {expected}", pos, text, expected)
