"""Administrator pages: 用户与分组 — users with their roles, groups and sign-in state, creating
them, changing role and groups, resetting passwords and tokens, unblocking, the groups with their
members, and the record of every such change.

A new API token is shown once, in the answer to the POST that made it (marked `no-store`), not
after a redirect: the session is a signed cookie, not a secret store, so the token never goes
into it. Every other form redirects after its POST."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for

from engine.domain.users import Role
from engine.errors import Conflict, Invalid
from engine.services import accounts

from ..auth import page_user, role_required
from ..state import services

bp = Blueprint("admin", __name__, url_prefix="/admin")

# A typed list of new groups: commas (English or Chinese), 、 or new lines between them.
_GROUP_SEPARATORS = re.compile(r"[,，、\n\r]+")


def _groups_given() -> list[str]:
    """The groups ticked plus the ones typed in 新分组."""
    typed = _GROUP_SEPARATORS.split(request.form.get("new_groups", ""))
    return request.form.getlist("groups") + typed


def _problems(err: Invalid | Conflict) -> list[str]:
    if isinstance(err, Invalid):
        return [str(e["message"]) for e in err.errors] or [err.message]
    return [err.message]


@bp.get("/users")
@role_required(Role.ADMIN)
def users() -> Any:
    return _users_page()


def _users_page(
    problems: list[str] | None = None, form: dict[str, Any] | None = None, status: int = 200
) -> Any:
    found = accounts.overview(services(), page_user())
    return (
        render_template(
            "admin/users.html", **found, problems=problems or [], form=form or {}, roles=list(Role)
        ),
        status,
    )


@bp.post("/users")
@role_required(Role.ADMIN)
def create() -> Any:
    name = request.form.get("name", "")
    role = request.form.get("role", "")
    groups = _groups_given()
    display_name = request.form.get("display_name", "")
    department = request.form.get("department", "")
    try:
        user, token = accounts.create_user(
            services(),
            name,
            role,
            groups,
            by=page_user(),
            display_name=display_name,
            department=department,
        )
    except (Invalid, Conflict) as err:
        form = {"name": name, "role": role, "groups": request.form.getlist("groups")}
        form |= {"display_name": display_name, "department": department}
        form["new_groups"] = request.form.get("new_groups", "")
        return _users_page(_problems(err), form, err.status)
    return _token_page(user.id, user.name, token, created=True)


def _token_page(user_id: int, name: str, token: str = "", created: bool = False) -> Any:
    response = make_response(
        render_template(
            "admin/token.html", user_id=user_id, name=name, token=token, created=created
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/users/<int:user_id>")
@role_required(Role.ADMIN)
def user(user_id: int) -> Any:
    return _user_page(user_id)


def _user_page(
    user_id: int, problems: dict[str, list[str]] | None = None, status: int = 200
) -> Any:
    found = accounts.account(services(), page_user(), user_id)
    return (
        render_template(
            "admin/user.html", account=found, problems=problems or {}, roles=list(Role)
        ),
        status,
    )


def _name_of(user_id: int) -> str:
    return str(accounts.account(services(), page_user(), user_id)["user"].name)


@bp.post("/users/<int:user_id>")
@role_required(Role.ADMIN)
def edit(user_id: int) -> Any:
    name = _name_of(user_id)
    try:
        accounts.edit_user(
            services(),
            name,
            role=request.form.get("role", ""),
            groups=_groups_given(),
            by=page_user(),
            display_name=request.form.get("display_name"),  # absent: unchanged
            department=request.form.get("department"),
        )
    except (Invalid, Conflict) as err:
        return _user_page(user_id, {"edit": _problems(err)}, err.status)
    flash(f"已保存 {name} 的角色和分组及署名", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@role_required(Role.ADMIN)
def password(user_id: int) -> Any:
    name = _name_of(user_id)
    given = request.form.get("password", "")
    if given != request.form.get("confirm", ""):
        return _user_page(user_id, {"password": ["两次输入的密码不一致"]}, 422)
    try:
        accounts.set_password(services(), name, given, by=page_user())
    except Invalid as err:
        return _user_page(user_id, {"password": _problems(err)}, err.status)
    if name == page_user().name:  # their own: this session has ended too
        flash("已重设您的登录密码, 请用新密码重新登录", "success")
        return redirect(url_for("auth.sign_in"))
    flash(f"已重设 {name} 的登录密码; {name} 在各处的登录已全部退出", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/token")
@role_required(Role.ADMIN)
def token(user_id: int) -> Any:
    name = _name_of(user_id)
    new = accounts.reissue_token(services(), name, by=page_user())
    return _token_page(user_id, name, token=new)


@bp.post("/users/<int:user_id>/unblock")
@role_required(Role.ADMIN)
def unblock(user_id: int) -> Any:
    name = _name_of(user_id)
    had = accounts.unblock(services(), name, by=page_user())
    if had:
        flash(f"已解除 {name} 的登录锁定, 失败次数已清零", "success")
    else:
        flash(f"{name} 的登录没有被锁定, 无需解除", "info")
    if request.form.get("back") == "list":
        return redirect(url_for("admin.users"))
    return redirect(url_for("admin.user", user_id=user_id))
