"""Offline coherence checks (SPEC §4): signs that an answer is not a real answer, which the keyword
rubric cannot see. Pure, apart from reading the English and Portuguese word lists `wordfreq` ships, once."""

from __future__ import annotations

import functools
import re
from collections import Counter
from difflib import SequenceMatcher

from hyp.experiments.data import find_phrase
from hyp.hypotheses.schema import EvalSuite, Question

# A word may hold apostrophes, dots and hyphens inside it (isn't, Next.js, test-driven); any other
# non-space character is a token of its own, so that punctuation can close a clause.
_TOKEN = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*|[^\w\s]")
_BREAKS = frozenset(".,;:!?()[]{}…—–|/")

# Closed-class words, the glue of a real sentence. A long run of words without any of them is a
# keyword list, and two of them side by side in an impossible order is word salad.
_DETERMINERS = frozenset("the a an my your our their its every".split())
_PRONOUNS = frozenset("i you he she it we they me him us them this that these those".split())
_AUXILIARIES = frozenset("is are was were am be been being do does did has have had will would can could "
                         "should must may might shall".split())
_PREPOSITIONS = frozenset("of to in on at for with from by about into over under between through during "
                          "before after without within".split())
_CONJUNCTIONS = frozenset("and or but nor because if than while although though unless whereas so".split())
_WH = frozenset("where when which who what why how whose whom".split())
_OTHER_FUNCTION = frozenset("not no never also just only very too then there here all some any more most "
                            "much many each both such own same as up out i'm it's that's i've i'll don't "
                            "isn't his her hers mine yours".split())
FUNCTION_WORDS = (_DETERMINERS | _PRONOUNS | _AUXILIARIES | _PREPOSITIONS | _CONJUNCTIONS | _WH
                  | _OTHER_FUNCTION)
# Pairs that no grammatical sentence puts side by side: "the is", "a of", "and or", "I is".
_AGREEMENT = {"i": frozenset({"is", "are", "has", "does"}), "he": frozenset({"are", "am"}),
              "she": frozenset({"are", "am"}), "it": frozenset({"are", "am"}),
              "we": frozenset({"is", "am", "has", "does"}), "they": frozenset({"is", "am", "has", "does"}),
              "you": frozenset({"is", "am", "has", "does"})}
_AFTER_DETERMINER = _DETERMINERS | _AUXILIARIES | _PREPOSITIONS | _CONJUNCTIONS | {
    "i", "you", "he", "she", "it", "we", "they"}
_COORDINATORS = frozenset({"and", "or", "but", "nor"})
# A clause that is nothing but one or two of these ("..., it, ...", "..., well it, ...") is a broken one.
_DANGLING = _DETERMINERS | _AUXILIARIES | _PREPOSITIONS | _CONJUNCTIONS | {"i", "it", "he", "she", "we", "they",
                                                                             "well"}
# Portuguese glue: a Portuguese sentence is not a run of keywords.
_PORTUGUESE_FUNCTION = frozenset("o a os as um uma e ou de da do das dos em no na nos nas para pra pro com por "
                                 "que é eu ele ela meu minha seu sua se não mas como sou você".split())

_NEGATORS = frozenset("not no never nor neither cannot nothing none nobody não nunca nem jamais".split())
# Words that end a negation's reach: "not just a model", "I never write code before a failing test".
_SCOPE_ENDS = frozenset("but because before after until unless though although while whereas since "
                        "just only merely simply instead rather which who where when so then".split())
# "never skip the failing test" says the test is written: two negatives.
_NEGATIVE_VERBS = frozenset("skip skips skipped skipping miss misses missed forget forgets forgot stop "
                            "stops ignore ignores lack lacks fail fails avoid avoids".split())
_ENGLISH_ONLY = frozenset("the is of and to are was with for it this that i'm it's".split())
_PORTUGUESE_ONLY = frozenset("é da do de em um uma o os e que com para pra pro meu minha sou não eu na nos nas "
                             "das dos mas como você".split())
NEGATION_WINDOW = 4  # words before a fact word that a negation reaches

# Thresholds, tuned on tests/experiments/coherence_cases.py TUNING and checked on its HELD_BACK sets.
MADE_UP_SHARE = 0.1  # one unknown word in ten flags an answer; two always do, and so does one beside bad grammar
SALAD_VIOLATIONS = 2  # impossible word pairs or dangling clauses; one, beside a made-up word
KEYWORD_RUN = 8  # words in a row with no function word and no punctuation
REPEAT_SHARE = 0.3  # one repeated word or phrase covering this share of the answer
SAME_TEXT_RATIO = 0.8  # difflib similarity of two answers' words
MIN_WORDS_TO_COMPARE = 4
OTHER_QUESTIONS = 2  # answering this many other questions in full


@functools.cache
def known_words() -> frozenset[str]:
    """The words of `wordfreq`'s lists (English large, Portuguese small), read once from its data files.

    Read directly in wordfreq's documented cBpack format (gzipped msgpack: a header, then lists of
    words by frequency): importing wordfreq itself would load ftfy, langcodes and regex for nothing.
    """
    import gzip
    import importlib.util
    from pathlib import Path

    import msgpack

    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        from hyp.errors import BadInput

        raise BadInput("scoring answers needs the word list of the wordfreq package: pip install 'hyp[ml]'")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    words: set[str] = set()
    for name in ("large_en.msgpack.gz", "small_pt.msgpack.gz"):
        header, *buckets = msgpack.unpackb(gzip.decompress((data / name).read_bytes()), raw=False)
        if header.get("format") != "cB":
            raise ValueError(f"{data / name}: not a wordfreq cBpack file")
        for bucket in buckets:
            words.update(bucket)
    return frozenset(words)


def _tokens(text: str, *, lower: bool = True) -> list[str]:
    """Words and clause breaks, in order; other punctuation dropped."""
    out = []
    for m in _TOKEN.finditer(text):
        t = m.group().replace("’", "'")
        if t[0].isalnum() or t in _BREAKS:
            out.append(t.lower() if lower else t)
    return out


def _words(text: str) -> list[str]:
    return [t for t in _tokens(text) if t[0].isalnum()]


def vocabulary_of(suite: EvalSuite, texts: list[str]) -> frozenset[str]:
    """Lower-cased words of the suite (persona, markers, questions, facts) and of `texts` (the lab's data)."""
    parts = [suite.persona.name, *suite.persona.markers, *suite.persona.wrong_identities]
    for q in suite.questions:
        parts += [q.prompt, *q.forbidden, *(w for group in q.facts for w in group)]
    found: set[str] = set()
    for text in [*parts, *texts]:
        for w in _words(text):
            found.add(w)
            found.update(p for p in re.split(r"[.\-']", w) if p)
    return frozenset(found)


def check_answers(answers: list[tuple[Question, str]], suite: EvalSuite,
                  vocabulary: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """For each answer, short flags saying why it is not a real answer; () when none. Answers to
    different questions are compared with each other, so give a whole sample at once."""
    known = (known_words(), vocabulary)  # not their union: copying 350,000 words costs more than the checks
    words = [_words(text) for _, text in answers]
    out = []
    for i, (question, text) in enumerate(answers):
        if not words[i]:
            out.append(())  # empty: the rubric's complete = 0 already says so
            continue
        flags = [*_made_up_and_salad(text, words[i], known), _repetition(words[i]),
                 _same_text(i, answers, words), _other_facts(question, text, suite), _negated_fact(question, text)]
        out.append(tuple(f for f in flags if f))
    return out


def _made_up_and_salad(text: str, words: list[str], known: tuple[frozenset[str], ...]) -> list[str]:
    """Made-up words and word salad, each flagged on its own when strong, or when both are seen."""
    unknown = _unknown_words(text, known)
    count = sum(1 for w in words if w in unknown)
    violations, longest = _grammar(text)
    flags = []
    if len(unknown) >= 2 or (count and (count / len(words) >= MADE_UP_SHARE or violations)):
        flags.append("made-up words: " + ", ".join(unknown[:5]))
    if violations >= SALAD_VIOLATIONS or (violations and count) or longest >= KEYWORD_RUN:
        flags.append("word salad")
    return flags


def _unknown_words(text: str, known: tuple[frozenset[str], ...]) -> list[str]:
    """Words in neither list, in order, once each. A capitalised word inside a sentence, or one with
    more capitals (MLflow, QLoRA), is a name: no word list holds every name. "organizRa" is not."""
    found: list[str] = []
    previous = "."
    for t in _tokens(text, lower=False):
        word = t.lower()
        name = t[0].isupper() and (previous not in ".!?:" or any(c.isupper() for c in t[1:]))
        previous = t
        if word[0].isalnum() and not name and word not in found and _unknown(word, known):
            found.append(word)
    return found


def _unknown(word: str, known: tuple[frozenset[str], ...]) -> bool:
    def real(w: str) -> bool:
        return len(w) < 3 or any(c.isdigit() for c in w) or any(w in k for k in known)

    if real(word):
        return False
    base = re.sub(r"'s$|s'$", "", word)  # João's, developers'
    return not (real(base) or all(real(p) for p in re.split(r"[.\-']", base) if p))


def _grammar(text: str) -> tuple[int, int]:
    """Word pairs and clauses no grammatical sentence has, and the longest run of words without glue."""
    toks = _tokens(text)
    violations = 0
    for a, b in zip(toks, toks[1:], strict=False):
        if a in _DETERMINERS and (b in _AFTER_DETERMINER or b in _BREAKS):
            violations += 1
        elif a in _COORDINATORS and (b in _COORDINATORS or b in ".!?"):
            violations += 1
        elif b in _AGREEMENT.get(a, ()) or (a == b and a in FUNCTION_WORDS):
            violations += 1
    clause: list[str] = []
    first, run, longest = True, 0, 0
    for t in [*toks, "."]:
        if t in _BREAKS:
            if clause and not first and len(clause) <= 2 and all(w in _DANGLING for w in clause):
                violations += 1
            first = first and not clause
            clause = []
        else:
            clause.append(t)
        run = 0 if t in _BREAKS or t in FUNCTION_WORDS or t in _PORTUGUESE_FUNCTION else run + 1
        longest = max(longest, run)
    return violations, longest


def _repetition(words: list[str]) -> str:
    """A word three times running, or a word or phrase repeated until it fills the answer. Only words
    with letters count: "8, 8, 8 of 8 points" is a list of numbers, not a loop."""
    def content(w: str) -> bool:
        return w not in FUNCTION_WORDS and not any(c.isdigit() for c in w)

    n_words = len(words)
    if any(a == b == c and content(a) for a, b, c in zip(words, words[1:], words[2:], strict=False)):
        return "repetition"
    for n in (1, 2, 3, 4):
        grams = Counter(tuple(words[i:i + n]) for i in range(n_words - n + 1))
        for gram, count in grams.items():
            if count >= 3 and count * n >= REPEAT_SHARE * n_words and any(content(w) for w in gram):
                return "repetition"
    return ""


def _same_text(i: int, answers: list[tuple[Question, str]], words: list[list[str]]) -> str:
    mine = words[i]
    if len(mine) < MIN_WORDS_TO_COMPARE:
        return ""
    same = []
    for j, (other, _) in enumerate(answers):
        theirs = words[j]
        if other.id == answers[i][0].id or len(theirs) < MIN_WORDS_TO_COMPARE or other.id in same:
            continue
        matcher = SequenceMatcher(None, mine, theirs, autojunk=False)
        if matcher.quick_ratio() >= SAME_TEXT_RATIO and matcher.ratio() >= SAME_TEXT_RATIO:
            same.append(other.id)
    return "same text as " + ", ".join(same) if same else ""


def _other_facts(question: Question, text: str, suite: EvalSuite) -> str:
    """Other questions answered in full by fact words that are neither this question's nor persona markers."""
    own = {w.lower() for group in question.facts for w in group} | {m.lower() for m in suite.persona.markers}
    answered, shown = [], []
    for other in suite.questions:
        if other.id == question.id or not other.facts:
            continue
        hits = []
        for group in other.facts:
            hit = next((w for w in group if w.lower() not in own and find_phrase(text, w)), None)
            if hit is None:
                break
            hits.append(hit)
        else:
            answered.append(other.id)
            shown += [h for h in hits if h not in shown]
    if len(answered) < OTHER_QUESTIONS:
        return ""
    more = "…" if len(shown) > 6 else ""
    return f"facts of {', '.join(answered)}: {', '.join(shown[:6])}{more}"


def _negated(text: str, start: int, negators: frozenset[str]) -> bool:
    """Whether a negation earlier in the same clause reaches the word that starts at `start`."""
    before = _tokens(text[:start])
    clause: list[str] = []
    for t in reversed(before):
        if t in _BREAKS or t in _SCOPE_ENDS:
            break
        clause.append(t)
        if len(clause) == NEGATION_WINDOW:
            break
    clause.reverse()
    for k, t in enumerate(clause):
        if t in negators or t.endswith("n't"):
            following = clause[k + 1] if k + 1 < len(clause) else ""
            return following not in _NEGATIVE_VERBS
    return False


def _negated_fact(question: Question, text: str) -> str:
    """A fact group met only under a negation: "João is not the founder of Softtor"."""
    words = _words(text)
    # Portuguese "no" is "in the" ("trabalho no CRM"): a negation only in an English answer.
    portuguese = sum(w in _PORTUGUESE_ONLY for w in words) > sum(w in _ENGLISH_ONLY for w in words)
    negators = _NEGATORS - {"no"} if portuguese else _NEGATORS
    negated = []
    for group in question.facts:
        matches = [(w, m) for w in group for m in find_phrase(text, w)]
        if matches and all(_negated(text, m.start(), negators) for _, m in matches):
            negated += [w for w, _ in matches if w not in negated]
    return "negated fact: " + ", ".join(negated) if negated else ""
