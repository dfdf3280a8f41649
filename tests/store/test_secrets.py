"""Secrets never reach MLflow or a report: env values named *TOKEN*, *KEY*, *SECRET*, *PASSWORD*, and
passwords inside URLs. Real MLflow on a temporary SQLite store."""

import json
import shutil

import pytest

from conftest import run_hyp
from hyp.store.mlflow_store import MlflowTracker
from hyp.store.secrets import redact, secrets

TOKEN = "hf_Zq8dK2pLx91mVt"
ENV = {"HF_TOKEN": TOKEN, "WANDB_API_KEY": "0123456789abcdef", "MY_SECRET": "s3cr3t-value",
       "PGPASSWORD": "hunter2-pg", "HOME": "/root", "DEBUG_KEY": "1"}


def test_redact_replaces_secret_env_values_and_url_passwords():
    text = f"token {TOKEN} key 0123456789abcdef at postgresql://hyp:hunter2-pg@db:5432/x and https://u:pw@h/p"
    out = redact(text, ENV)
    assert TOKEN not in out and "0123456789abcdef" not in out and "hunter2-pg" not in out
    assert "[HF_TOKEN redacted]" in out and "postgresql://hyp:***@db:5432/x" in out and "https://u:***@h/p" in out
    # Names that are not secret, and values too short to be one, are left alone.
    assert redact("/root and 1 and 12", ENV) == "/root and 1 and 12"
    found = secrets(ENV)
    assert {name for name, _ in found} == {"WANDB_API_KEY", "MY_SECRET", "HF_TOKEN", "PGPASSWORD"}
    assert [len(v) for _, v in found] == sorted((len(v) for _, v in found), reverse=True)


@pytest.mark.parametrize("uri,shown", [
    ("postgresql://127.0.0.1/db?user=u&password=S3cretPW", "postgresql://127.0.0.1/db?user=u&password=***"),
    ("postgresql://:S3cretPW@127.0.0.1/db", "postgresql://:***@127.0.0.1/db"),  # libpq: the user from PGUSER
    ("redis://:S3cretPW@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
    ("postgresql://h/db?sslmode=require&password=S3cretPW#x", "postgresql://h/db?sslmode=require&password=***#x"),
    ("http://mlflow:5000/#/experiments/1", "http://mlflow:5000/#/experiments/1"),
])
def test_every_form_of_a_url_password_is_redacted(uri, shown):
    """An audit found `?password=` and an empty user (`:pw@`) printed, logged and written into reports."""
    assert redact(f"study 'H004' in {uri}", {}) == f"study 'H004' in {shown}"


def test_no_secret_reaches_params_tags_or_artifacts(tmp_path, monkeypatch, blank_store):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    shutil.copyfile(blank_store, tmp_path / "mlflow.db")
    tracker = MlflowTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "secrets", artifact_root=tmp_path / "artifacts")
    run_id = tracker.start_run(hypothesis_id="H001", kind="record", name="H001",
                               tags={"hyp.source": f"https://user:{TOKEN}@hub"}, description=f"uses {TOKEN}")
    tracker.log_params(run_id, {"model.name": f"/models/{TOKEN}/tiny", "long": TOKEN * 1000})
    tracker.set_tags(run_id, {"hyp.error": f"401 for token {TOKEN}"})
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": f"/m/{TOKEN}"}))
    (folder / "weights.bin").write_bytes(b"\x00\xff" * 10)
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps([{"response": f"my token is {TOKEN}"}]))
    tracker.log_artifact(run_id, folder, "adapter")
    tracker.log_artifact(run_id, answers)
    tracker.end_run(run_id)

    stored = [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]
    assert {p.name for p in stored} >= {"adapter_config.json", "weights.bin", "answers.json", "long.txt"}
    run = tracker.client.get_run(run_id)
    everything = json.dumps([run.data.params, run.data.tags]) + "".join(p.read_bytes().decode("latin-1")
                                                                       for p in stored)
    assert TOKEN not in everything and "[HF_TOKEN redacted]" in everything
    # The user's own files are never rewritten.
    assert TOKEN in answers.read_text() and TOKEN in (folder / "adapter_config.json").read_text()


@pytest.mark.parametrize("where", ["hypothesis", "scores"])
def test_a_recorded_result_and_its_report_carry_no_secret(lab, monkeypatch, where):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hyp_file = lab / "hypotheses" / "H003.yaml"
    if where == "hypothesis":
        hyp_file.write_text(hyp_file.read_text().replace("author: Cláudio", f"author: Cláudio {TOKEN}"))
        result = run_hyp("record", "H003", "--metric", "score=8.5", lab=lab)
    else:
        (lab / "scores.csv").write_text("question,agent,factual,personality,complete,response\n"
                                        f"Q1,2,2,2,2,my token is {TOKEN}\n"
                                        + "".join(f"Q{i},2,2,2,2,an answer\n" for i in range(2, 9)))
        result = run_hyp("record", "H003", "--scores", str(lab / "scores.csv"), lab=lab)
    assert result.code == 0, result.err
    assert run_hyp("report", "H003", lab=lab).code == 0
    # The hypothesis file is the user's own (and .hyp/parsed.json its cache); what hyp logs and reports is checked.
    for path in [*(lab / ".hyp" / "artifacts").rglob("*"), *(lab / "reports").rglob("*")]:
        if path.is_file() and path.suffix in {".json", ".yaml", ".md", ".txt", ".csv"}:
            assert TOKEN not in path.read_text(errors="replace"), path
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{lab}/.hyp/mlflow.db")
    for run in client.search_runs([e.experiment_id for e in client.search_experiments()]):
        assert TOKEN not in json.dumps([run.data.params, run.data.tags])


def test_the_datasets_table_keeps_no_secret_in_a_source_path(tmp_path, monkeypatch, blank_store):
    """Issue 17, item 6: MLflow stores a dataset input's source in its own `datasets` table, beside tags."""
    import sqlite3

    from hyp.store.base import DatasetRecord

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    shutil.copyfile(blank_store, tmp_path / "mlflow.db")
    tracker = MlflowTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "secrets", artifact_root=tmp_path / "artifacts")
    run_id = tracker.start_run(hypothesis_id="H001", kind="run", name="H001")
    tracker.log_dataset(run_id, DatasetRecord(name="H001-mix", digest="ab" * 32, rows=3,
                                              source=str(tmp_path / f"labs-{TOKEN}" / "data" / "curated.json")))
    tracker.end_run(run_id)
    with sqlite3.connect(tmp_path / "mlflow.db") as con:
        rows = con.execute("SELECT * FROM datasets").fetchall()
    assert rows and TOKEN not in json.dumps(rows, default=str)
    assert "curated.json" in json.dumps(rows, default=str)  # still says which file it was


def test_sweep_workers_get_the_storage_url_on_stdin_not_the_command_line(tmp_path, monkeypatch, capfd):
    """Issue 17, item 6: a command line is readable by every user of the machine (`ps`)."""
    import subprocess

    from hyp.errors import HypError
    from hyp.sweeps import sweep as sweep_module
    from hyp.sweeps.worker import WorkerSpec

    seen = []
    real = subprocess.Popen

    def popen(args, *a, **kw):
        seen.append(list(args))
        return real(args, *a, **kw)

    monkeypatch.setattr(sweep_module.subprocess, "Popen", popen)
    url = "postgresql://hyp:hunter2-pg@127.0.0.1:9/optuna"  # nothing listens: the worker stops at once
    spec = WorkerSpec(lab_root=str(tmp_path), hid="H001", study="H001", storage=url, trials=1, vram_limit_gb=4.0,
                      sweep_run_id="0" * 32, workers=2)
    with pytest.raises(HypError, match="worker 0"):
        sweep_module._run_workers(spec, 2, print)
    assert len(seen) == 2 and not any("hunter2-pg" in arg for args in seen for arg in args)
    err = capfd.readouterr().err
    assert "error: worker 0:" in err and "error: worker 1:" in err  # each read its spec (and its storage)


def test_the_ui_servers_command_line_carries_no_password(tmp_path):
    """Issue 17 (audit): `hyp ui` put the store's URI, password and all, on `mlflow server`'s command line,
    which every user of the machine reads in `ps`. It goes in the environment, under the name MLflow's
    `server` command reads its --backend-store-uri from."""
    import click
    from mlflow.cli import cli as mlflow_cli

    from hyp.store.server import server_command

    uri = "postgresql://hyp:hunter2-pg@db.internal:5432/tracking"
    argv, env = server_command(uri, tmp_path / "artifacts", "127.0.0.1", 5000)

    assert not any("hunter2-pg" in arg or "db.internal" in arg for arg in argv), argv
    assert "--backend-store-uri" not in argv
    [option] = [p for p in mlflow_cli.commands["server"].params if "--backend-store-uri" in p.opts]
    assert isinstance(option, click.Option) and env[option.envvar] == uri
