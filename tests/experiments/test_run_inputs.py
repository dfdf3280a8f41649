"""What a run logs about its data before training (issue 19, item 7): the mix names both its source files,
a synthetic file too short for the asked ratio shows as a capped share, and the held-out set is its own
evaluation input. `prepare` only: nothing is trained."""

from __future__ import annotations

import pytest

from conftest import run_hyp


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from hyp.hypotheses.lab import Lab

    root = tmp_path_factory.mktemp("inputs") / "lab"
    assert run_hyp("init", str(root), "--example", "persona").code == 0
    return Lab(root)


def test_a_ratio_the_synthetic_file_cannot_reach_is_visible_beside_the_asked_one(demo):
    from hyp.experiments.run import prepare
    from hyp.experiments.run_data import data_metrics, dataset_records

    asked = prepare(demo, "H003", overrides=["dataset.synthetic.ratio=0.44"])
    capped = prepare(demo, "H003", overrides=["dataset.synthetic.ratio=0.49"])

    metrics = data_metrics(asked)
    assert metrics["dataset.synthetic_ratio_achieved"] < 0.44  # the synthetic file runs short
    assert metrics["dataset.synthetic_requested"] > metrics["dataset.synthetic"]
    assert asked.mix.digest == capped.mix.digest  # two asked ratios, one and the same training data
    mix, heldout = dataset_records(demo, asked)
    assert (mix.context, heldout.context) == ("training", "evaluation")
    assert set(mix.sources) == {"curated", "synthetic"} and mix.sources["synthetic"].endswith("synthetic.json")
    assert mix.profile["synthetic_ratio_asked"] == 0.44
    assert mix.profile["synthetic_ratio_achieved"] == metrics["dataset.synthetic_ratio_achieved"]
    assert list(mix.columns) == ["conversations", "source", "index"]
    assert heldout.rows == len(asked.heldout) and heldout.digest != mix.digest


def test_a_mix_without_synthetic_data_names_only_its_curated_file(demo):
    from hyp.experiments.run import prepare
    from hyp.experiments.run_data import data_metrics, dataset_records

    p = prepare(demo, "H002")

    (mix, _) = dataset_records(demo, p)
    assert list(mix.sources) == ["curated"]
    assert "dataset.synthetic_ratio_achieved" not in data_metrics(p)
