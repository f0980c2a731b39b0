"""Sessions, CSRF and roles on the pages, through the app's test client (both databases)."""

from __future__ import annotations

import re
from typing import Any

from engine.services.accounts import set_password

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


# ---------------------------------------------------------------- session cookies and their life


def _session_cookie(response: Any) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_the_session_cookie_is_lax_httponly_and_secure_over_https(
    services: Any, users: Any
) -> None:
    from web import create_app

    set_password(services, "front_desk", PASSWORD)
    app = create_app({"SERVICES": services, "TESTING": True})
    plain = _session_cookie(app.test_client().get("/login"))
    assert "SameSite=Lax" in plain and "HttpOnly" in plain and "Secure" not in plain
    secure = _session_cookie(app.test_client().get("/login", base_url="https://localhost"))
    assert "SameSite=Lax" in secure and "HttpOnly" in secure and "Secure" in secure
    # a public address on https: Secure even when the request reached the app over http
    behind_tls = create_app(
        {"SERVICES": services, "TESTING": True, "PUBLIC_URL": "https://zwfw.example.gov.cn"}
    )
    assert "Secure" in _session_cookie(behind_tls.test_client().get("/login"))


def _copy_session(source: Any, app: Any) -> Any:
    """Another browser holding the same session cookie (as an attacker who copied it would)."""
    other = app.test_client()
    other.set_cookie("session", source.get_cookie("session").value)
    return other


def test_signing_out_ends_every_copy_of_the_session(app: Any, users: Any, services: Any) -> None:
    set_password(services, "front_desk", PASSWORD)
    client = app.test_client()
    _sign_in(client, "front_desk")
    copy = _copy_session(client, app)
    assert copy.get("/work/").status_code == 200
    token = _token(client.get("/work/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert copy.get("/work/").status_code == 302  # the old cookie no longer signs anyone in
    _sign_in(client, "front_desk")
    assert client.get("/work/").status_code == 200


def test_a_new_password_ends_earlier_sessions(app: Any, users: Any, services: Any) -> None:
    set_password(services, "auditor", PASSWORD)
    client = app.test_client()
    _sign_in(client, "auditor")
    assert client.get("/audit/").status_code == 200
    set_password(services, "auditor", "another good one")
    stale = client.get("/audit/")
    assert stale.status_code == 302 and stale.headers["Location"].startswith("/login")


def test_a_session_lasts_twelve_hours_from_signing_in(app: Any, users: Any, services: Any) -> None:
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600
    set_password(services, "auditor", PASSWORD)
    client = app.test_client()
    _sign_in(client, "auditor")
    with client.session_transaction() as session:
        session["signed_in_at"] -= 11 * 3600 + 3500
    assert client.get("/audit/").status_code == 200
    with client.session_transaction() as session:
        session["signed_in_at"] -= 200  # now just over 12 hours ago
    assert client.get("/audit/").status_code == 302


# ---------------------------------------------------------------- throttled sign-in


def test_repeated_wrong_passwords_get_429_with_when_to_try_again(
    client: Any, users: Any, services: Any
) -> None:
    set_password(services, "front_desk", PASSWORD)
    token = _token(client.get("/login").get_data(as_text=True))

    def attempt(name: str, password: str) -> Any:
        return client.post("/login", data={"name": name, "password": password, "csrf_token": token})

    for name in ("front_desk", "no_such_user"):  # known and unknown names alike
        answers = [attempt(name, "wrong password").status_code for _ in range(5)]
        assert answers == [401, 401, 401, 401, 429], name
        refused = attempt(name, PASSWORD)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "300"
        html = refused.get_data(as_text=True)
        assert "登录失败次数过多, 请 5 分钟后再试" in html and "以后)" in html
        assert 'role="alert"' in html and PASSWORD not in html


def test_a_successful_sign_in_resets_the_accounts_count(
    client: Any, users: Any, services: Any
) -> None:
    set_password(services, "front_desk", PASSWORD)
    token = _token(client.get("/login").get_data(as_text=True))
    for _ in range(3):
        wrong = {"name": "front_desk", "password": "wrong password", "csrf_token": token}
        assert client.post("/login", data=wrong).status_code == 401
    _sign_in(client, "front_desk")
    client.post("/logout", data={"csrf_token": token})
    for _ in range(4):
        wrong = {"name": "front_desk", "password": "wrong password", "csrf_token": token}
        assert client.post("/login", data=wrong).status_code == 401


# ---------------------------------------------------------------- hosts and absolute addresses


def test_a_request_naming_another_host_gets_400(client: Any, users: Any, restaurant: Any) -> None:
    for path in ("/guide/restaurant", "/login", "/api/v1/bundles"):
        refused = client.get(path, headers={"Host": "evil.example"})
        assert refused.status_code == 400, path
        assert "主机名不受信任" in refused.get_data(as_text=True)
    for host in ("localhost:5000", "127.0.0.1", "[::1]:8080"):
        page = client.get("/guide/restaurant", headers={"Host": host})
        assert page.status_code == 200
        assert f"http://{host}/guide/restaurant" in page.get_data(as_text=True)


def test_absolute_addresses_use_the_public_url(services: Any, users: Any, restaurant: Any) -> None:
    from web import create_app

    app = create_app(
        {"SERVICES": services, "TESTING": True, "PUBLIC_URL": "https://zwfw.example.gov.cn/"}
    )
    client = app.test_client()
    assert app.config["TRUSTED_HOSTS"] == ["zwfw.example.gov.cn", "localhost", "127.0.0.1", "[::1]"]
    page = client.get("/guide/restaurant", headers={"Host": "127.0.0.1:5000"})
    html = page.get_data(as_text=True)
    assert "https://zwfw.example.gov.cn/guide/restaurant" in html and "127.0.0.1" not in html
    assert client.get("/guide", headers={"Host": "zwfw.example.gov.cn"}).status_code == 200
    assert client.get("/guide", headers={"Host": "evil.example"}).status_code == 400
    with app.test_request_context("/", headers={"Host": "localhost"}):
        from web.api.certificates import verify_url

        assert verify_url("JY 1") == "https://zwfw.example.gov.cn/verify/JY%201"


def test_the_trusted_hosts_list() -> None:
    from web.urls import trusted_hosts

    assert trusted_hosts(None, None) == ["localhost", "127.0.0.1", "[::1]"]
    assert trusted_hosts("https://a.example.cn:8443/x", " b.example.cn, .c.example.cn ") == [
        "a.example.cn",
        "b.example.cn",
        ".c.example.cn",
    ]
    assert trusted_hosts("http://[2001:db8::1]/", None)[0] == "[2001:db8::1]"


def test_the_address_counted_is_the_clients_and_an_ipv6_one_counts_as_its_64(app: Any) -> None:
    from web.auth import client_address

    for remote, counted in (
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
    ):
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": remote}):
            assert client_address() == counted


def test_behind_a_trusted_proxy_its_forwarded_address_and_scheme_count(
    services: Any, users: Any, monkeypatch: Any
) -> None:
    from web import create_app

    set_password(services, "front_desk", PASSWORD)
    forwarded = {"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https"}
    direct = create_app({"SERVICES": services, "TESTING": True}).test_client()
    assert "Secure" not in _session_cookie(direct.get("/login", headers=forwarded))
    monkeypatch.setenv("LIANBAN_TRUSTED_PROXIES", "1")
    client = create_app({"SERVICES": services, "TESTING": True}).test_client()
    assert "Secure" in _session_cookie(client.get("/login", headers=forwarded))
    token = _token(client.get("/login", headers=forwarded).get_data(as_text=True))
    wrong = {"name": "front_desk", "password": "wrong password", "csrf_token": token}
    # over https Flask-WTF also wants the same-origin Referer a browser sends
    posted = {**forwarded, "Referer": "https://localhost/login"}
    assert client.post("/login", data=wrong, headers=posted).status_code == 401
    with services.uow() as uow:
        counted = uow.throttles.get("sign-in:address", "198.51.100.23")
        assert counted is not None and counted.failures == 1
        assert uow.throttles.get("sign-in:address", "127.0.0.1") is None
