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
                                        f"Q1,2,2,2,2,my token is {TOKEN}\n")
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
