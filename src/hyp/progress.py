"""Progress a person sees whether or not a terminal shows it: where no bar can be drawn (output
redirected, as `make demo > log` does, or a sweep's trial process) a plain line every few seconds
says what is running and for how long."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

EVERY_S = 10.0  # HYP_PROGRESS_EVERY=SECONDS overrides it (the tests use 1)


def every_s() -> float:
    try:
        return max(0.1, float(os.environ.get("HYP_PROGRESS_EVERY", EVERY_S)))
    except ValueError:
        return EVERY_S


def bars_wanted(progress: bool) -> bool:
    """Whether rich bars can be drawn: progress is on and stderr, where they go, is a terminal."""
    return progress and sys.stderr.isatty()


class Ticker:
    """Says the latest status every `every` seconds from a thread while the work runs: `begin` starts a
    phase (its time counts from there), `update` says how it goes, `quiet` stops the lines (while a bar
    shows the same thing, or between phases)."""

    def __init__(self, emit: Callable[[str], None] | None, every: float | None = None):
        self.emit, self.every = emit, every or every_s()
        self.status: str | None = None
        self._since = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self, status: str) -> None:
        """A new phase says so at once, then every `every` seconds: a phase shorter than that (an
        evaluation on a fast machine) would otherwise pass without a word."""
        self._since, self.status = time.monotonic(), status
        if self._thread is not None:
            self._say(f"{status} · 0 s")

    def update(self, status: str) -> None:
        self.status = status

    def quiet(self) -> None:
        self.status = None

    def __enter__(self) -> Ticker:
        if self.emit is not None:
            self._thread = threading.Thread(target=self._loop, name="hyp-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> bool:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return False

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            status = self.status
            if status and not self._say(f"{status} · {_duration(time.monotonic() - self._since)}"):
                return

    def _say(self, line: str) -> bool:
        try:
            self.emit(line)
            return True
        except Exception:
            return False  # nowhere left to say it (a closed pipe): the work goes on regardless


def stderr_lines(progress: bool) -> Ticker:
    """The ticker of a `hyp run`: lines on stderr when progress is on and no bar can be drawn there."""
    wanted = progress and not sys.stderr.isatty()
    return Ticker((lambda line: print(line, file=sys.stderr, flush=True)) if wanted else None)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
