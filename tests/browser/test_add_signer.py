"""并行加签 / 减签 in Chromium (issue 18 · 5): a fire officer signing a 会签 of fire and health adds
the environment department from the task page (the progress becomes 会签 (0/3)), then takes
health off; the environment officer signs, the 会签 ends and the case verifies."""

from __future__ import annotations

from typing import Any

from engine.services import Services, accounts, cases, queries
from engine.services.accounts import set_password
from engine.services.audit import replay
from tests.fixtures import multi_sign as bundles

from .conftest import PASSWORD, Pages


def test_a_signer_adds_a_department_and_takes_one_off(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    svc = live_services
    for name, group, shown in (
        ("fire", "fire_dept", "王强"),
        ("health", "health_dept", "李梅"),
        ("env", "env_dept", "赵磊"),
    ):
        accounts.create_user(svc, name, "clerk", [group], display_name=shown, department=group)
        set_password(svc, name, PASSWORD)
    bundles.deploy(svc, "joint")
    case = cases.start_case(
        svc,
        staff["front_desk"][0],
        "joint",
        {"shop_name": "好味餐厅", "departments": ["fire_dept", "health_dept"]},
    )
    mine = next(t["id"] for t in case["tasks"] if t["groups"] == ["fire_dept"])

    page = pages.new("fire")
    pages.goto(page, f"/work/tasks/{mine}")
    assert page.locator("#sign-progress").inner_text() == "会签 (0/2)"
    page.click("#parallel-signer summary")
    page.select_option("#parallel-to", "env_dept")
    page.fill("#parallel-reason", "涉及油烟排放, 请环保部门会签")
    pages.shot(page, "parallel-sign-form")
    with page.expect_navigation():
        page.click("#parallel-add-submit")
    assert page.locator("#sign-progress").inner_text() == "会签 (0/3)"
    page.click("#parallel-signer summary")
    removal = page.locator("form.parallel-remove", has=page.locator("[data-signer=health_dept]"))
    removal.locator("textarea").fill("经核实不涉及卫生许可")
    pages.shot(page, "parallel-sign-added")
    with page.expect_navigation():
        removal.locator("button").click()
    assert page.locator("#sign-progress").inner_text() == "会签 (0/2)"

    env_task = next(
        t["id"]
        for t in queries.get_case(svc, staff["auditor"][0], case["id"])["tasks"]
        if t["groups"] == ["env_dept"]
    )
    env = pages.new("env")
    pages.goto(env, f"/work/tasks/{env_task}")
    env.check("#task-form input[name=decision][value='approve']")
    with env.expect_navigation():
        env.click("#task-form button[type=submit]")
    page.check("#task-form input[name=decision][value='approve']")
    with page.expect_navigation():
        page.click("#task-form button[type=submit]")
    final = queries.get_case(svc, staff["auditor"][0], case["id"])
    assert final["data"]["sign_result"] == "approved"
    assert [t["element"] for t in final["tasks"]] == ["issue"]
    pages.goto(page, f"/cases/{case['id']}")
    timeline = page.locator("table.timeline").inner_text()
    assert "env_dept" in timeline and "health_dept" in timeline
    pages.shot(page, "parallel-sign-case")
    assert replay(svc, staff["auditor"][0], case["id"])["verified"]
