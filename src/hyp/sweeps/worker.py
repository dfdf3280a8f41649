"""A sweep worker: claims trials from the study, runs each in its own process, tells Optuna how it ended.

hyp owns the loop (Optuna's ask/tell): ask, check the VRAM estimate, train the `hyp run` recipe
in a trial process that reports each epoch's loss to the pruner, tell. `hyp sweep --workers N`
runs N workers on one study; with a PostgreSQL storage, workers on other machines join it.

How a trial ends, in Optuna and in its MLflow child run (whose `hyp.trial.state` tag names the row):
  complete     COMPLETE, feasible                     FINISHED
  infeasible   PRUNED with a constraint > 0           KILLED, reason in `hyp.infeasible` (not launched:
                                                      estimate over the limit; out of memory; measured over)
  pruned       PRUNED                                 KILLED, reason in `hyp.pruned`
  failed       FAIL, and the sweep stops              FAILED, error in `hyp.error`
  interrupted  FAIL (`hyp.stopped`), sweep stops      KILLED
  worker died  FAIL by heartbeat, retried as a new    KILLED by the worker that retries it
               trial with the same values

An infeasible trial is one meaning in both tools: stopped by hyp on purpose, with no result the
study may use, as a pruned trial is. COMPLETE would let optuna-dashboard crown it (its best-trial
panel ignores constraints), FAIL would read as a crash and be replaced by a new trial; PRUNED keeps
it counted, never best, and tells the sampler that region is worse than any completed trial.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from hyp import errors
from hyp.errors import BadInput, HypError
from hyp.hypotheses.lab import Lab
from hyp.processes import parent_death
from hyp.results.ledger import experiment_params
from hyp.store.base import process_start
from hyp.sweeps.space import sample, usable, with_values
from hyp.sweeps.study import (
    claim_lock,
    fail_dead_trials,
    has_room,
    heartbeat,
    intermediate_name,
    make_pruner,
    make_sampler,
    open_storage,
    open_study,
    quiet_optuna,
    sampler_seed,
    trial_run_name,
)
from hyp.sweeps.trial_process import PRELOAD, TrialSpec
from hyp.vram import CUDA_CONTEXT_GB, estimate_hypothesis

CONSTRAINTS_LIST = "constraints"  # optuna.study._constrained_optimization._CONSTRAINTS_KEY
# An out-of-memory trial was estimated to fit, so it missed by an unknown amount: a small violation
# ranks it, for the sampler, as nearly feasible — closer than any configuration refused by estimate.
OOM_VIOLATION_GB = 0.01


class TrialCrashed(HypError):
    """A trial failed for a reason other than memory; the next ones would most likely fail the same way."""

    exit_code = errors.INTERNAL_ERROR


@dataclass(frozen=True)
class WorkerSpec:
    lab_root: str
    hid: str
    study: str
    storage: str
    trials: int  # the study's size: trials complete, pruned or infeasible (a crashed one is replaced)
    vram_limit_gb: float
    sweep_run_id: str
    index: int = 0
    workers: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class TrialOutcome:
    number: int
    state: str  # complete | infeasible | pruned
    value: float | None
    epochs_planned: int
    epochs_trained: int


def no_mlflow_telemetry() -> None:
    """Before MLflow is imported. Its telemetry thread, on failing to reach its server, pops a
    variable from os.environ while the main thread may be iterating os.environ (hyp redacts
    secret-named variables on every tracker write): a KeyError that stopped a benchmark sweep. And no
    "View run ... at: <tracking URI>" lines from MLflow at each trial's end: the URI may hold a password."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


def run_worker(spec: WorkerSpec, echo: Callable[[str], None]) -> list[TrialOutcome]:
    """Run trials until the study has spec.trials of them and none is still running elsewhere."""
    return Worker(spec, echo).run()


class Worker:
    def __init__(self, spec: WorkerSpec, echo: Callable[[str], None]):
        from hyp.store import open_tracker
        from hyp.store.base import source_tags

        self.spec, self.echo = spec, echo
        self.lab = Lab(Path(spec.lab_root))
        self.hyp = self.lab.load(spec.hid)
        self.storage = open_storage(spec.storage)
        self.study = open_study(self.storage, spec.study, self.hyp, pruner=make_pruner(self.hyp),
                                sampler=make_sampler(sampler_seed(self.hyp, spec.index, spec.storage, spec.lab_root)))
        self.tracker = open_tracker(self.lab)
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.metric = intermediate_name(self.hyp)
        self.maximize = self.hyp.sweep.objective.direction == "maximize"
        self.run_id: str | None = None  # the MLflow run of the trial in progress
        self.source = source_tags(self.lab.root, f"hypotheses/{spec.hid}.yaml")

    # --- the loop ------------------------------------------------------------------------------
    def run(self) -> list[TrialOutcome]:
        outcomes, waiting_said = [], False
        while True:
            trial = self._claim()
            if trial is not None:
                outcomes.append(self._run_trial(trial))
                continue
            running = self._running_elsewhere()
            if not running:
                return outcomes
            if not waiting_said:
                self.echo(f"waiting for {running} trial(s) running in other workers")
                waiting_said = True
            time.sleep(self.storage.get_heartbeat_interval())

    def _claim(self):
        with claim_lock(self.storage, self.spec.study):
            # Under the lock: a retry just asked for carries its dead original's owner until it is set below.
            fail_dead_trials(self.storage, self.study)
            if not has_room(self.study.get_trials(deepcopy=False), self.spec.trials):
                return None
            with quiet_optuna():
                trial = self.study.ask()  # a queued trial (a dead worker's, retried) comes first
            self.storage.record_heartbeat(trial._trial_id)
            # A retry inherits its failed original's attributes; these describe this attempt.
            trial.set_user_attr("hyp.worker", self.owner)
            trial.set_user_attr("hyp.worker_start", process_start(os.getpid()))  # tells a recycled pid apart
            trial.set_user_attr("epochs_trained", 0)
        return trial

    def _running_elsewhere(self) -> int:
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        # Only hyp workers beat a heart; a RUNNING trial without one would never end.
        return sum(1 for t in trials if "hyp.worker" in t.user_attrs)

    def _run_trial(self, trial) -> TrialOutcome:
        self.run_id = None
        with heartbeat(self.storage, trial._trial_id):
            try:
                return self._attempt(trial)
            except KeyboardInterrupt:
                self._abandon(trial, "KILLED", "interrupted", "interrupted")
                raise
            except BaseException as e:
                self._abandon(trial, "FAILED", "failed", getattr(e, "message", None) or f"{type(e).__name__}: {e}")
                raise

    # --- one trial -----------------------------------------------------------------------------
    def _attempt(self, trial) -> TrialOutcome:
        spec, n = self.spec, trial.number
        values = sample(trial, self.hyp.sweep.space)
        hyp = with_values(self.hyp, values)
        estimate = estimate_hypothesis(hyp, self.lab.root, self.lab.state_dir)
        planned = hyp.experiment.training.epochs
        trial.set_user_attr("epochs_planned", planned)
        trial.set_user_attr("estimate_gb", round(estimate.vram_gb, 4))
        tags = {"hyp.trial": str(n), "hyp.study": spec.study, **self.source}
        retried = self.storage.get_trial_system_attrs(trial._trial_id).get("failed_trial")
        if retried is not None:
            tags["hyp.retry_of"] = str(retried)
            self._close_dead_attempt(trial, n)
        self.run_id = self.tracker.start_run(hypothesis_id=spec.hid, kind="trial",
                                             name=trial_run_name(spec.hid, spec.study, n),
                                             parent_run_id=spec.sweep_run_id, tags=tags)
        trial.set_user_attr("mlflow_run_id", self.run_id)
        self.tracker.log_params(self.run_id, experiment_params(hyp))
        self.tracker.log_metrics(self.run_id, {"estimate.vram_gb": estimate.vram_gb})
        shown = ", ".join(f"{k.rsplit('.', 1)[-1]}={_short(v)}" for k, v in values.items())
        self.echo(f"trial {n}: {shown} · estimate {estimate.vram_gb:.2f} GB")

        over = estimate.vram_gb - spec.vram_limit_gb
        if over > 0:
            reason = f"estimated {estimate.vram_gb:.2f} GB > limit {spec.vram_limit_gb:g} GB; not launched"
            trial.set_user_attr("launched", False)
            return self._infeasible(trial, over, reason, planned, 0)

        started = time.perf_counter()
        message, trained, last_loss = self._launch(trial, values, planned)
        status = message["status"] if message else "died"
        seconds = time.perf_counter() - started
        trial.set_user_attr("epochs_trained", trained)
        trial.set_user_attr("seconds", round(seconds, 1))
        if status == "complete":
            return self._complete(trial, message["metrics"], estimate.vram_gb, planned, seconds)
        if status == "pruned":
            constrain(trial, over)
            with quiet_optuna():
                self.study.tell(trial, state=_state("PRUNED"), skip_if_finished=True)
            reason = (f"pruned by the {self.hyp.sweep.pruner} pruner after epoch {trained} of {planned}: "
                      f"{self.metric} {last_loss:.4g}")
            self._end_run("KILLED", {"hyp.trial.state": "pruned", "hyp.pruned": reason})
            self.echo(f"trial {n} pruned after epoch {trained}/{planned} ({self.metric} {last_loss:.4g})")
            return TrialOutcome(n, "pruned", None, planned, trained)
        if status == "oom":
            return self._infeasible(trial, OOM_VIOLATION_GB, f"out of memory: {message['error']}", planned, trained)
        if status == "interrupted":
            raise KeyboardInterrupt
        if status == "bad_input":  # the same for every trial: a file or value to fix, exit 2
            raise BadInput(f"trial {n}: {message['error']}")
        error = message["error"] if message else "the trial process died without a word (killed by the OS?)"
        raise TrialCrashed(f"trial {n} failed: {error}")

    def _close_dead_attempt(self, trial, number: int) -> None:
        """End the MLflow run of the attempt whose worker died: it can no longer end it itself, and
        on another machine no later hyp command could prove its process dead."""
        previous = trial.user_attrs.get("mlflow_run_id")  # inherited from the failed attempt
        if previous:
            self.tracker.set_tags(previous, {"hyp.trial.state": "failed",
                                             "hyp.error": f"its worker stopped beating; retried as trial {number}"})
            self.tracker.end_run(previous, "KILLED")

    def _launch(self, trial, values: dict, planned: int) -> tuple[dict | None, int, float]:
        """Train in a fresh process; answer its per-epoch reports with the pruner's decision."""
        ctx = _trial_processes()
        workdir = self.lab.state_dir / "checkpoints" / self.spec.hid / \
            f"trial-{hashlib.sha256(self.spec.study.encode()).hexdigest()[:8]}-{trial.number}"
        spec = TrialSpec(lab_root=str(self.lab.root), hid=self.spec.hid,
                         values={k: usable(k, v) for k, v in values.items()}, run_id=self.run_id,
                         workdir=str(workdir), metric=self.metric,
                         threads=cpu_share(self.spec.workers), number=trial.number)
        ours, theirs = ctx.Pipe()
        from hyp.sweeps import trial_process

        process = ctx.Process(target=trial_process.main, args=(theirs, spec), name=f"hyp-trial-{trial.number}")
        process.start()
        theirs.close()
        trained, last_loss, sign = 0, float("nan"), -1.0 if self.maximize else 1.0
        try:
            while True:
                try:
                    message = ours.recv()
                except EOFError:
                    return None, trained, last_loss
                if message["type"] == "progress":
                    self.echo(message["text"])
                    continue
                if message["type"] != "epoch":
                    return message, trained, last_loss
                trained, last_loss = message["epoch"], message["loss"]
                # Losses fall as trials improve; the pruner compares in the study's direction.
                trial.report(sign * last_loss, trained)
                trial.set_user_attr("epochs_trained", trained)
                # After the last epoch nothing is left to save but the evaluation, and finishing
                # gives the sampler the trial's real objective.
                ours.send(trained < planned and trial.should_prune())
        finally:
            if process.is_alive():
                process.terminate()
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join()
            ours.close()
            shutil.rmtree(workdir, ignore_errors=True)

    def _complete(self, trial, metrics: dict, estimate_gb: float, planned: int, seconds: float) -> TrialOutcome:
        objective = self.hyp.sweep.objective
        if objective.metric not in metrics:
            known = ", ".join(sorted(k for k in metrics if "." not in k))
            raise TrialCrashed(f"trial {trial.number}: the objective metric {objective.metric!r} is not one the "
                               f"trial logged ({known})")
        value = float(metrics[objective.metric])
        limit = self.spec.vram_limit_gb
        measured = metrics.get("peak_vram_reserved_gb")
        # On CUDA the measured peak decides (the allocator's reserve plus the context it cannot
        # see); on the CPU there is no VRAM, so the estimate stands in for it.
        used = measured + CUDA_CONTEXT_GB if measured is not None else estimate_gb
        if measured is not None:
            trial.set_user_attr("peak_vram_gb", round(used, 4))
        n = trial.number
        if used > limit:
            # Its score stays on its MLflow run; the study must not take it for a usable result.
            trial.set_user_attr(objective.metric, value)
            reason = f"measured {used:.2f} GB > limit {limit:g} GB ({objective.metric} {value:.4g})"
            return self._infeasible(trial, used - limit, reason, planned, planned)
        constrain(trial, used - limit)
        with quiet_optuna():
            self.study.tell(trial, value, skip_if_finished=True)
        self._end_run("FINISHED", {"hyp.trial.state": "complete"})
        self.echo(f"trial {n} complete: {objective.metric} {value:.4g} · {planned} epochs · {seconds:.0f} s")
        return TrialOutcome(n, "complete", value, planned, planned)

    def _infeasible(self, trial, violation: float, reason: str, planned: int, trained: int) -> TrialOutcome:
        constrain(trial, violation)
        trial.set_user_attr("infeasible", reason)
        with quiet_optuna():
            self.study.tell(trial, state=_state("PRUNED"), skip_if_finished=True)
        self._end_run("KILLED", {"hyp.trial.state": "infeasible", "hyp.infeasible": reason})
        self.echo(f"trial {trial.number} infeasible: {reason}")
        return TrialOutcome(trial.number, "infeasible", None, planned, trained)

    def _abandon(self, trial, mlflow_status: str, state: str, reason: str) -> None:
        """Leave nothing RUNNING: the Optuna trial FAILs (a later sweep replaces it), its run ends."""
        try:
            trial.set_user_attr("hyp.stopped", reason[:500])
            with quiet_optuna():
                self.study.tell(trial, state=_state("FAIL"), skip_if_finished=True)
        finally:
            if self.run_id is not None:
                self._end_run(mlflow_status, {"hyp.trial.state": state, "hyp.error": reason[:5000]})

    def _end_run(self, status: str, tags: dict[str, str]) -> None:
        self.tracker.set_tags(self.run_id, tags)
        self.tracker.end_run(self.run_id, status)
        self.run_id = None


def constrain(trial, violation: float) -> None:
    """The VRAM constraint (GB over the limit; <= 0 fits) in both forms readers look for: Optuna 5's
    named `constraints:vram_gb`, and the `constraints` list that Optuna's own constrained samplers
    write and optuna-dashboard reads (it marks a trial infeasible from that list only)."""
    trial.set_constraint("vram_gb", violation)
    trial.storage.set_trial_system_attr(trial._trial_id, CONSTRAINTS_LIST, [violation])


def _state(name: str):
    from optuna.trial import TrialState

    return TrialState[name]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_share(workers: int, cpus: int | None = None, environ=os.environ) -> int:
    """The torch threads of one of `workers` local trial processes: the cores they may use split between
    them (each taking them all, on 2 cores, slows every one down many times over), and never more than
    OMP_NUM_THREADS when it is set (threads beyond it oversubscribe what the user allowed)."""
    share = max(1, (cpus or _cpus()) // max(1, workers))
    omp = environ.get("OMP_NUM_THREADS", "")
    return min(share, int(omp)) if omp.isdigit() and int(omp) > 0 else share


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@functools.cache
def _trial_processes():
    """Processes forked from a server that imported the training stack once (see trial_process)."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


PARENT_FLAG = "--parent"


def worker_command(parent: int) -> list[str]:
    """How `hyp sweep` (process `parent`) starts a local worker; the spec follows on stdin."""
    import sys

    return [sys.executable, "-m", "hyp.sweeps.worker", PARENT_FLAG, str(parent)]


def die_with(parent: int) -> None:
    """SIGKILL for this worker the moment `parent` (its `hyp sweep`) dies; exit now if it is already gone.

    SIGKILL, not SIGTERM: a `hyp sweep` killed with -9 must leave its trials as a crash leaves them, RUNNING
    with a worker that is gone, so that the next `hyp sweep` fails each and retries it with the same values
    at once (study.fail_dead_trials). A worker that outlived its sweep went on claiming new trials, with
    nobody left to wait for them; its trial process goes with it (trial_process dies with its forkserver,
    which ends when the worker does)."""
    import signal

    if (arm := parent_death(signal.SIGKILL, parent, errors.INTERRUPTED)) is not None:
        arm()


def main(argv: list[str] | None = None) -> int:
    """`python -m hyp.sweeps.worker [--parent PID] < SPEC_JSON`: one of the processes `hyp sweep --workers N`
    starts, which dies with process PID. The spec (with the storage URL and its password) comes on stdin,
    never on a command line others can read."""
    import signal
    import sys

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == PARENT_FLAG and argv[1].isdigit():
        die_with(int(argv[1]))  # first: a sweep killed while this one starts must not leave it running
    spec = WorkerSpec.from_json(sys.stdin.read())
    no_mlflow_telemetry()

    def terminate(signum, frame):
        raise KeyboardInterrupt  # the sweep forwards SIGTERM; end the trial as Ctrl-C would

    signal.signal(signal.SIGTERM, terminate)
    try:
        run_worker(spec, lambda line: print(f"[worker {spec.index}] {line}", flush=True))
    except KeyboardInterrupt:
        return errors.INTERRUPTED
    except HypError as e:
        # The CLI's one-line form (the worker is a process of its own, below the CLI layer).
        print(f"error: worker {spec.index}: {e.message}", file=sys.stderr)
        return e.exit_code
    return errors.SUCCESS


if __name__ == "__main__":
    raise SystemExit(main())
