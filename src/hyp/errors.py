"""The one small tree of errors hyp raises on purpose, and the exit codes the CLI maps them to."""

# Exit codes (SPEC §5), named once; everything that ends a process returns one of these.
SUCCESS = 0
CHECK_FAILED = 1  # `hyp verdict --check` on a hypothesis that is not CONFIRMED
INTERNAL_ERROR = 1  # a bug: the message says so and HYP_DEBUG=1 shows the traceback
BAD_INPUT = 2  # bad input or usage
LOCK_BROKEN = 3
INTERRUPTED = 130  # Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)


class HypError(Exception):
    """An error a user can act on. `exit_code` is what the CLI returns for it."""

    exit_code = BAD_INPUT

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(HypError):
    """A file, option or value the user gave is wrong. Message names file:line and the field."""

    exit_code = BAD_INPUT


class LockBroken(HypError):
    """Pre-registered parts changed after results were logged and no amendment records it, or the
    lock in the store was removed or rewritten."""

    exit_code = LOCK_BROKEN


class CheckFailed(HypError):
    """`hyp verdict --check` on a hypothesis that is not CONFIRMED."""

    exit_code = CHECK_FAILED
