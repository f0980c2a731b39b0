"""Rule `certificate-cancel`: `cancels_certificate` and `cancels_kinds` come together, the field
is declared by some form of the upload and the kinds are not empty (the closing bundle of
tests/fixtures/shop_closing.py); and how a certificate's holder is matched."""

from __future__ import annotations

from datetime import date

import pytest

from engine.bpmn.xml import parse_xml
from engine.bundles.rules import RULES, Upload, certificate_cancel
from engine.domain.bundle_metadata import BundleMetadata
from engine.domain.certificates import Certificate, CertificateStatus
from engine.services.certificates import cancel_problem
from tests.fixtures import shop_closing as c


def messages(**process_args: object) -> list[str]:
    root = parse_xml(c.process(**process_args)).getroot()  # type: ignore[arg-type]
    upload = Upload(
        {"p.bpmn": root.getroottree()}, c.FORMS, {}, BundleMetadata.from_dict(c.METADATA)
    )
    found = list(certificate_cancel.check(upload))
    assert all(p.element == "close" and p.file == "p.bpmn" for p in found)
    return [p.message for p in found]


def test_the_rule_runs_with_the_others() -> None:
    assert RULES[certificate_cancel.NAME] is certificate_cancel.check


def test_the_closing_bundle_passes() -> None:
    assert messages() == []
    assert messages(kinds=" business_licence ") == []


def test_no_properties_no_problem() -> None:
    assert messages(field="", kinds=None) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {"kinds": None},
            "任务 注销登记 的属性 cancels_certificate 需要同时设置 cancels_kinds: 允许注销的证照种类"
            " (核发事项的 items[].code, 用逗号分隔, 如 business_licence)",
        ),
        (
            {"field": ""},
            "任务 注销登记 的属性 cancels_kinds 只能与 cancels_certificate"
            " (存放待注销证照证号的数据字段) 一起使用",
        ),
        (
            {"kinds": " , "},
            "任务 注销登记 的属性 cancels_kinds 应列出允许注销的证照种类 (核发事项的 items[].code),"
            " 用逗号分隔, 不能为空",
        ),
        (
            {"field": "licence_numbr"},
            "任务 注销登记 的属性 cancels_certificate 的字段 `licence_numbr` 没有任何表单声明,"
            " 办件数据里不会有待注销证照的证号; 您是否想写 `licence_number`?",
        ),
    ],
)
def test_each_problem_names_the_task_and_says_what_is_wrong(
    args: dict[str, object], expected: str
) -> None:
    assert messages(**args) == [expected]


def _cert(holder: str, **changes: object) -> Certificate:
    fields: dict[str, object] = {
        "number": "N1",
        "case_id": 7,
        "bundle_key": "item_shop",
        "kind": "licence",
        "title": "营业执照",
        "holder": holder,
        "issuer": "示范区市场监督管理局",
        "issued_on": date(2026, 3, 2),
        **changes,
    }
    return Certificate(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("holder", "case_holder", "ok"),
    [
        ("老张小卖部", "老张小卖部", True),
        (" 老张小卖部 ", "老张小卖部", True),
        ("老张小卖部 (张三)", "老张小卖部", True),  # a company's certificate names its applicant
        ("老张小卖部 (张三)", "老张", False),
        ("老张小卖部分店", "老张小卖部", False),
        ("老张小卖部", "", False),
    ],
)
def test_the_holder_must_be_the_cases(holder: str, case_holder: str, ok: bool) -> None:
    problem = cancel_problem(_cert(holder), "N1", ("licence",), case_holder, date(2026, 3, 3))
    assert (problem is None) == ok, problem
    if not ok:
        assert problem is not None and "持有人" in problem and "与申请不一致" in problem


def test_each_state_is_named() -> None:
    today = date(2026, 3, 3)
    found = {
        "不存在": cancel_problem(None, "N1", ("licence",), "老张", today),
        "已注销": cancel_problem(
            _cert("老张", status=CertificateStatus.CANCELLED), "N1", ("licence",), "老张", today
        ),
        "已撤销": cancel_problem(
            _cert("老张", status=CertificateStatus.REVOKED), "N1", ("licence",), "老张", today
        ),
        "已过期": cancel_problem(
            _cert("老张", expires_on=date(2026, 3, 2)), "N1", ("licence",), "老张", today
        ),
        "种类不符": cancel_problem(_cert("老张"), "N1", ("food_permit",), "老张", today),
    }
    for word, problem in found.items():
        assert problem is not None and word in problem, (word, problem)
    assert CertificateStatus.CANCELLED.label == "已注销"
