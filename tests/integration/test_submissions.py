"""A task writes only what its own form asks, within the server's limits (issue 14, section 1),
through the services on SQLite and PostgreSQL. Every refused submission changes nothing."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from engine.bundles.source import from_upload
from engine.errors import Invalid
from engine.forms import InputLimits
from engine.services import Services, accounts, cases, publishing, queries
from tests.fixtures import bpmn
from tests.fixtures.restaurant import (
    ACCEPT,
    APPLICATION,
    FOOD_OK,
    ISSUANCE,
    LICENCE_OK,
)
from tests.integration.test_cases import task_of


def snapshot(services: Services, users: dict[str, Any], case_id: int) -> Any:
    """Everything a refused step must leave as it was: the case (data, status, tasks, clock,
    certificates) and its events."""
    auditor = users["auditor"].user
    return queries.get_case(services, auditor, case_id), queries.events(services, auditor, case_id)


def refused(call: Any) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        call()
    return {str(e["field"]): str(e["message"]) for e in caught.value.errors}


def in_review(services: Services, users: dict[str, Any]) -> dict[str, Any]:
    view = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    return cases.complete(services, users["front_desk"].user, task_of(view, "intake")["id"], ACCEPT)


def test_a_reviewer_cannot_overrule_another_department(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = in_review(services, users)
    food = users["food_reviewer"].user
    view = cases.complete(
        services,
        food,
        task_of(view, "review_food")["id"],
        {"food_approved": False, "needs_inspection": False, "food_opinion": "经营场所不符合要求"},
    )
    before = snapshot(services, users, view["id"])
    market = users["market_reviewer"].user
    task = task_of(view, "review_licence")["id"]
    errors = refused(
        lambda: cases.complete(services, market, task, {**LICENCE_OK, "food_approved": True})
    )
    assert errors == {"food_approved": "本表单没有此字段, 不能填写"}
    assert snapshot(services, users, view["id"]) == before
    assert before[0]["data"]["food_approved"] is False


def test_the_issuer_cannot_rename_the_holder(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    view = in_review(services, users)
    view = cases.complete(
        services, users["market_reviewer"].user, task_of(view, "review_licence")["id"], LICENCE_OK
    )
    view = cases.complete(
        services, users["food_reviewer"].user, task_of(view, "review_food")["id"], FOOD_OK
    )
    before = snapshot(services, users, view["id"])
    forged = {
        **ISSUANCE,
        "applicant_name": "王五",
        "applicant_id_number": "91330102MA2H0XYZ9Q",
        "shop_name": "冒名餐馆",
    }
    issuer = users["issuer"].user
    task = task_of(view, "joint_issuance")["id"]
    errors = refused(lambda: cases.complete(services, issuer, task, forged))
    assert set(errors) == {"applicant_name", "applicant_id_number", "shop_name"}
    after = snapshot(services, users, view["id"])
    assert after == before and after[0]["certificates"] == []
    # the honest completion still works, and the certificates name the applicant
    done = cases.complete(services, issuer, task, ISSUANCE)
    assert all(APPLICATION["shop_name"] in c["holder"] for c in done["certificates"])
    assert done["data"]["applicant_name"] == APPLICATION["applicant_name"]


def test_the_start_form_writes_only_its_fields(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    clerk = users["front_desk"].user
    errors = refused(
        lambda: cases.start_case(
            services,
            clerk,
            "restaurant",
            {**APPLICATION, "intake_decision": "accept", "licence_approved": 1},
        )
    )
    assert errors == {
        "intake_decision": "本表单没有此字段, 不能填写",
        "licence_approved": "本表单没有此字段, 不能填写",
    }
    assert queries.worklist(services, clerk)["tasks"] == []


FORMS = {
    "application.json": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 50},
            "address": {"type": "string"},
            "photo": {"type": "string", "format": "data-url"},
            "notes": {"type": "string", "maxLength": 20000},
        },
        "additionalProperties": True,
    },
    "correction.json": {
        "type": "object",
        "properties": {"address": {"type": "string"}, "note": {"type": "string"}},
        "additionalProperties": True,
    },
}


def two_steps(services: Services, limits: InputLimits | None = None) -> Services:
    """start (application form) -> 补正 (correction form: may rewrite `address`) -> a task
    without a form -> end."""
    body = """
  <bpmn:startEvent id="start" camunda:formKey="application.json" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="correction" />
  <bpmn:userTask id="correction" name="补正" camunda:candidateGroups="front_desk"
      camunda:formKey="correction.json" />
  <bpmn:sequenceFlow id="f2" sourceRef="correction" targetRef="free" />
  <bpmn:userTask id="free" name="无表单任务" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f3" sourceRef="free" targetRef="end" />
  <bpmn:endEvent id="end" />"""
    files = {"two.bpmn": bpmn.document(body, "two"), **FORMS}
    publishing.deploy(services, from_upload("two.zip", bpmn.zipped(files)), "test")
    if limits is not None:
        services.limits = limits
    return services


def test_a_correction_form_rewrites_the_application_fields_it_declares(
    services: Services, users: dict[str, Any]
) -> None:
    two_steps(services)
    clerk = users["front_desk"].user
    view = cases.start_case(services, clerk, "two", {"name": "甲", "address": "旧址"})
    task = task_of(view, "correction")["id"]
    assert refused(lambda: cases.complete(services, clerk, task, {"name": "乙"})) == {
        "name": "本表单没有此字段, 不能填写"
    }
    view = cases.complete(services, clerk, task, {"address": "新址"})
    assert view["data"]["address"] == "新址" and view["data"]["name"] == "甲"


def test_a_task_without_a_form_writes_only_fields_no_form_owns(
    services: Services, users: dict[str, Any]
) -> None:
    two_steps(services)
    clerk = users["front_desk"].user
    view = cases.start_case(services, clerk, "two", {"name": "甲"})
    view = cases.complete(services, clerk, task_of(view, "correction")["id"], {})
    before = snapshot(services, users, view["id"])
    task = task_of(view, "free")["id"]
    errors = refused(lambda: cases.complete(services, clerk, task, {"name": "乙", "note": "x"}))
    assert errors == {
        "name": "此字段由表单 application.json 填写, 本任务不能填写",
        "note": "此字段由表单 correction.json 填写, 本任务不能填写",
    }
    assert snapshot(services, users, view["id"]) == before
    view = cases.complete(services, clerk, task, {"remark": "无表单任务的记录"})
    assert view["status"] == "completed" and view["data"]["remark"] == "无表单任务的记录"


def data_url(size: int) -> str:
    return "data:image/png;name=a.png;base64," + base64.b64encode(b"\x89" * size).decode()


def test_values_are_bounded_whatever_the_form_allows(
    services: Services, users: dict[str, Any]
) -> None:
    limits = InputLimits(string_length=100, attachment_bytes=1000, case_data_bytes=700)
    two_steps(services, limits)
    clerk = users["front_desk"].user
    start = {
        "name": "甲",
        "address": "x" * 101,  # no maxLength in the form: the server's default holds
        "notes": "y" * 500,  # the form's own maxLength (20000) is over the default: it holds
        "photo": data_url(1001),
    }
    errors = refused(lambda: cases.start_case(services, clerk, "two", start))
    assert errors == {"address": "长度不能超过 100 个字符", "photo": "文件不能超过 1000 字节"}
    for bad, message in [
        (float("nan"), "应为有限的数字"),
        (float("inf"), "应为有限的数字"),
        (2**64, "数字超出范围"),
        ("\ud800", "包含无效的字符 (孤立的代理项)"),
        ("a\x00b", "不能包含空字符 (NUL)"),
    ]:
        found = refused(
            lambda bad=bad: cases.start_case(services, clerk, "two", {"name": "甲", "address": bad})
        )
        assert found == {"address": message}
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    found = refused(
        lambda: cases.start_case(services, clerk, "two", {"name": "甲", "address": deep})
    )
    assert "嵌套层数不能超过 32" in found.values()
    assert refused(
        lambda: cases.start_case(services, clerk, "two", {"name": "甲", "photo": "abc%"})
    ) == {"photo": "附件格式不正确 (应为 data URL 或 base64)"}
    # within every limit, the attachment is not counted in the case data's total
    view = cases.start_case(
        services, clerk, "two", {**start, "address": "x" * 100, "photo": data_url(1000)}
    )
    assert view["data"]["photo"].startswith("data:image/png")
    # the total: each value fits, the case data as a whole does not
    task = task_of(view, "correction")["id"]
    before = snapshot(services, users, view["id"])
    errors = refused(
        lambda: cases.complete(services, clerk, task, {"address": "z" * 100, "note": "n" * 100})
    )
    assert list(errors) == ["(表单)"] and "办件数据总量超过上限" in errors["(表单)"]
    assert snapshot(services, users, view["id"]) == before


def test_engine_tasks_take_bounded_values_only(
    services: Services, users: dict[str, Any], restaurant: Any
) -> None:
    """督办/整改/回访 tasks are not steps of the diagram; what is submitted is kept in the event
    only, and must be within the limits too (整改 and 回访 have their own forms:
    follow_ups.engine_form)."""
    from engine.services.follow_ups import rate

    view = cases.start_case(services, users["front_desk"].user, "restaurant", APPLICATION)
    view = cases.complete(
        services,
        users["front_desk"].user,
        task_of(view, "intake")["id"],
        {"intake_decision": "refuse", "intake_opinion": "不予受理"},
    )
    assert view["status"] == "completed"
    rate(services, view["id"], 1, "很差", user=users["front_desk"].user)
    task = next(
        t
        for t in queries.get_case(services, users["auditor"].user, view["id"])["tasks"]
        if t["kind"] == "rectification"
    )
    services.limits = InputLimits(string_length=10)
    before = snapshot(services, users, view["id"])
    supervisor, _ = accounts.create_user(services, "boss", "clerk", ["supervisors"])
    assert refused(
        lambda: cases.complete(
            services, supervisor, task["id"], {"measures": "长" * 2001, "result": "已整改"}
        )
    ) == {"measures": "长度不能超过 2000 个字符"}
    assert refused(  # a field the form does not declare is refused by name
        lambda: cases.complete(services, supervisor, task["id"], {"opinion": "长" * 11})
    ) == {
        "opinion": "本表单没有此字段, 不能填写",
        "measures": "必填",
        "result": "必填",
    }
    assert snapshot(services, users, view["id"]) == before
