r"""``symdl check --against NAME [--json] [--timeout S] [LATEX | -]``.

``symdl.cli.main`` registers the subcommand with :func:`add_parser` and runs it with
:func:`run`.  No argument, or ``-``, reads the form from standard input (so a
form that begins with a minus sign needs no quoting tricks).  Exit status:
0 equivalent, 1 not equivalent, 3 unknown, 2 error (REFERENCES.md).  The check
runs in a worker process killed at the time limit plus a few seconds.

``symdl check --batch FILE.jsonl [--jobs N] [--timeout S]`` grades many forms,
one JSON verdict per line (:mod:`symdl.run.batch`); it exits 0 once every line has
its verdict, 2 when the batch cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT = {"equivalent": 0, "not_equivalent": 1, "error": 2, "unknown": 3}


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "check", help="decide a hand-written LaTeX form against a reference",
        description="Decide whether a hand-written LaTeX form equals a reference result. "
                    "Exit status: 0 equivalent, 1 not equivalent, 3 unknown, 2 error.")
    p.add_argument("--against", metavar="NAME", help="the reference, such as lstm.cell_jacobian (required "
                                                       "unless --batch)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="seconds for the symbolic attempt (default 10)")
    p.add_argument("--batch", metavar="FILE.jsonl", help='grade every line {"id": ..., "against": NAME, '
                   '"latex": ...} of FILE (- for standard input); one JSON verdict per line, in order; exit 0 '
                   'once every line has its verdict (symdl.run.batch)')
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes for --batch (default 1)")
    p.add_argument("latex", nargs="?", default="-", metavar="LATEX",
                   help="the right-hand side or a whole equation; '-' or nothing reads standard input")
    p.set_defaults(run=run, func=run)
    return p


def run(args) -> int:
    from ..run.batch import bounded_check, run_batch
    from ..grade.check import TIMEOUT, Verdict

    timeout = args.timeout if args.timeout is not None else TIMEOUT
    if getattr(args, "batch", None) is not None:
        return run_batch(args.batch, jobs=args.jobs, timeout=timeout)
    if args.against is None:
        print("symdl check: --against NAME is required (or --batch FILE.jsonl)", file=sys.stderr)
        return EXIT["error"]
    text = _stdin() if args.latex in (None, "-") else args.latex
    if not timeout > 0:
        verdict = Verdict("error", None, f"invalid --timeout {args.timeout}: must be > 0", args.against)
    else:  # in a worker killed at timeout + a few seconds, whatever the input makes SymPy do
        verdict = bounded_check(text.rstrip("\n"), args.against, timeout=timeout)
    if args.json:
        print(json.dumps(verdict.to_json(), indent=None))
    else:
        print(str(verdict))
    return EXIT[verdict.verdict]


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
