"""Locator: find Henan trade-union service stations, plan coverage, embed maps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory.

    Templates and static files come from the checkout (``templates/``,
    ``static/`` beside the package) or, in an installed wheel, from the copies
    packed inside it (:data:`locator.config.ROOT`).
    """
    # Imported here so that the command line and the planning report do not load Flask.
    from flask import Flask

    from locator import allocator, config, memo

    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(config.ROOT / "templates"),
                static_folder=str(config.ROOT / "static"))
    app.config.update(config.load(instance_path=Path(app.instance_path),
                                        overrides=test_config))
    if test_config:
        app.config.update({k: v for k, v in test_config.items()
                           if k not in config.BY_NAME})
    from locator.web import (
        assets,
        compression,
        consumers,
        errors,
        forms,
        jsonio,
        security,
        sessions,
        state,
    )
    from locator.web.views import (
        admin,
        api,
        auth,
        downloads,
        edits,
        embed,
        feedback,
        imports,
        ogc,
        openapi,
        pages,
        planner,
        vendor,
    )

    memo.configure(app.config["CACHE_MB"])
    allocator.tune()
    jsonio.init_app(app)
    compression.init_app(app)
    assets.init_app(app)
    state.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    app.jinja_env.globals["param_attrs"] = forms.input_attrs
    sessions.init_app(app)
    limiter = consumers.init_app(app, explicit=set(test_config or ()))
    limiter.limit(app.config["REPORT_RATE_LIMIT"])(feedback.bp)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(planner.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(feedback.reads)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin.pages)
    app.register_blueprint(edits.bp)
    app.register_blueprint(imports.bp)
    return app
