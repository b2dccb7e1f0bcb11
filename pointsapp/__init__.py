"""pointsapp: points and rewards for financial-industry sales teams."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from pointsapp.config import STATIC, TEMPLATES


def create_app(config: dict | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints — nothing else."""
    from pointsapp import api, cli, commands, database, lifecycle, migrating, scim, sso, web
    from pointsapp import config as settings
    from pointsapp.extensions import babel, compress, compress_response, csrf, db, htmx, limiter, login_manager
    from pointsapp.i18n import select_locale, select_timezone
    from pointsapp.web import (
        account,
        admin,
        analytics,
        auth,
        authority,
        challenges,
        docs,
        earning,
        notifications,
        pwa,
        recognition,
        rewards,
        wallet,
    )

    app = Flask(
        __name__, template_folder=str(TEMPLATES), static_folder=str(STATIC), instance_path=settings.INSTANCE_DIR.as_posix()
    )
    app.config.update(settings.load_settings())
    app.config.update(config or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **database.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]),
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    database.init_database(app)
    migrating.init_app(app)  # Flask-Migrate and Alembic are imported only by what migrates
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    htmx.init_app(app)
    compress.init_app(app)  # COMPRESS_REGISTER is off: compress_response closes what it replaces
    app.after_request(compress_response)

    if proxies := app.config["TRUSTED_PROXIES"]:  # behind a load balancer: the caller's address from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    lifecycle.init_app(app)  # first: the id converter must be in place before any route
    api.init_app(app)
    scim.init_app(app)
    sso.init_app(app)
    web.init_app(app)
    for page in (
        auth,
        account,
        wallet,
        admin,
        docs,
        earning,
        rewards,
        challenges,
        recognition,
        notifications,
        pwa,
        analytics,
        authority,
    ):
        app.register_blueprint(page.bp)
    groups = (commands.earning, commands.rewards, commands.challenges, commands.recognition, commands.push, commands.authority)
    for group in (cli, *groups, commands.bench):
        group.register(app)
    return app
