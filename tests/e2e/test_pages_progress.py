"""The public progress page (/progress) with the receipt code: typed back loosely, malformed
codes explained, wrong ones throttled (429 with Retry-After)."""

from __future__ import annotations

import re
from typing import Any

from engine.services import cases
from tests.fixtures import restaurant as r


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def test_the_progress_page_takes_the_code_as_typed_and_throttles_wrong_ones(
    client: Any, services: Any, users: Any, restaurant: Any
) -> None:
    case = cases.start_case(services, users["front_desk"].user, "restaurant", r.APPLICATION)
    token = _token(client.get("/progress").get_data(as_text=True))

    def look(code: str, number: int = case["id"]) -> Any:
        return client.post(
            "/progress", data={"number": str(number), "code": code, "csrf_token": token}
        )

    typed = case["access_code"].replace("-", " ").lower()
    found = look(typed)
    assert found.status_code == 200 and "办理中" in found.get_data(as_text=True)
    malformed = look("0000-1111-IIII")
    assert malformed.status_code == 422
    assert "查询码格式不正确: 查询码为受理回执上的 12 位字母和数字" in malformed.get_data(
        as_text=True
    )
    answers = [look("2222-3333-4444").status_code for _ in range(10)]
    assert answers == [403] * 9 + [429]
    refused = look(case["access_code"])
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "900"
    html = refused.get_data(as_text=True)
    assert "查询码验证失败次数过多, 请 15 分钟后再试" in html and 'role="alert"' in html
    assert case["access_code"] not in html  # the code is never echoed
