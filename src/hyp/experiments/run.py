"""`hyp run`: lock, data, base evaluation, training per replicate, evaluation, tracking, verdict, report.

Read top to bottom: `prepare` checks everything that can be wrong before any work starts (bad
input exits 2 having written nothing); `run_hypothesis` then does the work inside MLflow runs
that end FINISHED, FAILED or KILLED, never RUNNING.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hyp import faults
from hyp.builtin_tiny.build import user_cache  # builtin:tiny is built once per user, not per lab
from hyp.errors import BadInput
from hyp.experiments import data as datamod
from hyp.experiments.overrides import apply_overrides, apply_values
from hyp.experiments.run_data import data_metrics, dataset_records
from hyp.experiments.scoring import Scorers, answer_tags
from hyp.experiments.vocabulary import lab_scorers
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.schema import EvalSuite, Hypothesis
from hyp.progress import Ticker, bars_wanted, stderr_lines

DEFAULT_MAX_REPLICATES = 10


@dataclass
class PreparedRun:
    registered: Hypothesis  # the file as written: the lock and the verdict refer to it
    hypothesis: Hypothesis  # what will actually run (with --set / --replicates applied)
    deviations: list[dict]
    suite: EvalSuite
    mix: datamod.Mix
    lint_counts: dict[str, int]
    replicates: int
    heldout: list[datamod.Conversation] = field(default_factory=list)
    heldout_dropped: int = 0  # held-out conversations that repeat a training example
    scorers: Scorers | None = None  # the rubric with the lab's vocabulary, and the judge if configured

    @property
    def conversations(self) -> list[list[dict]]:
        return [datamod.to_chat(c) for c in self.mix.examples]

    @property
    def eval_conversations(self) -> list[list[dict]]:
        return [datamod.to_chat(c) for c in self.heldout]

    def short_of_synthetic(self) -> str:
        synthetic = self.hypothesis.experiment.dataset.synthetic
        return self.mix.short_of_synthetic(synthetic.ratio) if synthetic else ""

    def config_hash(self) -> str:
        payload = json.dumps([self.hypothesis.experiment.model_dump(mode="json"), self.mix.digest], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]


@dataclass
class RunOutcome:
    parent_run_id: str
    replicate_run_ids: list[str]
    judged: object
    report: Path | None
    metrics: dict[str, float] = field(default_factory=dict)


def prepare(lab: Lab, hid: str, *, replicates: int | None = None, overrides: list[str] | None = None,
            values: dict | None = None) -> PreparedRun:
    """Everything checked before any work: `overrides` as `--set` gives them, `values` already typed (a trial's)."""
    from hyp.experiments.models import check_model

    registered = lab.load(hid)
    hyp, deviations = apply_overrides(registered, list(overrides or []))
    if values:
        hyp, more = apply_values(hyp, values)
        deviations += more
    if replicates is not None:
        if replicates < 1:
            raise BadInput("--replicates: must be at least 1")
        if replicates != hyp.experiment.replicates:
            deviations.append({"key": "replicates", "registered": hyp.experiment.replicates, "used": replicates})
        hyp = Hypothesis.model_validate({**hyp.model_dump(mode="json"),
                                         "experiment": {**hyp.experiment.model_dump(mode="json"),
                                                        "replicates": replicates}})
    check_model(hyp.experiment.model.name, hyp.experiment.model.quantization, lab.root)  # before any work (SPEC §10)
    suite = lab.load_suite(hyp.experiment.eval.suite)
    ds = hyp.experiment.dataset
    curated = datamod.read_conversations(lab.root / ds.curated.path, source="curated")
    synthetic = datamod.read_conversations(lab.root / ds.synthetic.path, source="synthetic") \
        if ds.synthetic and ds.synthetic.ratio > 0 else []
    mix = datamod.build_mix(curated, synthetic, select_top=ds.curated.select_top,
                            ratio=ds.synthetic.ratio if ds.synthetic else 0.0,
                            weights=ds.scoring.model_dump(), persona_markers=suite.persona.markers,
                            agent_patterns=suite.agent_patterns, seed=hyp.experiment.training.seed)
    findings = datamod.lint(list(mix.examples), template_markers=suite.template_markers,
                            agent_patterns=suite.agent_patterns)
    heldout, dropped = [], 0
    if ds.heldout:
        candidates = datamod.read_conversations(lab.root / ds.heldout.path, source="heldout")
        heldout, dropped = datamod.heldout(candidates, mix)
    # The same words `hyp record` knows for this hypothesis, so an answer is flagged alike in both.
    scorers = lab_scorers(lab, hyp, suite)
    return PreparedRun(registered, hyp, deviations, suite, mix, datamod.lint_counts(findings),
                   hyp.experiment.replicates, heldout, dropped, scorers)


def source_findings(lab: Lab, p: PreparedRun) -> list:
    """Lint findings over both whole sources, not only what the mix kept (`hyp data`)."""
    ds = p.hypothesis.experiment.dataset
    sources = datamod.read_conversations(lab.root / ds.curated.path, source="curated")
    if ds.synthetic:
        sources += datamod.read_conversations(lab.root / ds.synthetic.path, source="synthetic")
    return datamod.lint(sources, template_markers=p.suite.template_markers, agent_patterns=p.suite.agent_patterns)


def training_config(hyp: Hypothesis, seed: int):
    from hyp.experiments.recipes.lora import TrainingConfig

    t = hyp.experiment.training
    return TrainingConfig(epochs=t.epochs, batch_size=t.batch_size, grad_accum=t.grad_accum,
                          learning_rate=t.learning_rate, lora_r=t.lora_r, lora_alpha=t.lora_alpha,
                          max_seq_length=t.max_seq_length, seed=seed,
                          quantization=hyp.experiment.model.quantization)


@dataclass(frozen=True)
class UntilDecided:
    """`--until-decided`: add replicates one at a time until the primary criterion is decided, at most
    `looks` of them, each look at the Bonferroni-spent level so that peeking does not inflate false verdicts."""

    looks: int

    @property
    def level(self) -> float:
        from hyp.hypotheses.statistics import sequential_level

        return sequential_level(self.looks)


def run_hypothesis(lab: Lab, hid: str, *, replicates: int | None = None, overrides: list[str] | None = None,
                   resume: bool = False, progress: bool = True, write_report: bool = True,
                   until_decided: bool = False, max_replicates: int | None = None,
                   supersede: list[str] | None = None, reason: str | None = None) -> RunOutcome:
    until = None
    if until_decided:
        if replicates is not None:
            raise BadInput("--until-decided: adds replicates itself; give --max-replicates N, not --replicates")
        if max_replicates is not None and max_replicates < 1:
            raise BadInput("--max-replicates: must be at least 1")
        until = UntilDecided(max_replicates or DEFAULT_MAX_REPLICATES)
    elif max_replicates is not None:
        raise BadInput("--max-replicates: only with --until-decided")
    p = prepare(lab, hid, replicates=replicates, overrides=overrides)
    if short := p.short_of_synthetic():
        print(f"warning: {hid}: {short}", file=sys.stderr)
    if until is not None:
        p.replicates = until.looks
    faults.reached("data")
    # One run of a hypothesis at a time: two would share the checkpoint directory, and the second
    # would delete the first's checkpoints under it.
    from hyp.results.ledger import one_at_a_time

    with one_at_a_time(lab, hid, "hyp run"):
        return _run(lab, hid, p, resume=resume, progress=progress, write_report=write_report, until=until,
                    supersede=supersede, reason=reason)


def _run(lab: Lab, hid: str, p: PreparedRun, *, resume: bool, progress: bool, write_report: bool,
         until: UntilDecided | None, supersede: list[str] | None, reason: str | None) -> RunOutcome:
    from hyp.hypotheses.params import experiment_params
    from hyp.results.ledger import result_run
    from hyp.store.base import log_json, tracked_run

    hyp = p.hypothesis
    tags = {"hyp.dataset.digest": p.mix.digest}
    if p.deviations:
        tags["hyp.deviations"] = json.dumps(p.deviations, default=str)
    workdir = lab.state_dir / "checkpoints" / hid / p.config_hash()
    if not resume and workdir.exists():
        shutil.rmtree(workdir)

    with result_run(lab, p.registered, kind="run", tags=tags, params=experiment_params(hyp), supersede=supersede,
                    reason=reason) as run, stderr_lines(progress) as ticker:
        tracker, parent = run.tracker, run.run_id
        datasets = dataset_records(lab, p)
        for dataset in datasets:
            tracker.log_dataset(parent, dataset)
        data = data_metrics(p)
        tracker.log_metrics(parent, data)

        ticker.begin(f"{hid} base model: evaluating {len(p.suite.questions)} questions")
        base = _base_evaluation(lab, hyp, p.scorers)
        # `base_score` only: the base model's other figures are in base_answers.json, not 15 more metrics.
        tracker.log_metrics(parent, {"base_score": base.metrics["score"]})
        log_json(tracker, parent, "base_answers.json", base.answers)

        children, per_replicate, curves = [], [], []
        child_tags = {**run.tags, "hyp.kind": "replicate"}
        for i in range(p.replicates):
            seed = hyp.experiment.training.seed + i
            with tracked_run(tracker, hypothesis_id=hid, kind="replicate", name=f"{hid}-r{i}",
                             parent_run_id=parent, tags={**child_tags, "hyp.replicate": str(i)}) as child:
                children.append(child)
                run.verdict_runs.append(child)
                tracker.log_params(child, {**experiment_params(hyp), "training.seed": seed})
                for dataset in datasets:
                    tracker.log_dataset(child, dataset)
                curves.append({})
                metrics = train_and_evaluate(lab, tracker, child, p, seed, workdir / f"r{i}", resume, progress,
                                             ticker=ticker, label=f"{hid}-r{i}", curves=curves[-1])
                tracker.log_metrics(child, {**data, "base_score": base.metrics["score"], **metrics})
                per_replicate.append(metrics)
            if until is not None and _decided(p, run, per_replicate, until):
                break
        ticker.quiet()
        if until is not None:
            tracker.set_tags(parent, {"hyp.until_decided": json.dumps(
                {"max_replicates": until.looks, "level": until.level, "replicates": len(children),
                 "decided": _decided(p, run, per_replicate, until)})})
        summary = _mean(per_replicate)
        # The run people open gets the score and the loss curves; the per-question scores stay on the
        # replicates (the verdict's units) and on each answer's trace, where the UI shows them by answer.
        tracker.log_metrics(parent, {k: v for k, v in summary.items() if not per_question(k, p.suite)})
        for key, points in _mean_curves(curves).items():
            tracker.log_metric_history(parent, key, [(s, v) for s, v, _ in points], [t for _, _, t in points])

    report = None
    if write_report:
        from hyp.reports.report import write_report as render

        faults.reached("report")
        # The report logs itself (and its plots) with the result run: logging it here too would double it.
        report = render(lab, hid, tracker=tracker, judged=run.judged)
    return RunOutcome(parent, children, run.judged, report, summary)


def _decided(p: PreparedRun, run, per_replicate: list[dict], until: UntilDecided) -> bool:
    """The stopping rule: this run's replicates pooled with the evidence already in the store."""
    from hyp.hypotheses.verdict import primary_decided

    prior = [] if p.deviations and any(d["key"] != "replicates" for d in p.deviations) else run.results.evidence
    return primary_decided(p.registered, prior + per_replicate, level=until.level)


def _base_evaluation(lab: Lab, hyp: Hypothesis, scorers: Scorers):
    from hyp.experiments.evaluation import evaluate
    from hyp.experiments.models import load_model_and_tokenizer, model_source

    model, tokenizer = load_model_and_tokenizer(model_source(hyp.experiment.model.name, lab.root), user_cache(),
                                                hyp.experiment.model.quantization)
    result = evaluate(model, tokenizer, scorers, hyp.experiment.eval, seed=hyp.experiment.training.seed)
    del model
    return result


def train_and_evaluate(lab: Lab, tracker, run_id: str, p: PreparedRun, seed: int, workdir: Path, resume: bool,
                       progress: bool, on_epoch: Callable[[int, dict], None] | None = None, *,
                       ticker: Ticker | None = None, label: str = "", curves: dict | None = None) -> dict[str, float]:
    """Train one replicate (or sweep trial) into run_id, evaluate it, and return its metrics.

    `on_epoch` sees each epoch's losses after they are logged; a sweep trial reports them to the
    pruner there, and may raise to stop training. `ticker` hears how training and evaluation go (where
    no bar shows it); `curves` receives the loss curves as logged: key -> [(step, value, ms)].

    `train_loss` is logged per optimizer step; `eval_loss` and `epoch` at the last step of each epoch, so
    MLflow draws the two losses on one step axis (and `epoch` says where each epoch ended). Every point
    carries the time it was measured.
    """
    from hyp.experiments.evaluation import evaluate
    from hyp.experiments.models import model_source
    from hyp.experiments.recipes.lora import train
    from hyp.store.base import log_json

    hyp = p.hypothesis
    ticker = ticker or Ticker(None)
    bars = bars_wanted(progress)
    epochs = hyp.experiment.training.epochs
    curves = {} if curves is None else curves
    # Step metrics are buffered and sent once per epoch: one SQLite write per step would cost more
    # than the step itself on a tiny model.
    buffer: list[tuple[int, float, int]] = []
    where = {"step": 0, "epoch": 1}

    def on_step(step: int, metrics: dict) -> None:
        buffer.append((step, metrics["train_loss"], _now_ms()))
        where["step"] = step
        if not bars:
            ticker.update(f"{label}: training epoch {where['epoch']}/{epochs} · step {step} · "
                          f"loss {metrics['train_loss']:.3f}")
        faults.reached("training")

    def log(key: str, points: list[tuple[int, float, int]]) -> None:
        tracker.log_metric_history(run_id, key, [(s, v) for s, v, _ in points], [t for _, _, t in points])
        curves.setdefault(key, []).extend(points)

    def flush() -> None:
        if buffer:
            log("train_loss", list(buffer))
            buffer.clear()

    def logged_epoch(epoch: int, metrics: dict) -> None:
        flush()
        now = _now_ms()
        if "eval_loss" in metrics:
            log("eval_loss", [(where["step"], metrics["eval_loss"], now)])
        log("epoch", [(where["step"], float(epoch), now)])
        where["epoch"] = epoch + 1
        if on_epoch is not None:
            on_epoch(epoch, metrics)

    model = model_source(hyp.experiment.model.name, lab.root)
    if bars:
        ticker.quiet()
    else:
        ticker.begin(f"{label}: training {len(p.conversations)} examples × {epochs} epochs")
    result = train(model, training_config(hyp, seed), p.conversations, workdir, user_cache(),
                   eval_conversations=p.eval_conversations, on_step=on_step, on_epoch=logged_epoch, resume=resume,
                   progress=bars)
    flush()
    faults.reached("evaluation")
    ticker.begin(f"{label}: evaluating {len(p.suite.questions)} questions × {hyp.experiment.eval.samples} sample(s)")
    evaluation = evaluate(result.model, result.tokenizer, p.scorers, hyp.experiment.eval, seed=seed)
    ticker.begin(f"{label}: logging answers, traces and the adapter")
    for warning in evaluation.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    # Each answer is a trace in MLflow's trace view too, with its scores as assessments (SPEC §6).
    for answer, trace_id in zip(evaluation.answers, tracker.log_answer_traces(run_id, evaluation.answers) or [],
                                strict=False):
        answer["trace_id"] = trace_id
    log_json(tracker, run_id, "answers.json", evaluation.answers)
    tracker.set_tags(run_id, answer_tags(evaluation.answers))
    faults.reached("logging")
    tracker.log_artifact(run_id, result.adapter_dir, "adapter")
    metrics = {
        **evaluation.metrics,
        "final_train_loss": result.final_train_loss,
        **({"final_eval_loss": result.eval_loss} if result.eval_loss is not None else {}),
        "train_seconds": result.train_seconds,
        "train_tokens_per_second": result.train_tokens_per_second,
        "peak_rss_gb": result.peak_rss_gb,
        "eval_seconds": evaluation.seconds,
        "scoring_seconds": evaluation.scoring_seconds,
    }
    if result.peak_vram_gb is not None:
        metrics["peak_vram_gb"] = result.peak_vram_gb
        metrics["peak_vram_reserved_gb"] = result.peak_vram_reserved_gb
    return metrics


def per_question(key: str, suite: EvalSuite) -> bool:
    """Whether `key` is one question's figure (`Q1.total`, `rubric.Q1.agent`, `Q1.perplexity`)."""
    ids = {q.id for q in suite.questions}
    return any(part in ids for part in key.split(".")[:-1])


def _mean_curves(curves: list[dict]) -> dict[str, list[tuple[int, float, int]]]:
    """The replicates' curves averaged per step (replicates share their steps), each point at the first
    replicate's time."""
    out = {}
    for key in sorted(set().union(*curves)) if curves else []:
        by_step: dict[int, list[tuple[float, int]]] = {}
        for c in curves:
            for step, value, stamp in c.get(key, []):
                by_step.setdefault(step, []).append((value, stamp))
        out[key] = [(s, sum(v for v, _ in vs) / len(vs), vs[0][1]) for s, vs in sorted(by_step.items())]
    return out


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = set().union(*rows) if rows else set()
    return {k: sum(r[k] for r in rows if k in r) / sum(1 for r in rows if k in r) for k in sorted(keys)}
