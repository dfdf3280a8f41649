"""The stakeholder report (SPEC §8): gathered from the tracking store, rendered from a template.

`gather` reads the store and the lab; `_context` is pure and builds every number the template
shows; the template (overridable as templates/report.md.j2 in the lab) only lays them out.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from hyp.files import write_atomic
from hyp.hypotheses.judged import Judged, judge_hypothesis
from hyp.hypotheses.lab import Lab
from hyp.trackers.results import flatten

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
CRITERIA = ("agent", "factual", "personality", "complete")


def fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def _lineage(lab: Lab, hid: str) -> list[tuple[str, str]]:
    """(id, relation) for the ancestors, the hypothesis itself and its siblings."""
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


def write_report(lab: Lab, hid: str, *, output: Path | None = None, tracker=None) -> Path:
    from hyp.trackers import open_tracker
    from hyp.trackers.index import rebuild_index

    tracker = tracker or open_tracker(lab)
    results = rebuild_index(lab, tracker)
    hyp = lab.load(hid)
    judged = judge_hypothesis(hyp, results.get(hid))
    lineage_ids, hyps = _lineage(lab, hid)
    runs = {r.run_id: r for r in tracker.runs(hid)}
    result_run = runs.get(judged.results.result_run_id) if judged.results.result_run_id else None
    children = [runs[r] for r in judged.results.child_run_ids if r in runs]
    loss = {c.name: tracker.metric_history(c.run_id, "train_loss") for c in children}
    lineage = []
    for other, relation in lineage_ids:
        if other not in hyps:
            continue
        j = judge_hypothesis(hyps[other], results.get(other))
        lineage.append((relation, j))
    output = Path(output) if output else lab.reports_dir / f"{hid}.md"
    plots = _plots(output, hid, loss, judged, lineage)
    ctx = _context(lab, judged, result_run, children, lineage, plots)
    text = _render(lab, ctx)
    write_atomic(output, text)
    return output


def _context(lab: Lab, judged: Judged, result_run, children, lineage, plots) -> dict:
    hyp = judged.hypothesis
    obs = judged.verdict.observations
    est = {k: v.estimate for k, v in obs.items()}
    score = est.get("score")
    primary = hyp.success_criteria.primary
    ancestors = [j for rel, j in lineage if rel == "ancestor" and j.score is not None]
    best = max(ancestors, key=lambda j: j.score, default=None)
    metrics = result_run.metrics if result_run else {}
    params = result_run.params if result_run else {}
    parent_hyp = next((j.hypothesis for rel, j in lineage if j.hypothesis.id == hyp.parent), None)

    config = []
    registered = {k: v for k, v in flatten(hyp.experiment.model_dump(mode="json")).items()}
    parent_params = flatten(parent_hyp.experiment.model_dump(mode="json")) if parent_hyp else {}
    for key in sorted(set(registered) | set(params)):
        value = params.get(key, fmt(registered.get(key)))
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
    totals = {c: est.get(f"{c}_points") for c in CRITERIA} | {k: est.get(k) for k in ("points", "points_max",
                                                                                        "score")}
    resources = {}
    for key, label, unit in (("peak_vram_gb", "Peak VRAM", " GB"), ("peak_rss_gb", "Peak RSS", " GB"),
                             ("train_seconds", "Training time", " s"), ("final_train_loss", "Final train loss", ""),
                             ("train_tokens_per_second", "Tokens per second", "")):
        if key in est:
            resources[label] = fmt(est[key]) + unit
    dataset = None
    if "dataset.size" in metrics:
        dataset = {"size": metrics.get("dataset.size"), "curated": metrics.get("dataset.curated"),
                   "synthetic": metrics.get("dataset.synthetic"),
                   "lint": {k.removeprefix("lint."): v for k, v in metrics.items() if k.startswith("lint.")}}
    deviations = json.loads(result_run.tags.get("hyp.deviations", "[]")) if result_run else []

    verdict = judged.shown_verdict
    if score is None:
        result_text = "no results yet"
    else:
        result_text = f"score {fmt(score)}" + _interval(obs.get("score")) + f" → {judged.verdict.verdict}"
        if "points" in est and "points_max" in est:
            result_text += f" ({fmt(est['points'])} of {fmt(est['points_max'])} points)"
    delta = "—"
    if score is not None and best is not None:
        delta = f"{score - best.score:+.2f} against {best.hypothesis.id} ({fmt(best.score)})"
    lineage_rows = []
    for rel, j in lineage:
        m = j.verdict.observations
        size = m.get("dataset.size")
        syn = m.get("dataset.synthetic")
        ds = "—" if size is None else f"{fmt(size.estimate)} ({'hybrid' if syn and syn.estimate else 'curated'})"
        lineage_rows.append({"id": j.hypothesis.id, "relation": rel, "version": j.hypothesis.version,
                             "score": fmt(j.score) + _interval(m.get("score")), "dataset": ds,
                             "verdict": j.shown_verdict})
    if judged.verdict.verdict == "REJECTED":
        next_steps, none_text = hyp.on_failure, "The hypothesis was rejected and lists no on_failure options."
    elif judged.verdict.verdict == "CONFIRMED":
        next_steps, none_text = hyp.on_success, "Confirmed; the hypothesis lists no on_success options."
    else:
        next_steps, none_text = [], "No next steps until the verdict is decided."
    runs = [r for r in [result_run.run_id if result_run else None, *[c.run_id for c in children]] if r]

    def actual(j):
        if j.estimate is None:
            return "no data"
        return fmt(j.estimate) + _interval(obs.get(j.metric))

    return {
        "h": hyp, "verdict": verdict, "lock": judged.lock, "fmt": fmt, "actual": actual,
        "goal": f"{primary.metric} {primary.op} {fmt(primary.value)}",
        "previous_best": f"{best.hypothesis.id} ({best.hypothesis.version or '—'}): {fmt(best.score)}" if best
        else "none recorded",
        "result": result_text, "delta": delta, "base_score": est.get("base_score"),
        "deviations": deviations, "dataset": dataset, "config": config, "resources": resources,
        "questions": questions, "totals": totals, "predictions": judged.verdict.predictions,
        "criteria": judged.verdict.criteria, "lineage": lineage_rows, "next_steps": next_steps,
        "no_next_steps": none_text, "audience": lab.settings.audience,
        "plain": _plain(judged, best, est), "runs": runs,
        "digest": result_run.tags.get("hyp.dataset.digest") if result_run else None,
        "packages": _packages(), "store": _redact(lab.tracking_uri), "plots": plots,
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


def _interval(e) -> str:
    if e is None or e.n <= 1 or e.low == e.high:
        return ""
    return f" (95% CI {fmt(e.low)}–{fmt(e.high)}, n={e.n})"


def _plain(judged: Judged, best, est: dict) -> str:
    """A few sentences for someone who does not train models."""
    hyp = judged.hypothesis
    v = judged.verdict.verdict
    score = est.get("score")
    if score is None:
        return f"We have not measured {hyp.id} yet, so there is nothing to conclude."
    primary = hyp.success_criteria.primary
    what = {"CONFIRMED": "worked", "REJECTED": "did not work", "INCONCLUSIVE": "is not settled yet"}.get(v, v)
    s = [f"We tested: {hyp.title}. It {what}: the model scored {fmt(score)} out of 10, and the goal was "
         f"{primary.op} {fmt(primary.value)}."]
    if best is not None:
        diff = score - best.score
        s.append(f"That is {'better' if diff > 0 else 'worse' if diff < 0 else 'no different'} than our best "
                 f"earlier attempt ({best.hypothesis.id}, {fmt(best.score)}).")
    if est.get("base_score") is not None:
        s.append(f"Before training, the same model scored {fmt(est['base_score'])}.")
    if v == "REJECTED" and hyp.on_failure:
        s.append(f"Next we plan to try: {hyp.on_failure[0].title.lower()}.")
    if v == "INCONCLUSIVE":
        s.append("The runs disagree too much to call it; more replicates will settle it.")
    return " ".join(s)


def _packages() -> str:
    out = []
    for name in ("hyp", "torch", "transformers", "peft", "mlflow", "optuna"):
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(out)


def _redact(uri: str) -> str:
    # A database URI can carry a password; the report never does.
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri


def _render(lab: Lab, ctx: dict) -> str:
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader

    loaders = [FileSystemLoader(str(lab.root / "templates")), FileSystemLoader(str(TEMPLATE_DIR))]
    env = Environment(loader=ChoiceLoader(loaders), autoescape=False, keep_trailing_newline=True,
                      trim_blocks=False, lstrip_blocks=False)
    return env.get_template("report.md.j2").render(**ctx)


def _plots(output: Path, hid: str, loss: dict, judged: Judged, lineage) -> dict[str, str]:
    """PNG files beside the report; the report links them by relative name."""
    from hyp.reports.plots import lineage_plot, loss_plot, question_plot

    plots = {}
    folder = output.parent
    made = {
        "loss": loss_plot(folder / f"{hid}-loss.png", loss) if any(loss.values()) else None,
        "questions": question_plot(folder / f"{hid}-questions.png", judged.verdict.observations),
        "lineage": lineage_plot(folder / f"{hid}-lineage.png", [(rel, j) for rel, j in lineage]),
    }
    for key, path in made.items():
        if path is not None:
            plots[key] = path.name
    return plots
