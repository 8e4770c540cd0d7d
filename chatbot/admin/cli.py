"""`flask staff ...`: create, disable and list staff accounts (there is no default account).

    flask --app wsgi staff create EMAIL [--role editor|publisher|admin]   # asks for the password twice
    flask --app wsgi staff disable EMAIL    # also ends the account's sessions
    flask --app wsgi staff enable EMAIL
    flask --app wsgi staff role EMAIL editor|publisher|admin
    flask --app wsgi staff list
    flask --app wsgi staff export-faq FILE  # FAQ entries as corpus CSV
    flask --app wsgi staff import-faq FILE  # add the entries of such a CSV
    flask --app wsgi staff versions         # the index versions, newest first
    flask --app wsgi staff retrain          # build a candidate (here, not in the background)
    flask --app wsgi staff publish VERSION [--override REASON]
    flask --app wsgi staff rollback VERSION [--override REASON]

Publishing and rolling back follow the same rules as the staff pages: when
the safety gate objects, only with a reason of at least 10 characters.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..staff.faq_csv import ImportTooLarge
from ..staff.roles import COMMAND_LINE, Role
from ..staff.workspace import MIN_OVERRIDE_CHARS, PUBLISH, ROLLBACK, GateBlocked, NotAllowed
from ..storage import StorageError
from .forms import MIN_PASSWORD_CHARS
from .workspace import current_workspace

COMMAND_LINE_ACTOR = COMMAND_LINE.name

staff_cli = AppGroup("staff", help="Manage the staff accounts of the workspace.")


def _long_enough(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise click.UsageError(f"The password must have at least {MIN_PASSWORD_CHARS} characters.")
    return password


@staff_cli.command("create", help="Create a staff account; asks for its password twice. Without --role, "
                                   "the first account is an administrator and later ones editors.")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]),
              help="editor: knowledge and builds; publisher: also publish and roll back; admin: also accounts "
                   "and clinic settings")
def create_account(email: str, role: str | None) -> None:
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True, value_proc=_long_enough)
    workspace = current_workspace()
    try:
        user = workspace.accounts.create(email.strip(), password, role)
    except (ValueError, StorageError) as error:
        raise click.ClickException(str(error)) from error
    workspace.audit.record(COMMAND_LINE_ACTOR, "account_create", {"email": user.email, "role": user.role})
    click.echo(f"Created the staff account {user.email} ({user.role}).")


@staff_cli.command("disable", help="Disable a staff account and end all of its sessions.")
@click.argument("email")
def disable_account(email: str) -> None:
    _account_change(current_workspace().accounts.disable, email, "account_disable", {},
                    f"Disabled the staff account {email.strip()}; its sessions have ended.")


@staff_cli.command("enable", help="Let a disabled staff account sign in again.")
@click.argument("email")
def enable_account(email: str) -> None:
    _account_change(current_workspace().accounts.enable, email, "account_enable", {},
                    f"{email.strip()} can sign in again.")


@staff_cli.command("role", help="Give a staff account a role: editor, publisher or admin.")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def set_role(email: str, role: str) -> None:
    _account_change(lambda e: current_workspace().accounts.set_role(e, role), email, "account_role",
                    {"role": role}, f"{email.strip()} is now {role}.")


def _account_change(change, email: str, action: str, detail: dict, done: str) -> None:
    """Apply `change(email)`, audit it as the command line and say `done`; an error for an unknown account."""
    email = email.strip()
    try:
        known = change(email)
    except (ValueError, StorageError) as error:
        raise click.ClickException(str(error)) from error
    if not known:
        raise click.ClickException(f"There is no staff account {email}.")
    current_workspace().audit.record(COMMAND_LINE_ACTOR, action, {"email": email, **detail})
    click.echo(done)


@staff_cli.command("list", help="List the staff accounts, active or not, with their last login.")
def list_accounts() -> None:
    for user in current_workspace().accounts.list():
        last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{'active' if user.active else 'disabled'}\tlast login: {last}\t{user.role}")


@staff_cli.command("export-faq", help="Write the staff FAQ entries to FILE in the corpus CSV format.")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, writable=True))
def export_faq(path: str) -> None:
    text = current_workspace().export_faq_csv()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    click.echo(f"Wrote the FAQ entries to {path}.")


@staff_cli.command("import-faq", help="Add the FAQ entries of a corpus-format CSV FILE; bad rows are reported.")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
def import_faq(path: str) -> None:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text; save it as UTF-8") from None
    try:
        added, errors = current_workspace().import_faq_csv(text, COMMAND_LINE_ACTOR)
    except ImportTooLarge as refusal:
        raise click.ClickException(str(refusal)) from None
    for error in errors:
        click.echo(f"warning: {error}", err=True)
    click.echo(f"Added {added} FAQ entr{'y' if added == 1 else 'ies'}.")


@staff_cli.command("versions", help="List the index versions, newest first, with what can be done with each.")
def list_versions() -> None:
    workspace = current_workspace()
    published = workspace.published_version()
    for record in workspace.versions.list():
        step = "published" if record.version == published else workspace.next_step(record.version, published)
        click.echo(f"{record.version}\t{record.status}\t{step or '-'}\tby {record.created_by}")


@staff_cli.command("retrain", help="Build a candidate from corpus/ and the staff content, and check it.")
def retrain() -> None:
    workspace = current_workspace()
    try:
        version = workspace.build(COMMAND_LINE_ACTOR)
    except Exception as error:  # the build is marked failed; say why without a traceback
        raise click.ClickException(f"The build failed: {error}") from None
    click.echo(f"Built candidate {version}.")
    for reason in workspace.gate(version):
        click.echo(f"Safety gate: {reason}")


def _make_live_command(step: str, help_text: str, done: str) -> None:
    """`flask staff publish|rollback VERSION [--override REASON]`: the workspace's rules, as on the pages."""
    @staff_cli.command(step, help=help_text)
    @click.argument("version")
    @click.option("--override", "reason", metavar="REASON",
                  help=f"go ahead although the safety gate objects (at least {MIN_OVERRIDE_CHARS} characters; audited)")
    def command(version: str, reason: str | None) -> None:
        workspace = current_workspace()
        operation = workspace.publish if step == PUBLISH else workspace.rollback
        try:
            operation(version, COMMAND_LINE, reason)
        except GateBlocked as blocked:
            raise click.ClickException("The safety checks object: " + " ".join(blocked.reasons)
                                       + " To go ahead anyway, give --override with a reason of at least "
                                       f"{MIN_OVERRIDE_CHARS} characters.") from None
        except (NotAllowed, StorageError) as error:
            raise click.ClickException(str(error)) from None
        click.echo(done.format(version=version))


_make_live_command(PUBLISH, "Make a newer candidate live on every server.", "Published {version}.")
_make_live_command(ROLLBACK, "Serve an earlier version again.", "Rolled back to {version}.")
