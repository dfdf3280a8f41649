"""`hyp run H004` on the demo lab, and what tracking costs it.

    python benchmarks/run_time.py [--repeats N]

Three figures, all from this one run:

1. Wall time of the command `hyp run H004` as a user types it (a new process each time, imports
   included): the first run in a fresh lab with an empty user cache (HYP_CACHE_DIR points at a new
   temporary folder; `builtin:tiny` comes with hyp, so nothing is built unless that copy is missing),
   and the median of the runs after it; their ratio is `fresh_ratio` (issue 19 asks ≤ 1.2×).
   Goal (issue 3): ≤ 60 s, goal 30 s. `--fresh-only` measures this alone (the `first_run` benchmark):
   first runs alternated with later ones, each first run in a new lab with a new empty user cache.
2. Tracking overhead: the same recipe (`run_hypothesis`: data, base evaluation, training,
   evaluation, verdict) with the MLflow tracker against a tracker that records nothing, alternated
   in one process so that machine load hits both alike. Goal: ≤ 1.02×. The report is timed apart:
   it reads the store back and draws plots, which is not tracking.
3. The same command in 4-bit (`--set experiment.model.quantization=4bit`: QLoRA, bitsandbytes NF4,
   on the CPU here), median of its runs, and its ratio to the 16-bit median (issue 16). It is a
   deviation, so it is not evidence; the figure is about time only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HID = "H004"
QLORA = ("--set", "experiment.model.quantization=4bit")


class NullTracker:
    """Takes every call a run makes and keeps nothing: `hyp run` with tracking off."""

    started = 0

    def start_run(self, **kwargs) -> str:
        self.started += 1
        return f"null-{self.started}"

    def runs(self, hypothesis_id=None, *, data=True):
        return []

    def latest_metrics(self, run_ids):
        return {}

    def metric_history(self, run_id, key):
        return []

    def download_artifact(self, run_id, path, dest):
        return None

    def __getattr__(self, name):  # log_params, log_metrics, set_tags, log_artifact, end_run, ...
        return lambda *args, **kwargs: None


def command_times(lab: Path, repeats: int, extra: tuple[str, ...] = ()) -> list[float]:
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "hyp", "run", HID, *extra], cwd=lab, env=env, check=True,
                       capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def tracking_times(lab_root: Path, repeats: int) -> dict[str, list[float]]:
    import hyp.store
    from hyp.experiments.run import run_hypothesis
    from hyp.hypotheses.lab import Lab
    from hyp.reports.report import write_report

    lab = Lab(lab_root)
    real_open = hyp.store.open_tracker
    times: dict[str, list[float]] = {"tracked": [], "untracked": [], "report": []}
    for _ in range(repeats):
        for mode in ("untracked", "tracked"):
            hyp.store.open_tracker = real_open if mode == "tracked" else (lambda lab: NullTracker())
            started = time.perf_counter()
            run_hypothesis(lab, HID, progress=False, write_report=False)
            times[mode].append(time.perf_counter() - started)
        hyp.store.open_tracker = real_open
        started = time.perf_counter()
        write_report(lab, HID)
        times["report"].append(time.perf_counter() - started)
    return times


def fresh_and_warm(pairs: int) -> dict:
    """`--fresh-only`: first runs (a new lab and an empty user cache each) alternated with later runs in
    one lab that has run before, so that machine load hits both alike; the ratio of their medians."""
    from hyp.hypotheses.scaffold import init_lab

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        warm_lab = init_lab(tmp / "warm", example="persona")
        os.environ["HYP_CACHE_DIR"] = str(tmp / "cache-warm")
        command_times(warm_lab, 1)  # its first run, not counted
        fresh, warm, built = [], [], []
        for i in range(pairs):
            lab = init_lab(tmp / f"fresh-{i}", example="persona")
            os.environ["HYP_CACHE_DIR"] = str(tmp / f"cache-{i}")  # a user who never ran hyp
            fresh += command_times(lab, 1)
            built.append((tmp / f"cache-{i}" / "models").exists())
            os.environ["HYP_CACHE_DIR"] = str(tmp / "cache-warm")
            warm += command_times(warm_lab, 1)
    result = {"fresh_lab_s": statistics.median(fresh), "run_s": statistics.median(warm), "fresh_runs_s": fresh,
              "later_runs_s": warm, "built_builtin_tiny": any(built)}
    result["fresh_ratio"] = result["fresh_lab_s"] / result["run_s"]
    print(f"hyp run {HID}, fresh lab and user cache ({'built' if any(built) else 'shipped'} builtin:tiny), "
          f"median of {pairs}: {result['fresh_lab_s']:.1f} s ({', '.join(f'{t:.1f}' for t in fresh)}); a later run in "
          f"a lab that has run, alternated with them: {result['run_s']:.1f} s ({', '.join(f'{t:.1f}' for t in warm)}); "
          f"ratio {result['fresh_ratio']:.2f}x (issue 19: <= 1.2x)")
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fresh-only", action="store_true", help="only the first run and the runs after it")
    args = parser.parse_args(argv)
    from hyp.hypotheses.scaffold import init_lab

    if args.fresh_only:
        return fresh_and_warm(args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        lab = init_lab(Path(tmp) / "lab", example="persona")
        # builtin:tiny is cached once per user: a new folder stands in for a user who never ran hyp.
        os.environ["HYP_CACHE_DIR"] = str(Path(tmp) / "user-cache")
        first, *rest = command_times(lab, args.repeats + 1)
        built = (Path(tmp) / "user-cache" / "models").exists()
        qlora = command_times(lab, args.repeats, QLORA)
        times = tracking_times(lab, args.repeats)
        from hyp.hypotheses.lab import Lab
        from hyp.store import open_tracker

        finished = [r for r in open_tracker(Lab(lab)).runs(HID) if r.kind == "run" and r.status == "FINISHED"]
        score, base = finished[-1].metrics["score"], finished[-1].metrics["base_score"]
    print(f"hyp run {HID}, fresh lab and user cache ({'built' if built else 'shipped'} builtin:tiny): {first:.1f} s, "
          f"{first / statistics.median(rest):.2f}x the median of {len(rest)} later runs "
          f"({', '.join(f'{t:.1f}' for t in rest)}) (issue 19: <= 1.2x)")
    result = {"fresh_lab_s": first, "run_s": statistics.median(rest), "built_builtin_tiny": built,
              "tracked_s": statistics.median(times["tracked"]), "untracked_s": statistics.median(times["untracked"]),
              "report_s": statistics.median(times["report"]), "score": score, "base_score": base}
    result["tracking_overhead"] = result["tracked_s"] / result["untracked_s"]
    result["fresh_ratio"] = first / result["run_s"]
    result["qlora_s"] = statistics.median(qlora)
    result["qlora_ratio"] = result["qlora_s"] / result["run_s"]
    print(f"hyp run {HID}, median of {len(rest)} later runs: {result['run_s']:.1f} s "
          f"({', '.join(f'{t:.1f}' for t in rest)}); score {score:.3f}, base_score {base:.3f}")
    print(f"recipe with MLflow tracking: {result['tracked_s']:.2f} s, tracking off: {result['untracked_s']:.2f} s "
          f"(medians of {args.repeats}, alternated)")
    print(f"tracking overhead: {result['tracking_overhead']:.3f}x (goal <= 1.02x)")
    print(f"report after the run: {result['report_s']:.2f} s")
    print(f"hyp run {HID} in 4-bit (QLoRA on this machine), median of {len(qlora)}: {result['qlora_s']:.1f} s, "
          f"{result['qlora_ratio']:.2f}x the 16-bit run")
    return result


if __name__ == "__main__":
    main()
