"""What a report reads off logged runs, beyond the verdict: the held-out loss on the training loss's step
axis, and the latest study swept for the hypothesis. Pure."""

from __future__ import annotations

from hyp.files import json_or


def heldout_at_steps(points: list[tuple], epochs: list[tuple], train: list[tuple]) -> list[tuple[int, float, int]]:
    """The held-out loss as (step, loss, epoch) on the train loss's step axis. Since issue 19 it is logged at
    the last step of its epoch with `epoch` beside it; before that it was logged by epoch (step = epoch),
    which is placed at the epoch's share of the training steps."""
    if epochs:
        at = dict(epochs)
        return [(step, value, int(at[step])) for step, value in points if step in at]
    last_epoch = max((step for step, _ in points), default=0)
    last_step = max((step for step, _ in train), default=0)
    if not last_epoch or not last_step:
        return [(step, value, step) for step, value in points]
    return [(round(e * last_step / last_epoch), value, e) for e, value in points]


def latest_sweep(hyp, runs) -> dict | None:
    """The latest study swept for this hypothesis, as `hyp sweep` logged it: the sweep run that summarised
    it last carries the trial counts, trial-epochs and best trial (of the whole study); the trial runs
    under every sweep run of that study (several labs or machines may sweep one study, each under a
    sweep run of its own) give the history of the objective. Every lab reading the store shows the same."""
    sweeps = [r for r in runs if r.kind == "sweep" and r.parent_run_id is None]
    if not sweeps:
        return None
    study = max(sweeps, key=lambda r: r.start_time).tags.get("hyp.study")
    of_study = [r for r in sweeps if r.tags.get("hyp.study") == study]
    sweep = max(of_study, key=lambda r: (any(k.startswith("trials.") for k in r.metrics), r.end_time or 0,
                                         r.start_time, r.run_id))
    parents = {r.run_id for r in of_study}
    registered = f"{hyp.sweep.objective.direction} {hyp.sweep.objective.metric}" if hyp.sweep else "maximize score"
    direction, metric = sweep.params.get("sweep.objective", registered).split(" ", 1)
    trials = sorted((r for r in runs if r.parent_run_id in parents),
                    key=lambda r: (int(r.tags.get("hyp.trial", "0")), r.start_time))
    states = {k.removeprefix("trials."): int(v) for k, v in sweep.metrics.items() if k.startswith("trials.") and v}
    if not states:  # a sweep stopped before it summarised itself: count its trial runs
        for t in trials:
            states[t.status.lower()] = states.get(t.status.lower(), 0) + 1
    best = None
    if "hyp.best_trial" in sweep.tags:
        value = sweep.metrics.get(metric, sweep.metrics.get(f"best.{metric}"))  # `best.` before issue 19
        best = {"trial": sweep.tags["hyp.best_trial"], "value": value,
                "params": json_or(sweep.tags.get("hyp.best_params"), {})}
    return {
        "run_id": sweep.run_id, "metric": metric, "direction": direction, "trials": len(trials), "states": states,
        "best": best, "epochs": {k.removeprefix("trial_epochs."): v for k, v in sweep.metrics.items()
                                 if k.startswith("trial_epochs.")},
        "history": [(int(t.tags.get("hyp.trial", i)), t.metrics[metric]) for i, t in enumerate(trials)
                    if metric in t.metrics],
    }
