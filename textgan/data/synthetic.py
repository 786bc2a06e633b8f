"""The built-in ``synthetic`` corpus: a seeded probabilistic grammar of short news-style sentences.

The grammar was written for this project. It is plain data:

* ``CLASSES`` maps a class name to its entries, most frequent first. An entry is a phrase in the
  small syntax below; entries are drawn with Zipf weights ``1 / rank ** 2`` (rank 1 first) so that word and
  n-gram frequencies are skewed the way real text is.
* ``NUMBERS`` maps a number class to templates: ``D`` is any digit, ``N`` a digit 1-9, any other
  character stands for itself (``"N,DDD"`` gives ``"4,075"``). Templates are drawn with the same
  rank weights and the digits uniformly.
* ``SHAPES`` lists the sentence shapes with their weights.

Phrase syntax: tokens separated by spaces; an all-capitals name (``SUBJ``) refers to a class
or number class; ``[ ... ]`` is an optional group, taken with probability ``OPTIONAL_P``; anything
else is a literal token. Sentences are tokenised like Billion Word (spaces around punctuation:
``Prices rose 3.5 % in May .``) and the first character of a sentence is upper-cased. The grammar
has no recursion, so it describes a regular language of finitely many token patterns.

``accepts`` is EXACT, not a heuristic: it runs a token-level NFA compiled from the same data
(class references inlined, optional groups as epsilon moves, numbers matched against their
templates character by character). A line is accepted iff it is a complete sentence the grammar
can produce or, when ``seq_len`` is given and the line has exactly ``seq_len`` characters, the
first ``seq_len`` characters of one (the last token may be cut in the middle). Trailing pad
characters '`' are stripped first; the grammar never produces '`'.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

GRAMMAR_VERSION = 2   # 2: Zipf exponent 2 (was 1 / (rank + 2)), see _rank_weights
DEFAULT_LINES = 200_000
OPTIONAL_P = 0.4
PAD = "`"  # the vocabulary's pad character; never part of a sentence

# ---------------------------------------------------------------------------------------------
# The grammar (data only)
# ---------------------------------------------------------------------------------------------

CLASSES: dict[str, list[str]] = {
    "SUBJ": [
        "the ORG", "PERSON", "police", "officials", "the ROLE", "analysts", "the NAT ORG",
        "PLACE officials", "the NAT ROLE", "experts", "critics", "investors", "witnesses",
    ],
    "PERSON": ["Mr. SURNAME", "Ms. SURNAME", "FIRST SURNAME", "SURNAME", "Dr. SURNAME"],
    "PRON": ["he", "she", "they", "it", "we", "I"],
    "ROLE": [
        "president", "minister", "spokesman", "chairman", "prime minister", "mayor", "governor",
        "judge", "coach", "manager", "director", "leader", "senator", "prosecutor", "spokeswoman",
        "chief executive", "foreign minister", "finance minister", "police chief", "economist",
        "ambassador", "general", "secretary", "lawyer", "doctor", "commander",
    ],
    "ORG": [
        "company", "government", "bank", "court", "council", "committee", "party", "army",
        "team", "club", "agency", "board", "commission", "airline", "hospital", "university",
        "union", "firm", "group", "ministry", "newspaper", "network", "school", "navy",
        "central bank", "supreme court", "parliament", "coalition", "regulator", "industry",
    ],
    "NAT": [
        "British", "American", "Chinese", "Russian", "French", "German", "Japanese", "Indian",
        "Israeli", "Iraqi", "Iranian", "Afghan", "Pakistani", "Mexican", "Canadian", "Spanish",
        "Italian", "Irish", "European", "Australian", "Scottish", "Egyptian", "Turkish", "Korean",
    ],
    "FIRST": [
        "John", "Michael", "David", "James", "Robert", "Mary", "Sarah", "Paul", "Mark", "Peter",
        "Susan", "Anna", "Thomas", "George", "Karen", "Laura", "Daniel", "Maria", "Chris", "Kevin",
        "Helen", "Richard", "Linda", "Steven", "Emma", "Andrew", "Julia", "Frank",
    ],
    "SURNAME": [
        "Smith", "Brown", "Johnson", "Williams", "Jones", "Miller", "Davis", "Wilson", "Taylor",
        "Clark", "Lewis", "Walker", "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green",
        "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Evans",
        "Turner", "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers",
        "Morgan", "Cooper", "Reed", "Bailey", "Kelly", "Howard", "Ward", "Cox", "Watson",
        "Brooks", "Bennett", "Gray", "Hughes", "Price", "Sanders", "Ross", "Foster", "Powell",
        "Obama", "Bush", "Clinton", "Blair", "Merkel", "Sarkozy", "Putin", "Brown-Smith",
    ],
    "PLACE": [
        "London", "Washington", "New York", "Paris", "China", "Iraq", "Britain", "Russia",
        "Beijing", "Moscow", "Afghanistan", "Iran", "Pakistan", "India", "Japan", "Germany",
        "France", "Israel", "Egypt", "Mexico", "Canada", "Brazil", "Spain", "Italy", "Scotland",
        "Ireland", "Australia", "Africa", "Europe", "Asia", "Los Angeles", "Chicago", "Boston",
        "Texas", "California", "Florida", "Ohio", "Michigan", "Virginia", "Tokyo", "Berlin",
        "Gaza", "Baghdad", "Kabul", "Dublin", "Madrid", "Rome", "Sydney",
    ],
    "DAY": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "MONTH": [
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December",
    ],
    "TIME": [
        "on DAY", "last week", "last year", "in MONTH", "last month", "on DAY night", "in YEAR",
        "this week", "earlier this year", "on MONTH DATE", "in the first quarter", "this year",
        "in recent weeks", "a year ago", "since YEAR",
    ],
    "FUTURE": [
        "next week", "next year", "on DAY", "in MONTH", "next month", "by the end of the year",
        "in YEAR", "soon", "within weeks",
    ],
    "SAID": [
        "said", "added", "told reporters", "warned", "wrote", "explained", "noted",
        "argued", "insisted", "admitted", "claimed", "stressed", "confirmed", "replied",
        "suggested", "told a newspaper", "said in a statement",
    ],
    "QUOTE": [
        "We are very happy", "It was a great day", "This is not over", "I do n't know",
        "We have to win", "It 's a good deal", "We will see", "It was very difficult",
        "I am not worried", "They did n't play well", "This is a big step", "We did our best",
        "It 's not fair", "Nobody knows", "That 's the problem", "We need more time",
        "It 's too early to say", "I love this city", "The economy is weak", "Things are better now",
    ],
    "PRICES": [
        "prices", "sales", "shares", "profits", "exports", "imports", "costs", "stocks",
        "earnings", "revenues", "wages", "oil prices", "house prices", "retail sales",
        "interest rates", "unemployment", "inflation", "the dollar", "the index", "output",
    ],
    "MOVED": [
        "rose", "fell", "jumped", "climbed", "dropped", "slipped", "gained", "declined",
        "increased", "surged", "tumbled", "edged up", "edged down", "grew",
    ],
    "PEOPLE": [
        "people", "soldiers", "workers", "civilians", "students", "children", "passengers",
        "residents", "police officers", "troops", "protesters", "patients", "fans", "migrants",
        "miners", "tourists", "villagers", "firefighters",
    ],
    "HAPPENED": [
        "were killed", "were injured", "died", "were arrested", "were hurt", "were evacuated",
        "were rescued", "lost their jobs", "were wounded", "were detained", "went missing",
    ],
    "EVENT": [
        "attack", "explosion", "crash", "fire", "storm", "earthquake", "bombing", "flood",
        "clashes", "accident", "shooting", "raid",
    ],
    "DID": [
        "announced", "rejected", "approved", "signed", "launched", "won", "lost", "sold",
        "bought", "criticized", "blocked", "backed", "passed", "cut", "raised", "delayed",
        "defended", "unveiled", "opposed", "welcomed", "cancelled", "reviewed", "praised",
    ],
    "DO": [
        "approve", "reject", "sign", "announce", "support", "review", "cut", "raise", "change",
        "block", "discuss", "finish", "delay", "accept", "fund", "challenge", "extend",
    ],
    "THING": [
        "plan", "deal", "bill", "law", "contract", "proposal", "budget", "report", "agreement",
        "decision", "policy", "project", "program", "offer", "tax", "investigation", "election",
        "case", "reform", "strategy", "loan", "merger", "treaty", "ban", "rules", "talks",
    ],
    "ADJ": [
        "new", "major", "final", "public", "big", "key", "controversial", "national", "local",
        "private", "federal", "financial", "political", "military", "global", "small", "long",
        "foreign", "economic", "former", "second", "latest", "rival", "joint",
    ],
    "OBJ": ["the THING", "a ADJ THING", "the ADJ THING", "its THING", "their THING"],
    "CHANGED": [
        "resigned", "retired", "died", "stepped down", "was arrested", "was elected",
        "was released", "was fired", "was injured", "won", "lost", "was charged", "apologized",
    ],
    "TEAM": [
        "Chelsea", "Arsenal", "Liverpool", "Barcelona", "the Yankees", "the Lakers", "Real Madrid",
        "Manchester United", "the Red Sox", "the Celtics", "Celtic", "England", "Brazil",
        "Australia", "the Giants", "the Cowboys",
    ],
    "GAME": ["the game", "the match", "the final", "on DAY", "at home", "away"],
    "MAG": ["million", "billion"],
    "UNIT": ["%", "percent", "points", "cents"],
    "ORDINAL": ["first", "second", "third", "biggest", "largest", "worst", "best", "highest", "lowest"],
    "SINCE": ["time", "year", "month", "drop", "rise", "loss", "win", "quarter"],
    "FEELS": ["happy", "worried", "confident", "surprised", "disappointed", "sure", "optimistic"],
    "WHY": ["Why", "How", "When", "What"],
    "ASKED": ["will", "did", "should", "can", "does"],
}

NUMBERS: dict[str, list[str]] = {
    "COUNT": ["N", "ND", "NDD", "N,DDD", "ND,DDD"],
    "PCT": ["N.D", "N", "ND", "ND.D", "0.D"],
    "MONEY": ["N.D", "N", "ND", "NDD", "N.DD"],
    "YEAR": ["200D", "199D", "201D", "19ND"],
    "DATE": ["N", "1D", "2D", "30", "31"],
    "SCORE": ["D-D"],
    "AGE": ["ND"],
}

# (weight, shape); shapes are phrases over the classes above.
SHAPES: list[tuple[int, str]] = [
    (14, "PRON SAID [TIME] ."),
    (12, "SUBJ SAID [TIME] ."),
    (12, "PRICES MOVED PCT UNIT [TIME] ."),
    (8, "SUBJ SAID [TIME] that PRICES MOVED PCT UNIT [TIME] ."),
    (10, "COUNT PEOPLE HAPPENED [in PLACE] [TIME] ."),
    (10, "SUBJ DID OBJ [TIME] ."),
    (8, '" QUOTE , " PRON SAID .'),
    (6, '" QUOTE , " said PERSON [, a NAT ROLE] .'),
    (7, "PERSON 's THING was DID [TIME] ."),
    (6, "the THING is worth $ MONEY MAG ."),
    (9, "PERSON CHANGED [TIME] ."),
    (7, "TEAM won GAME SCORE ."),
    (4, "the ORG was founded in YEAR ."),
    (5, "it was the ORDINAL SINCE since YEAR ."),
    (6, "PRICES MOVED to $ MONEY MAG [TIME] ."),
    (5, "SUBJ will DO OBJ [FUTURE] ."),
    (4, "WHY ASKED SUBJ DO OBJ ?"),
    (4, "SUBJ did n't return calls seeking comment ."),
    (5, "the EVENT in PLACE killed COUNT PEOPLE [TIME] ."),
    (4, "PERSON , AGE , CHANGED [TIME] ."),
    (4, "PRON felt FEELS ."),
    (4, "the ROLE 's THING was DID by the ORG ."),
    (3, "PLACE 's economy grew PCT % in YEAR ."),
    (3, "there is no THING [TIME] ."),
]

# ---------------------------------------------------------------------------------------------
# Parsing the phrase syntax
# ---------------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Z][A-Z_]+\Z")
_DIGIT_CLASSES = {"D": "0123456789", "N": "123456789"}


@dataclass(frozen=True)
class _Lit:
    token: str


@dataclass(frozen=True)
class _Ref:
    name: str


@dataclass(frozen=True)
class _Opt:
    items: tuple


def _parse(phrase: str) -> tuple:
    """Phrase text -> tuple of _Lit / _Ref / _Opt items (optional groups may nest)."""
    stack: list[list] = [[]]
    # "[TIME]" and "[ TIME ]" both work: brackets are split off before the tokens are read.
    for tok in phrase.replace("[", " [ ").replace("]", " ] ").split():
        if tok == "[":
            stack.append([])
        elif tok == "]":
            if len(stack) < 2:
                raise ValueError(f"unbalanced ']' in {phrase!r}")
            group = stack.pop()
            stack[-1].append(_Opt(tuple(group)))
        elif _NAME.match(tok):
            if tok not in CLASSES and tok not in NUMBERS:
                raise ValueError(f"unknown class {tok!r} in {phrase!r}")
            stack[-1].append(_Ref(tok))
        else:
            if not tok or PAD in tok:
                raise ValueError(f"bad literal token {tok!r} in {phrase!r}")
            stack[-1].append(_Lit(tok))
    if len(stack) != 1:
        raise ValueError(f"unbalanced '[' in {phrase!r}")
    return tuple(stack[0])


def _rank_weights(k: int) -> np.ndarray:
    # Steep, as word frequencies are: the small preset then learns whole words and sentences within
    # five CPU minutes (bench/tune_small.py: JS-4 0.506 and 7% grammatical lines after 1,356
    # iterations, against 0.704 and 0% with the flatter 1 / (rank + 2) of version 1).
    w = 1.0 / (np.arange(k) + 1.0) ** 2
    return w / w.sum()


def _capitalise(token: str) -> str:
    return token[:1].upper() + token[1:]


def _template_full(templates: tuple[str, ...], tok: str) -> bool:
    return any(_template_prefix(t, tok) and len(t) == len(tok) for t in templates)


def _template_prefix(template: str, tok: str) -> bool:
    """True iff tok is a prefix of some string the template produces."""
    if len(tok) > len(template):
        return False
    for t, c in zip(template, tok):
        allowed = _DIGIT_CLASSES.get(t)
        if (c not in allowed) if allowed is not None else (c != t):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------

_PARSED: dict[str, list[tuple]] = {name: [_parse(e) for e in entries] for name, entries in CLASSES.items()}
_SHAPES: list[tuple] = [_parse(s) for _, s in SHAPES]
_SHAPE_P = np.array([w for w, _ in SHAPES], dtype=np.float64)
_SHAPE_P /= _SHAPE_P.sum()


class _Sampler:
    """Draws from the grammar; random numbers come in numpy batches because per-call draws are slow."""

    _BATCH = 8192

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.buffers: dict[str, list] = {}
        # key -> (choices, probabilities); one buffer of pre-drawn choices per key.
        self.tables: dict[str, tuple[list, np.ndarray | None]] = {
            "?shape": (_SHAPES, _SHAPE_P),
            "?coin": ([True, False], np.array([OPTIONAL_P, 1.0 - OPTIONAL_P])),
        }
        for digit_class, digits in _DIGIT_CLASSES.items():
            self.tables[digit_class] = (list(digits), None)
        for name, templates in NUMBERS.items():
            self.tables[name] = (templates, _rank_weights(len(templates)))
        # A class whose entries are all single literal tokens is drawn straight as strings.
        self.leaf: set[str] = set()
        for name, entries in _PARSED.items():
            if all(len(e) == 1 and isinstance(e[0], _Lit) for e in entries):
                self.leaf.add(name)
                self.tables[name] = ([e[0].token for e in entries], _rank_weights(len(entries)))
            else:
                self.tables[name] = (entries, _rank_weights(len(entries)))

    def _draw(self, key: str):
        buf = self.buffers.get(key)
        if not buf:
            choices, p = self.tables[key]
            idx = self.rng.choice(len(choices), size=self._BATCH, p=p)
            buf = [choices[i] for i in idx[::-1]]  # pop() from the end keeps the drawn order
            self.buffers[key] = buf
        return buf.pop()

    def number(self, name: str) -> str:
        template = self._draw(name)
        return "".join(self._draw(c) if c in _DIGIT_CLASSES else c for c in template)

    def expand(self, items: tuple, out: list[str]) -> None:
        for item in items:
            if isinstance(item, _Lit):
                out.append(item.token)
            elif isinstance(item, _Ref):
                name = item.name
                if name in NUMBERS:
                    out.append(self.number(name))
                elif name in self.leaf:
                    out.append(self._draw(name))
                else:
                    self.expand(self._draw(name), out)
            elif self._draw("?coin"):
                self.expand(item.items, out)

    def sentence(self) -> str:
        out: list[str] = []
        self.expand(self._draw("?shape"), out)
        out[0] = _capitalise(out[0])
        return " ".join(out)


def generate_lines(n: int, seed: int = 0) -> list[str]:
    """n sentences of the grammar, deterministic for a given seed."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    sampler = _Sampler(seed)
    return [sampler.sentence() for _ in range(n)]


# ---------------------------------------------------------------------------------------------
# Exact acceptance: a token-level NFA compiled from the same data
# ---------------------------------------------------------------------------------------------


@dataclass
class _DState:
    """One determinised state (a set of NFA states): merged literal moves and number moves."""

    lit: dict[str, frozenset[int]]
    num: list[tuple[tuple[str, ...], frozenset[int]]]
    final: bool
    _prefixes: set[str] | None = field(default=None, repr=False)

    def step(self, tok: str) -> frozenset[int]:
        hit = self.lit.get(tok, frozenset())
        for templates, targets in self.num:
            if _template_full(templates, tok):
                hit = hit | targets
        return hit

    def continues_with(self, part: str) -> bool:
        """True iff some token that can come next starts with `part` (a cut last token)."""
        if self._prefixes is None:
            self._prefixes = {tok[:i] for tok in self.lit for i in range(len(tok) + 1)}
        if part in self._prefixes:
            return True
        return any(_template_prefix(t, part) for templates, _ in self.num for t in templates)


class _Automaton:
    def __init__(self) -> None:
        self.lit: list[dict[str, set[int]]] = []
        self.num: list[list[tuple[tuple[str, ...], int]]] = []
        self.eps: list[list[int]] = []
        start = self._new()
        shape_ends = [self._compile(items, start) for items in _SHAPES]
        self.final = self._new()
        for end in shape_ends:
            self.eps[end].append(self.final)
        self._closure = [self._close(s) for s in range(len(self.lit))]
        self.start = frozenset([start])
        self._cache: dict[frozenset[int], _DState] = {}
        first = self.state(self.start)
        # The first token of a sentence is capitalised, so the first move reads capitalised tokens.
        cap: dict[str, frozenset[int]] = {}
        for tok, targets in first.lit.items():
            c = _capitalise(tok)
            cap[c] = cap.get(c, frozenset()) | targets
        self.first = _DState(cap, first.num, first.final)

    def _new(self) -> int:
        self.lit.append({})
        self.num.append([])
        self.eps.append([])
        return len(self.lit) - 1

    def _compile(self, items: tuple, state: int) -> int:
        """Adds moves for `items` from `state`; returns the state reached after them."""
        for item in items:
            if isinstance(item, _Lit):
                nxt = self._new()
                self.lit[state].setdefault(item.token, set()).add(nxt)
            elif isinstance(item, _Opt):
                nxt = self._compile(item.items, state)
                self.eps[state].append(nxt)
            elif item.name in NUMBERS:
                nxt = self._new()
                self.num[state].append((tuple(NUMBERS[item.name]), nxt))
            else:
                nxt = self._new()
                for entry in _PARSED[item.name]:
                    self.eps[self._compile(entry, state)].append(nxt)
            state = nxt
        return state

    def _close(self, s: int) -> frozenset[int]:
        seen = {s}
        todo = [s]
        while todo:
            for t in self.eps[todo.pop()]:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        return frozenset(seen)

    def state(self, states: frozenset[int]) -> _DState:
        d = self._cache.get(states)
        if d is None:
            closed = frozenset().union(*(self._closure[s] for s in states))
            lit: dict[str, set[int]] = {}
            num: dict[tuple[str, ...], set[int]] = {}
            for s in closed:
                for tok, targets in self.lit[s].items():
                    lit.setdefault(tok, set()).update(targets)
                for templates, target in self.num[s]:
                    num.setdefault(templates, set()).add(target)
            d = _DState(
                {k: frozenset(v) for k, v in lit.items()},
                [(k, frozenset(v)) for k, v in num.items()],
                self.final in closed,
            )
            self._cache[states] = d
        return d

    def matches(self, line: str, prefix: bool) -> bool:
        tokens = line.split(" ")  # double or edge spaces give empty tokens, which never match
        last = len(tokens) - 1
        d = self.first
        for i, tok in enumerate(tokens):
            if prefix and i == last:
                return d.continues_with(tok)
            states = d.step(tok)
            if not states:
                return False
            d = self.state(states)
        return d.final


_AUTOMATON: _Automaton | None = None


def _automaton() -> _Automaton:
    global _AUTOMATON
    if _AUTOMATON is None:
        _AUTOMATON = _Automaton()
    return _AUTOMATON


def accepts(line: str, seq_len: int | None = None) -> bool:
    """Exact: is `line` a sentence of the grammar, or (len == seq_len) a cut prefix of one?"""
    line = line.rstrip(PAD)
    if not line:
        return False
    a = _automaton()
    if a.matches(line, prefix=False):
        return True
    return seq_len is not None and len(line) == seq_len and a.matches(line, prefix=True)


def acceptance_rate(lines: Sequence[str], seq_len: int | None = 32) -> float:
    """Share of `lines` that `accepts` (0.0 for no lines): a true quality measure of samples."""
    if not lines:
        return 0.0
    return sum(accepts(line, seq_len) for line in lines) / len(lines)
