r"""Which model a derivation is in: ``--model``, else the topic of ``--against``, else the one
topic whose symbols the text uses (REFERENCES.md, "Which model, which names").

A topic is any model the registry finds: the built-in modules and model files, a course's model files
(``--models DIR``, ``$SYMDL_MODELS``, ``models/`` beside ``derivations/``), and a model file named
by its path (``--model models/gru.toml``, registered on the spot).

Inference counts, for each topic, the names of the text that the topic knows and that not every
topic knows (``x_t`` alone says little; ``W_{fh}`` says lstm).  One topic ahead of the others is
the model; none, or a tie, is an error that names the candidates.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ..model import registry
from ..reader.names import canon, table_for


class TopicError(ValueError):
    """No model could be settled on; the message names the candidates."""


def resolve(model: str | None, against: str | None) -> tuple[str, object]:
    """``(topic, reference or None)`` from the options; a :class:`TopicError` when they do not fit."""
    ref = None
    if against is not None:
        try:
            ref = registry.ref(against)
        except (registry.UnknownNameError, registry.ModelError) as exc:
            raise TopicError(str(exc)) from None
    if model is not None:
        model = _from_file(model) if model.endswith(".toml") or Path(model).is_file() else model
        topics = registry.model_names()
        if model not in topics:
            raise TopicError(f"unknown model {model!r}; the models are {', '.join(topics)}")
        try:
            registry.model(model)
        except (registry.ModelError, ValueError) as exc:  # a model file's error is a ValueError naming its key
            raise TopicError(f"the model {model} could not be loaded: {exc}") from None
        if ref is not None and ref.section != model:
            raise TopicError(f"--model {model} and --against {against} disagree: {against} is in {ref.section}")
        return model, ref
    return (ref.section, ref) if ref is not None else (None, None)


def _from_file(path: str) -> str:
    """The name of the model in the file at ``path``, registered so that its references can be found."""
    try:
        head = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("model", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TopicError(f"--model {path}: not a model file that can be used: {exc}") from None
    name = head.get("name") if isinstance(head, dict) else None
    if not isinstance(name, str):
        raise TopicError(f'--model {path}: [model] needs name = "..."')
    if name in registry.model_names():
        try:
            source = registry.model(name).source
        except (registry.ModelError, ValueError) as exc:
            raise TopicError(f"--model {path}: {exc}") from None
        if not _same_file(source, path):  # found already (models/ beside derivations/, --models) is no conflict
            raise TopicError(f"--model {path}: two models are named {name!r}: {source} and {path}")
        return name
    try:
        registry.register(path)
    except registry.ModelError as exc:
        raise TopicError(f"--model {path}: {exc}") from None
    return name


def _same_file(source: str, path: str) -> bool:
    try:
        return Path(source).resolve() == Path(path).resolve()
    except OSError:
        return False


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
    """The one topic whose symbols ``text`` uses; a :class:`TopicError` naming the candidates otherwise.
    A model that cannot be loaded is no candidate (``symdl list`` shows why)."""
    words = {}
    for topic in registry.model_names():
        try:
            words[topic] = vocabulary(topic)
        except (registry.ModelError, registry.UnknownNameError, ValueError):
            continue
    topics = list(words)
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
