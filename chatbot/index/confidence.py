"""How sure the bot may be that its best passage answers the question.

A logistic regression over a few signals of the query and its ranking,
each explainable to a person:

    top_score          the best passage's score
    margin             how far ahead of the second passage it is
    top_coverage       share of the question's concepts (by weight) the passage meets
    rarest_met         1 when it meets the question's most specific concept
    unknown_share      weight of question words no document uses
    question_match     similarity to the entry's question (FAQ entries; 0 otherwise)
    common_share       share of the question's words that are everyday English (wordfreq),
                       a query-clarity signal: "what time do you open" is all common words

The coefficients are fitted with cross-validation on labelled questions
(`python -m chatbot.evaluation.calibrate`), shipped as plain JSON and saved
into each index version, so a version answers with the calibration it was
checked with. `probability()` is P(the top passage answers the question).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

FEATURES = ("top_score", "margin", "top_coverage", "rarest_met", "unknown_share", "question_match",
            "common_share")
SHIPPED_MODEL = Path(__file__).with_name("confidence_model.json")


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression over FEATURES, with feature scaling, as plain numbers."""
    coefficients: tuple[float, ...]
    intercept: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    provenance: str = ""

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(c * (features[name] - m) / s for c, name, m, s in
                                 zip(self.coefficients, FEATURES, self.means, self.scales, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "coefficients": list(self.coefficients), "intercept": self.intercept,
                "means": list(self.means), "scales": list(self.scales), "provenance": self.provenance}

    @classmethod
    def from_dict(cls, data: dict) -> "ConfidenceModel":
        """The model in `data`; ValueError when it is for other features or malformed."""
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError(f"confidence model is for features {data.get('features')}, not {list(FEATURES)}")
        n = len(FEATURES)
        values = [tuple(float(x) for x in data[key]) for key in ("coefficients", "means", "scales")]
        if any(len(v) != n for v in values) or any(s <= 0 for s in values[2]):
            raise ValueError("confidence model: wrong number of coefficients or non-positive scales")
        return cls(values[0], float(data["intercept"]), values[1], values[2], str(data.get("provenance", "")))


def load_model(path: str | Path = SHIPPED_MODEL) -> ConfidenceModel:
    """The confidence model saved at `path` (the shipped one by default)."""
    return ConfidenceModel.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
