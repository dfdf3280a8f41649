"""The one small tree of errors hyp raises on purpose; the CLI maps each to its exit code."""


class HypError(Exception):
    """An error a user can act on. `exit_code` is what the CLI returns for it."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(HypError):
    """A file, option or value the user gave is wrong. Message names file:line and the field."""

    exit_code = 2


class LockBroken(HypError):
    """Pre-registered parts changed after results were logged and no amendment records it."""

    exit_code = 3


class CheckFailed(HypError):
    """`hyp verdict --check` on a hypothesis that is not CONFIRMED."""

    exit_code = 1


class Interrupted(HypError):
    exit_code = 130
