"""Offline coherence checks (SPEC §4): signs that an answer is not a real answer, which the keyword
rubric cannot see. Pure, apart from reading the English and Portuguese word lists `wordfreq` ships, once."""

from __future__ import annotations

import functools
import re
from collections import Counter
from difflib import SequenceMatcher

from hyp.experiments.data import find_phrase
from hyp.experiments.negation import negated_fact
from hyp.experiments.words import (
    AUXILIARIES,
    BREAKS,
    CLAUSE_PRONOUNS,
    CONJUNCTIONS,
    COORDINATORS,
    DETERMINERS,
    FUNCTION_WORDS,
    NOUN_GLUE,
    PORTUGUESE_FUNCTION,
    PREPOSITIONS,
    PURE_PREPOSITIONS,
    SENTENCE_ENDS,
    split_spans,
    split_tokens,
    split_words,
)
from hyp.hypotheses.schema import EvalSuite, Question

_AGREEMENT = {"i": frozenset({"is", "are", "has", "does"}), "he": frozenset({"are", "am"}),
              "she": frozenset({"are", "am"}), "it": frozenset({"are", "am"}),
              "we": frozenset({"is", "am", "has", "does"}), "they": frozenset({"is", "am", "has", "does"}),
              "you": frozenset({"is", "am", "has", "does"})}
_AFTER_DETERMINER = DETERMINERS | AUXILIARIES | PREPOSITIONS | CONJUNCTIONS | {
    "i", "you", "he", "she", "it", "we", "they"}
_FINITE = frozenset("is are was were am".split())
# What may stand before a clause-final "I": "Who am I?", "than I", "you and I".
_BEFORE_FINAL_I = AUXILIARIES | COORDINATORS | frozenset({"than", "as", ".", "!", "?", ":", "\n", ","})
# A clause that is nothing but one or two of these ("..., it, ...", "..., well it, ...") is a broken one.
_DANGLING = DETERMINERS | AUXILIARIES | PREPOSITIONS | CONJUNCTIONS | {"i", "it", "he", "she", "we", "they", "well"}


# Thresholds, tuned on tests/experiments/coherence_cases.py TUNING and checked on its HELD_BACK sets.
MADE_UP_SHARE = 0.1  # one unknown word in ten flags an answer; two always do, and so does one beside bad grammar
SALAD_VIOLATIONS = 2  # impossible word pairs or dangling clauses; one, beside a made-up word
KEYWORD_RUN = 8  # words in a row with no function word and no punctuation
NAMES = 3  # unknown capitalised words inside sentences in one answer: more than a real answer names
NAMED_ANSWERS = 3  # answers of one set with two unknown names each
# A run of words with no function word and no punctuation ("Softtor founder CEO direct TypeScript")
# holding this many of the suite's fact words and persona markers, from two groups or more, that make
# up at least half of its words, is a keyword list. Real runs this long hold one or two ("direct
# TypeScript work", "RTX 3050 laptop GPU").
KEYWORD_TERMS = 3
# Answers of one set that are nothing but fact words and markers, with no function word at all
# ("Softtor, founder, CEO, direct."): one is a terse answer ("TypeScript, Next.js, Prisma, DDD.
# Pragmatic." is in the example lab's curated data), this many are a keyword dump.
BARE_LISTS = 3
# A real word the list lacks is most often a derivation of a rare word ("refactorization"); an
# unlisted derivation of a common word ("onlineing", "stackish") is made up, since the list would
# hold it if people used it. Common: wordfreq's frequency of at least 10^(-COMMON_BUCKETS/100).
COMMON_BUCKETS = 600
DERIVED_LENGTH = 9  # letters a word needs to pass for a derivation
REPEAT_SHARE = 0.3  # one repeated word or phrase covering this share of the answer
SAME_TEXT_RATIO = 0.8  # difflib similarity of two answers' words
MIN_WORDS_TO_COMPARE = 4
OTHER_QUESTIONS = 2  # answering this many other questions in full


def known_words() -> frozenset[str]:
    """The words of `wordfreq`'s lists (English large, Portuguese small), read once from its data files."""
    return _word_lists()[0]


def common_words() -> frozenset[str]:
    """The words of those lists with a frequency of at least 10^(-COMMON_BUCKETS/100)."""
    return _word_lists()[1]


@functools.cache
def _word_lists() -> tuple[frozenset[str], frozenset[str]]:
    """All the words of `wordfreq`'s lists, and the common ones.

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
    common: set[str] = set()
    for name in ("large_en.msgpack.gz", "small_pt.msgpack.gz"):
        header, *buckets = msgpack.unpackb(gzip.decompress((data / name).read_bytes()), raw=False)
        if header.get("format") != "cB":
            raise ValueError(f"{data / name}: not a wordfreq cBpack file")
        for i, bucket in enumerate(buckets):  # bucket i: frequency 10^(-i/100)
            words.update(bucket)
            if i < COMMON_BUCKETS:
                common.update(bucket)
    return frozenset(words), frozenset(common)



def vocabulary_of(suite: EvalSuite, texts: list[str]) -> frozenset[str]:
    """Lower-cased words of the suite (persona, markers, questions, facts) and of `texts` (the lab's data)."""
    parts = [suite.persona.name, *suite.persona.markers, *suite.persona.wrong_identities]
    for q in suite.questions:
        parts += [q.prompt, *q.forbidden, *(w for group in q.facts for w in group)]
    found: set[str] = set()
    for text in [*parts, *texts]:
        for w in split_words(text):
            found.add(w)
            found.update(p for p in re.split(r"[.\-']", w) if p)
    return frozenset(found)


def check_answers(answers: list[tuple[Question, str]], suite: EvalSuite,
                  vocabulary: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """For each answer, short flags saying why it is not a real answer; () when none. Answers to
    different questions are compared with each other, so give a whole sample at once."""
    known = (known_words(), vocabulary)  # not their union: copying 350,000 words costs more than the checks
    words = [split_words(text) for _, text in answers]
    terms = _rubric_terms(suite)
    bare = [bool(w) and _bare_list(text, terms, frozenset(split_words(q.prompt)))
            for (q, text), w in zip(answers, words, strict=True)]
    dump = sum(bare) >= BARE_LISTS
    unknown = [_unknown_words(text, known) for _, text in answers]  # (words, names) of each answer
    names = [n for _, n in unknown]
    # Two unknown names in one answer may be real (products a word list has not caught up with: "Vercel
    # and Supabase"); in answer after answer they are made-up words dressed as names.
    invented = sum(len(n) >= 2 for n in names) >= NAMED_ANSWERS
    out = []
    for i, (question, text) in enumerate(answers):
        if not words[i]:
            out.append(())  # empty: the rubric's complete = 0 already says so
            continue
        flags = [*_made_up_and_salad(text, words[i], *unknown[i], invented),
                 _keyword_list(text, terms, dump and bare[i]), _repetition(words[i]), _same_text(i, answers, words),
                 _other_facts(question, text, suite), negated_fact(question, text)]
        out.append(tuple(f for f in flags if f))
    return out


def _made_up_and_salad(text: str, words: list[str], unknown: dict[str, bool], names: list[str],
                       invented: bool) -> list[str]:
    """Made-up words and word salad, each flagged on its own when strong, or when both are seen."""
    count = sum(1 for w in words if w in unknown)
    violations, longest = _grammar(text)
    flags = []
    # One unknown word is tolerated only when it may be real (a derivation of a rare word, two common
    # words run together, a capitalised first word: a name, a word with no vowel: a command or an
    # abbreviation), in a long answer with no grammar error. Unknown names inside a sentence count when
    # there are many of them (NAMES), or two beside another unknown word, or two in answer after answer.
    made_up = any(unknown.values())
    many_names = len(names) >= NAMES or (len(names) >= 2 and (unknown or invented))
    if made_up or len(unknown) >= 2 or many_names or (count and (count / len(words) >= MADE_UP_SHARE or violations)):
        shown = [*unknown, *(n for n in names if many_names)]
        flags.append("made-up words: " + ", ".join(shown[:5]))
    if violations >= SALAD_VIOLATIONS or (violations and count) or longest >= KEYWORD_RUN:
        flags.append("word salad")
    return flags


def _unknown_words(text: str, known: tuple[frozenset[str], ...]) -> tuple[dict[str, bool], list[str]]:
    """Words in neither list, in order, once each, lower-cased: the plain ones with whether each is surely
    made up (see _made_up_and_salad for what may be real), and apart from them the capitalised ones inside a
    sentence, which may be names ("the Blorvath of Softtor"): no word list holds every name. Words with more
    capitals (MLflow, QLoRA, tRPC) are names and left out: no made-up word looks like that. "organizRa" is not."""
    found: dict[str, bool] = {}
    names: list[str] = []
    previous = "."
    for t in split_tokens(text, lower=False):
        word = t.lower()
        first = previous in SENTENCE_ENDS
        more_capitals = any(c.isupper() for c in t[1:])
        previous = t
        if not word[0].isalnum() or word in found or not _unknown(word, known):
            continue
        if t[0].isupper() and (not first or more_capitals):
            if not first and not more_capitals and set(word) & _VOWELS and word not in names:
                names.append(word)
            continue
        maybe_real = (t[0].isupper() and first or not set(word) & _VOWELS  # npx, pnpm
                      or _rare_derivation(word, known) or _compound(word))
        found[word] = not maybe_real
    return found, names


_VOWELS = frozenset("aeiouyáéíóúâêôãõà")


def _unknown(word: str, known: tuple[frozenset[str], ...]) -> bool:
    def real(w: str) -> bool:
        return len(w) < 3 or any(c.isdigit() for c in w) or any(w in k for k in known)

    if real(word):
        return False
    base = re.sub(r"'s$|s'$", "", word)  # João's, developers'
    return not (real(base) or all(real(p) for p in re.split(r"[.\-']", base) if p))


_SUFFIXES = ("ization", "isation", "ations", "ation", "nesses", "ness", "ments", "ment", "ables", "able", "ible",
             "izing", "izes", "ized", "ize", "ings", "ing", "ers", "er", "est", "ed", "ly", "ish", "ity", "ism",
             "ists", "ist", "ful", "less", "ery", "es", "s", "y")
_PREFIXES = ("un", "re", "non", "pre", "over", "under", "sub", "super", "multi", "auto", "micro", "mis", "de", "dis",
             "co", "anti", "inter", "hyper", "meta", "post", "self")


def _rare_derivation(word: str, known: tuple[frozenset[str], ...]) -> bool:
    """Whether `word` is a known, rare stem with an affix ("refactor" + "ization"). The stem of an
    unlisted derivation of a common word ("online" + "ing") is no excuse: see COMMON_BUCKETS."""
    if len(word) < DERIVED_LENGTH:
        return False  # "blenty", "squabber", "trindled": short made-up words look like derivations too
    stems = []
    for suffix in _SUFFIXES:
        stem = word[:-len(suffix)]
        if word.endswith(suffix) and len(stem) >= 5:
            stems += [stem, stem + "e"]
            if stem[-1] == stem[-2]:
                stems.append(stem[:-1])  # "snapped": snap
            if stem.endswith("i"):
                stems.append(stem[:-1] + "y")  # "happiness": happy
    stems += [word[len(p):].lstrip("-") for p in _PREFIXES if word.startswith(p) and len(word) - len(p) >= 5]
    common = common_words()
    found = [stem for stem in stems if any(stem in k for k in known)]
    return bool(found) and not any(stem in common for stem in found)


def _compound(word: str) -> bool:
    """Whether `word` is two common words of four letters or more run together: "monorepo", "lockfile"."""
    common = common_words()
    return any(word[:k] in common and word[k:] in common for k in range(4, len(word) - 3))


def _rubric_terms(suite: EvalSuite) -> list[tuple[str, frozenset[str]]]:
    """The suite's fact words, persona markers and name, each with the groups it belongs to."""
    groups: dict[str, set[str]] = {}
    for q in suite.questions:
        for g, group in enumerate(q.facts):
            for w in group:
                groups.setdefault(w.lower(), set()).add(f"{q.id}.{g}")
    for m in suite.persona.markers:
        groups.setdefault(m.lower(), set()).add("markers")
    groups.setdefault(suite.persona.name.lower(), set()).add("name")
    return [(w, frozenset(g)) for w, g in groups.items() if w.strip()]


def _term_tokens(text: str, spans: list[tuple[str, int, int]], terms: list[tuple[str, frozenset[str]]]
                 ) -> dict[int, tuple[int, frozenset[str]]]:
    """Token index -> (the term occurrence it belongs to, by its first token; the term's groups)."""
    import bisect

    covered: dict[int, tuple[int, frozenset[str]]] = {}
    starts, ends = [a for _, a, _ in spans], [b for _, _, b in spans]
    for term, groups in terms:
        for m in find_phrase(text, term):
            # Spans are in order and do not overlap: those inside the match, found by bisection (a long
            # answer holds thousands of spans and of matches).
            first, last = bisect.bisect_right(ends, m.start()), bisect.bisect_left(starts, m.end())
            inside = list(range(first, last))
            if not inside:
                continue
            owner = covered.get(inside[0], (inside[0], frozenset()))[0]
            for i in inside:
                covered[i] = (owner, covered.get(i, (owner, frozenset()))[1] | groups)
    return covered


def _keyword_list(text: str, terms: list[tuple[str, frozenset[str]]], dump: bool) -> str:
    """A run of fact words and markers with nothing to join them: "Softtor founder CEO direct TypeScript"."""
    if dump:
        return "keyword list"
    spans = split_spans(text)
    covered = _term_tokens(text, spans, terms)
    run: list[int] = []
    for i, (t, _, _) in enumerate([*spans, (".", 0, 0)]):
        # A possessive is glue too: "keeps Softtor's TypeScript direct".
        if t in BREAKS or t in FUNCTION_WORDS or t in PORTUGUESE_FUNCTION or t.endswith("'s"):
            inside = [covered[j] for j in run if j in covered]
            occurrences = {owner for owner, _ in inside}
            groups = set().union(*(g for _, g in inside)) if inside else set()
            if len(occurrences) >= KEYWORD_TERMS and len(groups) >= 2 and 2 * len(inside) >= len(run):
                shown = text[spans[run[0]][1]:spans[run[min(len(run), 6) - 1]][2]] + (" …" if len(run) > 6 else "")
                return "keyword list: " + " ".join(shown.split())  # one line: flags go in table cells
            run = []
        else:
            run.append(i)
    return ""


def _bare_list(text: str, terms: list[tuple[str, frozenset[str]]], asked: frozenset[str] = frozenset()) -> bool:
    """Whether the answer is nothing but fact words and markers, joined at most by words that join
    nouns ("Softtor and founder and CEO", "the Softtor, the CEO", "Softtor de founder e CEO") and the
    question's own words ("Moltbook" for "What is Moltbook?"): no pronoun, no verb, no word of its own."""
    spans = split_spans(text)
    words = [i for i, (t, _, _) in enumerate(spans) if t[0].isalnum()]
    covered = _term_tokens(text, spans, terms)
    if any(i not in covered and spans[i][0] not in NOUN_GLUE and spans[i][0] not in asked - FUNCTION_WORDS
           for i in words):
        return False
    return len({covered[i][0] for i in words if i in covered}) >= 2


def _grammar(text: str) -> tuple[int, int]:
    """Word pairs and clauses no grammatical sentence has, and the longest run of words without glue."""
    toks = split_tokens(text)
    violations = 0
    for before, a, b in zip(["."] + toks, toks, toks[1:], strict=False):
        if a in DETERMINERS and (b in _AFTER_DETERMINER or b in BREAKS):
            violations += 1
        elif a in COORDINATORS and (b in COORDINATORS or b in ".!?"):
            violations += 1
        elif b in _AGREEMENT.get(a, ()) or (a == b and a in FUNCTION_WORDS):
            violations += 1
        elif (a in PURE_PREPOSITIONS and b in COORDINATORS) or (a in PURE_PREPOSITIONS | {"for"}
                                                                and b in CLAUSE_PRONOUNS | _FINITE):
            violations += 1  # "with and", "for I", "for is": one alone may be a stranded preposition
        elif a == "i" and b in SENTENCE_ENDS and before not in _BEFORE_FINAL_I:
            violations += 1  # "... at use I." ends a clause on its subject
    clause: list[str] = []
    first, run, longest = True, 0, 0
    for t in [*toks, "."]:
        if t in BREAKS:
            if clause and not first and len(clause) <= 2 and all(w in _DANGLING for w in clause):
                violations += 1
            first = first and not clause
            clause = []
        else:
            clause.append(t)
        run = 0 if t in BREAKS or t in FUNCTION_WORDS or t in PORTUGUESE_FUNCTION else run + 1
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
    answered, shown, others = [], [], 0
    for other in suite.questions:
        if other.id == question.id or not other.facts:
            continue
        others += 1
        hits = []
        for group in other.facts:
            hit = next((w for w in group if w.lower() not in own and find_phrase(text, w)), None)
            if hit is None:
                break
            hits.append(hit)
        else:
            answered.append(other.id)
            shown += [h for h in hits if h not in shown]
    # A question about the persona itself (its facts hold the persona's name: "Introduce yourself") may be
    # answered with anything about the persona, once its own facts are there; not with most of the suite.
    about_persona = any(w.lower() == suite.persona.name.lower() for group in question.facts for w in group)
    own_met = all(any(find_phrase(text, w) for w in group) for group in question.facts)
    if len(answered) < OTHER_QUESTIONS or (about_persona and own_met and 2 * len(answered) <= others):
        return ""
    more = "…" if len(shown) > 6 else ""
    return f"facts of {', '.join(answered)}: {', '.join(shown[:6])}{more}"
