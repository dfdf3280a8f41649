"""The report's plots: training loss, score per question × criterion, score across versions."""

from __future__ import annotations

from pathlib import Path

CRITERIA = ("agent", "factual", "personality", "complete")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    os.replace(tmp, path)
    _pyplot().close(fig)
    return path


def loss_plot(path: Path, histories: dict[str, list[tuple[int, float]]]) -> Path | None:
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


def question_plot(path: Path, observations: dict) -> Path | None:
    qids = sorted({k.split(".")[0] for k in observations if k.count(".") == 1 and k.split(".")[1] in CRITERIA
                   and not k.startswith(("base.", "auto."))})
    if not qids:
        return None
    plt = _pyplot()
    grid = [[observations[f"{q}.{c}"].estimate if f"{q}.{c}" in observations else float("nan") for c in CRITERIA]
            for q in qids]
    fig, ax = plt.subplots(figsize=(5, 0.4 * len(qids) + 1.2))
    im = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=2, aspect="auto")
    ax.set_xticks(range(len(CRITERIA)), CRITERIA)
    ax.set_yticks(range(len(qids)), qids)
    for i, row in enumerate(grid):
        for k, v in enumerate(row):
            ax.text(k, i, f"{v:.3g}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label="points (0–2)")
    ax.set_title("Score per question and criterion")
    return _save(fig, path)


def lineage_plot(path: Path, lineage) -> Path | None:
    rows = [(j.hypothesis.version or j.hypothesis.id, j.hypothesis.id, j.verdict.observations.get("score"))
            for _, j in lineage]
    rows = [r for r in rows if r[2] is not None]
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    labels = [f"{hid}\n{version}" for version, hid, _ in rows]
    means = [e.estimate for *_, e in rows]
    errs = [[e.estimate - e.low for *_, e in rows], [e.high - e.estimate for *_, e in rows]]
    ax.bar(range(len(rows)), means, yerr=errs, capsize=4, color="#4C72B0")
    ax.set_xticks(range(len(rows)), labels)
    ax.set_ylim(0, 10)
    ax.set_ylabel("score (0–10)")
    ax.set_title("Score across versions")
    return _save(fig, path)
