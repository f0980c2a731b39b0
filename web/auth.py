"""Signing in to the pages: sessions (Flask-Login), CSRF tokens on every form (Flask-WTF), roles.

The REST API keeps its bearer tokens and is exempt from CSRF checks: a browser never sends a bearer
token by itself, so a forged cross-site request cannot carry one. Pages use a signed session cookie
(HttpOnly, SameSite=Lax) and every POST form carries the session's CSRF token.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from engine import config
from engine.domain.users import Role, User
from engine.services import Services
from engine.services.users import user_by_id

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "info"

# Where each role lands after signing in.
ROLE_HOME = {
    Role.DESIGNER: "designer.bundles",
    Role.CLERK: "clerk.worklist",
    Role.AUDITOR: "auditor.search",
    Role.ADMIN: "designer.bundles",
}

F = TypeVar("F", bound=Callable[..., Any])


class SessionUser(UserMixin):  # type: ignore[misc]
    """The signed-in user as Flask-Login holds it; `.user` is the engine's User."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return str(self.user.id)


@login_manager.user_loader
def _load(user_id: str) -> SessionUser | None:
    svc: Services = current_app.extensions["lianban"]
    try:
        found = user_by_id(svc, int(user_id))
    except ValueError:
        return None
    return None if found is None else SessionUser(found)


def signed_in() -> User | None:
    """The engine User signed in to this request, or None."""
    if current_user.is_authenticated:
        return cast(SessionUser, current_user).user
    return None


def page_user() -> User:
    """The signed-in user of a page that `role_required` already guards."""
    user = signed_in()
    if user is None:
        abort(401)
    return user


def role_required(*roles: Role) -> Callable[[F], F]:
    """A page for these roles (admins may open every page); others get 403, strangers sign in."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = signed_in()
            if user is None:
                return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
            if user.role not in roles and user.role is not Role.ADMIN:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate


def safe_next(target: str | None) -> str | None:
    """A `next=` target only when it stays on this site (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    return url_for(ROLE_HOME[user.role])


def secret_key() -> str:
    """`LIANBAN_SECRET_KEY`, else a random key kept in `var/secret-key` (made on first use), so
    every server process and restart signs sessions with the same key."""
    configured = os.environ.get("LIANBAN_SECRET_KEY")
    if configured:
        return configured
    path = config.project_root() / "var" / "secret-key"
    return _read_or_create(path)


def _read_or_create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        key = secrets.token_hex(32)
        out.write(key)
    return key


def init_app(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key()
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    # A CSRF token lives as long as the session; a form left open all day still submits.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    login_manager.init_app(app)
