"""The stakeholder report (SPEC §8): gathered from the tracking store, rendered from a template.

`write_report` reads the store and the lab; `_context` is pure and builds every number the
template shows; the template (overridable as templates/report.md.j2 in the lab) only lays them out.

What the report reads from the store for one hypothesis is kept in .hyp/reports/ with the
store's fingerprint, like the status index: while nothing was written to the store, rendering
again needs neither MLflow nor (when the plots' data is unchanged) matplotlib.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from hyp.display import fmt
from hyp.errors import BadInput
from hyp.files import json_or, parse_json, read_cache, write_atomic, write_cache
from hyp.hypotheses.criteria import CRITERIA
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.params import flatten
from hyp.reports.evidence import (
    answers_shown,
    attempts,
    evidence_text,
    fmt_metric,
    fmt_score,
    gain,
    interval_text,
    scorers_of,
    untrusted,
    who_scored,
)
from hyp.reports.logged import heldout_at_steps, latest_sweep
from hyp.reports.next_step import recommend
from hyp.reports.plots import check_plot_places
from hyp.reports.summary import (
    by_epoch,
    goal_text,
    heldout,
    importance_warning,
    missed,
    moves,
    moves_text,
    plain_text,
    scored_by,
)
from hyp.results.judged import Judged, judge
from hyp.store.base import RunRecord
from hyp.store.secrets import redact

CACHE_VERSION = 4  # 4: eval_loss as logged (by step) with the `epoch` history beside it


def _lineage(lab: Lab, hid: str) -> tuple[list[tuple[str, str]], dict]:
    """(id, relation) for the ancestors, the hypothesis itself, its siblings and children; and every valid file."""
    hyps = {}
    for other in lab.ids():
        try:
            hyps[other] = lab.load(other)
        except Exception:  # an invalid sibling must not stop the report
            continue
    chain, seen, cur = [], set(), hyps.get(hid)
    while cur and cur.parent and cur.parent in hyps and cur.parent not in seen:
        seen.add(cur.parent)
        chain.insert(0, (cur.parent, "ancestor"))
        cur = hyps[cur.parent]
    me = hyps.get(hid)
    siblings = [(o, "sibling") for o, h in hyps.items() if me and h.parent == me.parent and o != hid and me.parent]
    children = [(o, "child") for o, h in hyps.items() if h.parent == hid]
    return chain + [(hid, "this")] + siblings + children, hyps


def write_report(lab: Lab, hid: str, *, output: Path | None = None, tracker=None, judged: Judged | None = None) -> Path:
    """Write the report and its plots, and log them as artifacts of the result run.

    `judged` is the verdict the caller just concluded, so it is not computed twice."""
    from hyp.results.index import load_results, store_fingerprint

    hyp = lab.load(hid)
    if output is not None:
        output = lab.output_path(output)  # before any work: `-o hypotheses/H004.yaml` must change nothing
    # In reports/ too: a link or a file of one's own where a plot goes is refused, never kept under "Wrote".
    check_plot_places(Path(output).parent if output else lab.reports_dir, hid, Path(output) if output else None)
    # The index answers for the whole lab when it is fresh; only this hypothesis's runs are read.
    results = load_results(lab)
    judged = judged or judge(lab, hyp, results.get(hid))
    cache_path = lab.state_dir / "reports" / f"{hid}.json"
    cache = _read_cache(cache_path, lab.tracking_uri)
    # Before reading, so a write meanwhile shows next time.
    fingerprint = store_fingerprint(lab.tracking_uri, lab.settings.experiment)
    if fingerprint is None or cache.get("fingerprint") != fingerprint:
        from hyp.store import open_tracker

        tracker = tracker or open_tracker(lab)
        runs = tracker.runs(hid)
        by_id = {r.run_id: r for r in runs}
        loss = {by_id[c].name: tracker.metric_history(c, "train_loss")
                for c in judged.results.child_run_ids if c in by_id}
        eval_loss = {by_id[c].name: tracker.metric_history(c, "eval_loss")
                     for c in judged.results.child_run_ids if c in by_id}
        epochs = {by_id[c].name: tracker.metric_history(c, "epoch") for c in judged.results.child_run_ids if c in by_id}
        units = judged.results.child_run_ids or ([judged.results.result_run_id] if judged.results.result_run_id else [])
        # What was drawn and logged is keyed by content, not by the store: it stays valid.
        cache = {"fingerprint": fingerprint, "runs": [asdict(r) for r in runs], "loss": loss, "eval_loss": eval_loss,
                 "epochs": epochs,
                 "answers": _answers(tracker, [u for u in units if u in by_id][:1]),
                 **{k: cache[k] for k in ("plots", "logged") if k in cache}}
    runs = {r["run_id"]: RunRecord(**r) for r in cache["runs"]}
    loss = {name: [tuple(p) for p in points] for name, points in cache["loss"].items()}
    epochs = {name: [tuple(p) for p in points] for name, points in cache.get("epochs", {}).items()}
    # The held-out loss by epoch for the text, and at its logged step for the plot, on the train loss's axis.
    by_step = {name: heldout_at_steps([tuple(p) for p in points], epochs.get(name, []), loss.get(name, []))
               for name, points in cache.get("eval_loss", {}).items()}
    eval_loss = {name: by_epoch([tuple(p) for p in points], epochs.get(name, []))
                 for name, points in cache.get("eval_loss", {}).items()}
    result_run = runs.get(judged.results.result_run_id) if judged.results.result_run_id else None
    children = [runs[r] for r in judged.results.child_run_ids if r in runs]
    lineage = []
    lineage_ids, hyps = _lineage(lab, hid)
    for other, relation in lineage_ids:
        if other in hyps:
            lineage.append((relation, judge(lab, hyps[other], results.get(other))))
    sweep = latest_sweep(hyp, list(runs.values()))
    output = Path(output) if output else lab.reports_dir / f"{hid}.md"
    sweep_plots = []
    if sweep:
        # `hyp sweep` logs Optuna's plots with the sweep run; they are copied beside the report.
        sweep_plots = [n for n in cache.get("sweep_plots", []) if (output.parent / n).is_file()]
        if "sweep_plots" not in cache or len(sweep_plots) < len(cache["sweep_plots"]):
            from hyp.store import open_tracker

            tracker = tracker or open_tracker(lab)
            sweep_plots = cache["sweep_plots"] = _fetch_sweep_plots(tracker, sweep["run_id"], output.parent)
    plots = _plots(output, hid, {"train": loss, "heldout": by_step}, judged, lineage, sweep, sweep_plots,
                   cache.setdefault("plots", {}))
    held = heldout(eval_loss, hyp.rationale)
    context = _context(lab, judged, result_run, children, lineage, plots, sweep, cache.get("answers"), held, set(hyps))
    text = _render(lab, context | {"heldout": held, "missed": missed(judged)})
    write_atomic(output, redact(text))  # a path or URI in the lab may carry a token
    lab.save_parsed()

    not_logged = None
    if result_run is not None:
        names = [n for v in plots.values() for n in ([v] if isinstance(v, str) else v)]
        files = [output, *(output.parent / name for name in names)]
        # What was logged, by content: the report's bytes and each plot's data (as `_plots` keys it), not
        # the PNG's bytes, which another process's matplotlib may draw differently from the same data.
        drawn = cache.get("plots", {})
        digest = hashlib.sha256(output.read_bytes())
        for f in files[1:]:
            digest.update((drawn.get(str(f)) or hashlib.sha256(f.read_bytes()).hexdigest()).encode())
        logged = {"run_id": result_run.run_id, "digest": digest.hexdigest()}
        if cache.get("logged") != logged:
            from hyp.store import open_tracker

            tracker = tracker or open_tracker(lab)
            try:
                for path in files:
                    tracker.log_artifact(result_run.run_id, path)
            except OSError as e:
                if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise
                # A read-only checkout of a lab (a colleague's, a mounted share): the report is still
                # the user's, where they asked for it; it is logged by the next report that can write.
                where = os.path.dirname(e.filename) if e.filename else lab.tracking_uri  # the folder, not a temp
                not_logged = NotLogged(output, result_run.run_id, f"{where}: {e.strerror}")
            else:
                cache["logged"] = logged
    if fingerprint is not None:
        write_cache(cache_path, json.dumps({"version": CACHE_VERSION, "store": lab.tracking_uri, **cache}))
    if not_logged is not None:
        raise not_logged
    return output


class NotLogged(Exception):
    """The report was written, but the store refused it as an artifact of its run. Raised last, after
    everything else was written, so the caller can say so and still succeed."""

    def __init__(self, path: Path, run_id: str, reason: str):
        super().__init__(f"{path.name} not logged with run {run_id[:8]} ({reason})")
        self.path = path


def _answers(tracker, run_ids: list[str]) -> list[dict]:
    """The answers of the latest result (its first replicate), as logged with their scores (hand scores given
    without the answer's text too: they say who scored)."""
    import tempfile

    out = []
    for run_id in run_ids:
        with tempfile.TemporaryDirectory() as tmp:
            path = tracker.download_artifact(run_id, "answers.json", Path(tmp))
            if path and path.is_file():
                try:
                    out += [a for a in parse_json(path.read_text(), "answers.json") if isinstance(a, dict)]
                except (ValueError, TypeError, BadInput):
                    continue
    return out


def _fetch_sweep_plots(tracker, run_id: str, folder: Path) -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        got = tracker.download_artifact(run_id, "sweep", Path(tmp))
        pngs = sorted(got.glob("*.png")) if got and got.is_dir() else []
        for png in pngs:
            write_atomic(folder / png.name, png.read_bytes())
    return [png.name for png in pngs]


def _read_cache(path: Path, store: str) -> dict:
    data = read_cache(path)  # {} when absent or damaged (`null`, `[]`)
    return data if data.get("version") == CACHE_VERSION and data.get("store") == store else {}


def _context(lab: Lab, judged: Judged, result_run, children, lineage, plots, sweep,
             cache_answers: list[dict] | None = None, held: dict | None = None, taken=()) -> dict:
    hyp = judged.hypothesis
    obs = judged.verdict.observations
    est = {k: v.estimate for k, v in obs.items()}
    score = est.get("score")
    ancestors = [j for rel, j in lineage if rel == "ancestor" and j.score is not None]
    best = max(ancestors, key=lambda j: j.score, default=None)
    metrics = result_run.metrics if result_run else {}
    params = result_run.params if result_run else {}
    parent_hyp = next((j.hypothesis for rel, j in lineage if j.hypothesis.id == hyp.parent), None)

    config = []
    registered = {k: v for k, v in flatten(hyp.experiment.model_dump(mode="json")).items()}
    parent_params = flatten(parent_hyp.experiment.model_dump(mode="json")) if parent_hyp else {}
    for key in sorted(set(registered) | set(params)):
        value = params[key] if key in params else fmt(registered.get(key))
        value = "—" if value == "None" else value  # MLflow keeps an unset option as the string "None"
        change = ""
        if parent_hyp is not None and key in parent_params and _norm(parent_params[key]) != _norm(value):
            change = f"{fmt(parent_params[key])} → {value}"
        elif parent_hyp is not None and key not in parent_params:
            change = "new"
        config.append({"key": key, "value": value, "change": change, "rationale": hyp.rationale.get(key, "")})

    questions = []
    qids = sorted({k.split(".")[0] for k in est if "." in k and k.split(".")[1] in (*CRITERIA, "total")
                   and not k.startswith(("base.", "auto.", "agreement.", "kappa."))}, key=_qkey)
    for q in qids:
        questions.append({"id": q, **{c: est.get(f"{q}.{c}") for c in (*CRITERIA, "total")}})
    totals = {c: est.get(f"{c}_points") for c in CRITERIA} | {k: est.get(k) for k in ("points", "points_max")}
    totals["score"] = score
    resources = {}
    for key, label, unit in (("peak_vram_gb", "Peak VRAM", " GB"), ("peak_vram_reserved_gb", "Peak VRAM reserved",
                                                                     " GB"),
                             ("peak_rss_gb", "Peak RSS", " GB"), ("train_seconds", "Training time", " s"),
                             ("final_train_loss", "Final train loss", ""),
                             ("final_eval_loss", "Final held-out loss", ""),
                             ("train_tokens_per_second", "Tokens per second", "")):
        if key in est:
            resources[label] = fmt_metric(key, est[key]) + unit
    dataset = None
    if "dataset.size" in metrics:
        dataset = {"size": metrics.get("dataset.size"), "curated": metrics.get("dataset.curated"),
                   "synthetic": metrics.get("dataset.synthetic"), "heldout": metrics.get("dataset.heldout"),
                   "duplicates_removed": metrics.get("dataset.duplicates_removed"),
                   "synthetic_requested": metrics.get("dataset.synthetic_requested"),
                   "synthetic_achieved": metrics.get("dataset.synthetic_ratio_achieved"),
                   "lint": {k.removeprefix("lint."): v for k, v in metrics.items() if k.startswith("lint.")}}
    deviations = json_or(result_run.tags.get("hyp.deviations"), []) if result_run else []

    verdict = judged.shown_verdict
    if score is None:
        result_text = "no results yet"
    else:
        # What the interval rests on is the Evidence row's: not repeated here.
        interval = interval_text(obs.get("score"), rests=False)
        result_text = f"score {fmt_score(score)}{interval} → {judged.verdict.verdict}"
        if "points" in est and "points_max" in est:
            result_text += f" ({fmt(est['points'])} of {fmt(est['points_max'])} points)"
        if "auto.score" in est:
            result_text += f"; the rubric alone gave {fmt_score(est['auto.score'])}"
    delta = "—"
    vs_best = gain(best, judged) if score is not None and best is not None else None
    parent = next((j for rel, j in lineage if j.hypothesis.id == hyp.parent and j.score is not None), None)
    vs_parent = gain(parent, judged) if score is not None and parent is not None else None
    if vs_best is not None:
        which = ", the parent" if parent is best else ""
        delta = f"{vs_best['text']} against {best.hypothesis.id} ({fmt_score(best.score)}){which}"
    if vs_parent is not None and parent is not best:
        change_from_parent = f"{vs_parent['text']} against {parent.hypothesis.id} ({fmt_score(parent.score)})"
    elif hyp.parent and score is not None and parent is None:
        change_from_parent = f"none to show: the parent {hyp.parent} has no results yet"
    else:
        change_from_parent = None  # no parent, or the parent is the previous best: the Delta row says it
    lineage_rows = []
    for rel, j in lineage:
        m = j.verdict.observations
        size = m.get("dataset.size")
        syn = m.get("dataset.synthetic")
        ds = "—" if size is None else f"{fmt(size.estimate)} ({'hybrid' if syn and syn.estimate else 'curated'})"
        lineage_rows.append({"id": j.hypothesis.id, "relation": rel, "version": j.hypothesis.version,
                             "score": fmt_score(j.score) + interval_text(m.get("score")), "dataset": ds,
                             "verdict": j.shown_verdict})
    step = recommend(judged, held, taken)  # it also says which of the plan's options to list beside it
    moved = moves(parent, judged) if parent is not None and score is not None else []
    runs = [r for r in [result_run.run_id if result_run else None, *[c.run_id for c in children]] if r]
    if sweep:
        runs.append(sweep["run_id"])

    def actual(j):
        if j.estimate is None:
            return "no data"
        return fmt_metric(j.metric, j.estimate) + interval_text(obs.get(j.metric), j.metric)

    who = who_scored(cache_answers)
    return {
        "answers": answers_shown(cache_answers), "scored_by": scorers_of(cache_answers),
        "who_scored": scored_by(judged, who),
        "next_step": step["text"], "recommended_option": step["option"], "moves": moved,
        "moves_text": moves_text(moved, parent.hypothesis.id) if moved else None,
        "parent_id": parent.hypothesis.id if parent is not None else None,
        "importance_warning": importance_warning(sweep, plots),
        "agreements": judged.results.agreements,
        "untrusted": untrusted(judged.results.agreements), "flags": judged.results.flags,
        "h": hyp, "verdict": verdict, "lock": judged.lock, "fmt": fmt, "fmt_score": fmt_score, "actual": actual,
        "fmt_metric": fmt_metric, "goal": goal_text(judged),
        "previous_best": f"{best.hypothesis.id} ({best.hypothesis.version or '—'}): {fmt_score(best.score)}"
        if best else "none recorded",
        "result": result_text, "delta": delta, "base_score": est.get("base_score"),
        "deviations": deviations, "dataset": dataset, "config": config, "resources": resources,
        "questions": questions, "totals": totals, "predictions": judged.verdict.predictions,
        "criteria": judged.verdict.criteria, "lineage": lineage_rows, "sweep": sweep, "next_steps": step["options"],
        "no_next_steps": step["none"], "audience": lab.settings.audience,
        "plain": plain_text(judged, best, est, vs_best, step, who), "runs": runs,
        "change_from_parent": change_from_parent, "attempts": attempts(judged),
        "evidence": evidence_text(obs["score"]) if score is not None else None,
        "digest": result_run.tags.get("hyp.dataset.digest") if result_run else None,
        "packages": _packages(), "store": redact(lab.tracking_uri), "plots": plots,
    }


def _norm(value) -> str:
    # MLflow keeps params as strings: "10.0" and 10 are the same setting.
    try:
        return fmt(float(value))
    except (TypeError, ValueError):
        return str(value)


def _qkey(q: str):
    digits = "".join(ch for ch in q if ch.isdigit())
    return (int(digits) if digits else 0, q)


def _packages() -> str:
    out = []
    for name in ("hyp", "torch", "transformers", "peft", "mlflow", "optuna"):
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(out)


def _render(lab: Lab, ctx: dict) -> str:
    from hyp.reports.templates import render

    return render(lab.root / "templates", "report.md.j2", ctx)


def _plots(output: Path, hid: str, loss: dict, judged: Judged, lineage, sweep, sweep_plots: list[str],
           drawn: dict) -> dict:
    """PNG files beside the report, linked by relative name (`sweep`: a list). A plot whose file exists
    and whose data is unchanged since it was drawn (`drawn`: path -> digest of its data) is not drawn again."""
    obs = judged.verdict.observations
    grid: dict[str, dict[str, float]] = {}
    for key, e in obs.items():
        q, _, c = key.partition(".")
        if c in CRITERIA and not key.startswith(("base.", "auto.", "agreement.", "kappa.")):
            grid.setdefault(q, {})[c] = e.estimate
    grid = {q: grid[q] for q in sorted(grid, key=_qkey)}
    versions = [(f"{j.hypothesis.id}\n{j.hypothesis.version or ''}", e.estimate,
                 None if e.point else e.low, None if e.point else e.high)
                for _, j in lineage if (e := j.verdict.observations.get("score")) is not None]
    # Without Optuna's plots (none logged yet), the report draws the history of the objective itself.
    history = sweep if sweep and sweep["history"] and not sweep_plots else None
    primary = judged.verdict.criteria[0]  # the goal the verdict was judged against (amended or registered)
    base = obs.get("base_score")
    goal = list(primary.value) if isinstance(primary.value, tuple | list) else primary.value
    lineage_data = {"rows": versions, "goal": goal if primary.metric == "score" else None,
                    "base": base.estimate if base else None} if versions else None
    data = {"loss": loss if any(loss["train"].values()) else None, "questions": grid or None,
            "lineage": lineage_data, "sweep": history}
    plots: dict = {}
    for kind, value in data.items():
        if value is None:
            continue
        path = output.parent / f"{hid}-{kind}.png"
        digest = hashlib.sha256(json.dumps([kind, value], sort_keys=True, default=str).encode()).hexdigest()
        if drawn.get(str(path)) != digest or not path.is_file():
            from hyp.reports import plots as draw

            painters = {"loss": draw.loss_plot, "questions": draw.questions_plot, "lineage": draw.lineage_plot,
                        "sweep": draw.sweep_plot}
            painters[kind](path, value)
            drawn[str(path)] = digest
        plots[kind] = path.name
    plots["sweep"] = sweep_plots or ([plots["sweep"]] if "sweep" in plots else [])
    return plots
