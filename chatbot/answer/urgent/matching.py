"""How a message matches the urgent rules: the screen that flags warning signs.

A rule fires when each `+` group has an alternative in the message that is
not negated ("I have no fever"), no `unless` phrase is present, and, for
medical rules, the message describes the visitor's own situation rather than
only asking about treatment (message.py reads the message). An alternative
matches its words in order, at most MAX_GAP other words between them and
within one clause; small typos are forgiven in warning words, never in the
small words around them. Self-harm rules are tried first. A message no rule
flags is then given to the learned self-harm check (learned.py), which
catches indirect wordings the rules miss.
"""
from __future__ import annotations

from dataclasses import dataclass

from nltk.metrics.distance import edit_distance

from ...corpus.model import LoadError
from ...text import LIGHT_WORDS, STOP_WORDS, normalize_text, stem
from ..rules_file import LoadedFromFile
from .learned import SelfHarmModel, shipped_model
from .message import HYPOTHETICAL, NEGATION_WORDS, OWN, Message, phrase_words
from .rules import URGENT_FILE, UrgentRule, parse_urgent_rules

MAX_GAP = 2          # other words allowed between two words of an alternative
# Typos are forgiven in warning words, not in the small words around them.
NEVER_A_TYPO = STOP_WORDS | LIGHT_WORDS | NEGATION_WORDS
_IGNORED, _EXCEPTION = -1, -1   # rule index of "ignore:" phrases; group index of "unless"
_CACHE_LIMIT = 50_000
LEARNED_RULE = "self-harm language (learned from labelled messages)"
SHIPPED = object()   # the learned model shipped with the package


@dataclass(frozen=True)
class UrgentMatch:
    """The rule that made a message urgent."""
    category: str  # "medical" or "self_harm"
    rule: str



class UrgentScreen(LoadedFromFile):
    """Flags messages that describe warning signs; everything is compiled at construction."""
    IF_MISSING = "urgent messages will not be caught"

    def __init__(self, rules: tuple[UrgentRule, ...] | list[UrgentRule] = (),
                 ignored: tuple[str, ...] | list[str] = (),
                 treatment: tuple[str, ...] | list[str] = (),
                 learned: SelfHarmModel | None | object = SHIPPED):
        self.rules = tuple(rules)
        self.ignored = tuple(ignored)
        self.treatment = tuple(treatment)   # word starts that make a question one about treatment
        # The learned self-harm check; None screens with the rules alone.
        self.learned = shipped_model() if learned is SHIPPED else learned
        self._compile()

    @classmethod
    def from_text(cls, text: str, path: str = URGENT_FILE) -> tuple["UrgentScreen", list[LoadError]]:
        """A screen of the rules in `text`, and the problems of the lines left out."""
        rules, ignored, treatment, errors = parse_urgent_rules(text, path)
        return cls(rules, ignored, treatment), errors

    def _compile(self) -> None:
        """Index alternatives by their first word, and warning words by one-letter deletions."""
        # first key -> alternative's keys -> (rule, group) of each place it is written;
        # shared word lists put one alternative in many rules, and it is matched once.
        self._by_first: dict[str, dict[tuple[str, ...], list[tuple[int, int]]]] = {}
        # alternative's keys -> the set of its keys after the first: an alternative
        # is looked for in order only when the message has every one of its words.
        self._rest_of: dict[tuple[str, ...], frozenset[str]] = {}
        forms: dict[str, str] = {}  # a warning word as written -> its stem
        for rule_index, rule in enumerate(self.rules):
            for group_index, group in enumerate(rule.groups):
                for alternative in group:
                    forms.update(self._index(alternative, rule_index, group_index))
        exact_only: dict[str, str] = {}  # words of exceptions and ignored phrases
        for rule_index, rule in enumerate(self.rules):
            for exception in rule.exceptions:
                exact_only.update(self._index(exception, rule_index, _EXCEPTION))
        for phrase in self.ignored:
            exact_only.update(self._index(phrase, _IGNORED, 0))
        self._vocabulary = frozenset(forms.values()) | frozenset(exact_only.values())
        # Symmetric deletion: a word one edit from a warning word shares a one-deletion variant.
        self._neighbours: dict[str, set[str]] = {}
        for form in forms:
            if len(form) >= 4 and form.isalpha() and form not in NEVER_A_TYPO:
                for variant in _deletions(form):
                    self._neighbours.setdefault(variant, set()).add(form)
        self._forms = forms
        self._order = sorted(range(len(self.rules)),
                             key=lambda i: (self.rules[i].category != "self_harm", i))
        self._key_cache: dict[str, str | None] = {}

    def _index(self, phrase: str, rule_index: int, group_index: int) -> dict[str, str]:
        words = phrase_words(phrase)
        keys = tuple(stem(w) for w in words)
        places = self._by_first.setdefault(keys[0], {}).setdefault(keys, [])
        self._rest_of[keys] = frozenset(keys[1:])
        places.append((rule_index, group_index))
        return dict(zip(words, keys, strict=True))

    def read_as(self, word: str) -> str | None:
        """The stem of the rule word that `word` counts as (itself or its typo), or None."""
        key = self._key_cache.get(word, "")
        if key != "":
            return key
        key = stem(word)
        if key not in self._vocabulary:
            key = None if word in NEVER_A_TYPO else self._typo_of(word)
        if len(self._key_cache) >= _CACHE_LIMIT:
            self._key_cache.clear()
        self._key_cache[word] = key
        return key

    def _typo_of(self, word: str) -> str | None:
        """Stem of a warning word one edit from `word` (both 5+ letters) or one swap (4 letters)."""
        if len(word) < 4 or not word.isalpha():
            return None
        candidates: set[str] = set()
        for variant in _deletions(word):
            candidates |= self._neighbours.get(variant, set())
        for form in sorted(candidates):
            if form[0] != word[0]:
                continue  # typos rarely hit the first letter, and "never" is not "fever"
            if len(word) >= 5 and len(form) >= 5:
                close = edit_distance(word, form, transpositions=True) <= 1
            else:
                close = (len(word) == len(form) == 4 and sorted(word) == sorted(form)
                         and edit_distance(word, form, transpositions=True) == 1)
            if close:
                return self._forms[form]
        return None

    def check(self, message: str) -> UrgentMatch | None:
        """The first rule (self-harm rules first) that `message` satisfies; else a self-harm
        match when the learned check flags it; else None."""
        match = self.check_rules(message)
        if match is None and self.learned is not None and self.learned.flags(message):
            return UrgentMatch("self_harm", LEARNED_RULE)
        return match

    def check_rules(self, message: str) -> UrgentMatch | None:
        """The first rule (self-harm rules first) that `message` satisfies, or None."""
        text = Message(normalize_text(message).lower())
        keys = [self.read_as(w) for w in text.words]
        found = self._find(keys, text.clauses)
        if not any(rule >= 0 and group >= 0 for _, rule, group in found):
            return None
        ignored = {p for positions, rule, _ in found if rule == _IGNORED for p in positions}
        found = [f for f in found if f[1] == _IGNORED or ignored.isdisjoint(f[0])]
        negated = text.negated(consumed={p for positions, _, _ in found for p in positions})
        standing = text.standing(self.treatment)
        best: dict[int, dict[int, int]] = {}   # rule -> group -> best standing found
        vetoed = set()
        for positions, rule_index, group_index in found:
            start = positions[0]
            if rule_index == _IGNORED or negated[start]:
                continue
            if group_index == _EXCEPTION:
                vetoed.add(rule_index)
                continue
            level = standing[start] if self.rules[rule_index].category == "medical" else OWN
            if level != HYPOTHETICAL:
                groups = best.setdefault(rule_index, {})
                groups[group_index] = max(groups.get(group_index, level), level)
        for rule_index in self._order:
            rule, groups = self.rules[rule_index], best.get(rule_index)
            if (groups and len(groups) == len(rule.groups) and max(groups.values()) == OWN
                    and rule_index not in vetoed):
                return UrgentMatch(rule.category, rule.name)
        return None

    def _find(self, keys: list[str | None], clauses: list[int]) -> list[tuple[tuple[int, ...], int, int]]:
        """(word positions, rule index, group index) of every alternative present."""
        found = []
        present = set(keys)
        rest_of = self._rest_of
        for start, key in enumerate(keys):
            if key is None:
                continue
            for alternative, places in self._by_first.get(key, {}).items():
                if not rest_of[alternative] <= present:
                    continue  # a word of it is missing: _match_at would find nothing
                positions = _match_at(keys, clauses, start, alternative)
                if positions:
                    found += [(positions, rule, group) for rule, group in places]
        return found


def _deletions(word: str) -> set[str]:
    """`word` and every string one deleted letter away from it."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def _match_at(keys: list[str | None], clauses: list[int], start: int,
              alternative: tuple[str, ...]) -> tuple[int, ...] | None:
    """Positions of `alternative`'s words from `start`: in order, gaps <= MAX_GAP, one clause."""
    positions = [start]
    for key in alternative[1:]:
        last = positions[-1]
        for k in range(last + 1, min(last + 2 + MAX_GAP, len(keys))):
            if clauses[k] != clauses[start]:
                return None
            if keys[k] == key:
                positions.append(k)
                break
        else:
            return None
    return tuple(positions)
