"""The experiment block as MLflow params (SPEC §6): flattened, with dotted keys."""

from __future__ import annotations

from hyp.hypotheses.schema import Hypothesis


def flatten(data: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def experiment_params(hyp: Hypothesis) -> dict[str, object]:
    """Params as SPEC §6 names them: the experiment block flattened with dotted keys."""
    # Unset optional parts (no synthetic source, no held-out set) are left out, not logged as "None".
    return flatten(hyp.experiment.model_dump(mode="json", exclude_none=True))
