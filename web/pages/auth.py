"""Sign in, sign out, and the home page that sends each role to its own pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from engine.errors import Unauthorized
from engine.services.users import sign_in as check_sign_in

from ..auth import SessionUser, home_for, safe_next, signed_in
from .common import services

bp = Blueprint("auth", __name__)


@bp.get("/")
def home() -> Any:
    user = signed_in()
    if user is not None:
        return redirect(home_for(user))
    return render_template("home.html")


@bp.route("/login", methods=["GET", "POST"])
def sign_in() -> Any:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        user = signed_in()
        if user is not None:
            return redirect(target or home_for(user))
        return render_template("login.html", next=target or "", name="", error=None)
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    try:
        user = check_sign_in(services(), name, password)
    except Unauthorized as err:
        return render_template("login.html", next=target or "", name=name, error=err.message), 401
    login_user(SessionUser(user))
    flash(f"欢迎, {user.name}", "success")
    return redirect(target or home_for(user))


@bp.post("/logout")
def sign_out() -> Any:
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.sign_in"))
