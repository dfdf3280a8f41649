"""Reading one trial back out of a study: `hyp new H005 --from-trial H004:12`."""

from __future__ import annotations

from typing import Any

from hyp.errors import BadInput
from hyp.hypotheses.lab import Lab
from hyp.sweeps.space import space_key


def trial_changes(lab: Lab, ref: str) -> tuple[str, dict[str, Any]]:
    """(source hypothesis, {dotted experiment key: value}) of trial `STUDY:NUMBER` in the lab's storage.

    Only a complete, feasible trial qualifies: its values are the ones that trained and fitted.
    """
    from hyp.store.secrets import redact
    from hyp.store.sqlite_reader import sqlite_path
    from hyp.sweeps.study import ATTR_HYPOTHESIS, open_storage

    name, sep, number = ref.rpartition(":")
    if not sep or not name or not number.isdigit():
        raise BadInput(f"--from-trial {ref}: expected STUDY:TRIAL, e.g. H004:12")
    url = lab.sweep_storage
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise BadInput(f"--from-trial {ref}: no sweep has run in this lab ({path} does not exist)")
    storage = open_storage(url)
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        raise BadInput(f"--from-trial {ref}: no study named {name!r} in {redact(url)}") from None
    trials = storage.get_all_trials(study_id, deepcopy=False)
    trial = next((t for t in trials if t.number == int(number)), None)
    if trial is None:
        have = f"0–{len(trials) - 1}" if trials else "none"
        raise BadInput(f"--from-trial {ref}: study {name!r} has no trial {number} (trials: {have})")
    if any(v > 0 for v in trial.constraints.values()):
        why = trial.user_attrs.get("infeasible", "over the VRAM limit")
        raise BadInput(f"--from-trial {ref}: trial {number} is infeasible ({why})")
    if trial.state.name != "COMPLETE":
        raise BadInput(f"--from-trial {ref}: trial {number} is {trial.state.name}; only a complete trial's "
                       f"values are known to train")
    source = storage.get_study_user_attrs(study_id).get(ATTR_HYPOTHESIS) or name
    return source, {space_key(k): v for k, v in trial.params.items()}
