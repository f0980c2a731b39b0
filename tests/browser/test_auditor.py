"""The auditor's pages in the browser: find an issued restaurant case, step through its history
with the slider (mouse and keyboard), verify it by replay."""

from __future__ import annotations

from typing import Any

from engine.services import Services, queries

from .conftest import Pages
from .test_cases import ISSUED, drive


def _marked(page: Any, cls: str) -> set[str]:
    """The ids of the diagram elements carrying a highlight class."""
    ids = page.eval_on_selector_all(
        f"#history-diagram .{cls}[data-element-id]",
        "nodes => nodes.map(n => n.getAttribute('data-element-id'))",
    )
    return set(ids)


def _at_step(page: Any, seq: int) -> None:
    page.wait_for_function(
        "s => { const h = document.getElementById('history');"
        " return h.dataset.step === String(s) && !h.dataset.loading; }",
        arg=seq,
    )


def test_the_auditor_finds_a_case_and_steps_through_its_history(
    pages: Pages, staff: dict[str, Any], live_services: Services
) -> None:
    case = drive(live_services, staff, ISSUED)
    other = drive(live_services, staff, [], applicant_name="李四")
    steps = len(queries.events(live_services, staff["auditor"][0], case["id"]))
    page = pages.new("auditor")
    assert page.url == pages.live.url("/audit/")
    page.fill("input[name=applicant]", "张三")
    page.select_option("select[name=status]", "completed")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("table.results tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-case") == str(case["id"])
    assert str(other["id"]) not in [
        rows.nth(i).get_attribute("data-case") for i in range(rows.count())
    ]
    assert "已办结" in rows.first.inner_text()
    pages.shot(page, "auditor-search")

    page.click(f'table.results a[href="/audit/cases/{case["id"]}"] >> nth=0')
    page.wait_for_load_state()
    pages.wait_for_diagram(page, "#history-diagram")
    slider = page.locator("#step-slider")
    assert slider.get_attribute("max") == str(steps) and slider.input_value() == str(steps)
    last_done = _marked(page, "hl-done")
    assert "concluded" in last_done and "joint_issuance" in last_done
    assert _marked(page, "hl-active") == set()

    slider.fill("1")  # step 1: the case has just been received
    _at_step(page, 1)
    first_done, first_active = _marked(page, "hl-done"), _marked(page, "hl-active")
    assert first_active == {"intake"}
    assert "concluded" not in first_done and "intake" not in first_done
    assert first_done < last_done
    assert "收件" in page.locator("#step-event").inner_text()
    changed = page.locator("#step-data tr.changed")
    assert changed.count() >= 7  # every field of the application is new
    pages.shot(page, "auditor-history-step-1")

    slider.focus()
    page.keyboard.press("End")  # the keyboard works on the slider
    _at_step(page, steps)
    assert _marked(page, "hl-done") == last_done
    assert "办结" in page.locator("#step-event").inner_text()
    page.keyboard.press("ArrowLeft")
    _at_step(page, steps - 1)
    assert page.locator("#step-output").inner_text() == f"第 {steps - 1} / {steps} 步"
    assert page.locator("table.events tr.current").get_attribute("data-seq") == str(steps - 1)

    # a row of the event table jumps there: the 受理 (intake accepted) step
    accepted = (
        next(
            e["seq"]
            for e in queries.events(live_services, staff["auditor"][0], case["id"])
            if e["type"] == "clock_started"
        )
        - 1
    )
    page.click(f'table.events tr[data-seq="{accepted}"]')
    _at_step(page, accepted)
    assert {"review_licence", "review_food"} <= _marked(page, "hl-active")
    assert [
        page.locator("#step-data tr.changed").nth(i).get_attribute("data-field")
        for i in range(page.locator("#step-data tr.changed").count())
    ] == ["intake_decision", "intake_opinion"]
    pages.shot(page, "auditor-history-accepted")

    page.click("#run-verify")
    page.wait_for_load_state()
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-verified") == "true"
    assert verdict.inner_text() == (
        f"核验通过: 哈希链完整, 重新执行全部 {steps} 步, 每一步的状态都与记录一致"
    )
    pages.wait_for_diagram(page, "#history-diagram")
    pages.shot(page, "auditor-history-verified")

    with page.expect_popup() as popup:
        page.click("text=办件档案 (打印)")
    archive = popup.value
    archive.wait_for_load_state()
    assert "办件档案" in archive.locator("h1").inner_text()
    pages.shot(archive, "auditor-archive")
