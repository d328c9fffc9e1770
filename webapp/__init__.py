"""Hindsight: a web admin dashboard for audit trails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import chrome, cli, errors, readends, security, templating, webcontext
from .audit.db import configure_engine, engine_options
from .config import from_environment
from .extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(from_environment(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **engine_options(app.config["SQLALCHEMY_DATABASE_URI"]),
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        configure_engine(db.engine)

    hops = app.config["HINDSIGHT_PROXY_HOPS"]
    if hops:  # only then: otherwise anyone could claim any address in a header
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=hops)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    webcontext.init_app(app)
    templating.init_app(app)
    chrome.init_app(app)
    readends.init_app(app)
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from .api.routes import bp as api_bp
    from .auth.routes import bp as auth_bp
    from .conflicts.routes import bp as conflicts_bp
    from .entities.routes import bp as entities_bp
    from .export.routes import bp as export_bp
    from .home.routes import bp as home_bp
    from .nodes.routes import bp as nodes_bp
    from .preferences.routes import bp as preferences_bp
    from .records.routes import bp as records_bp
    from .sessions.routes import bp as sessions_bp
    from .sync.routes import bp as sync_bp
    from .timeline.routes import bp as timeline_bp
    from .tokens.routes import bp as tokens_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(entities_bp)
    app.register_blueprint(timeline_bp)
    app.register_blueprint(records_bp)
    app.register_blueprint(sync_bp)
    app.register_blueprint(nodes_bp)
    app.register_blueprint(conflicts_bp)
    app.register_blueprint(preferences_bp)
    app.register_blueprint(sessions_bp)
    app.register_blueprint(export_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(tokens_bp)
