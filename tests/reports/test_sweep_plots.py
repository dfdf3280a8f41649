"""The sweep's plots as a reader sees them: full parameter names, no legend over a title, nothing cut off."""

from __future__ import annotations

import random

import pytest

SPACE = {"experiment.training.epochs": (8, 24), "experiment.training.learning_rate": (1e-3, 1e-2),
         "experiment.dataset.synthetic.ratio": (0.0, 0.5)}


def trials(n: int = 4) -> list:
    """Finished trials as `hyp sweep` stores them: three parameters of the demo's space, the VRAM constraint met."""
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution

    distributions = {"experiment.training.epochs": IntDistribution(8, 24),
                     "experiment.training.learning_rate": FloatDistribution(1e-3, 1e-2, log=True),
                     "experiment.dataset.synthetic.ratio": FloatDistribution(0.0, 0.5)}
    rng, out = random.Random(0), []
    for i in range(n):
        params = {"experiment.training.epochs": rng.randint(8, 24),
                  "experiment.training.learning_rate": 10 ** rng.uniform(-3, -2),
                  "experiment.dataset.synthetic.ratio": rng.uniform(0.0, 0.5)}
        t = optuna.trial.create_trial(params=params, distributions=distributions, value=rng.uniform(3, 9),
                                      constraints={"vram_gb": -1.0}, system_attrs={"constraints": [-1.0]})
        t.number = i
        out.append(t)
    return out


@pytest.fixture
def figures():
    import matplotlib.pyplot as plt

    from hyp.sweeps.summary import sweep_figures

    drawn = sweep_figures(trials(), "maximize")
    yield drawn
    for figure in drawn.values():
        plt.close(figure)


def overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_the_parallel_coordinates_legend_leaves_the_title_readable_and_stays_in_the_file(figures):
    figure = figures["parallel"]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    title = figure.axes[0].title
    legends = [*figure.legends, *(ax.get_legend() for ax in figure.axes if ax.get_legend() is not None)]

    assert title.get_text() == "Parallel Coordinate Plot"
    assert [t.get_text() for lg in legends for t in lg.get_texts()] == ["Feasible", "Infeasible"]
    saved = figure.get_tightbbox(renderer)  # what `bbox_inches="tight"` writes
    for legend in legends:
        box = legend.get_window_extent(renderer)
        assert not overlaps(box, title.get_window_extent(renderer))
        assert saved.x1 * figure.dpi + 1 >= box.x1 and saved.y1 * figure.dpi + 1 >= box.y1


def test_the_parallel_coordinates_axes_name_every_parameter_in_full(figures):
    labels = [t.get_text() for t in figures["parallel"].axes[0].get_xticklabels()]

    assert labels == ["Objective Value", "dataset.synthetic.ratio", "training.epochs", "training.learning_rate"]


def test_importances_from_fewer_than_ten_trials_say_so_in_their_title(figures):
    (ax,) = [a for a in figures["importances"].axes if a.get_title()]

    assert ax.get_title() == "Hyperparameter importances from 4 trials: fewer than 10, mostly chance"
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == ["dataset.synthetic.ratio", "training.epochs",
                                                                  "training.learning_rate"]
