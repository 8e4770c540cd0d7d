"""Acupuncture back-pain chatbot: corpus -> passages -> index -> answer -> HTTP."""
from __future__ import annotations

__version__ = "0.1.0"


def create_app(test_config: dict | None = None):
    """Application factory: settings, index, storage, blueprints.

    Importing the package loads nothing; only this function reads settings
    and opens the index and the database.
    """
    import logging
    from pathlib import Path

    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .admin import init_admin, init_workspace
    from .service import init_service, start_index
    from .serving.log_privacy import install_log_privacy
    from .settings import resolve_settings
    from .storage.cli import register_cli
    from .web import api, errors, limits, widget
    from .web.security import init_app as init_security

    project_root = Path(__file__).resolve().parent.parent
    app = Flask(__name__, instance_relative_config=True, static_folder="web/static",
                template_folder=str(project_root / "templates"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings = resolve_settings(Path(app.instance_path), test_config=test_config)
    app.config.update(settings)
    app.config.update({k: v for k, v in (test_config or {}).items() if not k.startswith("CHATBOT_")})
    app.config["MAX_CONTENT_LENGTH"] = app.config["CHATBOT_MAX_BODY_BYTES"]
    app.json.sort_keys = False
    logging.basicConfig(level=app.config["CHATBOT_LOG_LEVEL"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_privacy()  # no visitor's address in any log line
    if app.config["CHATBOT_TRUSTED_PROXIES"] > 0:  # behind a TLS proxy: see the visitor's address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["CHATBOT_TRUSTED_PROXIES"],
                                x_proto=app.config["CHATBOT_TRUSTED_PROXIES"])

    errors.init_app(app)
    limits.init_app(app)
    init_security(app)
    service = init_service(app, settings)
    try:
        service.storage.migrate()
    except Exception as exc:  # the bot still answers without its database
        logging.getLogger(__name__).error("database not ready (%s); chat works, nothing is stored",
                                          type(exc).__name__)
    init_workspace(app, settings)
    start_index(app)  # the published version (the database's, after its migration), or a first build
    app.register_blueprint(api.bp)
    app.register_blueprint(widget.bp)
    init_admin(app)
    register_cli(app, lambda: app.extensions["chatbot"].storage, app.config["CHATBOT_RETENTION_DAYS"])
    return app


def close_app(app) -> None:
    """Stop what an app started: its chat log's writer (what it holds is written or spooled),
    the builds it launched, its index watcher, its clinic settings' re-reads, and its database
    connections (only once nothing else can use them).

    For tests and for programs that embed the app; a gunicorn worker ends through
    its exit hooks (gunicorn.conf.py).
    """
    if "chatbot_chat_log" in app.extensions:
        app.extensions["chatbot_chat_log"].close()
    if "chatbot_workspace" in app.extensions:
        app.extensions["chatbot_workspace"].close()
    service = app.extensions["chatbot"]
    service.live_index.stop()
    if service.clinic is not None:
        service.clinic.close()
    service.storage.dispose()
