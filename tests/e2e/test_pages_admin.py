"""The 用户与分组 pages through the test client (SQLite and PostgreSQL): admins only, every action
saved and recorded, bad input answered 4xx in Chinese with nothing changed."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.domain.throttle import TooManyAttempts
from engine.errors import Unauthorized
from engine.persistence.tables import account_changes
from engine.services import accounts
from tests.fixtures.pages import csrf_token, sign_in

PASSWORD = "user pages pw 9"
NEW_PASSWORD = "绿茶 and 咖啡 7"


def _token(page: str) -> str:
    return csrf_token(page)


def _sign_in(client: Any, services: Any, name: str) -> str:
    return sign_in(client, services, name, PASSWORD)


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _recorded(services: Any) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(account_changes)).scalar_one())


def _user(services: Any, name: str) -> Any:
    return next(u for u in accounts.list_users(services) if u.name == name)


@pytest.mark.parametrize("role", ["designer", "clerk", "auditor"])
def test_only_admins_open_or_post_the_pages(
    client: Any, services: Any, users: Any, role: str
) -> None:
    name = {"designer": "designer", "clerk": "front_desk", "auditor": "auditor"}[role]
    csrf = _sign_in(client, services, name)
    admin_id = users["admin"].user.id
    assert "用户与分组" not in _text(client.get("/designer/bundles" if role == "designer" else "/"))
    assert client.get("/admin/users").status_code == 403
    assert client.get(f"/admin/users/{admin_id}").status_code == 403
    before = _recorded(services)
    for path, data in (
        ("/admin/users", {"name": "mallory", "role": "admin"}),
        (f"/admin/users/{users[name].user.id}", {"role": "admin"}),
        (f"/admin/users/{admin_id}/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
        (f"/admin/users/{admin_id}/token", {}),
        (f"/admin/users/{admin_id}/unblock", {}),
    ):
        assert client.post(path, data={**data, "csrf_token": csrf}).status_code == 403
    assert _recorded(services) == before
    assert _user(services, name).role == role


def test_a_stranger_is_sent_to_sign_in(client: Any, users: Any) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_create_shows_the_token_once_and_records_it(client: Any, services: Any, users: Any) -> None:
    csrf = _sign_in(client, services, "admin")
    page = _text(client.get("/admin/users"))
    assert 'href="/admin/users"' in page and "用户与分组" in page  # the navigation link
    assert 'value="front_desk"' in page  # existing groups offered

    response = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "name": "杨药师",
            "role": "clerk",
            "groups": ["front_desk"],
            "new_groups": "drug_review，cold_chain",
        },
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = _text(response)
    assert "已创建用户 杨药师" in shown and "令牌只显示这一次" in shown
    token = re.search(r'<code class="token" id="new-token">([^<]+)</code>', shown)
    assert token
    created = accounts.authenticate(services, token.group(1))
    assert created.name == "杨药师"
    assert created.groups == {"front_desk", "drug_review", "cold_chain"}

    listing = _text(client.get("/admin/users"))
    assert token.group(1) not in listing  # never again
    assert re.search(r'data-group="drug_review">.*?<td class="num">1</td>', listing, re.S)
    assert "创建用户" in listing and "杨药师" in listing  # the change shown


def test_bad_input_is_refused_in_chinese_with_nothing_saved(
    client: Any, services: Any, users: Any
) -> None:
    csrf = _sign_in(client, services, "admin")
    before = _recorded(services)
    clerk = users["front_desk"].user

    cases = [
        ("/admin/users", {"name": "", "role": "clerk"}, 422, "用户名不能为空"),
        ("/admin/users", {"name": "x", "role": "boss"}, 422, "角色必须是"),
        ("/admin/users", {"name": "x", "role": "clerk", "groups": ["a,b"]}, 422, "不能含英文逗号"),
        ("/admin/users", {"name": "front_desk", "role": "clerk"}, 409, "用户 front_desk 已存在"),
        (f"/admin/users/{clerk.id}", {"role": "boss", "groups": ["issuance"]}, 422, "角色必须是"),
        (
            f"/admin/users/{users['admin'].user.id}",
            {"role": "clerk"},
            409,
            "admin 是唯一的管理员",
        ),
        (
            f"/admin/users/{clerk.id}/password",
            {"password": "12345678", "confirm": "12345678"},
            422,
            "密码不能是连续的字母、数字",
        ),
        (
            f"/admin/users/{clerk.id}/password",
            {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
            422,
            "两次输入的密码不一致",
        ),
        (
            f"/admin/users/{clerk.id}/password",
            {"password": "", "confirm": ""},
            422,
            "密码至少 8 个字符",
        ),
    ]
    for path, data, status, message in cases:
        response = client.post(path, data={**data, "csrf_token": csrf})
        assert response.status_code == status, (path, data, _text(response))
        page = _text(response)
        assert message in page and "没有保存任何内容" in page, (path, data)
    # the refused create form keeps what was typed
    kept = _text(client.post("/admin/users", data={"csrf_token": csrf, "name": "甲", "role": "x"}))
    assert 'name="name" value="甲"' in kept

    assert client.post("/admin/users/999999", data={"csrf_token": csrf}).status_code == 404
    assert client.get("/admin/users/999999").status_code == 404
    assert client.post("/admin/users", data={"name": "no csrf", "role": "clerk"}).status_code == 400
    assert _recorded(services) == before
    assert _user(services, "front_desk").groups == {"front_desk"}
    with pytest.raises(Unauthorized):
        accounts.sign_in(services, "front_desk", NEW_PASSWORD)


def test_edit_reset_reissue_and_unblock(client: Any, services: Any, users: Any) -> None:
    csrf = _sign_in(client, services, "admin")
    clerk = users["inspector"]
    page = f"/admin/users/{clerk.user.id}"
    assert "角色与分组" in _text(client.get(page))

    saved = client.post(
        page,
        data={"csrf_token": csrf, "role": "designer", "groups": ["issuance"], "new_groups": "新组"},
    )
    assert saved.status_code == 302 and saved.headers["Location"] == page
    assert "已保存 inspector 的角色和分组" in _text(client.get(page))
    changed = _user(services, "inspector")
    assert changed.role == "designer" and changed.groups == {"issuance", "新组"}

    reset = client.post(
        f"{page}/password",
        data={"csrf_token": csrf, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert reset.status_code == 302
    assert "已重设 inspector 的登录密码" in _text(client.get(page))
    assert accounts.sign_in(services, "inspector", NEW_PASSWORD).name == "inspector"

    reissued = client.post(f"{page}/token", data={"csrf_token": csrf})
    assert reissued.status_code == 200 and reissued.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">([^<]+)<', _text(reissued))
    assert token and accounts.authenticate(services, token.group(1)).name == "inspector"
    with pytest.raises(Unauthorized):
        accounts.authenticate(services, clerk.token)

    for _ in range(5):
        with pytest.raises((Unauthorized, TooManyAttempts)):
            accounts.sign_in(services, "inspector", "wrong password")
    listing = _text(client.get("/admin/users"))
    assert re.search(r'data-user="inspector">.*?已锁定至', listing, re.S)
    unblocked = client.post(f"{page}/unblock", data={"csrf_token": csrf, "back": "list"})
    assert unblocked.status_code == 302 and unblocked.headers["Location"] == "/admin/users"
    assert "已解除 inspector 的登录锁定" in _text(client.get("/admin/users"))
    assert accounts.sign_in(services, "inspector", NEW_PASSWORD).name == "inspector"

    history = _text(client.get(page))
    for label in (
        "创建用户",
        "修改角色、分组或署名",
        "重设登录密码",
        "重新签发 API 令牌",
        "解除登录锁定",
    ):
        assert label in history
    assert "窗口/审批人员; 分组: inspection → 流程设计员; 分组: issuance, 新组" in history


def test_an_admin_resetting_their_own_password_signs_in_again(
    client: Any, services: Any, users: Any
) -> None:
    csrf = _sign_in(client, services, "admin")
    response = client.post(
        f"/admin/users/{users['admin'].user.id}/password",
        data={"csrf_token": csrf, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/admin/users").status_code == 302  # this session ended with the change
