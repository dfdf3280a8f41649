"""`hyp report` on a lab whose store holds 1,000 runs: median wall time of the whole command.

Goal (issue 4): ≤ 2 s median. Two figures: `cold`, the first report after new results for this
hypothesis were logged (as `hyp record` leaves a lab: status index refreshed; the report reads the
hypothesis's runs through MLflow, redraws the plots whose data changed and logs them), and `warm`,
rendering again with the store unchanged (no MLflow, no matplotlib).

The lab has 100 hypotheses in lineages of ten (each the parent of the next) with ten recorded
results each; the report is for the last of a lineage, so it judges nine ancestors. Runs are
written with MlflowClient directly (hyp's own `record` would re-read the store after every run
and take minutes); they carry what `hyp record --scores` logs: the flattened experiment as
params, the per-question metrics, the lock tag and its artifact.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_HYPOTHESES = 100
RUNS_EACH = 10
LINEAGE = 10
REPEATS = 7

HYPOTHESIS = """id: {hid}
title: Benchmark hypothesis {hid}
statement: Scores above seven.
version: v{n}
{parent}experiment:
  model: {{name: "builtin:tiny"}}
  dataset: {{curated: {{path: data/c.json}}}}
  training: {{epochs: {epochs}}}
  eval: {{suite: evals/s.yaml}}
predictions:
  - {{label: Score, metric: score, op: ">=", value: 7}}
  - {{label: Agents, metric: agent_like_responses, op: "<=", value: 1}}
success_criteria:
  primary: {{metric: score, op: ">=", value: 7.0}}
on_failure:
  - {{option: A, title: Train longer, changes: {{experiment.training.epochs: 8}}}}
"""

QUESTIONS = ", ".join(f"{{id: Q{i}, prompt: q{i}}}" for i in range(1, 9))
SUITE = f"name: s\npersona: {{name: x}}\nquestions: [{QUESTIONS}]\n"


def log_result(client, experiment_id: str, lab, hyp, i: int, k: int, start: int) -> str:
    """One finished run of recorded hand scores, as `hyp record --scores` logs it (without the command)."""
    from mlflow.entities import Metric, Param, RunTag

    from hyp.experiments.rubric import evaluation_metrics, manual_score
    from hyp.hypotheses.params import experiment_params
    from hyp.results.ledger import result_tags

    scores = [manual_score(f"Q{q}", 2, (i + k + q) % 3, (i + q) % 3, 2) for q in range(1, 9)]
    run = client.create_run(experiment_id, start_time=start, run_name=hyp.id,
                            tags={"hyp.id": hyp.id, **result_tags(lab, hyp, "record"),
                                  "mlflow.note.content": hyp.statement})
    metrics = [Metric(m, float(v), start, 0) for m, v in evaluation_metrics(scores).items()]
    client.log_batch(run.info.run_id, metrics=metrics,
                     params=[Param(key, str(v)) for key, v in experiment_params(hyp).items()],
                     tags=[RunTag("hyp.verdict", "REJECTED")])
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.artifact_uri


def build_lab(root: Path) -> str:
    from mlflow import MlflowClient

    from hyp.hypotheses.lab import Lab
    from hyp.hypotheses.lock import canonical, locked_content
    from hyp.hypotheses.scaffold import init_lab
    from hyp.store import open_tracker

    init_lab(root)
    (root / "data" / "c.json").write_text('[{"conversations": [{"from": "human", "value": "hi"}]}]')
    (root / "evals" / "s.yaml").write_text(SUITE)
    lab = Lab(root)
    tracker = open_tracker(lab)  # creates the experiment with the lab's artifact root
    client = MlflowClient(tracking_uri=lab.tracking_uri)
    now = int(time.time() * 1000)
    last = ""
    for i in range(N_HYPOTHESES):
        hid = f"H{i + 1:03d}"
        parent = f"parent: H{i:03d}\n" if i % LINEAGE else ""
        (root / "hypotheses" / f"{hid}.yaml").write_text(
            HYPOTHESIS.format(hid=hid, n=i, parent=parent, epochs=3 + i % 4))
        hyp = lab.load(hid)
        for k in range(RUNS_EACH):
            artifacts = log_result(client, tracker.experiment_id, lab, hyp, i, k, now + i * RUNS_EACH + k)
            if k == 0:  # the first results lock the hypothesis; hyp reads the locked content back
                folder = Path(artifacts.removeprefix("file://")) / "hyp"
                folder.mkdir(parents=True)
                (folder / "locked.json").write_text(canonical(locked_content(hyp, lab.lock_inputs(hyp))))
        if i % LINEAGE == LINEAGE - 1:
            last = hid
    return last


def new_results(root: Path, hid: str, results: int = REPEATS):
    """A callable that logs one more result for `hid` and refreshes the index, as `hyp record` leaves a lab."""
    from mlflow import MlflowClient

    from hyp.hypotheses.lab import Lab
    from hyp.results.index import rebuild_index
    from hyp.store import open_tracker

    lab = Lab(root)
    tracker = open_tracker(lab)
    client = MlflowClient(tracking_uri=lab.tracking_uri)
    count = iter(range(RUNS_EACH, RUNS_EACH + results))

    def log() -> None:
        k = next(count)
        log_result(client, tracker.experiment_id, lab, lab.load(hid), k, k, int(time.time() * 1000))
        rebuild_index(lab, tracker)

    return log


def median_seconds(cmd: list[str], cwd: Path, before=None) -> float:
    times = []
    for _ in range(REPEATS):
        if before:
            before()
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    # SQLite commits cost an fsync each; in memory the 1,000 runs are written in about 25 s, not 80.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        root = Path(tmp) / "lab"
        started = time.perf_counter()
        hid = build_lab(root)
        built = time.perf_counter() - started
        report = [sys.executable, "-m", "hyp", "report", hid]
        subprocess.run(report, cwd=root, check=True, capture_output=True)  # the first one builds the index
        cold = median_seconds(report, root, before=new_results(root, hid))
        warm = median_seconds(report, root)
        text = (root / "reports" / f"{hid}.md").read_text()
        assert "Comparison with the lineage" in text and text.count("(ancestor)") == LINEAGE - 1, text
        verdict = json.loads(subprocess.run([sys.executable, "-m", "hyp", "verdict", hid, "--json"], cwd=root,
                                            check=True, capture_output=True, text=True).stdout)
        assert verdict["observations"]["score"]["n"] == 1 and verdict["result_run_id"] in text
        mlflow = median_seconds([sys.executable, "-c", "import mlflow"], root)
    result = {"runs": N_HYPOTHESES * RUNS_EACH, "build_store_s": built, "hyp_report_cold_s": cold,
              "hyp_report_warm_s": warm, "import_mlflow_s": mlflow}
    for k, v in result.items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")
    return result


if __name__ == "__main__":
    main()
