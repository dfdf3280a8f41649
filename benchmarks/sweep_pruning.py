"""What pruning saves: the demo lab's H004 sweep with pruner none, hyperband and median.

    python benchmarks/sweep_pruning.py [--trials N] [--pruners none,hyperband,median]

The sweeps are the same but for the pruner: same lab, space and sampler seed, so the same
configurations are drawn (TPE samples its first 10 trials at random from the seeded generator,
whatever the earlier trials scored). Each runs as `hyp sweep` in a new process, one after the
other in this one run, and is compared with pruner none as ratios: trial-epochs spent, wall time,
and the best score found. Goal (issue 5): ≥ 40% of trial-epochs saved at an equal best score.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HID = "H004"


def sweep(lab: Path, hid: str, study: str, trials: int) -> float:
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hyp", "--lab", str(lab), "sweep", hid, "--study", study,
                    "--trials", str(trials)], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def variant(lab: Path, pruner: str, n: int) -> str:
    """H004 under another id with `pruner` in its sweep block (the id names the study)."""
    hid = f"H{900 + n}"
    text = (lab / "hypotheses" / f"{HID}.yaml").read_text()
    text = text.replace(f"id: {HID}", f"id: {hid}", 1).replace("pruner: hyperband", f"pruner: {pruner}")
    (lab / "hypotheses" / f"{hid}.yaml").write_text(text)
    return hid


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--pruners", default="none,hyperband,median")
    parser.add_argument("--lab", type=Path, default=None,
                        help="Keep the lab (and its builtin:tiny build) here for the next run; default: temporary")
    args = parser.parse_args(argv)
    from hyp.experiments.models import BUILTIN_TINY, resolve_model_dir
    from hyp.hypotheses.lab import Lab
    from hyp.hypotheses.scaffold import init_lab
    from hyp.sweeps.summary import sweep_summary

    with tempfile.TemporaryDirectory() as tmp:
        root = args.lab or Path(tmp) / "lab"
        if not (root / "hyp.toml").exists():
            init_lab(root, example="persona")
        # Built before the clock starts, or the first sweep would pay for it.
        resolve_model_dir(BUILTIN_TINY, Lab(root).state_dir)
        rows = {}
        for n, pruner in enumerate(args.pruners.split(",")):
            hid = variant(root, pruner, n)
            study = f"bench-{pruner}-{int(time.time())}"  # a fresh study, also when --lab is reused
            seconds = sweep(root, hid, study, args.trials)
            s = sweep_summary(Lab(root), hid, study=study)
            rows[pruner] = {"seconds": round(seconds, 1), "epochs_spent": s.epochs_spent,
                            "epochs_planned": s.epochs_planned, "pruned": s.counts["pruned"],
                            "best": s.best[0].value if s.best else None,
                            "best_trial": s.best[0].number if s.best else None,
                            "params": [t.params for t in s.trials]}
            print(f"{pruner:>9}: {seconds:6.1f} s, {s.epochs_spent}/{s.epochs_planned} trial-epochs, "
                  f"{s.counts['pruned']} pruned, best {rows[pruner]['best']} (trial {rows[pruner]['best_trial']})",
                  flush=True)
    result = {f"{p}_{k}": v for p, r in rows.items() for k, v in r.items() if k != "params"}
    base = rows.get("none")
    for pruner, row in rows.items():
        if pruner == "none" or base is None:
            continue
        spent, wall = row["epochs_spent"] / base["epochs_spent"], row["seconds"] / base["seconds"]
        equal, same = row["best"] == base["best"], row["params"] == base["params"]
        result |= {f"{pruner}_epochs_ratio": round(spent, 3), f"{pruner}_epochs_saved": round(1 - spent, 3),
                   f"{pruner}_wall_ratio": round(wall, 3), f"{pruner}_best_equal": equal,
                   f"{pruner}_same_configurations": same}
        print(f"{pruner} / none: trial-epochs {spent:.2f}× (saved {1 - spent:.0%}), wall time {wall:.2f}×, best "
              f"{row['best']} vs {base['best']} ({'equal' if equal else 'differs'})"
              f"{'' if same else '; WARNING: the sampled configurations differ'}")
    return result


if __name__ == "__main__":
    main()
