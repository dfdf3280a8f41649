"""`hyp compare`: the params and metrics of each hypothesis's latest result run, side by side, and
for each metric its difference from the first hypothesis with a paired 95% interval (SPEC §5, §7).

`compare` fetches the runs; `side_by_side` and `differences` are pure.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from hyp.errors import BadInput
from hyp.hypotheses.lab import Lab
from hyp.results.judged import judge
from hyp.store.base import RunRecord


@dataclass(frozen=True)
class Comparison:
    runs: list[dict]  # {"id", "run_id", "version", "verdict"}, one per hypothesis in the order given
    params: dict[str, list[str | None]]  # one value per hypothesis; None where a run lacks the key
    metrics: dict[str, list[float | None]]
    # metric -> [None, {"estimate", "low", "high", "method"} | None, ...]: each against the first hypothesis,
    # over the pooled evidence of both, paired by question where both logged their questions.
    differences: dict[str, list[dict | None]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"runs": self.runs, "params": self.params, "metrics": self.metrics, "differences": self.differences}


def compare(lab: Lab, ids: list[str], *, all_rows: bool = False) -> Comparison:
    from hyp.results.index import load_results

    hyps = [lab.load(hid) for hid in ids]  # an unknown id stops here, before the store is opened
    results = load_results(lab)
    for hid in ids:
        if hid not in results or results[hid].result_run_id is None:
            raise BadInput(f"{hid}: no results logged yet, nothing to compare (`hyp run {hid}` or `hyp record`)")
    from hyp.store import open_tracker

    tracker = open_tracker(lab)
    runs, heads = [], []
    for hyp in hyps:
        res = results[hyp.id]
        found = tracker.runs(hyp.id)
        by_id = {r.run_id: r for r in found}
        if res.result_run_id not in by_id:
            raise BadInput(f"{hyp.id}: its result run {res.result_run_id} is no longer in the store")
        runs.append(with_replicates(by_id[res.result_run_id], found))
        heads.append({"id": hyp.id, "run_id": res.result_run_id, "version": hyp.version,
                      "verdict": judge(lab, hyp, res).shown_verdict})
    table = side_by_side(heads, runs, all_rows=all_rows)
    return replace(table, differences=differences([results[h.id].evidence for h in hyps], list(table.metrics)))


def with_replicates(run: RunRecord, runs: list[RunRecord]) -> RunRecord:
    """The result run with what only its finished replicates carry (the per-question scores, `Q1.total`)
    filled in as their mean, so a `hyp run` compares question by question as a `hyp record` does."""
    units = [r for r in runs if r.parent_run_id == run.run_id and r.kind == "replicate" and r.status == "FINISHED"]
    keys = {k for u in units for k in u.metrics} - set(run.metrics)
    extra = {k: sum(vs) / len(vs) for k in keys if (vs := [u.metrics[k] for u in units if k in u.metrics])}
    return replace(run, metrics={**run.metrics, **extra}) if extra else run


def differences(evidence: list[list[dict[str, float]]], metrics: list[str]) -> dict[str, list[dict | None]]:
    """Each hypothesis's difference from the first on each metric (None where it cannot be told)."""
    out = {}
    for metric in metrics:
        row: list[dict | None] = [None]
        for other in evidence[1:]:
            gain = difference(evidence[0], other, metric)
            row.append(None if gain is None else {"estimate": gain.estimate, "low": gain.low, "high": gain.high,
                                                  "method": gain.method})
        out[metric] = row
    return out


def difference(base: list[dict[str, float]], other: list[dict[str, float]], metric: str):
    """`other` − `base`: paired by question when both logged their questions, else a Welch interval over
    results, else (one number each) a point difference with no interval: it is never called better."""
    from hyp.hypotheses.intervals import paired_gain
    from hyp.hypotheses.statistics import Interval, difference_of_means

    paired = paired_gain(base, other, metric)
    if paired is not None:
        return paired
    a = [u[metric] for u in base if metric in u and math.isfinite(u[metric])]
    b = [u[metric] for u in other if metric in u and math.isfinite(u[metric])]
    if not a or not b:
        return None
    welch = difference_of_means(a, b)
    if welch is not None:
        return welch
    d = sum(b) / len(b) - sum(a) / len(a)
    return Interval(d, None, None, len(a) + len(b), 0, "point")  # no interval from one number each


def verdict_of_difference(gain) -> str:
    """The words SPEC §7 allows: better or worse only when the interval excludes 0."""
    if gain is None or gain.method == "point":
        return "no clear difference"
    if gain.low > 0:
        return "better"
    if gain.high < 0:
        return "worse"
    return "no clear difference"


def side_by_side(heads: list[dict], runs: list[RunRecord], *, all_rows: bool = False) -> Comparison:
    """Rows that differ between the runs (every row with `all_rows`): `score` first, then the summary
    metrics, then the dotted ones (per question, per dataset part), each in natural order."""

    def rows(tables: list[dict]) -> dict[str, list]:
        keys = sorted(set().union(*tables), key=lambda k: (k != "score", "." in k, _natural(k)))
        out = {k: [t.get(k) for t in tables] for k in keys}
        return out if all_rows else {k: v for k, v in out.items() if len(set(map(repr, v))) > 1}

    return Comparison(heads, rows([r.params for r in runs]), rows([r.metrics for r in runs]))


def _natural(key: str) -> list:
    # Q2.total before Q10.total: digit runs compare as numbers.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]
