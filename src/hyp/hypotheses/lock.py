"""The pre-registration lock: a hash of what was promised before results existed (SPEC §3).

What is locked is the hypothesis's pre-registered parts together with what its verdict depends on
outside the file (`inputs`: the evaluation suite's content, the dataset files' digests, the judge),
so editing a rubric's fact words after results is as visible as editing a threshold.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from hyp.hypotheses.schema import Hypothesis

LOCKED_PARTS = ("statement", "predictions", "success_criteria", "experiment")
LockStatus = Literal["unlocked", "intact", "amended", "amended-after-results", "broken"]


def locked_content(hyp: Hypothesis, inputs: dict | None = None) -> dict[str, Any]:
    """The locked parts with defaults filled in, so writing out a default never breaks the lock."""
    data = hyp.model_dump(mode="json", include=set(LOCKED_PARTS))
    data["statement"] = " ".join(hyp.statement.split())
    if inputs:
        data["inputs"] = inputs
    return data


def canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Amendment:
    time: str
    reason: str
    from_sha: str
    to_sha: str
    changes: list[dict] = field(default_factory=list)
    artifact: str | None = None  # where the full amendment lives when it was too large for a tag


@dataclass(frozen=True)
class LockState:
    status: LockStatus
    sha256: str | None  # the hash results were first logged under
    current: str  # the hash of the file as it is now
    accepted: str | None  # the hash results may be compared against now (after amendments)
    amendments: list[Amendment]
    changes: list[dict]  # {"field", "old", "new"} between the accepted content and the file
    problems: list[str] = field(default_factory=list)  # why the lock is broken


def lock_state(hyp: Hypothesis, lock_sha: str | None, locked: dict | None, amendments: list[Amendment],
               *, inputs: dict | None = None, tampering: list[str] | None = None,
               pinned: str | None = None, pinned_runs: list[str] | None = None,
               store_runs: list[str] | None = None, pending: bool = False) -> LockState:
    """Pure: compare the file (and its inputs) against the content locked with the first results.

    The stored tag, the locked copy logged beside it and the lab's pinned hash
    (hypotheses/.locks/H.sha256, committed to git) must agree; `tampering` lists what the store
    itself shows was removed (results without a lock, deleted result runs). `pinned_runs` are the finished
    results the pin file lists, `store_runs` the finished results the store holds: a listed one the store
    no longer holds (deleted, marked failed, moved to another hypothesis) was taken out behind hyp's back,
    the newest as much as any other. Any disagreement is `broken`: never shown as intact or unlocked.
    `pending`: the run that took the lock is still running (in another lab, on another machine), so its
    locked copy may not be logged yet: until it is, the lock is judged by its tag alone.
    """
    content = locked_content(hyp, inputs)
    current = sha256(content)
    problems = list(tampering or [])
    if pinned is not None and lock_sha is None:
        problems.append(f"hypotheses/.locks/{hyp.id}.sha256 pins results that this store does not hold "
                        "(deleted, or the lab points at another store)")
    elif pinned_runs and store_runs is not None:
        held = set(store_runs)
        gone = [r for r in pinned_runs if r not in held]
        if gone:
            problems.append(f"{len(gone)} result run(s) pinned in hypotheses/.locks/{hyp.id}.sha256 are no longer "
                            f"finished results in the store (run {gone[0]})")
    if lock_sha is not None:
        if locked is None and not pending:
            problems.append("the locked copy logged with the first results is missing")
        elif locked is not None and sha256(locked) != lock_sha:
            problems.append("the stored lock tag does not match the locked copy logged beside it")
        if pinned is not None and pinned != lock_sha:
            problems.append(f"the store's lock {lock_sha[:12]} is not the one pinned in the lab ({pinned[:12]})")
    if problems:
        return LockState("broken", lock_sha, current, None, amendments, [], problems)
    if lock_sha is None:
        return LockState("unlocked", None, current, None, [], [])
    original = lock_sha
    accepted = amendments[-1].to_sha if amendments else original
    if current == accepted:
        return LockState("amended" if amendments else "intact", original, current, accepted, amendments, [])
    changes = diff(accepted_content(locked, amendments), content) if locked else []
    return LockState("amended-after-results", original, current, accepted, amendments, changes)


def accepted_content(locked: dict, amendments: list[Amendment]) -> dict:
    # Amendments store the new values of the fields they changed; replaying them gives the content
    # that was accepted last.
    content = json.loads(json.dumps(locked))
    for a in amendments:
        for change in a.changes:
            if "new" in change:
                _set(content, change["field"], change["new"])
    return content


def _set(content: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node: Any = content
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) and p.isdigit() else node.setdefault(p, {})
    last = parts[-1]
    if isinstance(node, list) and last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


def diff(old: Any, new: Any, prefix: str = "") -> list[dict]:
    """Changed leaves between two JSON-like values, as {"field", "old", "new"}."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            name = f"{prefix}.{key}" if prefix else key
            out += diff(old.get(key), new.get(key), name)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and old != new \
            and any(isinstance(x, dict | list) for x in old):
        # One prediction changed shows as that one value, not as the whole list of predictions.
        return [c for i, (a, b) in enumerate(zip(old, new, strict=True)) for c in diff(a, b, f"{prefix}.{i}")]
    return [] if old == new else [{"field": prefix, "old": old, "new": new}]
