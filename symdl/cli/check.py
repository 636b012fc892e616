r"""``symdl check [--against NAME] [--model TOPIC] [--json] [--timeout S] [--report OUT.pdf] [--file PATH | LATEX | -]``.

``symdl.cli.main`` registers the subcommand with :func:`add_parser` and runs it with
:func:`run`.  No argument, or ``-``, reads the form from standard input (so a
form that begins with a minus sign needs no quoting tricks).  Exit status:
0 equivalent, 1 not equivalent, 3 unknown, 2 error (REFERENCES.md).  One formula on one line
with ``--against`` is a single check, as before: it runs in a worker process killed at the time
limit plus a few seconds.  Anything else is a derivation, checked link by link
(:mod:`symdl.grade.derivation`), each link in a child process killed at ``--timeout``, the whole
within ``--total-timeout``.  ``--report OUT.pdf`` also typesets the input as written, each line
with its mark (:mod:`symdl.document.report`); TeX is looked for before anything is checked, and a
report that cannot be made is exit status 2 with no file written.

``symdl check --batch FILE.jsonl [--jobs N] [--timeout S] ...`` grades many forms and derivations,
one JSON verdict per line (:mod:`symdl.cli.grade`, which says its exit statuses).
"""

from __future__ import annotations

import argparse
import json
import re
import sys

EXIT = {"equivalent": 0, "not_equivalent": 1, "error": 2, "unknown": 3}
#: The longest range length ``--lengths`` may ask for (each length is a check of its own).
MOST_LENGTHS = 12


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "check", help="decide a hand-written LaTeX form against a reference",
        description="Decide whether a hand-written LaTeX form equals a reference result. "
                    "Exit status: 0 equivalent, 1 not equivalent, 3 unknown, 2 error.")
    p.add_argument("--against", metavar="NAME", help="the reference, such as lstm.cell_jacobian (a single "
                                                       "formula needs it; a derivation's final answer is checked "
                                                       "against it)")
    p.add_argument("--model", metavar="TOPIC", help="the model a derivation is read in, such as lstm (default: the "
                                                    "topic of --against, else the one whose symbols the text uses)")
    p.add_argument("--file", metavar="PATH", help="read the formula or derivation from PATH (LaTeX: align, "
                                                  "equation, \\[ \\], $$ $$, or one formula a line)")
    p.add_argument("--total-timeout", type=float, default=60.0, metavar="S",
                   help="seconds for a whole derivation (default 60); links not checked by then are unknown")
    p.add_argument("--lengths", type=int, default=None, metavar="N",
                   help="check a link with a range or a family at range lengths 1 to N (default 4, at most 12)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="seconds for the symbolic attempt of a single form, and for each link of a "
                        "derivation (default 10)")
    p.add_argument("--report", metavar="OUT.pdf", help="also typeset the derivation as written, a mark on every "
                   "line and the first wrong step's counterexample and diagnosis under it (needs TeX)")
    from .grade import add_batch_options

    add_batch_options(p)
    p.add_argument("latex", nargs="?", default="-", metavar="LATEX",
                   help="the right-hand side or a whole equation; '-' or nothing reads standard input")
    p.set_defaults(run=run, func=run)
    return p


def run(args) -> int:
    from ..grade.check import TIMEOUT, Verdict
    from ..run.batch import bounded_check

    timeout = args.timeout if args.timeout is not None else TIMEOUT
    report = getattr(args, "report", None)
    if getattr(args, "batch", None) is not None:
        if report is not None:
            print("symdl check: --report typesets one derivation; it does not go with --batch", file=sys.stderr)
            return EXIT["error"]
        from .grade import run_batch_args

        return run_batch_args(args, timeout)
    if report is not None and not _tex_found():
        return EXIT["error"]
    text = _text(args)
    if text is None:
        return EXIT["error"]
    lengths = getattr(args, "lengths", None)
    if not timeout > 0 or not args.total_timeout > 0:
        bad = f"--timeout {args.timeout}" if not timeout > 0 else f"--total-timeout {args.total_timeout}"
        verdict = Verdict("error", None, f"invalid {bad}: must be > 0", args.against or "")
    elif lengths is not None and not 1 <= lengths <= MOST_LENGTHS:
        verdict = Verdict("error", None, f"invalid --lengths {lengths}: from 1 to {MOST_LENGTHS}", args.against or "")
    elif args.against is None or not one_formula(text, args.against):
        return _derivation(text, args, timeout)
    else:  # in a worker killed at timeout + a few seconds, whatever the input makes SymPy do
        verdict = bounded_check(text.rstrip("\n"), args.against, timeout=timeout)
        verdict = _with_steps(verdict, text.rstrip("\n"), args.against, timeout)
    if args.json:
        print(json.dumps(verdict.to_json(), indent=None))
    else:
        print(str(verdict))
    return _reported(args, text, verdict, EXIT[verdict.verdict])


def _tex_found() -> bool:
    from ..document.render import TEX_PACKAGES, latexmk_available

    if not latexmk_available():
        print(f"symdl check: error: --report needs TeX, and latexmk or pdflatex was not found; nothing was "
              f"checked or written; install them with:\n  apt-get install {TEX_PACKAGES}", file=sys.stderr)
    return latexmk_available()


def _reported(args, text: str, answer, status: int) -> int:
    """``status``, once the report asked for (``--report``) is written; 2 when it cannot be."""
    from ..document.report import ReportError, write_report
    from ..grade.answer import DerivationVerdict

    if getattr(args, "report", None) is None or not isinstance(answer, DerivationVerdict):
        return status
    title = args.file if getattr(args, "file", None) else "the derivation"
    try:
        path = write_report(args.report, text, answer, title=f"Marked: {title}", against=args.against)
    except ReportError as exc:
        print(f"symdl check: error: {exc}", file=sys.stderr)
        return EXIT["error"]
    print(f"symdl check: wrote {path}", file=sys.stderr)
    return status


def _text(args) -> str | None:
    """The input: ``--file``, standard input (``-`` or nothing) or the argument."""
    if getattr(args, "file", None) is not None:
        try:
            with open(args.file, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError as exc:
            print(f"symdl check: cannot read --file {args.file}: {exc.strerror}", file=sys.stderr)
            return None
    return _stdin() if args.latex in (None, "-") else args.latex


def one_formula(text: str, against: str) -> bool:
    """One line, no display environment, and no relation or one ``=`` whose left side names the
    reference's quantity: a single form, checked as it always was."""
    from ..grade.check import find_reference
    from ..grade.final import names_quantity
    from ..reader.chain import relations
    from ..reader.ranges import has_range

    text = text.strip()
    if "\n" in text or re.search(r"\\begin\s*\{|\\\[|\$", text) or has_range(text):
        return False
    if not relations(text):
        return True
    try:
        return names_quantity(text, find_reference(against))
    except LookupError:  # an unknown reference: the single check says so, as before
        return True


def _with_steps(verdict, text: str, against: str, timeout: float):
    """The single check's verdict with its one step, and a diagnosis when it is not equivalent
    (looked for in a child process killed at the time limit)."""
    from ..grade.final import diagnose_form, single_answer
    from ..verify.bounded import run_bounded

    found = None
    if verdict.verdict == "not_equivalent":
        outcome = run_bounded(diagnose_form, text, against, timeout=timeout, memory=None)
        found = outcome.value if outcome.status == "ok" else None
    return single_answer(verdict, text, found)


def _derivation(text: str, args, timeout: float) -> int:
    from ..grade.derivation import check_derivation

    answer = check_derivation(text, model=args.model, against=args.against, timeout=timeout,
                              total_timeout=args.total_timeout, lengths=getattr(args, "lengths", None))
    print(json.dumps(answer.to_json()) if args.json else str(answer))
    return _reported(args, text, answer, EXIT[answer.verdict])


def _stdin() -> str:
    """Standard input as text; bytes that are not UTF-8 become U+FFFD, which the reader reports."""
    raw = getattr(sys.stdin, "buffer", None)
    return raw.read().decode("utf-8", errors="replace") if raw is not None else sys.stdin.read()


def main(argv=None) -> int:
    """The subcommand on its own (``python -m symdl.cli.check --against NAME ...``)."""
    parser = argparse.ArgumentParser(prog="symdl")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["check", *(sys.argv[1:] if argv is None else argv)])
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
