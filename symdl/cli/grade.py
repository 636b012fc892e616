"""The batch options of ``symdl check`` (``--batch``, ``--jobs``, ``--output``, ``--resume``, ``--scheduler``,
``--chunk``), kept apart from the single check's: the engine is :mod:`symdl.run.batch`, the command's
reading, writing and exit statuses :mod:`symdl.run.command`, the cluster :mod:`symdl.run.distributed`."""

from __future__ import annotations


def add_batch_options(p) -> None:
    p.add_argument("--batch", metavar="FILE.jsonl", help='grade every line {"id": ..., "latex": ..., "against": NAME, '
                   '"model": TOPIC} of FILE (- for standard input; against and model optional: a line that is not one '
                   'formula against a reference is a derivation, under --total-timeout); one JSON verdict per line, '
                   'in order; exit 0 once every line has its verdict, 4 when one has none (its process died twice)')
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="worker processes for --batch (default 1; on a cluster, per Dask worker)")
    p.add_argument("--output", metavar="FILE", help="with --batch: write the verdicts to FILE (through FILE.partial, "
                                                     "renamed when every line has its verdict)")
    p.add_argument("--resume", action="store_true",
                   help="with --output: keep the verdicts an interrupted run wrote and grade the rest")
    p.add_argument("--scheduler", metavar="ADDRESS", help="with --batch: grade on this dask.distributed cluster "
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
