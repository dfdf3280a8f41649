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
    """The problems of one option's changes, each at its own line of `doc` (the parent's file)."""
    from hyp.hypotheses.schema import Hypothesis

    base = {k: v for k, v in doc.data.items() if k not in PLANS}
    before = _errors(Hypothesis, base)
    out = []
    for key, value in doc.data[plan][index]["changes"].items():
        loc = (plan, index, "changes", key)
        problem = _key_problem(Hypothesis, str(key))
        if problem is None:
            changed = copy.deepcopy(base)
            try:
                set_dotted(changed, str(key), value)
            except TypeError:  # `experiment.training.epochs.x`: a number has no keys
                problem = "names a value, not a mapping, before its last part"
            else:
                new = [e for e in _errors(Hypothesis, changed) if e not in before]
                if new:
                    where, msg = new[0]
                    problem = msg if where == tuple(str(key).split(".")) else f"{dotted(where)}: {msg}"
        if problem:
            out.append(f"{doc.where(loc)}: {dotted(loc[:3])}.{key}: {problem}")
    return out


def _key_problem(model, key: str) -> str | None:
    from hyp.hypotheses.validation import _allowed_keys

    parts = key.split(".")
    for j, part in enumerate(parts):
        allowed = _allowed_keys(model, tuple(parts[:j]), None)
        if not allowed:
            return None  # a mapping of free keys (rationale) or a value: its validation says the rest
        if part not in allowed:
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
