"""`hyp sweep` end to end on a copy of the demo lab: real Optuna, real MLflow, real training of builtin:tiny."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import H003_YAML, fresh_database, hypothesis_text, make_lab, run_hyp

pytestmark = pytest.mark.slow

# A sweep small enough for a test: 16 examples, short sequences, 8 generated tokens per answer.
H005 = """\
id: H005
title: A small sweep of H004's recipe
statement: Some learning rate and epoch count make builtin:tiny answer in persona.
parent: H004
experiment:
  model: {name: "builtin:tiny"}
  dataset:
    curated: {path: data/curated.json, select_top: 16}
    heldout: {path: data/heldout.json}
    synthetic: {path: data/synthetic.json, ratio: 0.0}
  training: {epochs: 3, batch_size: 2, grad_accum: 1, learning_rate: 5.0e-3, max_seq_length: 96}
  eval: {suite: evals/personality.yaml, max_new_tokens: 8, temperature: 0.0}
success_criteria:
  primary: {metric: score, op: ">=", value: 8.0}
sweep:
  trials: 3
  objective: {metric: score, direction: maximize}
  space:
    experiment.training.epochs: {type: int, low: 2, high: 3}
    experiment.training.learning_rate: {type: float, low: 1.0e-5, high: 1.0e-2, log: true}
    experiment.dataset.synthetic.ratio: {type: float, low: 0.0, high: 0.3}
  pruner: median
"""

# Optuna names a parameter as MLflow does (`training.epochs`); the sweep block writes `experiment.training.epochs`.
GOOD = {"training.epochs": 3, "training.learning_rate": 5e-3, "dataset.synthetic.ratio": 0.0}
# A learning rate 500× too small barely moves the held-out loss: the median pruner stops it at epoch 2.
HOPELESS = {**GOOD, "training.learning_rate": 1e-5}


def demo_lab(root: Path, builtin_cache: Path) -> Path:
    # builtin_cache: the session's one build of builtin:tiny, which every trial finds in the user cache.
    assert run_hyp("init", str(root), "--example", "persona").code == 0
    (root / "hypotheses" / "H005.yaml").write_text(H005)
    (root / ".hyp").mkdir(exist_ok=True)  # where plain Optuna creates the study, before any hyp command
    return root


def sweep(lab: Path, *args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hyp", "--lab", str(lab), "sweep", "H005", *args],
                          capture_output=True, text=True, env={**sweep_env(), **(env or {})}, timeout=300, **kw)


def sweep_env() -> dict:
    # One thread a trial: the CI machine has 2 cores, and oversubscribed threads spin.
    return {**os.environ, "HYP_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1"}


def storage(lab: Path) -> str:
    return f"sqlite:///{lab}/.hyp/optuna.db"


def runs(lab: Path, study: str) -> list:
    """The study's sweep run and its trial runs, read with a plain MlflowClient."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{lab}/.hyp/mlflow.db")
    experiment = client.get_experiment_by_name("persona")
    return client.search_runs([experiment.experiment_id], f"tags.`hyp.study` = '{study}'")


@pytest.fixture(scope="module")
def demo(tmp_path_factory, builtin_cache) -> Path:
    return demo_lab(tmp_path_factory.mktemp("sweep") / "lab", builtin_cache)


@pytest.fixture(scope="module")
def swept(demo):
    """H005 swept once: two good configurations and a hopeless one, queued with plain Optuna."""
    import optuna

    lab = demo
    study = optuna.create_study(study_name="H005", storage=storage(lab), direction="maximize")
    for params in (GOOD, {**GOOD, "training.learning_rate": 4e-3}, HOPELESS):
        study.enqueue_trial(params)
    proc = sweep(lab, env={"HYP_NO_PROGRESS": "", "HYP_PROGRESS_EVERY": "0.2"})  # lines however short the trial
    assert proc.returncode == 0, proc.stderr
    from hyp.hypotheses.lab import Lab
    from hyp.results.index import read_index

    # The sweep leaves the status index fresh, as `hyp run` does: the next `hyp list` reads no store.
    assert read_index(Lab(lab)) is not None
    return lab, proc


def test_the_study_reads_with_plain_optuna(swept):
    import optuna

    lab, _ = swept
    study = optuna.load_study(study_name="H005", storage=storage(lab))

    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert study.user_attrs["hyp.id"] == "H005"
    assert study.best_trial.number in (0, 1)
    assert study.trials[2].params["training.learning_rate"] == pytest.approx(1e-5)
    assert study.metric_names == ["score"]  # optuna-dashboard's objective axis says what it is
    for t in study.trials:
        assert t.constraints["vram_gb"] <= 0  # every trial carries its VRAM constraint, all feasible here
        assert t.user_attrs["mlflow_run_id"]
    # The pruner saw the held-out loss, negated so that higher is better like the score.
    good, hopeless = study.trials[0].intermediate_values, study.trials[2].intermediate_values
    assert sorted(good) == [1, 2, 3] and sorted(hopeless) == [1, 2]
    assert hopeless[2] < good[2] < 0
    assert study.trials[2].user_attrs["epochs_trained"] == 2


def test_trials_are_mlflow_children_of_the_sweep_run(swept):
    import optuna

    lab, _ = swept
    study = optuna.load_study(study_name="H005", storage=storage(lab))
    found = runs(lab, "H005")
    parents = [r for r in found if r.data.tags["hyp.kind"] == "sweep"]
    trials = {r.data.tags["hyp.trial"]: r for r in found if r.data.tags["hyp.kind"] == "trial"}

    assert len(parents) == 1 and sorted(trials) == ["0", "1", "2"]
    parent = parents[0]
    assert parent.info.status == "FINISHED" and parent.data.tags["hyp.lock"]
    assert parent.info.run_name == "H005-sweep" and trials["2"].info.run_name == "H005-t2"
    assert parent.data.params["sweep.pruner"] == "median"
    assert parent.data.metrics["trials.complete"] == 2 and parent.data.metrics["trials.pruned"] == 1
    assert parent.data.tags["hyp.best_trial"] == str(study.best_trial.number)
    # The sweep's row shows the best trial's score in the score column, and no registered value of a
    # searched key that no trial needed to use.
    assert parent.data.metrics["score"] == study.best_value and "best.score" not in parent.data.metrics
    assert not {"training.epochs", "training.learning_rate", "dataset.synthetic.ratio"} & set(parent.data.params)
    assert parent.data.params["training.batch_size"] == "2"  # what every trial shares
    assert json.loads(parent.data.tags["hyp.best_params"]) == study.best_trial.params  # one set of names
    for number, run in trials.items():
        trial = study.trials[int(number)]
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.info.run_id == trial.user_attrs["mlflow_run_id"]
        for name, value in trial.params.items():  # the same names in Optuna and MLflow
            assert float(run.data.params[name]) == pytest.approx(value)
    for number in ("0", "1"):
        run = trials[number]
        assert run.info.status == "FINISHED"
        assert run.data.metrics["score"] == study.trials[int(number)].value and "objective" not in run.data.metrics
    pruned = trials["2"]
    assert pruned.info.status == "KILLED"
    assert pruned.data.tags["hyp.trial.state"] == "pruned"
    assert "median pruner after epoch 2 of 3" in pruned.data.tags["hyp.pruned"]
    assert not any(r.info.status == "RUNNING" for r in found)


def test_the_summary_says_what_was_found_and_what_it_cost(swept):
    _, proc = swept

    assert "Best feasible trials (maximize score)" in proc.stdout
    assert "3 trials: 2 complete, 0 infeasible, 1 pruned, 0 failed" in proc.stdout
    # 3 + 3 + 2 epochs trained of 9 planned: the pruned trial's last epoch was saved.
    assert "Compute: 8 trial-epochs spent of 9 planned; saved 1 (11%): 1 by pruning" in proc.stdout
    # Between "trial started" and "trial ended", lines say how it goes (every 0.2 s here).
    assert re.search(r"^trial \d: training epoch \d/\d · step \d+ · loss [\d.]+ · \d+ s$", proc.stdout, re.M)
    assert re.search(r"^trial \d: evaluating 8 questions × 1 sample\(s\) · \d+ s$", proc.stdout, re.M)


def test_sweeping_a_full_study_again_runs_nothing(swept):
    lab, _ = swept

    again = sweep(lab)

    assert again.returncode == 0, again.stderr
    assert "study 'H005' already holds 3 trials; pass a larger --trials to add more" in again.stdout
    assert "3 trials: 2 complete, 0 infeasible, 1 pruned, 0 failed" in again.stdout
    assert len([r for r in runs(lab, "H005") if r.data.tags["hyp.kind"] == "sweep"]) == 1  # no new sweep run


def test_the_report_gets_the_summary_and_optuna_plots(swept, tmp_path):
    from hyp.hypotheses.lab import Lab
    from hyp.sweeps.summary import sweep_summary

    lab, _ = swept

    summary = sweep_summary(Lab(lab), "H005", plots_dir=tmp_path)

    assert [r.number for r in summary.best] == sorted((0, 1), key=lambda n: -summary.trials[n].value)
    assert summary.counts["pruned"] == 1 and summary.epochs_saved_by_pruning == 1
    assert set(summary.plots) == {"history", "importances", "parallel"}
    for path in summary.plots.values():
        assert path.parent == tmp_path and path.read_bytes()[:4] == b"\x89PNG"
    assert sweep_summary(Lab(lab), "H004") is None  # no sweep of H004 ran


def test_trials_do_not_count_as_the_hypothesis_result_but_take_the_lock(swept):
    lab, _ = swept

    verdict = run_hyp("verdict", "H005", "--json", lab=lab).json

    # Trials try other values than the registered ones; only `hyp run` (or `record`) tests the hypothesis.
    assert verdict["verdict"] == "PENDING" and verdict["observations"] == {}
    assert verdict["lock"]["sha256"]  # but the sweep logged results, so the registered parts are locked


def test_new_hypothesis_from_a_trial_carries_its_values(swept):
    lab, _ = swept
    import optuna

    trial = optuna.load_study(study_name="H005", storage=storage(lab)).trials[1]

    result = run_hyp("new", "H006", "--from-trial", "H005:1", lab=lab)

    assert result.code == 0, result.err
    from hyp.hypotheses.lab import Lab

    written = Lab(lab).load("H006")
    assert written.parent == "H005"
    assert written.experiment.training.learning_rate == trial.params["training.learning_rate"]
    assert written.experiment.training.epochs == trial.params["training.epochs"]
    assert written.rationale["training.learning_rate"] == "sweep trial H005:1"
    pruned = run_hyp("new", "H007", "--from-trial", "H005:2", lab=lab)
    assert pruned.code == 2 and "trial 2 is PRUNED" in pruned.err
    assert not (lab / "hypotheses" / "H007.yaml").exists()


def test_a_limit_nothing_fits_ends_in_seconds_with_every_trial_infeasible(swept):
    import optuna

    lab, _ = swept
    started = time.monotonic()

    proc = sweep(lab, "--study", "tight", "--vram-limit", "0.05", "--trials", "4")

    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 30  # process start and MLflow included; no trial is launched
    trials = optuna.load_study(study_name="tight", storage=storage(lab)).trials
    # One meaning in both tools: stopped on purpose with no usable result, like a pruned trial (none FAILED).
    assert [t.state.name for t in trials] == ["PRUNED"] * 4
    assert all(t.constraints["vram_gb"] > 0 and t.system_attrs["constraints"] == [t.constraints["vram_gb"]]
               for t in trials)
    found = [r for r in runs(lab, "tight") if r.data.tags["hyp.kind"] == "trial"]
    assert len(found) == 4
    assert all(r.info.status == "KILLED" and "not launched" in r.data.tags["hyp.infeasible"] for r in found)
    assert sorted(r.info.run_name for r in found) == [f"H005-tight-t{n}" for n in range(4)]  # not H005's t0-t3
    (parent,) = [r for r in runs(lab, "tight") if r.data.tags["hyp.kind"] == "sweep"]
    assert parent.info.run_name == "H005-sweep-tight" and "score" not in parent.data.metrics
    assert not any("train_seconds" in r.data.metrics for r in found)  # nothing trained
    assert "No feasible trial completed." in proc.stdout
    planned = sum(t.user_attrs["epochs_planned"] for t in trials)
    assert f"saved {planned} (100%): 0 by pruning, {planned} by not launching" in proc.stdout


@contextlib.contextmanager
def optuna_dashboard(url: str):
    """optuna-dashboard's own WSGI app on the study storage, served on loopback from a thread."""
    import socketserver
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from optuna_dashboard import wsgi

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class Threaded(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True

    server = make_server("127.0.0.1", 0, wsgi(url), server_class=Threaded, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def dashboard_study(base: str, name: str) -> dict:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    studies = json.loads(opener.open(f"{base}/api/studies", timeout=30).read())["study_summaries"]
    (study_id,) = [s["study_id"] for s in studies if s["study_name"] == name]
    return {"id": study_id, **json.loads(opener.open(f"{base}/api/studies/{study_id}", timeout=30).read())}


def test_optuna_dashboard_crowns_a_feasible_trial_names_the_objective_and_marks_the_infeasible(swept, tmp_path):
    """Issue 19, item 1, read through optuna-dashboard 0.21's own API (its best-trial panel uses the
    storage's best trial, which ignores constraints; its charts read the `constraints` list)."""
    import optuna

    lab, _ = swept
    nothing_fits = sweep(lab, "--study", "nothing-fits", "--vram-limit", "0.05", "--trials", "2")
    assert nothing_fits.returncode == 0, nothing_fits.stderr

    with optuna_dashboard(storage(lab)) as base:
        swept_study, infeasible = dashboard_study(base, "H005"), dashboard_study(base, "nothing-fits")

    best = optuna.load_study(study_name="H005", storage=storage(lab)).best_trial
    assert [t["number"] for t in swept_study["best_trials"]] == [best.number]
    assert swept_study["objective_names"] == ["score"]
    assert infeasible["best_trials"] == []  # no "Best Trial: -inf" for a study where nothing fits
    assert infeasible.get("objective_names") == ["score"]
    assert {t["state"] for t in infeasible["trials"]} == {"Pruned"}
    assert all(t["constraints"] and t["constraints"][0] > 0 for t in infeasible["trials"])
    # The page itself, in Chromium (required in CI): tests/sweeps/test_dashboard_page.py.


def test_sqlite_workers_claim_exactly_the_studys_trials(demo):
    import optuna

    # Refused configurations cost no training, so workers race for trials as fast as SQLite lets them.
    proc = sweep(demo, "--study", "race", "--workers", "2", "--trials", "8", "--vram-limit", "0.05")

    assert proc.returncode == 0, proc.stderr
    trials = optuna.load_study(study_name="race", storage=storage(demo)).trials
    assert [t.number for t in trials] == list(range(8)) and {t.state.name for t in trials} == {"PRUNED"}
    found = [r for r in runs(demo, "race") if r.data.tags["hyp.kind"] == "trial"]
    assert sorted(int(r.data.tags["hyp.trial"]) for r in found) == list(range(8))  # one MLflow run each


def test_ctrl_c_ends_the_sweep_and_its_trial_killed(swept):
    import optuna

    lab, _ = swept
    proc = subprocess.Popen([sys.executable, "-m", "hyp", "--lab", str(lab), "sweep", "H005", "--study", "stopped"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sweep_env(),
                            start_new_session=True)
    try:
        wait_for(lambda: any(t.intermediate_values for t in optuna_trials(storage(lab), "stopped")), proc)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    assert proc.returncode == 130, err
    trials = optuna.load_study(study_name="stopped", storage=storage(lab)).trials
    assert [t.state.name for t in trials] == ["FAIL"] and trials[0].user_attrs["hyp.stopped"] == "interrupted"
    statuses = {r.data.tags["hyp.kind"]: r.info.status for r in runs(lab, "stopped")}
    assert statuses == {"sweep": "KILLED", "trial": "KILLED"}


def optuna_trials(url: str, study: str) -> list:
    import optuna

    try:
        return optuna.load_study(study_name=study, storage=url).trials
    except KeyError:
        return []


def wait_for(condition, proc=None, timeout: float = 120) -> None:
    """Until `condition()` holds; fails if `proc` ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc is None or proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


# --- bad input: one line naming file, line and field; exit 2; nothing written --------------------------

SWEEP_BLOCK = """
sweep:
  trials: 2
  space:
{param}
"""


@pytest.mark.parametrize("param, message", [
    ("    experiment.training.learning_rat: {type: float, low: 1.0e-4, high: 1.0e-3}",
     "H003.yaml:{line}: sweep.space.experiment.training.learning_rat: unknown key"),
    ("    training.epochs: {type: int, low: 2, high: 4}",
     "H003.yaml:{line}: sweep.space.training.epochs: only experiment values can be searched"),
    ("    experiment.training.epochs: {type: int, low: 0, high: 4}",
     "H003.yaml:{line}: sweep.space.experiment.training.epochs: Input should be greater than or equal to 1 (at 0)"),
    ("    experiment.training.learning_rate: {type: float, low: 0.0, high: 1.0e-3, log: true}",
     "H003.yaml:{line}: sweep.space.experiment.training.learning_rate: a log-scaled parameter needs 'low' > 0"),
    ("    experiment.training.epochs: {type: int, low: 6, high: 3}",
     "H003.yaml:{line}: sweep.space.experiment.training.epochs: a int parameter needs 'low' <= 'high'"),
])
def test_a_bad_space_exits_2_naming_the_line_and_writes_nothing(tmp_path, param, message):
    text = hypothesis_text("H003", H003_YAML) + SWEEP_BLOCK.format(param=param)
    lab = make_lab(tmp_path / "lab", {"H003": text})
    line = text.splitlines().index(param) + 1

    result = run_hyp("sweep", "H003", lab=lab)

    assert result.code == 2
    assert len(result.err_lines) == 1 and f"/hypotheses/{message.format(line=line)}" in result.err_lines[0]
    assert not (lab / ".hyp").exists()


def test_an_unreachable_storage_exits_2_and_writes_nothing(tmp_path):
    text = hypothesis_text("H003", H003_YAML) + SWEEP_BLOCK.format(
        param="    experiment.training.epochs: {type: int, low: 2, high: 4}")
    lab = make_lab(tmp_path / "lab", {"H003": text})

    result = run_hyp("sweep", "H003", "--storage", "postgresql://hyp:secret@127.0.0.1:1/nothing", lab=lab)

    assert result.code == 2
    assert result.err_lines[0].startswith("error: storage postgresql://hyp:***@127.0.0.1:1/nothing: cannot be used")
    assert "secret" not in result.err
    assert not (lab / ".hyp").exists()


def test_a_sweep_over_4bit_trains_its_trial_in_nf4(tmp_path, builtin_cache):
    # QLoRA on whatever device this machine has (the CPU here and in CI): one small trial.
    lab = demo_lab(tmp_path / "lab", builtin_cache)
    space = H005[H005.index("  space:\n"):H005.index("  pruner:")]
    qlora = H005.replace("id: H005", "id: H006").replace("trials: 3", "trials: 1").replace(
        "select_top: 16", "select_top: 8").replace("epochs: 3,", "epochs: 2,").replace(
        space, '  space:\n    experiment.model.quantization: {type: categorical, choices: ["4bit"]}\n')
    (lab / "hypotheses" / "H006.yaml").write_text(qlora)

    proc = subprocess.run([sys.executable, "-m", "hyp", "--lab", str(lab), "sweep", "H006"], capture_output=True,
                          text=True, env=sweep_env(), timeout=300)

    assert proc.returncode == 0, proc.stderr
    assert "1 trials: 1 complete, 0 infeasible, 0 pruned, 0 failed" in proc.stdout
    (trial,) = [r for r in runs(lab, "H006") if r.data.tags["hyp.kind"] == "trial"]
    assert trial.info.status == "FINISHED" and trial.data.params["model.quantization"] == "4bit"
    assert "score" in trial.data.metrics and "final_train_loss" in trial.data.metrics


# --- PostgreSQL: workers on one study, and a worker killed mid-trial -------------------------------------


@pytest.fixture
def pg(demo):
    """A fresh PostgreSQL database for one test's study, dropped afterwards."""
    with fresh_database("hyp_test") as url:
        yield url


def optuna_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)  # the driver this machine has


@pytest.mark.postgres
def test_workers_share_a_study_and_a_killed_workers_trial_is_retried(demo, pg):
    """Two workers on PostgreSQL; one is SIGKILLed mid-trial. Its trial is failed by heartbeat and
    retried by the other, no trial is lost or run twice, and the study completes."""
    env = {**sweep_env(), "HYP_SWEEP_HEARTBEAT": "1,4"}  # a dead worker is noticed 4 s after its last beat
    del env["OMP_NUM_THREADS"]  # the two workers must split the cores by themselves
    url = optuna_url(pg)
    sweep_proc = subprocess.Popen(
        [sys.executable, "-m", "hyp", "--lab", str(demo), "sweep", "H005", "--storage", pg, "--study", "pair",
         "--workers", "2", "--trials", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True)
    try:
        seen: list = []  # the running trial the condition saw: asked again, it may have ended in between

        def running_with_values() -> bool:
            seen[:] = [t for t in optuna_trials(url, "pair") if t.state.name == "RUNNING" and t.intermediate_values]
            return bool(seen)

        wait_for(running_with_values, sweep_proc)
        doomed = seen[0]
        worker_pid = int(doomed.user_attrs["hyp.worker"].rsplit(":", 1)[1])
        os.kill(worker_pid, signal.SIGKILL)  # the worker only: its trial process must not outlive it
        out, err = sweep_proc.communicate(timeout=300)
    finally:
        if sweep_proc.poll() is None:
            os.killpg(sweep_proc.pid, signal.SIGKILL)

    assert sweep_proc.returncode == 0, err
    assert f"was killed (signal {signal.SIGKILL.value})" in out
    trials = optuna_trials(url, "pair")
    assert [t.number for t in trials] == list(range(len(trials)))
    assert trials[doomed.number].state.name == "FAIL"  # failed by heartbeat, not left RUNNING
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == doomed.number]
    assert len(retries) == 1 and retries[0].params == doomed.params
    assert retries[0].state.name in ("COMPLETE", "PRUNED")
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 4 and len(trials) == 5  # the 4 trials, plus the killed attempt on record
    assert len({t.user_attrs["hyp.worker"] for t in trials}) == 2  # both workers ran trials
    found = [r for r in runs(demo, "pair") if r.data.tags["hyp.kind"] == "trial"]
    assert sorted(int(r.data.tags["hyp.trial"]) for r in found) == [t.number for t in trials]  # one run each
    assert {t.user_attrs["mlflow_run_id"] for t in trials} == {r.info.run_id for r in found}
    assert not any(r.info.status == "RUNNING" for r in runs(demo, "pair"))
    from hyp.sweeps.worker import _cpus

    share = str(max(1, _cpus() // 2))
    assert {r.data.params["trial.cpu_threads"] for r in found if "trial.cpu_threads" in r.data.params} == {share}
    dead_attempt = next(r for r in found if r.data.tags["hyp.trial"] == str(doomed.number))
    assert dead_attempt.info.status == "KILLED" and "retried as trial" in dead_attempt.data.tags["hyp.error"]
    wait_for(lambda: not group_alive(sweep_proc.pid), timeout=30)  # no trial process outlived its worker


@pytest.mark.parametrize(("workers", "cpus", "omp", "threads"), [
    (1, 2, None, 2), (2, 2, None, 1), (3, 2, None, 1), (2, 16, None, 8), (2, 16, "3", 3), (4, 16, "8", 4),
    (1, 8, "0", 8), (1, 8, "x", 8)])
def test_local_workers_split_the_cores_and_keep_under_omp_num_threads(workers, cpus, omp, threads):
    from hyp.sweeps.worker import cpu_share

    assert cpu_share(workers, cpus, {} if omp is None else {"OMP_NUM_THREADS": omp}) == threads


def test_a_trial_process_environment_carries_its_share_of_the_cores():
    """The trial process is forked from a server started before the share was known: OMP_NUM_THREADS and
    MKL_NUM_THREADS in its environment must say the share, for the libraries that read them later."""
    script = ("import os, torch; from hyp.sweeps.trial_process import limit_threads; limit_threads(3); "
              "print(os.environ['OMP_NUM_THREADS'], os.environ['MKL_NUM_THREADS'], torch.get_num_threads())")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["3", "3", "3"]


def test_each_worker_on_a_shared_study_draws_its_own_configurations_and_a_lab_study_repeats(tmp_path):
    """Two labs (or two machines, or two folders of one name) on one PostgreSQL study each start at worker
    0: with one seed between them they proposed the same configurations. A lab's own SQLite study stays
    seeded: the same command repeats its draws, distinct per worker and per lab."""
    from hyp.hypotheses.lab import Lab
    from hyp.sweeps.study import sampler_seed

    hyp = Lab(make_lab(tmp_path / "lab")).load("H003")
    shared, own = "postgresql://hyp@db-host/optuna", f"sqlite:///{tmp_path}/lab/.hyp/optuna.db"
    assert len({sampler_seed(hyp, 0, shared, "/labs/x") for _ in range(5)}) == 5
    assert sampler_seed(hyp, 0, own, "/labs/a") == sampler_seed(hyp, 0, own, "/labs/a")
    assert len({sampler_seed(hyp, w, own, lab) for w in (0, 1) for lab in ("/labs/a", "/labs/b")}) == 4


def group_alive(pgid: int) -> bool:
    """Whether any process of the group `hyp sweep` led is still alive."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True



# --- a team: two labs, one tracking server, one study on PostgreSQL (SPEC §9) ------------------------------


def point_at(lab: Path, tracking: str, experiment: str, study_storage: str) -> Path:
    """What each colleague's hyp.toml says: the team's server, the team's experiment and study storage."""
    toml = lab / "hyp.toml"
    text = toml.read_text()
    for old, new in (('experiment = "persona"', f'experiment = "{experiment}"'),
                     ('uri = "sqlite:///.hyp/mlflow.db"', f'uri = "{tracking}"'),
                     ('storage = "sqlite:///.hyp/optuna.db"', f'storage = "{study_storage}"')):
        assert old in text, old
        text = text.replace(old, new)
    toml.write_text(text)
    return lab


def sweep_section(report: str) -> str:
    start = report.index("\n## Sweep")
    end = report.find("\n## ", start + 1)
    return report[start : end if end > 0 else None]


@pytest.mark.postgres
def test_two_labs_sweep_one_study_into_one_server(tmp_path, builtin_cache, pg, mlflow_server):
    """Two folders standing in for two machines, both pointed at one tracking server and one PostgreSQL
    study, sweep at once: exactly the study's trials between them, each a child run on the server under
    its own lab's sweep run, none twice; either lab's report shows the same sweep."""
    import uuid

    experiment = f"team-{uuid.uuid4().hex[:8]}"
    labs = [point_at(demo_lab(tmp_path / name, builtin_cache), mlflow_server, experiment, pg) for name in "ab"]
    procs = [subprocess.Popen([sys.executable, "-m", "hyp", "--lab", str(lab), "sweep", "H005", "--study", "team",
                               "--trials", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=sweep_env(), start_new_session=True) for lab in labs]
    try:
        outcomes = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    assert [p.returncode for p in procs] == [0, 0], "\n=====\n".join(err[-3000:] for _, err in outcomes)

    trials = optuna_trials(optuna_url(pg), "team")
    assert [t.number for t in trials] == [0, 1, 2, 3]
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 4  # no configuration drawn twice
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server)
    exp = client.get_experiment_by_name(experiment)
    found = client.search_runs([exp.experiment_id], "tags.`hyp.study` = 'team'")
    sweeps = {r.info.run_id: r for r in found if r.data.tags["hyp.kind"] == "sweep"}
    trial_runs = [r for r in found if r.data.tags["hyp.kind"] == "trial"]
    assert len(sweeps) == 2 and all(r.info.status == "FINISHED" for r in sweeps.values())
    # A pruned trial's run ends KILLED with its reason (worker.py's table); every other one FINISHED.
    assert all(r.info.status == "FINISHED" or (r.info.status == "KILLED" and r.data.tags.get("hyp.pruned"))
               for r in trial_runs)
    assert sorted(int(r.data.tags["hyp.trial"]) for r in trial_runs) == [0, 1, 2, 3]  # one run each, no duplicate
    assert {t.user_attrs["mlflow_run_id"] for t in trials} == {r.info.run_id for r in trial_runs}
    by_run = {r.info.run_id: r for r in trial_runs}
    parent_of_worker: dict[int, str] = {}
    for t in trials:
        pid = int(t.user_attrs["hyp.worker"].rsplit(":", 1)[1])  # one worker per lab: the `hyp sweep` itself
        parent = by_run[t.user_attrs["mlflow_run_id"]].data.tags["mlflow.parentRunId"]
        assert parent in sweeps and parent_of_worker.setdefault(pid, parent) == parent
    assert set(parent_of_worker) <= {p.pid for p in procs}

    sections = []
    for lab in labs:
        assert run_hyp("report", "H005", lab=lab).code == 0
        sections.append(sweep_section((lab / "reports" / "H005.md").read_text(encoding="utf-8")))
    assert sections[0] == sections[1] and "4 trial" in sections[0]


def test_a_study_whose_remaining_trials_were_all_cut_short_is_finished_not_full(demo):
    """Every trial the study still counts is RUNNING, and every one of their workers is dead: one ran on
    this machine (its pid is gone), one on another machine (its heartbeat went stale). The study is not
    full: the sweep fails both, retries each with its values and ends with exactly its trial count."""
    import socket

    import optuna

    from hyp.hypotheses.lab import Lab
    from hyp.sweeps.space import sample

    space = Lab(demo).load("H005").sweep.space
    study = optuna.create_study(study_name="cutshort", storage=storage(demo), direction="maximize")
    beats = optuna.storages.RDBStorage(storage(demo), heartbeat_interval=1, grace_period=2)
    cut = []
    for owner in (f"{socket.gethostname()}:999990", "another-machine:4242"):
        trial = study.ask()
        sample(trial, space)
        trial.set_user_attr("hyp.worker", owner)
        cut.append(trial.number)
    beats.record_heartbeat(study.trials[1]._trial_id)  # the other machine's worker beat, then stopped
    time.sleep(3.5)  # past the grace period below

    # Refused by estimate, so the retries cost no training.
    proc = sweep(demo, "--study", "cutshort", "--trials", "2", "--vram-limit", "0.05",
                 env={"HYP_SWEEP_HEARTBEAT": "1,2"})

    assert proc.returncode == 0, proc.stderr
    assert "already holds" not in proc.stdout and "waiting for" not in proc.stdout
    trials = optuna.load_study(study_name="cutshort", storage=storage(demo)).trials
    assert [t.state.name for t in trials[:2]] == ["FAIL", "FAIL"]
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 2 and len(trials) == 4
    for number in cut:
        (retry,) = [t for t in finished if t.system_attrs.get("failed_trial") == number]
        assert retry.params == trials[number].params


def test_a_sweep_started_again_after_a_crash_finishes_the_trials_cut_short(demo):
    """Every process of a sweep SIGKILLed mid-trial (a machine that lost power): the same command again
    sees the dead trial's worker was on this machine and is gone, fails it and retries it at once (not
    after the heartbeat's grace period of minutes), and completes the study."""
    import optuna

    env = sweep_env()  # the default heartbeat: 20 s beats, 2 minutes' grace
    args = [sys.executable, "-m", "hyp", "--lab", str(demo), "sweep", "H005", "--study", "crash", "--trials", "2"]
    optuna.create_study(study_name="crash", storage=storage(demo), direction="maximize")  # before it is polled
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             start_new_session=True)
    try:
        wait_for(lambda: any(t.state.name == "RUNNING" and t.intermediate_values
                             for t in optuna_trials(storage(demo), "crash")), first, timeout=300)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate()
    (cut,) = [t for t in optuna_trials(storage(demo), "crash") if t.state.name == "RUNNING"]

    again = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)

    assert again.returncode == 0, again.stderr
    assert "waiting for" not in again.stdout and "full" not in again.stdout.lower()
    trials = optuna.load_study(study_name="crash", storage=storage(demo)).trials
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 2 and trials[cut.number].state.name == "FAIL"
    assert any(t.system_attrs.get("failed_trial") == cut.number and t.params == cut.params for t in finished)
    assert not any(r.info.status == "RUNNING" for r in runs(demo, "crash"))  # the dead sweep's runs were ended



# --- issue 17: `kill -9` of the sweep process alone -----------------------------------------------------


def processes() -> dict[int, tuple[str, int, int]]:
    """pid -> (state, parent pid, process group) of every process, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(entry)] = (fields[0], int(fields[1]), int(fields[2]))
    return found


def living(pids=None, *, group: int | None = None) -> list[int]:
    """Which of `pids` (or of the members of process `group`) still run. A zombie is dead: where pid 1 does
    not reap orphans (a container), a dead worker stays in /proc as one."""
    return [pid for pid, (state, _, pgrp) in processes().items() if state not in "ZX"
            and (pids is None or pid in pids) and (group is None or pgrp == group)]


def test_a_sweep_killed_alone_takes_its_workers_with_it_and_the_next_one_finishes_under_the_same_lock(
        tmp_path, builtin_cache):
    """`kill -9` of `hyp sweep --workers 2` (its process alone, as `kill -9 PID` does): its workers went on,
    reparented to init, starting trials nobody waited for. They must die with it and leave their trials as a
    crash does, RUNNING with a dead worker, so that the same command again retries each with its values.
    That killed sweep was the hypothesis's first result: every later result must find the lock whole, not
    "the locked copy logged with the first results is missing" (the copy stayed on the killed run)."""
    import optuna

    lab = demo_lab(tmp_path / "lab", builtin_cache)
    url = storage(lab)
    args = [sys.executable, "-m", "hyp", "--lab", str(lab), "sweep", "H005", "--workers", "2", "--trials", "2"]
    optuna.create_study(study_name="H005", storage=url, direction="maximize")  # before it is polled
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=sweep_env(),
                             start_new_session=True)
    try:
        wait_for(lambda: any(t.state.name == "RUNNING" and t.intermediate_values for t in optuna_trials(url, "H005")),
                 first, timeout=300)
        workers = [pid for pid, (state, parent, _) in processes().items() if parent == first.pid and state != "Z"]
        assert len(workers) == 2
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        wait_for(lambda: not living(workers), timeout=15)
        wait_for(lambda: not living(group=first.pid), timeout=15)  # their forkservers and trial processes too
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
        first.stderr.close()
    cut = optuna_trials(url, "H005")
    assert cut and all(t.state.name == "RUNNING" for t in cut)  # as a crash leaves them, nothing new started
    assert not any("hyp.stopped" in t.user_attrs for t in cut)

    again = sweep(lab, "--workers", "2", "--trials", "2")

    assert again.returncode == 0, again.stderr
    trials = optuna_trials(url, "H005")
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 2 and all(trials[t.number].state.name == "FAIL" for t in cut)
    for t in cut:
        assert any(f.system_attrs.get("failed_trial") == t.number and f.params == t.params for f in finished)
    assert not any(r.info.status == "RUNNING" for r in runs(lab, "H005"))

    recorded = run_hyp("record", "H005", "--metric", "score=9", lab=lab)
    assert recorded.code == 0, recorded.err
    verdict = run_hyp("verdict", "H005", "--json", lab=lab)
    assert verdict.code == 0 and verdict.json["lock"]["status"] == "intact", verdict


def test_a_ratio_searched_above_what_the_synthetic_file_holds_is_said_before_the_first_trial(tmp_path):
    """Issue 19, item 7: the demo's H003 searches dataset.synthetic.ratio up to 0.5, but its synthetic file
    caps the mix near a third: every ratio above that trains on the same data, and the sweep says so."""
    from hyp.hypotheses.lab import Lab
    from hyp.hypotheses.scaffold import init_lab
    from hyp.sweeps.sweep import _warn_flat_ratio

    lab = Lab(init_lab(tmp_path / "lab", example="persona"))
    said: list[str] = []
    _warn_flat_ratio(lab, "H003", lab.load("H003"), said.append)
    (line,) = said
    assert re.fullmatch(r"warning: H003: the synthetic file has \d+ usable conversations, so every "
                        r"dataset\.synthetic\.ratio from 0\.\d\d to 0\.5 trains on the same data: that part of the "
                        r"search space is flat", line), line
