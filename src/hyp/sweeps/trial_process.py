"""One trial's training, in its own process: the `hyp run` recipe with the trial's values.

The process is forked from a server that has already imported torch, transformers, peft and
MLflow (so a trial does not pay seconds of imports), and it exits when the trial ends, giving its
memory — host and GPU — back. It reports each epoch's loss to its worker and waits for the
pruner's answer; its last message says how the trial ended.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyp import errors
from hyp.errors import BadInput
from hyp.processes import parent_death

# What the server imports once, for every trial it forks.
PRELOAD = ["torch", "transformers", "peft", "mlflow", "hyp.experiments.recipes.lora", "hyp.experiments.evaluation",
           "hyp.store.mlflow_store"]


@dataclass(frozen=True)
class TrialSpec:
    lab_root: str
    hid: str
    values: dict[str, Any]  # the trial's values, typed as the sampler gave them
    run_id: str  # the MLflow child run, created by the worker
    workdir: str
    metric: str  # what is reported per epoch: eval_loss or epoch_train_loss
    threads: int  # CPU threads for torch: the machine's cores shared among the local workers
    number: int = 0  # the trial's number in its study


class Pruned(Exception):
    def __init__(self, epoch: int):
        super().__init__(f"pruned at epoch {epoch}")
        self.epoch = epoch


def main(conn, spec: TrialSpec) -> None:
    """Entry point of the trial process; every outcome ends as one last message on `conn`."""
    _die_with_parent()
    try:
        metrics = _train(conn, spec)
    except Pruned as e:
        _last_word(conn, {"status": "pruned", "epoch": e.epoch})
    except KeyboardInterrupt:
        _last_word(conn, {"status": "interrupted"})  # Ctrl-C reaches the worker too; it records the trial
    except BaseException as e:  # any failure must reach the worker as a message, never as silence
        status = "oom" if _out_of_memory(e) else "bad_input" if isinstance(e, BadInput) else "failed"
        message = getattr(e, "message", None) or f"{type(e).__name__}: {e}"
        _last_word(conn, {"status": status, "error": message[:2000]})
    else:
        _last_word(conn, {"status": "complete", "metrics": metrics})


def _last_word(conn, message: dict) -> None:
    try:
        conn.send({"type": "done", **message})
        conn.close()
    except OSError:
        pass  # the worker is gone (killed or interrupted); nobody is left to tell


def _train(conn, spec: TrialSpec) -> dict[str, float]:
    import threading

    import torch
    import tqdm

    from hyp.experiments.run import prepare, train_and_evaluate
    from hyp.experiments.run_data import data_metrics, dataset_records
    from hyp.hypotheses.lab import Lab
    from hyp.progress import Ticker
    from hyp.store import open_tracker

    limit_threads(spec.threads)
    # tqdm's default lock is a multiprocessing semaphore, which a forked process exits without
    # releasing (the resource tracker then warns); one process needs only a thread lock.
    tqdm.tqdm.set_lock(threading.RLock())
    lab = Lab(Path(spec.lab_root))
    p = prepare(lab, spec.hid, replicates=1, values=spec.values)
    tracker = open_tracker(lab)
    for dataset in dataset_records(lab, p):
        tracker.log_dataset(spec.run_id, dataset)
    data = data_metrics(p)
    tracker.log_metrics(spec.run_id, data)
    tracker.log_params(spec.run_id, {"trial.cpu_threads": torch.get_num_threads()})
    sending = threading.Lock()  # the progress thread and the epoch reports share the pipe

    def send(message: dict) -> None:
        with sending:
            conn.send(message)

    def report(epoch: int, metrics: dict) -> None:
        send({"type": "epoch", "epoch": epoch, "loss": metrics[spec.metric]})
        if conn.recv():  # the worker's answer: prune?
            raise Pruned(epoch)

    # Between "trial started" and "trial ended" (minutes on a loaded machine), a line every few seconds
    # through the worker, which says it as its own (prefixed by worker when there are several).
    quiet = bool(os.environ.get("HYP_NO_PROGRESS"))
    with Ticker(None if quiet else lambda line: send({"type": "progress", "text": line})) as ticker:
        metrics = train_and_evaluate(lab, tracker, spec.run_id, p, p.hypothesis.experiment.training.seed,
                                     Path(spec.workdir), resume=False, progress=False, on_epoch=report,
                                     ticker=ticker, label=f"trial {spec.number}")
    tracker.log_metrics(spec.run_id, metrics)
    return {**data, **metrics}


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """The worker's share of the cores (worker.cpu_share), for torch's intra-op threads and OpenMP's alike,
    and in the environment too: this process was forked from a server started without the variables, and
    what reads them later (MKL on its first call, any process the trial starts) would take every core."""
    import torch

    threads = max(1, threads)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    torch.set_num_threads(threads)


def _out_of_memory(error: BaseException) -> bool:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    # cuBLAS and bitsandbytes report a failed allocation as a plain RuntimeError.
    text = str(error)
    return isinstance(error, RuntimeError) and ("CUDA out of memory" in text or "CUBLAS_STATUS_ALLOC_FAILED" in text)


def _die_with_parent() -> None:
    """End this process when its parent (the forkserver under a worker) does, so a killed worker leaves no
    trial training."""
    if (arm := parent_death(signal.SIGKILL, os.getppid(), errors.INTERNAL_ERROR)) is not None:
        arm()
