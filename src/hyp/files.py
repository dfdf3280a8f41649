"""Writing files so that a crash never leaves half of one behind."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from hyp import faults

STALE_AFTER_S = 600  # far longer than any one write takes: an older temporary file's writer died


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace `path` with `text` in one step: readers see the old file or the new one, never part.

    A writer killed mid-write leaves only its hidden temporary file; the next write of the same
    file removes those left that long ago."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        faults.reached("write")
        os.replace(tmp, path)
        _remove_stale(path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _remove_stale(path: Path) -> None:
    cutoff = time.time() - STALE_AFTER_S
    for left in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if left.stat().st_mtime < cutoff:
                left.unlink()
        except FileNotFoundError:
            pass


class Busy(Exception):
    """Another process holds the lock."""


class exclusive:
    """An advisory lock on `path` for the life of a `with` block: the kernel drops it when the process
    dies, SIGKILL included, so a crash never leaves a stale lock to clean up by hand."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = None

    def __enter__(self):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+")  # noqa: SIM115  (held open for the lock's lifetime)
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip()
            self._file.close()
            raise Busy(holder) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(str(os.getpid()))
        self._file.flush()
        return self

    def __exit__(self, *exc):
        self._file.close()  # closing releases the lock
