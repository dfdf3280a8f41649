"""A team's tracking server holding 1,000 runs: `hyp list`, `show`, `verdict` and `compare` against it,
beside plain MLflow reading the same runs (issue 15, SPEC §9).

The server is what a team runs: `mlflow server` with a fresh PostgreSQL database as its backend store
and proxied artifacts. The lab points `[tracking] uri` at it. 100 hypotheses hold 10 recorded results
each (40 metrics a run, as a record of 8 questions logs). Figures are medians of REPEATS runs of each
command in a new process, as a user runs it:

- warm: the store has not changed since the last hyp command (one request for the change token);
- after a write: another lab has just recorded a result (the index is read again over REST);
- `mlflow runs list` (MLflow's CLI) and a script calling `MlflowClient.search_runs` for every run of
  the experiment: what reading those runs costs without hyp's index. The ratio is taken in this run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from list_speed import HYPOTHESIS  # benchmarks/ is on the path, as benchmarks/run runs each one

HYPOTHESES, RUNS_EACH, REPEATS = 100, 10, 5
PG = os.environ.get("HYP_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")



def start_server(root: Path) -> tuple[subprocess.Popen, str, str]:
    import psycopg2

    name = f"hyp_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(f"{PG}/postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    admin.close()
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"{PG}/{name}",
                             "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true",
                                 "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/health", timeout=5).read()
            return proc, base, name
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("mlflow server did not come up")


def drop(name: str) -> None:
    import psycopg2

    admin = psycopg2.connect(f"{PG}/postgres")
    admin.autocommit = True
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def build_lab(root: Path, server: str) -> str:
    """100 hypotheses × 10 results on the server. The first of each is a real `hyp record` (it takes the
    lock, logs the locked copy and pins it); the other nine are written with MlflowClient's batch calls
    and the same tags (hyp's own tracker makes more, smaller requests): only the reading is measured."""
    import contextlib
    import io

    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    from hyp.cli.main import main as hyp_main
    from hyp.hypotheses.lab import Lab
    from hyp.hypotheses.params import experiment_params
    from hyp.hypotheses.scaffold import init_lab
    from hyp.results.ledger import result_tags
    from hyp.store import open_tracker

    init_lab(root)
    toml = root / "hyp.toml"
    toml.write_text(toml.read_text().replace('"sqlite:///.hyp/mlflow.db"', f'"{server}"'))
    (root / "data" / "c.json").write_text('[{"conversations": [{"from": "human", "value": "hi"}]}]')
    (root / "evals" / "s.yaml").write_text("name: s\npersona: {name: x}\nquestions: [{id: Q1, prompt: hi}]\n")
    lab = Lab(root)
    tracker = open_tracker(lab)  # creates the experiment as hyp does
    client, experiment = MlflowClient(tracking_uri=server), tracker.experiment_id
    for i in range(HYPOTHESES):
        hid = f"H{i + 1:03d}"
        (root / "hypotheses" / f"{hid}.yaml").write_text(HYPOTHESIS.format(hid=hid, n=i))
        hyp = lab.load(hid)
        tags = {"hyp.id": hid, "hyp.kind": "record", **result_tags(lab, hyp, "record")}
        params = [Param(k, str(v)) for k, v in experiment_params(hyp).items()]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            hyp_main(["--lab", str(root), "record", hid, "--metric", f"score={5 + i % 50 / 10}"])
        for j in range(1, RUNS_EACH):
            run = client.create_run(experiment, run_name=hid, tags=tags)
            now = int(time.time() * 1000)
            metrics = [Metric("score", 5 + (i * RUNS_EACH + j) % 50 / 10, now, 0), Metric("points", 40, now, 0)]
            metrics += [Metric(f"Q{q}.{c}", 1, now, 0) for q in range(1, 9) for c in ("agent", "factual",
                                                                                      "personality", "complete")]
            metrics += [Metric(f"n{k}", k, now, 0) for k in range(6)]
            client.log_batch(run.info.run_id, metrics=metrics, params=params)
            client.set_terminated(run.info.run_id)
    tracker.set_tags(run.info.run_id, {"hyp.note": "built"})  # a hyp write: renews the change token
    return experiment


def median(cmd: list[str], cwd: Path, before=None, env: dict | None = None) -> float:
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=env)  # the index / connections, once
    times = []
    for _ in range(REPEATS):
        if before:
            before()
        started = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


SEARCH = ("import sys; from mlflow import MlflowClient; c = MlflowClient(sys.argv[1]); "
          "runs = c.search_runs([sys.argv[3]], max_results=50000); assert len(runs) >= int(sys.argv[2])")


def main(argv: list[str] | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        proc, server, db = start_server(tmp)
        try:
            root = tmp / "lab"
            started = time.perf_counter()
            experiment = build_lab(root, server)
            print(f"built {HYPOTHESES * RUNS_EACH} runs in {time.perf_counter() - started:.0f} s")
            hyp = [sys.executable, "-m", "hyp"]
            other = tmp / "other"  # a colleague's lab on the same server, for "after a write"
            subprocess.run([*hyp, "init", str(other)], check=True, capture_output=True)
            toml = other / "hyp.toml"
            toml.write_text(toml.read_text().replace('"sqlite:///.hyp/mlflow.db"', f'"{server}"'))
            (other / "hypotheses" / "H001.yaml").write_text((root / "hypotheses" / "H001.yaml").read_text())
            for name in ("data", "evals"):
                for f in (root / name).iterdir():
                    (other / name / f.name).write_bytes(f.read_bytes())

            def colleague_records() -> None:
                subprocess.run([*hyp, "record", "H001", "--metric", "score=7.5"], cwd=other, check=True,
                               capture_output=True)

            mlflow_env = {**os.environ, "MLFLOW_TRACKING_URI": server, "MLFLOW_DISABLE_TELEMETRY": "true"}
            result = {
                "runs": HYPOTHESES * RUNS_EACH,
                "list_s": median([*hyp, "list", "--json"], root),
                "show_s": median([*hyp, "show", "H001", "--json"], root),
                "verdict_s": median([*hyp, "verdict", "H002", "--json"], root),
                "compare_s": median([*hyp, "compare", "H001", "H002", "--json"], root),
                "list_after_write_s": median([*hyp, "list", "--json"], root, before=colleague_records),
                "mlflow_runs_list_s": median([sys.executable, "-m", "mlflow", "runs", "list", "--experiment-id",
                                              experiment], root, env=mlflow_env),
                "search_runs_s": median([sys.executable, "-c", SEARCH, server, str(HYPOTHESES * RUNS_EACH),
                                         experiment], root, env=mlflow_env),
            }
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
            drop(db)
    result["ratio_list_to_search_runs"] = result["list_s"] / result["search_runs_s"]
    result["ratio_list_after_write_to_search_runs"] = result["list_after_write_s"] / result["search_runs_s"]
    for k, v in result.items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
