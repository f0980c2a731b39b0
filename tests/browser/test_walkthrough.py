"""The restaurant bundle from end to end, every step done in the browser by the user whose job it
is: the designer uploads the bundle, the front desk receives the application (一窗受理) and accepts
it, the market and food reviewers decide in parallel (并联审批), the inspector visits the site
(现场踏勘), the issuer issues both licences together (统一发证), and the auditor finds the case,
scrubs through its history with the step slider and verifies it. The applicant follows it with
the receipt code. Screenshots of every page go to test-output/screenshots/walk-*.png."""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from PIL import Image

from engine.services import Services, queries
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r

from .conftest import Pages


def _zip(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(folder).as_posix())
    return target


def _fill(page: Any, data: dict[str, Any]) -> None:
    """Fill a rendered form the way a clerk would, whatever widget each field became."""
    for name, value in data.items():
        field = page.locator(f"form.task-form [name={name}], form [name={name}]").first
        kind = field.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
        if kind == "input:checkbox" and isinstance(value, bool):
            field.set_checked(value)
        elif kind == "input:checkbox":  # several checkboxes: an array of choices
            for choice in value:
                page.check(f"input[name={name}][value='{choice}']")
        elif kind == "input:radio":
            wanted = str(value).lower() if isinstance(value, bool) else str(value)
            page.check(f"input[name={name}][value='{wanted}']")
        elif kind.startswith("select"):
            field.select_option(str(value).lower() if isinstance(value, bool) else str(value))
        else:
            field.fill(str(value))


def _work_on(
    pages: Pages,
    user: str,
    case_id: int,
    element: str,
    data: dict[str, Any],
    files: dict[str, Path] | None = None,
) -> Any:
    """Sign in as `user`, find the case's task in the worklist, claim it, do it (attaching
    `files`: field name -> file)."""
    page = pages.new(user)
    pages.goto(page, "/work/")
    row = page.locator(f"tr[data-case='{case_id}']")
    assert row.count() == 1, f"{user} does not see case {case_id} in the worklist"
    pages.shot(page, f"walk-{element}-worklist")
    if row.locator("button.claim").count():
        row.locator("button.claim").click()
        page.wait_for_load_state()
        row = page.locator(f"tr[data-case='{case_id}']")
    row.locator("a.task-link").click()
    page.wait_for_load_state()
    assert "/work/tasks/" in page.url
    _fill(page, data)
    for name, path in (files or {}).items():
        page.set_input_files(f"input[type=file][name={name}]", str(path))
    pages.shot(page, f"walk-{element}-task")
    page.click("button:has-text('提交办理')")
    page.wait_for_load_state()
    assert page.url == pages.live.url("/work/"), page.locator("main").inner_text()[:500]
    assert "已办理" in page.locator(".flash").first.inner_text()
    return page


def test_the_restaurant_bundle_from_upload_to_the_auditors_slider(
    pages: Pages, staff: dict[str, Any], live_services: Services, tmp_path: Path
) -> None:
    # 流程设计员: upload the bundle through the page
    designer = pages.new("designer")
    pages.goto(designer, "/designer/upload")
    designer.set_input_files(
        "input[name=file]", str(_zip(PROCESSES / "restaurant", tmp_path / "restaurant.zip"))
    )
    designer.click("button[type=submit].primary")
    designer.wait_for_load_state()
    assert designer.url == pages.live.url("/designer/bundles/restaurant/1")
    pages.wait_for_diagram(designer, "#version-diagram")
    pages.shot(designer, "walk-designer-version")
    # stored as a draft (the page's default): published after a look, so clerks can start it
    designer.check("form:has(button[data-action=publish]) input[name=confirm]")
    designer.click("button[data-action=publish]")
    designer.wait_for_load_state()
    assert "已发布第 1 版" in designer.locator(".flash").inner_text()

    # 一窗受理: the front desk receives the application and gives the applicant a receipt code
    desk = pages.new("front_desk")
    pages.goto(desk, "/work/start/restaurant")
    _fill(desk, r.APPLICATION)
    pages.shot(desk, "walk-start")
    desk.click("button:has-text('收件并生成办件')")
    desk.wait_for_load_state()
    code = desk.locator("#access-code").inner_text()
    case_id = int(desk.locator(".case-no").inner_text())
    pages.shot(desk, "walk-receipt")

    # 受理, then 并联审批 by two departments, 现场踏勘, 统一发证
    _work_on(pages, "front_desk", case_id, "intake", r.ACCEPT)
    _work_on(pages, "market_reviewer", case_id, "review_licence", r.LICENCE_OK)
    _work_on(pages, "food_reviewer", case_id, "review_food", r.FOOD_OK_INSPECT)
    photo = tmp_path / "现场.png"
    Image.new("RGB", (40, 30), (200, 30, 30)).save(photo)
    _work_on(pages, "inspector", case_id, "site_inspection", r.INSPECTION_OK, {"site_photo": photo})
    issuer = _work_on(pages, "issuer", case_id, "joint_issuance", r.ISSUANCE)

    # the case page: concluded, both certificates, the diagram marked to the end
    pages.goto(issuer, f"/cases/{case_id}")
    diagram = pages.wait_for_diagram(issuer, "#case-diagram")
    done = diagram.locator("g.djs-element.hl-done")
    done_ids = {done.nth(i).get_attribute("data-element-id") for i in range(done.count())}
    assert {"intake", "review_licence", "review_food", "site_inspection"} <= done_ids
    assert "joint_issuance" in done_ids
    main = issuer.locator("main").inner_text()
    assert r.ISSUANCE["licence_number"] in main and r.ISSUANCE["permit_number"] in main
    pages.shot(issuer, "walk-case-issued")
    # the inspector's photo is kept in the case data as a data URL, byte for byte
    stored = queries.get_case(live_services, staff["auditor"][0], case_id)["data"]["site_photo"]
    header, _, content = stored.partition(",")
    assert header == f"data:image/png;name={quote(photo.name, safe='')};base64"
    assert base64.b64decode(content) == photo.read_bytes()

    # 审计: search, open the history, move the slider, verify
    auditor = pages.new("auditor")
    auditor.fill("input[name=number]", str(case_id))
    auditor.click("form[role=search] button[type=submit]")
    auditor.wait_for_load_state()
    auditor.click(f'table.results a[href="/audit/cases/{case_id}"] >> nth=0')
    auditor.wait_for_load_state()
    history = pages.wait_for_diagram(auditor, "#history-diagram")
    slider = auditor.locator("#step-slider")
    last = int(slider.get_attribute("max") or 0)
    assert last >= 15  # received, claims and completions, 受理 and the clock, issuance, 办结

    def marked(cls: str) -> set[str]:
        found = history.locator(f"g.djs-element.{cls}")
        return {found.nth(i).get_attribute("data-element-id") for i in range(found.count())}

    final_done = marked("hl-done")
    # the photo shows as an attachment by name and size, not as its bytes
    auditor.wait_for_function(
        "() => document.querySelector('#step-data').textContent.includes('附件: 现场.png')"
    )
    assert "base64" not in auditor.locator("#step-data").inner_text()
    slider.fill("1")
    auditor.wait_for_function(
        "() => document.querySelector('#step-output').textContent.includes('第 1 /')"
    )
    auditor.wait_for_function(
        "() => document.querySelectorAll('#history-diagram g.hl-active').length === 1"
    )
    assert marked("hl-active") == {"intake"}
    assert marked("hl-done") < final_done
    pages.shot(auditor, "walk-auditor-step-1")
    auditor.click("#run-verify")
    auditor.wait_for_load_state()
    assert auditor.locator("#verdict").get_attribute("data-verified") == "true"
    pages.shot(auditor, "walk-auditor-verified")
    pages.goto(auditor, f"/audit/cases/{case_id}/archive")  # the printable 办件档案
    archive = auditor.locator("body").inner_text()
    assert "现场.png" in archive and "base64" not in archive  # the file by name, not its bytes

    # the applicant looks up the progress with the receipt code, no sign-in
    public = pages.new()
    pages.goto(public, "/progress")
    public.fill("input[name=number]", str(case_id))
    public.fill("input[name=code]", code)
    public.click("button[type=submit]")
    public.wait_for_load_state()
    assert "办结" in public.locator("main").inner_text()
    pages.shot(public, "walk-public-progress")
