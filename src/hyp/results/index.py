"""What hyp keeps beside the store so `list` and `show` answer without importing MLflow.

The index holds each hypothesis's observations and lock as last read from the store, with a
fingerprint of the store taken *before* reading. Any later write to the store changes the
fingerprint, so a stale index is rebuilt, never shown. Verdicts are not cached: they are
recomputed from the current hypothesis file each time (the verdict is a cheap pure function).
It is only a shortcut: one that is damaged is ignored, and one that cannot be written (a read-only
checkout) is not kept, so reading a lab never needs to write it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

from hyp.errors import HypError
from hyp.files import parse_json, read_cache, write_cache
from hyp.hypotheses.lab import Lab
from hyp.results.observations import metric_sources, results_from_runs
from hyp.results.results import Results
from hyp.store.base import owner_is_gone
from hyp.store.sqlite_reader import sqlite_path

INDEX_VERSION = 5


def store_fingerprint(uri: str, experiment: str | None = None) -> str | None:
    """A cheap token that changes whenever the store is written; None when it cannot be known.

    A SQLite file's own change marks; a tracking server's change token for `experiment` (one request,
    see rest_reader.py); None for any other store (a database URI), which is always read in full."""
    if uri.startswith(("http://", "https://")):
        from hyp.store.rest_reader import server_fingerprint

        return server_fingerprint(uri, experiment) if experiment else None
    db = sqlite_path(uri)
    if db is None:
        return None
    parts = []
    for p in (db, Path(f"{db}-wal")):
        try:
            st = p.stat()
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        except FileNotFoundError:
            parts.append("-")
    # mtime alone can miss a same-size write within one clock tick; SQLite's header has a
    # change counter (bytes 24-27) that every committed transaction bumps in rollback-journal mode.
    try:
        with open(db, "rb") as f:
            header = f.read(100)
        parts.append(header[24:28].hex())
    except OSError:
        pass
    return "|".join(parts)


def _index_path(lab: Lab) -> Path:
    return lab.state_dir / "index.json"


def read_index(lab: Lab) -> dict[str, Results] | None:
    """The cached results, or None when they might not match the store."""
    fp = store_fingerprint(lab.tracking_uri, lab.settings.experiment)
    if fp is None:
        return None
    if fp.startswith("-|"):
        return {}  # no store yet: nothing was ever logged
    data = read_cache(_index_path(lab))
    if data.get("version") != INDEX_VERSION or data.get("store") != lab.tracking_uri or data.get("fingerprint") != fp:
        return None
    if data.get("digest") != _digest(data.get("hypotheses")):
        return None  # edited by hand: the index is a shortcut to the store, never a source of results
    try:
        results = {hid: Results.from_json(r) for hid, r in data["hypotheses"].items()}
    except (AttributeError, KeyError, TypeError, ValueError):
        return None  # the right header over a damaged body: rebuilt from the store
    if any(owner_is_gone(r) for res in results.values() for r in res.running):
        return None  # an orphaned RUNNING run: the slow path marks it KILLED
    return results


def _digest(body) -> str:
    """The body's hash as written: an index edited by hand no longer matches it and is read from the store
    again (not a defence against someone who recomputes it; the lock and `--check` never trust the index)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def rebuild_index(lab: Lab, tracker) -> dict[str, Results]:
    """Read every hyp run from the store, reap orphans, and save the index."""
    fp = store_fingerprint(lab.tracking_uri, lab.settings.experiment)
    # Tags and states decide everything but the observations; metrics are read for the few runs
    # that hold those (at 10,000 runs, reading every run's params and metrics was most of the time).
    runs = tracker.runs(data=False)
    orphans = [r for r in runs if r.status == "RUNNING" and owner_is_gone(r.tags)]
    if orphans and _reap(tracker, orphans):
        fp = store_fingerprint(lab.tracking_uri, lab.settings.experiment)
        runs = tracker.runs(data=False)
    by_id: dict[str, list] = {}
    for r in runs:
        if r.hypothesis_id:
            by_id.setdefault(r.hypothesis_id, []).append(r)
    results = _results_of(lab, tracker, by_id)
    if fp is not None:
        body = {hid: r.to_json() for hid, r in results.items()}
        payload = {"version": INDEX_VERSION, "store": lab.tracking_uri, "fingerprint": fp,
                   "digest": _digest(body), "hypotheses": body}
        write_cache(_index_path(lab), json.dumps(payload, ensure_ascii=False))
    return results


def _reap(tracker, orphans: list) -> bool:
    """Mark runs whose process died KILLED; False when the store cannot be written (a read-only lab):
    they are shown as they are, and the next command that can write marks them."""
    import logging

    # MLflow logs a failed write with SQLAlchemy's whole traceback before raising it: for a store that
    # is only being read, that is noise over the answer. Quiet while trying (MLflow, imported by the first
    # write, sets its loggers' levels then, hence all logging); errors still raise.
    before = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        for r in orphans:
            tracker.set_tags(r.run_id, {"hyp.error": "the process that ran it died (marked KILLED by hyp)"})
            tracker.end_run(r.run_id, "KILLED")
    except HypError:
        return False
    except Exception as e:  # MLflow's and SQLAlchemy's errors for a read-only database have no common base
        if not _read_only(e):
            raise
        return False
    finally:
        logging.disable(before)
    return True


# How SQLite ("attempt to write a readonly database"), PostgreSQL ("read-only transaction") and the OS
# say that a store can be read but not written.
_READ_ONLY = ("readonly", "unabletoopendatabasefile", "permissiondenied")


def _read_only(error: Exception) -> bool:
    if isinstance(error, OSError) and error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return True
    said = str(error).replace("-", "").replace(" ", "").replace("_", "").lower()
    return any(s in said for s in _READ_ONLY)


def store_results(lab: Lab, tracker, hid: str) -> Results:
    """One hypothesis's results read from the store itself, never from the index (a lock check
    before logging new results must not trust a cache)."""
    return _results_of(lab, tracker, {hid: tracker.runs(hid, data=False)}).get(hid, Results())


def _results_of(lab: Lab, tracker, by_id: dict[str, list]) -> dict[str, Results]:
    needed = [run_id for hruns in by_id.values() for run_id in metric_sources(hruns)]
    metrics = tracker.latest_metrics(needed) if needed else {}
    by_id = {hid: [replace(r, metrics=metrics[r.run_id]) if r.run_id in metrics else r for r in hruns]
             for hid, hruns in by_id.items()}
    previous = _read_raw(lab)
    results = {}
    for hid, hruns in by_id.items():
        res = results_from_runs(hruns)
        res.locked = _locked_content(lab, tracker, res, previous.get(hid))
        res.amendments = [_full_amendment(tracker, res, a) for a in res.amendments]
        results[hid] = res
    return results


def _read_raw(lab: Lab) -> dict:
    raw = read_cache(_index_path(lab)).get("hypotheses")
    return raw if isinstance(raw, dict) else {}


def _locked_content(lab: Lab, tracker, res: Results, previous: dict | None) -> dict | None:
    if not res.lock_sha or not res.lock_run_id:
        return None
    if isinstance(previous, dict) and previous.get("lock_sha") == res.lock_sha and previous.get("locked"):
        return previous["locked"]
    import tempfile

    from hyp.hypotheses.lock import sha256

    for run_id in [res.lock_run_id, *res.lock_copies]:
        with tempfile.TemporaryDirectory() as tmp:
            path = tracker.download_artifact(run_id, "hyp/locked.json", Path(tmp))
            if path and path.is_file():
                content = parse_json(path.read_text(), f"run {run_id} hyp/locked.json")
                # The lock's own run is read as it is (a mismatch there is tampering, and shows); a copy on
                # another run counts only when it is exactly what the lock's hash says.
                if run_id == res.lock_run_id or (isinstance(content, dict) and sha256(content) == res.lock_sha):
                    return content
    return None


def _full_amendment(tracker, res: Results, amendment):
    if not amendment.artifact or amendment.changes:
        return amendment
    import tempfile

    from hyp.hypotheses.lock import Amendment

    with tempfile.TemporaryDirectory() as tmp:
        path = tracker.download_artifact(res.lock_run_id, amendment.artifact, Path(tmp))
        if path and path.is_file():
            return Amendment(**{**parse_json(path.read_text(), amendment.artifact), "artifact": amendment.artifact})
    return amendment


def load_results(lab: Lab, tracker=None) -> dict[str, Results]:
    """Results for every hypothesis: from the index when fresh, else from the store."""
    if tracker is None and not os.environ.get("HYP_NO_INDEX"):
        cached = read_index(lab)
        if cached is not None:
            return cached
    from hyp.store import open_tracker

    return rebuild_index(lab, tracker or open_tracker(lab))
