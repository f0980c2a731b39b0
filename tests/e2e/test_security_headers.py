"""No script from an upload runs in a browser (issue 14, section 2): stored files are served as
inert downloads, and every response, not only HTML, carries the security headers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_pages_designer import _sign_in
from web.responses import content_disposition


def assert_inert_download(response: Any, filename: str) -> None:
    assert response.status_code == 200
    assert response.mimetype == "text/plain"  # never a type a browser renders or runs
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{filename}"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy
    assert "<bpmn:definitions" in response.get_data(as_text=True)


def test_the_public_diagram_is_an_inert_download(client: Any, restaurant: Any) -> None:
    assert_inert_download(client.get("/guide/restaurant/diagram.bpmn"), "restaurant.bpmn")


def test_the_designers_diagram_is_an_inert_download(
    client: Any, services: Any, users: Any, restaurant: Any
) -> None:
    _sign_in(client, services, "market_reviewer")
    response = client.get("/designer/bundles/restaurant/1/diagram.bpmn")
    assert_inert_download(response, "restaurant-v1.bpmn")


@pytest.mark.parametrize(
    ("path", "headers", "status", "policy"),
    [
        ("/api/v1/tasks", {}, 401, "default-src 'none'"),  # an error, as JSON
        ("/api/v1/public/certificates/NONE", {}, 404, "default-src 'none'"),
        ("/no/such/page", {}, 404, "default-src 'self'"),  # an HTML error page
        ("/login", {}, 200, "default-src 'self'"),
        ("/static/css/app.css", {}, 200, "default-src 'none'"),
        ("/guide/restaurant", {}, 200, "default-src 'self'"),
    ],
)
def test_every_response_carries_the_security_headers(
    client: Any, restaurant: Any, path: str, headers: dict[str, str], status: int, policy: str
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert policy in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain http: HSTS means nothing
    response.close()


def test_https_requests_get_hsts(client: Any) -> None:
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "JY13301020000017.pdf",
            "inline; filename=\"JY13301020000017.pdf\"; filename*=UTF-8''JY13301020000017.pdf",
        ),
        (
            'a"b\r\nSet-Cookie: x.pdf',
            "inline; filename=\"a_b__Set-Cookie: x.pdf\"; filename*=UTF-8''a%22b%0D%0ASet-Cookie%3A%20x.pdf",
        ),
        (
            "浙食经字001.pdf",
            "inline; filename=\"____001.pdf\"; filename*=UTF-8''%E6%B5%99%E9%A3%9F%E7%BB%8F%E5%AD%97001.pdf",
        ),
    ],
)
def test_file_names_in_headers_follow_rfc_6266(name: str, expected: str) -> None:
    assert content_disposition("inline", name) == expected
