"""What was applied for and what was decided before, on the task pages, the case page, the
auditor's history and the 办件档案 (issue 17 · A), through the test client on both databases."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from engine.services import Services, queries
from tests.e2e.test_pages_auditor import Centre
from tests.fixtures import restaurant as r

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40
PHOTO_URL = "data:image/png;name=site.png;base64," + base64.b64encode(PHOTO).decode()


@pytest.fixture
def centre(services: Services, users: dict[str, Any]) -> Centre:
    return Centre(services, users)


def _section(html: str, css_class: str) -> str:
    found = re.search(rf'<section class="card {css_class}".*?</section>', html, re.S)
    assert found, f"no {css_class} card"
    return found.group(0)


def _task_page(centre: Centre, case: dict[str, Any], element: str, who: str) -> str:
    task = next(t for t in case["tasks"] if t["element"] == element)
    centre.sign_in(who)
    response = centre.client.get(f"/work/tasks/{task['id']}")
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def _to_inspection(centre: Centre) -> dict[str, Any]:
    case = centre.start()
    path: list[tuple[str, dict[str, Any]]] = [
        ("intake", r.ACCEPT),
        ("review_licence", r.LICENCE_OK),
        ("review_food", r.FOOD_OK_INSPECT),
    ]
    for element, data in path:
        case = centre.do(case, element, data)
    return case


def test_the_inspector_sees_the_site_address_and_the_reviews(centre: Centre) -> None:
    case = _to_inspection(centre)
    html = _task_page(centre, case, "site_inspection", "inspector")
    application = _section(html, "record-application")
    assert "经营场所地址" in application and r.APPLICATION["shop_address"] in application
    assert "店铺名称(字号)" in application and "老张面馆" in application
    assert "经营场所面积(平方米)" in application and "85.5" in application
    steps = _section(html, "record-steps")
    assert "前序办理结果" in steps
    assert "食品经营许可审查" in steps and "需现场核查" in steps and "需要现场踏勘" in steps
    assert "accept" not in steps and "True" not in steps and "true" not in steps


def test_joint_issuance_shows_both_reviews_and_the_inspection(centre: Centre) -> None:
    case = _to_inspection(centre)
    case = centre.do(case, "site_inspection", {**r.INSPECTION_OK, "site_photo": PHOTO_URL})
    html = _task_page(centre, case, "joint_issuance", "issuer")
    steps = _section(html, "record-steps")
    licence = re.search(r'data-element="review_licence".*?</li>', steps, re.S)
    food = re.search(r'data-element="review_food".*?</li>', steps, re.S)
    inspection = re.search(r'data-element="site_inspection".*?</li>', steps, re.S)
    assert licence and food and inspection
    assert "准予登记" in licence.group(0) and "审查意见" in licence.group(0)
    assert "同意" in licence.group(0)
    assert "准予许可" in food.group(0) and "需现场核查" in food.group(0)
    assert "符合要求" in inspection.group(0) and "视频勘验" in inspection.group(0)
    assert "布局合理" in inspection.group(0)
    # who and when
    assert "market_reviewer" in licence.group(0) and "2026-03-02" in licence.group(0)
    # the photo is an attachment with a link that downloads its bytes
    link = re.search(r'href="(/cases/\d+/attachments/\d+/site_photo)"', html)
    assert link, "no link to the photo"
    download = centre.client.get(link.group(1))
    assert download.status_code == 200 and download.data == PHOTO
    assert download.mimetype == "image/png"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert PHOTO_URL not in html  # the bytes are not inlined in the page


def test_the_case_page_archive_and_history_show_decisions_in_words(centre: Centre) -> None:
    case = centre.start()
    path: list[tuple[str, dict[str, Any]]] = [
        ("intake", r.CORRECT),
        ("correction", r.CORRECTED),
        ("intake", r.ACCEPT),
        ("review_licence", r.LICENCE_OK),
        ("review_food", r.FOOD_OK),
        ("joint_issuance", r.ISSUANCE),
    ]
    for element, data in path:
        case = centre.do(case, element, data)
    centre.sign_in("front_desk")
    html = centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert r.APPLICATION["business_scope"] in _section(html, "record-application")
    steps = _section(html, "record-steps")
    assert "审批结果" in steps and "准予登记" in steps and "准予许可" in steps
    assert "经营场所使用证明(租赁合同或产权证明)" in steps and "premises_proof" not in steps
    assert "窗口领取" in steps and ">window<" not in steps
    # the timeline's completed steps carry their decision and opinion
    events = queries.events(centre.svc, centre.users["auditor"], case["id"])
    licence = next(e for e in events if e["element"] == "review_licence")
    row = re.search(
        rf'<tr class="ev-task_completed" data-seq="{licence["seq"]}".*?</tr>', html, re.S
    )
    assert row and "审查结论: 准予登记" in row.group(0) and "审查意见: 同意" in row.group(0)
    # a clerk cannot download from a case that has no such attachment
    assert centre.client.get(f"/cases/{case['id']}/attachments/1/site_photo").status_code == 404

    centre.sign_in("auditor")
    history = centre.client.get(f"/audit/cases/{case['id']}").get_data(as_text=True)
    assert "准予登记" in _section(history, "record-steps")
    step_data = re.search(r'<table class="list step-data".*?</table>', history, re.S)
    assert step_data
    table = step_data.group(0)
    assert "审查结论 · 营业执照审查" in table and "审查结论 · 食品经营许可审查" in table
    assert "受理决定" in table and ">受理<" in table
    assert "从业人员健康证明" in table and "health_certificates" not in table
    assert "窗口领取" in table and ">window<" not in table and ">true<" not in table

    archive = centre.client.get(f"/audit/cases/{case['id']}/archive").get_data(as_text=True)
    assert "申请信息" in archive and r.APPLICATION["shop_address"] in archive
    record = re.search(r'<table class="record-steps">.*?</table>', archive, re.S)
    assert record and "准予登记" in record.group(0) and "补正" in record.group(0)
    assert "已办结" in archive
    api = centre.client.get(
        f"/api/v1/cases/{case['id']}/export?format=html",
        headers={"Authorization": f"Bearer {_auditor_token(centre)}"},
    )
    assert api.status_code == 200 and "准予许可" in api.get_data(as_text=True)


def _auditor_token(centre: Centre) -> str:
    from engine.services import accounts

    return accounts.reissue_token(centre.svc, "auditor")


def test_the_csv_export_reads_in_words_beside_its_raw_columns(centre: Centre) -> None:
    import csv
    import io

    case = _to_inspection(centre)
    centre.sign_in("auditor")
    response = centre.client.get(f"/audit/cases/{case['id']}/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    assert header[:6] == ["序号", "时间", "事件", "办理人", "环节", "内容"]
    assert header[6:] == ["事件类型代码", "任务编号", "环节编号", "数据(JSON)", "哈希", "状态哈希"]
    by_type = {row[6]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    started = by_type["case_started"]
    assert started["事件"] == "收件"
    reviews = [
        dict(zip(header, row, strict=True)) for row in rows[1:] if row[6] == "task_completed"
    ]
    licence = next(row for row in reviews if row["环节编号"] == "review_licence")
    assert licence["环节"] == "营业执照审查"
    assert "准予登记" in licence["内容"] and "审查结论" in licence["内容"]
    assert "approved" not in licence["内容"]  # the words, not the stored code
