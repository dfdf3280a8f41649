"""`hyp amend`: record, with its reason and time, that pre-registered parts changed after results."""

from __future__ import annotations

import datetime as dt
import json

from hyp.errors import BadInput
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.lock import Amendment
from hyp.results.judged import Judged, lab_lock_of
from hyp.results.ledger import conclude
from hyp.results.results import AMENDMENT_TAG

TAG_LIMIT = 7900  # MLflow's tag value limit is 8,000 characters; the full amendment goes to an artifact


def amend(lab: Lab, hid: str, reason: str) -> tuple[Judged, Amendment]:
    from hyp.results.index import store_results
    from hyp.store import open_tracker
    from hyp.store.base import log_json

    if not reason.strip():
        raise BadInput("--reason: say why the pre-registered parts changed")
    hyp = lab.load(hid)
    tracker = open_tracker(lab)
    results = store_results(lab, tracker, hid)
    lock = lab_lock_of(lab, hyp, results)
    if lock.status != "amended-after-results":
        raise BadInput(f"{hid}: nothing to amend (lock is {lock.status})")
    amendment = Amendment(time=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), reason=reason.strip(),
                          from_sha=lock.accepted, to_sha=lock.current, changes=lock.changes)
    n = len(results.amendments) + 1
    payload = json.dumps(amendment.__dict__, ensure_ascii=False, default=str)
    if len(payload) > TAG_LIMIT:
        name = f"amendment-{n}.json"
        log_json(tracker, results.lock_run_id, name, amendment.__dict__, "hyp")
        payload = json.dumps({**amendment.__dict__, "changes": [], "artifact": f"hyp/{name}"}, ensure_ascii=False)
    tracker.set_tags(results.lock_run_id, {f"{AMENDMENT_TAG}{n}": payload})
    lab.pin_lock(hid, lock.current, f"amended {amendment.time}: {amendment.reason[:200]}")
    runs = [results.result_run_id] if results.result_run_id else []
    return conclude(lab, tracker, hyp, runs), amendment
