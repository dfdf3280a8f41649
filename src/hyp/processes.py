"""A child process that ends with its parent: Linux's parent-death signal (prctl PR_SET_PDEATHSIG), used for
`hyp ui`'s MLflow server, a sweep's workers and their trial processes. Elsewhere there is none, and hyp's own
Ctrl-C and SIGTERM handling is what stops its children."""

from __future__ import annotations

import os
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def parent_death(signal: int, parent: int, exit_code: int) -> Callable[[], None] | None:
    """A function that asks the kernel for `signal` to this process the moment `parent` dies, and exits with
    `exit_code` at once when `parent` is already gone (it died before the signal was armed); None where the
    system has no such signal. The C function is looked up here, before any fork: the returned function is
    safe to run between fork and exec (`preexec_fn`), where loading a library could deadlock."""
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(exit_code)

    return arm
