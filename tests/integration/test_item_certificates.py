"""Items that apply to some cases only (`items[].applies_if`), certificates issued and revoked
per item (`certificate_items`), partial results, and the case's limit from the items applied
for: through the API on SQLite and PostgreSQL, with the small bundle of
tests/fixtures/item_shop.py; each certificate checked on the public check, each replay verified."""

from __future__ import annotations

from typing import Any

import pytest

from engine.services import accounts
from tests.fixtures import item_shop as s
from tests.interop.harness import Interop


@pytest.fixture
def shop(interop: Interop) -> Interop:
    for group in s.GROUPS:
        interop.clerk(group=group)
    interop.accepted("item_shop.zip", s.files())
    return interop


def do(shop: Interop, view: dict[str, Any], element: str, data: dict[str, Any]) -> dict[str, Any]:
    [task] = [t for t in view["tasks"] if t["element"] == element]
    answer = shop.complete(task, data)
    assert answer.status_code == 200, answer.get_json()
    return shop.case(view["id"])


def held(shop: Interop, view: dict[str, Any]) -> dict[str, str]:
    """kind -> status of every certificate of the case, as the public check says it."""
    found = {}
    for cert in view["certificates"]:
        public = shop.client.get(f"/api/v1/public/certificates/{cert['number']}")
        assert public.status_code == 200
        assert public.get_json()["status"] == cert["status"]
        found[cert["kind"]] = cert["status"]
    return found


def replay_verifies(shop: Interop, case_id: int) -> None:
    if "auditor" not in shop.clerks:
        _, token = accounts.create_user(shop.services, "item_auditor", "auditor", [])
        shop.clerks["auditor"] = {"Authorization": f"Bearer {token}"}
    answer = shop.client.get(f"/api/v1/cases/{case_id}/replay", headers=shop.clerks["auditor"])
    assert answer.status_code == 200 and answer.get_json()["verified"] is True, answer.get_json()


def limits(view: dict[str, Any]) -> tuple[int | None, int | None]:
    return view["time_limit"]["limit"], view["time_limit"]["statutory_limit"]


def test_each_task_issues_its_items_and_a_failed_check_revokes_one(shop: Interop) -> None:
    view = shop.start("item_shop", {**s.APPLICATION, "sells_food": True})
    assert limits(view) == (5, 10)  # 营业执照 and 食品经营许可, not the tobacco licence
    [register] = view["tasks"]
    assert register["deadline"] is None  # one item's issue has no 送达 limit (Art. 44)
    view = do(shop, view, "register", {"licence_number": "91330100MA0000001X"})
    assert held(shop, view) == {"licence": "valid"}  # issued at registration, days before the rest
    assert view["clock"] == "running"  # one item's issue is not 统一发证
    view = do(shop, view, "review", {"approved": True})
    [issuance] = view["tasks"]
    assert issuance["element"] == "issuance" and issuance["deadline"] is not None  # Art. 44
    view = do(shop, view, "issuance", {"note": ""})
    # only what applies and was not issued yet: the food permit; no second licence, no tobacco
    assert held(shop, view) == {"licence": "valid", "food_permit": "valid"}
    assert view["clock"] == "stopped"
    numbers = {c["kind"]: c["number"] for c in view["certificates"]}
    assert numbers["licence"] == "91330100MA0000001X"
    assert numbers["food_permit"].endswith("02")  # its place among the bundle's certificates
    view = do(shop, view, "check", {"check_passed": False})
    view = do(shop, view, "revoke_food", {"revoke_reason": "散装食品区未按要求设置"})
    assert view["outcome"]["element"] == "revoked"
    assert held(shop, view) == {"licence": "valid", "food_permit": "revoked"}
    revoked = next(c for c in view["certificates"] if c["kind"] == "food_permit")
    assert revoked["revoked_reason"] == "散装食品区未按要求设置"
    replay_verifies(shop, view["id"])


def test_a_shop_selling_nothing_regulated_gets_its_licence_only(shop: Interop) -> None:
    view = shop.start("item_shop", dict(s.APPLICATION))  # sells_food, sells_tobacco left out
    assert limits(view) == (1, 3)  # the licence and the filing apply
    view = do(shop, view, "register", {"licence_number": "91330100MA0000002X"})
    view = do(shop, view, "review", {"approved": True})
    view = do(shop, view, "issuance", {"note": ""})
    assert held(shop, view) == {"licence": "valid"}
    view = do(shop, view, "check", {"check_passed": True})
    assert view["status"] == "completed" and view["outcome"]["element"] == "done"
    replay_verifies(shop, view["id"])


def test_every_item_applying_gives_the_longest_limit_and_all_certificates(shop: Interop) -> None:
    view = shop.start("item_shop", {**s.APPLICATION, "sells_food": True, "sells_tobacco": True})
    assert limits(view) == (10, 20)
    for element, data in [
        ("register", {"licence_number": "91330100MA0000003X"}),
        ("review", {"approved": True}),
        ("issuance", {"note": ""}),
    ]:
        view = do(shop, view, element, data)
    assert held(shop, view) == {"licence": "valid", "food_permit": "valid", "tobacco": "valid"}
    replay_verifies(shop, view["id"])


def test_a_denied_case_keeps_what_it_was_issued(shop: Interop) -> None:
    view = shop.start("item_shop", {**s.APPLICATION, "sells_tobacco": True})
    assert limits(view) == (10, 20)
    view = do(shop, view, "register", {"licence_number": "91330100MA0000004X"})
    view = do(shop, view, "review", {"approved": False})
    assert view["outcome"]["element"] == "denied"
    # partial result: the licence issued at registration stays valid, on the public check too
    assert held(shop, view) == {"licence": "valid"}
    page = shop.client.get(f"/verify/{view['certificates'][0]['number']}")
    assert page.status_code == 200 and "有效" in page.get_data(as_text=True)
    replay_verifies(shop, view["id"])


def test_the_data_at_issuance_decides(shop: Interop) -> None:
    """An item is judged on the case data when its certificates are issued (the reviewer took
    the bulk food out of the scope), its limit on the data when the clock started."""
    view = shop.start("item_shop", {**s.APPLICATION, "sells_food": True})
    view = do(shop, view, "register", {"licence_number": "91330100MA0000005X"})
    view = do(shop, view, "review", {"approved": True, "sells_food": False})
    view = do(shop, view, "issuance", {"note": ""})
    assert held(shop, view) == {"licence": "valid"}
    assert limits(view) == (5, 10)
    # nothing new to issue: no empty issuance in the record (a 退回 may still pass the step)
    answer = shop.client.get(f"/api/v1/cases/{view['id']}/events", headers=shop.admin)
    issued = [e for e in answer.get_json()["events"] if e["type"] == "certificates_issued"]
    assert [[c["kind"] for c in e["data"]["certificates"]] for e in issued] == [["licence"]]
    assert view["clock"] == "stopped"  # 统一发证 all the same: the case's limit ends there


# upload checks


def refused(shop: Interop, **kwargs: Any) -> list[str]:
    return shop.refused("item_shop.zip", s.files(**kwargs))


def test_a_condition_that_does_not_compile_is_refused(shop: Interop) -> None:
    [message] = refused(shop, metadata=s.metadata_with(1, applies_if="sells_food ==="))
    assert message.startswith("元数据字段 items/1/applies_if 的条件 `sells_food ===` 无效")


def test_a_condition_reading_a_field_nothing_declares_is_refused(shop: Interop) -> None:
    [message] = refused(shop, metadata=s.metadata_with(2, applies_if="sells_tobaco == True"))
    assert "items/2/applies_if" in message and "`sells_tobaco`" in message
    assert "您是否想写 `sells_tobacco`" in message


def test_certificate_items_must_name_items_with_certificates(shop: Interop) -> None:
    messages = refused(shop, register_items="licence, filing, licenc")
    assert messages == [
        "任务 登记发照 的属性 certificate_items 中的事项 'filing' 没有证照 (items[].certificate)",
        "任务 登记发照 的属性 certificate_items 中的 'licenc' 不是 bundle.json 中任何事项的编码"
        "; 您是否想写 'licence'?",
    ]


def test_certificate_items_needs_a_certificate_action(shop: Interop) -> None:
    files = s.files()
    text = files["item_shop.bpmn"]
    assert isinstance(text, bytes)
    files["item_shop.bpmn"] = text.replace(
        b'<camunda:property name="certificate_action" value="revoke" />', b""
    )
    messages = shop.refused("item_shop.zip", files)
    assert messages == [
        "任务 撤销食品经营许可 的属性 certificate_items 只能用在有 certificate_action "
        "(issue 发证或 revoke 撤销) 的任务上"
    ]
