"""The workspace's forms (Flask-WTF): fields, labels and checks; the CSRF token comes with each."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, PasswordField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, EqualTo, InputRequired, Length, Optional, ValidationError

from ..answer.kinds import ReplyKind
from ..staff.clinic_settings import EDITABLE as EDITABLE_SETTINGS
from ..staff.faq_entries import revision
from ..staff.roles import ROLE_LABELS
from ..staff.workspace import MIN_OVERRIDE_CHARS

MIN_PASSWORD_CHARS = 12
EXPECTED_KINDS = ((ReplyKind.ANSWER, "An answer from the knowledge base"),
                  (ReplyKind.NO_ANSWER, "“I don't know” (out of scope)"),
                  (ReplyKind.URGENT, "Seek care now (urgent)"),
                  (ReplyKind.SMALLTALK, "Small talk"))


def stripped(value):
    """Field filter: text without surrounding blanks, so that blank input counts as missing."""
    return value.strip() if isinstance(value, str) else value


def lines(text: str | None) -> tuple[str, ...]:
    """The non-blank lines of a textarea, stripped."""
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


class LoginForm(FlaskForm):
    email = StringField("Email", [InputRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField("Password", [InputRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class FaqForm(FlaskForm):
    question = StringField("Question", [DataRequired(), Length(max=1000)], filters=[stripped])
    alternates = TextAreaField("Other ways visitors ask it (one per line)", [Optional(), Length(max=5000)],
                               render_kw={"rows": 3})
    answer = TextAreaField("Answer", [DataRequired(), Length(max=20_000)], filters=[stripped],
                           render_kw={"rows": 8})
    source_title = StringField("Source title (optional)", [Optional(), Length(max=300)], filters=[stripped])
    source_url = StringField("Source link (optional, http or https)",
                             [Optional(), Length(max=2000), URL(require_tld=False, message="Enter a full link "
                                                                "starting with http:// or https://")],
                             filters=[stripped], render_kw={"inputmode": "url"})
    # The entry's revision when the form was opened: a save tells whether someone saved in between.
    opened = HiddenField()
    same_question_ok = BooleanField("Save it anyway: the two entries are meant to differ")

    @classmethod
    def for_entry(cls, entry) -> FaqForm:
        """The form filled with a stored FaqRecord (a submitted form's values win)."""
        return cls(data={"question": entry.question, "alternates": "\n".join(entry.alternates),
                         "answer": entry.answer, "source_title": entry.source_title or "",
                         "source_url": entry.source_url or "", "opened": revision(entry)})

    def entry_fields(self) -> dict:
        """The keyword arguments KnowledgeStore.add_faq / update_faq take from this form."""
        return {"question": self.question.data.strip(), "answer": self.answer.data.strip(),
                "alternates": lines(self.alternates.data),
                "source_title": (self.source_title.data or "").strip() or None,
                "source_url": (self.source_url.data or "").strip() or None}


class UploadPageForm(FlaskForm):
    page = FileField("Page file: text (.txt), Markdown (.md) or HTML (.html)",
                     [FileRequired("Choose a file to upload.")])


class PageSourceForm(FlaskForm):
    """The source visitors see for an uploaded page; empty: the page's own header, if any."""
    publisher = StringField("Publisher", [Optional(), Length(max=300)], filters=[stripped])
    url = StringField("Link (http or https)", [Optional(), Length(max=2000), URL(
        require_tld=False, message="Enter a full link starting with http:// or https://")],
        filters=[stripped], render_kw={"inputmode": "url"})


class ConfirmPageForm(FlaskForm):
    upload = HiddenField(validators=[InputRequired()])


class ImportFaqForm(FlaskForm):
    csv_file = FileField("CSV file (columns question, answer, alternates, source_title, source_url)",
                         [FileRequired("Choose a file to upload.")])


class CheckQuestionForm(FlaskForm):
    question = StringField("Question a visitor might ask", [DataRequired(), Length(max=1000)], filters=[stripped])
    expect = SelectField("The bot should reply with", choices=[SelectChoice(v, label) for v, label in EXPECTED_KINDS])
    phrases = TextAreaField("Phrases the right passage contains (one per line; needed for answers)",
                            [Length(max=5000)], render_kw={"rows": 3})

    def validate_phrases(self, field) -> None:
        if self.expect.data == "answer" and not lines(field.data):
            raise ValidationError("Give at least one phrase the right passage contains.")


class TryItForm(FlaskForm):
    message = TextAreaField("Visitor question", [DataRequired(), Length(max=1000)], filters=[stripped],
                            render_kw={"rows": 3})


class RetrainForm(FlaskForm):
    note = StringField("Note (optional): why this build, e.g. “new parking FAQ”", [Optional(), Length(max=200)],
                       filters=[stripped])


class PublishForm(FlaskForm):
    override_reason = TextAreaField(f"Why go ahead despite the safety checks "
                                    f"(at least {MIN_OVERRIDE_CHARS} characters)",
                                    [Optional(), Length(max=2000)], render_kw={"rows": 3})


# -- the inbox of visitor questions ---------------------------------------------------------

MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FAQ_ID = re.compile(r"^[0-9]{1,18}$")  # a database integer, never one too large for it
# At most this many questions per action: their ids (48 characters each) fit the request body
# limit (CHATBOT_MAX_BODY_BYTES, 16 kB). A larger group keeps the rest and is acted on again.
MAX_IDS_PER_ACTION = 250


class InboxGroupForm(FlaskForm):
    """An action on a group of visitor questions: the ids of the questions staff saw, space-separated,
    so the action applies to exactly those even if more arrived since."""
    message_ids = HiddenField(validators=[InputRequired("No questions were chosen.")])

    def validate_message_ids(self, field) -> None:
        ids = field.data.split()
        if not ids or len(ids) > MAX_IDS_PER_ACTION or not all(MESSAGE_ID.match(i) for i in ids):
            raise ValidationError("The list of questions was damaged; reload the page and try again.")

    def ids(self) -> list[str]:
        return self.message_ids.data.split()


class InboxAnswerForm(InboxGroupForm):
    """"This is answered by...": the chosen staff FAQ entry ("faq:<id>") or passage ("passage:<id>")."""
    target = HiddenField(validators=[InputRequired("Choose an answer.")])

    def validate_target(self, field) -> None:
        kind, _, value = field.data.partition(":")
        if not (kind == "faq" and FAQ_ID.match(value) or kind == "passage" and MESSAGE_ID.match(value)):
            raise ValidationError("The chosen answer was damaged; reload the page and try again.")

    def chosen(self) -> tuple[str, str]:
        """("faq", "12") or ("passage", "57e98bdbb0628c2f")."""
        kind, _, value = self.target.data.partition(":")
        return kind, value


class InboxNewAnswerForm(FaqForm, InboxGroupForm):
    """"Write a new answer": the FAQ form, with the group's questions to close once it is saved."""


# -- clinic settings, accounts and passwords ------------------------------------------------------

class ClinicSettingsForm(FlaskForm):
    """One field per clinic setting staff may edit (staff/clinic_settings.py), named after it;
    the core checks the values."""

    @classmethod
    def filled(cls, values) -> ClinicSettingsForm:
        """The form showing `values` (setting name -> value; lists one item per line)."""
        return cls(data={name: "\n".join(value) if isinstance(value, (list, tuple)) else value
                         for name, value in values.items()})

    def values(self) -> dict:
        return {setting.name: self[setting.name].data or "" for setting in EDITABLE_SETTINGS}


for _setting in EDITABLE_SETTINGS:
    _kind = TextAreaField if _setting.is_list or _setting.max_chars > 120 else StringField
    setattr(ClinicSettingsForm, _setting.name,
            _kind(_setting.label, [Length(max=_setting.max_chars * (5 if _setting.is_list else 1) + 10)],
                  render_kw={"rows": 5 if _setting.is_list else 3} if _kind is TextAreaField else {}))


class NewPasswordForm(FlaskForm):
    password = PasswordField(f"New password (at least {MIN_PASSWORD_CHARS} characters)",
                             [InputRequired(), Length(min=MIN_PASSWORD_CHARS, max=1024)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("The new password again",
                            [InputRequired(), EqualTo("password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Your current password", [InputRequired(), Length(max=1024)],
                            render_kw={"autocomplete": "current-password"})


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()])
