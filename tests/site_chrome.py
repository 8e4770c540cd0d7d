"""What site chrome of the shipped corpus's pages looks like, for the tests that no passage holds any.

Shared by the cleaning tests (the passages of corpus/) and the quality tests
(what search returns for the dev questions), so both look for the same things.
"""
from __future__ import annotations

import re

SEED_CHROME = re.compile(
    r"skip to main content|fraud blocker|comments are closed|\b\d+ answers\b|acupuncturistacupuncturist"
    r"|\(\d{3}\) \d{3}-\d{4}|copyright|privacy policy|logo-|_hires|schedule an appointment"
    r"|receive free mri|related articles|recent posts|tags:|solomon kamson|woman undergoing"
    r"|contact us today|ready to get started|\bhome\b", re.I)
