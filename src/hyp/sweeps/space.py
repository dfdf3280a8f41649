"""The search space of a `sweep:` block: checking it against the experiment, sampling it, applying it.

The sweep block names a parameter by its full dotted path (`experiment.training.epochs`, as `--set`
and `on_failure` do); in Optuna it is named as its MLflow param is (`training.epochs`, SPEC §6), so
optuna-dashboard, `hyp.best_params` and the MLflow runs table show the same names.
"""

from __future__ import annotations

import math
from typing import Any

from hyp.errors import BadInput
from hyp.experiments.overrides import apply_values
from hyp.hypotheses.schema import Hypothesis, SearchParam
from hyp.hypotheses.yamlfile import Document

PREFIX = "experiment."


def check_space(hyp: Hypothesis, doc: Document) -> None:
    """Every parameter names an existing experiment value, and its bounds are values that value accepts."""
    for key, param in hyp.sweep.space.items():
        where = f"{doc.where(('sweep', 'space', key))}: sweep.space.{key}"
        if not key.startswith(PREFIX):
            raise BadInput(f"{where}: only experiment values can be searched (write experiment.{key}?)")
        if param.type != "categorical":
            if param.type == "int" and not all(float(v).is_integer() for v in (param.low, param.high)):
                raise BadInput(f"{where}: an int parameter needs whole-number 'low' and 'high'")
            if param.log and param.low <= 0:
                raise BadInput(f"{where}: a log-scaled parameter needs 'low' > 0")
            if param.log and param.step is not None:
                raise BadInput(f"{where}: 'step' and 'log' cannot be combined")
        for value in _extremes(param):
            try:
                apply_values(hyp, {key: usable(key, value)})
            except BadInput as e:
                # apply_values speaks of --set; here the value came from the sweep block.
                reason = e.message.removeprefix("--set ").split(": ", 1)[-1]
                if not reason.startswith("unknown key"):
                    reason += f" (at {value!r})"
                raise BadInput(f"{where}: {reason}") from None


def _extremes(param: SearchParam) -> list[Any]:
    if param.type == "categorical":
        return list(param.choices)
    if param.type == "int":
        return [int(param.low), int(param.high)]
    return [float(param.low), float(param.high)]


def param_name(key: str) -> str:
    """The Optuna (and MLflow) name of the sweep block's `key`: `experiment.training.epochs` -> `training.epochs`."""
    return key.removeprefix(PREFIX)


def space_key(name: str) -> str:
    """The sweep block's key for an Optuna param name (a study from before issue 19 used the full path)."""
    return name if name.startswith(PREFIX) else PREFIX + name


def sample(trial, space: dict[str, SearchParam]) -> dict[str, Any]:
    """The trial's values by the sweep block's keys, suggested by its sampler (or the stored ones when the
    trial is a retry)."""
    values = {}
    for key, p in space.items():
        name = param_name(key)
        if p.type == "int":
            step = int(p.step) if p.step else 1
            values[key] = trial.suggest_int(name, int(p.low), int(p.high), step=step, log=p.log)
        elif p.type == "float":
            values[key] = trial.suggest_float(name, float(p.low), float(p.high), step=p.step, log=p.log)
        else:
            values[key] = trial.suggest_categorical(name, list(p.choices))
    return values


def usable(key: str, value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise BadInput(f"sweep.space.{key}: {value} is not a usable value")
    return value


def with_values(hyp: Hypothesis, values: dict[str, Any]) -> Hypothesis:
    """The hypothesis with the trial's values in its experiment (validated like `--set`)."""
    applied, _ = apply_values(hyp, {k: usable(k, v) for k, v in values.items()})
    return applied
