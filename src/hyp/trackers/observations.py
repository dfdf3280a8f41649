"""Turns the runs of one hypothesis into what the verdict needs. Pure: runs in, results out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hyp.hypotheses.lock import Amendment
from hyp.trackers.base import RunRecord

RESULT_KINDS = ("run", "record")
LOCKING_KINDS = ("run", "record", "sweep")
AMENDMENT_TAG = "hyp.amendment."


@dataclass
class Results:
    """What the store holds about one hypothesis."""

    result_run_id: str | None = None
    result_kind: str | None = None
    observations: dict[str, list[float]] = field(default_factory=dict)
    lock_sha: str | None = None
    lock_run_id: str | None = None  # the run that carries the locked content as an artifact
    locked: dict | None = None
    amendments: list[Amendment] = field(default_factory=list)
    running: list[dict] = field(default_factory=list)  # owner tags of RUNNING runs
    runs: int = 0
    child_run_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        d = dict(self.__dict__)
        d["amendments"] = [a.__dict__ for a in self.amendments]
        return d

    @classmethod
    def from_json(cls, d: dict) -> Results:
        d = dict(d)
        d["amendments"] = [Amendment(**a) for a in d.get("amendments", [])]
        return cls(**d)


def results_from_runs(runs: list[RunRecord]) -> Results:
    out = Results(runs=len(runs))
    tops = [r for r in runs if r.parent_run_id is None]
    locking = sorted((r for r in tops if r.kind in LOCKING_KINDS and r.tags.get("hyp.lock")),
                     key=lambda r: r.start_time)
    if locking:
        out.lock_sha = locking[0].tags["hyp.lock"]
        out.lock_run_id = locking[0].run_id
    amendments = []
    for r in runs:
        for key, value in r.tags.items():
            if key.startswith(AMENDMENT_TAG):
                try:
                    amendments.append(Amendment(**json.loads(value)))
                except (ValueError, TypeError):
                    continue
    out.amendments = sorted(amendments, key=lambda a: a.time)
    out.running = [{"run_id": r.run_id, **{k: v for k, v in r.tags.items() if k in ("hyp.pid", "hyp.host",
                    "hyp.proc_start")}} for r in runs if r.status == "RUNNING"]

    latest, children = _result(runs)
    if latest is None:
        return out
    out.result_run_id, out.result_kind = latest.run_id, latest.kind
    out.child_run_ids = [r.run_id for r in children]
    sources = children or [latest]
    obs: dict[str, list[float]] = {}
    for r in sources:
        for k, v in r.metrics.items():
            obs.setdefault(k, []).append(v)
    out.observations = obs
    return out


def metric_sources(runs: list[RunRecord]) -> list[str]:
    """The runs whose metrics are the hypothesis's observations: the latest finished result's
    finished replicates, or that result run itself. Only their metrics need reading."""
    latest, children = _result(runs)
    return [r.run_id for r in children or ([latest] if latest else [])]


def _result(runs: list[RunRecord]) -> tuple[RunRecord | None, list[RunRecord]]:
    done = [r for r in runs if r.parent_run_id is None and r.kind in RESULT_KINDS and r.status == "FINISHED"]
    if not done:
        return None, []
    latest = max(done, key=lambda r: r.start_time)
    children = [r for r in runs if r.parent_run_id == latest.run_id and r.kind == "replicate"
                and r.status == "FINISHED"]
    return latest, children
