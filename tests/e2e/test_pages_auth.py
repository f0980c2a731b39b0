"""Sessions, CSRF and roles on the pages, through the app's test client (both databases)."""

from __future__ import annotations

import re
from typing import Any

from engine.services.users import set_password

PASSWORD = "correct horse"


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _sign_in(client: Any, name: str) -> None:
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(client: Any, users: Any, services: Any) -> None:
    set_password(services, "front_desk", PASSWORD)
    response = client.post("/login", data={"name": "front_desk", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    _sign_in(client, "front_desk")
    assert client.post("/logout").status_code == 400  # still signed in
    assert client.get("/work/").status_code == 200
    forged = client.post("/logout", data={"csrf_token": "not-the-token"})
    assert forged.status_code == 400


def test_the_api_keeps_bearer_tokens_without_csrf(client: Any, users: Any) -> None:
    response = client.post("/api/v1/cases", json={}, headers=users["front_desk"].headers)
    assert response.status_code != 400 or "CSRF" not in response.get_data(as_text=True)
    assert response.is_json


def test_pages_answer_in_html_and_the_api_in_json(client: Any, users: Any, services: Any) -> None:
    assert client.get("/api/v1/nowhere").is_json
    page = client.get("/nowhere")
    assert page.status_code == 404
    assert "页面不存在" in page.get_data(as_text=True)
    stranger = client.get("/work/")
    assert stranger.status_code == 302
    assert stranger.headers["Location"].startswith("/login?next=/work/")


def test_pages_load_nothing_from_other_hosts(client: Any) -> None:
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    html = response.get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_next_never_leaves_the_site(client: Any, users: Any, services: Any) -> None:
    set_password(services, "auditor", PASSWORD)
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=//evil.example/x",
        data={"name": "auditor", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/audit/"


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    client: Any, users: Any, services: Any
) -> None:
    set_password(services, "auditor", PASSWORD)
    token = _token(client.get("/login").get_data(as_text=True))
    wrong = client.post(
        "/login", data={"name": "auditor", "password": "x" * 9, "csrf_token": token}
    )
    nobody = client.post(
        "/login", data={"name": "nobody", "password": "x" * 9, "csrf_token": token}
    )
    # A user with no password (API token only) cannot sign in either.
    no_password = client.post(
        "/login", data={"name": "designer", "password": "x" * 9, "csrf_token": token}
    )
    for response in (wrong, nobody, no_password):
        assert response.status_code == 401
        assert "用户名或密码不正确" in response.get_data(as_text=True)
