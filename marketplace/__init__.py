"""Chợ Làng Nghề: the application factory."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from config import Config, get_config
from marketplace import (  # noqa: F401  (models: every table registered on db.metadata)
    accounts,
    admin,
    api,
    cart,
    catalog,
    errors,
    ledger,
    makers,
    media,
    models,
    officials,
    orders,
    payments,
    privacy,
    search,
    seller,
    shops,
    site,
)
from marketplace.core import cache, changes, inputs, jobs, outbox, replica, security, templating, uow
from marketplace.core.i18n import install_fast_gettext, select_locale, select_timezone
from marketplace.core.sqlite import install_sqlite_pragmas
from marketplace.demo.cli import seed_demo
from marketplace.extensions import babel, csrf, db, limiter, login_manager, migrate

# The areas, in registration order: each is a blueprint package (``bp``, optional ``init_app(app)``).
AREAS = (site, catalog, media, accounts, shops, seller, search, cart, orders, payments, ledger, officials, api,
         admin, privacy, makers)


def create_app(config: type[Config] | dict | None = None) -> Flask:
    """Build the app: defaults from ``config.py`` → the given class or overrides."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=False,
    )
    load_config(app, config)
    configure_logging(app)
    register_extensions(app)
    inputs.init_app(app)  # before the blueprints: their <int:…> rules use the bounded id converter
    register_blueprints(app)
    security.init_app(app)  # headers, ProxyFix
    errors.register(app)
    templating.register(app)
    register_cli(app)
    uow.install(app)  # last: every view and command registered above runs in one transaction
    return app


def load_config(app: Flask, config: type[Config] | dict | None) -> None:
    if isinstance(config, type):
        app.config.from_object(config)
        config_class = config
    else:
        overrides = dict(config or {})
        config_class = get_config("testing" if overrides.get("TESTING") else None)
        app.config.from_object(config_class)
        app.config.update(overrides)
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    app.instance_path = str(data_dir)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{data_dir / 'marketplace.sqlite'}"
    app.config.setdefault("SEARCH_INDEX_DIR", None)
    app.config["SEARCH_INDEX_DIR"] = app.config["SEARCH_INDEX_DIR"] or str(data_dir / "search-index")
    app.config["MEDIA_ROOT"] = app.config["MEDIA_ROOT"] or str(data_dir / "media")
    app.config["EVIDENCE_ROOT"] = app.config["EVIDENCE_ROOT"] or str(data_dir / "evidence")
    app.config["MEDIA_PRIVATE_ROOT"] = app.config["MEDIA_PRIVATE_ROOT"] or str(data_dir / "media-private")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite: wait for the write lock instead of failing at once under concurrent writers.
        opts = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"] or {})
        opts.setdefault("connect_args", {"timeout": 30})
        opts.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = opts
    replica.configure(app)
    app.config["CONFIG_CLASS"] = config_class.__name__
    config_class.validate(app.config)


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        install_sqlite_pragmas(db.engine)
        if replica.replica_engine(app) is not None:
            install_sqlite_pragmas(replica.replica_engine(app))
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_fast_gettext(app)
    limiter.init_app(app)
    changes.init_app(app)  # the change feed first: the subscribers below and in the areas use it
    cache.init_app(app)
    outbox.init_app(app)
    jobs.init_app(app)


def register_blueprints(app: Flask) -> None:
    for module in AREAS:
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)
        bp = getattr(module, "bp", None)
        if bp is not None:
            app.register_blueprint(bp)


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(outbox.mail_cli)
