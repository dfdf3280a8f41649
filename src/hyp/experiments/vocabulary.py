"""The words a lab's answers may use beyond the word list (SPEC §4, coherence): the suite's and the
data's own, so that a persona's names (Softtor, Molting, QLoRA) are not taken for made-up words."""

from __future__ import annotations

from hyp.errors import BadInput
from hyp.experiments.coherence import vocabulary_of
from hyp.experiments.sharegpt import read_conversations
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.schema import EvalSuite, Hypothesis


def lab_vocabulary(lab: Lab, hyp: Hypothesis, suite: EvalSuite | None = None) -> frozenset[str]:
    """Lower-cased words of the hypothesis's suite and of every message in its dataset files."""
    suite = suite if suite is not None else lab.load_suite(hyp.experiment.eval.suite)
    ds = hyp.experiment.dataset
    texts: list[str] = []
    for part in (ds.curated, ds.synthetic, ds.heldout):
        if part is None:
            continue
        try:
            conversations = read_conversations(lab.root / part.path)
        except BadInput:
            # Answers recorded on another machine may come without the data: fewer known words
            # then, rather than no score at all.
            continue
        texts += [m.content for c in conversations for m in c.messages]
    return vocabulary_of(suite, texts)


def lab_scorers(lab: Lab, hyp: Hypothesis, suite: EvalSuite | None = None):
    """How this lab scores `hyp`'s answers: its suite, the lab's vocabulary, and the judge of hyp.toml."""
    from hyp.experiments.scoring import Scorers

    suite = suite if suite is not None else lab.load_suite(hyp.experiment.eval.suite)
    return Scorers(suite, lab_vocabulary(lab, hyp, suite), lab.settings.judge, lab.state_dir / "judge")
