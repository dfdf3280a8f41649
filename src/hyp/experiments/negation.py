"""A fact under a negation (SPEC §4, coherence): "João is not the founder of Softtor" holds the
right words and says the opposite. Pure."""

from __future__ import annotations

import re

from hyp.experiments.data import find_phrase
from hyp.experiments.words import AUXILIARIES, BREAKS, COORDINATORS, FUNCTION_WORDS, split_spans, split_words
from hyp.hypotheses.schema import Question

_NEGATORS = frozenset("not no never nor neither cannot nothing none nobody nope hardly não nunca nem jamais".split())
# Words that end a negation's reach: "not just a model", "I never write code before a failing test",
# "I never merge without a failing test".
_SCOPE_ENDS = frozenset("but because before after until unless though although while whereas since "
                        "just only merely simply instead rather which who where when so then without besides "
                        "except beyond apart".split())
# A new subject starts a new clause: "Not me, I'm just a developer", "not a product, it's an experiment".
_SUBJECTS = frozenset("i he she we they you i'm he's she's it's we're they're you're there's that's i've we've "
                      "they've i'll he'll she'll we'll they'll i'd eu ele ela".split())
# A verb after a comma starts a clause of its own: "Não sou o Cláudio, sou um developer".
_VERBS = AUXILIARIES | frozenset("sou é era foi está estou tenho tem".split())
# "never skip the failing test" says the test is written: two negatives. So do "not optional",
# "no doubt", "no exceptions", "never lies".
_NEGATIVE_VERBS = frozenset("skip skips skipped skipping miss misses missed missing forget forgets forgot "
                            "forgetting stop stops stopped stopping quit quits ignore ignores ignored lack lacks "
                            "lacked fail fails failed avoid avoids avoided lie lies lied".split())
_DOUBLE_NEGATIVE = _NEGATIVE_VERBS | frozenset("optional negotiable bad wrong doubt problem question questions "
                                               "worries exception exceptions".split())
# "Nothing beats TypeScript", "nothing compares to Molting": praise of what follows, not a denial.
_PRAISE = frozenset("beats beat compares rivals matches tops".split())
# "no bigger project than the CRM", "nobody has shaped Softtor more than João": a comparison says the
# thing after "than" is the most, so the negation denies everything but it.
_COMPARISON = "than"
# Agreement before a negation: "Yes, no humans post there" answers yes.
_AGREEING = frozenset("yes yeah yep sim exactly right correct".split())
_HEDGES = frozenset("just only merely simply always".split())  # "not just", "not always": no denial
# A negation of what follows in the whole sentence: "I don't think ...", "it's false that ...",
# "it is not true that ...".
_COGNITIVE = frozenset("think believe claim say said agree".split())
_FALSE_WORDS = frozenset("false untrue lie myth".split())  # followed by "that"
_CLAUSE_SCOPE_ENDS = frozenset("but although though whereas instead".split())
# After a fact: "Softtor isn't my company", "TDD is not how I work", "Prisma aren't part of my stack".
_DENIED = frozenset("my our his her its their your how what part related relevant true real used involved for "
                    "mine ours yours me him them who a an the it that this one".split())
# "TDD is in no way how I work", "a failing test means nothing to me", "TinyLlama was never involved".
_STRONG_NEGATORS = frozenset("never nothing nunca jamais".split())
_ENGLISH_ONLY = frozenset("the is of and to are was with for it this that i'm it's".split())
_PORTUGUESE_ONLY = frozenset("é da do de em um uma o os e que com para pra pro meu minha sou não eu na nos nas "
                             "das dos mas como você".split())
NEGATION_WINDOW = 8  # words after a negation that it reaches, within its clause
REPLY_WORDS = 8  # words of a short sentence that answers a question the answer asked itself
LIST_GOES_ON = 3  # a comma inside a negation's reach: "not TypeScript, Next.js or Prisma" (words after it)
DENIAL_GAP = 4  # words between a fact and a negation after it: "a failing red test means nothing"


def _is_negator(t: str, negators: frozenset[str]) -> bool:
    return t in negators or t.endswith("n't")


def _negation_marks(spans: list[tuple[str, int, int]], negators: frozenset[str]) -> list[bool]:
    """Per token, whether a negation before it reaches it. A plain negation ("not", "never", "isn't",
    "no longer", "in no way") reaches NEGATION_WINDOW words of its clause, across a comma only while a
    list goes on ("not TypeScript, Next.js or Prisma"), and stops at a new subject or a word that ends
    its reach. A sentence negation ("it's false that", "it is not true that", "I don't think") reaches
    the end of the sentence."""
    toks = [t for t, _, _ in spans]
    marks = [False] * len(toks)
    scope, reach, said = "", 0, False  # said: a word other than an auxiliary reached since the negation
    for i, t in enumerate(toks):
        after = toks[i + 1:i + 3] + ["", ""]
        if t in BREAKS and t != ",":
            scope = ""
            continue
        if t == ",":
            # "is not, and never was, the founder": the negated thing is still to come.
            if scope == "plain" and said and not _list_goes_on(toks, i + 1, negators):
                scope = ""
            continue
        if scope == "clause" and t in _CLAUSE_SCOPE_ENDS:
            scope = ""
        elif scope == "plain" and (t in _SCOPE_ENDS or (t in _SUBJECTS and reach > 0) or reach >= NEGATION_WINDOW):
            scope = ""
        if t in _FALSE_WORDS and after[0] == "that":
            scope = "clause"
        elif _is_negator(t, negators):
            if after[0] in _COGNITIVE or after[0] == "true" or after[:2] == ["the", "case"]:
                scope = "clause"
            elif _compares(toks, i):
                scope = ""
            elif scope != "clause" and after[0] not in _DOUBLE_NEGATIVE | _HEDGES | _PRAISE and (
                    after[0] not in BREAKS or (t == "not" and after[0] == ",")):
                scope, reach, said = "plain", 0, False
            continue
        if scope:
            marks[i] = True
            reach += 1
            said = said or not (t in AUXILIARIES or t in COORDINATORS)
    return marks


def _compares(toks: list[str], at: int) -> bool:
    """Whether the negation at `at` opens a comparison in its clause: "no bigger project than the CRM"."""
    for t in toks[at + 1:at + 1 + NEGATION_WINDOW]:
        if t in BREAKS:
            return False
        if t == _COMPARISON:
            return True
    return False


def _list_goes_on(toks: list[str], start: int, negators: frozenset[str]) -> bool:
    """Whether the words after a comma continue a negated list: short, with no new subject or negation."""
    chunk = []
    for t in toks[start:]:
        if t in BREAKS:
            break
        chunk.append(t)
    if chunk and chunk[0] in COORDINATORS:
        chunk = chunk[1:]
    return 0 < len(chunk) <= LIST_GOES_ON and not any(
        t in _SUBJECTS or t in _SCOPE_ENDS or t in _VERBS or _is_negator(t, negators) for t in chunk)


def _denied_after(spans: list[tuple[str, int, int]], end: int, negators: frozenset[str],
                  asked: frozenset[str] = frozenset()) -> bool:
    """Whether the fact that ends at token `end` is denied after it: "Softtor isn't my company", "TDD is
    in no way how I work", "a failing red test means nothing to me", or a question it stands in that a
    short negative sentence answers ("TypeScript? No longer.", "The CRM? That was never my project.")."""
    toks = [t for t, _, _ in spans]
    gap, k = 0, end
    while (k := k + 1) < len(toks):
        t = toks[k]
        following = toks[k + 1:k + 3] + ["", ""]
        if t == "?":
            return _negative_reply(toks[k + 1:], negators)
        if t == "," and (close := _apposition_end(toks, k)):
            k = close  # "Cláudio, a developer at Softtor, is not me": read on after the apposition
            continue
        if t in BREAKS or t in _SCOPE_ENDS or t in _SUBJECTS or gap > DENIAL_GAP:
            return False
        if _is_negator(t, negators):
            if following[0] in _DOUBLE_NEGATIVE | _HEDGES | _PRAISE or following[1] in _DOUBLE_NEGATIVE | _HEDGES:
                return False
            strong = (t in _STRONG_NEGATORS or following[0] in ("longer", "way", "means")
                      or following[:2] == ["at", "all"])
            # "The founder of Softtor is not João": what the question asks about, denied.
            return strong or following[0] in _DENIED or following[0] in asked
        gap += 1
    return False


def _apposition_end(toks: list[str], start: int) -> int:
    """The comma that closes a short apposition opened at `start`, when a verb follows it; else 0."""
    for k in range(start + 1, min(len(toks), start + 2 + LIST_GOES_ON * 2)):
        if toks[k] in BREAKS:
            return k if toks[k] == "," and k + 1 < len(toks) and toks[k + 1] in AUXILIARIES else 0
    return 0


def _negative_reply(toks: list[str], negators: frozenset[str]) -> bool:
    """A short sentence that says no: "Never.", "Not me.", "No longer.", "That was never my project."."""
    sentence = []
    for t in toks:
        if t in ".!?;\n":
            break
        sentence.append(t)
    if any(t == "," and k and _is_negator(sentence[k - 1], negators) for k, t in enumerate(sentence)):
        return False  # "No, for AI agents.": a correction of something else in the question
    words = [t for t in sentence if t[0].isalnum()]
    if not words or len(words) > REPLY_WORDS or words[0] in _AGREEING:
        return False
    # "Never.", "Not me.", "That was never my project.", "Moltbook is nothing of the sort.", "None of
    # those are in my stack.", "I use none of them.": a negation among the reply's first words.
    at = next((k for k in range(min(len(words), 4)) if _is_negator(words[k], negators)), -1)
    if at < 0:
        return False
    rest = words[at + 1:at + 3]
    return not any(w in _DOUBLE_NEGATIVE or w in _HEDGES for w in rest)


def negated_fact(question: Question, text: str) -> str:
    """A fact group met only under a negation: "João is not the founder of Softtor"."""
    # "far from being the founder": a negation in two words, read as one.
    spans = [("never", a, b) if t == "far" and nxt[0] == "from" else (t, a, b)
             for (t, a, b), nxt in zip(split_spans(text), [*split_spans(text)[1:], ("", 0, 0)], strict=True)]
    words = [t for t, _, _ in spans if t[0].isalnum()]
    # Portuguese "no" is "in the" ("trabalho no CRM"): a negation only in an English answer.
    portuguese = sum(w in _PORTUGUESE_ONLY for w in words) > sum(w in _ENGLISH_ONLY for w in words)
    negators = _NEGATORS - {"no"} if portuguese else _NEGATORS
    marks = _negation_marks(spans, negators)
    asked = frozenset(split_words(question.prompt)) - FUNCTION_WORDS

    def negated(m: re.Match[str]) -> bool:
        inside = [i for i, (_, a, b) in enumerate(spans) if a < m.end() and b > m.start()]
        return bool(inside) and (marks[inside[0]] or _denied_after(spans, inside[-1], negators, asked))

    negated_words = []
    for group in question.facts:
        matches = [(w, m) for w in group for m in find_phrase(text, w)]
        if matches and all(negated(m) for _, m in matches):
            negated_words += [w for w, _ in matches if w not in negated_words]
    return "negated fact: " + ", ".join(negated_words) if negated_words else ""
