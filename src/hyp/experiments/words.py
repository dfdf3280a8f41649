"""An answer split into words and clause breaks, and the closed-class words that glue a real
sentence together: what the coherence and negation checks read (SPEC §4)."""

from __future__ import annotations

import re

# A word may hold apostrophes, dots and hyphens inside it (isn't, Next.js, test-driven); any other
# non-space character is a token of its own, so that punctuation can close a clause.
# A line break is a token too: a bulleted answer ("Stack:\n- TypeScript\n- Prisma") is one item a line.
TOKEN = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*|[^\w\s]|\n")
# Clause breaks; a bullet ("-", "*", "•") or a line break starts a new item as a full stop would.
BREAKS = frozenset(".,;:!?()[]{}…—–|/\n-*•")
SENTENCE_ENDS = frozenset(".!?:\n-*•")

# Closed-class words, the glue of a real sentence. A long run of words without any of them is a
# keyword list, and two of them side by side in an impossible order is word salad.
DETERMINERS = frozenset("the a an my your our their its every".split())
PRONOUNS = frozenset("i you he she it we they me him us them this that these those".split())
AUXILIARIES = frozenset("is are was were am be been being do does did has have had will would can could "
                        "should must may might shall".split())
PREPOSITIONS = frozenset("of to in on at for with from by about into over under between through during "
                         "before after without within".split())
CONJUNCTIONS = frozenset("and or but nor because if than while although though unless whereas so".split())
WH = frozenset("where when which who what why how whose whom".split())
OTHER_FUNCTION = frozenset("not no never also just only very too then there here all some any more most "
                           "much many each both such own same as up out i'm it's that's i've i'll don't "
                           "isn't his her hers mine yours".split())
FUNCTION_WORDS = (DETERMINERS | PRONOUNS | AUXILIARIES | PREPOSITIONS | CONJUNCTIONS | WH
                  | OTHER_FUNCTION)
# Pairs that no grammatical sentence puts side by side: "the is", "a of", "and or", "I is".
COORDINATORS = frozenset({"and", "or", "but", "nor"})
# Portuguese glue: a Portuguese sentence is not a run of keywords.
PORTUGUESE_FUNCTION = frozenset("o a os as um uma e ou de da do das dos em no na nos nas para pra pro com por "
                                "que é eu ele ela meu minha seu sua se não mas como sou você".split())
# Words that join nouns without making a sentence of them: a list glued with these is still a list.
NOUN_GLUE = DETERMINERS | COORDINATORS | PREPOSITIONS | frozenset(
    "o a os as um uma e ou de da do das dos em no na nos nas para pra pro com por".split())
# Subject pronouns, which a preposition cannot take ("for I", "with they") and a clause does not end on.
CLAUSE_PRONOUNS = frozenset("i he she we they".split())
# Prepositions that are never conjunctions ("before I write", "since we met" are sentences).
PURE_PREPOSITIONS = frozenset("of to in on at with from by about into during within between through".split())


def split_spans(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased words and clause breaks with where they start and end; other punctuation dropped."""
    out = []
    for m in TOKEN.finditer(text):
        t = m.group().replace("’", "'")
        if t[0].isalnum() or t in BREAKS:
            out.append((t.lower(), m.start(), m.end()))
    return out


def split_tokens(text: str, *, lower: bool = True) -> list[str]:
    """Words and clause breaks, in order; other punctuation dropped."""
    out = []
    for m in TOKEN.finditer(text):
        t = m.group().replace("’", "'")
        if t[0].isalnum() or t in BREAKS:
            out.append(t.lower() if lower else t)
    return out


def split_words(text: str) -> list[str]:
    return [t for t in split_tokens(text) if t[0].isalnum()]
