"""What a run logs about its data, beside training: the MLflow dataset inputs (the mix with both its
source files and its schema, the held-out set as an evaluation input) and the data metrics, where a
synthetic file too short for the asked ratio shows as the share actually reached. `p` is run.py's PreparedRun."""

from __future__ import annotations

from hyp.experiments import data as datamod
from hyp.hypotheses.lab import Lab

# A row of the mix or the held-out set, as MLflow's dataset schema types it: the ShareGPT messages (as JSON
# text), which file it came from (curated, synthetic, heldout), and its position there.
CONVERSATION_COLUMNS = {"conversations": "string", "source": "string", "index": "long"}


def dataset_records(lab: Lab, p) -> list:
    """MLflow dataset inputs, each with the digest of its exact content: the mix the model trains on
    (both source files named, with the synthetic share asked and reached), and the held-out set
    (context `evaluation`) when there is one."""
    from hyp.store.base import DatasetRecord

    ds = p.hypothesis.experiment.dataset
    sources = {"curated": str(lab.root / ds.curated.path)}
    if ds.synthetic and ds.synthetic.ratio > 0:
        sources["synthetic"] = str(lab.root / ds.synthetic.path)
    mix = DatasetRecord(name=f"{p.hypothesis.id}-mix", digest=p.mix.digest, rows=len(p.mix.examples),
                        source=sources["curated"], sources=sources, columns=CONVERSATION_COLUMNS,
                        profile={"curated": p.mix.curated_count, "synthetic": p.mix.synthetic_count,
                                 **_synthetic_share(p)})
    records = [mix]
    if ds.heldout and p.heldout:
        records.append(DatasetRecord(name=f"{p.hypothesis.id}-heldout", digest=datamod.digest(p.heldout),
                                     rows=len(p.heldout), source=str(lab.root / ds.heldout.path),
                                     context="evaluation", columns=CONVERSATION_COLUMNS,
                                     profile={"dropped_as_repeats_of_training": p.heldout_dropped}))
    return records


def _synthetic_share(p) -> dict[str, float]:
    synthetic = p.hypothesis.experiment.dataset.synthetic
    if synthetic is None or synthetic.ratio <= 0:
        return {}
    return {"synthetic_ratio_asked": synthetic.ratio, "synthetic_ratio_achieved": round(p.mix.achieved_ratio, 4),
            "synthetic_requested": p.mix.synthetic_requested}


def data_metrics(p) -> dict[str, float]:
    metrics = {"dataset.size": len(p.mix.examples), "dataset.curated": p.mix.curated_count,
               "dataset.synthetic": p.mix.synthetic_count, "dataset.duplicates_removed": p.mix.duplicates_removed,
               **p.lint_counts}
    share = _synthetic_share(p)
    if share:
        # The asked ratio is the `dataset.synthetic.ratio` param; a synthetic file too short for it caps
        # the mix (two ratios above the cap train on the same data), which this makes visible beside it.
        metrics |= {"dataset.synthetic_ratio_achieved": share["synthetic_ratio_achieved"],
                    "dataset.synthetic_requested": share["synthetic_requested"]}
    if p.hypothesis.experiment.dataset.heldout:
        metrics |= {"dataset.heldout": len(p.heldout), "dataset.heldout_dropped": p.heldout_dropped}
    return metrics
