"""Sign in, sign out, and the home page that sends each role to its own pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import logout_user

from engine.domain.throttle import TooManyAttempts
from engine.errors import Unauthorized
from engine.services import accounts

from ..auth import client_address, home_for, safe_next, signed_in, start_session
from ..state import services

bp = Blueprint("auth", __name__)


@bp.get("/")
def home() -> Any:
    user = signed_in()
    if user is not None:
        return redirect(home_for(user))
    return render_template("home.html")


@bp.route("/login", methods=["GET", "POST"])
def sign_in() -> Any:
    """Throttled per account and per address (engine.services.throttle): too many failures
    answer 429 with Retry-After and the time to try again."""
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        user = signed_in()
        if user is not None:
            return redirect(target or home_for(user))
        return render_template("login.html", next=target or "", name="", error=None)
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    svc = services()
    try:
        user = accounts.sign_in(svc, name, password, client_address())
    except TooManyAttempts as err:
        page = render_template("login.html", next=target or "", name=name, error=err.message)
        return page, 429, {"Retry-After": str(err.retry_after)}
    except Unauthorized as err:
        return render_template("login.html", next=target or "", name=name, error=err.message), 401
    found = accounts.session_of(svc, user.id)
    if found is None:  # removed in the meantime
        return render_template(
            "login.html", next=target or "", name=name, error="用户名或密码不正确"
        ), 401
    start_session(*found)
    flash(f"欢迎, {user.name}", "success")
    return redirect(target or home_for(user))


@bp.post("/logout")
def sign_out() -> Any:
    """Signing out ends every session of the user, in every browser (the session version)."""
    user = signed_in()
    if user is not None:
        accounts.end_sessions(services(), user.id)
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.sign_in"))
