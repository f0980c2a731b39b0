"""bundle.json's `guide` (engine/bundles/guide.py): its schema's Chinese messages, the required
entries of a public 办事指南 named one by one, the materials' files, and the catalogue's bundles."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.guide import check, missing_entries, path_problem
from engine.bundles.metadata import read_metadata
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import from_path
from tests.conftest import FORMS, PROCESSES

COMPLETE: dict[str, Any] = {
    "name": "我要开餐馆",
    "items": [{"code": "a", "name": "营业执照", "statutory_workdays": 15, "promised_workdays": 3}],
    "materials": [{"code": "form", "name": "申请表"}],
    "guide": {
        "code": "YJS-1",
        "implementing_body": "示范区行政审批局",
        "legal_basis": [{"law": "《行政许可法》", "articles": "第三十二条"}],
        "fee": "不收费",
        "places": [
            {"name": "政务服务中心", "address": "政务大道 100 号", "hours": "工作日 9:00-17:00"}
        ],
        "phones": {"consult": "0571-1", "complaint": "12345"},
        "scope": "示范区内开办餐馆的经营者",
        "results": [{"name": "营业执照", "delivery": "窗口领取"}],
        "conditions": ["有固定的经营场所"],
    },
}


def _without(raw: dict[str, Any], *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(raw)
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    del holder[path[-1]]
    return changed


def test_a_complete_guide_misses_nothing() -> None:
    assert missing_entries(COMPLETE) == []
    assert check(COMPLETE, {}, "bundle.json") == ([], [])


@pytest.mark.parametrize(
    ("path", "said"),
    [
        (("name",), "办事指南缺少 事项名称 (name)"),
        (("guide", "code"), "办事指南缺少 事项编码 (guide.code)"),
        (("guide", "implementing_body"), "办事指南缺少 实施主体 (guide.implementing_body)"),
        (("guide", "fee"), "办事指南缺少 收费标准 (guide.fee)"),
        (("guide", "phones", "consult"), "办事指南缺少 咨询电话 (guide.phones.consult)"),
        (("guide", "phones", "complaint"), "办事指南缺少 投诉电话 (guide.phones.complaint)"),
        (("guide", "scope"), "办事指南缺少 适用范围 (guide.scope)"),
        (
            ("guide", "legal_basis"),
            "办事指南缺少 设定依据 (至少一部法律法规及其条款) (guide.legal_basis)",
        ),
        (
            ("guide", "places"),
            "办事指南缺少 办理地点和办公时间 (至少一处, 含地址和办公时间) (guide.places)",
        ),
        (("guide", "results"), "办事指南缺少 办理结果 (至少一项证照或批文) (guide.results)"),
        (("materials",), "办事指南缺少 申请材料 (至少一项) (materials)"),
    ],
)
def test_each_missing_entry_is_named(path: tuple[str, ...], said: str) -> None:
    problems, warnings = check(_without(COMPLETE, *path), {}, "bundle.json")
    assert [p.message for p in problems] == [said] and warnings == []
    assert problems[0].file == "bundle.json"


def test_an_entry_stated_only_in_part_is_missing() -> None:
    raw = copy.deepcopy(COMPLETE)
    raw["guide"]["legal_basis"] = [{"law": "《行政许可法》"}]  # no articles
    raw["guide"]["places"] = [{"name": "中心", "address": "政务大道 100 号"}]  # no hours
    raw["guide"]["phones"]["consult"] = "  "
    labels = [label for label, _ in missing_entries(raw)]
    assert labels == [
        "咨询电话",
        "设定依据 (至少一部法律法规及其条款)",
        "办理地点和办公时间 (至少一处, 含地址和办公时间)",
    ]


def test_the_limits_come_from_time_limits_or_every_item() -> None:
    raw = copy.deepcopy(COMPLETE)
    raw["items"].append({"code": "b", "name": "许可证", "promised_hours": 4})
    assert [w for _, w in missing_entries(raw)] == [
        "time_limits.statutory_workdays、各事项的 statutory_workdays 或 guide.statutory_limit_note"
    ]
    raw["time_limits"] = {"statutory_workdays": 20}
    assert missing_entries(raw) == []  # the other item promises in hours
    del raw["items"][0]["promised_workdays"]
    assert [label for label, _ in missing_entries(raw)] == ["承诺时限"]
    raw["guide"]["statutory_limit_note"] = "法律法规未规定办理时限"
    del raw["time_limits"]
    raw["time_limits"] = {"promised_workdays": 5}
    assert missing_entries(raw) == []


def test_a_legal_basis_names_an_item_of_the_bundle() -> None:
    raw = copy.deepcopy(COMPLETE)
    raw["guide"]["legal_basis"].append(
        {"law": "《食品安全法》", "articles": "第三十五条", "item": "x"}
    )
    messages = [p.message for p in check(raw, {}, "bundle.json")[0]]
    assert messages == [
        "设定依据 guide/legal_basis/1/item 'x' 不是本事项包的事项编码 (items 中有: a)"
    ]


def test_no_guide_is_a_warning_not_a_refusal() -> None:
    problems, warnings = check(_without(COMPLETE, "guide"), {}, "x/bundle.json")
    assert problems == []
    assert [w.severity for w in warnings] == ["warning"]
    assert (
        warnings[0].message.startswith("没有办事指南 (guide)")
        and warnings[0].file == "x/bundle.json"
    )


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("../secret.pdf", "不能包含 '..'"),
        ("/etc/passwd.pdf", "不能是绝对路径"),
        ("C:/forms/a.pdf", "不能是绝对路径"),
        ("files\\a.pdf", "不能是绝对路径"),
        ("files//a.pdf", "空的路径段"),
        ("files/a.exe", "只能是 PDF、PNG、JPEG、DOCX 或 XLSX"),
        ("files/a.html", "只能是 PDF"),
    ],
)
def test_unsafe_or_unlisted_file_paths_are_refused(path: str, said: str) -> None:
    assert said in (path_problem(path) or "")
    raw = copy.deepcopy(COMPLETE)
    raw["materials"][0]["sample"] = path
    problems, _ = check(raw, {path: b"%PDF-1.4"}, "bundle.json")
    assert len(problems) == 1 and "materials/0/sample" in problems[0].message


def test_a_material_file_is_found_beside_bundle_json() -> None:
    raw = copy.deepcopy(COMPLETE)
    raw["materials"][0]["sample"] = "files/sample.pdf"
    assert check(raw, {"shop/files/sample.pdf": b"%PDF-"}, "shop/bundle.json") == ([], [])
    assert check(raw, {"files/sample.pdf": b"%PDF-"}, "shop/bundle.json")[0]


def test_a_material_file_must_be_in_the_upload_and_small_enough() -> None:
    raw = copy.deepcopy(COMPLETE)
    raw["materials"][0]["sample"] = "files/sample.pdf"
    raw["materials"][0]["blank_form"] = "files/blank.docx"
    files = {"files/blank.docx": b"x" * (2 * 1024 * 1024 + 1)}
    messages = [p.message for p in check(raw, files, "bundle.json")[0]]
    assert messages == [
        "材料的样表 materials/0/sample 'files/sample.pdf' 上传的事项包中没有这个文件"
        " (路径相对于 bundle.json 所在的文件夹)",
        "材料的空白表格 materials/0/blank_form 'files/blank.docx' 文件过大 (上限 2097152 字节)",
    ]


def _metadata_problems(raw: Any) -> list[str]:
    _, problems = read_metadata({"bundle.json": json.dumps(raw, ensure_ascii=False).encode()})
    return [p.message for p in problems]


def test_the_guide_schema_says_what_is_wrong_in_chinese() -> None:
    raw = copy.deepcopy(COMPLETE)
    raw["guide"]["fax"] = "0571-2"
    raw["guide"]["places"][0]["floor"] = 1
    raw["guide"]["legal_basis"][0]["articles"] = 32
    raw["materials"][0]["sample"] = ""
    found = _metadata_problems(raw)
    assert any("guide" in m and "不认识的字段 fax" in m for m in found), found
    assert any("guide/places/0" in m and "不认识的字段 floor" in m for m in found), found
    assert any("guide/legal_basis/0/articles" in m for m in found), found
    assert any("materials/0/sample" in m for m in found), found
    assert all(m.startswith("元数据字段 ") for m in found)


def _public_bundles() -> list[str]:
    """The catalogue's bundles but its 公用子流程库 (never on the public guide)."""
    return sorted(
        p.name
        for p in PROCESSES.iterdir()
        if p.is_dir() and '"library": true' not in (p / "bundle.json").read_text("utf-8")
    )


@pytest.mark.parametrize("bundle", _public_bundles())
def test_every_catalogue_bundle_has_a_complete_guide(bundle: str) -> None:
    try:
        compiled = compile_bundle(from_path(PROCESSES / bundle), FormLibrary(FORMS))
    except BundleInvalid as err:
        pytest.fail(f"{bundle}: {[p.message for p in err.problems]}")
    assert not [w for w in compiled.warnings if "办事指南" in w.message]
    assert missing_entries(compiled.metadata) == []
