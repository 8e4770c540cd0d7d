"""`flask staff ...`: create, disable and list staff accounts (there is no default account).

    flask --app wsgi staff create EMAIL     # asks for the password twice, hidden
    flask --app wsgi staff disable EMAIL    # also ends the account's sessions
    flask --app wsgi staff list
"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..staff.workflow import current_workflow
from ..storage import StorageError
from .forms import MIN_PASSWORD_CHARS

COMMAND_LINE_ACTOR = "command line"

staff_cli = AppGroup("staff", help="Manage the staff accounts of the workspace.")


def _long_enough(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise click.UsageError(f"The password must have at least {MIN_PASSWORD_CHARS} characters.")
    return password


@staff_cli.command("create", help="Create a staff account; asks for its password twice.")
@click.argument("email")
def create_account(email: str) -> None:
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True, value_proc=_long_enough)
    workflow = current_workflow()
    try:
        user = workflow.accounts.create(email.strip(), password)
    except (ValueError, StorageError) as error:
        raise click.ClickException(str(error)) from error
    workflow.audit.record(COMMAND_LINE_ACTOR, "account_create", {"email": user.email})
    click.echo(f"Created the staff account {user.email}.")


@staff_cli.command("disable", help="Disable a staff account and end all of its sessions.")
@click.argument("email")
def disable_account(email: str) -> None:
    workflow = current_workflow()
    try:
        known = workflow.accounts.disable(email.strip())
    except StorageError as error:
        raise click.ClickException(str(error)) from error
    if not known:
        raise click.ClickException(f"There is no staff account {email.strip()}.")
    workflow.audit.record(COMMAND_LINE_ACTOR, "account_disable", {"email": email.strip()})
    click.echo(f"Disabled the staff account {email.strip()}; its sessions have ended.")


@staff_cli.command("list", help="List the staff accounts, active or not, with their last login.")
def list_accounts() -> None:
    for user in current_workflow().accounts.list():
        last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{'active' if user.active else 'disabled'}\tlast login: {last}")
