"""`flask purge`: delete chat logs older than the retention period.

The app registers it in create_app(), after its settings are loaded:

    from chatbot.storage.cli import register_cli
    register_cli(app, get_storage, default_days=app.config["RETENTION_DAYS"])

where get_storage() returns the app's Storage (it is called inside the app
context when the command runs). Then `flask --app wsgi purge [--days N]`.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import click
from flask import Flask
from flask.cli import with_appcontext

from .model import StorageError
from .storage import Storage


def purge_command(storage: Storage, days: int) -> int:
    """Delete exchanges (and their feedback) older than `days` days; return how many exchanges."""
    if days < 1:
        raise ValueError("days must be at least 1")
    return storage.purge(timedelta(days=days))


def register_cli(app: Flask, get_storage: Callable[[], Storage], default_days: int) -> None:
    """Add the `purge` command to `app`'s CLI, keeping `default_days` unless --days is given."""
    app.cli.add_command(make_purge_command(get_storage, default_days))


def make_purge_command(get_storage: Callable[[], Storage], default_days: int) -> click.Command:
    """The click command behind `flask purge`; exits with status 1 when the database fails."""

    @click.command("purge", help="Delete chat exchanges and their feedback older than the "
                                 "retention period.")
    @click.option("--days", type=click.IntRange(min=1), default=default_days, show_default=True,
                  help="Delete exchanges older than this many days.")
    @with_appcontext
    def purge(days: int) -> None:
        try:
            count = purge_command(get_storage(), days)
        except StorageError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Deleted {count} exchange(s) older than {days} days, with their feedback.")

    return purge
