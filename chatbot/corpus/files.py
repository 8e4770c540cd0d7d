"""The names of the files in a corpus folder that configure the bot rather than hold knowledge.

Declared once: the loader skips them as knowledge, the build reads the
synonyms and the questions each passage answers and copies the rule files into each index version, the settings
find the check questions here.
"""
from __future__ import annotations

SYNONYMS_FILE = "synonyms.txt"
QUESTIONS_FILE = "questions.txt"
URGENT_FILE = "urgent.txt"
SMALLTALK_FILE = "smalltalk.txt"
CHECK_QUESTIONS_FILE = "check_questions.jsonl"
README_FILE = "readme.md"

# Saved inside every index version: the rules in force are the published
# version's, so an edit reaches visitors only through a candidate and the gate.
RULE_FILES = (URGENT_FILE, SMALLTALK_FILE)
CONFIG_FILES = frozenset({README_FILE, SYNONYMS_FILE, QUESTIONS_FILE, URGENT_FILE, SMALLTALK_FILE,
                          CHECK_QUESTIONS_FILE})
