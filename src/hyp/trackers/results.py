"""Opening and closing a run that carries results for a hypothesis (record, run, sweep).

The first results lock the pre-registered parts: their canonical content goes with the run.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hyp.errors import LockBroken
from hyp.hypotheses.judged import Judged, judge_hypothesis
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.lock import canonical, locked_content, sha256
from hyp.hypotheses.schema import Hypothesis
from hyp.trackers.index import rebuild_index


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


def check_lock(lab: Lab, tracker, hyp: Hypothesis) -> Judged:
    results = rebuild_index(lab, tracker).get(hyp.id)
    judged = judge_hypothesis(hyp, results)
    if judged.lock.status == "amended-after-results":
        changed = ", ".join(c["field"] for c in judged.lock.changes) or "pre-registered parts"
        raise LockBroken(f"hypotheses/{hyp.id}.yaml: {changed} changed after results were logged; "
                         f"record why with `hyp amend {hyp.id} --reason ...` or undo the change")
    return judged


def result_tags(hyp: Hypothesis, kind: str) -> dict[str, str]:
    tags = {"hyp.kind": kind, "hyp.lock": sha256(locked_content(hyp))}
    if hyp.parent:
        tags["hyp.parent"] = hyp.parent
    if hyp.version:
        tags["hyp.version"] = hyp.version
    return tags


def attach_hypothesis(lab: Lab, tracker, run_id: str, hyp: Hypothesis, judged: Judged) -> None:
    """The hypothesis file as it was, and the locked content when these are the first results."""
    tracker.log_artifact(run_id, lab.hypothesis_path(hyp.id), "hyp")
    if judged.lock.status == "unlocked":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "locked.json"
            path.write_text(canonical(locked_content(hyp)))
            tracker.log_artifact(run_id, path, "hyp")


def conclude(lab: Lab, tracker, hyp: Hypothesis, run_ids: list[str]) -> Judged:
    """Re-read the store, judge, and write the verdict to the runs' hyp.verdict tag."""
    results = rebuild_index(lab, tracker).get(hyp.id)
    judged = judge_hypothesis(hyp, results)
    for run_id in run_ids:
        tracker.set_tags(run_id, {"hyp.verdict": judged.verdict.verdict})
    # Setting tags changed the store; refresh the index so `hyp list` stays fast and current.
    rebuild_index(lab, tracker)
    return judged


def write_json_artifact(tracker, run_id: str, name: str, data, artifact_path: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        tracker.log_artifact(run_id, path, artifact_path)


def amend(lab: Lab, hid: str, reason: str):
    """Record, with its reason and time, that pre-registered parts changed after results."""
    import datetime as dt

    from hyp.errors import BadInput
    from hyp.hypotheses.lock import Amendment
    from hyp.trackers import open_tracker
    from hyp.trackers.observations import AMENDMENT_TAG

    if not reason.strip():
        raise BadInput("--reason: say why the pre-registered parts changed")
    hyp = lab.load(hid)
    tracker = open_tracker(lab)
    results = rebuild_index(lab, tracker).get(hid)
    judged = judge_hypothesis(hyp, results)
    if judged.lock.status != "amended-after-results":
        raise BadInput(f"{hid}: nothing to amend (lock is {judged.lock.status})")
    amendment = Amendment(time=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), reason=reason.strip(),
                          from_sha=judged.lock.accepted, to_sha=judged.lock.current, changes=judged.lock.changes)
    n = len(results.amendments) + 1
    payload = json.dumps(amendment.__dict__, ensure_ascii=False, default=str)
    if len(payload) > 7900:  # MLflow's tag limit: the full amendment goes to an artifact
        name = f"amendment-{n}.json"
        write_json_artifact(tracker, results.lock_run_id, name, amendment.__dict__, "hyp")
        payload = json.dumps({**amendment.__dict__, "changes": [], "artifact": f"hyp/{name}"}, ensure_ascii=False)
    tracker.set_tags(results.lock_run_id, {f"{AMENDMENT_TAG}{n}": payload})
    runs = [results.result_run_id] if results.result_run_id else []
    return conclude(lab, tracker, hyp, runs), amendment
