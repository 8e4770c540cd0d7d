"""Baseline rankers computed in the same run as ours, over the same items.

Each item is (question field, answer field). For an FAQ entry these are its
question (with alternates) and its answer; for a document passage, its
section heading and its text. Tokens are lower-cased `\\w+` runs, as in the
published reference figures (../shared/data/README.md).
"""
from __future__ import annotations

import re

import numpy as np
from rank_bm25 import BM25Okapi
from sklearn.feature_extraction.text import TfidfVectorizer

_TOKEN = re.compile(r"\w+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower()) or ["_"]


def _ranked(scores: np.ndarray, k: int) -> list[int]:
    """Top-k positions by score, ties to the lower position."""
    return np.lexsort((np.arange(len(scores)), -scores))[:k].tolist()


def bm25_ranker(fields: list[str]):
    """rank(query, k) with rank_bm25's Okapi BM25 over `fields`."""
    bm25 = BM25Okapi([_tokens(f) for f in fields])
    return lambda query, k: _ranked(bm25.get_scores(_tokens(query)), k)


def tfidf_ranker(fields: list[str]):
    """rank(query, k) with scikit-learn's TfidfVectorizer (sublinear tf), cosine."""
    vectorizer = TfidfVectorizer(sublinear_tf=True)
    matrix = vectorizer.fit_transform(fields)
    return lambda query, k: _ranked((matrix @ vectorizer.transform([query]).T).toarray().ravel(), k)


def baseline_rankers(items: list[tuple[str, str]]) -> dict:
    """{name: rank(query, k)} for the three baselines over (question, answer) items."""
    questions = [q for q, _ in items]
    both = [f"{q}\n{a}" for q, a in items]
    return {"BM25 question": bm25_ranker(questions), "BM25 question+answer": bm25_ranker(both),
            "TF-IDF question": tfidf_ranker(questions)}
