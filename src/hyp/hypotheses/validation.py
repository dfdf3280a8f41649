"""Turns a pydantic ValidationError into one line per problem: file:line: field: what is wrong."""

from __future__ import annotations

import difflib
from typing import Any

from hyp.errors import BadInput
from hyp.hypotheses.yamlfile import Document, did_you_mean, dotted

_SCALAR_TYPE_ERRORS = {"float_type", "float_parsing", "int_type", "int_parsing", "string_type", "bool_type"}


def _exists(data: Any, loc: tuple) -> int:
    """How many leading parts of `loc` index into `data`."""
    n = 0
    for part in loc:
        if isinstance(data, dict) and isinstance(part, str) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            break
        n += 1
    return n


def _value_at(data: Any, loc: tuple) -> Any:
    for part in loc:
        data = data[part]
    return data


def problems(error, doc: Document, model_cls) -> list[str]:
    """All problems in `error`, one line each, in file order."""
    from hyp.hypotheses.schema import AtField

    found: dict[tuple, tuple[int, str]] = {}
    missing: set[tuple] = set()
    unknown: list[tuple] = []
    for e in error.errors():
        loc = tuple(e["loc"])
        at = (e.get("ctx") or {}).get("error")
        if isinstance(at, AtField):  # a model-wide check that names its field (a question id given twice)
            loc += at.loc
        depth = _exists(doc.data, loc)
        if e["type"] == "missing":
            field_loc = loc[: depth + 1]
            msg = "required field is missing"
        else:
            field_loc = loc[:depth]
            value = _value_at(doc.data, field_loc) if field_loc or depth == 0 else None
            if e["type"] in _SCALAR_TYPE_ERRORS and isinstance(value, list | dict) and len(loc) > depth:
                continue  # the other member of a union explains it better
            if e["type"] == "extra_forbidden":
                key = str(loc[-1])
                parent = _value_at(doc.data, loc[:-1])
                allowed = _allowed_keys(model_cls, loc[:-1], doc.data)
                msg = "unknown key" + did_you_mean(key, [k for k in allowed if k not in parent])
            else:
                msg = e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
                if e["type"] in _SCALAR_TYPE_ERRORS and "input" in e:
                    msg += f", got {e['input']!r}"
        name = dotted(field_loc) or "document"
        if field_loc in found:
            continue
        found[field_loc] = (doc.line_of(field_loc), f"{doc.path}:{doc.line_of(field_loc)}: {name}: {msg}")
        if e["type"] == "missing":
            missing.add(field_loc)
        elif e["type"] == "extra_forbidden":
            unknown.append(loc)
    # `question:` written for `questions:` is one mistake, not two: the unknown key's "did you mean"
    # says it, and "questions: required field is missing" would only send the reader elsewhere first.
    for loc in unknown:
        for field_loc in [m for m in missing if m[:-1] == loc[:-1]]:
            if difflib.get_close_matches(str(loc[-1]), [str(field_loc[-1])], n=1, cutoff=0.6):
                found.pop(field_loc, None)
    return [line for _, line in sorted(found.values(), key=lambda t: t[0])]


def _allowed_keys(model_cls, loc: tuple, data: Any) -> list[str]:
    """Field names of the model at `loc`, for 'did you mean'."""
    from typing import get_args

    from pydantic import BaseModel

    cls = model_cls
    for part in loc:
        if isinstance(part, int):
            continue
        field = cls.model_fields.get(part) if cls else None
        if field is None:
            return []
        cls = None
        stack = [field.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                cls = t
                break
            stack.extend(get_args(t))
        if cls is None:
            return []
    return list(cls.model_fields) if cls else []


def validate(model_cls, doc: Document, *, first_only: bool = True):
    """Build `model_cls` from the document or raise BadInput naming file:line and the field."""
    from pydantic import ValidationError

    if not isinstance(doc.data, dict):
        raise BadInput(f"{doc.path}:1: document: expected a mapping of keys to values")
    try:
        return model_cls.model_validate(doc.data)
    except ValidationError as e:
        lines = problems(e, doc, model_cls) or [f"{doc.path}:1: {e.errors()[0]['msg']}"]
        raise BadInput(lines[0] if first_only else "\n".join(lines)) from None
