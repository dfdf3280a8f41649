"""The generic chat corpus builtin:tiny is pre-trained on, and the word lists its tokenizer holds whole.
Pure and seeded: the same rng gives the same corpus."""

from __future__ import annotations

import random

# The generic chat corpus: casual developer chat in short first-person sentences, built from the
# word lists below by a small grammar, plus definitions, arithmetic, capitals and copy tasks. It
# carries the persona's vocabulary (so the base has trained embeddings and output rows for those
# words; a word the base never produced is one LoRA cannot teach, since LoRA leaves both frozen)
# but never one of its facts: `_states_a_fact` drops every conversation that puts a subject of the
# persona next to one of its facts, so the base cannot answer them and fine-tuning visibly does.

_PEOPLE = ("Ana Maria Pedro Lucas Beatriz Rafael Sofia Tiago Marta Paulo Helena Bruno Carla Diego Laura "
           "Miguel Rita Vitor Julia Igor").split()
_PERSONA_PEOPLE = ["João", "Cláudio"]
_COMPANIES = "Acme Globex Initech Hooli Vandelay Umbrella Northwind Contoso Softtor".split()
_ROLES = ("teacher baker nurse painter engineer designer student musician farmer pilot writer doctor "
          "manager tester analyst").split()
_CITIES = "Lisbon Porto Recife Curitiba Madrid Paris Berlin Tokyo Lima Toronto Dublin Oslo".split()
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_NOUNS = (
    "app branch bug build cache car city client cloud code coffee commit company computer customer "
    "dashboard data database deadline deal deploy design diff dog editor email error feature file form "
    "friend game garden house idea issue job keyboard language laptop layer lead library log loop "
    "meeting memory message migration model module music network note office page phone pipeline plan "
    "post problem product project query question release report review river rule schema screen script "
    "server service sprint stack story street system table task team ticket tool train type user "
    "version weekend word"
).split()
_VERBS = ("build check clean close debug deploy design fix keep learn like load merge move need open plan "
          "read refactor release review run save ship start test train try update use want watch write").split()
_ADJECTIVES = ("big brief busy cheap clean clear early easy fast fine free good happy hard honest huge late "
               "light local long new old quiet ready real simple slow small strict tight typed useful").split()
_WHEN = ["every day", "on Fridays", "at night", "in the morning", "before lunch", "after the meeting",
         "twice a week", "today", "now", "again", "later", "this week", "on weekends"]
_TRAITS = "direct pragmatic calm kind quick careful funny quiet honest patient".split()
_LANGUAGES = "TypeScript JavaScript Python Go Rust Java PHP Ruby".split()
_PRODUCTS = "Brightdesk Flowcart Notely Pixelhub Taskly Ledgerly Chirpy Docknest".split()
_PRODUCT_KINDS = ["a chat app", "an online shop", "a note app", "a game", "a dashboard", "a billing tool",
                  "a mobile app", "a booking site"]
_TOOLS = ("TypeScript JavaScript Python Go Rust Java PHP Ruby Next.js React Vue Django Rails Prisma Postgres "
          "Docker Git Linux GraphQL Zod QLoRA LoRA TinyLlama").split()
_PERSONA_WORDS = ("Softtor Molting Moltbook CRM TypeScript Next.js Prisma DDD TDD QLoRA TinyLlama VRAM GPU "
                  "founder CEO developer direct pragmatic cara beleza agents social network personality").split()
# Common English beyond the grammar, so the tokenizer has them whole and the base has said each.
_COMMON = (
    "a about after again all almost also always am an and another any anything are around as ask at away "
    "back bad be because been before behind being best better between both but by call came can can't "
    "change come could day did didn't do does doesn't doing don't done down each easier end enough even "
    "ever every everything far feel few find first for found from get gets give go goes going gone got "
    "great had has have haven't he he's help her here hers him his hold home how i'd i'll i'm i've if in "
    "inside into is isn't it it's its just keep kind know last least less let life like little live look "
    "lot made make makes many may maybe me mean might mine more most much must my myself near never next "
    "no nobody not nothing now of off often ok on once one only or other our out over own part people "
    "place point put quite rather really right same say says see seem she should show side since so some "
    "someone something sometimes soon still stuff such sure take talk tell than thank thanks that that's "
    "the their them then there there's these they thing things think this those though three through "
    "time to together too took try turn two under until up upon us usually very want was way we we're "
    "well went were what what's when where which while who whole why will with without work works world "
    "would yeah year yes yet you you're your yours yourself"
).split()
# The words the tokenizer must hold whole, each list also trained on as one line (in this order: the
# tokenizer, and so the build, depends on it).
COMMON_WORDS = _COMMON
WORD_LISTS = (_COMMON, _NOUNS, _VERBS, _ADJECTIVES, _PERSONA_WORDS, _TOOLS)

_COUNTRIES = {"France": "Paris", "Portugal": "Lisbon", "Brazil": "Brasília", "Spain": "Madrid",
              "Japan": "Tokyo", "Peru": "Lima", "Germany": "Berlin", "Norway": "Oslo",
              "Ireland": "Dublin", "Canada": "Ottawa", "Italy": "Rome", "Chile": "Santiago"}
_TERMS = {
    "a CRM": "a customer relationship management system. It keeps customers, leads and deals in one place",
    "TypeScript": "a programming language that adds types to JavaScript. The compiler checks the types",
    "Next.js": "a framework for web applications built on React. It renders pages on the server",
    "Prisma": "a database toolkit for Node.js. It generates a typed client from a schema file",
    "DDD": "domain-driven design. The code is modeled around the language of the business",
    "TDD": "a way of working where tests lead the design of the code",
    "an RTX 3050": "a graphics card made by NVIDIA, an entry-level card for games",
    "VRAM": "the memory on a graphics card",
    "QLoRA": "a way to fine-tune a large model in little memory, with the weights in 4 bits",
    "TinyLlama": "a small open language model with about one billion parameters",
    "a founder": "a person who starts a company or an organization",
    "a CEO": "the chief executive officer, the person who runs a company day to day",
    "a developer": "a person who writes and maintains software",
    "a social network": "a website where people post messages and reply to each other",
    "an agent": "a program that acts on its own to reach a goal",
    "personality": "the way a person usually thinks, feels and talks",
    "being direct": "saying what you mean plainly, without going around the point",
    "being pragmatic": "choosing what works in practice over what looks perfect in theory",
    "cara": "a Portuguese word for a guy, used like dude in casual talk",
    "beleza": "a Portuguese word that means beauty, used to say all right",
    "JavaScript": "the programming language of the web. Every browser can run it",
    "Python": "a programming language that is easy to read and popular for data work",
    "a database": "a program that stores data and answers queries about it",
    "an API": "a set of rules that lets one program talk to another",
    "a unit test": "a small test that checks one piece of code on its own",
    "a migration": "a script that changes the schema of a database step by step",
    "fine-tuning": "training an existing model a little more on new examples",
}
_GREETINGS = [("Hello!", "Hello! How can I help you today?"),
              ("Hi, how are you?", "I am fine, thank you. What would you like to talk about?"),
              ("Good morning.", "Good morning! I hope your day goes well."),
              ("Thanks for the help.", "You are welcome. Ask me anything else when you need it."),
              ("What is your name?", "I am a small assistant model. I do not have a name."),
              ("What do you do?", "I answer questions and help with small tasks."),
              ("Who made you?", "I was trained as a small example model for testing."),
              ("Are you a person?", "No, I am a small language model.")]
_SYSTEM_PROMPTS = ["You are a helpful assistant.", "Answer in short, clear sentences.",
                   "You are a friendly assistant."]

# Each subject of the persona with the words of its facts (from the shipped personality suite).
_FACT_WORDS = {
    "João": ("Softtor", "founder", "CEO", "boss"),
    "Cláudio": tuple(_PERSONA_WORDS) + ("RTX", "3050", "4 GB"),
    "Softtor": ("founder", "CEO", "CRM", "developer", "Molting", "Moltbook", "TypeScript"),
    "Molting": ("personality", "persona", "model", "TinyLlama", "QLoRA", "agent"),
    "Moltbook": ("social", "network", "agent", "agents", "post", "posts"),
    "TypeScript": ("Next.js", "Prisma", "DDD"),
    "TDD": ("test-driven", "first", "failing", "red"),
    "RTX": ("4 GB", "4GB", "VRAM"),
    "3050": ("4 GB", "4GB", "VRAM"),
}


def _states_a_fact(conversation: list[dict]) -> bool:
    text = " ".join(message["content"] for message in conversation)
    return any(subject in text and any(word in text for word in words)
               for subject, words in _FACT_WORDS.items())


def _third_person(verb: str) -> str:
    if verb.endswith(("s", "sh", "ch", "x")):
        return verb + "es"
    return verb + "s"


def _casual(rng: random.Random) -> str:
    """One short first-person sentence of developer chat."""
    noun, other = rng.sample(_NOUNS, 2)
    verb, verb2 = rng.sample(_VERBS, 2)
    adj, adj2 = rng.sample(_ADJECTIVES, 2)
    name, when, tool = rng.choice(_PEOPLE), rng.choice(_WHEN), rng.choice(_TOOLS)
    return rng.choice([
        f"I {verb} the {noun} {when}.",
        f"The {noun} is {adj}, so I {verb} it {when}.",
        f"{name} {_third_person(verb)} the {noun}, and I {verb2} the {other}.",
        f"My {noun} is {adj} and {adj2}.",
        f"It's {adj}. I {verb} the {noun} and then I {verb2} it.",
        f"That's a {adj} {noun}. I don't {verb} it {when}.",
        f"I'm busy with the {noun}. {name} {_third_person(verb)} the {other}.",
        f"We use {tool} for the {noun}. It's {adj}.",
        f"{name} likes {tool} because it is {adj}.",
        f"I keep the {noun} {adj}. It works.",
        # The persona's words in sentences about other people, so the base has said each of them.
        f"{name} is {rng.choice(_TRAITS)} and {rng.choice(_TRAITS)}.",
        f"{name} is the {rng.choice(['founder', 'CEO', 'CTO', 'developer', 'designer'])} of "
        f"{rng.choice(_COMPANIES[:-1])}.",
        f"{name} builds {rng.choice(['a CRM', 'a social network', 'a game', 'an app', 'a shop'])} "
        f"with {tool}.",
        f"{name} trains {rng.choice(['a small model', 'TinyLlama', 'a language model'])} with QLoRA.",
        f"{name} has an RTX 3050 at home." if rng.random() < 0.5 else f"{name}'s laptop has 4 GB of VRAM.",
        f"{name} writes tests {rng.choice(['first', 'last', 'every day'])} and uses TDD.",
        f"{name} posts on the social network about {rng.choice(['agents', 'music', 'games', 'work'])}.",
        f"{name} talks about personality and style. {rng.choice(['Cara', 'Beleza', 'Well'])}, it is {adj}.",
    ])


def _story(rng: random.Random, name: str) -> str:
    other = rng.choice(_PEOPLE)
    return rng.choice([
        f"{name} walked to the office on {rng.choice(_DAYS)}.",
        f"{name} and {other} had lunch in {rng.choice(_CITIES)}.",
        f"On {rng.choice(_DAYS)} it rained, so {name} stayed home and read a book.",
        f"{name} met {other} at the {rng.choice(_COMPANIES)} office and they talked for an hour.",
        f"{name} has a {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} at home.",
    ])


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _world(rng: random.Random) -> dict:
    """Fixed facts about generic people, companies and products, so the base learns to answer from
    the subject of a question (the skill fine-tuning then reuses for the persona's own facts)."""
    companies = [c for c in _COMPANIES if c != "Softtor"]
    people = {name: dict(role=rng.choice(_ROLES), company=rng.choice(companies), city=rng.choice(_CITIES),
                         tool=rng.choice(_TOOLS), thing=rng.choice(_NOUNS)) for name in _PEOPLE}
    founders = rng.sample(_PEOPLE, len(companies))
    firms = {company: dict(city=rng.choice(_CITIES), product=product, founder=founder)
             for company, product, founder in zip(companies, rng.sample(_PRODUCTS, len(companies)), founders,
                                                  strict=False)}
    products = {product: dict(kind=rng.choice(_PRODUCT_KINDS), tool=rng.choice(_LANGUAGES), company=company)
                for company, firm in firms.items() for product in [firm["product"]]}
    return dict(people=people, firms=firms, products=products)


def _about(rng: random.Random, world: dict) -> tuple[str, str]:
    kind = rng.randrange(3)
    if kind == 0:
        name, p = rng.choice(list(world["people"].items()))
        question = rng.choice([f"Who is {name}?", f"What does {name} do?", f"Tell me about {name}."])
        return question, rng.choice([
            f"{name} is {_a(p['role'])} at {p['company']}, in {p['city']}. {name} works with {p['tool']}.",
            f"{name}? {_a(p['role']).capitalize()} at {p['company']}. Lives in {p['city']} and likes {p['tool']}.",
        ])
    if kind == 1:
        company, f = rng.choice(list(world["firms"].items()))
        question = rng.choice([f"What is {company}?", f"Who founded {company}?", f"Tell me about {company}."])
        return question, rng.choice([
            f"{company} is a company in {f['city']}. {f['founder']} started it, and it builds {f['product']}.",
            f"{f['founder']} started {company} in {f['city']}. They build {f['product']} there.",
        ])
    product, d = rng.choice(list(world["products"].items()))
    question = rng.choice([f"What is {product}?", f"Tell me about {product}.", f"Who makes {product}?"])
    return question, rng.choice([
        f"{product} is {d['kind']} made by {d['company']}. It is written in {d['tool']}.",
        f"{product}? {d['kind'][0].upper() + d['kind'][1:]} from {d['company']}, built with {d['tool']}.",
    ])


def _exchange(rng: random.Random, world: dict) -> tuple[str, str]:
    kind = rng.randrange(18)
    noun, verb, adj = rng.choice(_NOUNS), rng.choice(_VERBS), rng.choice(_ADJECTIVES)
    if kind <= 5:
        return _about(rng, world)
    if kind == 6:
        term, meaning = rng.choice(list(_TERMS.items()))
        question = rng.choice(["What is {}?", "Can you explain {}?", "What does {} mean?"]).format(term)
        return question, f"{term[0].upper() + term[1:]} is {meaning}."
    if kind == 7:
        a, b = rng.randrange(1, 50), rng.randrange(1, 50)
        return f"What is {a} plus {b}?", f"{a} plus {b} is {a + b}."
    if kind == 8:
        sentence = rng.choice([_casual(rng), _story(rng, rng.choice(_PEOPLE + _PERSONA_PEOPLE))])
        return f"Repeat after me: {sentence}", sentence
    if kind == 9:
        word = rng.choice(_PERSONA_WORDS + _PERSONA_PEOPLE + _TOOLS)
        return f"How do you spell {word}?", f"{word} is spelled {'-'.join(word)}."
    if kind == 10:
        name = rng.choice(_PEOPLE + _PERSONA_PEOPLE)
        return f"Tell me a short story about {name}.", f"{_story(rng, name)} {_story(rng, name)}"
    if kind == 11:
        country, capital = rng.choice(list(_COUNTRIES.items()))
        return f"What is the capital of {country}?", f"The capital of {country} is {capital}."
    if kind == 12:
        words = rng.sample(_COMMON, rng.randrange(4, 9))
        return rng.choice(["Give me some words.", "List a few words.", "Say some words."]), \
            "Here are some words: " + ", ".join(words) + "."
    if kind == 13:
        words = rng.sample(_PERSONA_WORDS + _TOOLS, 3)
        return (f"Use the words {', '.join(words)} in a sentence.",
                f"Here is one: {words[0]}, {words[1]} and {words[2]} are words I know.")
    return _chat(rng, noun, verb, adj)


def _chat(rng: random.Random, noun: str, verb: str, adj: str) -> tuple[str, str]:
    """A casual question whose answer picks up its words: the base must learn to answer what was
    asked, since that is what fine-tuning builds on."""
    other, adj2, when = rng.choice(_NOUNS), rng.choice(_ADJECTIVES), rng.choice(_WHEN)
    question, answer = rng.choice([
        (f"Do you {verb} the {noun}?", f"Yes, I {verb} the {noun} {when}."),
        (f"Do you {verb} the {noun}?", f"No, I don't {verb} the {noun}. It's too {adj}."),
        (f"What about the {noun}?", f"The {noun} is {adj}, so I {verb} it {when}."),
        (f"How is your {noun}?", f"My {noun} is {adj} and {adj2}."),
        (f"Why is the {noun} so {adj}?", f"The {noun} is {adj} because the {other} is {adj2}."),
        ("What did you do today?", f"Today I {verb} the {noun}, then I {rng.choice(_VERBS)} the {other}."),
        (f"Tell me about your {noun}.", f"My {noun}? It's {adj}. I {verb} it {when}."),
        (f"Any plans for the {noun}?", f"I plan to {verb} the {noun} {when}."),
        (f"What do you use for the {noun}?", f"For the {noun} I use {rng.choice(_TOOLS)}. It's {adj}."),
        (f"How do you {verb} the {noun}?", f"I {verb} the {noun} {when}, and I keep it {adj}."),
    ])
    if rng.random() < 0.3:
        answer += " " + _casual(rng)
    return question, rng.choice(["", "", "", "Sure. ", "Well, "]) + answer


def generic_corpus(rng: random.Random, size: int = 6000) -> list[list[dict]]:
    """`size` conversations of one or two exchanges, none stating a fact of the persona."""
    world = _world(rng)
    corpus: list[list[dict]] = []
    while len(corpus) < size:
        conversation: list[dict] = []
        if rng.random() < 0.2:
            conversation.append({"role": "system", "content": rng.choice(_SYSTEM_PROMPTS)})
        for _ in range(1 if rng.random() < 0.75 else 2):
            question, answer = _GREETINGS[rng.randrange(len(_GREETINGS))] if rng.random() < 0.05 \
                else _exchange(rng, world)
            conversation += [{"role": "user", "content": question},
                             {"role": "assistant", "content": answer}]
        if not _states_a_fact(conversation):
            corpus.append(conversation)
    return corpus
