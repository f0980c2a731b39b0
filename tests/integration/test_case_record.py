"""A case's record in words (`case_record.labelled_data`): the application, the attachments and
each completed step's decision and opinion, on SQLite and on PostgreSQL (issue 17 · A)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from engine.errors import Forbidden, NotFound
from engine.services import Services, accounts, case_record, cases
from tests.fixtures import restaurant as r

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PHOTO_URL = "data:image/png;name=%E7%8E%B0%E5%9C%BA.png;base64," + base64.b64encode(PHOTO).decode()


def _do(svc: Services, users: dict[str, Any], view: dict[str, Any], element: str, data: Any) -> Any:
    task = next(t for t in view["tasks"] if t["element"] == element)
    return cases.complete(svc, users[r.CLERK_OF[element]].user, task["id"], data)


def _inspected_case(services: Services, users: dict[str, Any]) -> dict[str, Any]:
    view = cases.start_case(services, users["front_desk"].user, "restaurant", r.APPLICATION)
    for element, data in [
        ("intake", r.CORRECT),
        ("correction", r.CORRECTED),
        ("intake", r.ACCEPT),
        ("review_licence", r.LICENCE_OK),
        ("review_food", r.FOOD_OK_INSPECT),
        ("site_inspection", {**r.INSPECTION_OK, "site_photo": PHOTO_URL}),
    ]:
        view = _do(services, users, view, element, data)
    return view


def test_the_record_speaks_the_forms_words(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    accounts.edit_user(services, "market_reviewer", display_name="王审查", department="市场监管局")
    view = _inspected_case(services, users)
    record = case_record.labelled_data(services, users["issuer"].user, view["id"])

    # the application in the start form's order, each field with its title
    fields = record["application"]["fields"]
    assert [f["name"] for f in fields] == list(r.APPLICATION)  # the form's order
    shown = {f["label"]: f["text"] for f in fields}
    assert shown["经营场所地址"] == r.APPLICATION["shop_address"]
    assert shown["经营场所面积(平方米)"] == "85.5"
    assert record["application"]["title"] == "开办餐馆申请表(一表申请)"

    steps = record["steps"]
    assert [s["task"] for s in steps] == [
        "一窗受理",
        "申请人补正",
        "一窗受理",
        "营业执照审查",
        "食品经营许可审查",
        "现场踏勘",
    ]
    first = steps[0]
    # enum titles, never the codes; materials by their names
    assert first["decision"]["label"] == "受理决定" and first["decision"]["text"] == "补正"
    missing = next(f for f in first["fields"] if f["name"] == "missing_materials")
    assert missing["entries"] == ["经营场所使用证明(租赁合同或产权证明)", "从业人员健康证明"]
    assert "premises_proof" not in missing["text"]
    assert steps[1]["fields"][0]["text"] == "经营场所使用证明(租赁合同或产权证明)、从业人员健康证明"
    assert steps[2]["decision"]["text"] == "受理" and steps[2]["opinion"]["text"] == "材料齐全"
    # who and when: the login name when the account has no display name, the local time
    assert first["who"] == "front_desk" and first["at"].startswith("20")

    # the two 审查结论 told apart by their task, booleans as their choices' titles
    licence, food, inspection = steps[3], steps[4], steps[5]
    assert licence["decision"]["text"] == "准予登记" and licence["opinion"]["text"] == "同意"
    assert licence["who"] == "王审查 (市场监管局)" and licence["actor"] == "market_reviewer"
    assert food["decision"]["text"] == "准予许可" and food["opinion"]["text"] == "需现场核查"
    assert {f["label"]: f["text"] for f in food["fields"]} == {"是否需要现场踏勘": "需要现场踏勘"}
    assert record["labels"]["licence_approved"] == "审查结论 · 营业执照审查"
    assert record["labels"]["food_approved"] == "审查结论 · 食品经营许可审查"
    assert record["labels"]["shop_address"] == "经营场所地址"
    assert inspection["decision"]["text"] == "符合要求"
    assert inspection["opinion"]["label"] == "勘验报告"
    method = next(f for f in inspection["fields"] if f["name"] == "inspection_method")
    assert method["text"] == "视频勘验"
    assert record["decisions"]["review_licence"] == "准予登记"

    # the photo: an attachment with its name and size, its bytes behind `attachment`
    [photo] = record["attachments"]
    assert photo["label"] == "现场照片" and photo["task"] == "现场踏勘"
    assert photo["name"] == "现场.png" and photo["size"] == len(PHOTO)
    kind, name, content = case_record.attachment(
        services, users["auditor"].user, view["id"], photo["seq"], photo["field"]
    )
    assert (kind, name, content) == ("image/png", "现场.png", PHOTO)
    with pytest.raises(NotFound):
        case_record.attachment(services, users["auditor"].user, view["id"], 1, "site_photo")

    # the step slider's value titles
    titles = record["value_titles"]
    assert titles["intake_decision"]['"correct"'] == "补正"
    assert titles["licence_approved"]["true"] == "准予登记"
    assert titles["*"]['"premises_proof"'] == "经营场所使用证明(租赁合同或产权证明)"


def test_booleans_without_choices_read_yes_or_no(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = cases.start_case(services, users["front_desk"].user, "restaurant", r.APPLICATION)
    view = _do(services, users, view, "intake", r.COMMITMENT)
    view = _do(services, users, view, "commitment_approval", r.COMMITMENT_APPROVED)
    record = case_record.labelled_data(services, users["auditor"].user, view["id"])
    approval = record["steps"][-1]
    assert approval["decision"] is None
    assert approval["opinion"]["text"] == r.COMMITMENT_APPROVED["approval_opinion"]
    signed = next(f for f in approval["fields"] if f["name"] == "commitment_signed")
    assert signed["label"] == "申请人已签署告知承诺书" and signed["text"] == "是"
    assert record["steps"][0]["decision"]["text"] == "告知承诺"


def test_only_staff_read_the_record(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = cases.start_case(services, users["front_desk"].user, "restaurant", r.APPLICATION)
    with pytest.raises(Forbidden):
        case_record.labelled_data(services, users["designer"].user, view["id"])
    with pytest.raises(NotFound):
        case_record.labelled_data(services, users["auditor"].user, view["id"] + 99)
