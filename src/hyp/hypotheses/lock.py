"""The pre-registration lock: a hash of what was promised before results existed (SPEC §3)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from hyp.hypotheses.schema import Hypothesis

LOCKED_PARTS = ("statement", "predictions", "success_criteria", "experiment")
LockStatus = Literal["unlocked", "intact", "amended", "amended-after-results"]


def locked_content(hyp: Hypothesis) -> dict[str, Any]:
    """The locked parts with defaults filled in, so writing out a default never breaks the lock."""
    data = hyp.model_dump(mode="json", include=set(LOCKED_PARTS))
    data["statement"] = " ".join(hyp.statement.split())
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


def lock_state(hyp: Hypothesis, lock_sha: str | None, locked: dict | None, amendments: list[Amendment]) -> LockState:
    """Pure: compare the file against the content locked with the first results.

    `locked` (the content itself) only serves to show what changed; the hash decides.
    """
    content = locked_content(hyp)
    current = sha256(content)
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
    node = content
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def diff(old: Any, new: Any, prefix: str = "") -> list[dict]:
    """Changed leaves between two JSON-like values, as {"field", "old", "new"}."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            name = f"{prefix}.{key}" if prefix else key
            out += diff(old.get(key), new.get(key), name)
        return out
    return [] if old == new else [{"field": prefix, "old": old, "new": new}]
