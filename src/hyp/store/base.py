"""The one small interface every tracking backend implements, and what it gives back."""

from __future__ import annotations

import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["run", "replicate", "trial", "sweep", "record"]
Status = Literal["RUNNING", "FINISHED", "FAILED", "KILLED", "SCHEDULED"]


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    name: str
    hypothesis_id: str | None
    kind: str | None
    status: str
    start_time: int  # ms since epoch
    end_time: int | None
    parent_run_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetRecord:
    name: str
    digest: str  # sha256 of the exact content
    source: str  # where it came from (a path or URI)
    rows: int
    context: str = "training"  # or "evaluation" (a held-out set)
    sources: dict[str, str] = field(default_factory=dict)  # every file it was drawn from, by role
    columns: dict[str, str] = field(default_factory=dict)  # column -> MLflow type (string, long...): the schema
    profile: dict[str, object] = field(default_factory=dict)  # counts shown beside rows and digest


class Tracker(ABC):
    @abstractmethod
    def start_run(self, *, hypothesis_id: str, kind: Kind, name: str, parent_run_id: str | None = None,
                  tags: dict[str, str] | None = None, description: str | None = None) -> str: ...

    @abstractmethod
    def log_params(self, run_id: str, params: dict[str, object]) -> None: ...

    @abstractmethod
    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int | None = None) -> None: ...

    @abstractmethod
    def log_metric_history(self, run_id: str, key: str, points: list[tuple[int, float]],
                           timestamps: list[int] | None = None) -> None:
        """(step, value) points; `timestamps` (ms since epoch, one per point) say when each was measured."""

    @abstractmethod
    def set_tags(self, run_id: str, tags: dict[str, str]) -> None: ...

    @abstractmethod
    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str | None = None) -> None: ...

    @abstractmethod
    def log_dataset(self, run_id: str, dataset: DatasetRecord) -> None: ...

    @abstractmethod
    def download_artifact(self, run_id: str, path: str, dest: Path) -> Path | None: ...

    @abstractmethod
    def end_run(self, run_id: str, status: Status = "FINISHED") -> None: ...

    @abstractmethod
    def runs(self, hypothesis_id: str | None = None, *, data: bool = True) -> list[RunRecord]:
        """Runs tagged with a hypothesis id, oldest first. With `data=False` a backend may leave out
        params, metrics and tags other than hyp's own (`hyp.*`) and `mlflow.parentRunId`: the status
        index needs no more, and reads the metrics of the few runs that hold observations."""

    @abstractmethod
    def latest_metrics(self, run_ids: list[str]) -> dict[str, dict[str, float]]: ...

    @abstractmethod
    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]: ...

    @abstractmethod
    def log_answer_traces(self, run_id: str, answers: list[dict]) -> list[str]:
        """One trace per answer, linked to the run, with one assessment per criterion; the trace ids."""

    @abstractmethod
    def log_human_assessments(self, trace_id: str, scores: dict[str, int], source_id: str,
                              rationales: dict[str, str] | None = None) -> None:
        """Hand-given points on an answer's trace, beside the rubric's."""


OWNER_TAGS = ("hyp.pid", "hyp.host", "hyp.proc_start")


def process_tags() -> dict[str, str]:
    """Who owns a run while it is RUNNING, so a later command can tell it was orphaned (`end_run` removes them)."""
    return dict(zip(OWNER_TAGS, (str(os.getpid()), socket.gethostname(), process_start(os.getpid())), strict=True))


def user_name() -> str:
    """The login name, for `mlflow.user` (what MLflow's own fluent API records)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "unknown"


def source_tags(root: Path, hypothesis_file: str) -> dict[str, str]:
    """MLflow's standard source tags for a run of a lab: the hypothesis file as the run's source (the UI's
    Source column), and the lab's git commit and branch when the lab is in a git repository."""
    import subprocess

    tags = {"mlflow.source.name": hypothesis_file, "mlflow.source.type": "LOCAL"}
    try:
        found = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD", "--abbrev-ref", "HEAD"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return tags
    lines = found.stdout.split()
    if found.returncode == 0 and len(lines) == 2:
        tags["mlflow.source.git.commit"] = lines[0]
        if lines[1] != "HEAD":  # a detached head has no branch
            tags["mlflow.source.git.branch"] = lines[1]
    return tags


def process_start(pid: int) -> str:
    # The start time in /proc guards against a recycled pid looking alive.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_is_gone(tags: dict[str, str]) -> bool:
    """True only when we can prove the process that owns a RUNNING run is dead."""
    if tags.get("hyp.host") != socket.gethostname() or not tags.get("hyp.pid", "").isdigit():
        return False
    pid = int(tags["hyp.pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    started = tags.get("hyp.proc_start")
    return bool(started) and process_start(pid) != started


@contextmanager
def tracked_run(tracker: Tracker, **kwargs) -> Iterator[str]:
    """A run that ends FINISHED, FAILED on an exception (error kept as a tag), KILLED on Ctrl-C."""
    run_id = tracker.start_run(**kwargs)
    try:
        yield run_id
    except KeyboardInterrupt:
        tracker.end_run(run_id, "KILLED")
        raise
    except BaseException as e:
        try:
            tracker.set_tags(run_id, {"hyp.error": f"{type(e).__name__}: {e}"[:5000]})
        finally:
            tracker.end_run(run_id, "FAILED")
        raise
    else:
        tracker.end_run(run_id, "FINISHED")


def log_json(tracker: Tracker, run_id: str, name: str, data, artifact_path: str | None = None) -> None:
    """Log `data` as a JSON artifact named `name`."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        tracker.log_artifact(run_id, path, artifact_path)
