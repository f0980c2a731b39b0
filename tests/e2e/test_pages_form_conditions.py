"""Forms that follow the decision (issue 17 · D), through the app's test client on SQLite and
PostgreSQL: a field its form's conditions do not let apply is rendered hidden and disabled and
never required; a value for it is refused; 邮寄送达 cannot finish without the address; the 补正
form offers only the materials asked for, and the second 一窗受理 shows them 已补正."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from engine.errors import Invalid
from engine.services import Services, cases, queries
from tests.e2e.test_pages_clerk import Desk, _token
from tests.fixtures import restaurant as r


@pytest.fixture
def desk(services: Services, users: dict[str, Any]) -> Desk:
    return Desk(services, users)


def _wrapper(html: str, name: str) -> str:
    """The opening tag of a field's wrapper."""
    found = re.search(rf'<(?:div|fieldset) class="field[^"]*" data-field="{name}"[^>]*>', html)
    assert found, name
    return found.group(0)


def _block(html: str, name: str) -> str:
    start = html.index(f'data-field="{name}"')
    end = html.find('data-field="', start + 20)
    return html[start : end if end > 0 else len(html)]


def _post(client: Any, task: str, page: str, pairs: list[tuple[str, str]]) -> Any:
    return client.post(
        f"/work/tasks/{task}", data=MultiDict([("csrf_token", _token(page)), *pairs])
    )


def test_the_intake_page_hides_each_decisions_fields_until_chosen(desk: Desk) -> None:
    case = desk.start()
    task = case["tasks"][0]["id"]
    front = desk.client("front_desk")
    page = front.get(f"/work/tasks/{task}").get_data(as_text=True)
    for name in ("missing_materials", "deferred_materials", "supply_workdays"):
        assert " hidden" in _wrapper(page, name), name
        assert "disabled" in _block(page, name), name
    for name in ("intake_decision", "intake_opinion"):
        assert " hidden" not in _wrapper(page, name), name
    # the page's rules, as form_conditions.js reads them
    found = re.search(r'class="schema-form" data-conditions="([^"]+)"', page)
    assert found
    rules = json.loads(unescape(found.group(1)))
    assert set(rules["controlled"]) == {
        "missing_materials",
        "deferred_materials",
        "supply_workdays",
        "intake_opinion",
    }
    assert "js/form_conditions.js" in page

    # 受理: the hidden fields are not required
    response = _post(front, task, page, [("intake_decision", "accept")])
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_value_for_a_hidden_field_is_refused_and_a_shown_one_required(desk: Desk) -> None:
    case = desk.start()
    task = case["tasks"][0]["id"]
    front = desk.client("front_desk")
    page = front.get(f"/work/tasks/{task}").get_data(as_text=True)
    # a forged (or script-less) post: the 补正 list with 受理
    response = _post(
        front,
        task,
        page,
        [("intake_decision", "accept"), ("missing_materials", "floor_plan")],
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "仅在「受理决定」为「补正」时填写" in _block(html, "missing_materials")
    # 容缺受理 without its fields: both shown again, required, with their errors
    response = _post(front, task, html, [("intake_decision", "accept_with_gaps")])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for name in ("deferred_materials", "supply_workdays"):
        assert " hidden" not in _wrapper(html, name)
        assert "必填" in _block(html, name) and 'class="required"' in _block(html, name)
    assert " hidden" in _wrapper(html, "missing_materials")
    assert queries.get_task(desk.svc, desk.users["front_desk"].user, task)["status"] == "open"


def _at_issuance(desk: Desk) -> dict[str, Any]:
    case = desk.start()
    for element, data in (
        ("intake", r.ACCEPT),
        ("review_food", r.FOOD_OK),
        ("review_licence", r.LICENCE_OK),
    ):
        case = desk.do(case, element, r.CLERK_OF[element], data)
    assert [t["element"] for t in case["tasks"]] == ["joint_issuance"]
    return case


def test_post_delivery_cannot_finish_without_the_mailing_address(desk: Desk) -> None:
    case = _at_issuance(desk)
    task = case["tasks"][0]["id"]
    issuer = desk.client("issuer")
    page = issuer.get(f"/work/tasks/{task}").get_data(as_text=True)
    assert " hidden" in _wrapper(page, "mailing_address")

    post = [
        ("licence_number", r.ISSUANCE["licence_number"]),
        ("permit_number", r.ISSUANCE["permit_number"]),
        ("delivery_method", "post"),
    ]
    response = _post(issuer, task, page, post)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert " hidden" not in _wrapper(html, "mailing_address")
    assert "必填" in _block(html, "mailing_address")
    # the API refuses it alike, and the case is as it was
    user = desk.users["issuer"].user
    with pytest.raises(Invalid) as refused:
        cases.complete(desk.svc, user, task, {**r.ISSUANCE, "delivery_method": "post"})
    assert [e["field"] for e in refused.value.errors] == ["mailing_address"]
    assert queries.get_case(desk.svc, user, case["id"])["status"] == "running"

    address = "杭州市上城区解放路 1 号 张三 13800138000"
    response = _post(issuer, task, html, [*post, ("mailing_address", address)])
    assert response.status_code == 302, response.get_data(as_text=True)
    done = queries.get_case(desk.svc, user, case["id"])
    assert done["status"] == "completed" and done["data"]["mailing_address"] == address


def test_the_correction_form_lists_only_what_was_asked_and_intake_sees_it_corrected(
    desk: Desk,
) -> None:
    case = desk.do(desk.start(), "intake", "front_desk", r.CORRECT)
    task = case["tasks"][0]["id"]
    front = desk.client("front_desk")
    page = front.get(f"/work/tasks/{task}").get_data(as_text=True)
    offered = re.findall(r'name="supplied_materials" value="([^"]+)"', page)
    assert offered == ["premises_proof", "health_certificates"]
    assert 'data-material="premises_proof" class="m-missing"' in page

    # a material the 补正告知书 did not ask for is refused (page and API alike)
    response = _post(front, task, page, [("supplied_materials", "floor_plan")])
    assert response.status_code == 422
    assert "补正告知书未要求补正: 经营场所平面布局图" in response.get_data(as_text=True)
    with pytest.raises(Invalid):
        cases.complete(
            desk.svc, desk.users["front_desk"].user, task, {"supplied_materials": ["floor_plan"]}
        )

    response = _post(front, task, page, [("supplied_materials", "premises_proof")])
    assert response.status_code == 302, response.get_data(as_text=True)
    again = queries.get_case(desk.svc, desk.users["front_desk"].user, case["id"])["tasks"][0]
    assert again["element"] == "intake"
    page = front.get(f"/work/tasks/{again['id']}").get_data(as_text=True)
    assert 'data-material="premises_proof" class="m-corrected"' in page
    assert 'data-material="health_certificates" class="m-missing"' in page
    assert "已补正" in page
