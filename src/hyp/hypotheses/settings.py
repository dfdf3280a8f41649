"""A lab's hyp.toml: where its runs and studies are stored, its VRAM limit, its judge. Read once, checked whole:
a bad value is named at its key."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from hyp.errors import BadInput
from hyp.files import read_input
from hyp.hypotheses.judging import JUDGE_KEYS, JudgeSettings, parse_judge

CONFIG = "hyp.toml"


@dataclass(frozen=True)
class Settings:
    experiment: str = "hyp"
    audience: str = "the team"
    tracking_uri: str = "sqlite:///.hyp/mlflow.db"
    sweep_storage: str = "sqlite:///.hyp/optuna.db"
    vram_limit_gb: float = 4.0
    judge: JudgeSettings | None = None  # [judge]: an optional LLM judge (SPEC §4)


_KNOWN = {
    "lab": {"experiment", "audience"},
    "tracking": {"uri"},
    "sweeps": {"storage"},
    "resources": {"vram_limit_gb"},
    "judge": JUDGE_KEYS,
}


def read_settings(path: Path) -> Settings:
    try:
        data = tomllib.loads(read_input(path).decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"{path}: {e}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not valid UTF-8") from None
    except RecursionError:  # tomllib recurses into inline tables and arrays: 1000 `{a = ` overflow it
        raise BadInput(f"{path}: nested too deep (an inline table or array inside hundreds of others)") from None
    for section, value in data.items():
        if section not in _KNOWN:
            raise BadInput(f"{path}: [{section}]: unknown section")
        if not isinstance(value, dict):
            raise BadInput(f"{path}: {section}: expected a [{section}] table, got {value!r}")
        for key in value:
            if key not in _KNOWN[section]:
                raise BadInput(f"{path}: {section}.{key}: unknown key")

    def text(section: str, key: str, default: str, *, empty: bool = False) -> str:
        value = data.get(section, {}).get(key, default)
        if not isinstance(value, str) or not (empty or value.strip()):
            raise BadInput(f"{path}: {section}.{key}: expected {'a' if empty else 'a non-empty'} string, got {value!r}")
        return value

    limit = data.get("resources", {}).get("vram_limit_gb", Settings().vram_limit_gb)
    # bool is an int in Python; NaN and a negative limit would make every estimate "not fit" or "fit".
    if isinstance(limit, bool) or not isinstance(limit, int | float) or not math.isfinite(limit) or limit <= 0:
        raise BadInput(f"{path}: resources.vram_limit_gb: expected a positive number of GB, got {limit!r}")
    d = Settings()
    return Settings(
        experiment=text("lab", "experiment", d.experiment),
        audience=text("lab", "audience", d.audience, empty=True),
        tracking_uri=text("tracking", "uri", d.tracking_uri),
        sweep_storage=text("sweeps", "storage", d.sweep_storage),
        vram_limit_gb=float(limit),
        judge=parse_judge(data["judge"], str(path)) if "judge" in data else None,
    )


def store_uri(uri: str, root: Path, source: str) -> str:
    """A store's URI, `sqlite:///.hyp/mlflow.db` made absolute (relative to the lab, whatever the current
    directory). BadInput naming `source` (the variable or hyp.toml's key; not the URI, which may hold a
    password) when it cannot be a store: MLflow would retry a SQLite "file" that is a directory for
    minutes, and a malformed address ("http://[::1") is a ValueError deep inside it."""
    from urllib.parse import urlsplit

    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        uri = prefix + str((root / uri[len(prefix) :]).resolve())
    if uri.startswith(prefix):
        path = Path(uri[len(prefix):].split("?", 1)[0])
        if str(path) not in ("", ":memory:") and path.is_dir():
            raise BadInput(f"{source}: {path} is a directory; a SQLite store is a file (sqlite:///.hyp/mlflow.db)")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (parsing it is the check: "host:abc" raises here)
    except ValueError as e:
        raise BadInput(f"{source}: not a usable URI ({e})") from None
    return uri
