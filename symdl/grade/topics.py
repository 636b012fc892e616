r"""Which model a derivation is in: ``--model``, else the topic of ``--against``, else the one
topic whose symbols the text uses (REFERENCES.md, "Which model, which names").

Inference counts, for each topic, the names of the text that the topic knows and that not every
topic knows (``x_t`` alone says little; ``W_{fh}`` says lstm).  One topic ahead of the others is
the model; none, or a tie, is an error that names the candidates.
"""

from __future__ import annotations

import re

from ..model import registry
from ..reader.names import canon, table_for


class TopicError(ValueError):
    """No model could be settled on; the message names the candidates."""


def resolve(model: str | None, against: str | None) -> tuple[str, object]:
    """``(topic, reference or None)`` from the options; a :class:`TopicError` when they do not fit."""
    topics = registry.model_modules()
    ref = None
    if against is not None:
        try:
            ref = registry.ref(against)
        except registry.UnknownNameError as exc:
            raise TopicError(str(exc)) from None
    if model is not None:
        if model not in topics:
            raise TopicError(f"unknown model {model!r}; the models are {', '.join(topics)}")
        if ref is not None and ref.section != model:
            raise TopicError(f"--model {model} and --against {against} disagree: {against} is in {ref.section}")
        return model, ref
    return (ref.section, ref) if ref is not None else (None, None)


_NAME = re.compile(r"(?:\\(?:hat|tilde|bar|boldsymbol|mathbf|bm|mathcal|widehat|widetilde)\s*\{[^{}]*\}"
                   r"|\\[A-Za-z]+|[A-Za-z])(?:\s*_\s*(?:\{(?:[^{}]|\{[^{}]*\})*\}|\\?[A-Za-z0-9]))?(?:\s*')*")


def names_in(text: str) -> set[str]:
    """The canonical names a text uses (``W_{fh}`` -> ``W_fh``), commands that are no names left out."""
    out = set()
    text = re.sub(r"\\(operatorname|mathrm|text|textrm|mbox)\s*\{[^{}]*\}", " ", text)
    for m in _NAME.finditer(text):
        key = canon(m.group(0))
        if key and not re.fullmatch(r"\\[A-Za-z]+", key):
            out.add(key)
        elif re.fullmatch(r"\\[A-Za-z]+", key or "") and key[1:] in _GREEK:
            out.add(key)
    return out


_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "tau", "sigma", "phi", "psi"}


def vocabulary(topic: str) -> set[str]:
    """Every name a topic's references know, and their quantities' names."""
    out = set()
    for ref in registry.section(topic).values():
        out |= set(table_for(ref).entries)
        if ref.lhs:
            out.add(canon(ref.lhs))
    return out


def infer(text: str) -> str:
    """The one topic whose symbols ``text`` uses; a :class:`TopicError` naming the candidates otherwise."""
    topics = registry.model_modules()
    words = {t: vocabulary(t) for t in topics}
    common = set.intersection(*words.values()) if words else set()
    used = names_in(text) - common
    score = {t: len(used & words[t]) for t in topics}
    best = max(score.values(), default=0)
    ahead = [t for t in topics if score[t] == best]
    if best == 0:
        raise TopicError(f"no model's symbols are used; give --model, one of {', '.join(topics)} "
                         "(or --against NAME)")
    if len(ahead) > 1:
        raise TopicError(f"the symbols fit {' and '.join(ahead)} equally ({best} names each); give --model, "
                         f"one of {', '.join(ahead)}")
    return ahead[0]


def references(topic: str) -> list:
    """The topic's references, in the registry's order."""
    return list(registry.section(topic).values())
