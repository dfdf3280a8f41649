"""`hyp run --set key=value`: one-off deviations from the pre-registered experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hyp.errors import BadInput
from hyp.hypotheses.schema import Hypothesis
from hyp.hypotheses.validation import problems
from hyp.hypotheses.yamlfile import Document, did_you_mean, parse_yaml


def apply_overrides(hyp: Hypothesis, pairs: list[str]) -> tuple[Hypothesis, list[dict]]:
    """The hypothesis with `experiment.*` values replaced, and the deviations as {key, registered, used}."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadInput(f"--set {pair!r}: expected key=value, e.g. experiment.training.epochs=4")
        values[key] = parse_yaml(f"v: {raw}", Path("--set")).data["v"]
    return apply_values(hyp, values)


def apply_values(hyp: Hypothesis, values: dict[str, Any]) -> tuple[Hypothesis, list[dict]]:
    """As `apply_overrides`, for values that already have their type (a sweep trial's): no text trip."""
    if not values:
        return hyp, []
    data = hyp.model_dump(mode="json")
    deviations = []
    for key, value in values.items():
        dotted = key if key.startswith("experiment.") else f"experiment.{key}"
        parts = dotted.split(".")
        node = data
        for part in parts[:-1]:
            if not isinstance(node, dict) or not isinstance(node.get(part), dict):
                raise BadInput(f"--set {key}: unknown key (no {'.'.join(parts[: parts.index(part) + 1])})")
            node = node[part]
        if parts[-1] not in node:
            raise BadInput(f"--set {key}: unknown key{did_you_mean(parts[-1], node)}")
        deviations.append({"key": dotted.removeprefix("experiment."), "registered": node[parts[-1]], "used": value})
        node[parts[-1]] = value
    from pydantic import ValidationError

    try:
        return Hypothesis.model_validate(data), deviations
    except ValidationError as e:
        doc = Document(path=Path("--set"), data=data)
        first = problems(e, doc, Hypothesis)[0].split(": ", 1)[1]
        raise BadInput(f"--set {first}") from None
