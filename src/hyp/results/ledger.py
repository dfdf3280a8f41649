"""The results ledger: the one way results enter the store for a hypothesis.

`result_run` checks the pre-registration lock against the store, opens the run that carries
results (run, record, sweep), logs the hypothesis and, with the first results, its locked
content; when the run finished, `conclude` computes the verdict once, writes it to the runs'
`hyp.verdict` tag and rebuilds the status index once. `hyp run`, `record`, `sweep`, `score` and
`amend` all go through here, so the sequence cannot drift between them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hyp.errors import BadInput, LockBroken
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.lock import LockState, canonical, locked_content, sha256
from hyp.hypotheses.params import experiment_params
from hyp.hypotheses.schema import Hypothesis
from hyp.results.judged import Judged, judge, lab_lock_of
from hyp.results.results import RESULT_KINDS, SEQ_TAG, SUPERSEDE_REASON_TAG, SUPERSEDES_TAG, Results


@dataclass
class ResultRun:
    """An open result run. Runs appended to `verdict_runs` take the verdict tag when it ends."""

    tracker: object
    run_id: str
    lock: LockState
    tags: dict[str, str]  # the run's tags; its child runs carry them too
    results: Results  # what the store held when the run opened
    verdict_runs: list[str] = field(default_factory=list)
    judged: Judged | None = None  # set once concluded


def check_lock(lab: Lab, tracker, hyp: Hypothesis) -> tuple[LockState, Results]:
    """The lock as the store holds it; results may not be added while it is broken or changes are unrecorded."""
    from hyp.results.index import store_results

    results = store_results(lab, tracker, hyp.id)
    lock = lab_lock_of(lab, hyp, results)
    if lock.status == "broken":
        raise LockBroken(f"hypotheses/{hyp.id}.yaml: the pre-registration lock is broken ({'; '.join(lock.problems)}); "
                         "no results can be added to it")
    if lock.status == "amended-after-results":
        changed = ", ".join(c["field"] for c in lock.changes) or "pre-registered parts"
        raise LockBroken(f"hypotheses/{hyp.id}.yaml: {changed} changed after results were logged; "
                         f"record why with `hyp amend {hyp.id} --reason ...` or undo the change")
    return lock, results


def result_tags(lab: Lab, hyp: Hypothesis, kind: str) -> dict[str, str]:
    from hyp.store.base import source_tags

    tags = {"hyp.kind": kind, "hyp.lock": sha256(locked_content(hyp, lab.lock_inputs(hyp))),
            **source_tags(lab.root, f"hypotheses/{hyp.id}.yaml")}
    if hyp.parent:
        tags["hyp.parent"] = hyp.parent
    if hyp.version:
        tags["hyp.version"] = hyp.version
    return tags


@contextmanager
def result_run(lab: Lab, hyp: Hypothesis, *, kind: str, name: str | None = None, tags: dict | None = None,
               params: dict | None = None, supersede: list[str] | None = None, reason: str | None = None,
               tracker=None) -> Iterator[ResultRun]:
    """Open a run of `kind` carrying results for `hyp` (the file as registered); conclude when it finished.

    `params` defaults to the registered experiment; a run with `--set` deviations passes what ran.
    `supersede` names earlier results this one takes out of the evidence, for `reason` (both kept).
    A run that fails or is interrupted ends FAILED/KILLED and concludes nothing, supersedes nothing.
    """
    from hyp.store import open_tracker
    from hyp.store.base import tracked_run

    tracker = tracker or open_tracker(lab)
    lock, results = check_lock(lab, tracker, hyp)
    if kind == "record":
        refuse_while_running(tracker, hyp.id, results)
    tags = {**result_tags(lab, hyp, kind), SEQ_TAG: str(results.locking_runs + 1), **(tags or {}),
            **superseding(results, supersede or [], reason)}
    with tracked_run(tracker, hypothesis_id=hyp.id, kind=kind, name=name or hyp.id, tags=tags,
                     description=hyp.statement.strip()) as run_id:
        tracker.log_params(run_id, experiment_params(hyp) if params is None else params)
        _attach_hypothesis(lab, tracker, run_id, hyp, lock, results)
        result = ResultRun(tracker, run_id, lock, tags, results, [run_id] if kind in RESULT_KINDS else [])
        yield result
    # Pinned once the first results exist: a run that failed before any result pins nothing. Every later
    # finished result is listed too, so deleting the newest in the store shows as much as any other.
    if lock.status == "unlocked" and lab.pinned_lock(hyp.id) is None:
        lab.pin_lock(hyp.id, tags["hyp.lock"], f"locked with the first results (run {run_id})")
    else:
        lab.pin_lock(hyp.id, tags["hyp.lock"], f"result (run {run_id})")
    result.judged = conclude(lab, tracker, hyp, result.verdict_runs)


@contextmanager
def one_at_a_time(lab: Lab, hid: str, command: str) -> Iterator[None]:
    """Hold the hypothesis for `command` (`hyp run`, `hyp record`): results are added by one process at a
    time, so a run's verdict tag and report, written when it ends, count everything recorded meanwhile.
    A second one stops at once (exit 2), naming the first's process; the kernel frees it with the process."""
    from hyp.files import Busy, exclusive

    lock = exclusive(lab.state_dir / "locks" / f"{hid}.run", note=command)
    try:
        lock.__enter__()
    except Busy as busy:
        pid, _, holder = str(busy).partition(" ")
        held = f" (pid {pid})" if pid else ""
        raise BadInput(f"{hid}: a `{holder or 'hyp run'}` of it is already running{held}; wait for it to finish "
                       f"or stop it") from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def superseding(results: Results, targets: list[str], reason: str | None) -> dict[str, str]:
    """The tags by which a new result takes earlier ones out of the evidence; bad names change nothing."""
    if not targets:
        if reason:
            raise BadInput("--reason: only with --supersede RUN")
        return {}
    if not reason or not reason.strip():
        raise BadInput("--supersede: say why with --reason TEXT (it is kept and shown in the report)")
    found = []
    for target in targets:
        # A full run id, or its first 8+ characters as `hyp show` prints them.
        matches = [a for a in results.attempts
                   if a.run_id == target or (len(target) >= 8 and a.run_id.startswith(target))]
        if len(matches) != 1:
            known = ", ".join(a.run_id[:8] for a in results.attempts) or "none yet"
            raise BadInput(f"--supersede {target}: not a finished result of this hypothesis (results: {known})")
        if matches[0].superseded_by:
            raise BadInput(f"--supersede {target}: already superseded by {matches[0].superseded_by}")
        found.append(matches[0].run_id)
    return {SUPERSEDES_TAG: ",".join(found), SUPERSEDE_REASON_TAG: reason.strip()}


def refuse_while_running(tracker, hid: str, results: Results) -> None:
    """A record waits for a `hyp run` (or record) of the same hypothesis going on anywhere on the store, this lab
    or another: the run's verdict tag and report, written when it ends, would not count it. The lab's own lock
    file (`one_at_a_time`) sees only this lab; the store is what labs share. A run whose process is provably
    dead (this machine, pid gone) does not count: the next command marks it KILLED."""
    from hyp.store.base import owner_is_gone

    if not results.running:
        return
    for r in tracker.runs(hid, data=False):
        if r.status == "RUNNING" and r.parent_run_id is None and r.kind in RESULT_KINDS and not owner_is_gone(r.tags):
            doing = "run" if r.kind == "run" else "recorded"
            raise BadInput(f"{hid} is being {doing} (run {r.run_id} on host {r.tags.get('hyp.host') or 'unknown'}); "
                           "record after it ends")


def _attach_hypothesis(lab: Lab, tracker, run_id: str, hyp: Hypothesis, lock: LockState, results: Results) -> None:
    """The hypothesis file as it was; with the first results, the locked content beside it (its hash is
    pinned in the lab, hypotheses/.locks/, once the run finished: meant to be committed with the file).

    "The first results" until a run that took the lock has FINISHED: while the one that took it is still
    RUNNING (`lock_pending`), every run that starts logs the copy too. The first may yet be killed or fail,
    and then the lock is judged from the next one (observations.results_from_runs); without its own copy the
    lock read as broken ("the locked copy ... is missing") for every result after it. The copy is the file's
    locked content under this run's own `hyp.lock` tag, so the tag-against-copy check is as strict as ever."""
    tracker.log_artifact(run_id, lab.hypothesis_path(hyp.id), "hyp")
    if lock.status == "unlocked" or results.lock_pending:
        content = locked_content(hyp, lab.lock_inputs(hyp))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "locked.json"
            path.write_text(canonical(content))
            tracker.log_artifact(run_id, path, "hyp")


def conclude(lab: Lab, tracker, hyp: Hypothesis, run_ids: list[str]) -> Judged:
    """Judge once from the store, write the verdict to the runs' hyp.verdict tag, rebuild the index once."""
    from hyp.results import index

    judged = judge(lab, hyp, index.store_results(lab, tracker, hyp.id))
    for run_id in run_ids:
        tracker.set_tags(run_id, {"hyp.verdict": judged.verdict.verdict})
    # After the tags, so the index's fingerprint covers them and the next `hyp list` reads no store.
    index.rebuild_index(lab, tracker)
    return judged
