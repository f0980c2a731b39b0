"""Items that apply to some cases only and certificates per item, the pure parts: rule
`item-conditions` (fields an `applies_if` reads, `certificate_items` codes), bundle.json's
`applies_if` compiled with its schema, a case's limits from the items that apply, what
`certificate_items` says, and the 送达 limit only for an issue of them all."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.bpmn.xml import parse_xml
from engine.bundles.metadata import read_metadata
from engine.bundles.rules import Upload, item_conditions
from engine.domain.bundle_metadata import BundleMetadata, Item, item_codes
from engine.errors import Invalid
from engine.services.certificates import applies
from tests.fixtures import item_shop as s


def upload(metadata: dict[str, Any], **process_args: str) -> Upload:
    root = parse_xml(s.process(**process_args)).getroot()
    forms = {name: form for name, form in s.FORMS.items()}
    return Upload({"p.bpmn": root.getroottree()}, forms, {}, BundleMetadata.from_dict(metadata))


def messages(metadata: dict[str, Any], **process_args: str) -> list[str]:
    return [p.message for p in item_conditions.check(upload(metadata, **process_args))]


def test_the_purpose_made_bundle_passes() -> None:
    assert messages(s.METADATA) == []


def test_a_field_no_form_declares_is_refused_with_a_guess() -> None:
    found = list(item_conditions.check(upload(s.metadata_with(1, applies_if="food and x > 1"))))
    assert [(p.severity, p.file) for p in found] == [("error", "bundle.json")] * 2
    assert found[0].message == (
        "元数据字段 items/1/applies_if (事项 食品经营许可证) 读取的字段 `food` 没有任何表单、"
        "决策表或 bundle.json 声明, 办件数据里不会有它"
    )
    assert "`x`" in found[1].message


def test_applicant_fields_and_decision_outcomes_are_declared() -> None:
    assert messages(s.metadata_with(1, applies_if="applicant_name != '' and approved")) == []


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ("licence,food_permit", []),
        (" licence , ", []),
        ("filing", ["任务 登记发照 的属性 certificate_items 中的事项 'filing' 没有证照"]),
        ("tobaco", ["'tobaco' 不是 bundle.json 中任何事项的编码; 您是否想写 'tobacco'?"]),
        (" , ", ["应列出事项编码"]),
    ],
)
def test_certificate_items_name_items_with_certificates(codes: str, expected: list[str]) -> None:
    found = messages(s.METADATA, register_items=codes)
    assert len(found) == len(expected)
    for message, part in zip(found, expected, strict=True):
        assert part in message


def test_without_bundle_json_the_codes_are_not_checked() -> None:
    assert messages({}, register_items="anything") == []


def test_applies_if_is_compiled_with_bundle_json() -> None:
    metadata = s.metadata_with(2, applies_if="sells_tobacco ==")
    meta, problems = read_metadata({"bundle.json": json.dumps(metadata).encode()})
    assert meta == BundleMetadata()
    assert [p.message.split(": ")[0] for p in problems] == [
        "元数据字段 items/2/applies_if 的条件 `sells_tobacco ==` 无效"
    ]
    long = s.metadata_with(2, applies_if="x" * 2001, applies_when="y" * 201)
    _, problems = read_metadata({"bundle.json": json.dumps(long).encode()})
    assert sorted(p.message.split(" ")[1] for p in problems) == [
        "items/2/applies_if",
        "items/2/applies_when",
    ]


def test_the_items_read_from_bundle_json() -> None:
    meta = BundleMetadata.from_dict(s.METADATA)
    assert meta.conditional_items
    assert [(i.code, i.applies_if, i.applies_when) for i in meta.items] == [
        ("licence", None, ""),
        ("food_permit", "sells_food", "销售散装食品的"),
        ("tobacco", "sells_tobacco == True", "销售卷烟的"),
        ("filing", "not sells_food", ""),
    ]
    assert not BundleMetadata.from_dict({"items": [{"code": "a", "name": "A"}]}).conditional_items


def test_the_limit_is_the_longest_of_the_applying_items_unless_stated() -> None:
    meta = BundleMetadata.from_dict(s.METADATA)
    policy = meta.time_policy
    licence, food, tobacco, filing = meta.items
    assert (policy.limit, policy.statutory_limit) == (10, 20)  # every item
    assert policy.for_items((licence, filing)) == (1, 3)
    assert policy.for_items((licence, food)) == (5, 10)
    assert policy.for_items(()) == (None, None)
    stated = BundleMetadata.from_dict({**s.METADATA, "time_limits": {"promised_workdays": 2}})
    assert stated.time_policy.for_items((licence, tobacco)) == (2, 20)  # the stated one wins


def test_item_codes() -> None:
    assert item_codes("a, b,,c ") == ("a", "b", "c")
    assert item_codes(None) == () and item_codes(" ") == ()


def test_a_condition_reads_a_missing_field_as_null_and_names_the_item_when_it_fails() -> None:
    food = Item("food_permit", "食品经营许可证", applies_if="sells_food")
    assert applies(food, {"sells_food": True}) and not applies(food, {})
    assert applies(Item("a", "A"), {})  # no condition: always
    broken = Item("food_permit", "食品经营许可证", applies_if="shop_name > 3")
    with pytest.raises(Invalid) as caught:
        applies(broken, {"shop_name": "老张"})
    assert caught.value.errors[0]["message"].startswith(
        "事项 食品经营许可证 的适用条件 `shop_name > 3` 无法求值"
    )
