"""Keeping secrets out of what hyp writes: MLflow params, tags, artifacts and reports.

A secret is the value of an environment variable whose name contains TOKEN, KEY, SECRET or PASSWORD
(HF_TOKEN, WANDB_API_KEY, PGPASSWORD...), and the password part of a URL (postgresql://u:pw@host,
redis://:pw@host, ?password=pw).
Such values reach hyp's output by accident: a path or URI pasted into a hypothesis file, a store
URI in a report's provenance, an exception message. Whatever the route, they are replaced here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD", re.IGNORECASE)
# Shorter values ("1", "yes", "dev") would redact ordinary words everywhere and hide nothing real.
MIN_SECRET_LENGTH = 6
# The password of a URL: `user:pw@` or `:pw@` (libpq and redis take an empty user), and a
# `password=` query parameter (`postgresql://host/db?user=u&password=pw`).
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@\s/]+)(?=@)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:password|passwd|pwd|sslpassword|token|api_key|access_token)=)"
                             r"(?P<password>[^&#\s'\"`]+)", re.IGNORECASE)
TEXT_SUFFIXES = {".json", ".yaml", ".yml", ".md", ".txt", ".csv", ".toml", ".log", ".html", ".jsonl"}


def secrets(environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(name, value) of the secret environment variables, longest value first so that a secret
    containing another is replaced whole."""
    env = os.environ if environ is None else environ
    # Keys first, values with .get: another thread may remove a variable while this reads them.
    found = [(name, value) for name in list(env) if SECRET_NAME.search(name)
             and (value := env.get(name)) is not None and len(value.strip()) >= MIN_SECRET_LENGTH]
    return sorted(found, key=lambda item: -len(item[1]))


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    text = _URL_PASSWORD.sub(r"\g<head>***", text)
    text = _QUERY_PASSWORD.sub(r"\g<head>***", text)
    for name, value in secrets(environ):
        if value in text:
            text = text.replace(value, f"[{name} redacted]")
    return text


def has_secret(text: str, environ: Mapping[str, str] | None = None) -> bool:
    return redact(text, environ) != text
