"""Reading a team's tracking server over plain HTTP (rest_reader.py): credentials in the tracking URI, the
change check that keeps the status index honest about writes made outside hyp, and how few requests a
reading command makes. Against a real `mlflow server` (conftest's `mlflow_server`)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from conftest import H003_YAML, TrackingStore, hypothesis_text, make_lab, run_hyp

H004_YAML = hypothesis_text("H004").replace("parent: H002", "parent: H003")
PASSWORD = "pw-" + uuid.uuid4().hex[:12]


def server_lab(root: Path, uri: str) -> Path:
    experiment = f"rest-{uuid.uuid4().hex[:10]}"
    return make_lab(root, {"H003": H003_YAML, "H004": H004_YAML}, tracking=TrackingStore("server", uri, experiment))


def hyp(lab: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    return subprocess.run([sys.executable, "-m", "hyp", "--lab", str(lab), *args], capture_output=True, text=True,
                          env=env, timeout=300)


# Runs hyp's reading commands in one process and says which heavy modules each left imported.
CHECK = """
import json, sys
import hyp.cli.main
out = []
for args in json.loads(sys.argv[2]):
    try:
        hyp.cli.main.main(["--lab", sys.argv[1], *args])
        code = 0
    except SystemExit as e:
        code = e.code
    out.append([args, code, "mlflow" in sys.modules])
print("RESULT " + json.dumps(out))
"""


def test_a_password_in_the_tracking_uri_is_never_printed_and_reads_stay_on_plain_http(tmp_path, mlflow_server):
    """`http://alice:PASSWORD@host`: MLflow printed the URI, password and all, at the end of every run
    ("View run ... at: ..."), and the fast read path gave up on such a URI and imported MLflow. (The test
    server asks for no credentials; it accepts them, so the URI works against it as against one that does.)"""
    uri = mlflow_server.replace("http://", f"http://alice:{PASSWORD}@", 1)
    lab = server_lab(tmp_path / "lab", uri)

    said = [hyp(lab, "record", "H003", "--scores", str(lab / "scores.csv")),
            hyp(lab, "record", "H004", "--metric", "score=7.5"), hyp(lab, "ui")]
    assert [p.returncode for p in said] == [0, 0, 0], said[-1].stderr
    assert not [p.stdout for p in said if PASSWORD in p.stdout + p.stderr]
    commands = [["list", "--json"], ["show", "H003"], ["verdict", "H003", "--json"], ["compare", "H003", "H004"]]
    for no_index in ("", "1"):  # from the index after the change check, and read from the server itself
        p = subprocess.run([sys.executable, "-c", CHECK, str(lab), json.dumps(commands)], capture_output=True,
                           text=True, timeout=120, env={**os.environ, "HYP_NO_INDEX": no_index})
        assert p.returncode == 0, p.stderr
        report = json.loads(p.stdout.rsplit("RESULT ", 1)[1])
        assert [(args, code, mlflow) for args, code, mlflow in report] == [(args, 0, False) for args in commands]
        said.append(p)
    for p in said:
        assert PASSWORD not in p.stdout + p.stderr


def test_credentials_are_sent_as_mlflow_sends_them(monkeypatch):
    from hyp.store.rest_reader import _endpoint

    def basic(header: dict) -> str:
        kind, _, value = header["Authorization"].partition(" ")
        return base64.b64decode(value).decode() if kind == "Basic" else f"{kind} {value}"

    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert _endpoint("http://h:5000") == ("http://h:5000", {})
    base, header = _endpoint("https://al%40ice:p%3Aw@h:5000/prefix")
    assert base == "https://h:5000/prefix" and basic(header) == "al@ice:p:w"  # the URI's, unquoted
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")
    assert basic(_endpoint("http://h")[1]) == "Bearer tok"
    assert basic(_endpoint("http://u:p@h")[1]) == "u:p"  # requests lets the URI's basic auth replace the token
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "env-user")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "env-pw")
    assert basic(_endpoint("http://u:p@h")[1]) == "env-user:env-pw"  # MLflow's own variables come first


def test_list_sees_runs_deleted_or_added_outside_hyp_without_a_hyp_write(tmp_path, mlflow_server):
    """The status index on a server was renewed only by hyp's own writes: a run deleted over REST (or in the
    UI) or logged with plain MlflowClient stayed invisible to `hyp list` until someone ran hyp again."""
    from mlflow import MlflowClient

    from hyp.hypotheses.lab import Lab
    from hyp.results.index import read_index

    lab = server_lab(tmp_path / "lab", mlflow_server)
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0
    assert run_hyp("record", "H004", "--metric", "score=7.5", lab=lab).code == 0
    listed = {h["id"]: h["status"] for h in run_hyp("list", "--json", lab=lab).json}
    assert listed["H003"] == "REJECTED" and read_index(Lab(lab)) is not None
    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name(Lab(lab).settings.experiment).experiment_id
    runs = {r.data.tags["hyp.id"]: r for r in client.search_runs([experiment], "tags.`hyp.kind` = 'record'")}

    client.delete_run(runs["H003"].info.run_id)  # the older of the two results: not the newest run
    assert read_index(Lab(lab)) is None
    after = {h["id"]: h["status"] for h in run_hyp("list", "--json", lab=lab).json}
    assert after["H003"] != "REJECTED"

    assert read_index(Lab(lab)) is not None
    run = client.create_run(experiment, run_name="by-hand", tags={"hyp.id": "H004", "hyp.kind": "note"})
    assert read_index(Lab(lab)) is None  # a run logged with plain MLflow
    run_hyp("list", lab=lab)
    client.set_terminated(run.info.run_id, "KILLED")
    assert read_index(Lab(lab)) is None  # the newest run ended by hand


def test_compare_looks_the_experiment_up_once(tmp_path, mlflow_server, monkeypatch):
    from hyp.store import rest_reader

    lab = server_lab(tmp_path / "lab", mlflow_server)
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0
    assert run_hyp("record", "H004", "--metric", "score=7.5", lab=lab).code == 0
    assert run_hyp("list", lab=lab).code == 0  # the index is fresh
    asked = []
    real = rest_reader._open

    def counting(request):
        asked.append(request.full_url.split("/api/2.0/mlflow/", 1)[-1].split("?")[0])
        return real(request)

    monkeypatch.setattr(rest_reader, "_open", counting)
    monkeypatch.setattr(rest_reader, "_looked_up", {}, raising=False)  # as in a new process

    assert run_hyp("compare", "H003", "H004", lab=lab).code == 0

    assert asked.count("experiments/get-by-name") == 1
    assert len(asked) <= 5, asked  # the change check (3), then each hypothesis's runs
