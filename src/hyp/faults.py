"""Fault injection for the crash tests (issue 6): `HYP_FAULT=<phase>[:kill|:raise]` makes hyp die by
SIGKILL, or raise, when it reaches that phase of a run. Unset (always, outside those tests) it costs
one environment lookup.

Phases: data, training (after the first optimizer step), evaluation, logging (between artifacts),
report (before the report is rendered), write (inside an atomic write, after the temporary file is
complete and before it replaces the target).
"""

from __future__ import annotations

import os
import signal

PHASES = ("data", "training", "evaluation", "logging", "report", "write")


class InjectedFault(RuntimeError):
    pass


def reached(phase: str) -> None:
    spec = os.environ.get("HYP_FAULT")
    if not spec:
        return
    name, _, how = spec.partition(":")
    if name != phase:
        return
    if how == "raise":
        raise InjectedFault(f"fault injected at {phase}")
    os.kill(os.getpid(), signal.SIGKILL)
