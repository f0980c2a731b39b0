"""What every page module needs."""

from __future__ import annotations

from flask import current_app

from engine.services import Services


def services() -> Services:
    svc: Services = current_app.extensions["lianban"]
    return svc
