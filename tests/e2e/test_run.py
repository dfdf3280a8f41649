"""`hyp run` end to end: real training of builtin:tiny, real MLflow on a temporary SQLite store."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SMALL = ["--set", "dataset.curated.select_top=24", "--set", "eval.max_new_tokens=12", "--set", "training.epochs=2"]


def hyp(lab: Path, *args: str, check: bool = False, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    env = env or {**os.environ, "HYP_NO_PROGRESS": "1"}
    proc = subprocess.run([sys.executable, "-m", "hyp", *args], cwd=lab, capture_output=True, text=True, env=env,
                          **kw)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("run") / "lab"
    subprocess.run([sys.executable, "-m", "hyp", "init", str(root), "--example", "persona"], check=True)
    return root


def runs(lab: Path, hid: str):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{lab}/.hyp/mlflow.db")
    exp = client.get_experiment_by_name("persona")
    # Under pytest-xdist a worker may get this module's lab before any test in it has logged a run.
    if exp is None:
        return client, []
    return client, client.search_runs([exp.experiment_id], f"tags.`hyp.id` = '{hid}'")


def test_run_trains_evaluates_logs_and_reports(lab):
    # Output redirected, as `make demo > log` does: no bars, a line every few seconds (here 0.2 s).
    env = {k: v for k, v in os.environ.items() if k != "HYP_NO_PROGRESS"} | {"HYP_PROGRESS_EVERY": "0.2"}
    proc = hyp(lab, "run", "H004", "--replicates", "2", *SMALL, check=True, env=env)
    assert "Report:" in proc.stdout
    assert re.search(r"^H004-r0: training epoch [12]/2 · step \d+ · loss [\d.]+ · \d+ s$", proc.stderr, re.M)
    assert re.search(r"^H004 base model: evaluating 8 questions · \d+ s$", proc.stderr, re.M)
    assert "\x1b[" not in proc.stderr  # no terminal codes in a log file
    # builtin:tiny ships with hyp: nothing is built, never into the lab.
    assert not (lab / ".hyp" / "models").exists()
    assert "building builtin:tiny" not in proc.stderr
    client, found = runs(lab, "H004")
    parents = [r for r in found if r.data.tags["hyp.kind"] == "run"]
    children = [r for r in found if r.data.tags["hyp.kind"] == "replicate"]
    assert len(parents) == 1 and len(children) == 2
    parent = parents[0]
    assert all(r.info.status == "FINISHED" for r in found)
    assert parent.info.run_name == "H004"
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    for key in ("score", "base_score", "points", "agent_like_responses", "dataset.size",
                "final_train_loss", "train_seconds", "peak_rss_gb", "lint.template_token"):
        assert key in parent.data.metrics, key
    # The run people open: the score and the loss curves; per-question scores live on the replicates (the
    # verdict's units) and on each answer's trace; the base model is `base_score` alone.
    assert not [k for k in parent.data.metrics if k.startswith(("Q", "base."))]
    assert all(f"Q{q}.{c}" in c_.data.metrics for c_ in children for q in range(1, 9)
               for c in ("agent", "factual", "personality", "complete", "total"))
    assert parent.data.params["training.epochs"] == "2"  # what actually ran
    deviations = json.loads(parent.data.tags["hyp.deviations"])
    assert {"key": "training.epochs", "registered": 20, "used": 2} in deviations
    # A run with --set deviations is listed beside the evidence, never in it (SPEC §7).
    assert parent.data.tags["hyp.verdict"] == "PENDING"
    # Seeds differ per replicate; the loss was logged per step.
    assert {c.data.params["training.seed"] for c in children} == {"0", "1"}
    history = client.get_metric_history(children[0].info.run_id, "train_loss")
    assert len(history) >= 2
    # The held-out conversations give one eval_loss per epoch, and none of them was trained on; it is
    # logged at the last step of its epoch, on train_loss's step axis, and `epoch` says which epoch ended.
    eval_history = client.get_metric_history(children[0].info.run_id, "eval_loss")
    epochs = client.get_metric_history(children[0].info.run_id, "epoch")
    assert [m.value for m in epochs] == [1, 2] and [m.step for m in eval_history] == [m.step for m in epochs]
    assert eval_history[-1].step == max(m.step for m in history)
    # Each point keeps the time it was measured (not one time for a whole epoch's steps).
    assert len({m.timestamp for m in history}) > len(history) / 2
    # The parent carries the replicates' mean curves, so the run people open has a loss chart.
    on_parent = {key: client.get_metric_history(parent.info.run_id, key) for key in ("train_loss", "eval_loss")}
    assert [m.step for m in on_parent["train_loss"]] == [m.step for m in history]
    assert [m.step for m in on_parent["eval_loss"]] == [m.step for m in eval_history]
    both = [client.get_metric_history(c.info.run_id, "train_loss")[0].value for c in children]
    assert on_parent["train_loss"][0].value == pytest.approx(sum(both) / 2)
    assert parent.data.metrics["dataset.heldout"] == 18 and parent.data.metrics["dataset.heldout_dropped"] == 0
    # The dataset is an MLflow input with a digest of its content.
    inputs = {i.dataset.name: i for i in client.get_run(parent.info.run_id).inputs.dataset_inputs}
    assert inputs["H004-mix"].dataset.digest == parent.data.tags["hyp.dataset.digest"][:16]
    assert {t.key: t.value for t in inputs["H004-heldout"].tags}["mlflow.data.context"] == "evaluation"
    artifacts = {a.path for a in client.list_artifacts(children[0].info.run_id)}
    assert {"answers.json", "adapter"} <= artifacts
    report = (lab / "reports" / "H004.md").read_text()
    for section in ("## Executive summary", "## Dataset composition", "## Training configuration", "## Resources",
                    "## Answers by question and criterion", "## Predictions vs actual", "## Success criteria",
                    "## Comparison with the lineage", "## Next steps", "## Report to João", "## Provenance"):
        assert section in report
    assert "(95% CI" in report or "n=2" in report or "Deviations" in report
    assert (lab / "reports" / "H004-loss.png").stat().st_size > 1000
    verdict = json.loads(hyp(lab, "verdict", "H004", "--json").stdout)
    (attempt,) = verdict["attempts"]
    assert (attempt["units"], attempt["evidence"], verdict["verdict"]) == (2, False, "PENDING")
    assert attempt["score"] == pytest.approx(parent.data.metrics["score"])
    assert "deviates from the registration" in report


def test_a_4bit_run_trains_qlora_on_whatever_device_there_is_and_is_tracked_as_4bit(lab):
    # The user's recipe (NF4 base, LoRA, 8-bit AdamW) through `hyp run`, on the CPU here and in CI.
    proc = hyp(lab, "run", "H004", "--set", "model.quantization=4bit", *SMALL, check=True)
    assert "Report:" in proc.stdout
    assert "kernels" not in proc.stderr  # bitsandbytes' note about an optional package is kept quiet
    client, found = runs(lab, "H004")
    parent = max((r for r in found if r.data.tags["hyp.kind"] == "run"), key=lambda r: r.info.start_time)
    (child,) = [r for r in found if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert parent.info.status == child.info.status == "FINISHED"
    assert parent.data.params["model.quantization"] == child.data.params["model.quantization"] == "4bit"
    assert {"key": "model.quantization", "registered": "none", "used": "4bit"} in json.loads(
        parent.data.tags["hyp.deviations"])
    assert child.data.metrics["final_train_loss"] < 10 and "score" in child.data.metrics


@pytest.mark.parametrize("offline", [{"HF_HUB_OFFLINE": "1"}, {"HF_ENDPOINT": "http://127.0.0.1:9"}],
                         ids=["HF_HUB_OFFLINE", "hub unreachable"])
def test_a_hub_model_that_cannot_be_had_fails_within_seconds_with_one_line(lab, tmp_path, offline):
    model = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    before = len(runs(lab, "H003")[1])
    env = {**os.environ, "HYP_NO_PROGRESS": "1", "HF_HUB_CACHE": str(tmp_path / "empty-cache"), **offline}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "hyp", "run", "H003", "--set", f"model.name={model}"], cwd=lab,
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert time.perf_counter() - started < 20  # transformers alone retries for a minute or more
    (line,) = proc.stderr.strip().splitlines()
    assert model in line and "HF_HUB_OFFLINE" in line
    assert len(runs(lab, "H003")[1]) == before


def test_bad_override_exits_2_and_logs_nothing(lab):
    before = len(runs(lab, "H003")[1])
    proc = hyp(lab, "run", "H003", "--set", "training.epoch=4")
    assert proc.returncode == 2 and "training.epoch" in proc.stderr
    assert len(runs(lab, "H003")[1]) == before


def test_dry_run_trains_and_logs_nothing(lab):
    before = len(runs(lab, "H002")[1])
    proc = hyp(lab, "run", "H002", "--dry-run", check=True)
    assert "nothing was trained" in proc.stdout
    assert len(runs(lab, "H002")[1]) == before


def _wait_for_training(lab: Path, proc, hid: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        ckpt = lab / ".hyp" / "checkpoints" / hid
        # Only the newest checkpoint is kept: epoch-1 may be gone by the next look, epoch-N is there until the end.
        if any(p.name.startswith("epoch-") for p in ckpt.rglob("epoch-*")):
            return
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.2)
    raise AssertionError("training never reached its first checkpoint")


def test_ctrl_c_ends_killed_and_resume_finishes(lab):
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    args = ["run", "H002", "--set", "dataset.curated.select_top=24", "--set", "eval.max_new_tokens=8",
            "--set", "training.epochs=40"]
    proc = subprocess.Popen([sys.executable, "-m", "hyp", *args], cwd=lab, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_training(lab, proc, "H002")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    _, found = runs(lab, "H002")
    assert found and all(r.info.status == "KILLED" for r in found)
    # --resume continues from the checkpoint instead of starting over.
    done = hyp(lab, *args, "--resume", check=True)
    assert "Report:" in done.stdout
    _, found = runs(lab, "H002")
    assert any(r.info.status == "FINISHED" and r.data.tags["hyp.kind"] == "run" for r in found)
    assert not any(r.info.status == "RUNNING" for r in found)


def test_sigkill_leaves_no_running_run_after_next_command(lab):
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "hyp", "run", "H001", "--set", "training.epochs=40",
                             "--set", "eval.max_new_tokens=8"], cwd=lab, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_training(lab, proc, "H001")
    proc.kill()
    proc.wait(timeout=30)
    _, found = runs(lab, "H001")
    assert any(r.info.status == "RUNNING" for r in found)  # what MLflow alone would leave
    hyp(lab, "list", check=True)
    _, found = runs(lab, "H001")
    assert found and all(r.info.status == "KILLED" for r in found)


def test_run_rebuilds_the_index_once_and_writes_the_report_once(lab, monkeypatch):
    """The result-run sequence lives in one place (the ledger): one index rebuild, one report write,
    the report logged once."""
    import hyp.reports.report as report_mod
    import hyp.results.index as index_mod
    from hyp.experiments.run import run_hypothesis
    from hyp.hypotheses.lab import Lab

    counts = {"rebuild": 0, "report": 0}

    def counted(name, real):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(index_mod, "rebuild_index", counted("rebuild", index_mod.rebuild_index))
    real_write = report_mod.write_atomic
    monkeypatch.setattr(report_mod, "write_atomic", lambda path, data: (
        counts.__setitem__("report", counts["report"] + (Path(path).suffix == ".md")), real_write(path, data))[1])
    overrides = [SMALL[i + 1] for i in range(0, len(SMALL), 2)]
    outcome = run_hypothesis(Lab(lab), "H003", overrides=overrides, progress=False)
    assert outcome.report is not None and outcome.report.is_file()
    assert counts["rebuild"] == 1
    assert counts["report"] == 1
    client, _ = runs(lab, "H003")
    parent = client.get_run(outcome.parent_run_id)
    assert parent.data.tags["hyp.verdict"] == outcome.judged.verdict.verdict
    artifacts = [a.path for a in client.list_artifacts(outcome.parent_run_id)]
    assert artifacts.count("H003.md") == 1


def test_until_decided_adds_replicates_up_to_the_limit_and_records_how_it_stopped(lab):
    for bad in (["--until-decided", "--replicates", "2"], ["--max-replicates", "2"],
                ["--until-decided", "--max-replicates", "0"]):
        assert hyp(lab, "run", "H003", *bad, *SMALL).returncode == 2, bad
    proc = hyp(lab, "run", "H003", "--until-decided", "--max-replicates", "2", *SMALL)
    assert proc.returncode == 0, proc.stderr
    client, found = runs(lab, "H003")
    parent = max((r for r in found if r.data.tags["hyp.kind"] == "run"), key=lambda r: r.info.start_time)
    stopped = json.loads(parent.data.tags["hyp.until_decided"])
    children = [r for r in found if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert stopped["max_replicates"] == 2 and stopped["level"] == pytest.approx(0.975)
    assert 1 <= stopped["replicates"] == len(children) <= 2
    assert stopped["decided"] or len(children) == 2  # it stops early only once the primary is decided
