"""The one console everything prints through."""

from __future__ import annotations

import json
import sys
from functools import cache

from hyp.display import fmt  # noqa: F401  (commands import it from the console)


@cache
def out():
    from rich.console import Console

    return Console(highlight=False)


@cache
def err():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def error(message: str) -> None:
    # One plain line per problem: greppable, and readable without colour.
    for line in message.splitlines() or [message]:
        print(f"error: {line}", file=sys.stderr)


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def lab_from(ctx):
    from hyp.hypotheses.lab import Lab

    lab_dir = (ctx.find_root().obj or {}).get("lab_dir")
    return Lab.find(explicit=lab_dir) if lab_dir else Lab.find()

VERDICT_STYLE = {"CONFIRMED": "green", "REJECTED": "red", "INCONCLUSIVE": "yellow", "PENDING": "dim",
                 "RUNNING": "cyan", "AMENDED-AFTER-RESULTS": "bold magenta", "LOCK-BROKEN": "bold red"}
OUTCOME_STYLE = {"met": "green", "not met": "red", "undecided": "yellow", "no data": "dim"}


def styled(text: str, styles: dict) -> str:
    style = styles.get(text)
    return f"[{style}]{text}[/]" if style else text
