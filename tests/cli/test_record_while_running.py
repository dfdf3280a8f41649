"""Issue 17: a `hyp record` while a `hyp run` of the same hypothesis is going on in ANOTHER lab on the same
store. The lab's own lock file (.hyp/locks/H003.run) sees only its lab: the record went in, and the run's
`hyp.verdict` tag and report, written when it ended, counted 2 results where `hyp verdict` counts 3. The
store is what labs share: a record refuses while a live run or record of the hypothesis is RUNNING there."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from conftest import make_lab, mlflow_runs, run_hyp, store_uri


@pytest.fixture
def labs(tmp_path, blank_store, monkeypatch):
    """Lab A with its store, and lab B (the same files) pointed at A's store as a colleague's would be."""
    a = make_lab(tmp_path / "a", store=blank_store)
    b = make_lab(tmp_path / "b")
    monkeypatch.setenv("HYP_TRACKING_URI", store_uri(a))
    return a, b


def open_run(lab, kind: str = "run"):
    from hyp.hypotheses.lab import Lab
    from hyp.results.ledger import result_run

    lab = Lab(lab)
    return result_run(lab, lab.load("H003"), kind=kind)


def test_a_record_from_another_lab_waits_for_the_run_going_on_in_the_store(labs):
    a, b = labs
    with open_run(a) as run:
        run.tracker.log_metrics(run.run_id, {"score": 5.0})
        refused = run_hyp("record", "H003", "--metric", "score=9.9", lab=b)
        assert refused.code == 2 and len(refused.err_lines) == 1, refused
        assert f"H003 is being run (run {run.run_id} on host {socket.gethostname()}); record after it ends" \
               in refused.err
        assert len(mlflow_runs(a, "H003")) == 1  # nothing was logged
    assert run.judged.verdict.verdict == run_hyp("verdict", "H003", "--json", lab=a).json["verdict"]

    recorded = run_hyp("record", "H003", "--metric", "score=9.9", lab=b)  # after it ended: in, and counted

    assert recorded.code == 0, recorded
    verdict = run_hyp("verdict", "H003", "--json", lab=a).json
    assert verdict["lock"]["status"] == "intact" and len(mlflow_runs(a, "H003")) == 2


def test_a_run_whose_process_is_dead_or_a_sweep_does_not_hold_records_back(labs):
    a, b = labs
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = dead.stdout.strip()
    with open_run(a) as run:  # a `hyp run` killed with -9 on this machine: its run is left RUNNING
        run.tracker.set_tags(run.run_id, {"hyp.pid": pid, "hyp.proc_start": "1"})
        recorded = run_hyp("record", "H003", "--metric", "score=9.9", lab=b)
        assert recorded.code == 0, recorded
    with open_run(a, kind="sweep"):  # trials are no evidence: no verdict tag or report of it goes stale
        recorded = run_hyp("record", "H003", "--metric", "score=9.5", lab=b)
        assert recorded.code == 0, recorded
