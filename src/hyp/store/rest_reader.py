"""Reading runs from an MLflow tracking server over its REST API, with the standard library only.

`hyp list`, `show`, `verdict` and `compare` against a team's server (SPEC §9) must answer as fast as
on a lab's own SQLite file. Importing MLflow costs a second or more before the first request, so
the reads those commands make (search runs, latest metrics, a metric's history, a proxied artifact)
are plain HTTP calls to the endpoints MlflowClient itself calls, giving what it gives (a contract
test compares the two on a real server). MLflow still does every write.

The change check: MLflow keeps no "last changed" time for an experiment's runs (the experiment's own
`last_update_time` moves only on rename, delete and restore), so every hyp write to a server is
followed by a new value of the experiment tag `hyp.changed` (see MlflowTracker). Writes made outside hyp
do not renew it; two searches of one and a few runs see the common ones: the newest run (a run logged
with plain MLflow, or the newest deleted or ended) and the newest deleted runs (a run deleted in the UI
or over REST). Three small requests in all; the status index stays valid while their answers are
unchanged. What they cannot see without reading every run (a tag or metric edited outside hyp on an
older run, an old run deleted after DELETED_SEEN newer ones) is seen at the next hyp write, or at once
with HYP_NO_INDEX=1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import time
import urllib.parse
from pathlib import Path

from hyp.files import parse_json
from hyp.store.base import RunRecord

CHANGED = "hyp.changed"  # the experiment tag every hyp write to a server renews
PAGE = 1000  # runs per search request: MLflow's REST default and a few hundred KB per page
DELETED_SEEN = 10  # the newest deleted runs in the change check: a deletion is seen unless 10 newer ones were
TIMEOUT_S = 10.0
# An experiment's id, as this process last looked it up, is taken as it is for LOOKED_UP_S: a reading command
# asks for the change token and then opens a reader, and a second lookup of the same name was a request of
# its own. (An id changes only when an experiment is deleted for good and made again under its name.)
LOOKED_UP_S = 30.0
_looked_up: dict[tuple[str, str], tuple[str, float]] = {}


def is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


class RestReader:
    def __init__(self, base: str, experiment_id: str):
        self.base = base.rstrip("/")
        self.experiment_id = experiment_id

    @classmethod
    def open(cls, uri: str, experiment: str) -> RestReader | None:
        """A reader for `experiment` on the server at `uri`; None when it does not exist yet (MLflow creates
        it on the first write) or the server cannot be read this way (then MLflow says why)."""
        if not is_server(uri):
            return None
        looked_up = _looked_up.get((uri, experiment))
        if looked_up is not None and time.monotonic() - looked_up[1] < LOOKED_UP_S:
            return cls(uri, looked_up[0])  # the change check has just asked (`hyp compare`, a rebuild)
        try:
            found = experiment_state(uri, experiment)
        except (OSError, ValueError):
            return None
        if found is None:
            return None
        return cls(uri, found[0])

    # --- what MlflowTracker reads ----------------------------------------------------------------
    def runs(self, hypothesis_id: str | None = None, *, data: bool = True) -> list[RunRecord]:
        """Active runs of the experiment tagged `hyp.id` (that id, or any), oldest first, as SqliteReader
        gives them: `data=False` leaves params and metrics out and keeps only hyp's tags and the parent."""
        filt = f"tags.`hyp.id` = '{_quote(hypothesis_id)}'" if hypothesis_id else "tags.`hyp.id` != ''"
        return [_record(r, data) for r in self._search(filt)]

    def latest_metrics(self, run_ids: list[str]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for i in range(0, len(run_ids), 100):
            quoted = ", ".join(f"'{_quote(run_id)}'" for run_id in run_ids[i : i + 100])
            for run in self._search(f"attributes.run_id IN ({quoted})"):
                out[run["info"]["run_id"]] = _metrics(run)
        return out

    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        points, token = [], None
        while True:
            query = {"run_id": run_id, "metric_key": key, "max_results": 25000}
            if token:
                query["page_token"] = token
            page = _call(self.base, "GET", "/api/2.0/mlflow/metrics/get-history", query=query)
            points.extend((int(m.get("step", 0)), _number(m.get("value"))) for m in page.get("metrics", []))
            token = page.get("next_page_token")
            if not token:
                return points

    def artifact_dir(self, run_id: str) -> Path:
        raise LookupError(f"run {run_id}: its artifacts are on the server")

    def download_artifact(self, run_id: str, path: str, dest: Path) -> Path | None:
        """A file the server keeps itself (proxied artifacts, `mlflow-artifacts:`); raises LookupError
        for anything else (a bucket the client reaches directly, a folder): MLflow must fetch those."""
        import urllib.error
        import urllib.request

        info = _call(self.base, "GET", "/api/2.0/mlflow/runs/get", query={"run_id": run_id})["run"]["info"]
        root = info.get("artifact_uri", "")
        if not root.startswith("mlflow-artifacts:"):
            raise LookupError(f"run {run_id}: artifacts at {root!r}")
        remote = urllib.parse.urlsplit(root).path.strip("/") + "/" + path.strip("/")
        base, auth = _endpoint(self.base)
        url = f"{base}/api/2.0/mlflow-artifacts/artifacts/{urllib.parse.quote(remote)}"
        try:
            with _open(urllib.request.Request(url, headers=auth)) as response:
                body = response.read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise LookupError(f"run {run_id}: {path}: HTTP {e.code}") from None
        target = Path(dest) / Path(path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        return target

    def _search(self, filt: str) -> list[dict]:
        out, token = [], None
        while True:
            body = {"experiment_ids": [self.experiment_id], "filter": filt, "run_view_type": "ACTIVE_ONLY",
                    # MLflow's SQL store breaks ties in start_time by run id, as SqliteReader does.
                    "max_results": PAGE, "order_by": ["attributes.start_time ASC"],
                    **({"page_token": token} if token else {})}
            page = _call(self.base, "POST", "/api/2.0/mlflow/runs/search", body=body)
            out.extend(page.get("runs", []))
            token = page.get("next_page_token")
            if not token:
                return out


def experiment_state(uri: str, experiment: str) -> tuple[str, str] | None:
    """(experiment id, its change token) on the server, or None when the experiment does not exist (or was
    deleted). Raises OSError when the server does not answer, ValueError when it answers nonsense."""
    import urllib.error

    try:
        found = _call(uri, "GET", "/api/2.0/mlflow/experiments/get-by-name", query={"experiment_name": experiment})
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise
    exp = found.get("experiment") or {}
    if exp.get("lifecycle_stage", "active") != "active" or "experiment_id" not in exp:
        return None
    tags = {t.get("key"): t.get("value", "") for t in exp.get("tags", [])}
    _looked_up[(uri, experiment)] = (str(exp["experiment_id"]), time.monotonic())
    return str(exp["experiment_id"]), tags.get(CHANGED, "")


def server_fingerprint(uri: str, experiment: str) -> str | None:
    """The status index's change check on a server: the experiment and its change token; "-|" (nothing was
    ever logged) when the experiment does not exist; None when the server cannot be asked."""
    try:
        found = experiment_state(uri, experiment)
        if found is None:
            return "-|no experiment"
        newest = _newest_runs(uri, found[0])
    except (OSError, ValueError):
        return None
    return f"server|{found[0]}|{found[1]}|{newest}"


def _newest_runs(uri: str, experiment_id: str) -> str:
    """What writes made outside hyp change without reading every run: the newest run by start time (one
    added with plain MLflow; the newest deleted, or ended by hand) and the DELETED_SEEN newest deleted runs
    (any run deleted in the UI or over REST, unless as many newer ones were deleted before it)."""
    def newest(view: str, count: int) -> list[dict]:
        body = {"experiment_ids": [experiment_id], "run_view_type": view, "max_results": count,
                "order_by": ["attributes.start_time DESC"]}
        return [r.get("info", {}) for r in _call(uri, "POST", "/api/2.0/mlflow/runs/search", body=body).get("runs", [])]

    active = [f"{i.get('run_id')}:{i.get('status')}:{i.get('end_time')}" for i in newest("ACTIVE_ONLY", 1)]
    deleted = [str(i.get("run_id")) for i in newest("DELETED_ONLY", DELETED_SEEN)]
    digest = hashlib.sha256(",".join(deleted).encode()).hexdigest()[:16] if deleted else "-"
    return f"{active[0] if active else '-'}|{digest}"


# --- HTTP --------------------------------------------------------------------------------------
def _call(base: str, method: str, path: str, *, query: dict | None = None, body: dict | None = None) -> dict:
    import urllib.request

    base, auth = _endpoint(base)
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={**auth, **({"Content-Type": "application/json"} if data else {})})
    with _open(request) as response:
        return parse_json(response.read() or b"{}", url)  # a reply nested 1000 deep: BadInput, not a RecursionError


def _open(request):
    import ssl
    import urllib.request

    context = None
    if request.full_url.startswith("https://"):
        # The variables MLflow's own client reads for a server with its own certificate.
        if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
            context = ssl._create_unverified_context()
        else:
            context = ssl.create_default_context(cafile=os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None)
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context)).open(request, timeout=TIMEOUT_S)


def _endpoint(base: str) -> tuple[str, dict[str, str]]:
    """The server's address without the `user:password@` a tracking URI may carry (urllib takes it for part
    of the host name, and it must not reach an error message), and the credentials MLflow's client sends."""
    parts = urllib.parse.urlsplit(base)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return base, _headers()
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), _headers(userinfo)


def _headers(userinfo: str | None = None) -> dict[str, str]:
    """MLflow's client credentials, as it sends them: MLFLOW_TRACKING_USERNAME and _PASSWORD; else the
    URI's own user and password (requests, under MLflow, uses those when it is given none); else the bearer
    token of MLFLOW_TRACKING_TOKEN (either basic one replaces its header)."""
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        return _basic(user, password)
    if userinfo:
        name, _, secret = userinfo.partition(":")
        return _basic(urllib.parse.unquote(name), urllib.parse.unquote(secret))
    if token := os.environ.get("MLFLOW_TRACKING_TOKEN"):
        return {"Authorization": f"Bearer {token}"}
    return {}


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _number(value) -> float:
    # Protobuf's JSON writes NaN and the infinities as strings.
    return float(value) if value is not None else math.nan


def _metrics(run: dict) -> dict[str, float]:
    return {m["key"]: _number(m.get("value")) for m in run.get("data", {}).get("metrics", [])}


def _record(run: dict, data: bool) -> RunRecord:
    info, body = run["info"], run.get("data", {})
    tags = {t["key"]: t.get("value", "") for t in body.get("tags", [])}
    if not data:
        tags = {k: v for k, v in tags.items() if k.startswith("hyp.") or k == "mlflow.parentRunId"}
    end = info.get("end_time")
    return RunRecord(
        run_id=info["run_id"], name=info.get("run_name", ""), hypothesis_id=tags.get("hyp.id"),
        kind=tags.get("hyp.kind"), status=info.get("status", ""), start_time=int(info.get("start_time", 0)),
        end_time=int(end) if end is not None else None, parent_run_id=tags.get("mlflow.parentRunId"), tags=tags,
        params={p["key"]: p.get("value", "") for p in body.get("params", [])} if data else {},
        metrics=_metrics(run) if data else {})

