"""A hypothesis seen through its results: lock state, verdict and status. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from hyp.hypotheses.lock import LOCKED_PARTS, LockState, accepted_content, lock_state, locked_content, sha256
from hyp.hypotheses.schema import Hypothesis
from hyp.hypotheses.verdict import Verdict, decide
from hyp.trackers.observations import Results


@dataclass(frozen=True)
class Judged:
    hypothesis: Hypothesis
    results: Results
    lock: LockState
    verdict: Verdict  # under the pre-registered (or last amended) content: the one that counts
    status: str  # PENDING, RUNNING, CONFIRMED, REJECTED, INCONCLUSIVE

    @property
    def shown_verdict(self) -> str:
        return "AMENDED-AFTER-RESULTS" if self.lock.status == "amended-after-results" else self.verdict.verdict

    @property
    def score(self) -> float | None:
        est = self.verdict.observations.get("score")
        return est.estimate if est else None


def judge_hypothesis(hyp: Hypothesis, results: Results | None) -> Judged:
    results = results or Results()
    lock = lock_state(hyp, results.lock_sha, results.locked, results.amendments)
    judged_as = hyp
    if lock.status == "amended-after-results" and results.locked:
        # Changes nobody recorded do not count: judge against what was registered.
        accepted = accepted_content(results.locked, results.amendments)
        data = hyp.model_dump(mode="json", exclude=set(LOCKED_PARTS))
        judged_as = Hypothesis.model_validate({**data, **accepted})
    verdict = decide(judged_as, results.observations)
    status = "RUNNING" if results.running else verdict.verdict
    return Judged(hyp, results, lock, verdict, status)


def current_lock_hash(hyp: Hypothesis) -> str:
    return sha256(locked_content(hyp))
