"""会签 in Chromium (issue 18 · 4): two food inspectors each get their own instance of the
会签 task, see its progress (会签 0/2, then 1/2) and sign with a decision and an opinion; the
case page then shows both signatures."""

from __future__ import annotations

import json
from typing import Any

from engine.services import Services, accounts, cases
from engine.services.accounts import set_password
from tests.fixtures import multi_sign as bundles

from .conftest import PASSWORD, Pages


def _sign(pages: Pages, page: Any, task_id: str, decision: str, opinion: str, shot: str) -> None:
    pages.goto(page, f"/work/tasks/{task_id}")
    page.check(f"#task-form input[name=decision][value='{decision}']")
    page.locator("#task-form [name=opinion]").first.fill(opinion)
    pages.shot(page, shot)
    with page.expect_navigation():
        page.click("#task-form button[type=submit]")


def test_two_signers_each_sign_their_own_instance(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    svc = live_services
    for name, shown in (("inspector_a", "陈静"), ("inspector_b", "刘洋")):
        accounts.create_user(
            svc, name, "clerk", ["food_safety"], display_name=shown, department="食品安全科"
        )
        set_password(svc, name, PASSWORD)
    bundles.deploy(
        svc,
        "inspect",
        collection="inspectors",
        item="inspector",
        assign="assignee",
        groups="food_safety",
        name="食品检查会签",
    )
    front = staff["front_desk"][0]
    case = cases.start_case(
        svc,
        front,
        "inspect",
        {"shop_name": "好味餐厅", "inspectors": ["inspector_a", "inspector_b"]},
    )
    mine = {t["assignee"]: t["id"] for t in case["tasks"]}

    a = pages.new("inspector_a")
    pages.goto(a, f"/work/tasks/{mine['inspector_a']}")
    assert a.locator("#sign-progress").inner_text() == "会签 (0/2)"
    assert a.locator("#task-form button[type=submit]").count() == 1
    # the other inspector's instance is not theirs to sign
    pages.goto(a, f"/work/tasks/{mine['inspector_b']}")
    assert a.locator("#task-form button[type=submit]").count() == 0
    pages.shot(a, "multi-sign-not-mine")

    _sign(pages, a, mine["inspector_a"], "approve", "后厨卫生合格", "multi-sign-first")
    assert a.locator(".flash").count() >= 1

    b = pages.new("inspector_b")
    pages.goto(b, f"/work/tasks/{mine['inspector_b']}")
    assert b.locator("#sign-progress").inner_text() == "会签 (1/2)"
    # the first signature is already in the record above the form
    assert "后厨卫生合格" in b.inner_text("body")
    pages.goto(b, f"/cases/{case['id']}")
    row = b.locator("table.tasks tr[data-element='sign']")
    assert "会签 (1/2)" in row.inner_text()
    pages.shot(b, "multi-sign-case-under-way")
    _sign(pages, b, mine["inspector_b"], "reject", "排烟设施不达标", "multi-sign-second")

    pages.goto(b, f"/cases/{case['id']}")
    body = b.inner_text("body")
    for text in ("陈静", "同意", "后厨卫生合格", "刘洋", "不同意", "排烟设施不达标"):
        assert text in body, text
    assert b.locator("#sign-progress, .sign-progress").count() == 0  # decided: no progress
    pages.shot(b, "multi-sign-case-decided")
    assert not pages.outside and not pages.script_errors


def test_the_designer_makes_a_task_a_huiqian(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    """The properties panel's 会签 / 或签 group writes the multi-instance XML the engine runs,
    with the collection declared so that saving keeps it."""
    from engine.bundles.compiler import FormLibrary, compile_bundle
    from engine.bundles.source import BundleSource
    from tests.browser.test_editor_panel import (
        CHECK_FORM,
        PANEL,
        READY,
        REVIEW_FORM,
        START_FORM,
        _deploy,
        _select,
    )
    from tests.conftest import FORMS

    _deploy(live_services)
    page = pages.new("designer")
    pages.goto(page, "/designer/bundles/pharmacy/1/edit")
    page.wait_for_selector(READY)
    _select(page, "cold_check")
    page.click(f"{PANEL} [data-group-id='group-lianban-sign'] .bio-properties-panel-group-header")
    kind = page.locator(f"{PANEL} select[name=lianban-sign-kind]")
    kind.wait_for()
    assert kind.input_value() == ""
    kind.select_option("veto")
    page.locator(f"{PANEL} input[name=lianban-sign-collection]").wait_for()
    page.fill(f"{PANEL} input[name=lianban-sign-collection]", "departments")
    page.wait_for_function(
        "() => LianbanDraft.modeler.get('elementRegistry').get('cold_check').businessObject"
        ".loopCharacteristics.loopDataInputRef.id === 'departments'"
    )
    page.locator(f"{PANEL} input[name=lianban-sign-sequential]").check()
    pages.shot(page, "multi-sign-designer", full_page=False)
    xml = page.evaluate("async () => (await LianbanDraft.modeler.saveXML()).xml")
    assert '<bpmn:dataObject id="departments"' in xml
    assert xml.count("<bpmn:dataObject") == 1  # the default name it started with is gone
    assert "<bpmn:loopDataInputRef>departments</bpmn:loopDataInputRef>" in xml
    assert 'isSequential="true"' in xml and "nr_of_rejections &gt; 0" in xml
    assert 'camunda:candidateGroups="${cold_check_signer}"' in xml
    # the engine accepts what the panel wrote
    files = {
        "pharmacy.bpmn": xml.encode(),
        "bundle.json": json.dumps({"key": "pharmacy", "name": "药店许可"}).encode(),
        **{
            f"forms/{name}.json": json.dumps(form, ensure_ascii=False).encode()
            for name, form in (
                ("start", START_FORM),
                ("review", REVIEW_FORM),
                ("check", CHECK_FORM),
            )
        },
    }
    compiled = compile_bundle(BundleSource("pharmacy", files), FormLibrary(FORMS))
    assert compiled.human_tasks["cold_check"].groups == ("${cold_check_signer}",)
    # back to a single task: the loop and the signer reference go
    kind.select_option("")
    page.wait_for_function(
        "() => !LianbanDraft.modeler.get('elementRegistry').get('cold_check').businessObject"
        ".loopCharacteristics"
    )
    xml = page.evaluate("async () => (await LianbanDraft.modeler.saveXML()).xml")
    assert "multiInstanceLoopCharacteristics" not in xml and "cold_check_signer" not in xml
    assert "dataObject" not in xml  # the collection it declared goes with it
    assert not pages.outside and not pages.script_errors
