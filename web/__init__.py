"""The web layer: the Flask app factory, the REST API and the pages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from engine import config
from engine.persistence.db import make_engine
from engine.services import Services

from . import state, urls
from .responses import security_headers


def create_app(settings: dict[str, Any] | None = None) -> Flask:
    """Build the app. `settings` may give DATABASE_URL, FORMS_DIR or a ready SERVICES object."""
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=config.database_url(),
        FORMS_DIR=config.forms_dir(),
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        # The address every absolute URL starts with (QR codes, verify links); the request's
        # own host when unset, which must then be one of TRUSTED_HOSTS (web/urls.py).
        PUBLIC_URL=os.environ.get("LIANBAN_PUBLIC_URL"),
        JSON_AS_ASCII=False,
    )
    app.config.update(settings or {})
    urls.init_app(app)
    proxies = int(os.environ.get("LIANBAN_TRUSTED_PROXIES") or 0)
    if proxies:  # the client's address and scheme as the reverse proxies in front saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    services = app.config.get("SERVICES")
    if services is None:
        forms = app.config["FORMS_DIR"]
        services = Services(make_engine(app.config["DATABASE_URL"]), Path(forms) if forms else None)
    state.install(app, services)

    from . import auth, inputs, pages
    from .api import api

    inputs.init_app(app)  # first: the int converter, strict JSON, the body limit
    auth.init_app(app)
    auth.csrf.exempt(api)  # bearer tokens, never sent by a browser on its own
    app.register_blueprint(api)
    pages.register(app)
    _template_globals(app)
    app.after_request(security_headers)
    return app


def _template_globals(app: Flask) -> None:
    from . import labels
    from .auth import signed_in
    from .forms_render import attachment_label, without_attachments

    app.jinja_env.globals.update(
        signed_in_user=signed_in,
        attachment_label=attachment_label,
        without_attachments=without_attachments,
        url_rules={rule.endpoint for rule in app.url_map.iter_rules()},
    )
    labels.register(app)
