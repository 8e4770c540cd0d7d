"""The staff workspace core attached to a Flask app: the admin pages' and `flask staff`'s door.

    init_workspace(app, settings)   # create_app, after init_service
    current_workspace()             # in a view or a command
"""
from __future__ import annotations

import logging

from flask import Flask, current_app

from ..service import current_service
from ..settings import Settings
from ..staff.checks import VersionBot
from ..staff.workspace import Workspace

log = logging.getLogger(__name__)
EXTENSION = "chatbot_workspace"


def init_workspace(app: Flask, settings: Settings) -> Workspace:
    """Attach a Workspace over the app's storage and index store; a publication switches this
    process at once (every server's watcher follows the database by itself)."""
    service = app.extensions["chatbot"]
    workspace = Workspace(settings, service.storage, service.live_index.store,
                          on_publish=lambda version: service.live_index.refresh())
    app.extensions[EXTENSION] = workspace
    return workspace


def current_workspace() -> Workspace:
    return current_app.extensions[EXTENSION]


def served_bot() -> tuple[str, VersionBot]:
    """(version, bot) of what this server answers visitors with now, for the core's operations
    that compare with or show the published version."""
    served, responder = current_service().bot()
    return served.version, VersionBot(responder, served.index)
