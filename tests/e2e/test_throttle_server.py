"""The throttle across server processes: `lianban serve` with three worker processes, each
request possibly served by another one, counts every failure once (the counters live in the
database), on SQLite and PostgreSQL."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, cases, publishing
from engine.services.accounts import set_password
from tests.e2e.server import Server
from tests.fixtures import bpmn

PASSWORD = "correct horse"


def _send(opener: Any, request: urllib.request.Request) -> tuple[int, dict[str, str], str]:
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def test_failures_count_once_whichever_process_serves_them(
    db_url: str, services: Services, users: dict[str, Any]
) -> None:
    set_password(services, "front_desk", PASSWORD)
    publishing.deploy(services, from_upload("p.bpmn", bpmn.linear()), "test")
    case = cases.start_case(services, users["front_desk"].user, "p", {"applicant_name": "李四"})
    # no redirects followed: a successful sign-in answers 302
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        type(
            "NoRedirect",
            (urllib.request.HTTPRedirectHandler,),
            {"redirect_request": lambda *a: None},
        )(),
    )
    with Server(db_url, workers=3) as server:
        _, _, form = _send(opener, urllib.request.Request(server.base + "/login"))
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]

        def sign_in(password: str) -> tuple[int, dict[str, str], str]:
            body = urllib.parse.urlencode(
                {"name": "front_desk", "password": password, "csrf_token": token}
            ).encode()
            return _send(opener, urllib.request.Request(server.base + "/login", data=body))

        statuses = [sign_in("wrong password")[0] for _ in range(5)]
        assert statuses == [401, 401, 401, 401, 429]
        status, headers, html = sign_in(PASSWORD)
        assert status == 429 and headers["Retry-After"] == "300"
        assert "登录失败次数过多" in html

        def progress(code: str) -> tuple[int, dict[str, str], str]:
            request = urllib.request.Request(server.base + f"/api/v1/public/cases/{case['id']}")
            request.add_header("X-Access-Code", code)
            return _send(opener, request)

        assert [progress("2222-3333-4444")[0] for _ in range(10)] == [403] * 9 + [429]
        status, headers, body = progress(case["access_code"])
        assert status == 429 and json.loads(body)["retry_after"] == int(headers["Retry-After"])
