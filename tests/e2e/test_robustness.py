"""No 500 where a 4xx belongs (issue 14, section 3), through the API and the pages, on SQLite and
PostgreSQL: non-finite numbers, lone surrogates and deep nesting in JSON, ids beyond 64 bits in
paths, query strings and forms, calendar sums past year 9999, damaged zips, bodies over the limit
(chunked or not). Each refused request leaves everything as it was."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import re
import zipfile
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from engine.persistence.tables import case_events, cases
from engine.services import audit, catalogue
from engine.services.accounts import set_password
from tests.e2e.server import Server
from tests.e2e.test_api import restaurant_zip
from tests.fixtures import bpmn
from tests.fixtures.restaurant import ACCEPT, APPLICATION

PASSWORD = "Robust-Check-7391!"
HUGE = "99999999999999999999999"  # 23 digits
LIMIT = 25 * 1024 * 1024


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def signed_in(app: Any, services: Any, name: str) -> tuple[Any, str]:
    """A test client signed in as `name` through the sign-in page, and a CSRF token."""
    set_password(services, name, PASSWORD)
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client, token


def problem_fields(response: Any) -> list[str]:
    return [e.get("field") for e in response.get_json()["errors"]]


def counts(services: Any) -> tuple[int, int]:
    """(cases, events) in the database: a refused request must change neither."""
    with services.engine.connect() as conn:
        n_cases = conn.execute(select(func.count()).select_from(cases)).scalar_one()
        n_events = conn.execute(select(func.count()).select_from(case_events)).scalar_one()
    return int(n_cases), int(n_events)


def post_json(client: Any, url: str, headers: dict[str, str], text: str) -> Any:
    return client.post(url, headers=headers, data=text, content_type="application/json")


# -- JSON: non-finite numbers, lone surrogates, deep nesting, huge integers ----------------------

APPLICATION_TEXT = (
    '{"bundle": "restaurant", "data": {"applicant_name": "张三", '
    '"applicant_id_number": "91330102MA2H0ABC1X", "shop_name": "老张面馆", '
    '"shop_address": "杭州市上城区解放路 1 号", "business_scope": "热食类食品制售", '
    '"contact_phone": "13800138000", "premises_area_m2": %s}}'
)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_non_finite_numbers_are_refused_naming_the_field(
    client: Any, users: dict[str, Any], restaurant: Any, services: Any, number: str
) -> None:
    desk = users["front_desk"].headers
    before = counts(services)
    refused = post_json(client, "/api/v1/cases", desk, APPLICATION_TEXT % number)
    assert refused.status_code == 422, refused.get_json()
    assert problem_fields(refused) == ["data.premises_area_m2"]
    assert "有限" in refused.get_json()["errors"][0]["message"]
    assert counts(services) == before
    # the same number, finite, is accepted: only the value was wrong
    assert post_json(client, "/api/v1/cases", desk, APPLICATION_TEXT % "85.5").status_code == 201


def test_non_finite_numbers_are_refused_in_every_json_body(
    app: Any, client: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    desk, admin = users["front_desk"].headers, users["admin"].headers
    case = client.post(
        "/api/v1/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
    ).get_json()
    task = case["tasks"][0]["id"]
    before = counts(services)
    for url, headers, text, field in [
        (f"/api/v1/tasks/{task}/complete", desk, '{"data": {"x": [1, NaN]}}', "data.x.1"),
        (f"/api/v1/cases/{case['id']}/cancel", desk, '{"reason": Infinity}', "reason"),
        (f"/api/v1/cases/{case['id']}/rating", desk, '{"level": -Infinity}', "level"),
        (f"/api/v1/public/cases/{case['id']}/rating", {}, '{"level": NaN}', "level"),
    ]:
        refused = post_json(client, url, headers, text)
        assert refused.status_code == 422, (url, refused.get_json())
        assert problem_fields(refused) == [field], url
    day = client.put(
        "/api/v1/calendar/days/2026-10-12",
        headers=admin,
        data='{"workday": true, "name": "x", "n": NaN}',
        content_type="application/json",
    )
    assert day.status_code == 422 and problem_fields(day) == ["n"]
    assert counts(services) == before
    assert client.get(f"/api/v1/tasks/{task}", headers=desk).get_json()["status"] == "open"
    # Flask's own request.get_json() reads through the same bounds (a 400 there)
    with pytest.raises(ValueError):
        app.json.loads('{"a": NaN}')


def test_worklist_and_search_still_answer_after_refused_numbers(
    app: Any, client: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    """What the red team saw: a stored NaN broke SQLite's json_extract for every page of that
    case. Now it is never stored, and the pages that broke answer."""
    desk = users["front_desk"].headers
    client.post("/api/v1/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION})
    assert post_json(client, "/api/v1/cases", desk, APPLICATION_TEXT % "NaN").status_code == 422
    worklist = client.get("/api/v1/tasks?q=张三", headers=desk)
    assert worklist.status_code == 200 and len(worklist.get_json()["tasks"]) == 1
    auditor, _ = signed_in(app, services, "auditor")
    found = auditor.get("/audit/?applicant=张三")
    assert found.status_code == 200


def test_the_start_page_refuses_non_finite_numbers_and_survives_odd_bytes(
    app: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    """The pages take forms, not JSON: a number field of "NaN" or "1e400" is refused by the
    form's checks (the engine's own bound on numbers), and bytes that would decode to a lone
    surrogate arrive replaced; neither answers 500 or stores anything broken."""
    page, token = signed_in(app, services, "front_desk")
    form = {k: str(v) for k, v in APPLICATION.items()}
    before = counts(services)
    for number in ("NaN", "inf", "-Infinity", "1e400"):
        response = page.post(
            "/work/start/restaurant",
            data={**form, "premises_area_m2": number, "csrf_token": token},
        )
        assert response.status_code == 422, number
    assert counts(services) == before
    rest = {k: v for k, v in form.items() if k != "applicant_name"}
    body = urlencode({**rest, "csrf_token": token}).encode()
    body += b"&applicant_name=%ED%A0%80%E5%BC%A0"  # CESU-8 of U+D800, then 张
    odd = page.post(
        "/work/start/restaurant", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert odd.status_code in (302, 422), odd.status_code  # 302: to the receipt (PRG)
    with services.engine.connect() as conn:
        ids = [int(i) for i in conn.execute(select(cases.c.id)).scalars()]
    for case_id in ids:
        assert audit.replay(services, users["auditor"].user, case_id)["verified"] is True


def test_lone_surrogates_are_refused_naming_the_field(
    client: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    desk = users["front_desk"].headers
    before = counts(services)
    text = APPLICATION_TEXT.replace('"张三"', '"\\ud800张"') % "85.5"
    refused = post_json(client, "/api/v1/cases", desk, text)
    assert refused.status_code == 422
    assert problem_fields(refused) == ["data.applicant_name"]
    assert "代理项" in refused.get_json()["errors"][0]["message"]
    in_key = post_json(
        client, "/api/v1/cases", desk, '{"bundle": "restaurant", "data": {"a\\udfff": 1}}'
    )
    assert in_key.status_code == 422
    assert problem_fields(in_key) == ["data.a\\udfff"]  # shown escaped: the answer is UTF-8
    assert counts(services) == before
    # a proper pair (an emoji) is fine: only lone halves are refused
    pair = APPLICATION_TEXT.replace('"张三"', '"张三\\ud83d\\ude00"') % "85.5"
    started = post_json(client, "/api/v1/cases", desk, pair)
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["data"]["applicant_name"] == "张三😀"


def test_nul_characters_are_refused_before_the_database(
    app: Any, client: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    """PostgreSQL's text and jsonb hold no NUL: found by the fuzz as a 500 on the worklist's
    `element` filter. Refused in JSON, query strings, form fields and file names; a path with one
    names nothing."""
    desk = users["front_desk"].headers
    before = counts(services)
    text = APPLICATION_TEXT.replace('"张三"', '"张\\u0000三"') % "85.5"
    refused = post_json(client, "/api/v1/cases", desk, text)
    assert refused.status_code == 422 and problem_fields(refused) == ["data.applicant_name"]
    for query, field in [("element=%00", "element"), ("q=a%00b", "q"), ("x%00=1", "x\\u0000")]:
        response = client.get(f"/api/v1/tasks?{query}", headers=desk)
        assert response.status_code == 422, query
        assert problem_fields(response) == [field]
    for path in ("/api/v1/bundles/%00", "/api/v1/tasks/a%00/claim", "/api/v1/certificates/%00"):
        response = client.open(path, method="POST" if "claim" in path else "GET", headers=desk)
        assert response.status_code == 404, path
    upload = client.post(
        "/api/v1/bundles",
        headers=users["designer"].headers,
        data={"file": (io.BytesIO(bpmn.linear()), "p\x00.bpmn")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 422 and problem_fields(upload) == ["file"]
    auditor, _ = signed_in(app, services, "auditor")
    assert auditor.get("/audit/?applicant=%00").status_code == 422
    login = app.test_client()
    token = _token(login.get("/login").get_data(as_text=True))
    signing_in = login.post("/login", data={"name": "a\x00", "password": "x", "csrf_token": token})
    assert signing_in.status_code == 422
    assert counts(services) == before
    assert client.get("/api/v1/tasks?element=intake", headers=desk).status_code == 200


def test_deep_nesting_is_refused(
    client: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    desk = users["front_desk"].headers
    before = counts(services)
    deep = post_json(client, "/api/v1/cases", desk, '{"data": ' + "[" * 3000 + "]" * 3000 + "}")
    assert deep.status_code == 422
    assert "嵌套层数过多" in deep.get_json()["errors"][0]["message"]
    just_over = '{"bundle": "restaurant", "data": {"x": ' + "[" * 63 + "]" * 63 + "}}"
    over = post_json(client, "/api/v1/cases", desk, just_over)
    assert over.status_code == 422
    assert problem_fields(over) == ["data.x" + ".0" * 62]  # the 65th level
    at_limit = post_json(client, "/api/v1/cases", desk, just_over.replace("[]", ""))
    assert "嵌套层数过多" not in str(at_limit.get_json())  # 64 levels: on to the form's checks
    assert counts(services) == before


def test_integers_beyond_64_bits_and_malformed_bodies_are_refused(
    client: Any, users: dict[str, Any], restaurant: Any
) -> None:
    desk = users["front_desk"].headers
    for text, field in [
        (APPLICATION_TEXT % ("9" * 30), "data.premises_area_m2"),
        (APPLICATION_TEXT % ("9" * 5000), "(请求体)"),
        ('{"bundle": ', "(请求体)"),
        ("[1, 2]", "(请求体)"),
    ]:
        refused = post_json(client, "/api/v1/cases", desk, text)
        assert refused.status_code == 422, text[:40]
        assert problem_fields(refused) == [field]
    not_utf8 = client.post(
        "/api/v1/cases", headers=desk, data=b'{"bundle": "\xff"}', content_type="application/json"
    )
    assert not_utf8.status_code == 422


# -- ids beyond 64 bits ---------------------------------------------------------------------------


def _int_routes(app: Any) -> list[tuple[str, str, dict[str, str]]]:
    """(rule, method, converters) of every route with an `<int:...>` part."""
    found = []
    for rule in app.url_map.iter_rules():
        converters = {name: type(conv).__name__ for name, conv in rule._converters.items()}
        if not any("Integer" in kind or "Int64" in kind for kind in converters.values()):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, converters))
    return found


def _url(rule: str, converters: dict[str, str], number: int | str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(number) if "Int" in converters[name] else "x"

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", value, rule)


def test_every_int_route_answers_404_beyond_64_bits(
    app: Any, client: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    routes = _int_routes(app)
    assert len(routes) >= 20  # API, pages and public alike
    assert {r for r, _, _ in routes} >= {
        "/api/v1/cases/<int:case_id>",
        "/api/v1/public/cases/<int:case_id>",
        "/cases/<int:case_id>",
        "/audit/cases/<int:case_id>",
        "/designer/bundles/<key>/<int(max=2147483647):version>",
    }
    admin = users["admin"].headers
    page, token = signed_in(app, services, "admin")
    for rule, method, converters in routes:
        api = rule.startswith("/api/")
        caller = client if api else page
        for number in (HUGE, 2**63, -1):
            response = caller.open(
                _url(rule, converters, number),
                method=method,
                headers=admin if api else {},
                data={"csrf_token": token} if method == "POST" and not api else None,
            )
            assert response.status_code == 404, (rule, method, number, response.status_code)
        # the largest id a database holds reaches the view, which finds nothing (never a 500)
        response = caller.open(
            _url(rule, converters, 2**63 - 1),
            method=method,
            headers=admin if api else {},
            json={} if api and method in ("POST", "PUT") else None,
            data={"csrf_token": token} if method == "POST" and not api else None,
        )
        # the public progress page, without the lookup's grant, sends the visitor back to the
        # lookup form (saying nothing about whether the case exists)
        lookup = rule.startswith("/progress/") and response.status_code == 302
        assert 400 <= response.status_code < 500 or lookup, (rule, method, response.status_code)
        if lookup:
            assert response.headers["Location"].endswith("/progress")


def test_ids_in_query_strings_and_forms(
    app: Any, client: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    desk = users["front_desk"].headers
    client.post("/api/v1/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION})
    for q in (HUGE, "²", "١٢", str(2**63)):
        assert client.get(f"/api/v1/tasks?q={q}", headers=desk).status_code == 200, q
    for after in (HUGE, "²"):
        assert client.get(f"/api/v1/tasks?after={after}", headers=desk).status_code == 422
    assert client.get(f"/api/v1/tasks?limit={HUGE}", headers=desk).status_code == 422
    auditor = users["auditor"].headers
    for version in (2**31 - 1, 2**31, 2**63 - 1):  # a 32-bit column: PostgreSQL refuses more
        found = client.get(f"/api/v1/bundles/restaurant/versions/{version}", headers=auditor)
        assert found.status_code == 404, version
    designer, _ = signed_in(app, services, "designer")
    for version in (2**31 - 1, 2**31):
        assert designer.get(f"/designer/bundles/restaurant/{version}").status_code == 404
    for value in (HUGE, "²", "-1", str(2**31), str(2**63 - 1)):
        compared = designer.get(f"/designer/bundles/restaurant/compare?a={value}&b=1")
        assert compared.status_code in (404, 422), value


def test_the_progress_page_takes_any_case_number_without_a_500(
    app: Any, users: dict[str, Any], restaurant: Any
) -> None:
    client = app.test_client()
    token = _token(client.get("/progress").get_data(as_text=True))
    for number in (HUGE, "¹²", "١٢", str(2**63), "-1"):
        response = client.post(
            "/progress", data={"number": number, "code": "ABCD-EFGH-JKMN", "csrf_token": token}
        )
        assert response.status_code in (403, 422), (number, response.status_code)


def test_the_auditor_search_refuses_23_digit_numbers_with_a_message(
    app: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    auditor, _ = signed_in(app, services, "auditor")
    for query, field in [
        (f"number={HUGE}", "办件编号应为正整数"),
        (f"number=%23{HUGE}", "办件编号应为正整数"),
        ("number=%C2%B2", "办件编号应为正整数"),
        (f"after={HUGE}", "分页位置无效"),
        (f"limit={HUGE}", "每页条数应在"),
        (f"number={2**63}", "办件编号应为正整数"),
    ]:
        response = auditor.get(f"/audit/?{query}")
        assert response.status_code == 422, query
        assert field in response.get_data(as_text=True), query
    assert auditor.get(f"/audit/?number={2**63 - 1}").status_code == 200


# -- the calendar past year 9999 ------------------------------------------------------------------


def test_calendar_sums_and_years_out_of_range_are_422(
    client: Any, users: dict[str, Any], services: Any
) -> None:
    desk, admin = users["front_desk"].headers, users["admin"].headers
    for query in (
        "start=9999-12-01&n=100",
        "start=0001-01-03&n=-10",
        f"start=2026-01-05&n={10**30}",
        f"start=2026-01-05&n=-{10**30}",
    ):
        response = client.get(f"/api/v1/calendar/add?{query}", headers=desk)
        assert response.status_code == 422, query
        assert problem_fields(response) == ["n"]
    assert client.get("/api/v1/calendar/add?start=9999-12-01&n=3", headers=desk).status_code == 200
    for year in (0, 10000, 2**63 - 1):
        assert client.get(f"/api/v1/calendar/{year}", headers=desk).status_code == 422, year
    assert client.get(f"/api/v1/calendar/{HUGE}", headers=desk).status_code == 404
    with services.uow() as uow:
        changes = len(uow.calendar.changes())
    for day in ("9999-12-31", "0001-01-01"):
        put = client.put(f"/api/v1/calendar/days/{day}", headers=admin, json={"workday": True})
        assert put.status_code == 422 and problem_fields(put) == ["day"], day
    for year in (3_000_000_000, 9999, 0):
        published = client.post(f"/api/v1/calendar/years/{year}", headers=admin)
        assert published.status_code == 422 and problem_fields(published) == ["year"], year
    with services.uow() as uow:
        assert len(uow.calendar.changes()) == changes


# -- damaged zips ---------------------------------------------------------------------------------


def _zip(method: int = zipfile.ZIP_DEFLATED) -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("p.bpmn", bpmn.linear())
    return bytearray(buffer.getvalue())


def _central(data: bytearray) -> int:
    return data.find(b"PK\x01\x02")


def bad_crc() -> bytes:
    data = _zip()
    data[14] ^= 0xFF  # the CRC in the local header and in the central directory
    data[_central(data) + 16] ^= 0xFF
    return bytes(data)


def encrypted() -> bytes:
    data = _zip()
    data[6] |= 0x1  # "encrypted" in both general purpose flags
    data[_central(data) + 8] |= 0x1
    return bytes(data)


def unknown_method() -> bytes:
    data = _zip()
    data[8] = 99  # compression method 99 (AES, or anything zipfile cannot read)
    data[_central(data) + 10] = 99
    return bytes(data)


def bad_deflate() -> bytes:
    data = _zip()
    start = 30 + len("p.bpmn")
    data[start : start + 8] = b"\xff" * 8  # the deflate stream itself
    return bytes(data)


ZIPS = {
    "bad_crc": (bad_crc, "CRC"),
    "encrypted": (encrypted, "已加密"),
    "unknown_method": (unknown_method, "不支持的压缩方式"),
    "bad_deflate": (bad_deflate, "已损坏"),
    "truncated": (lambda: bytes(_zip()[:-30]), "不是有效的 zip 文件"),
}


@pytest.mark.parametrize("kind", sorted(ZIPS))
def test_damaged_zips_are_422_through_the_api_and_the_upload_page(
    app: Any, client: Any, users: dict[str, Any], services: Any, kind: str
) -> None:
    make, said = ZIPS[kind]
    data = make()
    response = client.post(
        "/api/v1/bundles",
        headers=users["designer"].headers,
        data={"file": (io.BytesIO(data), "bundle.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.get_json()
    assert said in response.get_json()["errors"][0]["message"]
    designer, token = signed_in(app, services, "designer")
    page = designer.post(
        "/designer/upload",
        data={"file": (io.BytesIO(data), "bundle.zip"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    assert said in page.get_data(as_text=True)
    assert catalogue.list_bundles(services, users["designer"].user) == []


def test_a_json_file_of_an_upload_out_of_bounds_is_a_problem(
    client: Any, users: dict[str, Any], services: Any
) -> None:
    for text, said in [
        ('{"key": "p", "x": NaN}', "NaN"),
        ('{"key": ' + "[" * 3000 + "]" * 3000 + "}", "嵌套层数过多"),
        ('{"key": "\\ud800"}', "代理项"),
        ('{"key": "p", "name": "a\\u0000"}', "NUL"),
    ]:
        data = bpmn.zipped({"p.bpmn": bpmn.linear(), "bundle.json": text})
        response = client.post(
            "/api/v1/bundles",
            headers=users["designer"].headers,
            data={"file": (io.BytesIO(data), "bundle.zip")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422, text[:30]
        problem = response.get_json()["errors"][0]
        assert said in problem["message"] and problem["file"] == "bundle.json"


# -- bodies over the limit, chunked or not ---------------------------------------------------------


def _chunked(client: Any, method: str, url: str, body: bytes, **headers: str) -> Any:
    """As gunicorn hands a chunked request to the app: no Content-Length, the stream ended by
    the server (`wsgi.input_terminated`)."""
    return client.open(
        url,
        method=method,
        headers={"Transfer-Encoding": "chunked", **headers},
        input_stream=io.BytesIO(body),
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_bodies_over_the_limit_are_413_chunked_or_not(
    app: Any, client: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    big = b"x" * (30 * 1024 * 1024)
    designer, desk = users["designer"].headers, users["front_desk"].headers
    page, token = signed_in(app, services, "designer")
    for method, url, caller, headers in [
        ("POST", "/api/v1/bundles", client, {**designer, "Content-Type": "application/zip"}),
        ("POST", "/api/v1/cases", client, {**desk, "Content-Type": "application/json"}),
        ("GET", "/api/v1/bundles", client, designer),
        ("POST", "/designer/upload", page, {"Content-Type": "multipart/form-data; boundary=x"}),
        ("POST", "/login", app.test_client(), {}),
        ("GET", "/guide", app.test_client(), {}),
    ]:
        chunked = _chunked(caller, method, url, big, **headers)
        assert chunked.status_code == 413, (method, url, chunked.status_code)
        sized = caller.open(url, method=method, headers=headers, data=big)
        assert sized.status_code == 413, (method, url, sized.status_code)
    assert client.get("/api/v1/tasks", headers=desk).get_json()["tasks"] == []
    assert (
        "上传内容过大" in _chunked(client, "POST", "/api/v1/cases", big, **desk).get_json()["error"]
    )
    assert "413" in _chunked(page, "POST", "/designer/upload", big).get_data(as_text=True)
    del token


def test_a_chunked_body_within_the_limit_is_read_whole(
    client: Any, users: dict[str, Any], restaurant: Any
) -> None:
    desk = users["front_desk"].headers
    body = json.dumps({"bundle": "restaurant", "data": APPLICATION}).encode()
    started = _chunked(
        client, "POST", "/api/v1/cases", body, **desk, **{"Content-Type": "application/json"}
    )
    assert started.status_code == 201, started.get_json()
    task = started.get_json()["tasks"][0]["id"]
    done = _chunked(
        client,
        "POST",
        f"/api/v1/tasks/{task}/complete",
        json.dumps({"data": ACCEPT}).encode(),
        **desk,
        **{"Content-Type": "application/json"},
    )
    assert done.status_code == 200, done.get_json()
    exact = b"{" + b" " * (LIMIT - 2) + b"}"
    at_limit = _chunked(
        client, "POST", "/api/v1/cases", exact, **desk, **{"Content-Type": "application/json"}
    )
    assert at_limit.status_code == 422  # read whole (an object without a bundle), not a 413
    zipped = _chunked(
        client,
        "POST",
        "/api/v1/bundles",
        _multipart(restaurant_zip()),
        **users["designer"].headers,
        **{"Content-Type": "multipart/form-data; boundary=lianban-boundary"},
    )
    assert zipped.status_code == 201, zipped.get_json()


def _send_chunked(port: int, path: str, total: int, headers: dict[str, str]) -> tuple[int, str]:
    """POST `total` bytes in 1 MiB chunks (Transfer-Encoding: chunked, no Content-Length)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("POST", path)
        for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            conn.putheader(name, value)
        conn.endheaders()
        sent = 0
        with contextlib.suppress(OSError):  # the server may answer and close before the end
            while sent < total:
                size = min(1 << 20, total - sent)
                conn.send(b"%x\r\n" % size + b" " * size + b"\r\n")
                sent += size
            conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_a_30_mb_chunked_body_is_413_under_gunicorn(db_url: str, users: dict[str, Any]) -> None:
    """The red team's request, to `lianban serve` itself: gunicorn hands a chunked body on with
    `wsgi.input_terminated`, and Werkzeug alone read it only up to the limit (then a 422)."""
    desk = {"Authorization": users["front_desk"].headers["Authorization"]}
    with Server(db_url, workers=1) as server:
        for path, headers in [
            ("/api/v1/cases", {**desk, "Content-Type": "application/json"}),
            ("/api/v1/bundles", {**desk, "Content-Type": "application/zip"}),
            ("/login", {"Content-Type": "application/x-www-form-urlencoded"}),
        ]:
            status, body = _send_chunked(server.port, path, 30 * 1024 * 1024, headers)
            assert status == 413, (path, status, body[:200])
            assert "上传内容过大" in body
        small = json.dumps({"bundle": "nope"})
        status, body = _send_chunked(
            server.port, "/api/v1/cases", len(small), {**desk, "Content-Type": "application/json"}
        )
        assert status == 422  # a body of spaces within the limit: read whole, then refused


def _multipart(data: bytes) -> bytes:
    return (
        b"--lianban-boundary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="restaurant.zip"\r\n'
        b"Content-Type: application/zip\r\n\r\n" + data + b"\r\n--lianban-boundary--\r\n"
    )


def test_cases_started_around_refusals_still_verify(
    client: Any, users: dict[str, Any], restaurant: Any, services: Any
) -> None:
    """The auditor's replay verifies every case after a run of refused requests."""
    desk = users["front_desk"].headers
    case = client.post(
        "/api/v1/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
    ).get_json()
    task = case["tasks"][0]["id"]
    for text in ('{"data": {"a": NaN}}', '{"data": {"a": "\\udc00"}}', "[" * 2000):
        post_json(client, f"/api/v1/tasks/{task}/complete", desk, text)
    client.post(f"/api/v1/tasks/{task}/complete", headers=desk, json={"data": ACCEPT})
    verdict = audit.replay(services, users["auditor"].user, case["id"])
    assert verdict["verified"] is True, verdict
