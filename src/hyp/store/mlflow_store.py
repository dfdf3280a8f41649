"""The MLflow tracker: MlflowClient with explicit run ids (the fluent run stack breaks nesting)."""

from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path

from hyp.errors import BadInput
from hyp.store.base import OWNER_TAGS, DatasetRecord, Kind, RunRecord, Status, Tracker, process_tags, user_name
from hyp.store.creation import creating
from hyp.store.rest_reader import CHANGED, RestReader, is_server
from hyp.store.secrets import TEXT_SUFFIXES, has_secret, redact
from hyp.store.sqlite_reader import SqliteReader

MAX_PARAM = 6000  # MLflow rejects longer param values; longer ones are shortened with a hash
# The experiment's kind for the MLflow UI: without it, an experiment holding traces (every answer is one)
# opens its runs in GenAI mode (Evaluations, Judges). "finetuning" is one of the kinds MLflow 3 accepts
# (ExperimentKind in its UI: genai_development, custom_model_development, finetuning, regression, ...),
# and opens the machine-learning views: runs, model metrics, compare.
EXPERIMENT_KIND, FINETUNING = "mlflow.experimentKind", "finetuning"


def _param_value(text: str) -> str:
    if len(text) <= MAX_PARAM:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: MAX_PARAM - 60]}... [sha256:{digest}, in full: params/]"


def _writes(method):
    """A write to a tracking server renews the experiment's change token after it (also after a write
    that failed half way), so every lab reading the server sees its index is stale (rest_reader.py)."""

    @functools.wraps(method)
    def write(self, *args, **kwargs):
        failed = True
        try:
            result = method(self, *args, **kwargs)
            failed = False
            return result
        finally:
            if is_server(self.uri):
                try:
                    self._changed()
                except Exception:
                    if not failed:  # else the write's own error is the one to report
                        raise

    return write


class MlflowTracker(Tracker):
    """Writes go through MlflowClient. Reads of a SQLite store go through `SqliteReader`, and reads of a
    tracking server through `RestReader`, so a command that only reads (list, show, compare, report, an
    index rebuild) never imports MLflow; the client is created on the first write."""

    def __init__(self, tracking_uri: str, experiment: str, artifact_root: Path | None = None):
        self.uri = tracking_uri
        self._experiment_name, self._artifact_root = experiment, artifact_root
        self._client = None
        self.reader = SqliteReader.open(tracking_uri, experiment) or RestReader.open(tracking_uri, experiment)
        if self.reader is not None:
            self.experiment_id = self.reader.experiment_id
        else:
            self._connect()  # also checks, now, that the store can be used at all

    @property
    def client(self):
        if self._client is None:
            self._connect()
        return self._client

    def _connect(self) -> None:
        import logging
        import os

        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        # MLflow's telemetry thread deletes a variable from os.environ when it cannot reach its server,
        # racing with anything that reads the environment; and this machine has nothing to send it to.
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        # Ending a run on a server, MLflow prints "View run ... at: <tracking URI>/#/..." to stdout: the URI as
        # given, so a password in it (http://alice:pw@host) went to the terminal and any log of it.
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")

        from mlflow import MlflowClient

        # Alembic's migration chatter on a new SQLite store is noise for a CLI user.
        for name in ("alembic", "mlflow"):
            logging.getLogger(name).setLevel(logging.WARNING)
        uri = self.uri
        _check_reachable(uri)
        try:
            with creating(uri):
                self._client = MlflowClient(tracking_uri=uri)
                self.experiment_id = self._experiment(self._experiment_name, self._artifact_root)
        except BadInput:
            raise
        except Exception as e:  # unreachable server, bad URI, locked database...
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise BadInput(f"tracking store {redact(uri)}: cannot be used: {redact(first)[:300]}") from None

    def _experiment(self, name: str, artifact_root: Path | None) -> str:
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            if EXPERIMENT_KIND not in exp.tags:  # an experiment made before issue 19, or by hand
                self.client.set_experiment_tag(exp.experiment_id, EXPERIMENT_KIND, FINETUNING)
            return exp.experiment_id
        location = artifact_root.resolve().as_uri() if artifact_root else None
        try:
            return self.client.create_experiment(name, artifact_location=location,
                                                 tags={EXPERIMENT_KIND: FINETUNING})
        except Exception:
            exp = self.client.get_experiment_by_name(name)  # another process created it first
            if exp is None:
                raise
            return exp.experiment_id

    def _changed(self) -> None:
        import uuid

        self.client.set_experiment_tag(self.experiment_id, CHANGED, f"{time.time_ns()}-{uuid.uuid4().hex[:8]}")

    # --- writing ---
    @_writes
    def start_run(self, *, hypothesis_id: str, kind: Kind, name: str, parent_run_id: str | None = None,
                  tags: dict[str, str] | None = None, description: str | None = None) -> str:
        all_tags = {"hyp.id": hypothesis_id, "hyp.kind": kind, "mlflow.user": user_name(), **process_tags(),
                    **(tags or {})}
        if parent_run_id:
            all_tags["mlflow.parentRunId"] = parent_run_id
        if description:
            all_tags["mlflow.note.content"] = description
        run = self.client.create_run(self.experiment_id, tags={k: redact(str(v)) for k, v in all_tags.items()},
                                     run_name=name)
        return run.info.run_id

    @_writes
    def log_params(self, run_id: str, params: dict[str, object]) -> None:
        from mlflow.entities import Param

        values = {k: redact(str(v)) for k, v in params.items()}
        items = [Param(k, _param_value(v)) for k, v in values.items()]
        for i in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[i : i + 100])
        long = {k: v for k, v in values.items() if len(v) > MAX_PARAM}
        if long:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                for key, value in long.items():
                    (Path(tmp) / f"{key}.txt").write_text(value, encoding="utf-8")
                self.client.log_artifacts(run_id, tmp, "params")

    @_writes
    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int | None = None) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step or 0) for k, v in metrics.items() if v is not None]
        for i in range(0, len(items), 1000):
            self.client.log_batch(run_id, metrics=items[i : i + 1000])

    @_writes
    def log_metric_history(self, run_id: str, key: str, points: list[tuple[int, float]],
                           timestamps: list[int] | None = None) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        stamps = timestamps if timestamps is not None else [now] * len(points)
        items = [Metric(key, float(v), int(t), int(s)) for (s, v), t in zip(points, stamps, strict=True)]
        for i in range(0, len(items), 1000):
            self.client.log_batch(run_id, metrics=items[i : i + 1000])

    @_writes
    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag

        self.client.log_batch(run_id, tags=[RunTag(k, redact(str(v))) for k, v in tags.items()])

    @_writes
    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str | None = None) -> None:
        import tempfile

        local_path = Path(local_path)
        with tempfile.TemporaryDirectory() as tmp:
            local_path = _without_secrets(local_path, Path(tmp))
            if (folder := self._local_artifacts(run_id)) is not None:
                # What MLflow's local artifact repository does (a file into the folder, a folder's
                # contents into it), without importing MLflow, and each file replaced atomically.
                _place(local_path, folder / (artifact_path or ""))
            elif local_path.is_dir():
                self.client.log_artifacts(run_id, str(local_path), artifact_path)
            else:
                self.client.log_artifact(run_id, str(local_path), artifact_path)

    def _local_artifacts(self, run_id: str) -> Path | None:
        if self.reader is None:
            return None
        try:
            return self.reader.artifact_dir(run_id)
        except LookupError:
            return None  # a server's or a bucket's artifacts: MLflow handles them

    @_writes
    def log_dataset(self, run_id: str, dataset: DatasetRecord) -> None:
        import warnings

        from mlflow.data.dataset_source_registry import resolve_dataset_source
        from mlflow.data.meta_dataset import MetaDataset
        from mlflow.entities import Dataset as DatasetEntity
        from mlflow.entities import DatasetInput, InputTag

        def uri(path: str) -> str:
            # MLflow keeps the source in its `datasets` table, beyond set_tags' redaction: a lab under a
            # folder named after a token must not put the token there.
            return redact(Path(path).resolve().as_uri())

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "can be interpreted in multiple ways": both are local files
            source = resolve_dataset_source(uri(dataset.source))
        # MLflow's digest column is short; the full sha256 is kept in the dataset's profile and tags.
        meta = MetaDataset(source, name=dataset.name, digest=dataset.digest[:16])
        base = meta._to_mlflow_entity()
        source_json = base.source
        if len(dataset.sources) > 1:
            # A local source is one `uri`; MLflow's readers ignore other keys, so every file the mix was
            # drawn from is listed beside it by role ("curated", "synthetic").
            source_json = json.dumps({**json.loads(base.source), **{k: uri(v) for k, v in dataset.sources.items()}})
        profile = json.dumps({"rows": dataset.rows, **dataset.profile, "sha256": dataset.digest,
                              **({"sources": {k: Path(v).name for k, v in dataset.sources.items()}}
                                 if dataset.sources else {})}, default=str)
        entity = DatasetEntity(base.name, base.digest, base.source_type, source_json, _schema(dataset.columns),
                               profile)
        inputs = [DatasetInput(entity, [InputTag("mlflow.data.context", dataset.context)])]
        for attempt in range(3):
            try:
                self.client.log_inputs(run_id, inputs)
                return
            except Exception as e:
                # MLflow's store looks the dataset up, then inserts it: two runs logging one dataset at once
                # (two labs or workers on one server) race, and the loser's insert breaks the unique key.
                # Again, it finds the winner's row and links it.
                said = str(e)
                if attempt == 2 or not any(s in said for s in ("dataset_pk", "UNIQUE constraint failed: datasets",
                                                                "duplicate key")):
                    raise
                time.sleep(0.2 * (attempt + 1))

    def download_artifact(self, run_id: str, path: str, dest: Path) -> Path | None:
        if (folder := self._local_artifacts(run_id)) is not None:
            found = folder / path
            if not found.exists():
                return None
            target = Path(dest) / found.name
            _place(found, target if found.is_dir() else Path(dest))
            return target
        if isinstance(self.reader, RestReader):
            try:
                return self.reader.download_artifact(run_id, path, dest)
            except LookupError:
                pass  # not kept by the server itself: MLflow knows where
        try:
            return Path(self.client.download_artifacts(run_id, path, str(dest)))
        except Exception:
            return None

    @_writes
    def end_run(self, run_id: str, status: Status = "FINISHED") -> None:
        self.client.set_terminated(run_id, status)
        # The owner tags matter only while a run is RUNNING (to tell an orphan); on an ended run they
        # would be noise in every runs table and compare view. Removed after the status, so a process
        # killed in between leaves a KILLED-able run, never a RUNNING one without its owner.
        for key in OWNER_TAGS:
            try:
                self.client.delete_tag(run_id, key)
            except Exception:
                pass  # never set (a run made elsewhere) or already removed

    @_writes
    def log_answer_traces(self, run_id: str, answers: list[dict]) -> list[str]:
        from hyp.store.traces import log_answer_traces

        return log_answer_traces(self, run_id, answers)

    @_writes
    def log_human_assessments(self, trace_id: str, scores: dict[str, int], source_id: str,
                              rationales: dict[str, str] | None = None) -> None:
        from hyp.store.traces import log_human_assessments

        log_human_assessments(self, trace_id, scores, source_id, rationales)

    # --- reading ---
    def runs(self, hypothesis_id: str | None = None, *, data: bool = True) -> list[RunRecord]:
        if self.reader is not None:
            return self.reader.runs(hypothesis_id, data=data)
        # MLflow's search returns params and metrics whatever is asked: `data` only saves work above.
        return self._search(f"tags.`hyp.id` = '{hypothesis_id}'" if hypothesis_id else "tags.`hyp.id` != ''")

    def latest_metrics(self, run_ids: list[str]) -> dict[str, dict[str, float]]:
        if self.reader is not None:
            return self.reader.latest_metrics(run_ids)
        out = {}
        for i in range(0, len(run_ids), 100):
            quoted = ", ".join(f"'{run_id}'" for run_id in run_ids[i : i + 100])
            out.update({r.run_id: r.metrics for r in self._search(f"attributes.run_id IN ({quoted})")})
        return out

    def _search(self, filt: str) -> list[RunRecord]:
        from mlflow.entities import ViewType

        out, token = [], None
        while True:
            page = self.client.search_runs([self.experiment_id], filt, ViewType.ACTIVE_ONLY, max_results=5000,
                                           order_by=["attributes.start_time ASC"], page_token=token)
            out.extend(_record(r) for r in page)
            token = page.token
            if not token:
                return out

    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        if self.reader is not None:
            return self.reader.metric_history(run_id, key)
        return [(m.step, m.value) for m in self.client.get_metric_history(run_id, key)]


def _schema(columns: dict[str, str]) -> str | None:
    """MLflow's column-spec schema (what its UI shows as the dataset's schema): name and type per column."""
    if not columns:
        return None
    return json.dumps({"mlflow_colspec": [{"type": kind, "name": name, "required": True}
                                          for name, kind in columns.items()]})


DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433, "http": 80, "https": 443}


def _check_reachable(uri: str, timeout: float = 3.0) -> None:
    """A store on the network that does not answer fails in seconds, with its address: MLflow itself
    retries with backoff for well over a minute before giving up."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    scheme = parts.scheme.split("+")[0]
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise BadInput(f"tracking store {redact(uri)}: the port is not a number") from None
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as e:
        raise BadInput(f"tracking store {redact(uri)}: cannot reach {parts.hostname}:{port} "
                       f"({e.strerror or e}); is the server running?") from None


def _without_secrets(path: Path, scratch: Path) -> Path:
    """`path` itself when no text file in it holds a secret, else a copy under `scratch` with the
    secrets replaced (the user's own files are never rewritten)."""
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    dirty = {f: text for f in files if f.suffix.lower() in TEXT_SUFFIXES
             and (text := _read_text(f)) is not None and has_secret(text)}
    if not dirty:
        return path
    import shutil

    copy = scratch / path.name
    if path.is_file():
        copy.write_text(redact(dirty[path]), encoding="utf-8")
        return copy
    shutil.copytree(path, copy)
    for f, text in dirty.items():
        (copy / f.relative_to(path)).write_text(redact(text), encoding="utf-8")
    return copy


def _place(source: Path, folder: Path) -> None:
    import os
    import shutil

    files = [(f, folder / f.relative_to(source)) for f in sorted(source.rglob("*")) if f.is_file()] \
        if source.is_dir() else [(source, folder / source.name)]
    for f, target in files:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copy2(f, partial)
        os.replace(partial, target)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None


def _record(run) -> RunRecord:
    tags = dict(run.data.tags)
    return RunRecord(
        run_id=run.info.run_id,
        name=run.info.run_name or "",
        hypothesis_id=tags.get("hyp.id"),
        kind=tags.get("hyp.kind"),
        status=run.info.status,
        start_time=run.info.start_time or 0,
        end_time=run.info.end_time,
        parent_run_id=tags.get("mlflow.parentRunId"),
        tags=tags,
        params=dict(run.data.params),
        metrics=dict(run.data.metrics),
    )
