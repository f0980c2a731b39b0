"""Materials asked of some cases only and each certificate's issuer, the pure parts: bundle.json's
`materials[].applies_if` / `item` / `applies_when` and `items[].certificate.issuer` /
`issuer_field` checked with the schema and by rule `item-conditions`, whether a material applies
to a case, the case's checklist without the others, and who a certificate names as issuer."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from engine.bpmn.xml import parse_xml
from engine.bundles.metadata import read_metadata
from engine.bundles.rules import Upload, item_conditions
from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.certificates import CertificateSpec
from engine.services.certificates import material_applies
from engine.services.intake import applying, material_states, not_needed
from tests.fixtures import item_shop as s

MATERIALS: list[dict[str, Any]] = [
    {"code": "form", "name": "申请表"},
    {"code": "food_rules", "name": "食品安全管理制度", "item": "food_permit"},
    {
        "code": "tobacco_form",
        "name": "烟草专卖零售许可证申请表",
        "applies_if": "sells_tobacco == True",
        "applies_when": "销售卷烟的",
        "deferrable": True,
    },
    {"code": "licence_copy", "name": "营业执照复印件", "item": "licence"},  # always applies
]


def shop(materials: list[dict[str, Any]] | None = None, **issuer: Any) -> dict[str, Any]:
    metadata = copy.deepcopy(s.METADATA)
    metadata["materials"] = copy.deepcopy(MATERIALS if materials is None else materials)
    metadata["items"][2]["certificate"].update(issuer)
    return metadata


def meta_of(metadata: dict[str, Any]) -> BundleMetadata:
    return BundleMetadata.from_dict(metadata)


def messages(metadata: dict[str, Any]) -> list[str]:
    root = parse_xml(s.process()).getroot()
    upload = Upload({"p.bpmn": root.getroottree()}, dict(s.FORMS), {}, meta_of(metadata))
    return [p.message for p in item_conditions.check(upload)]


def read(metadata: dict[str, Any]) -> list[str]:
    _, problems = read_metadata({"bundle.json": json.dumps(metadata).encode()})
    return [p.message for p in problems]


def test_the_conditions_and_issuers_pass_both_checks() -> None:
    metadata = shop(issuer="示范区烟草专卖局", issuer_field="shop_name")
    assert read(metadata) == [] and messages(metadata) == []


def test_a_material_condition_is_compiled_with_bundle_json() -> None:
    bad = shop([{"code": "x", "name": "X", "applies_if": "sells_tobacco =="}])
    assert [m.split(": ")[0] for m in read(bad)] == [
        "元数据字段 materials/0/applies_if 的条件 `sells_tobacco ==` 无效"
    ]
    long = shop(
        [{"code": "x", "name": "X", "applies_if": "", "item": "", "applies_when": "y" * 201}]
    )
    assert sorted(m.split(" ")[1] for m in read(long)) == [
        "materials/0/applies_if",
        "materials/0/applies_when",
        "materials/0/item",
    ]


@pytest.mark.parametrize(
    ("issuer", "where"),
    [
        ({"issuer": ""}, "items/2/certificate/issuer"),
        ({"issuer": "局" * 201}, "items/2/certificate/issuer"),
        ({"issuer_field": 3}, "items/2/certificate/issuer_field"),
    ],
)
def test_a_certificate_issuer_is_checked_by_the_schema(issuer: dict[str, Any], where: str) -> None:
    assert [m.split(" ")[1] for m in read(shop(**issuer))] == [where]


def test_the_rule_names_an_unknown_item_both_keys_and_undeclared_fields() -> None:
    found = messages(
        shop(
            [
                {"code": "a", "name": "甲", "item": "tobaco"},
                {"code": "b", "name": "乙", "item": "tobacco", "applies_if": "sells_food"},
                {"code": "c", "name": "丙", "applies_if": "sells_tobaco == True"},
            ],
            issuer_field="shop_nme",
        )
    )
    assert found == [
        "元数据字段 materials/0/item (材料 甲) 中的 'tobaco' 不是 bundle.json 中任何事项的编码; "
        "您是否想写 'tobacco'?",
        "元数据字段 materials/1 (材料 乙) 的 applies_if 和 item 只能写一个: "
        "item 表示该事项适用时才需要这份材料",
        "元数据字段 materials/2/applies_if (材料 丙) 读取的字段 `sells_tobaco` 没有任何表单、"
        "决策表或 bundle.json 声明, 办件数据里不会有它; 您是否想写 `sells_tobacco`?",
        "元数据字段 items/2/certificate/issuer_field (事项 烟草专卖零售许可证) 的字段 `shop_nme` "
        "没有任何表单、决策表或 bundle.json 声明, 办件数据里不会有它; 您是否想写 `shop_name`?",
    ]


@pytest.mark.parametrize(
    ("data", "asked"),
    [
        (
            {"sells_food": True, "sells_tobacco": True},
            ["form", "food_rules", "tobacco_form", "licence_copy"],
        ),
        ({"sells_food": False, "sells_tobacco": False}, ["form", "licence_copy"]),
        ({}, ["form", "licence_copy"]),  # an answer left out reads as null
        # a material a decision named stays on the list whatever its condition says now
        ({"deferred_materials": ["tobacco_form"]}, ["form", "tobacco_form", "licence_copy"]),
    ],
)
def test_the_checklist_of_a_case_leaves_out_what_does_not_apply(
    data: dict[str, Any], asked: list[str]
) -> None:
    meta = meta_of(shop())
    assert [m.code for m in meta.materials if m.code in applying(meta, data)] == asked
    assert [row["code"] for row in material_states(meta, data)] == asked
    apart = not_needed(meta, data)
    assert [row["code"] for row in apart] == [m.code for m in meta.materials if m.code not in asked]


def test_not_needed_says_when_each_is_asked_for() -> None:
    meta = meta_of(shop())
    apart = {row["code"]: row["applies_when"] for row in not_needed(meta, {})}
    # its own words, else the item's
    assert apart == {"food_rules": "销售散装食品的", "tobacco_form": "销售卷烟的"}
    assert meta.material_condition(meta.materials[0]) == ""
    assert meta.material_condition(meta.materials[3]) == ""  # the licence applies always


def test_a_condition_that_cannot_be_evaluated_asks_for_the_material() -> None:
    meta = meta_of(shop([{"code": "x", "name": "X", "applies_if": "sells_food > 3"}]))
    assert material_applies(meta, meta.materials[0], {"sells_food": "很多"}) is True


def test_a_bundle_without_conditions_keeps_its_checklist_whole() -> None:
    meta = meta_of(shop([{"code": "form", "name": "申请表", "required": False}]))
    assert not meta.conditional_materials
    assert [r["state"] for r in material_states(meta, {})] == ["optional"]


@pytest.mark.parametrize(
    ("spec", "data", "issuer"),
    [
        ({}, {}, "示范区市场监督管理局"),
        ({"issuer": "示范区烟草专卖局"}, {}, "示范区烟草专卖局"),
        (
            {"issuer": "助产医院", "issuer_field": "hospital"},
            {"hospital": " 示范区妇幼保健院 "},
            "示范区妇幼保健院",
        ),
        ({"issuer": "助产医院", "issuer_field": "hospital"}, {"hospital": ""}, "助产医院"),
        ({"issuer_field": "hospital"}, {"hospital": 3}, "示范区市场监督管理局"),
    ],
)
def test_who_issues_a_certificate(spec: dict[str, Any], data: dict[str, Any], issuer: str) -> None:
    cert = CertificateSpec.from_item(
        {"code": "c", "name": "证", "certificate": {"title": "证", **spec}}
    )
    assert cert is not None
    assert cert.issuer_for(data, "示范区市场监督管理局") == issuer
