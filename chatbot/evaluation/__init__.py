"""Evaluation stage: every suite, our ranker beside baselines, in one table (`make eval`).

Sits above the answer stage: it builds indexes the way the product does and
asks the responder, so what it measures is what visitors get.
"""
