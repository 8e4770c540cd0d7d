"""Message analysis for the urgent screen: words, clauses and sentences, negation, and
whether a word describes the visitor's own situation or only asks about treatment.

The same analysis reads the rules file's phrases (`phrase_words`), so a rule and a
message are cut into words alike ("cannot" and "can not" both become "can't").
"""
from __future__ import annotations

import re

from ...text import normalize_text

NEGATION_REACH = 5   # "no", "not", ... cancel this many following words
MY_REACH = 3         # in a question, "my" marks this many following words as the visitor's own

NEGATION_WORDS = frozenset({
    "no", "not", "never", "without", "nor", "neither", "deny", "denies", "denied",
    "don't", "doesn't", "didn't", "haven't", "hasn't", "hadn't", "isn't", "aren't", "wasn't",
    "weren't"})
# Spellings folded together before matching, in rules and in messages alike.
CONTRACTIONS = {
    "cant": "can't", "cannot": "can't", "couldn't": "can't", "couldnt": "can't",
    "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "havent": "haven't",
    "hasnt": "hasn't", "hadnt": "hadn't", "isnt": "isn't", "arent": "aren't",
    "wasnt": "wasn't", "werent": "weren't", "wont": "won't", "wouldnt": "wouldn't",
    "shouldnt": "shouldn't", "im": "i'm", "ive": "i've"}
CLAUSE_WORDS = frozenset({"but", "however", "although", "though"})
SENTENCE_MARKS = frozenset(".!?;")
# A sentence with "?", or with a clause opening with one of these, asks something.
QUESTION_OPENERS = frozenset({
    "can", "could", "does", "do", "did", "will", "would", "is", "are", "should", "may",
    "might", "what", "what's", "whats", "how", "why"})
# In a question about treatment, what follows these is a possible effect, not a symptom.
CAUSAL_WORDS = frozenset({
    "cause", "causes", "caused", "causing", "give", "gives", "trigger", "triggers", "lead",
    "leads", "result", "results", "make", "makes", "side", "risk", "risks"})
# "can I", "should I": the visitor asks for advice rather than describing themselves;
# "if I get", "if I ever": a possibility, not their situation.
AUXILIARIES = frozenset({"can", "could", "should", "shall", "will", "would", "do", "did",
                         "may", "might", "must", "am"})
NOT_DESCRIBING = frozenset({"get", "ever"})
FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'd"})
# A negation right before one of these ends an elided clause ("if it doesn't, I'm going
# to ..."): it negates nothing that follows.
SUBJECTS = frozenset({"i", "i'm", "i've", "i'll", "i'd", "we", "we're", "he", "he's", "she", "she's",
                      "they", "they're", "you", "you're"})

# Numbers stand apart from the letters they touch: "lost 8kg" has the words "8" and "kg".
# A decimal is read as its whole part ("38.8 temp" is "38 temp"), not as a full stop.
_TOKENS = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+(?:\.[0-9]+)?|[.!?;:,]")
HYPOTHETICAL, GENERAL, OWN = 0, 1, 2   # what a word says about the visitor (Message.standing)


def phrase_words(phrase: str) -> list[str]:
    """Lower-cased words of a phrase with contractions folded ("cannot" -> "can't")."""
    return Message(normalize_text(phrase).lower()).words


class Message:
    """Words of a message with their clause and sentence, and which sentences ask something."""

    def __init__(self, text: str):
        self.words: list[str] = []
        self.clauses: list[int] = []
        self.sentences: list[int] = []
        self.questions: set[int] = set()
        # The clause where each asking sentence starts to ask: "fell off a ladder, it hurts
        # to move, can acupuncture fix it" describes first and asks in its last clause.
        self.asks_from: dict[int, int] = {}
        clause = sentence = 0
        sentence_first_clause = 0
        clause_start = True
        for token in _TOKENS.findall(text):
            if token in SENTENCE_MARKS:
                if token == "?":
                    self.questions.add(sentence)
                    self.asks_from.setdefault(sentence, sentence_first_clause)
                if self.sentences and self.sentences[-1] == sentence:
                    sentence += 1
                clause, clause_start = clause + 1, True
                sentence_first_clause = clause
            elif token in ",:" or token in CLAUSE_WORDS:
                clause, clause_start = clause + 1, True
            else:
                token = CONTRACTIONS.get(token, token.partition(".")[0])
                if token == "not" and not clause_start and self.words[-1] == "can":
                    self.words[-1] = "can't"
                    continue
                if clause_start and token in QUESTION_OPENERS:
                    self.questions.add(sentence)
                    self.asks_from.setdefault(sentence, clause)
                clause_start = False
                self.words.append(token)
                self.clauses.append(clause)
                self.sentences.append(sentence)

    def negated(self, consumed: set[int]) -> list[bool]:
        """Per word: is it within reach of a negation that no found phrase contains?"""
        flags = []
        negation_at, negation_clause = 0, -1
        for i, word in enumerate(self.words):
            flags.append(self.clauses[i] == negation_clause and i - negation_at <= NEGATION_REACH)
            if word in NEGATION_WORDS and i not in consumed and not self._ends_clause(i):
                negation_at, negation_clause = i, self.clauses[i]
        return flags

    def _ends_clause(self, i: int) -> bool:
        """Is word i (a negation) followed in its clause by a subject that starts another?"""
        return (i + 1 < len(self.words) and self.clauses[i + 1] == self.clauses[i]
                and self.words[i + 1] in SUBJECTS)

    def standing(self, treatment: tuple[str, ...]) -> list[int]:
        """Per word: OWN (the visitor's situation), or GENERAL / HYPOTHETICAL in a question
        about treatment (one with a word that starts with a `treatment` word start), from
        the clause where the question starts: what comes before it describes."""
        words = self.words
        treatment_questions = {self.sentences[i] for i, word in enumerate(words)
                               if self.sentences[i] in self.questions
                               and word.startswith(treatment)}
        levels = []
        own_until, own_clause, causal_sentence = -1, -1, -1
        for i, word in enumerate(words):
            sentence, clause = self.sentences[i], self.clauses[i]
            if sentence not in treatment_questions or clause < self.asks_from[sentence]:
                levels.append(OWN)
                continue
            if word == "my":
                own_until = max(own_until, i + MY_REACH) if own_clause == clause else i + MY_REACH
                own_clause = clause
            elif (word in FIRST_PERSON and (i == 0 or words[i - 1] not in AUXILIARIES)
                  and (i + 1 == len(words) or words[i + 1] not in NOT_DESCRIBING)):
                own_until, own_clause = len(words), clause
            if own_clause == clause and i <= own_until:
                levels.append(OWN)
            elif causal_sentence == sentence:
                levels.append(HYPOTHETICAL)
            else:
                levels.append(GENERAL)
            if word in CAUSAL_WORDS:
                causal_sentence = sentence
        return levels
