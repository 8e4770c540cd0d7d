"""Show that the bot learns from its visitors through the inbox (issue 11).

    python -m chatbot.evaluation.learning --data ../shared/data      (make learn)

CovidFAQ's dev set is a bank of entries and real visitors' queries, each
labelled with the entry that answers it. A clinic starts with half the bank
(entries drawn with a fixed seed) as staff FAQ entries; the queries are split
(seeded) into traffic and a held-back part. The traffic is replayed through
the real chat path (the app's POST /api/chat, so exchanges, redaction and
answer probabilities are logged as for any visitor). The inbox groups what
the bot could not answer well; a staff member takes the 10 largest groups
and, for each, looks at the entry most of its questions are about (the gold
label): when the clinic has that entry, picks it ("This is answered by...");
when not, writes it from the gold answer with the group's wordings as
alternates ("Write a new answer"), which closes the group too. Then one
retrain and one publish, through the Workspace, safety gate included.

Printed: the held-back queries' answered rate, hit@1 (the entry shown first
is the gold one) and right answers (answered, and with the gold entry) before
and after; the grouping's adjusted Rand index and purity against the gold
labels over every inbox question; how many staff actions it took.

The clinic's urgent and smalltalk rules are left empty on purpose: they are
about back pain, and COVID-19 queries ("I have a fever and a cough") would be
screened by rules written for another clinic; this measures what staff teach,
not another clinic's rules.
"""
from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from ..answer.kinds import ReplyKind
from ..settings import resolve_settings
from ..staff.checks import VersionBot
from ..staff.roles import Actor, Role
from ..staff.workspace import Workspace
from ..storage import Storage
from ..text import squash_spaces
from .faq_banks import FaqBank, read_covidfaq
from .grouping import purity

SEED = 11
HELD_BACK = 0.3        # share of the queries kept to re-ask after the retrain
GROUPS_HANDLED = 10
STAFF = "learning-replay@example.org"
PUBLISHER = Actor(STAFF, Role.PUBLISHER)
OVERRIDE = "Replay of CovidFAQ traffic: the gate's objections are reported with the figures."
NO_RULES = "# No rules: the replayed traffic is about COVID-19, not this clinic's subject (see learning.py).\n"


@dataclass(frozen=True)
class Figures:
    """How a version does on the held-back queries."""
    answered: float
    hit_at_1: float
    right_answers: float


def split(bank: FaqBank, seed: int = SEED) -> tuple[set[int], list[tuple[str, int]], list[tuple[str, int]]]:
    """(entries the clinic starts with, traffic queries, held-back queries), seeded."""
    rng = random.Random(seed)
    entries = list(range(len(bank.entries)))
    rng.shuffle(entries)
    known = set(entries[: len(entries) // 2])
    queries = list(bank.queries)
    rng.shuffle(queries)
    cut = int(len(queries) * HELD_BACK)
    return known, queries[cut:], queries[:cut]


def make_instance(folder: Path) -> tuple[Path, dict]:
    """(instance folder, its settings): an empty corpus (rule files without rules), its own index
    and database; config.toml holds the settings, for the Workspace and the app alike."""
    corpus = folder / "corpus"
    corpus.mkdir()
    for name in ("urgent.txt", "smalltalk.txt"):
        (corpus / name).write_text(NO_RULES, encoding="utf-8")
    instance = folder / "instance"
    instance.mkdir()
    config = {"CHATBOT_CORPUS_DIR": str(corpus), "CHATBOT_INDEX_DIR": str(instance / "index"),
              "CHATBOT_DATABASE_URL": f"sqlite:///{instance / 'chatbot.db'}",
              "CHATBOT_SPOOL_DIR": str(instance / "spool"), "CHATBOT_RATE_LIMIT": "off",
              "CHATBOT_SECRET_KEY": "learning-replay-not-a-secret"}
    (instance / "config.toml").write_text("".join(f'{k} = "{v}"\n' for k, v in config.items()), encoding="utf-8")
    return instance, config


def entry_of_question(bank: FaqBank) -> dict[str, set[int]]:
    """Bank entries by their question as the FAQ store cleans it (a question may repeat)."""
    by_question: dict[str, set[int]] = {}
    for position, (question, _) in enumerate(bank.entries):
        by_question.setdefault(squash_spaces(question), set()).add(position)
    return by_question


def figures(bot: VersionBot, queries: Sequence[tuple[str, int]], by_question: dict[str, set[int]]) -> Figures:
    answered = hits = right = 0
    for text, gold in queries:
        answer = bot.responder.respond(text, bot.index)
        first = answer.passages[0] if answer.passages else None
        hit = first is not None and gold in by_question.get(first.question or "", ())
        answered += answer.kind == ReplyKind.ANSWER
        hits += hit
        right += hit and answer.kind == ReplyKind.ANSWER
    n = max(len(queries), 1)
    return Figures(answered / n, hits / n, right / n)


def publish(workspace: Workspace, version: str) -> list[str]:
    """Publish `version` through the gate; the gate's objections (overridden, and reported)."""
    objections = workspace.gate(version)
    workspace.publish(version, PUBLISHER, OVERRIDE if objections else None)
    return objections


def replay(data_dir: Path, seed: int = SEED, out=sys.stdout) -> dict:
    """Run the whole story in a temporary instance; the figures (also printed to `out`)."""
    from .. import create_app  # the HTTP door: only the replay needs Flask
    bank = read_covidfaq(data_dir / "covidfaq-dev.json")
    known, traffic, held_back = split(bank, seed)
    by_question = entry_of_question(bank)
    with tempfile.TemporaryDirectory(prefix="learning-") as folder:
        instance, config = make_instance(Path(folder))
        settings = resolve_settings(instance, environ={})
        storage = Storage(settings["CHATBOT_DATABASE_URL"])
        storage.migrate()
        workspace = Workspace(settings, storage)
        faq_ids: dict[int, int] = {}
        for position in sorted(known):
            question, answer = bank.entries[position]
            faq_ids[position] = workspace.knowledge.add_faq(question, answer, author=STAFF).id
        first = workspace.build(STAFF)
        publish(workspace, first)
        before_bot = workspace.bot(first)
        before = figures(before_bot, held_back, by_question)

        app = create_app(config)
        logging.getLogger("chatbot").setLevel(logging.WARNING)  # one line per replayed chat otherwise
        gold_of: dict[str, int] = {}
        asked_at: dict[str, int] = {}  # replay order: message ids are random, ties are broken by this
        with app.test_client() as client:
            for text, gold in traffic:
                response = client.post("/api/chat", json={"message": text})
                if response.status_code == 200:
                    gold_of[response.get_json()["message_id"]] = gold
                    asked_at[response.get_json()["message_id"]] = len(asked_at)
            app.extensions["chatbot_chat_log"].flush()

        groups = workspace.inbox.groups(before_bot, limit=10_000)
        inbox_ids = [m for g in groups for m in g.message_ids if m in gold_of]
        group_number = {m: number for number, g in enumerate(groups) for m in g.message_ids}
        gold = [gold_of[m] for m in inbox_ids]
        predicted = [group_number[m] for m in inbox_ids]
        picked = written = 0
        largest = sorted(groups, key=lambda g: (-g.size, min(asked_at.get(m, 0) for m in g.message_ids)))
        for group in largest[:GROUPS_HANDLED]:
            entry = Counter(gold_of[m] for m in group.message_ids if m in gold_of).most_common(1)[0][0]
            if entry not in faq_ids:
                draft = workspace.inbox.draft_answer(group.message_ids)
                question, answer = bank.entries[entry]
                faq_ids[entry] = workspace.knowledge.add_faq(
                    question, answer, [draft["question"], *draft["alternates"]], author=STAFF).id
                written += 1
            else:
                picked += 1
            workspace.inbox.answer_with_entry(group.message_ids, faq_ids[entry], STAFF)
        second = workspace.build(STAFF)
        objections = publish(workspace, second)
        after = figures(workspace.bot(second), held_back, by_question)
        app.extensions["chatbot_chat_log"].close()
        app.extensions["chatbot"].live_index.stop()
        storage.dispose()
    report = {"entries": len(bank.entries), "known": len(known), "traffic": len(traffic),
              "held_back": len(held_back), "inbox_questions": len(inbox_ids), "groups": len(groups),
              "ari": adjusted_rand_score(gold, predicted) if gold else 0.0,
              "purity": purity(gold, predicted) if gold else 0.0,
              "picked": picked, "written": written, "gate_objections": objections,
              "before": before, "after": after}
    print_report(report, out)
    return report


def print_report(report: dict, out) -> None:
    before, after = report["before"], report["after"]
    print(f"CovidFAQ-dev: {report['entries']} entries, the clinic starts with {report['known']}; "
          f"{report['traffic']} queries replayed as visitors, {report['held_back']} held back", file=out)
    print(f"inbox: {report['inbox_questions']} questions in {report['groups']} groups; "
          f"grouping against the gold entries: ARI {report['ari']:.3f}, purity {report['purity']:.3f}", file=out)
    print(f"staff: {report['picked'] + report['written']} group actions ({report['picked']} picked an entry, "
          f"{report['written']} wrote a missing one), 1 retrain, 1 publish"
          + (f"; the gate objected: {'; '.join(report['gate_objections'])}" if report["gate_objections"] else ""),
          file=out)
    print("held-back queries      before   after", file=out)
    for label, name in (("answered", "answered"), ("hit@1", "hit_at_1"), ("right answers", "right_answers")):
        print(f"{label:<20}  {getattr(before, name):>7.3f}  {getattr(after, name):>6.3f}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.evaluation.learning", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding covidfaq-dev.json")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if not (args.data / "covidfaq-dev.json").is_file():
        print(f"{args.data / 'covidfaq-dev.json'} not found", file=sys.stderr)
        return 2
    replay(args.data, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
