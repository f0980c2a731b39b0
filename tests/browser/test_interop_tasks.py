"""Clerks work diagrams drawn in other modelers (issue 22) in the browser: a Camunda Modeler
"generated task form" (camunda:formData) shown as a form with its limits, and a SpiffArena task
with its JSON Schema, UI schema and instructions for the end user, rendered safely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.bundles.source import from_upload
from engine.services import Services, accounts, cases, publishing
from engine.services.accounts import set_password
from tests.interop.harness import zipped

from .conftest import PASSWORD, Pages

FILES = Path(__file__).parents[1] / "interop" / "files" / "forms"


def _clerk(svc: Services, name: str, group: str) -> Any:
    user, _ = accounts.create_user(svc, name, "clerk", [group])
    set_password(svc, name, PASSWORD)
    return user


def _open_task(pages: Pages, clerk: str, case_id: int) -> Any:
    page = pages.new(clerk)
    pages.goto(page, "/work/")
    row = page.locator(f"tr[data-case='{case_id}']")
    row.locator("button.claim").click()
    page.wait_for_load_state()
    with page.expect_navigation():
        page.locator(f"tr[data-case='{case_id}'] a.task-link").click()
    return page


def test_a_camunda_generated_form_is_a_form_with_its_limits(
    pages: Pages, live_services: Services
) -> None:
    svc = live_services
    publishing.deploy(
        svc, from_upload("leave.bpmn", (FILES / "camunda_formdata_leave.bpmn").read_bytes()), "d"
    )
    starter = _clerk(svc, "staff_clerk", "staff")
    _clerk(svc, "manager", "managers")
    case_id = cases.start_case(svc, starter, "leave_request", {"applicant": "张三"})["id"]

    page = _open_task(pages, "staff_clerk", case_id)
    labels = page.locator("#task-form label").all_inner_texts()
    assert any("天数" in label for label in labels) and any("开始日期" in x for x in labels)
    assert (
        page.locator("#task-form [name=applicant_copy]").count() == 0
    )  # readonly: not the clerk's to fill
    assert (
        page.locator("#task-form [name=days]").input_value() == "1"
    )  # the default Camunda gave it
    page.fill("#task-form [name=days]", "45")
    page.fill("#task-form [name=reason]", "家中有事")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    assert "30" in page.locator("[data-field=days] .field-error").inner_text()
    pages.shot(page, "interop-camunda-generated-form-invalid")
    page.fill("#task-form [name=days]", "3")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/work/")

    approve = _open_task(pages, "manager", case_id)
    assert approve.locator("#task-form [name=approved]").count() >= 1
    pages.shot(approve, "interop-camunda-generated-form-approve")


def test_a_spiffarena_task_shows_its_instructions_rendered_safely(
    pages: Pages, live_services: Services
) -> None:
    svc = live_services
    files = {
        f"shop_permit/{name}": (FILES / name).read_bytes()
        for name in ("spiffarena_permit.bpmn", "permit-schema.json", "permit-uischema.json")
    }
    deployed = publishing.deploy(svc, from_upload("shop_permit.zip", zipped(files)), "d")
    _clerk(svc, "permit_window", "window")  # the lanes' names are the groups
    _clerk(svc, "permit_inspector", "reviewers")
    starter, _ = accounts.create_user(svc, "permit_starter", "clerk", [])
    case_id = cases.start_case(svc, starter, deployed["key"], {})["id"]

    page = _open_task(pages, "permit_window", case_id)
    instructions = page.locator("#task-instructions")
    assert instructions.locator("strong").inner_text() == "shop's name"
    page.fill("#task-form [name=shop_name]", "老张面馆 <b>")
    page.fill("#task-form [name=employees]", "6")
    pages.shot(page, "interop-spiffarena-apply")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/work/")

    review = _open_task(pages, "permit_inspector", case_id)
    shown = review.locator("#task-instructions")
    assert shown.locator("h2").inner_text() == "Visit 老张面馆 <b>"  # the value, as text
    assert shown.locator("b").count() == 0 and shown.locator("script").count() == 0
    text = shown.inner_text()
    assert "{{ inspector_note }}" in text and "{% if employees %}" in text
    assert '<script>alert("instructions")</script>' in text
    pages.shot(review, "interop-spiffarena-instructions")
