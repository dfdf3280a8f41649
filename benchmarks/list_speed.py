"""`hyp list` on a lab of 100 hypotheses with results: median wall time, against `import mlflow`.

Goal (issue 2): ≤ 0.3 s median. Both timings are taken in this one run, so the ratio holds
across machines even when the absolute numbers do not.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_HYPOTHESES = 100
REPEATS = 7

HYPOTHESIS = """id: {hid}
title: Benchmark hypothesis {hid}
statement: Scores above seven.
version: v{n}
experiment:
  model: {{name: "builtin:tiny"}}
  dataset: {{curated: {{path: data/c.json}}}}
  eval: {{suite: evals/s.yaml}}
predictions:
  - {{label: Score, metric: score, op: ">=", value: 7}}
success_criteria:
  primary: {{metric: score, op: ">=", value: 7.0}}
"""


def build_lab(root: Path) -> None:
    from hyp.hypotheses.lab import Lab
    from hyp.hypotheses.params import experiment_params
    from hyp.hypotheses.scaffold import init_lab
    from hyp.results.index import rebuild_index
    from hyp.results.ledger import result_tags
    from hyp.store import open_tracker
    from hyp.store.base import tracked_run

    init_lab(root)
    (root / "data" / "c.json").write_text('[{"conversations": [{"from": "human", "value": "hi"}]}]')
    (root / "evals" / "s.yaml").write_text("name: s\npersona: {name: x}\nquestions: [{id: Q1, prompt: hi}]\n")
    lab = Lab(root)
    tracker = open_tracker(lab)
    for i in range(N_HYPOTHESES):
        hid = f"H{i + 1:03d}"
        (root / "hypotheses" / f"{hid}.yaml").write_text(HYPOTHESIS.format(hid=hid, n=i))
        hyp = lab.load(hid)
        tags = result_tags(lab, hyp, "record")
        with tracked_run(tracker, hypothesis_id=hid, kind="record", name=hid, tags=tags) as r:
            tracker.log_params(r, experiment_params(hyp))
            tracker.log_metrics(r, {"score": 5 + (i % 50) / 10, "points": 40})
    rebuild_index(lab, tracker)


def median_seconds(cmd: list[str], cwd: Path) -> float:
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lab"
        build_lab(root)
        hyp_list = median_seconds([sys.executable, "-m", "hyp", "list", "--json"], root)
        mlflow = median_seconds([sys.executable, "-c", "import mlflow"], root)
        python = median_seconds([sys.executable, "-c", "pass"], root)
    result = {"hyp_list_s": hyp_list, "import_mlflow_s": mlflow, "python_start_s": python,
              "ratio_list_to_import_mlflow": hyp_list / mlflow}
    for k, v in result.items():
        print(f"{k}: {v:.3f}")
    return result


if __name__ == "__main__":
    main()
