"""Signing in to the pages: sessions (Flask-Login), CSRF tokens on every form (Flask-WTF), roles.

The REST API keeps its bearer tokens and is exempt from CSRF checks: a browser never sends a bearer
token by itself, so a forged cross-site request cannot carry one. Pages use a signed session cookie
and every POST form carries the session's CSRF token.

The session cookie is HttpOnly and SameSite=Lax, and Secure whenever the request came over HTTPS
or `LIANBAN_PUBLIC_URL` is https. A session holds the user's id, their session version and when
they signed in: it is valid while the version is still the user's (signing out and a new
password raise it, ending every earlier session) and for `LIANBAN_SESSION_HOURS` (12) after
signing in, whatever the browser keeps.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    has_request_context,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user
from flask_wtf.csrf import CSRFProtect

from engine.domain.throttle import TooManyAttempts
from engine.domain.users import Role, User
from engine.services import accounts

from .state import services

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
    """The signed-in user as Flask-Login holds it; `.user` is the engine's User. Its id in the
    session is `<user id>:<session version>`, so raising the version invalidates the session."""

    def __init__(self, user: User, version: int) -> None:
        self.user = user
        self.version = version

    def get_id(self) -> str:
        return f"{self.user.id}:{self.version}"


SIGNED_IN_AT = "signed_in_at"


def session_hours() -> float:
    """`LIANBAN_SESSION_HOURS` (default 12): how long a sign-in lasts, whatever happens in it."""
    given = os.environ.get("LIANBAN_SESSION_HOURS") or "12"
    try:
        hours = float(given)
    except ValueError:
        hours = -1
    if not 0 < hours <= 24 * 30:
        raise ValueError(
            f"LIANBAN_SESSION_HOURS must be a number of hours from 0 to 720: {given!r}"
        )
    return hours


@login_manager.user_loader
def _load(session_id: str) -> SessionUser | None:
    """The user of a session whose version is still theirs and whose time has not run out."""
    user_id, _, version = session_id.partition(":")
    svc = services()
    signed_in_at = session.get(SIGNED_IN_AT)
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    # wall-clock time, not the engine's clock: a session lasts hours of a person's day
    age = time.time() - signed_in_at if isinstance(signed_in_at, int | float) else -1
    if not 0 <= age <= lifetime:
        return None
    try:
        found = accounts.session_of(svc, int(user_id))
        wanted = int(version)
    except ValueError:
        return None
    if found is None or found[1] != wanted:
        return None
    return SessionUser(found[0], found[1])


def start_session(user: User, version: int) -> None:
    """Sign `user` in to this browser (after their password was checked)."""
    login_user(SessionUser(user, version))
    session[SIGNED_IN_AT] = int(time.time())


def client_address() -> str:
    """The address the request came from (as the trusted proxies saw it when
    `LIANBAN_TRUSTED_PROXIES` is set): what per-address throttling counts. An IPv6 address
    counts as its /64 network, which one subscriber usually holds whole."""
    given = request.remote_addr or "-"
    try:
        address = ipaddress.ip_address(given)
    except ValueError:
        return given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


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


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, Secure also when this request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)


def too_many_attempts(err: TooManyAttempts) -> Any:
    """429 with Retry-After, as JSON under /api and as a page elsewhere."""
    from .api.errors import service_error

    response = make_response(service_error(err))
    response.headers["Retry-After"] = str(err.retry_after)
    return response


def init_app(app: Flask) -> None:
    svc = services(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = svc.secret_key
    # Set outright: Flask's own defaults exist, so setdefault would leave them as they are.
    public_url = str(app.config.get("PUBLIC_URL") or "")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config.get("SESSION_COOKIE_SECURE"))
        or public_url.startswith("https:"),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=public_url.startswith("https:"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=session_hours()),
        # A CSRF token lives as long as the session; a form left open all day still submits.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = _SessionCookies()
    app.register_error_handler(TooManyAttempts, too_many_attempts)
    csrf.init_app(app)
    login_manager.init_app(app)
