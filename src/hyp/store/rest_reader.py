"""Reading runs from an MLflow tracking server over its REST API, with the standard library only.

`hyp list`, `show`, `verdict` and `compare` against a team's server (SPEC §9) must answer as fast as
on a lab's own SQLite file. Importing MLflow costs a second or more before the first request, so
the reads those commands make (search runs, latest metrics, a metric's history, a proxied artifact)
are plain HTTP calls to the endpoints MlflowClient itself calls, giving what it gives (a contract
test compares the two on a real server). MLflow still does every write.

The change check: MLflow keeps no "last changed" time for an experiment's runs (the experiment's own
`last_update_time` moves only on rename, delete and restore), so every hyp write to a server is
followed by a new value of the experiment tag `hyp.changed` (see MlflowTracker). Reading that tag is one
small request; the status index stays valid while it is unchanged. A write made outside hyp (a run
deleted in the MLflow UI) is seen at the next hyp write, or at once with HYP_NO_INDEX=1.
"""

from __future__ import annotations

import base64
import json
import math
import os
from pathlib import Path

from hyp.files import parse_json
from hyp.store.base import RunRecord

CHANGED = "hyp.changed"  # the experiment tag every hyp write to a server renews
PAGE = 1000  # runs per search request: MLflow's REST default and a few hundred KB per page
TIMEOUT_S = 10.0


def is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


class RestReader:
    def __init__(self, base: str, experiment_id: str, changed: str):
        self.base = base.rstrip("/")
        self.experiment_id = experiment_id
        self.changed = changed

    @classmethod
    def open(cls, uri: str, experiment: str) -> RestReader | None:
        """A reader for `experiment` on the server at `uri`; None when it does not exist yet (MLflow creates
        it on the first write) or the server cannot be read this way (then MLflow says why)."""
        if not is_server(uri):
            return None
        try:
            found = experiment_state(uri, experiment)
        except (OSError, ValueError):
            return None
        if found is None:
            return None
        return cls(uri, *found)

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
        url = f"{self.base}/api/2.0/mlflow-artifacts/artifacts/{urllib.parse.quote(remote)}"
        try:
            with _open(urllib.request.Request(url, headers=_headers())) as response:
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
    return str(exp["experiment_id"]), tags.get(CHANGED, "")


def server_fingerprint(uri: str, experiment: str) -> str | None:
    """The status index's change check on a server: the experiment and its change token; "-|" (nothing was
    ever logged) when the experiment does not exist; None when the server cannot be asked."""
    try:
        found = experiment_state(uri, experiment)
    except (OSError, ValueError):
        return None
    if found is None:
        return "-|no experiment"
    return f"server|{found[0]}|{found[1]}"


# --- HTTP --------------------------------------------------------------------------------------
def _call(base: str, method: str, path: str, *, query: dict | None = None, body: dict | None = None) -> dict:
    import urllib.request

    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={**_headers(), **({"Content-Type": "application/json"} if data else {})})
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


def _headers() -> dict[str, str]:
    """MLflow's client credentials (basic auth or a bearer token), from the variables MLflow reads."""
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
    if token := os.environ.get("MLFLOW_TRACKING_TOKEN"):
        return {"Authorization": f"Bearer {token}"}
    return {}


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

