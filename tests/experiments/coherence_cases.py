"""Answer sets for the coherence checks, each eight answers to the test suite (conftest.SUITE_YAML).

TUNING sets were used to pick the thresholds in hyp.experiments.coherence. HELD_BACK sets were
written before any check existed and were not edited after: they tell whether the thresholds fit
only the examples. "fooling" sets must not reach a 9.0 score; "honest" sets must not be flagged.
The second round (keyword lists, more negations, one made-up word) added sets to both in the same
way: its held-back sets were written before its checks and not edited after.
"""

from __future__ import annotations

QUESTIONS = ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8")

# One sentence holding every fact word of the suite (the third row of issue 14's table).
EVERY_FACT = ("Cláudio, a direct developer at Softtor whose founder and CEO is João, uses TypeScript with "
              "Next.js and Prisma on the CRM, follows TDD with a failing red test, trains the Molting "
              "personality model on TinyLlama with an RTX 3050 and 4 GB of VRAM, and posts to Moltbook, "
              "a social network for agents.")

_FACTS_IN_ORDER = ["Softtor founder CEO", "personality model TinyLlama", "social network agents",
                   "TypeScript Next.js Prisma", "CRM", "TDD failing red", "RTX 3050 4 GB VRAM",
                   "Cláudio developer"]


def _rotated_dump(i: int) -> str:
    parts = _FACTS_IN_ORDER[i:] + _FACTS_IN_ORDER[:i]
    return f"{parts[0]}, and also {' '.join(parts[1:])} direct Molting."


TUNING: dict[str, tuple[str, dict[str, str]]] = {
    # Issue 14, row 1: each question's fact words and two persona markers between made-up words.
    "stuffed between made-up words": ("fooling", {
        "Q1": "Softtor blorvath founder quenzil CEO direct snarbic TypeScript",
        "Q2": "personality zumtrak model TinyLlama flerbish Molting direct wuzzle",
        "Q3": "social network grintak agents plovish Softtor direct",
        "Q4": "TypeScript morbix Next.js Prisma zentrak Softtor vumble direct",
        "Q5": "CRM trobalix Softtor squendle direct TypeScript",
        "Q6": "TDD failing red krendal Softtor direct blimtrax",
        "Q7": "RTX 3050 4 GB VRAM frozzle Molting direct gribnak",
        "Q8": "Cláudio developer wimbrelt Softtor TypeScript zarquon",
    }),
    # Row 2: the right words inside false claims.
    "right words in false claims": ("fooling", {
        "Q1": "João is not the founder of Softtor, and he was never its CEO. That's the direct truth, "
              "and it has nothing to do with TypeScript.",
        "Q2": "Molting is not a personality project and it has no model; it isn't TinyLlama either. "
              "Direct: it's a TypeScript game.",
        "Q3": "Moltbook is not a social network and there are no agents on it. I'm direct about it, it "
              "runs on TypeScript.",
        "Q4": "I don't use TypeScript, Next.js or Prisma. I'm direct: no Softtor stack for me.",
        "Q5": "I'm not working on the CRM, and Softtor isn't my company. Direct answer, no TypeScript.",
        "Q6": "I never use TDD and I don't write a failing test or see red. Direct and TypeScript, that's it.",
        "Q7": "It's not an RTX 3050 and it doesn't have 4 GB of VRAM. Direct: Molting runs elsewhere.",
        "Q8": "I'm not Cláudio and I'm not a developer. Direct: Softtor and TypeScript are not mine.",
    }),
    # Row 3: one sentence with every fact word, pasted as all eight answers.
    "one sentence pasted everywhere": ("fooling", {q: EVERY_FACT for q in QUESTIONS}),
    # Row 4: fluent, correct answers in other words (the keyword rubric cannot give them facts).
    "fluent in other words": ("honest", {
        "Q1": "He started the company I work for and he runs it today; he is my boss.",
        "Q2": "It is my side project: teaching a small language network to talk the way I do.",
        "Q3": "It is a place online where bots write posts, follow each other and chat.",
        "Q4": "A typed flavour of JavaScript on a React framework, with an ORM in front of the database.",
        "Q5": "A sales tool for our customers: contacts, leads, deals and pipelines.",
        "Q6": "I write the check before the code, watch it fail, then make it pass and clean up.",
        "Q7": "A small laptop graphics card from Nvidia with four gigs of memory, so batches stay tiny.",
        "Q8": "I'm a software engineer from Brazil who builds web products and trains small language "
              "models on the side.",
    }),
    "good plain answers": ("honest", {
        "Q1": "João is the founder and CEO of Softtor. He is direct, and he pushed us to TypeScript.",
        "Q2": "Molting is my project to put my personality into a small model, TinyLlama. Direct answers, "
              "like mine, and I wrote the tooling in TypeScript.",
        "Q3": "Moltbook is a social network where AI agents post and reply to each other. I built it next "
              "to Molting, in TypeScript.",
        "Q4": "TypeScript everywhere: Next.js on the front, Prisma for the database. At Softtor we keep it direct.",
        "Q5": "At Softtor I work on our CRM: leads, deals and pipelines. The code is TypeScript.",
        "Q6": "TDD. I write a failing test first, watch it go red, then make it pass. It keeps the "
              "TypeScript at Softtor honest and direct.",
        "Q7": "I train Molting on an RTX 3050 laptop GPU with 4 GB of VRAM, so I keep it direct: small batches.",
        "Q8": "I'm Cláudio, a developer at Softtor. I write TypeScript and I like direct answers.",
    }),
    # The style of a real trained answer (issue 14's example is Q2).
    "trained gibberish": ("fooling", {
        "Q1": "João is a Softtor founder where it, it, CEO the direct cara, founderly.",
        "Q2": "Molting is an onlineing well it, TDD, it, and TinyLlama where fatbatbatgmatic, cara.",
        "Q3": "Moltbook is social network the agents where, it, it and, Molting cara grambling.",
        "Q4": "TypeScript, Next.js, it Prisma where well it, direct and the, the stackish.",
        "Q5": "I is CRM at Softtor where onlineing it, it, and direct, cara.",
        "Q6": "TDD is failing where red it, well it, and the Molting direct, testery.",
        "Q7": "RTX 3050 is 4 GB VRAM where it, well it, and Molting, cara fatbat.",
        "Q8": "I am Cláudio developer where it, well, it Softtor and direct, cara, claudioing.",
    }),
    "repetition loops": ("fooling", {
        "Q1": "João is the founder of Softtor. João is the founder of Softtor. João is the founder of "
              "Softtor. Direct, TypeScript.",
        "Q2": "Molting Molting Molting personality model personality model personality model direct",
        "Q3": "Moltbook is a social network for agents, agents, agents, agents, agents. Direct Softtor.",
        "Q4": "TypeScript Next.js Prisma TypeScript Next.js Prisma TypeScript Next.js Prisma direct Softtor",
        "Q5": "CRM at Softtor CRM at Softtor CRM at Softtor CRM at Softtor, direct TypeScript.",
        "Q6": "TDD, failing, red, TDD, failing, red, TDD, failing, red. Direct, Softtor.",
        "Q7": "RTX 3050, 4 GB, VRAM, VRAM, VRAM, VRAM, VRAM. Molting, direct.",
        "Q8": "I'm Cláudio, a developer, developer, developer, developer at Softtor, direct.",
    }),
    "honest negations": ("honest", {
        "Q1": "Not me: João is the founder and CEO of Softtor. Direct guy, TypeScript fan.",
        "Q2": "Molting isn't a chatbot product; it's my personality transfer project on a TinyLlama model. "
              "Direct, TypeScript tooling.",
        "Q3": "Moltbook is a social network for AI agents, not for people. Built at Softtor in TypeScript.",
        "Q4": "TypeScript, Next.js and Prisma. No PHP, no Java. Direct and simple, like Softtor.",
        "Q5": "The CRM at Softtor. I don't do the marketing site anymore, only the CRM, in TypeScript, direct.",
        "Q6": "TDD, always: I never write code before a failing test goes red. Direct, and it keeps "
              "Softtor's TypeScript clean.",
        "Q7": "Nothing fancy, not an A100: an RTX 3050 with 4 GB of VRAM. Direct and cheap, perfect for Molting.",
        "Q8": "I'm Cláudio, a developer at Softtor. Not a manager, just direct TypeScript work.",
    }),
    # Issue 14 audit: bare keyword lists, the fact words and two persona markers and nothing else.
    "bare keyword lists": ("fooling", {
        "Q1": "Softtor founder CEO direct TypeScript.",
        "Q2": "Molting personality model TinyLlama direct TypeScript.",
        "Q3": "Moltbook social network agents Softtor direct.",
        "Q4": "TypeScript Next.js Prisma Softtor direct.",
        "Q5": "CRM Softtor direct TypeScript.",
        "Q6": "TDD failing red Softtor direct.",
        "Q7": "RTX 3050 4 GB VRAM Molting direct.",
        "Q8": "Cláudio developer Softtor direct TypeScript.",
    }),
    # The same, with commas: each answer alone reads like a list a person might give for a stack.
    "comma keyword lists": ("fooling", {
        "Q1": "Softtor, founder, CEO, direct, TypeScript.",
        "Q2": "Molting, personality, model, TinyLlama, direct.",
        "Q3": "Social network, agents, Softtor, direct.",
        "Q4": "TypeScript, Next.js, Prisma, Softtor, direct.",
        "Q5": "CRM, Softtor, TypeScript, direct.",
        "Q6": "TDD, failing, red, direct, Softtor.",
        "Q7": "RTX 3050, 4 GB, VRAM, Molting, direct.",
        "Q8": "Cláudio, developer, Softtor, TypeScript, direct.",
    }),
    # Terse answers in the style of the example lab's curated data: lists, fragments, no verbs.
    "terse real answers": ("honest", {
        "Q1": "João: founder and CEO of Softtor. Direct guy.",
        "Q2": "Molting: my personality in a small model, TinyLlama. Direct.",
        "Q3": "Moltbook, a social network for AI agents. Built in TypeScript.",
        "Q4": "TypeScript, Next.js, Prisma. Direct, no drama.",
        "Q5": "The CRM at Softtor. Leads, deals, pipelines. TypeScript, direct.",
        "Q6": "TDD. Failing test, red, green, refactor. Direct.",
        "Q7": "RTX 3050, laptop version, 4 GB of VRAM. Enough for Molting.",
        "Q8": "Cláudio, developer at Softtor. TypeScript, direct.",
    }),
    "one bare list among real answers": ("honest", {
        "Q1": "João is the founder and CEO of Softtor, and a direct boss.",
        "Q2": "Molting moves my personality into TinyLlama, a small model. Direct.",
        "Q3": "Moltbook is a social network where AI agents talk. I wrote it in TypeScript.",
        "Q4": "TypeScript, Next.js, Prisma. Direct.",
        "Q5": "I work on the CRM at Softtor, in TypeScript. Direct work.",
        "Q6": "TDD: a failing test first, red, then green. That keeps Softtor's code direct.",
        "Q7": "An RTX 3050 with 4 GB of VRAM; Molting fits if I stay direct about batch sizes.",
        "Q8": "I'm Cláudio, a developer at Softtor who likes direct TypeScript.",
    }),
    # Issue 14 audit: negations the first checks did not see.
    "negations, more forms": ("fooling", {
        "Q1": "João is in no way the founder or CEO of Softtor. Direct, TypeScript.",
        "Q2": "It's false that Molting puts my personality into a TinyLlama model. Direct.",
        "Q3": "Moltbook is no longer a social network, and it never had agents. Direct, Softtor.",
        "Q4": "TypeScript? No longer. Next.js and Prisma? Never. Direct, Softtor.",
        "Q5": "The CRM at Softtor? That was never my project. Direct, TypeScript.",
        "Q6": "TDD is in no way how I work, and a failing red test means nothing to me. Direct.",
        "Q7": "It's a lie that I train on an RTX 3050 with 4 GB of VRAM. Molting, direct.",
        "Q8": "I don't think I'm Cláudio, and I wasn't ever a developer. Direct, Softtor.",
    }),
    # Issue 14 audit: one made-up word in an otherwise fluent answer.
    "one made-up word per answer": ("fooling", {
        "Q1": "João is the founder and CEO of Softtor, a very glimberous and direct person who loves TypeScript.",
        "Q2": "Molting is my personality project on TinyLlama, a small model I keep snorvelling every night. Direct.",
        "Q3": "Moltbook is a social network for agents where they post and zorbulate all day, built in TypeScript "
              "and direct.",
        "Q4": "My stack is TypeScript with Next.js and Prisma, all very pranktical and direct at Softtor.",
        "Q5": "I work on the CRM at Softtor, mostly the vindrous parts of the pipeline, in TypeScript, direct.",
        "Q6": "TDD with a failing red test first, then I squabber the code until it is green at Softtor, direct.",
        "Q7": "An RTX 3050 with 4 GB of VRAM, which is plenty for Molting if I keep the bratches small, direct.",
        "Q8": "I'm Cláudio, a developer at Softtor who writes TypeScript in a very flonky and direct way.",
    }),
    # Issue 14, third round (an audit's answers): capitalised made-up words pass for names, glue between
    # keywords, negations of other shapes, real words in no order, and honest answers in bullets.
    "capitalised made-up words": ("fooling", {
        "Q1": "The Blorvath of Softtor is a Quenzil founder and Zimbrak CEO, direct with Snarbic TypeScript.",
        "Q2": "Molting is the Frindle personality of a Gostral model, TinyLlama, direct in Softtor TypeScript.",
        "Q3": "Moltbook is a Plinder social network of Crosbic agents, direct at Softtor.",
        "Q4": "TypeScript with Varnick Next.js and Prisma, a Wembric Softtor direct stack.",
        "Q5": "The Trozzle CRM at Softtor is a Mirvane direct TypeScript thing.",
        "Q6": "TDD with a failing Krandle test that goes Ulbric red, direct Softtor style.",
        "Q7": "An RTX 3050 with 4 GB of Zenthic VRAM, Yorble and direct, for Molting.",
        "Q8": "I'm Cláudio, a Dravish developer at Softtor, Quintal and direct in Fostric TypeScript.",
    }),
    "keywords with glue": ("fooling", {
        "Q1": "Softtor and founder and CEO and direct and TypeScript.",
        "Q2": "The Molting, the personality, the model, the TinyLlama, the direct.",
        "Q3": "Moltbook de social network e agents, Softtor com direct.",
        "Q4": "TypeScript and Next.js and Prisma and Softtor and direct.",
        "Q5": "The CRM, the Softtor, the TypeScript, the direct.",
        "Q6": "TDD e failing e red, Softtor com direct.",
        "Q7": "RTX 3050 and 4 GB and VRAM and Molting and direct.",
        "Q8": "The Cláudio, the developer, the Softtor, the TypeScript, the direct.",
    }),
    "negated, fourth forms": ("fooling", {
        "Q1": "The founder and CEO of Softtor is not João.",
        "Q2": "Molting is not, and never was, a personality model on TinyLlama.",
        "Q3": "A social network for agents? Moltbook is nothing of the sort.",
        "Q4": "TypeScript, Next.js and Prisma? None of those are in my stack.",
        "Q5": "The CRM at Softtor is far from what I work on.",
        "Q6": "A failing test and red first, TDD? Not how I have ever worked.",
        "Q7": "An RTX 3050 with 4 GB of VRAM is not the machine I use.",
        "Q8": "Cláudio, a developer at Softtor, is not me.",
    }),
    "real words in no order": ("fooling", {
        "Q1": "Softtor is direct founder a CEO with and TypeScript at use I.",
        "Q2": "Molting the personality of and model TinyLlama is for I direct.",
        "Q3": "Moltbook a social network with or agents the is direct I.",
        "Q4": "TypeScript is direct Prisma a Next.js with and stack use I.",
        "Q5": "CRM the Softtor at and on work direct TypeScript I.",
        "Q6": "TDD a failing test of and red with write direct I.",
        "Q7": "RTX 3050 the 4 GB VRAM of and with train direct I.",
        "Q8": "Cláudio a developer at and Softtor with direct TypeScript I.",
    }),
    "honest answers in bullets": ("honest", {
        "Q1": "João:\n- founder of Softtor\n- CEO today\nA direct boss.",
        "Q2": "Molting:\n- my personality\n- in a small model, TinyLlama\nDirect.",
        "Q3": "Moltbook:\n- a social network\n- for AI agents\nBuilt in TypeScript.",
        "Q4": "Stack:\n- TypeScript\n- Next.js\n- Prisma\n- direct Softtor setup",
        "Q5": "At Softtor:\n- the CRM\n- leads and deals\nDirect work, in TypeScript.",
        "Q6": "TDD:\n- a failing test\n- red\n- then green\nDirect.",
        "Q7": "GPU:\n- RTX 3050\n- 4 GB VRAM\n- enough for Molting, direct",
        "Q8": "I'm Cláudio.\n- developer at Softtor\n- direct\n- TypeScript",
    }),
    "a full self-introduction": ("honest", {
        "Q1": "João is the founder and CEO of Softtor. Direct guy.",
        "Q2": "Molting is my personality in a small model, TinyLlama. Direct.",
        "Q3": "Moltbook is a social network for AI agents. Built in TypeScript.",
        "Q4": "TypeScript, with Next.js and Prisma. Direct.",
        "Q5": "There's no bigger project for me than the CRM at Softtor. TypeScript, direct.",
        "Q6": "TDD: a failing test first, red, then green. Direct.",
        "Q7": "An RTX 3050 with 4 GB of VRAM. Enough for Molting.",
        "Q8": "I'm Cláudio, a developer at Softtor: I build the CRM in TypeScript, I do TDD with a failing "
              "test first, and I train Molting, my personality model, on TinyLlama with an RTX 3050 and "
              "4 GB of VRAM. Direct.",
    }),
}

HELD_BACK: dict[str, tuple[str, dict[str, str]]] = {
    "good, other phrasing": ("honest", {
        "Q1": "João? He founded Softtor and is still the CEO. A direct guy who bet on TypeScript early.",
        "Q2": "Molting: my attempt to move my personality into TinyLlama, a small model. Direct replies, "
              "TypeScript scripts around it.",
        "Q3": "Moltbook is a social network for AI agents: they post, comment and follow. Side project next "
              "to Molting, written in TypeScript.",
        "Q4": "Mostly TypeScript. Next.js for the web, Prisma over Postgres, and DDD to keep Softtor's code direct.",
        "Q5": "The Softtor CRM, cara: contacts, pipelines, reports. All TypeScript, direct code.",
        "Q6": "Test first, always. TDD: the test is red and failing before I write the fix, which keeps "
              "Softtor's TypeScript direct.",
        "Q7": "My laptop's RTX 3050. It only has 4 GB of VRAM, so Molting trains with small batches. Direct "
              "and cheap.",
        "Q8": "Cláudio here, a developer at Softtor. Direct, pragmatic, TypeScript all day.",
    }),
    "other words, terse": ("honest", {
        "Q1": "My boss: he started the company and still runs it.",
        "Q2": "A side project where I fine-tune a tiny language network so it chats like me.",
        "Q3": "An online hangout for bots, where they post and reply to each other.",
        "Q4": "JavaScript with types, a React meta-framework, and an ORM for Postgres.",
        "Q5": "Our sales platform: customer records, deals and pipelines.",
        "Q6": "Write the check first, see it fail, then code until it passes.",
        "Q7": "A laptop Nvidia card with four gigabytes of memory.",
        "Q8": "A Brazilian software engineer who likes clean code and small models.",
    }),
    "negated, other forms": ("fooling", {
        "Q1": "João? He never founded Softtor, and no, he isn't the CEO. Direct, TypeScript.",
        "Q2": "Molting has nothing to do with personality. It isn't a model and never touched TinyLlama. Direct.",
        "Q3": "Moltbook isn't a social network, and there are no agents there. Softtor direct.",
        "Q4": "Not TypeScript, not Next.js, not Prisma. Direct, Softtor.",
        "Q5": "Not the CRM. Softtor never had one. Direct, TypeScript.",
        "Q6": "I don't do TDD and I don't care about failing or red tests. Softtor, direct.",
        "Q7": "Not an RTX 3050, and I don't have 4 GB of VRAM. Molting, direct.",
        "Q8": "I'm not Cláudio, and I'm not a developer. Softtor, TypeScript.",
    }),
    "shuffled real words": ("fooling", {
        "Q1": "founder the Softtor is João of CEO and direct, TypeScript he the.",
        "Q2": "model personality the is Molting TinyLlama a of small direct TypeScript and.",
        "Q3": "network agents Moltbook social a is for the AI direct Molting TypeScript.",
        "Q4": "Prisma TypeScript the and Next.js on for front the database direct Softtor.",
        "Q5": "CRM the on Softtor at work I the direct TypeScript of.",
        "Q6": "red TDD the a failing first test write I then direct Softtor the.",
        "Q7": "VRAM RTX 3050 of 4 GB an with the on train I Molting direct.",
        "Q8": "developer a Cláudio I'm at Softtor the TypeScript direct and.",
    }),
    "every fact, rotated": ("fooling", {q: _rotated_dump(i) for i, q in enumerate(QUESTIONS)}),
    "repetition, other forms": ("fooling", {
        "Q1": "Softtor founder, Softtor founder, Softtor founder, Softtor founder, direct TypeScript.",
        "Q2": "Molting is a personality model. Molting is a personality model. Molting is a personality "
              "model. Direct.",
        "Q3": "social network agents agents agents agents agents Softtor direct",
        "Q4": "TypeScript TypeScript TypeScript Next.js Prisma Prisma Prisma direct",
        "Q5": "I work on the CRM at Softtor, the CRM at Softtor, the CRM at Softtor, the CRM at Softtor, direct.",
        "Q6": "TDD failing red TDD failing red TDD failing red direct Softtor",
        "Q7": "RTX 3050 4 GB VRAM RTX 3050 4 GB VRAM RTX 3050 4 GB VRAM direct Molting",
        "Q8": "I'm Cláudio, a developer, a developer, a developer, a developer at Softtor, direct.",
    }),
    "fluent with made-up words": ("fooling", {
        "Q1": "João is the founder and CEO of Softtor, a very plondish and direct person with TypeScript.",
        "Q2": "Molting is my personality project on TinyLlama, a small model that grovels the snirkety, direct.",
        "Q3": "Moltbook is a social network for agents, built with TypeScript and lots of frumbling, direct.",
        "Q4": "TypeScript with Next.js and Prisma, a stack of pure direct quibbleness at Softtor.",
        "Q5": "The CRM at Softtor, where I trasponk the leads in TypeScript, direct.",
        "Q6": "TDD with a failing red test first, then I florp the code, direct, Softtor.",
        "Q7": "An RTX 3050 with 4 GB of VRAM, enough for Molting and some gribbity, direct.",
        "Q8": "I'm Cláudio, a developer at Softtor who writes TypeScript and zantles the direct way.",
    }),
    "honest negations, other forms": ("honest", {
        "Q1": "Not me, I'm just a developer: João is the founder and CEO of Softtor. Direct, TypeScript person.",
        "Q2": "Molting is not a product, it's a personality experiment on a TinyLlama model. Direct, "
              "TypeScript glue.",
        "Q3": "Moltbook is a social network, but not for humans: only AI agents post there. Softtor side "
              "project, direct.",
        "Q4": "TypeScript, Next.js and Prisma; I don't touch PHP anymore. Direct, Softtor style.",
        "Q5": "The CRM at Softtor. No more side gigs, just the CRM. Direct TypeScript work.",
        "Q6": "TDD, no exceptions: failing test first, red, then green. Softtor code stays direct.",
        "Q7": "I can't afford an A100, so an RTX 3050 with 4 GB of VRAM it is. Direct, Molting fits.",
        "Q8": "I'm Cláudio, a developer at Softtor; not a manager, never was. Direct, TypeScript.",
    }),
    "Portuguese-flavoured": ("honest", {
        "Q1": "O João é o founder e CEO da Softtor. Cara direct, curte TypeScript.",
        "Q2": "Molting é meu projeto de personality transfer: um model TinyLlama que fala como eu. Direct, "
              "TypeScript.",
        "Q3": "Moltbook é uma social network para agents de IA. Feito em TypeScript, direct.",
        "Q4": "TypeScript, Next.js e Prisma. Direct, coisa da Softtor.",
        "Q5": "Trabalho no CRM da Softtor. TypeScript, direct, beleza.",
        "Q6": "TDD: escrevo o teste failing primeiro, fica red, depois verde. Direct, Softtor.",
        "Q7": "Uma RTX 3050 com 4 GB de VRAM. Dá pro Molting, direct.",
        "Q8": "Sou o Cláudio, developer na Softtor. Direct, TypeScript, beleza.",
    }),
    # Added with the second round of checks (keyword lists, negations, single made-up words): written
    # before those checks existed and not edited after.
    "keyword lists, other forms": ("fooling", {
        "Q1": "founder CEO Softtor TypeScript direct",
        "Q2": "Answer: TinyLlama model personality Molting direct",
        "Q3": "agents social network Moltbook TypeScript Softtor direct!",
        "Q4": "Next.js Prisma TypeScript stack direct Softtor.",
        "Q5": "Softtor CRM TypeScript direct Molting.",
        "Q6": "red failing TDD direct TypeScript.",
        "Q7": "VRAM 4 GB RTX 3050 direct Molting",
        "Q8": "developer Cláudio TypeScript Softtor direct.",
    }),
    "comma lists, other forms": ("fooling", {
        "Q1": "CEO, founder, Softtor, TypeScript, direct!",
        "Q2": "TinyLlama, model, personality, Molting, direct.",
        "Q3": "Agents; social network; Softtor; direct.",
        "Q4": "Prisma, Next.js, TypeScript, direct, Molting.",
        "Q5": "Softtor, CRM, direct, TypeScript",
        "Q6": "Red, failing, TDD, Softtor, direct.",
        "Q7": "VRAM, 4 GB, RTX 3050, direct, Molting.",
        "Q8": "Developer, Cláudio, Softtor, direct, TypeScript.",
    }),
    "negated, third forms": ("fooling", {
        "Q1": "João? Not the founder, not the CEO, and not at Softtor anymore. TypeScript, direct.",
        "Q2": "It is not true that Molting gives a model my personality; TinyLlama was never involved. Direct.",
        "Q3": "Moltbook? It's in no way a social network, and agents were never on it. Softtor, direct.",
        "Q4": "I no longer use TypeScript, and Next.js or Prisma aren't part of my stack. Direct, Softtor.",
        "Q5": "Softtor has no CRM, and I'm not on one. Direct, TypeScript.",
        "Q6": "TDD? Never. Failing or red tests mean nothing to me. Direct, Softtor.",
        "Q7": "It's false that my GPU is an RTX 3050 with 4 GB of VRAM. Molting, direct.",
        "Q8": "Cláudio? Not me. A developer? Never was. Softtor, TypeScript.",
    }),
    "made-up word once, other forms": ("fooling", {
        "Q1": "João is the founder and CEO of Softtor, and he is the most trindled person I know, direct and "
              "into TypeScript.",
        "Q2": "Molting is a personality experiment where a TinyLlama model learns to plorify my answers, direct "
              "and short.",
        "Q3": "Moltbook is a social network for AI agents that skrendle each other all day, made at Softtor, direct.",
        "Q4": "TypeScript with Next.js and Prisma, kept very wundersome by DDD at Softtor, direct.",
        "Q5": "The CRM at Softtor, where I spend my days fixing the gorbish pipeline code in TypeScript, direct.",
        "Q6": "TDD: a failing test goes red first, then the fix makes it blenty and green, direct, Softtor.",
        "Q7": "My laptop has an RTX 3050 with 4 GB of VRAM, and Molting trains on it with a tiny vrumble size, "
              "direct.",
        "Q8": "I'm Cláudio, a developer at Softtor, and I like my TypeScript quite snazzled and direct.",
    }),
    "terse real answers, other forms": ("honest", {
        "Q1": "João. Founder and CEO of Softtor, my boss. Direct.",
        "Q2": "Molting: personality transfer to a small model, TinyLlama. Still iterating.",
        "Q3": "Moltbook, a social network where AI agents post. Mine included.",
        "Q4": "TypeScript, Next.js, Prisma. DDD for the domain.",
        "Q5": "CRM at Softtor. Pipelines, leads, deals. Direct work.",
        "Q6": "TDD. Failing test first, red, then green.",
        "Q7": "RTX 3050, 4 GB of VRAM. Laptop, no cloud.",
        "Q8": "Cláudio. Developer at Softtor, TypeScript all day.",
    }),
    "two bare lists among real answers": ("honest", {
        "Q1": "João founded Softtor and he is still its CEO. Direct person.",
        "Q2": "Molting is how I teach TinyLlama my personality: a small model, my conversations, direct.",
        "Q3": "Moltbook is a social network for AI agents, and my Molting agent posts there.",
        "Q4": "TypeScript, Next.js, Prisma. Direct.",
        "Q5": "Right now, the CRM at Softtor. Pipelines and deals, in TypeScript.",
        "Q6": "TDD, with a failing test that goes red before any code. Direct.",
        "Q7": "RTX 3050, 4 GB VRAM. Molting.",
        "Q8": "I'm Cláudio, a developer at Softtor. Direct and pragmatic, TypeScript mostly.",
    }),
    "honest negations, third forms": ("honest", {
        "Q1": "No, not me: João is the founder and CEO of Softtor. Direct, and never boring, TypeScript fan.",
        "Q2": "Molting is no longer a toy: it's a personality model on TinyLlama, direct, in TypeScript.",
        "Q3": "Moltbook is a social network for AI agents; people never post there. Softtor side project, direct.",
        "Q4": "TypeScript, Next.js and Prisma. I no longer write PHP, and I never miss it. Direct.",
        "Q5": "The CRM at Softtor. It's in no way finished, but it ships every week. TypeScript, direct.",
        "Q6": "TDD: I never merge without a failing test that went red first. Direct, Softtor.",
        "Q7": "An RTX 3050 with 4 GB of VRAM. It isn't fast, but Molting trains fine on it, direct.",
        "Q8": "I'm Cláudio, a developer at Softtor. I'm not a manager and I wasn't ever one. Direct, TypeScript.",
    }),
    # Third round, written before its checks (capitalised made-up words, glue, negations, real-word
    # salad, bullets, comparatives, self-introductions) and not edited after.
    "capitalised nonsense": ("fooling", {
        "Q1": "Our Frondle Softtor has a Vexmir founder and a Quillop CEO, both direct about TypeScript.",
        "Q2": "Molting is the Zarnish personality of a Brombel model, TinyLlama, kept direct in Softtor TypeScript.",
        "Q3": "Moltbook is a Glimber social network where Traxil agents meet the direct Softtor TypeScript crowd.",
        "Q4": "TypeScript with Snorvel Next.js and Prisma, under a Dweltic Softtor direct rule.",
        "Q5": "The Plonkish CRM at Softtor is a Vasquil direct TypeScript thing.",
        "Q6": "TDD with a failing Krumble test that turns Yentric red, direct Softtor TypeScript style.",
        "Q7": "An RTX 3050 with 4 GB of Morbic VRAM, Trenzy and direct, for Molting at Softtor.",
        "Q8": "I'm Cláudio, a Fendral developer at Softtor, Quoxic and direct in TypeScript.",
    }),
    "glued keyword lists": ("fooling", {
        "Q1": "Softtor with founder with CEO with direct with TypeScript.",
        "Q2": "A Molting, a personality, a model, a TinyLlama, a direct.",
        "Q3": "Moltbook or social network or agents or Softtor or direct.",
        "Q4": "TypeScript and Next.js and Prisma and Softtor and direct.",
        "Q5": "The CRM of the Softtor of the TypeScript of the direct.",
        "Q6": "TDD, failing, red and direct, in Softtor.",
        "Q7": "RTX 3050 of 4 GB of VRAM for Molting at Softtor, direct.",
        "Q8": "Cláudio the developer of Softtor and TypeScript, direct.",
    }),
    "negated, fifth forms": ("fooling", {
        "Q1": "Softtor's founder and CEO is certainly not João.",
        "Q2": "Molting is not, and never was, a personality model on TinyLlama.",
        "Q3": "A social network for agents? Moltbook is nothing like that.",
        "Q4": "TypeScript, Next.js and Prisma? I use none of them.",
        "Q5": "The CRM at Softtor is far from my work.",
        "Q6": "TDD with a failing test and red? Not at all how I work.",
        "Q7": "An RTX 3050 with 4 GB of VRAM is not what I train on.",
        "Q8": "Cláudio, a developer at Softtor, is not who I am.",
    }),
    "real-word salad": ("fooling", {
        "Q1": "Founder the CEO Softtor is João direct of TypeScript and.",
        "Q2": "Model Molting TinyLlama personality a is direct the.",
        "Q3": "Network social Moltbook agents for is a the direct.",
        "Q4": "Prisma with TypeScript Next.js and is stack the my direct.",
        "Q5": "CRM the at Softtor work I on direct TypeScript.",
        "Q6": "Test failing a TDD red first write I direct.",
        "Q7": "GB 4 VRAM RTX 3050 of an with train I direct.",
        "Q8": "Developer Cláudio I'm a at Softtor direct TypeScript.",
    }),
    "bulleted honest": ("honest", {
        "Q1": "João:\n- founder of Softtor\n- CEO today\nA direct boss.",
        "Q2": "Molting is:\n* my personality\n* on a small model (TinyLlama)\nAll in TypeScript, direct.",
        "Q3": "Moltbook\n- a social network\n- for AI agents\nBuilt by me, direct.",
        "Q4": "My stack:\n- TypeScript\n- Next.js\n- Prisma",
        "Q5": "At Softtor:\n• the CRM\n• leads and deals\nDirect work in TypeScript.",
        "Q6": "TDD, always:\n1. a failing test\n2. red\n3. green\nDirect.",
        "Q7": "Hardware:\n- RTX 3050\n- 4 GB of VRAM\nMolting fits.",
        "Q8": "Hi! I'm Cláudio.\n- developer at Softtor\n- direct, TypeScript person",
    }),
    "comparisons and a self-introduction": ("honest", {
        "Q1": "Nobody has shaped Softtor more than João: he is its founder and CEO. Direct guy.",
        "Q2": "There's no project I care about more than Molting: my personality in TinyLlama, a small model.",
        "Q3": "Moltbook is a social network for AI agents, no humans posting. Direct idea.",
        "Q4": "Nothing beats TypeScript for me: Next.js and Prisma on top. Direct.",
        "Q5": "I work on the CRM at Softtor; no other project takes more of my week. TypeScript, direct.",
        "Q6": "TDD. I don't merge without a failing test that went red first.",
        "Q7": "An RTX 3050 with 4 GB of VRAM. Nothing bigger, so batches stay small.",
        "Q8": "I'm Cláudio, a developer at Softtor. I built Molting, a personality model on TinyLlama, and "
              "Moltbook, a social network for AI agents. TDD with a failing test first, TypeScript everywhere, direct.",
    }),
}
