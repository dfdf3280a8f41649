"""Reading a lab's MLflow SQLite store with the standard library's sqlite3, without importing MLflow.

Importing MLflow and opening its store through SQLAlchemy costs a second or more before the first
row is read, which is most of what `hyp compare`, a first `hyp report` and an index rebuild would
take. Their reads are three indexed queries against MLflow's run tables, so they are made here and
give exactly what `MlflowClient.search_runs` / `get_metric_history` give (a test compares the two
on a real store). MLflow still does every write.

The tables read are MLflow's long-stable run schema (runs, tags, params, latest_metrics, metrics,
experiments). `SqliteReader.open` checks their columns first and returns None when anything is
missing or different, so a future MLflow that changes them falls back to MLflow, slower but right.
"""

from __future__ import annotations

import math
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hyp.store.base import RunRecord

COLUMNS = {
    "experiments": {"experiment_id", "name", "artifact_location", "lifecycle_stage"},
    "runs": {"run_uuid", "name", "status", "start_time", "end_time", "lifecycle_stage", "artifact_uri",
             "experiment_id"},
    "tags": {"key", "value", "run_uuid"},
    "params": {"key", "value", "run_uuid"},
    "latest_metrics": {"key", "value", "is_nan", "run_uuid"},
    "metrics": {"key", "value", "timestamp", "step", "is_nan", "run_uuid"},
}
BATCH = 500  # run ids per IN (...) query, under SQLite's limit on bound parameters


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI (a tracking store, a study's storage), or None for any
    other store or an in-memory database."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///"):].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


class SqliteReader:
    def __init__(self, db: Path, experiment_id: str):
        self.db = db
        self.experiment_id = experiment_id

    @classmethod
    def open(cls, uri: str, experiment: str) -> SqliteReader | None:
        """A reader for `experiment` in the store at `uri`; None when it cannot read it as MLflow would."""
        db = sqlite_path(uri)
        if db is None or not db.is_file() or os.environ.get("MLFLOW_WORKSPACE", "default") != "default":
            return None
        try:
            with closing(_connect(db)) as con:
                have = {table: {row[1] for row in con.execute(f"PRAGMA table_info({table})")} for table in COLUMNS}
                if any(not needed <= have[table] for table, needed in COLUMNS.items()):
                    return None
                # MLflow 3 scopes experiment names by workspace; hyp uses the default one.
                workspace = "AND workspace = 'default'" if "workspace" in have["experiments"] else ""
                row = con.execute(f"SELECT experiment_id, lifecycle_stage FROM experiments WHERE name = ? {workspace}",
                                  (experiment,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or row[1] != "active":
            return None  # not created yet (MLflow creates it on the first write), or deleted
        return cls(db, str(row[0]))

    def runs(self, hypothesis_id: str | None = None, *, data: bool = True) -> list[RunRecord]:
        """Active runs of the experiment tagged `hyp.id` (that id, or any non-empty one), oldest first.
        `data=False` leaves params and metrics out, and keeps only hyp's own tags and the parent's id."""
        query = ("SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time FROM runs r "
                 "JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = 'hyp.id' "
                 "WHERE r.experiment_id = ? AND r.lifecycle_stage = 'active' AND ")
        query += "t.value = ?" if hypothesis_id else "t.value != ''"
        # MLflow's search breaks ties in start_time by run id; so does this.
        query += " ORDER BY r.start_time ASC, r.run_uuid ASC"
        args = (int(self.experiment_id), *([hypothesis_id] if hypothesis_id else []))
        with closing(_connect(self.db)) as con:
            heads = con.execute(query, args).fetchall()
            ids = [h[0] for h in heads]
            only = "" if data else " AND (key LIKE 'hyp.%' OR key = 'mlflow.parentRunId')"
            tags = _by_run(con, "SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ({})" + only, ids)
            params = _by_run(con, "SELECT run_uuid, key, value FROM params WHERE run_uuid IN ({})",
                             ids if data else [])
            metrics = _latest_metrics(con, ids if data else [])
        return [RunRecord(run_id=run_id, name=name or "", hypothesis_id=tags[run_id].get("hyp.id"),
                          kind=tags[run_id].get("hyp.kind"), status=status, start_time=start or 0, end_time=end,
                          parent_run_id=tags[run_id].get("mlflow.parentRunId"), tags=tags[run_id],
                          params=params.get(run_id, {}), metrics=metrics.get(run_id, {}))
                for run_id, name, status, start, end in heads]

    def latest_metrics(self, run_ids: list[str]) -> dict[str, dict[str, float]]:
        """Each run's metrics as `runs` gives them (the latest value of each key)."""
        with closing(_connect(self.db)) as con:
            return _latest_metrics(con, run_ids)

    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        # The order MLflow's SQL store returns a history in.
        with closing(_connect(self.db)) as con:
            rows = con.execute("SELECT step, value, is_nan FROM metrics WHERE run_uuid = ? AND key = ? "
                               "ORDER BY timestamp, step, value", (run_id, key)).fetchall()
        return [(step, math.nan if is_nan else value) for step, value, is_nan in rows]

    def artifact_dir(self, run_id: str) -> Path:
        """Where a run's artifacts are, when they are local files (a `file:` artifact URI).

        Raises LookupError when they are not on this filesystem (a server, a bucket) or the run is unknown:
        MLflow must handle them."""
        with closing(_connect(self.db)) as con:
            row = con.execute("SELECT artifact_uri FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()
        parts = urlsplit(row[0] if row and row[0] else "mlflow-artifacts:")
        if parts.scheme not in ("", "file") or parts.netloc or not parts.path:
            raise LookupError(f"run {run_id}: artifacts at {row[0] if row else None!r}")
        return Path(unquote(parts.path))


def _connect(db: Path) -> sqlite3.Connection:
    # Read-only, and waiting out a writer's lock as MLflow's own connections would.
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _latest_metrics(con: sqlite3.Connection, ids: list[str]) -> dict[str, dict]:
    return _by_run(con, "SELECT run_uuid, key, CASE WHEN is_nan THEN NULL ELSE value END "
                        "FROM latest_metrics WHERE run_uuid IN ({})", ids, nan=True)


def _by_run(con: sqlite3.Connection, query: str, ids: list[str], *, nan: bool = False) -> dict[str, dict]:
    out: dict[str, dict] = {run_id: {} for run_id in ids}
    for i in range(0, len(ids), BATCH):
        chunk = ids[i : i + BATCH]
        for run_id, key, value in con.execute(query.format(",".join("?" * len(chunk))), chunk):
            out[run_id][key] = (math.nan if value is None else value) if nan else value
    return out
