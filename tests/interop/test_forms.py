"""Forms as other modelers write them (issue 22): Camunda's generated task forms
(`camunda:formData`), Flowable's `flowable:formProperty`, SpiffArena's JSON Schema and UI schema
files and its instructionsForEndUser, and form keys naming a kind of form we cannot show. Each
file is uploaded through the API, its form's validation shown and its case run to the end."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

from engine.services.accounts import set_password

from .harness import Interop

FILES = Path(__file__).parent / "files" / "forms"
PASSWORD = "correct horse"


def _read(name: str) -> str:
    return (FILES / name).read_text(encoding="utf-8")


def _task(interop: Interop, case_id: int, element: str) -> dict[str, Any]:
    return next(t for t in interop.case(case_id)["tasks"] if t["element"] == element)


def _refused_on(answer: Any, field: str) -> str:
    """A 422 naming `field`: its message."""
    assert answer.status_code == 422, answer.get_json()
    errors = answer.get_json()["errors"]
    found = [e["message"] for e in errors if e.get("field") == field]
    assert found, errors
    return found[0]


def _csrf(html: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, "the page has no CSRF token"
    return token.group(1)


def _page_client(interop: Interop, name: str) -> Any:
    """A browser session of the user `name` (signed in with a password)."""
    set_password(interop.services, name, PASSWORD)
    client = interop.client.application.test_client()
    page = client.get("/login").get_data(as_text=True)
    answer = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": _csrf(page)}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


# ------------------------------------------------------------------ Camunda generated forms


def test_camunda_generated_task_forms_validate_and_run(interop: Interop) -> None:
    body = interop.accepted("leave.bpmn", _read("camunda_formdata_leave.bpmn"))
    assert body["key"] == "leave_request"
    detail = interop.client.get("/api/v1/bundles/leave_request", headers=interop.admin)
    forms = detail.get_json()["forms"]
    fill = forms["camunda:formData/Activity_fill"]
    assert fill["required"] == ["days"]
    assert fill["properties"]["days"] == {
        "title": "天数",
        "type": "integer",
        "minimum": 1,
        "maximum": 30,
        "default": 1,
    }
    assert fill["properties"]["kind"]["oneOf"] == [
        {"const": "annual", "title": "年假"},
        {"const": "sick", "title": "病假"},
    ]
    # Camunda's dd/MM/yyyy default becomes the ISO date our date fields hold
    assert fill["properties"]["first_day"]["format"] == "date"
    assert fill["properties"]["first_day"]["default"] == "2027-03-01"
    assert fill["properties"]["reason"]["minLength"] == 2
    assert "applicant_copy" not in fill["properties"]  # readonly: the task may not write it
    assert fill["x-order"] == ["kind", "days", "first_day", "reason"]
    assert forms["camunda:formData/StartEvent_1"]["required"] == ["applicant"]

    # the start event's generated form checks the start data
    refused = interop.client.post(
        "/api/v1/cases",
        headers=interop.starter,
        json={"bundle": "leave_request", "data": {}},
    )
    assert "必填" in _refused_on(refused, "applicant")
    case = interop.start("leave_request", {"applicant": "张三"})

    task = _task(interop, case["id"], "Activity_fill")
    assert "必填" in _refused_on(interop.complete(task, {"kind": "annual"}), "days")
    task = _task(interop, case["id"], "Activity_fill")
    _refused_on(interop.complete(task, {"days": 45}), "days")  # max 30
    task = _task(interop, case["id"], "Activity_fill")
    _refused_on(interop.complete(task, {"days": 3, "kind": "unpaid"}), "kind")
    task = _task(interop, case["id"], "Activity_fill")
    _refused_on(interop.complete(task, {"days": 3, "first_day": "01/03/2027"}), "first_day")
    task = _task(interop, case["id"], "Activity_fill")
    _refused_on(interop.complete(task, {"days": 3, "applicant_copy": "李四"}), "applicant_copy")

    # the clerk's page shows the generated form in the XML's order (also on PostgreSQL, whose
    # JSONB keeps no key order) and takes its answer
    task = _task(interop, case["id"], "Activity_fill")
    interop.worker_of(task)
    client = _page_client(interop, "member_of_staff")
    html = client.get(f"/work/tasks/{task['id']}").get_data(as_text=True)
    form = html[html.index('id="task-form"') :]
    at = [form.index(f'name="{name}"') for name in ("kind", "days", "first_day", "reason")]
    assert at == sorted(at), at
    assert "年假" in html and 'type="date"' in html and 'value="2027-03-01"' in html
    assert 'name="applicant_copy"' not in html
    claimed = client.post(f"/work/tasks/{task['id']}/claim", data={"csrf_token": _csrf(html)})
    assert claimed.status_code == 302
    html = client.get(f"/work/tasks/{task['id']}").get_data(as_text=True)
    posted = client.post(
        f"/work/tasks/{task['id']}",
        data={"csrf_token": _csrf(html), "kind": "sick", "days": "3", "first_day": "2027-03-01"},
    )
    assert posted.status_code == 302, posted.get_data(as_text=True)
    assert interop.case(case["id"])["data"]["days"] == 3

    done = interop.run_to_end(interop.case(case["id"]), {"Activity_approve": {"approved": True}})
    assert done == ["Activity_approve"]
    data = interop.case(case["id"])["data"]
    assert data["days"] == 3 and data["approved"] is True and data["applicant"] == "张三"


def test_generated_form_problems_and_unsupported_form_keys(interop: Interop) -> None:
    messages = interop.refused("forms.bpmn", _read("camunda_unsupported_forms.bpmn"))
    text = "\n".join(messages)
    assert "'核对材料' 的表单: 此类表单 (embedded:app:forms/check.html) 不支持, " in text
    assert "请使用 JSON Schema 表单 (.json)" in text
    assert "此类表单 (camunda-forms:deployment:review.form) 不支持" in text
    assert "不存在" not in text
    assert "'登记' 的表单: 表单字段 id 'first-name' 不是有效的字段名" in text
    assert "表单字段 'photo' 的类型 'custom' 不支持" in text
    assert "表单字段 'age' 的校验 min 的 config 应为数字" in text
    assert "表单字段 'age' 的校验 'validator' 不支持" in text
    answer = interop.upload("forms.bpmn", _read("camunda_unsupported_forms.bpmn"))
    elements = {e["element"] for e in answer.get_json()["errors"]}
    assert {"Activity_embedded", "Activity_camunda_form", "Activity_generated"} <= elements


# ------------------------------------------------------------------ Flowable form properties


def test_flowable_form_properties_validate_and_run(interop: Interop) -> None:
    body = interop.accepted("expense.bpmn20.xml", _read("flowable_formproperty_expense.bpmn20.xml"))
    detail = interop.client.get(f"/api/v1/bundles/{body['key']}", headers=interop.admin)
    fill = detail.get_json()["forms"]["flowable:formProperty/fill"]
    assert fill["required"] == ["amount", "category"]
    assert fill["properties"]["amount"]["type"] == "number"
    assert fill["properties"]["category"]["default"] == "travel"
    assert fill["properties"]["spent_on"]["format"] == "date"
    assert "requestedBy" not in fill["properties"]  # writable="false"

    case = interop.start(body["key"])
    task = _task(interop, case["id"], "fill")
    assert "必填" in _refused_on(interop.complete(task, {"category": "travel"}), "amount")
    task = _task(interop, case["id"], "fill")
    _refused_on(interop.complete(task, {"amount": 20, "category": "food"}), "category")
    done = interop.run_to_end(
        interop.case(case["id"]),
        {
            "fill": {"amount": 1500.5, "category": "office", "spent_on": "2027-01-31"},
            "approve": {"approved": False},
        },
    )
    assert done == ["fill", "approve"]


# ------------------------------------------------------------------ SpiffArena


def _permit() -> dict[str, str]:
    return {
        "shop_permit/spiffarena_permit.bpmn": _read("spiffarena_permit.bpmn"),
        "shop_permit/permit-schema.json": _read("permit-schema.json"),
        "shop_permit/permit-uischema.json": _read("permit-uischema.json"),
    }


def test_spiffarena_schema_and_ui_schema_files(interop: Interop) -> None:
    body = interop.accepted("shop_permit.zip", _permit())
    detail = interop.client.get(f"/api/v1/bundles/{body['key']}", headers=interop.admin).get_json()
    form = detail["forms"]["permit-schema.json"]
    assert form["x-ui-schema"]["shop_name"] == {"ui:autofocus": True}  # stored as written
    assert form["x-order"] == ["shop_name", "business_scope", "employees"]  # ui:order, "*"
    scope = form["properties"]["business_scope"]
    assert scope["x-widget"] == "textarea"
    assert scope["description"] == "As written on the business licence"
    tasks = {t["element"]: t for t in detail["human_tasks"]}
    assert tasks["apply"]["form"] == "permit-schema.json"
    assert tasks["review"]["instructions"].startswith("## Visit {{ shop_name }}")

    case = interop.start(body["key"])
    task = _task(interop, case["id"], "apply")
    _refused_on(interop.complete(task, {"shop_name": "老王面馆", "employees": 0}), "employees")
    task = _task(interop, case["id"], "apply")
    assert "必填" in _refused_on(interop.complete(task, {"employees": 3}), "shop_name")
    done = interop.run_to_end(
        interop.case(case["id"]),
        {"apply": {"shop_name": "老王<b>面馆</b>", "employees": 12, "business_scope": "面食"}},
    )
    assert done == ["apply", "review"]


def test_spiffarena_missing_ui_schema_file_is_refused(interop: Interop) -> None:
    files = _permit()
    del files["shop_permit/permit-uischema.json"]
    messages = interop.refused("shop_permit.zip", files)
    assert any(
        "界面定义 (formUiSchemaFilename) 'permit-uischema.json' 不存在" in m for m in messages
    ), messages


def _instructions(html: str) -> str:
    found = re.search(
        r'<div class="instructions" id="task-instructions"[^>]*>(.*?)</div>', html, re.S
    )
    assert found, "the task page shows no instructions"
    return found.group(1)


def test_instructions_on_the_task_page_are_rendered_safely(interop: Interop) -> None:
    body = interop.accepted("shop_permit.zip", _permit())
    case = interop.start(body["key"])
    apply = _task(interop, case["id"], "apply")
    answer = interop.complete(apply, {"shop_name": "老王<b>面馆</b>", "employees": 12})
    assert answer.status_code == 200, answer.get_json()
    review = _task(interop, case["id"], "review")
    interop.worker_of(review)  # the reviewer exists
    client = _page_client(interop, "member_of_reviewers")
    page = client.get(f"/work/tasks/{review['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = _instructions(html)
    assert "<h2>Visit 老王&lt;b&gt;面馆&lt;/b&gt;</h2>" in shown  # markdown, value escaped
    assert "<strong>老王&lt;b&gt;面馆&lt;/b&gt;</strong>" in shown
    assert "room for 12 staff" in shown
    assert "{{ inspector_note }} stays as written" in shown  # no such field: left as text
    assert "{{ shop_name | upper }}" in shown and "{% if employees %}big{% endif %}" in shown
    # the <script> the designer wrote is text on the page, never an element
    assert "&lt;script&gt;" in shown and "<script" not in shown
    assert 'alert("instructions")' in unescape(shown)

    # the first task's instructions too, before any data; its form as the UI schema says
    html = _page_client(interop, "member_of_window").get(f"/work/tasks/{apply['id']}")
    html = html.get_data(as_text=True)
    assert "<strong>shop's name</strong>" in unescape(_instructions(html))
    form = html[html.index('id="task-form"') :]
    at = [form.index(f'name="{n}"') for n in ("shop_name", "business_scope", "employees")]
    assert at == sorted(at), at  # ui:order ["shop_name", "*"]
    assert '<textarea name="business_scope"' in form  # ui:widget textarea
    assert "As written on the business licence" in form  # ui:help
