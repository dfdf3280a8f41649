"""A hypothesis seen through its results: lock state, verdict and status."""

from __future__ import annotations

from dataclasses import dataclass

from hyp.hypotheses.lab import Lab
from hyp.hypotheses.lock import LOCKED_PARTS, LockState, accepted_content, lock_state
from hyp.hypotheses.schema import Hypothesis
from hyp.hypotheses.verdict import Verdict, decide
from hyp.results.results import Results


@dataclass(frozen=True)
class Judged:
    hypothesis: Hypothesis
    results: Results
    lock: LockState
    verdict: Verdict  # under the pre-registered (or last amended) content: the one that counts
    status: str  # PENDING, RUNNING, CONFIRMED, REJECTED, INCONCLUSIVE

    @property
    def shown_verdict(self) -> str:
        if self.lock.status == "broken":
            return "LOCK-BROKEN"
        return "AMENDED-AFTER-RESULTS" if self.lock.status == "amended-after-results" else self.verdict.verdict

    @property
    def score(self) -> float | None:
        est = self.verdict.observations.get("score")
        return est.estimate if est else None


def judge_hypothesis(hyp: Hypothesis, results: Results | None, *, inputs: dict | None = None,
                     pinned: str | None = None, pinned_runs: list[str] | None = None) -> Judged:
    """Pure: the verdict and lock state from the file, its inputs' content and what the store holds."""
    results = results or Results()
    lock = lock_of(hyp, results, inputs=inputs, pinned=pinned, pinned_runs=pinned_runs)
    judged_as = hyp
    if lock.status in ("amended-after-results", "broken") and results.locked:
        # Changes nobody recorded do not count: judge against what was registered. A broken lock too: its
        # tag may have been rewritten to the edited file's hash, but the locked copy says what was registered.
        accepted = accepted_content(results.locked, results.amendments)
        data = hyp.model_dump(mode="json", exclude=set(LOCKED_PARTS))
        judged_as = Hypothesis.model_validate({**data, **{k: v for k, v in accepted.items() if k in LOCKED_PARTS}})
    verdict = decide(judged_as, results.evidence)
    status = "RUNNING" if results.running else verdict.verdict
    return Judged(hyp, results, lock, verdict, status)


def lock_of(hyp: Hypothesis, results: Results | None, *, inputs: dict | None = None,
            pinned: str | None = None, pinned_runs: list[str] | None = None) -> LockState:
    results = results or Results()
    return lock_state(hyp, results.lock_sha, results.locked, results.amendments, inputs=inputs,
                      tampering=results.tampering, pinned=pinned, pinned_runs=pinned_runs,
                      store_runs=results.locking_ids, pending=results.lock_pending)


def judge(lab: Lab, hyp: Hypothesis, results: Results | None) -> Judged:
    """`judge_hypothesis` with what the lab holds beside the file: the inputs the lock covers, the pinned hash."""
    return judge_hypothesis(hyp, results, inputs=lab.lock_inputs(hyp), pinned=lab.pinned_lock(hyp.id),
                            pinned_runs=lab.pinned_runs(hyp.id))


def lab_lock_of(lab: Lab, hyp: Hypothesis, results: Results | None) -> LockState:
    return lock_of(hyp, results, inputs=lab.lock_inputs(hyp), pinned=lab.pinned_lock(hyp.id),
                   pinned_runs=lab.pinned_runs(hyp.id))
