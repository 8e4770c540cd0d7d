"""How sure the bot may be that its best passage answers the question.

A logistic regression over a few signals of the query and its ranking,
each explainable to a person:

    top_score          the best passage's score
    margin             how far ahead of the second passage it is
    top_coverage       share of the question's concepts (by weight) the passage meets
    rarest_met         1 when it meets the question's most specific concept
    unknown_share      weight of question words no document uses
    question_match     similarity to the closest wording of the passage's question: an FAQ entry's
                       question or alternates, or the questions staff wrote or taught a document
                       passage (0 for a passage with none)
    common_share       share of the question's words that are everyday English (wordfreq),
                       a query-clarity signal: "what time do you open" is all common words
    asked_concepts     how many distinct things the question mentions (its concepts): a long
                       question meets fewer of them in one passage, and is no worse for it
    answer_type_met    0 when the question asks for a kind of answer (a number, a price, a
                       clock time, a definition) that the best passage cannot give; else 1
    unanswered_match   similarity to the closest question staff listed as answered by no
                       passage (questions.txt, "[no passage]"); unknown (NaN) for an index
                       without such a list
    unanswered_like    learned probability that the question is of the kind staff listed as
                       answered by no passage rather than of those listed under a passage
                       (unanswered_like.py); unknown (NaN) without both lists

The coefficients are fitted with cross-validation on labelled questions
(`python -m chatbot.evaluation.calibrate`), shipped as plain JSON and saved
into each index version, so a version answers with the calibration it was
checked with. `probability()` is P(the top passage answers the question).

A signal an index cannot give (NaN: it has no list of unanswered questions)
counts at its mean over the examples the model was fitted on, so it moves the
probability neither way; the fit fills it the same way (calibrate.py).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

FEATURES = ("top_score", "margin", "top_coverage", "rarest_met", "unknown_share", "question_match",
            "common_share", "asked_concepts", "answer_type_met", "unanswered_match", "unanswered_like")
SHIPPED_MODEL = Path(__file__).with_name("confidence_model.json")


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression over `features` (some of FEATURES), with feature scaling, as plain numbers.

    A model names the features it was fitted on, so an index version saved
    with an older model (fewer features) keeps answering as it was checked.
    """
    coefficients: tuple[float, ...]
    intercept: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    provenance: str = ""
    features: tuple[str, ...] = FEATURES

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(c * (value - m) / s for c, name, m, s in
                                 zip(self.coefficients, self.features, self.means, self.scales, strict=True)
                                 if not math.isnan(value := features[name]))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def mean_of(self, feature: str) -> float | None:
        """The mean of `feature` over the examples the model was fitted on; None if it is not one of its features."""
        return self.means[self.features.index(feature)] if feature in self.features else None

    def to_dict(self) -> dict:
        return {"features": list(self.features), "coefficients": list(self.coefficients),
                "intercept": self.intercept, "means": list(self.means), "scales": list(self.scales),
                "provenance": self.provenance}

    @classmethod
    def from_dict(cls, data: dict) -> "ConfidenceModel":
        """The model in `data`; ValueError when it names a feature this program does not compute,
        or is malformed."""
        names = tuple(data.get("features") or ())
        unknown = [name for name in names if name not in FEATURES]
        if not names or unknown or len(set(names)) != len(names):
            raise ValueError(f"confidence model is for features {list(names)}; this program computes {list(FEATURES)}")
        n = len(names)
        values = [tuple(float(x) for x in data[key]) for key in ("coefficients", "means", "scales")]
        if any(len(v) != n for v in values) or any(s <= 0 for s in values[2]):
            raise ValueError("confidence model: wrong number of coefficients or non-positive scales")
        return cls(values[0], float(data["intercept"]), values[1], values[2], str(data.get("provenance", "")),
                   names)


def load_model(path: str | Path = SHIPPED_MODEL) -> ConfidenceModel:
    """The confidence model saved at `path` (the shipped one by default)."""
    return ConfidenceModel.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
