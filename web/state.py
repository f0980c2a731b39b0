"""The app's one `Services` (the use cases' shared state), kept on the Flask app by `create_app`."""

from __future__ import annotations

from flask import Flask, current_app

from engine.services import Services

_KEY = "lianban"


def install(app: Flask, services: Services) -> None:
    app.extensions[_KEY] = services


def services(app: Flask | None = None) -> Services:
    """The current app's (or `app`'s) services; every route and command passes them on."""
    found: Services = (app or current_app).extensions[_KEY]
    return found
