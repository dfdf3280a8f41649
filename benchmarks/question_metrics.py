"""Per-question figures (`Q1.total`, `Q1.agent`, ...) as run metrics, or not: what they cost MLflow's runs table.

    python benchmarks/question_metrics.py [--runs N] [--repeats N]

Issue 19 asks whether per-question values belong in metrics at all. Figures, all from this one run:

1. One real `hyp run H004` on the demo lab (1 epoch): how many metrics its replicate child and its
   parent carry, and how many of the replicate's are per question (`hyp.experiments.run.per_question`).
2. Two SQLite stores of N runs (default 300), every run carrying that replicate's metrics, params and
   tags: one with the per-question metrics, one without them.
3. Loading the runs table's first page (100 runs, newest first, as MLflow's UI asks) from each store,
   alternated so machine load hits both alike: through a real `mlflow server` (the UI's own
   POST ajax-api/2.0/mlflow/runs/search, and the response's size) and with `MlflowClient.search_runs`.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HID = "H004"
PAGE = 100


def real_run(tmp: Path) -> tuple[dict, dict, dict, dict, list[str]]:
    """(replicate metrics, replicate params, replicate tags, parent metrics, the suite's question ids) of a real run."""
    from hyp.hypotheses.lab import Lab
    from hyp.hypotheses.scaffold import init_lab
    from hyp.store import open_tracker

    lab = init_lab(tmp / "lab", example="persona")
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    subprocess.run([sys.executable, "-m", "hyp", "run", HID, "--set", "experiment.training.epochs=1"], cwd=lab,
                   env=env, check=True, capture_output=True)
    from mlflow import MlflowClient

    tracker = open_tracker(Lab(lab))
    client = MlflowClient(tracking_uri=tracker.uri)
    runs = {r.kind: r for r in tracker.runs(HID)}
    child, parent = client.get_run(runs["replicate"].run_id), client.get_run(runs["run"].run_id)
    questions = sorted({key.split(".")[0] for key in child.data.metrics if key[:1] == "Q" and "." in key})
    data = child.data
    return dict(data.metrics), dict(data.params), dict(data.tags), dict(parent.data.metrics), questions


def fill_store(path: Path, runs: int, metrics: dict, params: dict, tags: dict) -> str:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    experiment = client.create_experiment("persona")
    now = int(time.time() * 1000)
    for i in range(runs):
        run = client.create_run(experiment, run_name=f"H{i:03d}-r0", start_time=now + i,
                                tags={k: v for k, v in tags.items() if k != "mlflow.runName"})
        client.log_batch(run.info.run_id, metrics=[Metric(k, v + i * 1e-3, now + i, 0) for k, v in metrics.items()],
                         params=[Param(k, v) for k, v in params.items()], tags=[])
        client.set_terminated(run.info.run_id)
    return experiment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(store: Path, artifacts: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{store}",
                             "--default-artifact-root", artifacts.as_uri(), "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            opener.open(f"{base}/health", timeout=5).read()
            return proc, base
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"mlflow server on {store} did not come up")


def page_request(base: str, experiment: str) -> tuple[float, int, int]:
    """(seconds, response bytes, runs) for the runs table's first page, as MLflow's UI asks for it."""
    body = json.dumps({"experiment_ids": [experiment], "max_results": PAGE, "order_by": ["attributes.start_time DESC"],
                       "run_view_type": "ACTIVE_ONLY"}).encode()
    request = urllib.request.Request(f"{base}/ajax-api/2.0/mlflow/runs/search", data=body,
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    started = time.perf_counter()
    with opener.open(request, timeout=120) as r:
        data = r.read()
    return time.perf_counter() - started, len(data), len(json.loads(data)["runs"])


def client_search(store: Path, experiment: str) -> float:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{store}")
    started = time.perf_counter()
    found = client.search_runs([experiment], max_results=PAGE, order_by=["attributes.start_time DESC"])
    assert len(found) == PAGE
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        metrics, params, tags, parent_metrics, questions = real_run(tmp)
        ids = set(questions)
        per_question = {k for k in metrics if any(part in ids for part in k.split(".")[:-1])}
        stores = {"with": tmp / "with.db", "without": tmp / "without.db"}
        experiments = {
            "with": fill_store(stores["with"], args.runs, metrics, params, tags),
            "without": fill_store(stores["without"], args.runs,
                                  {k: v for k, v in metrics.items() if k not in per_question}, params, tags),
        }
        times: dict[str, list[float]] = {f"{w}_{how}": [] for w in stores for how in ("server", "client")}
        size: dict[str, int] = {}
        servers = {w: serve(stores[w], tmp / f"artifacts-{w}") for w in stores}
        try:
            for w, (_, base) in servers.items():
                page_request(base, experiments[w])  # each server's first request warms its caches
            for _ in range(args.repeats):
                for w, (_, base) in servers.items():
                    seconds, size[w], count = page_request(base, experiments[w])
                    assert count == PAGE
                    times[f"{w}_server"].append(seconds)
                    times[f"{w}_client"].append(client_search(stores[w], experiments[w]))
        finally:
            for proc, _ in servers.values():
                os.killpg(proc.pid, 15)
                proc.wait(timeout=30)
    result = {
        "runs": args.runs, "page": PAGE, "repeats": args.repeats,
        "replicate_metrics": len(metrics), "replicate_per_question_metrics": len(per_question),
        "parent_metrics": len(parent_metrics),
        "parent_per_question_metrics": sum(1 for k in parent_metrics if any(p in ids for p in k.split(".")[:-1])),
        "page_bytes_with": size["with"], "page_bytes_without": size["without"],
        **{f"{k}_s": statistics.median(v) for k, v in times.items()},
    }
    result["server_ratio"] = result["with_server_s"] / result["without_server_s"]
    result["client_ratio"] = result["with_client_s"] / result["without_client_s"]
    result["bytes_ratio"] = size["with"] / size["without"]
    print(f"replicate run: {len(metrics)} metrics, {len(per_question)} of them per question ({len(questions)} "
          f"questions); parent run: {len(parent_metrics)} metrics, "
          f"{result['parent_per_question_metrics']} per question")
    print(f"runs table, first {PAGE} of {args.runs} runs through mlflow server: "
          f"{result['with_server_s']:.3f} s with per-question metrics, {result['without_server_s']:.3f} s without "
          f"({result['server_ratio']:.2f}x; {size['with']:,} against {size['without']:,} bytes)")
    print(f"MlflowClient.search_runs, same page: {result['with_client_s']:.3f} s with, "
          f"{result['without_client_s']:.3f} s without ({result['client_ratio']:.2f}x); medians of {args.repeats}")
    return result


if __name__ == "__main__":
    main()
