"""What the store holds about one hypothesis: the input of its verdict and of its lock state."""

from __future__ import annotations

from dataclasses import dataclass, field

from hyp.hypotheses.lock import Amendment

RESULT_KINDS = ("run", "record")
LOCKING_KINDS = ("run", "record", "sweep")
AMENDMENT_TAG = "hyp.amendment."
SUPERSEDES_TAG = "hyp.supersedes"
SUPERSEDE_REASON_TAG = "hyp.supersede_reason"
SEQ_TAG = "hyp.seq"  # 1, 2, 3... over a hypothesis's result runs: a gap means runs were deleted


@dataclass
class Attempt:
    """One `hyp run` or `hyp record`, as `show` and the report list them."""

    run_id: str
    name: str
    kind: str
    start_time: int  # ms since epoch
    status: str
    units: int  # replicates (or 1 for a record) whose metrics it contributes
    score: float | None
    evidence: bool  # counts toward the verdict
    deviations: list[dict] = field(default_factory=list)  # `--set` values that differ from the registration
    superseded_by: str | None = None
    supersede_reason: str | None = None


@dataclass
class Results:
    """What the store holds about one hypothesis."""

    result_run_id: str | None = None  # the latest result that counts: what `hyp score` scores by default
    result_kind: str | None = None
    child_run_ids: list[str] = field(default_factory=list)
    evidence: list[dict[str, float]] = field(default_factory=list)  # one metrics dict per replicate or record
    attempts: list[Attempt] = field(default_factory=list)
    lock_sha: str | None = None
    lock_run_id: str | None = None  # the run that carries the locked content as an artifact
    # Other locking runs tagged with the same lock, oldest first: a first run killed before it finished logged
    # the locked copy, which a lab from before issue 17's fix may hold only there.
    lock_copies: list[str] = field(default_factory=list)
    locked: dict | None = None
    lock_pending: bool = False  # the locking run is still running: its locked copy may not be logged yet
    amendments: list[Amendment] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)  # what the store shows was removed or rewritten
    running: list[dict] = field(default_factory=list)  # owner tags of RUNNING runs
    runs: int = 0
    locking_runs: int = 0  # top-level run, record and sweep runs, whatever their state
    locking_ids: list[str] = field(default_factory=list)  # the finished ones among them (what the pin file lists)
    flags: dict[str, list[str]] = field(default_factory=dict)  # the latest result's coherence flags per answer
    agreements: list[dict] = field(default_factory=list)  # scorers' agreement on the latest result, per criterion

    def to_json(self) -> dict:
        d = dict(self.__dict__)
        d["amendments"] = [a.__dict__ for a in self.amendments]
        d["attempts"] = [a.__dict__ for a in self.attempts]
        return d

    @classmethod
    def from_json(cls, d: dict) -> Results:
        d = dict(d)
        d["amendments"] = [Amendment(**a) for a in d.get("amendments", [])]
        d["attempts"] = [Attempt(**a) for a in d.get("attempts", [])]
        return cls(**d)
