"""A lab with 10,000 runs across 500 hypotheses (issue 6): `hyp list`, `show`, `compare`, `report`.

    python benchmarks/scale.py [--hypotheses 500] [--runs-each 20]

Goals: list and show ≤ 1 s, compare ≤ 1 s, report ≤ 2 s, memory flat. The same commands are
first timed on a lab with the same hypotheses and a tenth of the runs (2 each), built the same
way in this run: the ratios (time and peak RSS at 10× the runs) show what grows with the store.
What grows with the number of hypotheses (the status index holds every one) is a separate matter:
the absolute figures show it. Runs are written as
benchmarks/report_speed.py writes them (what `hyp record` logs, without re-reading the store
after each one).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import report_speed  # noqa: E402  (the run writer is shared with the report benchmark)

REPEATS = 5
RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
       "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def measure(root: Path, hid: str, other: str) -> dict[str, tuple[float, float]]:
    """Median seconds and peak RSS (MB) of each command on the lab at `root`.

    `list` and `report` are also timed right after the store changed: `list_rebuild` as after another
    process wrote to the store (the index is read again from it), `report_cold` after a new result
    for the hypothesis was logged (its runs are read again, plots redrawn, the report logged again)."""
    import os

    hyp = [sys.executable, "-m", "hyp"]
    rebuild = {**os.environ, "HYP_NO_INDEX": "1"}
    commands = {"list": ([*hyp, "list", "--json"], None, None),
                "list_rebuild": ([*hyp, "list", "--json"], rebuild, None),
                "show": ([*hyp, "show", hid, "--json"], None, None),
                "compare": ([*hyp, "compare", other, hid, "--json"], None, None),
                "report": ([*hyp, "report", hid], None, None),
                "report_cold": ([*hyp, "report", hid], None, report_speed.new_results(root, hid, REPEATS + 1))}
    out = {}
    for name, (cmd, env, before) in commands.items():
        subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)  # builds the index / snapshot
        times = []
        for _ in range(REPEATS):
            if before:
                before()
            started = time.perf_counter()
            subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        if before:
            before()
        rss = subprocess.run([sys.executable, "-c", RSS, *cmd], cwd=root, env=env, check=True,
                             capture_output=True, text=True).stdout.split()[-1]
        out[name] = (statistics.median(times), int(rss) / 1024)
    return out


def build(root: Path, hypotheses: int, runs_each: int) -> tuple[str, str, float]:
    report_speed.N_HYPOTHESES, report_speed.RUNS_EACH = hypotheses, runs_each
    started = time.perf_counter()
    last = report_speed.build_lab(root)
    return last, f"H{int(last[1:]) - 1:03d}", time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hypotheses", type=int, default=500)
    parser.add_argument("--runs-each", type=int, default=20)
    args = parser.parse_args(argv)
    shm = Path("/dev/shm")
    result: dict = {"runs": args.hypotheses * args.runs_each, "hypotheses": args.hypotheses}
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        small_hid, small_other, _ = build(Path(tmp) / "small", args.hypotheses, max(args.runs_each // 10, 1))
        small = measure(Path(tmp) / "small", small_hid, small_other)
        hid, other, built = build(Path(tmp) / "large", args.hypotheses, args.runs_each)
        large = measure(Path(tmp) / "large", hid, other)
    result["build_store_s"] = built
    for name, (seconds, rss) in large.items():
        result[f"{name}_s"], result[f"{name}_rss_mb"] = seconds, rss
        result[f"{name}_time_ratio_10x"] = seconds / small[name][0]
        result[f"{name}_rss_ratio_10x"] = rss / small[name][1]
        print(f"hyp {name:12} {seconds:6.3f} s, {rss:6.0f} MB peak RSS "
              f"(×{seconds / small[name][0]:.2f} time, ×{rss / small[name][1]:.2f} memory for 10× the runs)")
    return result


if __name__ == "__main__":
    main()
