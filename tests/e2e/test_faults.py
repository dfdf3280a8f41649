"""Fault injection (issue 6): `hyp run` killed with SIGKILL in each phase, an exception inside
training, and two runs of one hypothesis at once. Afterwards no run is RUNNING once any hyp command
has run, no file in the lab is half-written, the hypothesis file and its lock are intact, and
`hyp run --resume` finishes. Real training of builtin:tiny, real MLflow; HYP_FAULT (hyp/faults.py)
only chooses the moment the process dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SMALL = ["--set", "dataset.curated.select_top=12", "--set", "eval.max_new_tokens=8", "--set", "training.epochs=2"]


def hyp(lab: Path, *args: str, fault: str | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    env.pop("HYP_FAULT", None)
    if fault:
        env["HYP_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "hyp", *args], cwd=lab, capture_output=True, text=True, env=env,
                          **kw)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, builtin_cache) -> Path:
    root = tmp_path_factory.mktemp("faults") / "lab"
    subprocess.run([sys.executable, "-m", "hyp", "init", str(root), "--example", "persona"], check=True,
                   capture_output=True)
    # The builtin model is built once per test session, not once per lab.
    (root / ".hyp").mkdir(exist_ok=True)
    os.symlink(builtin_cache / "builtin-tiny-v2", root / ".hyp" / "builtin-tiny-v2")
    return root


def runs(lab: Path, hid: str):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{lab}/.hyp/mlflow.db")
    exp = client.get_experiment_by_name("persona")
    return client.search_runs([exp.experiment_id], f"tags.`hyp.id` = '{hid}'") if exp else []


def lab_files(lab: Path) -> dict[str, bytes]:
    return {p.relative_to(lab).as_posix(): p.read_bytes() for p in lab.rglob("*")
            if p.is_file() and ".hyp/artifacts" not in p.as_posix() and not p.name.endswith(".db")
            and ".hyp/checkpoints" not in p.as_posix() and "builtin-tiny" not in p.as_posix()}


def assert_nothing_half_written(lab: Path) -> None:
    """Every JSON file parses and every report is whole. A write cut short leaves only its hidden
    temporary file (.name.XXXX.tmp) beside an untouched target."""
    for rel, content in lab_files(lab).items():
        if rel.endswith(".tmp"):
            assert Path(rel).name.startswith("."), rel
            continue
        if rel.endswith(".json"):
            json.loads(content)  # a torn JSON file would not parse
        if rel.startswith("reports/") and rel.endswith(".md"):
            assert b"## Provenance" in content, f"{rel} is cut short"


PHASES = ["data", "training", "evaluation", "logging", "report", "write"]


def test_sigkill_in_each_phase_loses_nothing_and_resume_finishes(lab):
    """One run killed in each phase in turn, every run with --resume: each kill must leave a lab the
    next run can go on from, and after the last one `hyp run --resume` finishes."""
    hid = "H004"
    hypothesis = (lab / "hypotheses" / f"{hid}.yaml").read_bytes()
    for phase in PHASES:
        killed = hyp(lab, "run", hid, *SMALL, "--resume", fault=phase)
        assert killed.returncode == -signal.SIGKILL, (phase, killed.stderr)
        assert hyp(lab, "list").returncode == 0  # any command reaps what the dead process left RUNNING
        assert not [r for r in runs(lab, hid) if r.info.status == "RUNNING"], phase
        assert_nothing_half_written(lab)
        assert (lab / "hypotheses" / f"{hid}.yaml").read_bytes() == hypothesis, phase

    done = hyp(lab, "run", hid, *SMALL, "--resume")
    assert done.returncode == 0, done.stderr
    verdict = json.loads(hyp(lab, "verdict", hid, "--json").stdout)
    assert verdict["lock"]["status"] == "intact"
    parents = [r for r in runs(lab, hid) if r.data.tags["hyp.kind"] == "run"]  # newest first
    assert parents[0].info.status == "FINISHED"
    # Killed in training, evaluation or logging: KILLED. Killed at the report: the run had FINISHED.
    # Killed at data or at the first file write (the status index, before any run exists): no run.
    assert {r.info.status for r in parents[1:]} <= {"KILLED", "FINISHED"}
    assert [r.info.status for r in parents[1:]].count("KILLED") >= 3
    assert_nothing_half_written(lab)
    assert (lab / "reports" / f"{hid}.md").exists()


def test_an_exception_in_training_ends_failed_with_the_error(lab):
    failed = hyp(lab, "run", "H002", *SMALL, fault="training:raise")
    assert failed.returncode == 1
    assert len([line for line in failed.stderr.splitlines() if line.strip()]) == 1
    found = runs(lab, "H002")
    assert found and {r.info.status for r in found} == {"FAILED"}
    assert all("fault injected at training" in r.data.tags["hyp.error"] for r in found)

    # Issue 17, item 3: a run that failed before any result locks nothing: fixing the experiment
    # afterwards is no amendment, and no lock is pinned in the lab.
    assert not (lab / "hypotheses" / ".locks" / "H002.sha256").exists()
    path = lab / "hypotheses" / "H002.yaml"
    original = path.read_text()
    path.write_text(original.replace("learning_rate: 5.0e-3", "learning_rate: 4.0e-3"))
    try:
        assert path.read_text() != original
        verdict = hyp(lab, "verdict", "H002", "--json")
        assert verdict.returncode == 0, verdict.stderr
        assert json.loads(verdict.stdout)["lock"]["status"] == "unlocked"
    finally:
        path.write_text(original)


def test_two_runs_of_one_hypothesis_at_once_the_second_stops_clearly(lab):
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    env.pop("HYP_FAULT", None)
    first = subprocess.Popen([sys.executable, "-m", "hyp", "run", "H001", *SMALL, "--set", "training.epochs=30"],
                             cwd=lab, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (lab / ".hyp" / "checkpoints" / "H001").exists():
            assert first.poll() is None and time.time() < deadline, first.stderr.read()
            time.sleep(0.2)
        files = lab_files(lab)
        second = hyp(lab, "run", "H001", *SMALL)
        assert second.returncode == 2
        assert "already running" in second.stderr and f"pid {first.pid}" in second.stderr
        # Issue 17, item 14: a record meanwhile is refused too, so the run's verdict tag and report,
        # written when it ends, count every result (pooled evidence): recorded after it, they will.
        record = hyp(lab, "record", "H001", "--metric", "score=9.5")
        assert record.returncode == 2 and f"pid {first.pid}" in record.stderr, record.stderr
        assert len([line for line in record.stderr.splitlines() if line.strip()]) == 1
        assert len(runs(lab, "H001")) == 2  # the first's parent and replicate; the others made none
        assert {k: v for k, v in lab_files(lab).items() if not k.startswith(".hyp/")} == \
               {k: v for k, v in files.items() if not k.startswith(".hyp/")}
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    # The lock went with the process: the next run is free to start (and Ctrl-C left KILLED, not RUNNING).
    assert {r.info.status for r in runs(lab, "H001")} == {"KILLED"}
    assert hyp(lab, "run", "H001", *SMALL).returncode == 0

