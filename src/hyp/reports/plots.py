"""The report's plots: training loss, score per question × criterion, score across versions, sweep history.

Each takes plain data (the report decides what to draw) and writes one PNG atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

from hyp.errors import BadInput
from hyp.hypotheses.criteria import CRITERIA

PLOT_NAMES = ("loss", "questions", "lineage", "sweep", "sweep-history", "sweep-importances", "sweep-parallel")
_PNG = b"\x89PNG\r\n\x1a\n"


def check_plot_places(folder: Path, hid: str, report: Path | None = None) -> None:
    """The plots go beside the report (`H004-loss.png` ...): in a folder of the user's (`-o`), a file of
    that name that is not a plot hyp drew (not a PNG, or a link) is theirs, and stays. BadInput before
    anything is written."""
    if report is not None and report.name in {f"{hid}-{name}.png" for name in PLOT_NAMES}:
        raise BadInput(f"{report}: that is where one of the report's plots goes; give the report another name")
    for name in PLOT_NAMES:
        path = folder / f"{hid}-{name}.png"
        if not os.path.lexists(path):
            continue
        ok = path.is_file() and not path.is_symlink()  # a regular file only: opening a FIFO would wait
        if ok:
            try:
                with path.open("rb") as f:
                    ok = f.read(len(_PNG)) == _PNG
            except OSError:
                ok = False
        if not ok:
            raise BadInput(f"{path}: already exists and is not a plot hyp drew; the report's plots go there "
                           "(remove it, or pick another -o folder)")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    import io

    from hyp.files import write_atomic

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    write_atomic(path, buffer.getvalue())
    return path


def loss_plot(path: Path, data: dict) -> Path:
    return _save(loss_figure(data), path)


def loss_figure(data: dict):
    """`data`: {"train": replicate -> [(step, loss)], "heldout": replicate -> [(step, loss, epoch)]}. The held-out
    loss is drawn at the step it was logged at (the last step of its epoch) on the train loss's own axis, so the
    two curves line up; its lowest epoch is marked by a vertical line named in the legend, not by text on the
    curves."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    heldout = {k: v for k, v in (data.get("heldout") or {}).items() if v}
    for i, (name, points) in enumerate(sorted(data["train"].items())):
        if points:
            steps, values = zip(*sorted(points), strict=True)
            ax.plot(steps, values, label=f"{name} train" if heldout else name, linewidth=1.2,
                    color=colours[i % len(colours)])
    for i, (name, points) in enumerate(sorted(heldout.items())):
        steps, values, epochs = zip(*sorted(points), strict=True)
        ax.plot(steps, values, "--o", markersize=3, linewidth=1.2, color=colours[(i + 3) % len(colours)],
                label=f"{name} held-out (per epoch)")
        if i == 0:  # the first replicate's, as the report's text says
            best = min(range(len(values)), key=values.__getitem__)
            ax.axvline(steps[best], color="#7F7F7F", linestyle=":", linewidth=1,
                       label=f"lowest held-out loss: epoch {epochs[best]} ({values[best]:.2f})")
            ax.plot(steps[best], values[best], "*", markersize=10, color=colours[(i + 3) % len(colours)])
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("Training and held-out loss" if heldout else "Training loss per replicate")
    ax.legend(fontsize=7, loc="best")
    return fig


def questions_plot(path: Path, grid: dict[str, dict[str, float]]) -> Path:
    """`grid`: question -> criterion -> points (0-2), as a heatmap."""
    plt = _pyplot()
    qids = list(grid)
    cells = [[grid[q].get(c, float("nan")) for c in CRITERIA] for q in qids]
    fig, ax = plt.subplots(figsize=(5, 0.4 * len(qids) + 1.2))
    im = ax.imshow(cells, cmap="RdYlGn", vmin=0, vmax=2, aspect="auto")
    ax.set_xticks(range(len(CRITERIA)), CRITERIA)
    ax.set_yticks(range(len(qids)), qids)
    for i, row in enumerate(cells):
        for k, v in enumerate(row):
            ax.text(k, i, f"{v:.3g}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label="points (0–2)")
    ax.set_title("Score per question and criterion")
    return _save(fig, path)


def lineage_plot(path: Path, data: dict) -> Path:
    return _save(lineage_figure(data), path)


def lineage_figure(data: dict):
    """`data["rows"]`: (label, score, low, high) per version in lineage order, low/high None for a single
    number (no error bar then); `goal` (a number, or the two ends of a `between`) and `base` (the base model's
    score) drawn as lines where known."""
    plt = _pyplot()
    rows = data["rows"]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    means = [m for _, m, _, _ in rows]
    ax.bar(range(len(rows)), means, color="#4C72B0")
    for i, (_, m, lo, hi) in enumerate(rows):
        if lo is not None and hi is not None and hi > lo:
            ax.errorbar(i, m, yerr=[[m - lo], [hi - m]], capsize=4, color="black", linewidth=1)
    goal = data.get("goal")
    if isinstance(goal, list | tuple):
        ax.axhspan(goal[0], goal[1], color="#2CA02C", alpha=0.15, label=f"goal {goal[0]:g}–{goal[1]:g}")
    elif goal is not None:
        ax.axhline(goal, color="#2CA02C", linestyle="--", linewidth=1, label=f"goal {goal:g}")
    if data.get("base") is not None:
        ax.axhline(data["base"], color="#7F7F7F", linestyle=":", linewidth=1, label=f"base model {data['base']:.1f}")
    ax.set_xticks(range(len(rows)), [label for label, *_ in rows])
    ax.set_ylim(0, 10.5)  # room for an interval's cap at 10
    ax.set_ylabel("score (0–10)")
    ax.set_title("Score across versions (error bars: 95% intervals where there is one)")
    if data.get("goal") is not None or data.get("base") is not None:
        ax.legend(fontsize=7, loc="lower right")
    return fig


def sweep_plot(path: Path, sweep: dict) -> Path:
    """The objective of every trial in order, with the best value reached so far."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    trials, values = zip(*sweep["history"], strict=True)
    pick = max if sweep["direction"] == "maximize" else min
    best = [pick(values[: i + 1]) for i in range(len(values))]
    ax.plot(trials, values, "o", color="#4C72B0", label="trial")
    ax.step(trials, best, where="post", color="#DD8452", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(sweep["metric"])
    ax.set_title("Optimisation history")
    ax.legend(fontsize=7)
    return _save(fig, path)
