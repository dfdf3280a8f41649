"""The report's loss and lineage plots as a reader sees them: the held-out loss on the train loss's own step axis
(not a second, self-scaled one), its best epoch named in the legend; the goal and the base model as lines."""

from __future__ import annotations

import pytest


@pytest.fixture
def close():
    import matplotlib.pyplot as plt

    figures = []
    yield figures.append
    for fig in figures:
        plt.close(fig)


def test_held_out_loss_is_drawn_at_its_logged_steps_on_the_train_axis(close):
    from hyp.reports.plots import loss_figure

    train = [(s, 5.0 - s / 100) for s in range(1, 301)]
    heldout = [(100, 4.6, 1), (200, 4.4, 2), (300, 4.9, 3)]  # logged at each epoch's last step

    fig = loss_figure({"train": {"H004-r0": train}, "heldout": {"H004-r0": heldout}})
    close(fig)

    (ax,) = fig.axes  # one x axis: no twiny whose epochs scale themselves
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["H004-r0 held-out (per epoch)"].get_xdata()) == [100, 200, 300]
    assert list(lines["H004-r0 train"].get_xdata())[-1] == 300
    best = lines["lowest held-out loss: epoch 2 (4.40)"]  # in the legend, not as text over the curves
    assert list(best.get_xdata()) == [200, 200]
    assert not ax.texts
    assert "lowest held-out loss: epoch 2 (4.40)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_without_held_out_loss_the_plot_is_the_train_curves(close):
    from hyp.reports.plots import loss_figure

    fig = loss_figure({"train": {"H003-r0": [(1, 3.0), (2, 2.5)], "H003-r1": [(1, 3.1), (2, 2.4)]}, "heldout": {}})
    close(fig)

    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["H003-r0", "H003-r1"]
    assert fig.axes[0].get_title() == "Training loss per replicate"


def test_the_lineage_plot_keeps_goal_and_base_model_lines_and_draws_bars_only_for_intervals(close):
    from hyp.reports.plots import lineage_figure

    fig = lineage_figure({"rows": [("H003\nv2.3", 7.0, 5.2, 8.7), ("H004\nv2.4", 8.3, None, None)], "goal": 8.0,
                          "base": 5.3125})
    close(fig)

    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["goal 8", "base model 5.3"]
    assert len(ax.containers) == 2  # the bars, and one error bar: H004 is one number with no interval


def test_a_between_goal_is_drawn_as_a_band(close):
    from hyp.reports.plots import lineage_figure

    fig = lineage_figure({"rows": [("H003\nv2.3", 7.0, 5.2, 8.7)], "goal": [8.8, 9.2], "base": None})
    close(fig)

    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["goal 8.8–9.2"]


def test_held_out_loss_logged_by_epoch_before_issue_19_is_placed_at_its_epochs_share_of_the_steps():
    from hyp.reports.logged import heldout_at_steps as _at_steps

    train = [(s, 1.0) for s in range(1, 61)]
    assert _at_steps([(1, 4.0), (2, 3.5), (3, 3.9)], [], train) == [(20, 4.0, 1), (40, 3.5, 2), (60, 3.9, 3)]
    assert _at_steps([(20, 4.0), (40, 3.5)], [(20, 1.0), (40, 2.0)], train) == [(20, 4.0, 1), (40, 3.5, 2)]
