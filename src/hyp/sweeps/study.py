"""The Optuna study of a sweep: its storage (SQLite in the lab, or PostgreSQL shared by machines),
heartbeats that let a dead worker's trial be failed and retried, the pruner, and claiming trials
so that N workers run exactly the study's number of trials between them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import warnings
from collections.abc import Iterator

from hyp.errors import BadInput
from hyp.hypotheses.schema import Hypothesis
from hyp.store.base import process_start
from hyp.store.secrets import redact
from hyp.store.sqlite_reader import sqlite_path

# A live worker records a heartbeat every HEARTBEAT_S; a RUNNING trial without one for GRACE_S
# belongs to a dead worker: it is failed and queued again with the same values. A worker's slowest
# storage write must fit well inside the grace period. HYP_SWEEP_HEARTBEAT="interval,grace"
# overrides both (the tests use "1,4" to see a killed worker within seconds).
HEARTBEAT_S = 20
GRACE_S = 120
MAX_RETRIES = 2  # retries of one configuration whose workers keep dying (a crash it causes, not bad luck)
SQLITE_TIMEOUT_S = 60  # how long a writer waits for SQLite's lock before "database is locked"

# Pruners, for the few trials a hypothesis sweep has. Median: compare only after two trials have
# finished, and never on the first epoch (the warmup makes it noise). Hyperband: one epoch is the
# smallest budget, a third of the trials go on at each rung.
MEDIAN_STARTUP_TRIALS = 2
MEDIAN_WARMUP_EPOCHS = 2  # optuna counts steps from 0; ours are 1-based epochs: prune from epoch 2
HYPERBAND_REDUCTION = 3

# Study user attributes, so plain Optuna readers know what the numbers are.
ATTR_HYPOTHESIS = "hyp.id"
ATTR_OBJECTIVE = "hyp.objective"
ATTR_INTERMEDIATE = "hyp.intermediate"


def sweep_run_name(hid: str, study: str) -> str:
    """`H004-sweep`, or `H004-sweep-tight` for study `tight`: names that differ between studies."""
    return f"{hid}-sweep" if study == hid else f"{hid}-sweep-{study}"


def trial_run_name(hid: str, study: str, number: int) -> str:
    """`H004-t3`, or `H004-tight-t3`: trial 3 of another study is another run."""
    return f"{hid}-t{number}" if study == hid else f"{hid}-{study}-t{number}"


def heartbeat_settings() -> tuple[int, int]:
    raw = os.environ.get("HYP_SWEEP_HEARTBEAT")
    if not raw:
        return HEARTBEAT_S, GRACE_S
    try:
        interval, grace = (int(v) for v in raw.split(","))
    except ValueError:
        raise BadInput(f"HYP_SWEEP_HEARTBEAT={raw!r}: expected two whole seconds, interval,grace") from None
    if not 0 < interval < grace:
        raise BadInput(f"HYP_SWEEP_HEARTBEAT={raw!r}: needs 0 < interval < grace")
    return interval, grace


def open_storage(url: str):
    """RDB storage with heartbeats for `url` (sqlite:/// or postgresql://); BadInput when unusable."""
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    given = url
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql"):
        raise BadInput(f"storage {redact(url)}: use sqlite:///PATH (one machine) or postgresql://... (several)")
    engine_kwargs = {}
    if scheme == "sqlite":
        path = sqlite_path(url)
        if path is None:
            raise BadInput(f"storage {url}: a sweep's SQLite storage must be a file (workers share it)")
        path.parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
    else:
        url = _with_installed_driver(url)
        engine_kwargs = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
    interval, grace = heartbeat_settings()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with quiet_optuna(), _one_creator(url, scheme, engine_kwargs):
            storage = RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=interval, grace_period=grace,
                                 heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES))
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise BadInput(f"storage {redact(given)}: cannot be used: {first[:300]}") from None
    if scheme == "sqlite":
        # WAL lets workers read while one writes; the mode is stored in the file, set once.
        with storage.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    return storage


@contextlib.contextmanager
def _one_creator(url: str, scheme: str, engine_kwargs: dict) -> Iterator[None]:
    """One process at a time opens a storage: Optuna creates its tables on first use, and two workers (or
    two labs on two machines) starting on a fresh database at once fail with a unique-key violation on
    `alembic_version`. A lock file beside a SQLite file; a PostgreSQL advisory lock, which every machine
    sees and the server drops with the connection of a process that dies. Held for the opening only."""
    if scheme == "sqlite":
        try:
            f = open(f"{sqlite_path(url)}.create.lock", "a+")
        except OSError:  # a folder hyp cannot write (a read-only lab): nothing will be created there
            yield
            return
        with _flocked(f):
            yield
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, **engine_kwargs)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({_lock_key('hyp-optuna-storage')})")
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_lock_key('hyp-optuna-storage')})")
    finally:
        engine.dispose()


@contextlib.contextmanager
def _flocked(f) -> Iterator[None]:
    fcntl.flock(f, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _with_installed_driver(url: str) -> str:
    # A bare postgresql:// means psycopg 3 to SQLAlchemy 2.1 and psycopg2 to older ones; use
    # whichever is installed, so the URL a user copies from their server works as it is.
    import importlib.util

    if not url.startswith("postgresql://") or importlib.util.find_spec("psycopg") is not None:
        return url
    if importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    raise BadInput(f"storage {redact(url)}: no PostgreSQL driver; pip install psycopg2-binary")


@contextlib.contextmanager
def quiet_optuna():
    """Optuna flags heartbeats and ask/tell with heartbeats as experimental; hyp uses them on purpose."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")
        yield


def intermediate_name(hyp: Hypothesis) -> str:
    """What trials report per epoch: held-out loss when there is a held-out set, else training loss."""
    return "eval_loss" if hyp.experiment.dataset.heldout else "epoch_train_loss"


def open_study(storage, name: str, hyp: Hypothesis, *, sampler=None, pruner=None, create: bool = True):
    """The study `name`, created for hypothesis `hyp` if it does not exist and `create` is set."""
    import optuna

    objective = hyp.sweep.objective
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        if not create:
            raise BadInput(f"study {name!r}: no such study in {redact(storage.url)}") from None
        study_id = None
    if study_id is not None:
        attrs = storage.get_study_user_attrs(study_id)
        owner = attrs.get(ATTR_HYPOTHESIS)
        if owner and owner != hyp.id:
            raise BadInput(f"study {name!r}: it belongs to {owner}, not {hyp.id}; pass another --study")
        direction = storage.get_study_directions(study_id)[0].name.lower()
        if direction != objective.direction:
            raise BadInput(f"study {name!r}: it was created to {direction}, the sweep block says "
                           f"{objective.direction}; pass another --study")
    with quiet_optuna():
        study = optuna.create_study(storage=storage, study_name=name, direction=objective.direction,
                                    sampler=sampler, pruner=pruner, load_if_exists=True)
    with quiet_optuna():
        if not study.metric_names:  # optuna-dashboard names the objective axis after it ("Objective 0" without)
            study.set_metric_names([objective.metric])
    if ATTR_HYPOTHESIS not in study.user_attrs:  # new, or made with plain Optuna (trials enqueued by hand)
        study.set_user_attr(ATTR_HYPOTHESIS, hyp.id)
        study.set_user_attr(ATTR_OBJECTIVE, f"{objective.direction} {objective.metric}")
        sign = "-" if objective.direction == "maximize" else ""
        study.set_user_attr(ATTR_INTERMEDIATE, f"{sign}{intermediate_name(hyp)} per epoch")
    return study


def make_pruner(hyp: Hypothesis):
    import optuna

    kind = hyp.sweep.pruner
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS,
                                           n_warmup_steps=MEDIAN_WARMUP_EPOCHS)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs(hyp),
                                              reduction_factor=HYPERBAND_REDUCTION)
    return optuna.pruners.NopPruner()


def max_epochs(hyp: Hypothesis) -> int:
    p = hyp.sweep.space.get("experiment.training.epochs")
    return int(p.high) if p is not None and p.type == "int" else hyp.experiment.training.epochs


def make_sampler(seed: int):
    import optuna

    # constant_liar: a trial running in another worker counts as a poor result, so parallel
    # workers do not all sample next to the same promising point.
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def sampler_seed(hyp: Hypothesis, worker: int, url: str, lab_root: str) -> int:
    """A lab's sweep on its own SQLite study is seeded, so it repeats exactly: from the hypothesis's
    seed, the worker (workers that start together would otherwise draw the same values) and the lab
    (two labs may name one SQLite file). A study on PostgreSQL is shared by workers of several labs and
    machines, each counting from worker 0, and possibly in one folder name on two machines or two labs on
    one: every worker process draws from a seed of its own there, or two of them propose the same
    configurations. Nothing is lost: the trials of a shared study interleave as they finish, so no sweep
    there could repeat anyway."""
    if not url.startswith("sqlite"):
        import secrets

        return secrets.randbits(32)
    digest = hashlib.sha256(f"{hyp.experiment.training.seed}:{worker}:{lab_root}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def has_room(trials, target: int) -> bool:
    """Whether the study should run another trial: one is queued (a retry), or fewer than `target`
    trials are complete, pruned, running or queued (a failed one does not count; it is replaced)."""
    states = [t.state.name for t in trials]
    counted = sum(s in ("COMPLETE", "PRUNED", "RUNNING", "WAITING") for s in states)
    return "WAITING" in states or counted < target


def fail_dead_trials(storage, study) -> None:
    """Fail the RUNNING trials whose worker is dead and queue each again with the same values (up to
    MAX_RETRIES times): those whose heartbeat went stale (a worker on any machine), and at once those
    whose worker ran on this machine and is gone (a sweep killed with its workers, a machine restarted),
    as their stale heartbeat would have it only after the grace period (minutes).

    Before the study's room is counted, by `hyp sweep` and by each worker's claim: a trial cut short
    holds its place until it is failed, so a study whose remaining trials were all cut short looked
    full and was never finished. Under claim_lock: a retry just asked for carries its dead original's
    owner until its worker records its own."""
    from optuna.storages import fail_stale_trials

    with quiet_optuna():
        fail_stale_trials(study)
        _fail_dead_local_trials(storage, study)


def _fail_dead_local_trials(storage, study) -> None:
    import copy
    import socket

    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner_host, _, pid = str(t.user_attrs.get("hyp.worker", "")).rpartition(":")
        if owner_host != host or not pid.isdigit() or _alive(int(pid), t.user_attrs.get("hyp.worker_start")):
            continue
        try:
            if not storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                continue
        except UpdateFinishedTrialError:
            continue  # another worker got there first
        retry = storage.get_heartbeat_stale_trial_callback()
        if retry is not None:
            retry(study, copy.deepcopy(storage.get_trial(t._trial_id)))


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to judge
    return not started or process_start(pid) == started


@contextlib.contextmanager
def claim_lock(storage, study_name: str) -> Iterator[None]:
    """Serialises 'count the study's trials, then ask for one' across every worker of the study.

    SQLite lives on one machine, so a lock file beside it covers every worker; PostgreSQL workers
    may be on several machines and take a PostgreSQL advisory lock instead.
    """
    url = storage.url
    if url.startswith("sqlite"):
        with open(f"{sqlite_path(url)}.claim.lock", "a+") as f, _flocked(f):
            yield
        return
    key = _lock_key(f"hyp-sweep:{study_name}")
    with storage.engine.connect() as connection:
        connection.exec_driver_sql("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))


@contextlib.contextmanager
def heartbeat(storage, trial_id: int) -> Iterator[None]:
    """Record the trial's heartbeat every interval while it runs (Study.optimize does this itself;
    ask/tell leaves it to the caller)."""
    interval = storage.get_heartbeat_interval()
    stop = threading.Event()

    def beat():
        while True:
            try:
                storage.record_heartbeat(trial_id)
            except Exception:
                pass  # a missed beat is retried next interval; grace covers several
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, name=f"hyp-heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
