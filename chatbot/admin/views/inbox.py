"""Questions to review: what visitors asked that the bot could not answer, grouped by meaning, and
the actions that teach the bot. The pages of `workspace.inbox` (chatbot/staff/inbox.py).

A group is opened by its key (a hash of its message ids); the actions post the ids staff saw,
so they apply to exactly those questions even if new ones arrived since. Questions handled
meanwhile (by a colleague, in another tab) are reported, never an error.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ...answer.kinds import ReplyKind
from ...staff.checks import VersionBot
from ...staff.inbox import LOW_CONFIDENCE, NO_ANSWER, NOT_HELPFUL
from ..auth import current_actor
from ..blueprint import bp
from ..forms import MAX_IDS_PER_ACTION, InboxAnswerForm, InboxGroupForm, InboxNewAnswerForm
from ..workspace import current_workspace, served_bot
from .faq import _same_question

MAX_GROUPS = 50
AUDIT_TEXT_CHARS = 200
MAX_SEARCH_CHARS = 200
SEARCH_RESULTS = 10
# What the bot replies now and why the questions are here, in the words staff read.
REPLY_WORDS = {ReplyKind.ANSWER: "an answer", ReplyKind.NO_ANSWER: "“I don't know”",
               ReplyKind.URGENT: "“seek care now”", ReplyKind.SMALLTALK: "small talk"}
REASON_WORDS = {NO_ANSWER: "the bot said it did not know", LOW_CONFIDENCE: "the bot answered but was not sure",
                NOT_HELPFUL: "a visitor said the reply did not help"}
STALE = ("Nothing changed: these questions were handled already, perhaps by a colleague, "
         "or are no longer in the log.")


@bp.get("/inbox")
def inbox():
    """The open groups, largest and most recent first, each with its actions."""
    groups = current_workspace().inbox.groups(_published_bot(), limit=MAX_GROUPS)
    return render_template("admin/inbox.html", groups=groups, **_page_helpers())


@bp.get("/inbox/<key>")
def inbox_group(key: str):
    """One group, with a search over the published passages and entries to pick its answer."""
    group = _group_by_key(key)
    if group is None:
        return _stale_group()
    search = request.args.get("q", "").strip()[:MAX_SEARCH_CHARS]
    results = current_workspace().inbox.search(search, _published_bot(), SEARCH_RESULTS) if search else None
    return render_template("admin/inbox_group.html", group=group, search=search, results=results, **_page_helpers())


@bp.route("/inbox/<key>/new-answer", methods=["GET", "POST"])
def inbox_new_answer(key: str):
    """The FAQ form prefilled with the group's wordings; saving it adds the entry and closes the group.
    A question another entry has is flagged first, as on the Knowledge form."""
    workspace = current_workspace()
    form, duplicates = InboxNewAnswerForm(), []
    if request.method == "GET":
        group = _group_by_key(key)
        if group is None:
            return _stale_group()
        draft = workspace.inbox.draft_answer(group.message_ids)
        form = InboxNewAnswerForm(data={"question": draft["question"], "alternates": "\n".join(draft["alternates"]),
                                        "message_ids": _action_ids(group)})
    elif form.validate_on_submit():
        if workspace.inbox.group(form.ids()) is None:
            flash(STALE, "error")
            return _back_to_inbox()
        if not (duplicates := _same_question(form)):
            entry = _add_entry(form)
            if entry is not None:
                workspace.inbox.answer_with_entry(form.ids(), entry.id, current_actor())
                flash(f"Added the FAQ entry “{entry.question}” for these questions. "
                      f"Retrain to make the bot use it.", "success")
                return _back_to_inbox()
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/faq_form.html", form=form, entry=None, duplicates=duplicates), status


def _add_entry(form: InboxNewAnswerForm):
    """The FAQ entry the form describes, added and audited; None, with the reason on the form, if refused."""
    workspace = current_workspace()
    try:
        entry = workspace.knowledge.add_faq(**form.entry_fields(), author=current_actor())
    except ValueError as error:
        form.form_errors.append(str(error))
        return None
    workspace.audit.record(current_actor(), "faq_add", {"id": entry.id, "question": entry.question[:AUDIT_TEXT_CHARS]})
    return entry


@bp.post("/inbox/answer")
def inbox_answer():
    """"This is answered by...": the group's wordings go to the chosen FAQ entry or passage."""
    form = InboxAnswerForm()
    ids = _open_ids(form)
    if ids is None:
        return _back_to_inbox()
    workspace, actor, bot = current_workspace(), current_actor(), _published_bot()
    kind, target = form.chosen()
    try:
        if kind == "faq":
            added = workspace.inbox.answer_with_entry(ids, int(target), actor)
            entry = workspace.knowledge.get_faq(int(target))
            name = entry.question if entry is not None else f"FAQ entry {target}"
        else:
            added = workspace.inbox.answer_with_passage(ids, target, actor, bot=bot)
            name = _passage_title(bot, target)
    except ValueError as error:
        flash(f"Nothing changed: {error}.", "error")
        return _back_to_inbox()
    if added:
        flash(f"Taught {_wordings(added)} to “{name}”. Retrain to make the bot use them.", "success")
    else:
        flash(f"“{name}” knew these wordings already; the questions are marked as answered by it.", "success")
    return _back_to_inbox()


@bp.post("/inbox/not-ours")
def inbox_not_ours():
    """"Not something we answer": the wordings become questions no passage answers, and check
    questions expecting "I don't know"."""
    ids = _open_ids(InboxGroupForm())
    if ids is not None:
        added = current_workspace().inbox.not_ours(ids, current_actor())
        flash(f"Marked as not something the clinic answers; {_wordings(added)} added as check questions. "
              f"Retrain so the bot says it does not know to these and to questions like them.", "success")
    return _back_to_inbox()


@bp.post("/inbox/dismiss")
def inbox_dismiss():
    """Take the questions out of the inbox without teaching anything."""
    ids = _open_ids(InboxGroupForm())
    if ids is not None:
        dismissed = current_workspace().inbox.dismiss(ids, current_actor())
        flash(f"Dismissed {dismissed} question{'s' if dismissed != 1 else ''}.", "success")
    return _back_to_inbox()


def _open_ids(form: InboxGroupForm) -> list[str] | None:
    """The posted message ids when the form is sound and some of its questions are still open;
    None otherwise, having flashed why (a damaged form, or questions handled meanwhile)."""
    if not form.validate_on_submit():
        problems = [error for errors in form.errors.values() for error in errors]
        flash(" ".join(problems) or "The form was damaged; reload the page and try again.", "error")
        return None
    if current_workspace().inbox.group(form.ids()) is None:
        flash(STALE, "error")
        return None
    return form.ids()


def _published_bot() -> VersionBot:
    """What visitors get now: the reply kinds and closest passages are the published version's."""
    return served_bot()[1]


def _group_by_key(key: str):
    """The open group with `key`, as the published version sees it (reply kind, closest answers); None
    when its questions were handled or new ones joined it since the link was made."""
    inbox = current_workspace().inbox
    found = next((g for g in inbox.groups(limit=MAX_GROUPS) if g.key == key), None)
    return None if found is None else inbox.group(found.message_ids, _published_bot())


def _stale_group():
    flash("That group has changed: its questions were handled, or new ones joined it. "
          "Here are the questions to review now.", "error")
    return _back_to_inbox()


def _back_to_inbox():
    return redirect(url_for("admin.inbox"), code=303)


def _passage_title(bot: VersionBot, passage_id: str) -> str:
    passage = next((p for p in bot.index.passages_ if p.id == passage_id), None)
    return passage.source.title if passage is not None else passage_id


def _wordings(count: int) -> str:
    return f"{count} new wording{'s' if count != 1 else ''}"


def _action_ids(group) -> str:
    """The value of an action's message_ids field: the group's ids, at most MAX_IDS_PER_ACTION."""
    return " ".join(group.message_ids[:MAX_IDS_PER_ACTION])


def _page_helpers() -> dict:
    return {"reply_words": REPLY_WORDS, "reason_words": REASON_WORDS, "action_ids": _action_ids}
