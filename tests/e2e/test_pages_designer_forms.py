"""The form editor's live preview, POST /designer/forms/preview, through the test client."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from tests.conftest import FORMS
from tests.fixtures.pages import sign_in

PASSWORD = "form preview pw"
URL = "/designer/forms/preview"


def _form(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FORMS / "restaurant" / name).read_text("utf-8"))
    return loaded


def _post(client: Any, token: str, body: Any) -> Any:
    # sent as the browser sends it: the test client's json= would sort the keys (field order)
    return client.post(
        URL,
        data=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )


def test_the_preview_renders_the_application_form_as_the_clerk_sees_it(
    client: Any, users: Any, services: Any
) -> None:
    token = sign_in(client, services, "designer", PASSWORD)
    response = _post(client, token, {"schema": _form("application.json")})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/html")
    page = html.unescape(response.get_data(as_text=True))
    assert "开办餐馆申请表(一表申请)" in page
    assert "申请人一次填写营业执照与食品经营许可证所需的全部信息" in page  # the form's intro
    # the fields of the macro, in the file's order, required ones marked, hints and limits kept
    names = re.findall(r'data-field="([^"]+)"', page)
    assert names == list(_form("application.json")["properties"])
    assert re.search(r'<label for="f-applicant_name" class="required">申请人\(经营者\)名称', page)
    assert 'class="hint" id="f-applicant_id_number-hint">18位统一社会信用代码' in page
    assert re.search(
        r'name="premises_area_m2"[^>]*type="number"|type="number"[^>]*name="premises_area_m2"', page
    )
    assert 'maxlength="11"' in page


def test_decisions_are_a_row_of_choices_and_a_check_reports_conditional_fields(
    client: Any, users: Any, services: Any
) -> None:
    token = sign_in(client, services, "designer", PASSWORD)
    schema = _form("review_licence.json")
    page = html.unescape(_post(client, token, {"schema": schema}).get_data(as_text=True))
    assert 'class="field field-radio choices"' in page  # as on the clerk page
    assert "准予登记" in page and "不予登记" in page

    # 不予登记 without an opinion: the if/then makes the opinion required
    checked = _post(client, token, {"schema": schema, "values": [["licence_approved", "false"]]})
    assert checked.status_code == 200
    page = html.unescape(checked.get_data(as_text=True))
    assert re.search(r'id="f-licence_opinion-error">必填<', page), page
    assert "checked" in re.search(r'<input type="radio"[^>]*value="false"[^>]*>', page).group(0)  # type: ignore[union-attr]

    fine = _post(
        client,
        token,
        {
            "schema": schema,
            "values": [["licence_approved", "false"], ["licence_opinion", "缺材料"]],
        },
    )
    assert "试填内容符合表单要求" in fine.get_data(as_text=True)


def test_a_broken_schema_is_refused_in_chinese(client: Any, users: Any, services: Any) -> None:
    token = sign_in(client, services, "designer", PASSWORD)
    bad_type = {"type": "object", "properties": {"a": {"type": "text"}}}
    response = _post(client, token, {"schema": bad_type})
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"] == "表单无效, 保存时会被拒绝"
    assert "不是有效的 JSON Schema (properties/a/type)" in body["errors"][0]["message"]

    backreference = {"type": "object", "properties": {"a": {"type": "string", "pattern": "(a)\\1"}}}
    body = _post(client, token, {"schema": backreference}).get_json()
    assert "正则表达式无法使用" in body["errors"][0]["message"]

    # a property that is a boolean schema is valid JSON Schema: previewed, not a server error
    odd = {"type": "object", "properties": {"a": True, "b": {"type": "string", "title": "乙"}}}
    response = _post(client, token, {"schema": odd})
    assert response.status_code == 200 and "乙" in response.get_data(as_text=True)

    assert _post(client, token, {"schema": []}).status_code == 422
    assert _post(client, token, {"schema": {}, "values": "x"}).status_code == 422


def test_only_designers_preview(app: Any, client: Any, users: Any, services: Any) -> None:
    anonymous = client.post(URL, json={"schema": {}})
    assert anonymous.status_code in (302, 400)  # strangers sign in (or lack the CSRF token)
    token = sign_in(client, services, "front_desk", PASSWORD)
    assert _post(client, token, {"schema": _form("application.json")}).status_code == 403
    # without the CSRF token even a designer is refused
    designer = app.test_client()
    sign_in(designer, services, "designer", PASSWORD)
    assert designer.post(URL, json={"schema": {}}).status_code == 400
