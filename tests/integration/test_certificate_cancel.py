"""注销 of a certificate another case issued (`cancels_certificate`, `cancels_kinds`): through
the API on SQLite and PostgreSQL with two small bundles, a shop issuing its licence
(tests/fixtures/item_shop.py) and a closing that names it (tests/fixtures/shop_closing.py). The
licence reads 已注销 with the day and the reason on the public check, the staff API and the
issuing case's page; every refusal (不存在, 已注销, 已撤销, 已过期, 种类不符, another holder) is a
422 naming the field with the case unchanged; renewal reminders stop; both replays verify."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.services import accounts
from tests.e2e.test_openapi import component, problems
from tests.fixtures import item_shop as s
from tests.fixtures import shop_closing as c
from tests.fixtures.pages import sign_in
from tests.interop.harness import Interop

LICENCE = "91330100MA0000001X"


@pytest.fixture
def pair(interop: Interop) -> Interop:
    for group in (*s.GROUPS, *c.GROUPS):
        interop.clerk(group=group)
    interop.accepted("item_shop.zip", s.files())
    interop.accepted("shop_closing.zip", c.files())
    return interop


def do(store: Interop, view: dict[str, Any], element: str, data: dict[str, Any]) -> dict[str, Any]:
    [task] = [t for t in view["tasks"] if t["element"] == element]
    answer = store.complete(task, data)
    assert answer.status_code == 200, answer.get_json()
    return store.case(view["id"])


def shop(store: Interop, number: str = LICENCE, **application: Any) -> dict[str, Any]:
    """A shop case that was issued its licence (at 登记发照) under `number`."""
    view = store.start("item_shop", {**s.APPLICATION, **application})
    return do(store, view, "register", {"licence_number": number})


def licensed(store: Interop, number: str = LICENCE) -> dict[str, Any]:
    """A shop case through 统一发证: its licence and its food permit (5 years) issued."""
    view = shop(store, number, sells_food=True)
    view = do(store, view, "review", {"approved": True})
    return do(store, view, "issuance", {"note": ""})


def closing(store: Interop, number: str | None = LICENCE, **changes: Any) -> dict[str, Any]:
    data = {"applicant_name": "张三", "shop_name": s.APPLICATION["shop_name"], **changes}
    if number is not None:
        data["licence_number"] = number
    return store.start("shop_closing", data)


def public(store: Interop, number: str) -> dict[str, Any]:
    answer = store.client.get(f"/api/v1/public/certificates/{number}")
    assert answer.status_code == 200, answer.get_json()
    found: dict[str, Any] = answer.get_json()
    assert problems(found, component("CertificateCheck")) == []
    return found


def events(store: Interop, case_id: int) -> list[dict[str, Any]]:
    answer = store.client.get(f"/api/v1/cases/{case_id}/events", headers=store.admin)
    assert answer.status_code == 200, answer.get_json()
    found: list[dict[str, Any]] = answer.get_json()["events"]
    for event in found:
        assert problems(event, component("Event")) == [], event
    return found


def replay_verifies(store: Interop, case_id: int) -> None:
    if "auditor" not in store.clerks:
        _, token = accounts.create_user(store.services, "cancel_auditor", "auditor", [])
        store.clerks["auditor"] = {"Authorization": f"Bearer {token}"}
    answer = store.client.get(f"/api/v1/cases/{case_id}/replay", headers=store.clerks["auditor"])
    assert answer.status_code == 200 and answer.get_json()["verified"] is True, answer.get_json()


def refused(store: Interop, view: dict[str, Any], data: dict[str, Any] | None = None) -> str:
    """The 注销登记 is refused with a 422 naming the field; the case is unchanged. The message."""
    before = events(store, view["id"])
    [task] = view["tasks"]
    answer = store.complete(task, data or {})
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert body["error"] == "不能注销证照"
    [error] = body["errors"]
    assert error["field"] == "licence_number"
    after = store.case(view["id"])
    assert after["status"] == "running" and [t["element"] for t in after["tasks"]] == ["close"]
    # the claim stands; the refused step left nothing in the record
    kept = [e["type"] for e in events(store, view["id"])]
    assert kept == [*(e["type"] for e in before), "task_claimed"]
    message: str = error["message"]
    return message


def page_text(store: Interop, path: str) -> str:
    html = store.client.get(path).get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_closing_cancels_the_licence_another_case_issued(pair: Interop) -> None:
    issuing = shop(pair)
    history = [(e["seq"], e["type"]) for e in events(pair, issuing["id"])]
    view = closing(pair)
    view = do(pair, view, "close", {"closing_reason": "经营者歇业"})
    assert view["status"] == "completed"
    today = pair.services.today().isoformat()
    reason = f"经营者歇业 (办件 {view['id']})"
    checked = public(pair, LICENCE)
    assert (checked["status"], checked["revoked_on"], checked["reason"]) == (
        "cancelled",
        today,
        reason,
    )
    staff = pair.client.get(f"/api/v1/certificates/{LICENCE}", headers=pair.admin).get_json()
    assert problems(staff, component("Certificate")) == []
    assert (staff["status"], staff["revoked_reason"]) == ("cancelled", reason)
    [cancelled] = [e for e in events(pair, view["id"]) if e["type"] == "certificate_cancelled"]
    assert cancelled["actor"] == "system" and cancelled["task"] is None
    assert cancelled["data"] == {
        "number": LICENCE,
        "kind": "licence",
        "title": "营业执照",
        "case_id": issuing["id"],
        "reason": reason,
    }
    # the issuing case's record is append-only and untouched; its certificate list tells
    assert [(e["seq"], e["type"]) for e in events(pair, issuing["id"])] == history
    [cert] = pair.case(issuing["id"])["certificates"]
    assert (cert["status"], cert["revoked_on"]) == ("cancelled", today)
    printed = pair.client.get(f"/api/v1/certificates/{LICENCE}/print", headers=pair.admin)
    assert printed.status_code == 200 and "已注销" in printed.get_data(as_text=True)
    pdf = pair.client.get(f"/api/v1/certificates/{LICENCE}/pdf", headers=pair.admin)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = page_text(pair, f"/verify/{LICENCE}")
    assert "营业执照: 已注销" in text and f"注销日期 {today}" in text and reason in text
    replay_verifies(pair, view["id"])
    replay_verifies(pair, issuing["id"])
    # the clerk's page of the issuing case: 已注销, when and by which case
    pair.clerk(user="page_reader")
    sign_in(pair.client, pair.services, "page_reader", "Kx7-window-pw-19")
    text = page_text(pair, f"/cases/{issuing['id']}")
    assert "已注销" in text and f"注销 {today} {reason}" in text
    # a cancelled licence is not renewed, nor cancelled twice
    renewal = pair.client.post(
        f"/api/v1/certificates/{LICENCE}/renew", headers=pair.clerk(group="market_regulation")
    )
    assert renewal.status_code == 409 and "已注销" in renewal.get_json()["error"]
    again = closing(pair)
    assert "(营业执照) 已注销 (" in refused(pair, again)


def test_the_default_reason_names_the_closing_case(pair: Interop) -> None:
    shop(pair)
    view = do(pair, closing(pair), "close", {})
    assert public(pair, LICENCE)["reason"] == f"注销登记 (办件 {view['id']})"


def test_an_unknown_number_or_another_holders_licence_is_refused(pair: Interop) -> None:
    shop(pair)
    assert "91330100MA0000009X 的证照不存在" in refused(pair, closing(pair, "91330100MA0000009X"))
    other = refused(pair, closing(pair, shop_name="老李小卖部"))
    assert "持有人 (老张小卖部 (张三)) 与申请不一致 (本办件为 老李小卖部)" in other
    assert public(pair, LICENCE)["status"] == "valid"
    # the holder is compared with spaces trimmed
    view = do(pair, closing(pair, shop_name=" 老张小卖部 "), "close", {})
    assert view["status"] == "completed" and public(pair, LICENCE)["status"] == "cancelled"


def test_another_kind_a_revoked_and_an_expired_certificate_are_refused(pair: Interop) -> None:
    view = shop(pair, sells_food=True, sells_tobacco=True)
    for step, data in (("review", {"approved": True}), ("issuance", {"note": ""})):
        view = do(pair, view, step, data)
    numbers = {cert["kind"]: cert["number"] for cert in view["certificates"]}
    kind = refused(pair, closing(pair, numbers["tobacco"]))
    assert (
        "是烟草专卖零售许可证 (种类 tobacco), 种类不符: 本环节只能注销 licence、food_permit" in kind
    )
    view = do(pair, view, "check", {"check_passed": False})
    view = do(pair, view, "revoke_food", {"revoke_reason": "未按要求设置"})
    assert "已撤销 (" in refused(pair, closing(pair, numbers["food_permit"]))
    other = licensed(pair, "91330100MA0000002X")
    permit = next(x["number"] for x in other["certificates"] if x["kind"] == "food_permit")
    pair.clock.advance(days=5 * 366)
    assert "已过期 (有效期至" in refused(pair, closing(pair, permit))


def test_renewal_reminders_stop_once_cancelled(pair: Interop) -> None:
    kept = licensed(pair, "91330100MA0000002X")
    gone = licensed(pair, "91330100MA0000003X")
    permit = next(x["number"] for x in gone["certificates"] if x["kind"] == "food_permit")
    do(pair, closing(pair, permit), "close", {})
    assert public(pair, permit)["status"] == "cancelled"
    pair.fire_timers(days=5 * 365 - 20)  # past the reminders before expiry
    reminded = {
        case["id"]: [e for e in events(pair, case["id"]) if e["type"] == "certificate_reminder"]
        for case in (kept, gone)
    }
    assert reminded[kept["id"]] and not reminded[gone["id"]]
    replay_verifies(pair, gone["id"])


def test_an_empty_field_cancels_nothing(pair: Interop) -> None:
    shop(pair)
    view = do(pair, closing(pair, None), "close", {})
    assert view["status"] == "completed"
    assert not [e for e in events(pair, view["id"]) if e["type"] == "certificate_cancelled"]
    assert public(pair, LICENCE)["status"] == "valid"


def test_the_upload_refuses_half_a_cancellation(interop: Interop) -> None:
    for group in c.GROUPS:
        interop.clerk(group=group)
    without_kinds = interop.refused("shop_closing.zip", c.files(kinds=None))
    assert any("需要同时设置 cancels_kinds" in m for m in without_kinds), without_kinds
    undeclared = interop.refused("shop_closing.zip", c.files(field="licence_numbr"))
    assert any("`licence_numbr` 没有任何表单声明" in m for m in undeclared), undeclared
