"""`hyp ui`: the MLflow tracking server and UI for the lab's store, on loopback unless told otherwise.

`server_command` is pure: the lab's store and artifact root in, the command line and environment
out. `serve` runs it in the foreground and takes the whole server down with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from hyp.errors import BadInput
from hyp.processes import parent_death


def server_command(tracking_uri: str, artifact_root: Path, host: str, port: int) -> tuple[list[str], dict[str, str]]:
    # One uvicorn worker and no job runner: the stock server starts ~15 processes and 2 GB for
    # features (background jobs, parallel workers) a one-person UI never uses.
    root = artifact_root.resolve().as_uri()
    argv = [sys.executable, "-m", "mlflow", "server",
            # Experiments created from the UI keep their artifacts where hyp's own do.
            "--default-artifact-root", root, "--artifacts-destination", root,
            "--host", host, "--port", str(port), "--workers", "1"]
    # The store's URI may carry a password (postgresql://user:pw@db/x): a command line is readable by
    # every user of the machine (`ps`), the environment only by its owner. `mlflow server` reads
    # --backend-store-uri from MLFLOW_BACKEND_STORE_URI (its click option's envvar) and hands it to its
    # workers in their environment too.
    return argv, {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_BACKEND_STORE_URI": tracking_uri}


def check_port_free(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise BadInput(f"--host {host}: not an address this machine can listen on ({e.strerror})") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is free
        try:
            s.bind(address)
        except OSError as e:
            raise BadInput(f"--port {port}: {host}:{port} is not free ({e.strerror}); pick another port") from None


def serve(lab, host: str, port: int, echo=print, ready_timeout: float = 180) -> int:
    """Run the server until it stops or we are interrupted; return its exit code.

    hyp itself stays light while it waits (no MLflow import): it asks the server, over HTTP,
    which experiment is the lab's, and prints the address once the UI answers.
    """
    uri = lab.tracking_uri
    if uri.startswith(("http://", "https://")):
        from hyp.store.secrets import redact

        echo(f"This lab tracks to the MLflow server at {redact(uri)}; its UI is there.")
        return 0
    if not 1 <= port <= 65535:
        raise BadInput(f"--port {port}: expected a port number between 1 and 65535")
    check_port_free(host, port)
    argv, env = server_command(uri, lab.state_dir / "artifacts", host, port)
    base = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    if host in ("0.0.0.0", "::"):
        base = f"http://127.0.0.1:{port}"  # listening everywhere; this machine reaches it on loopback
    # Its own process group, so that stopping hyp stops uvicorn too, not only the `mlflow` launcher; and
    # told to stop when hyp dies, so that a `kill -9` of hyp does not leave the port taken.
    proc = subprocess.Popen(argv, env={**os.environ, **env}, start_new_session=True,
                            preexec_fn=parent_death(signal.SIGTERM, os.getpid(), 1))
    try:
        if _wait_until_up(proc, base, ready_timeout):
            echo(f"MLflow UI for experiment {lab.settings.experiment!r}: {base}/{_experiment_page(base, lab)}"
                 "  (Ctrl-C stops it)")
            # MLflow 3.17 takes GenAI or machine-learning views from the page address or the browser's
            # saved choice, not from the experiment's `mlflow.experimentKind` (its UI flag hard-codes that).
            echo('A run opened from the table shows MLflow\'s GenAI view until this browser picks "Model training" '
                 "(top left) once.")
        return proc.wait()
    finally:
        _stop_group(proc)


def _get(url: str, timeout: float):
    import urllib.request

    # Straight to the server: a proxy set in the environment must not see requests to loopback.
    return urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=timeout)


def _wait_until_up(proc: subprocess.Popen, base: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with _get(f"{base}/health", 2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def _experiment_page(base: str, lab) -> str:
    """The lab's experiment in the UI, or the experiment list while nothing has been logged yet."""
    import json
    import urllib.parse

    query = urllib.parse.urlencode({"experiment_name": lab.settings.experiment})
    try:
        with _get(f"{base}/api/2.0/mlflow/experiments/get-by-name?{query}", 10) as r:
            experiment_id = json.load(r)["experiment"]["experiment_id"]
    except (OSError, ValueError, KeyError):
        return ""
    # MLflow 3 opens an experiment on its GenAI overview unless told this is model training; the shared
    # view (an experiment tag the URL names) opens the runs table with the score and verdict as columns.
    page = f"#/experiments/{experiment_id}/runs?workflowType=machine_learning"
    try:
        _post(f"{base}/api/2.0/mlflow/experiments/set-experiment-tag", {
            "experiment_id": experiment_id, "key": f"mlflow.sharedViewState.{VIEW}", "value": json.dumps(VIEW_STATE)})
    except OSError:
        return page
    return f"{page}&viewStateShareKey={VIEW}"


# The runs table as hyp's shared view opens it: MLflow's column keys are `<type>.`<name>``, shown grouped
# as attributes, metrics, tags. The wide Dataset column is left out so that the verdict fits on a laptop
# screen; each run page lists its datasets.
VIEW = "hyp-scores"
VIEW_STATE = {"selectedColumns": ["attributes.`Source`", "metrics.`score`", "metrics.`base_score`",
                                  "tags.`hyp.verdict`", "tags.`hyp.version`"]}


def _post(url: str, body: dict) -> None:
    import json
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10):
        pass


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the launcher and uvicorn; SIGKILL to whatever is left after 10 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        proc.poll()  # reaps the launcher, so that only live members keep the group
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
