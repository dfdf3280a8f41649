"""Creating a SQLite tracking store: one process at a time, and whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hyp.store.sqlite_reader import sqlite_path


@contextmanager
def creating(uri: str) -> Iterator[None]:
    """One process at a time creates or upgrades a SQLite store: MLflow's migrations, run by several
    commands at once on a fresh store, fail with "table runs already exists" or "duplicate column".
    Held for the first connection only (seconds on a new store, milliseconds after), and dropped by the
    kernel if the process dies; a store in a folder hyp cannot write is opened without it."""
    from hyp.files import exclusive

    db = sqlite_path(uri)
    if db is None:
        yield
        return
    lock = exclusive(Path(f"{db}.lock"), wait=True)
    try:
        lock.__enter__()
    except OSError:
        yield
        return
    try:
        if not db.exists():
            _create_sqlite_store(db)
        yield
    finally:
        lock.__exit__(None, None, None)


def _create_sqlite_store(db: Path) -> None:
    """A new SQLite store is made beside its place and renamed into it once MLflow's migrations have all
    run: a command interrupted while creating it (Ctrl-C, kill -9, a full disk) left a store half
    migrated ("duplicate column name: storage_location") that every later command refused."""
    import contextlib
    import os

    from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    tmp = db.with_name(f".{db.name}.{os.getpid()}.creating")
    try:
        # The artifact root MLflow itself gives a new store's default experiment (hyp's own experiment
        # names its location when it is created).
        store = SqlAlchemyStore(f"sqlite:///{tmp}", DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH)
        store.engine.dispose()
        os.replace(tmp, db)
    finally:
        for left in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with contextlib.suppress(FileNotFoundError):
                left.unlink()
