r"""``symdl derive MODEL 'LATEX'``: what the engine derives, in the course's notation.

Exit status: 0 derived (and, with ``--check``, confirmed), 1 the check disagreed, 2 the input or the model
could not be read, 3 the check could not decide.
"""

from __future__ import annotations

import json
import sys

EXIT = {"equivalent": 0, "not_equivalent": 1, "unknown": 3}


def add_parser(sub) -> None:
    d = sub.add_parser("derive", help="derive an expression or a Jacobian in a model's symbols")
    d.add_argument("model", help="the model (its name, such as gru or lstm)")
    d.add_argument("latex", help=r"the quantity, such as '\frac{\partial h_t}{\partial h_{t-1}}'")
    d.add_argument("--json", action="store_true", help='one JSON object: {"model", "quantity", "latex", "shape"}')
    d.add_argument("--check", action="store_true",
                   help="hold the result against differences of the definitions at random points (the complex step where "
                        "they are analytic, central differences otherwise)")
    d.set_defaults(func=run)


def run(args) -> int:
    from ..grade.derive import derive
    from ..model.registry import model
    from ..reader import ReadError

    try:
        found = model(args.model)
    except (LookupError, ValueError) as exc:  # an unknown name, two models of one name, a model file's error
        print(f"symdl derive: error: {exc}", file=sys.stderr)
        return 2
    try:
        result = derive(found, args.latex, check=args.check)
    except ReadError as exc:
        print(f"symdl derive: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(f"{result.quantity} = {result.latex}")
        if result.check is not None:
            print(f"% {result.check['verdict']}: {result.check['message']}")
    return EXIT[result.check["verdict"]] if result.check is not None else 0
