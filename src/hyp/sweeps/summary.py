"""What a sweep found and what it cost: best feasible trials, how trials ended, trial-epochs spent
and saved, and Optuna's plots. `summarize_trials` is pure (trials in, summary out); `sweep_summary` reads
the study and is what the report's sweep section calls.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hyp.files import write_atomic

BEST_SHOWN = 5


@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str  # complete | infeasible | pruned | failed | running | waiting
    value: float | None  # the objective; None when there is none to show
    params: dict
    epochs_planned: int | None
    epochs_trained: int
    estimate_gb: float | None
    peak_vram_gb: float | None
    reason: str | None  # why infeasible, pruned or failed
    mlflow_run_id: str | None
    launched: bool = True  # False: refused by the VRAM estimate, never trained


@dataclass
class SweepSummary:
    study: str
    hypothesis: str | None
    metric: str
    direction: str
    trials: list[TrialRow]
    best: list[TrialRow]  # feasible complete trials, best first, at most BEST_SHOWN
    counts: dict[str, int]
    epochs_spent: int  # trial-epochs actually trained
    epochs_saved_by_pruning: int  # epochs the pruned trials did not train
    epochs_saved_by_estimate: int  # epochs of configurations never launched because they would not fit
    plots: dict[str, Path] = field(default_factory=dict)

    @property
    def epochs_planned(self) -> int:
        return self.epochs_spent + self.epochs_saved_by_pruning + self.epochs_saved_by_estimate

    def to_json(self) -> dict:
        data = asdict(self)
        data["plots"] = {k: str(v) for k, v in self.plots.items()}
        data["epochs_planned"] = self.epochs_planned
        return data

    def metrics(self) -> dict[str, float]:
        """The figures the sweep's MLflow run carries."""
        out = {f"trials.{k}": float(v) for k, v in self.counts.items()}
        out |= {"trial_epochs.spent": self.epochs_spent, "trial_epochs.saved_by_pruning": self.epochs_saved_by_pruning,
                "trial_epochs.saved_by_estimate": self.epochs_saved_by_estimate}
        if self.best:
            # Under the objective's own name, so the sweep's row in the runs table shows the score the
            # trials reached in the same column as the hypotheses' runs (`hyp.best_trial` says which).
            out[self.metric] = self.best[0].value
        return out


def _feasible(t) -> bool:
    return t.state.name == "COMPLETE" and t.value is not None and math.isfinite(t.value) \
        and not any(v > 0 for v in t.constraints.values())


def summarize_trials(trials, *, study: str, hypothesis: str | None, metric: str, direction: str) -> SweepSummary:
    """The summary of a study's trials (Optuna FrozenTrials)."""
    rows = [_row(t) for t in sorted(trials, key=lambda t: t.number)]
    feasible = [r for r in rows if r.state == "complete"]
    best = sorted(feasible, key=lambda r: r.value, reverse=direction == "maximize")[:BEST_SHOWN]
    counts = {s: sum(r.state == s for r in rows) for s in ("complete", "infeasible", "pruned", "failed", "running",
                                                             "waiting")}
    return SweepSummary(
        study=study, hypothesis=hypothesis, metric=metric, direction=direction, trials=rows, best=best, counts=counts,
        epochs_spent=sum(r.epochs_trained for r in rows),
        epochs_saved_by_pruning=sum((r.epochs_planned or 0) - r.epochs_trained for r in rows if r.state == "pruned"),
        epochs_saved_by_estimate=sum(r.epochs_planned or 0 for r in rows
                                     if r.state == "infeasible" and not r.launched),
    )


def _row(t) -> TrialRow:
    attrs = t.user_attrs
    state = t.state.name
    infeasible = any(v > 0 for v in t.constraints.values())
    if infeasible and state in ("COMPLETE", "PRUNED"):  # PRUNED since issue 19; COMPLETE in older studies
        kind = "infeasible"
    elif state == "COMPLETE":
        kind = "complete"
    else:
        kind = {"PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}[state]
    value = t.value if state == "COMPLETE" and t.value is not None and math.isfinite(t.value) else None
    reason = attrs.get("infeasible") if kind == "infeasible" else None
    if kind == "failed":
        reason = attrs.get("hyp.stopped") or "its worker stopped beating (killed?); failed by heartbeat"
    elif kind == "pruned":
        reason = f"pruned after epoch {attrs.get('epochs_trained', 0)}"
    planned = attrs.get("epochs_planned")
    return TrialRow(
        number=t.number, state=kind, value=value, params=dict(t.params), epochs_planned=planned,
        epochs_trained=int(attrs.get("epochs_trained", planned if kind == "complete" else 0) or 0),
        estimate_gb=attrs.get("estimate_gb"), peak_vram_gb=attrs.get("peak_vram_gb"), reason=reason,
        mlflow_run_id=attrs.get("mlflow_run_id"), launched=attrs.get("launched", True),
    )


def sweep_summary(lab, hid: str, *, study: str | None = None, storage: str | None = None,
                  plots_dir: Path | None = None) -> SweepSummary | None:
    """The summary of hypothesis `hid`'s sweep (study `study`, default `hid`), or None if none ran.

    With `plots_dir`, Optuna's optimization history, parameter importances and parallel
    coordinates are written there as `{hid}-sweep-{history,importances,parallel}.png` (those the
    trials allow: importances need two feasible complete trials that differ).
    """
    from hyp.store.sqlite_reader import sqlite_path
    from hyp.sweeps.study import open_storage

    url = storage or lab.sweep_storage
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None  # no sweep ever ran in this lab: do not create an empty database
    backend = open_storage(url)
    name = study or hid
    try:
        study_id = backend.get_study_id_from_name(name)
    except KeyError:
        return None
    from hyp.sweeps.study import ATTR_HYPOTHESIS, ATTR_OBJECTIVE

    attrs = backend.get_study_user_attrs(study_id)
    direction = backend.get_study_directions(study_id)[0].name.lower()
    metric = attrs.get(ATTR_OBJECTIVE, f"{direction} value").split(" ", 1)[-1]
    trials = backend.get_all_trials(study_id, deepcopy=False)
    summary = summarize_trials(trials, study=name, hypothesis=attrs.get(ATTR_HYPOTHESIS), metric=metric,
                        direction=direction)
    if plots_dir is not None:
        summary.plots = write_plots(trials, direction, Path(plots_dir), hid)
    return summary


def write_plots(trials, direction: str, directory: Path, prefix: str) -> dict[str, Path]:
    """Optuna's matplotlib plots of the feasible trials; returns the files written."""
    import matplotlib.pyplot as plt

    written = {}
    for name, figure in sweep_figures(trials, direction).items():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")  # legends and labels outside stay in
        plt.close(figure)
        path = directory / f"{prefix}-sweep-{name}.png"
        write_atomic(path, buffer.getvalue())
        written[name] = path
    return written


def sweep_figures(trials, direction: str) -> dict:
    """Optuna's history, importances and parallel-coordinates figures of the feasible trials, laid out to be
    read: full parameter names, and no legend over a title (the caller saves and closes them)."""
    if not any(_feasible(t) for t in trials):
        return {}
    import copy
    import warnings

    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import optuna
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as oplt

    from hyp.reports.summary import IMPORTANCE_MIN_TRIALS

    # Infeasible trials carry the objective's worst value (±inf), which would flatten every axis.
    # The plots read an in-memory copy of the study where they appear FAILed, which every plot
    # skips, while each trial keeps its number.
    view = optuna.create_study(direction=direction)
    for t in sorted(trials, key=lambda t: t.number):
        if not _feasible(t) and t.state != TrialState.PRUNED:
            t = copy.deepcopy(t)
            t.state, t.values = TrialState.FAIL, None
            t.datetime_complete = t.datetime_complete or t.datetime_start
        view.add_trial(t)
    names = sorted({p for t in trials for p in t.params})
    makers = {"history": oplt.plot_optimization_history, "importances": oplt.plot_param_importances,
              "parallel": oplt.plot_parallel_coordinate}
    figures = {}
    for name, make in makers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "experimental" on every matplotlib plot
            try:
                axes = make(view)
            except (ValueError, RuntimeError):
                continue  # e.g. importances of one trial, or of values that never varied
        figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
        figure.set_size_inches(8, 5)
        _lay_out(figure, names)
        finished = sum(_feasible(t) for t in trials)
        if name == "importances" and finished < IMPORTANCE_MIN_TRIALS:
            axes.set_title(f"Hyperparameter importances from {finished} trials: fewer than "
                           f"{IMPORTANCE_MIN_TRIALS}, mostly chance")
        figures[name] = figure
    return figures


def _lay_out(figure, names: list[str]) -> None:
    """Optuna cuts parameter names to 17 characters ("experiment.datase...") and sets the parallel plot's
    feasibility legend over its title: the names are given back (without the `experiment.` every one
    shares) and every legend moves outside the axes, to the right, where a tight bounding box keeps it."""
    def full(labels: list[str]) -> list[str]:
        # Both lists run in name order, so two names cut to the same 17 characters are told apart by it.
        left, out = list(names), []
        for label in labels:
            if label.endswith("..."):
                label = next((n for n in left if n.startswith(label[:-3])), label)
            if label in left:
                left.remove(label)
            out.append(label.removeprefix("experiment."))
        return out

    for ax in figure.axes:
        for axis, setter in ((ax.xaxis, ax.set_xticklabels), (ax.yaxis, ax.set_yticklabels)):
            labels = [t.get_text() for t in axis.get_ticklabels()]
            if any(label.endswith("...") or label.startswith("experiment.") for label in labels):
                axis.set_ticks(axis.get_ticklocs())
                setter(full(labels))
                if axis is ax.xaxis:
                    for t in ax.get_xticklabels():
                        t.set_rotation(25)
                        t.set_horizontalalignment("right")
        legend = ax.get_legend()
        if legend is not None:
            handles, texts = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
            legend.remove()
            figure.legend(handles, texts, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False, fontsize=8)
