"""An on_failure/on_success option's `changes` (dotted keys, `experiment.training.epochs: 4`): applying
them, and checking them in the file that holds them, so a typo is blamed on that file's line."""

from __future__ import annotations

import copy
from typing import Any

from hyp.hypotheses.yamlfile import Document, did_you_mean, dotted

PLANS = ("on_failure", "on_success")


def set_dotted(node: dict, key: str, value: Any, new=dict) -> None:
    """Set `a.b.c` in nested mappings, creating the missing ones with `new`."""
    parts = key.split(".")
    for p in parts[:-1]:
        if p not in node or node[p] is None:
            node[p] = new()
        node = node[p]
    node[parts[-1]] = value


def change_problems(doc: Document) -> list[str]:
    """One line per change, in every option of the file, that names no field or makes the hypothesis invalid."""
    out = []
    for plan in PLANS:
        options = doc.data.get(plan) if isinstance(doc.data, dict) else None
        for i, option in enumerate(options if isinstance(options, list) else []):
            if isinstance(option, dict) and isinstance(option.get("changes"), dict):
                out += option_problems(doc, plan, i)
    return out


def option_problems(doc: Document, plan: str, index: int) -> list[str]:
    """The problems of one option's changes, each at its own line of `doc` (the parent's file): a key that
    names no field, then what the changes, applied together as `hyp new --option` would, make invalid."""
    from hyp.hypotheses.schema import Hypothesis

    changes = {str(k): v for k, v in doc.data[plan][index]["changes"].items()}

    def line(key: str, problem: str) -> str:
        loc = (plan, index, "changes", key)
        return f"{doc.where(loc)}: {dotted(loc[:3])}.{key}: {problem}"

    out = [line(key, problem) for key in changes if (problem := _key_problem(Hypothesis, key))]
    if out:
        return out
    base = {k: v for k, v in doc.data.items() if k not in PLANS}
    changed = copy.deepcopy(base)
    for key, value in changes.items():
        try:
            set_dotted(changed, key, value)
        except TypeError:  # `experiment.training.epochs.x`: a number has no keys
            return [line(key, "goes into a value as if it were a mapping")]
    before = _errors(Hypothesis, base)
    for where, msg in (e for e in _errors(Hypothesis, changed) if e not in before):
        # Blamed on the change that leads there (`...synthetic.ratio` for a missing `...synthetic.path`).
        key = max(changes, key=lambda k: _shared(k.split("."), where))
        out.append(line(key, msg if where == tuple(key.split(".")) else f"{dotted(where)}: {msg}"))
    return out


def _shared(a: list[str], b: tuple) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _key_problem(model, key: str) -> str | None:
    from hyp.hypotheses.validation import _allowed_keys

    parts = key.split(".")
    for j, part in enumerate(parts):
        allowed = _allowed_keys(model, tuple(parts[:j]), None)
        if not allowed:
            return None  # a mapping of free keys (rationale) or a value: its validation says the rest
        if part not in allowed:
            if j == 0:  # `training.epochs` for `experiment.training.epochs`: a `--set` key written here
                whole = [f"{top}.{key}" for top in allowed if _key_problem(model, f"{top}.{key}") is None
                         and _allowed_keys(model, (top,), None)]
                if whole:
                    return f"unknown key (did you mean {whole[0]!r}?)"
            return "unknown key" + did_you_mean(part, allowed)
    return None


def _errors(model, data: dict) -> list[tuple[tuple, str]]:
    from pydantic import ValidationError

    try:
        model.model_validate(data)
    except ValidationError as e:
        return [(tuple(str(p) for p in err["loc"]),
                 err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")) for err in e.errors()]
    return []
