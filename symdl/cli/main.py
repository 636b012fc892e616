"""The ``symdl`` command: ``build``, ``verify``, ``list``, ``check``, ``derive`` and ``grade``.

Every command takes ``--models DIR`` (repeatable): folders of a course's model files, found like
``$SYMDL_MODELS`` and the ``models/`` folder beside ``derivations/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..version import __version__

EXIT_OK, EXIT_REFUTED, EXIT_ERROR = 0, 1, 2


def _err(msg: str) -> None:
    print(f"symdl: error: {msg}", file=sys.stderr)


def cmd_list(args) -> int:
    from ..document.sources import derivations_dir, sources
    from ..model.registry import errors, models, refs

    if args.markdown:
        from .listing import reference_markdown

        chosen = [m for m in models() if m.source.startswith(("symdl.", "symdl/")) or not args.builtin]
        print(reference_markdown(chosen), end="")
        return EXIT_OK
    print("references:")
    for r in refs():
        print(f"  {r.name:28s} {r.description}")
    broken = errors()
    if broken:
        print("models that could not be loaded:")
        for _, message in broken:
            print(f"  {message}")
    try:
        folder = derivations_dir(args.derivations)
    except FileNotFoundError as exc:
        print(f"derivations: none ({exc})")
        return EXIT_OK
    print(f"derivations ({folder}):")
    for s in sources(folder):
        print(f"  {s.module:28s} {s.description}")
    return EXIT_OK


def _select(names, folder):
    """Split names into references and derivation sources; unknown names raise, listing the known."""
    from ..document.sources import find, sources
    from ..model.registry import UnknownNameError, refs

    known_refs = {r.name for r in refs()}
    chosen_refs, chosen_docs = [], []
    srcs = sources(folder) if folder else []
    if not names:
        return [r.name for r in refs()], list(srcs)
    for name in names:
        if name in known_refs:
            chosen_refs.append(name)
            continue
        try:
            chosen_docs.append(find(folder, name) if folder else None)
        except UnknownNameError:
            known = sorted(known_refs) + [s.module for s in srcs]
            raise UnknownNameError("reference or derivation", name, known) from None
    return chosen_refs, chosen_docs


def cmd_verify(args) -> int:
    from ..run.build import verify_all
    from ..document.sources import derivations_dir
    from ..document.render import BuildError

    try:
        folder = derivations_dir(args.derivations)
    except FileNotFoundError:
        folder = None
    ref_names, docs = _select(args.names, folder)
    if not args.json:
        for name in [*ref_names, *(src.module for src in docs)]:
            print(f"verifying {name} ...", file=sys.stderr, flush=True)
    try:
        results, errors = verify_all(ref_names, docs, jobs=args.jobs)
    except BuildError as exc:
        _err(str(exc))
        return EXIT_ERROR
    if args.json:
        print(json.dumps({"results": [r.to_json() for r in results], "errors": errors}, indent=2))
    else:
        for r in results:
            err = f", largest error {r.max_error:.3g}" if r.max_error is not None else ""
            print(f"{r.status:10s} {r.name}{err}")
            for c in r.checks:
                print(f"           {c.method:8s} {c.mark:8s} {c.detail}")
        for e in errors:
            print(f"error      {e}")
    if errors:
        return EXIT_ERROR
    return EXIT_REFUTED if any(r.status == "refuted" for r in results) else EXIT_OK


def _emit(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr if line.startswith("symdl: error:") else sys.stdout, flush=True)


def cmd_build(args) -> int:
    from ..run.build import build_all
    from ..document.sources import derivations_dir, find, sources
    from ..document.render import BuildError
    from ..document.render import build_lock

    folder = derivations_dir(args.derivations)
    srcs = [find(folder, n) for n in args.names] if args.names else sources(folder)
    out = Path(args.out)
    templates = Path(args.templates) if args.templates else Path("templates")
    try:
        with build_lock(out, wait=not args.no_wait):
            return build_all(srcs, out, templates=templates, pdf=not args.no_pdf, timeout=args.timeout,
                             force=args.force, jobs=args.jobs, emit=_emit)
    except BuildError as exc:
        _err(str(exc))
        return EXIT_ERROR


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="symdl", description="Deep-learning math you can trust.")
    p.add_argument("--version", action="version", version=f"symdl {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="verify and render worked solutions to build/NAME.tex and build/NAME.pdf")
    b.add_argument("names", nargs="*", help="derivations to build (module or output name); all by default")
    b.add_argument("--out", default="build", help="output folder (default: build)")
    b.add_argument("--derivations", help="folder of derivation modules (default: ./derivations)")
    b.add_argument("--templates", help="folder of project templates (default: ./templates)")
    b.add_argument("--no-pdf", action="store_true", help="write the .tex only")
    b.add_argument("--no-wait", action="store_true", help="fail at once if another build holds the folder")
    b.add_argument("--timeout", type=float, default=180.0, help="TeX wall-clock limit in seconds")
    b.add_argument("--jobs", "-j", type=int, default=0, help="worker processes that share out the checks, figures and TeX runs (default: one a core)")
    b.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("verify", help="print the verification ledger")
    v.add_argument("names", nargs="*", help="references or derivations; all of both by default")
    v.add_argument("--json", action="store_true", help="one JSON object")
    v.add_argument("--derivations", help="folder of derivation modules (default: ./derivations)")
    v.add_argument("--jobs", "-j", type=int, default=0,
                   help="worker processes that share out the checks (default: one a core)")
    v.set_defaults(func=cmd_verify)

    ls = sub.add_parser("list", help="the references and derivations that exist")
    ls.add_argument("--derivations", help="folder of derivation modules (default: ./derivations)")
    ls.add_argument("--markdown", action="store_true", help="every model, reference, symbol and oracle as Markdown")
    ls.add_argument("--builtin", action="store_true", help="with --markdown: the built-in models only")
    ls.set_defaults(func=cmd_list)
    _add_check(sub)
    return p


def _add_check(sub) -> None:
    from . import check as check_cli
    from . import derive as derive_cli
    from . import grade as grade_cli

    check_cli.add_parser(sub)
    derive_cli.add_parser(sub)
    grade_cli.add_parser(sub)
    for command in sub.choices.values():
        command.add_argument("--models", action="append", default=[], metavar="DIR",
                             help="a folder of model files (TOML); may be repeated")


def _use_models(args) -> None:
    """The folders of --models, and the models/ folder beside --derivations."""
    from ..model.registry import add_folders

    folders = list(args.models)
    derivations = getattr(args, "derivations", None)
    if derivations and (Path(derivations).resolve().parent / "models").is_dir():
        folders.append(Path(derivations).resolve().parent / "models")
    add_folders(folders)


def main(argv=None) -> int:
    from ..model.registry import ModelError, UnknownNameError

    args = parser().parse_args(argv)
    try:
        _use_models(args)
        return args.func(args)
    except (UnknownNameError, ModelError, FileNotFoundError) as exc:
        _err(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM where a command takes it as one (128 + the signal)
        _err("interrupted; no output was left half-written")
        return getattr(exc, "status", 130)
    except BrokenPipeError:  # `symdl list | head`: the reader left, which is not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
