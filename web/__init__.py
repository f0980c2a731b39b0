"""The web layer: the Flask app factory, the REST API and (later) the pages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from engine import config
from engine.persistence.db import make_engine
from engine.services import Services


def create_app(settings: dict[str, Any] | None = None) -> Flask:
    """Build the app. `settings` may give DATABASE_URL, FORMS_DIR or a ready SERVICES object."""
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=config.database_url(),
        FORMS_DIR=config.forms_dir(),
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        # The address certificates' QR codes point at; the request's own host when unset.
        PUBLIC_URL=os.environ.get("LIANBAN_PUBLIC_URL"),
        JSON_AS_ASCII=False,
    )
    app.config.update(settings or {})
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    services = app.config.get("SERVICES")
    if services is None:
        forms = app.config["FORMS_DIR"]
        services = Services(make_engine(app.config["DATABASE_URL"]), Path(forms) if forms else None)
    app.extensions["lianban"] = services

    from .api import api
    from .pages import pages

    app.register_blueprint(api)
    app.register_blueprint(pages)
    return app
