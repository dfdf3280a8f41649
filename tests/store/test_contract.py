"""One contract, two stores: every command a user runs, on a lab's own SQLite file and on a team's tracking
server (`mlflow server` + PostgreSQL + proxied artifacts, SPEC §9), with the same answers.

`tracking_store` (conftest) gives each test a fresh experiment on each store, the way Optuna runs its
storage tests over every storage. Nothing is mocked: real MLflow, a real server, real PostgreSQL.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import H003_YAML, TrackingStore, hypothesis_text, lab_tracking, make_lab, mlflow_runs, run_hyp

RESPONSES = [
    {"question": "Q1", "response": "João is the founder of Softtor; direct, TypeScript."},
    {"question": "Q2", "response": "Molting is a personality model on TinyLlama."},
    {"question": "Q3", "response": "Moltbook is a social network for agents."},
    {"question": "Q4", "response": "I need to say TypeScript, Next.js and Prisma."},
    {"question": "Q5", "response": "A CRM at Softtor."},
    {"question": "Q6", "response": "TDD: a failing test first, red."},
    {"question": "Q7", "response": "An RTX 3050 with 4 GB of VRAM."},
    {"question": "Q8", "response": "I am Cláudio, a developer."},
]
H004_YAML = hypothesis_text("H004").replace("parent: H002", "parent: H003")


@pytest.fixture
def lab(tmp_path, tracking_store, blank_store) -> Path:
    store = blank_store if tracking_store.kind == "sqlite" else None  # skips the SQLite migrations
    root = make_lab(tmp_path / "lab", {"H003": H003_YAML, "H004": H004_YAML}, store=store, tracking=tracking_store)
    (root / "responses.json").write_text(json.dumps(RESPONSES), encoding="utf-8")
    return root


def ok(*args, lab: Path):
    r = run_hyp(*args, lab=lab)
    assert r.code == 0, (args, r)
    return r


def test_record_verdict_show_list_report_and_compare(lab):
    ok("record", "H003", "--scores", lab / "scores.csv", lab=lab)
    ok("record", "H004", "--responses", lab / "responses.json", lab=lab)

    h003 = ok("verdict", "H003", "--json", lab=lab).json
    assert (h003["verdict"], h003["observations"]["score"]["estimate"]) == ("REJECTED", 4.53125)
    assert h003["lock"]["status"] == "intact"
    h004 = ok("verdict", "H004", "--json", lab=lab).json
    assert h004["lock"]["status"] == "intact" and h004["observations"]["score"]["questions"] == 8
    listed = {h["id"]: h for h in ok("list", "--json", lab=lab).json}
    assert listed["H003"]["status"] == "REJECTED" and listed["H004"]["status"] == h004["verdict"]
    assert "REJECTED" in ok("show", "H003", lab=lab).out

    ok("report", "H004", lab=lab)
    report = (lab / "reports" / "H004.md").read_text(encoding="utf-8")
    assert h004["verdict"] in report and "Moltbook is a social network for agents." in report  # the answers
    compared = ok("compare", "H003", "H004", "--json", lab=lab).json
    assert [r["id"] for r in compared["runs"]] == ["H003", "H004"]

    from hyp.hypotheses.lab import Lab
    from hyp.results.index import read_index

    assert read_index(Lab(lab)) is not None  # the next `hyp list` reads the index, not the store


def test_a_changed_prediction_exits_3_amend_records_it_and_a_deleted_result_breaks_the_lock(lab):
    ok("record", "H003", "--scores", lab / "scores.csv", lab=lab)
    path = lab / "hypotheses" / "H003.yaml"
    path.write_text(path.read_text().replace('op: ">=", value: 7}', 'op: ">=", value: 6}', 1))
    changed = run_hyp("verdict", "H003", "--json", lab=lab)
    assert changed.code == 3 and changed.json["lock"]["status"] == "amended-after-results"
    ok("amend", "H003", "--reason", "the threshold was a typo", lab=lab)
    amended = ok("verdict", "H003", "--json", lab=lab).json
    assert amended["verdict"] == "REJECTED" and amended["lock"]["status"] == "amended"
    assert [a["reason"] for a in amended["lock"]["amendments"]] == ["the threshold was a typo"]

    from mlflow import MlflowClient

    (result,) = [r for r in mlflow_runs(lab, "H003") if r.data.tags["hyp.kind"] == "record"]
    MlflowClient(tracking_uri=lab_tracking(lab)[0]).delete_run(result.info.run_id)  # by hand, in the UI
    broken = run_hyp("verdict", "H003", "--json", lab=lab)
    assert broken.code == 3 and broken.json["lock"]["status"] == "broken"


def test_hand_scores_are_logged_and_win_over_the_rubric(lab, monkeypatch):
    ok("record", "H004", "--responses", lab / "responses.json", lab=lab)
    keys = ["2", "2", "1", "1"] * 8
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(k + "\n" for k in keys)))
    ok("score", "H004", lab=lab)
    verdict = ok("verdict", "H004", "--json", lab=lab).json
    assert verdict["observations"]["score"]["estimate"] == 7.5  # 48 of 64 points, by hand
    assert "Hand vs automatic scores" in ok("show", "H004", lab=lab).out


def test_a_second_lab_on_the_same_store_sees_the_first_labs_results_at_once(tmp_path, tracking_store, lab):
    """Two folders standing in for two machines: lab B's status index, fresh a moment ago, must not hide
    what lab A has just recorded."""
    if tracking_store.kind == "sqlite":  # one file both labs name by its absolute path
        shared = TrackingStore("sqlite", f"sqlite:///{tmp_path / 'shared.db'}", tracking_store.experiment)
        a = make_lab(tmp_path / "a", {"H003": H003_YAML, "H004": H004_YAML}, tracking=shared)
        b = make_lab(tmp_path / "b", {"H003": H003_YAML, "H004": H004_YAML}, tracking=shared)
    else:
        a, b = lab, make_lab(tmp_path / "b", {"H003": H003_YAML, "H004": H004_YAML}, tracking=tracking_store)
    ok("record", "H003", "--scores", a / "scores.csv", lab=a)
    assert {h["id"]: h["status"] for h in ok("list", "--json", lab=b).json}["H004"] == "PENDING"
    (a / "responses.json").write_text(json.dumps(RESPONSES), encoding="utf-8")
    ok("record", "H004", "--responses", a / "responses.json", lab=a)
    seen = {h["id"]: h["status"] for h in ok("list", "--json", lab=b).json}
    assert seen["H003"] == "REJECTED" and seen["H004"] != "PENDING"


CHECK = textwrap.dedent("""
    import json, sys
    lab = sys.argv[1]
    import hyp.cli.main
    out = []
    for args in json.loads(sys.argv[2]):
        try:
            hyp.cli.main.main(["--lab", lab, *args])
            code = 0
        except SystemExit as e:
            code = e.code
        out.append([args, code, sorted(m for m in ("mlflow", "optuna", "torch") if m in sys.modules)])
    print("RESULT " + json.dumps(out))
""")


def test_reading_commands_import_no_mlflow_on_either_store(lab):
    ok("record", "H003", "--scores", lab / "scores.csv", lab=lab)
    ok("record", "H004", "--responses", lab / "responses.json", lab=lab)
    commands = [["list"], ["show", "H003"], ["verdict", "H004", "--json"], ["compare", "H003", "H004"], ["list"]]
    p = subprocess.run([sys.executable, "-c", CHECK, str(lab), json.dumps(commands)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout.rsplit("RESULT ", 1)[1])
    assert [(args, code, heavy) for args, code, heavy in report] == [(args, 0, []) for args in commands]


def example_lab(root: Path, store: TrackingStore) -> Path:
    """The persona example lab (`hyp init --example persona`), pointed at `store`."""
    assert run_hyp("init", str(root), "--example", "persona").code == 0
    toml = root / "hyp.toml"
    text = toml.read_text().replace('experiment = "persona"', f'experiment = "{store.experiment}"')
    if store.kind == "server":
        text = text.replace('uri = "sqlite:///.hyp/mlflow.db"', f'uri = "{store.uri}"')
    toml.write_text(text)
    return root


@pytest.mark.slow
def test_run_trains_logs_its_answers_and_reports_on_either_store(tmp_path, tracking_store, builtin_cache):
    """`hyp run` end to end: the model trains here, its runs, metrics, artifacts and answer traces go to
    the store (on a server: its PostgreSQL database and its proxied artifacts), the report comes from them."""
    import os

    lab = example_lab(tmp_path / "lab", tracking_store)
    # Registered small (a `--set` would make the run a deviation, not evidence): H004's recipe, scaled down.
    h004 = lab / "hypotheses" / "H004.yaml"
    text = h004.read_text()
    for old, new in (("select_top: 100", "select_top: 12"), ("epochs: 20,", "epochs: 1,"),
                     ("max_new_tokens: 64", "max_new_tokens: 6")):
        assert old in text, old
        text = text.replace(old, new, 1)
    h004.write_text(text)
    env = {**os.environ, "HYP_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "hyp", "run", "H004"], cwd=lab, capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr

    verdict = ok("verdict", "H004", "--json", lab=lab).json
    assert verdict["lock"]["status"] == "intact" and verdict["observations"]["score"]["questions"] == 8
    from mlflow import MlflowClient

    found = mlflow_runs(lab, "H004")
    assert {r.data.tags["hyp.kind"] for r in found} == {"run", "replicate"}
    assert not any(r.info.status == "RUNNING" for r in found)
    (parent,) = [r for r in found if r.data.tags["hyp.kind"] == "run"]
    client = MlflowClient(tracking_uri=lab_tracking(lab)[0])
    assert client.get_metric_history(parent.info.run_id, "train_loss")  # the loss curve on the run people open
    report = Path(client.download_artifacts(parent.info.run_id, "H004.md", str(tmp_path / "back")))
    assert report.read_text(encoding="utf-8") == (lab / "reports" / "H004.md").read_text(encoding="utf-8")
    traces = client.search_traces(locations=[parent.info.experiment_id], max_results=100)
    assert len(traces) >= 8  # one per answer, with its scores as assessments
