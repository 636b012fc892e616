"""``symdl grade FILE.jsonl``, and the batch options of ``symdl check`` (``--batch``, ``--jobs``, ``--output``,
``--resume``, ``--scheduler``, ``--chunk``), kept apart from the single check's.  ``symdl grade FILE`` is
``symdl check --batch FILE``.  The engine is :mod:`symdl.run.batch`, the command's reading, writing and exit
statuses :mod:`symdl.run.command`, the cluster :mod:`symdl.run.distributed`."""

from __future__ import annotations

BATCH = ('grade every line {"id": ..., "latex": ..., "against": NAME, "model": TOPIC} of FILE (- for standard input; '
         'against and model optional: a line that is not one formula against a reference is a derivation, under '
         '--total-timeout); one JSON verdict per line, in order; exit 0 once every line has its verdict, 4 when one '
         'has none (its process died twice)')


def add_parser(subparsers) -> None:
    """``symdl grade FILE.jsonl [options]``: a class's batch, as ``symdl check --batch`` grades it."""
    p = subparsers.add_parser("grade", help="grade a batch of hand forms and derivations (JSON lines)",
                              description="Grade a batch: " + BATCH + ". The same as symdl check --batch FILE.")
    p.add_argument("batch", metavar="FILE.jsonl", help="the batch (- for standard input)")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="seconds for the symbolic attempt of a single form, and for each link of a derivation "
                        "(default 10)")
    p.add_argument("--total-timeout", type=float, default=60.0, metavar="S",
                   help="seconds for a whole derivation (default 60)")
    add_batch_options(p, flag=False)
    p.set_defaults(func=_grade)


def _grade(args) -> int:
    from ..grade.check import TIMEOUT

    return run_batch_args(args, TIMEOUT if args.timeout is None else args.timeout)


def add_batch_options(p, flag: bool = True) -> None:
    """The options of a batch; with ``flag``, ``--batch FILE`` as well (``symdl check``)."""
    if flag:
        p.add_argument("--batch", metavar="FILE.jsonl", help=BATCH)
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="worker processes (default 1; on a cluster, per Dask worker)")
    p.add_argument("--output", metavar="FILE", help="write the verdicts to FILE (through FILE.partial, "
                                                     "renamed when every line has its verdict)")
    p.add_argument("--resume", action="store_true",
                   help="with --output: keep the verdicts an interrupted run wrote and grade the rest")
    p.add_argument("--scheduler", metavar="ADDRESS", help="grade on this dask.distributed cluster "
                                                          "(such as tcp://host:8786)")
    p.add_argument("--chunk", type=int, default=None, metavar="N",
                   help="with --scheduler: lines per Dask task (default symdl.run.distributed.CHUNK)")


def run_batch_args(args, timeout: float) -> int:
    """``symdl check --batch ...`` as the arguments say."""
    from ..run.command import run_batch

    options = dict(jobs=args.jobs, timeout=timeout, total_timeout=args.total_timeout, output=args.output,
                   resume=args.resume)
    if args.scheduler is None:
        return run_batch(args.batch, **options)
    from ..run.distributed import run_on_cluster

    return run_on_cluster(args.batch, args.scheduler, chunk=args.chunk, **options)
