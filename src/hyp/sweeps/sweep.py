"""`hyp sweep`: check everything, take the pre-registration lock, open the sweep's MLflow run, run the
workers, and summarise the study.

The VRAM limit is about the GPU the configuration is meant for. On a machine without CUDA, hyp
trains on the CPU and no VRAM is measured: the limit then applies to the estimate only — a CPU
sweep is a rehearsal that launches exactly the configurations the estimate says would fit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from hyp import errors
from hyp.errors import BadInput, HypError
from hyp.hypotheses.lab import Lab
from hyp.store.secrets import redact
from hyp.sweeps.space import check_space, param_name
from hyp.sweeps.study import (
    claim_lock,
    fail_dead_trials,
    has_room,
    make_pruner,
    open_storage,
    open_study,
    sweep_run_name,
)
from hyp.sweeps.summary import SweepSummary, sweep_summary
from hyp.sweeps.worker import WorkerSpec, no_mlflow_telemetry, run_worker, worker_command

WORKER_STOP_S = 60  # how long interrupted workers get to record their trials before being killed


RATIO_KEY = "experiment.dataset.synthetic.ratio"


def _warn_flat_ratio(lab: Lab, hid: str, hyp, echo: Callable[[str], None]) -> None:
    """A synthetic ratio searched above what the synthetic file can give trains on the same data there:
    said before the first trial, since only the dataset digest would show it afterwards (issue 19)."""
    param = hyp.sweep.space.get(RATIO_KEY)
    if param is None or param.type == "categorical":
        return
    from hyp.experiments.run import prepare

    mix = prepare(lab, hid, values={RATIO_KEY: float(param.high)}).mix
    if mix.synthetic_requested > mix.synthetic_count:
        echo(f"warning: {hid}: the synthetic file has {mix.synthetic_count} usable conversations, so every "
             f"dataset.synthetic.ratio from {mix.achieved_ratio:.2f} to {float(param.high):g} trains on the same "
             "data: that part of the search space is flat")


def run_sweep(lab: Lab, hid: str, *, trials: int | None = None, workers: int = 1, storage: str | None = None,
              study: str | None = None, vram_limit_gb: float | None = None,
              echo: Callable[[str], None] = print) -> SweepSummary:
    no_mlflow_telemetry()  # inherited by the workers and their trial processes
    hyp, doc = lab.read(hid)
    if hyp.sweep is None:
        raise BadInput(f"{doc.path}: no sweep: block (add one: trials, objective, space, pruner)")
    check_space(hyp, doc)
    _check_quantizations(hyp)
    target = trials if trials is not None else hyp.sweep.trials
    if target < 1:
        raise BadInput("--trials: must be at least 1")
    if workers < 1:
        raise BadInput("--workers: must be at least 1")
    limit = vram_limit_gb if vram_limit_gb is not None else lab.settings.vram_limit_gb
    if not limit > 0:
        raise BadInput(f"--vram-limit: must be a positive number of GB, got {limit:g}")
    url = storage or lab.sweep_storage
    name = study or hid
    backend = open_storage(url)
    optuna_study = open_study(backend, name, hyp, pruner=make_pruner(hyp))
    with claim_lock(backend, name):
        # A trial whose worker died (this sweep killed before, a machine gone) is failed and queued
        # again first: counted as RUNNING, it would make a study it was cut short in look full.
        fail_dead_trials(backend, optuna_study)
        room = has_room(optuna_study.get_trials(deepcopy=False), target)
    if not room:
        echo(f"{hid}: study {name!r} already holds {target} trials; pass a larger --trials to add more")
        return sweep_summary(lab, hid, study=name, storage=url)

    _warn_flat_ratio(lab, hid, hyp, echo)
    from hyp.hypotheses.params import experiment_params
    from hyp.results.ledger import result_run

    tags = {"hyp.study": name, "hyp.storage": redact(url)}
    # The registered values of the searched keys are ones no trial needs to have used: the sweep run
    # leaves them out (its trials carry what each used), and `sweep.space` says what was searched.
    searched = {param_name(k) for k in hyp.sweep.space}
    params = {
        **{k: v for k, v in experiment_params(hyp).items() if k not in searched},
        "sweep.study": name, "sweep.trials": target, "sweep.workers": workers,
        "sweep.pruner": hyp.sweep.pruner, "sweep.vram_limit_gb": limit,
        "sweep.objective": f"{hyp.sweep.objective.direction} {hyp.sweep.objective.metric}",
        "sweep.space": json.dumps(hyp.sweep.model_dump(mode="json")["space"]),
    }
    # A sweep takes the pre-registration lock like a run; its trials are not evidence, so it ends
    # with a refreshed index and no verdict tag.
    with result_run(lab, hyp, kind="sweep", name=sweep_run_name(hid, name), tags=tags, params=params) as run:
        tracker, run_id = run.tracker, run.run_id
        done = len(optuna_study.trials)
        echo(f"{hid}: study {name!r} in {redact(url)} ({done} trial(s) so far), up to {target} trials, "
             f"{workers} worker(s), VRAM limit {limit:g} GB, pruner {hyp.sweep.pruner}")
        spec = WorkerSpec(lab_root=str(lab.root), hid=hid, study=name, storage=url, trials=target,
                          vram_limit_gb=limit, sweep_run_id=run_id, workers=workers)
        if workers == 1:
            run_worker(spec, echo)
        else:
            _run_workers(spec, workers, echo)
        with tempfile.TemporaryDirectory() as tmp:
            summary = sweep_summary(lab, hid, study=name, storage=url, plots_dir=Path(tmp))
            for path in summary.plots.values():
                tracker.log_artifact(run_id, path, "sweep")
        summary.plots = {}  # they were in a temporary directory; the run keeps them
        tracker.log_metrics(run_id, summary.metrics())
        if summary.best:
            tracker.set_tags(run_id, {"hyp.best_trial": str(summary.best[0].number),
                                      "hyp.best_params": json.dumps(summary.best[0].params, default=str)})
    return summary


def _check_quantizations(hyp) -> None:
    """Stop before any work when some trial would need a bitsandbytes this machine lacks (SPEC §10)."""
    from hyp.experiments.models import require_bitsandbytes

    quantizations = {hyp.experiment.model.quantization}
    searched = hyp.sweep.space.get("experiment.model.quantization")
    if searched is not None and searched.choices:
        quantizations |= set(searched.choices)
    for quantization in sorted(quantizations, key=str):
        require_bitsandbytes(quantization)


def _run_workers(spec: WorkerSpec, workers: int, echo: Callable[[str], None]) -> None:
    """N local worker processes on one study; they share the storage, not memory."""
    from dataclasses import replace

    # The spec goes in on stdin: it holds the storage URL, password included, and a command line is
    # readable by every user of the machine (`ps`). Each worker dies with this process (a `kill -9` of the
    # sweep): left running, it went on starting trials nobody waited for (worker.die_with).
    processes = []
    for i in range(workers):
        p = subprocess.Popen(worker_command(os.getpid()), stdin=subprocess.PIPE, text=True)
        p.stdin.write(replace(spec, index=i).to_json())
        p.stdin.close()
        processes.append(p)
    try:
        codes = [p.wait() for p in processes]
    except KeyboardInterrupt:
        # Ctrl-C reached the workers too; a SIGTERM sent to this process only did not.
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in processes:
            try:
                p.wait(WORKER_STOP_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        raise
    if errors.INTERRUPTED in codes:
        raise KeyboardInterrupt
    failed = [(i, code) for i, code in enumerate(codes) if code > 0]
    if failed:
        i, code = failed[0]
        error = HypError(f"sweep: worker {i} stopped with exit code {code} (its error is above)")
        error.exit_code = code
        raise error
    killed = [(i, -code) for i, code in enumerate(codes) if code < 0]
    for i, signum in killed:
        echo(f"worker {i} was killed (signal {signum}); its trial was failed by heartbeat and retried by the others")
    if len(killed) == workers:
        raise HypError("sweep: every worker was killed; the next `hyp sweep` retries their trials")
