"""The report's plots: training loss, score per question × criterion, score across versions, sweep history.

Each takes plain data (the report decides what to draw) and writes one PNG atomically.
"""

from __future__ import annotations

from pathlib import Path

from hyp.hypotheses.criteria import CRITERIA


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


def loss_plot(path: Path, histories: dict[str, list[tuple[int, float]]]) -> Path:
    """`histories`: replicate name -> (step, train loss)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, points in sorted(histories.items()):
        if points:
            steps, values = zip(*sorted(points), strict=True)
            ax.plot(steps, values, label=name, linewidth=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel("train loss")
    ax.set_title("Training loss per replicate")
    ax.legend(fontsize=7)
    return _save(fig, path)


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


def lineage_plot(path: Path, rows: list[tuple[str, float, float, float]]) -> Path:
    """`rows`: (label, score, low, high) per version, in lineage order; the bars carry the intervals."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    means = [m for _, m, _, _ in rows]
    errs = [[m - lo for _, m, lo, _ in rows], [hi - m for _, m, _, hi in rows]]
    ax.bar(range(len(rows)), means, yerr=errs, capsize=4, color="#4C72B0")
    ax.set_xticks(range(len(rows)), [label for label, *_ in rows])
    ax.set_ylim(0, 10)
    ax.set_ylabel("score (0–10)")
    ax.set_title("Score across versions")
    return _save(fig, path)


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
