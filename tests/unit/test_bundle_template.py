"""The blank template of the designer's editor (engine/bundles/template.py): every upload check
passes as it is, and the key and name are checked as the deploy checks them."""

from __future__ import annotations

import json

import pytest

from engine.bundles.compiler import CompiledBundle, FormLibrary, compile_bundle
from engine.bundles.source import BundleSource
from engine.bundles.template import blank_template
from engine.errors import Invalid


def _compile(files: dict[str, str]) -> CompiledBundle:
    source = BundleSource("t", {p: t.encode() for p, t in files.items()})
    return compile_bundle(source, FormLibrary(None))


@pytest.mark.parametrize("key", ["leave", "shop.v2-test_1", "9lives"])
def test_the_blank_template_passes_every_check(key: str) -> None:
    files = blank_template(key, '证照 "联办" <测试> & 事项')
    assert set(files) == {
        "bundle.json",
        f"{key}.bpmn",
        f"forms/{key}/application.json",
        f"forms/{key}/intake.json",
        f"forms/{key}/review_a.json",
        f"forms/{key}/review_b.json",
        f"forms/{key}/issuance.json",
    }
    compiled = _compile(files)
    assert compiled.key == key
    assert compiled.name == '证照 "联办" <测试> & 事项'
    # a new bundle has no 办事指南 yet: the one warning says so (engine/bundles/guide.py)
    assert [w.message[:14] for w in compiled.warnings] == ["没有办事指南 (guide)"]
    tasks = compiled.human_tasks
    assert {e: (t.name, t.groups) for e, t in tasks.items()} == {
        "intake": ("一窗受理", ("front_desk",)),
        "review_a": ("部门甲审查", ("market_regulation",)),
        "review_b": ("部门乙审查", ("food_safety",)),
        "issuance": ("统一发证", ("issuance",)),
    }
    assert compiled.start_form == f"{key}/application.json"
    meta = json.loads(files["bundle.json"])
    assert [i["promised_workdays"] for i in meta["items"]] == [10, 10]
    assert [i["statutory_workdays"] for i in meta["items"]] == [20, 20]
    application = json.loads(files[f"forms/{key}/application.json"])
    assert {"applicant_name", "contact_phone"} <= set(application["properties"])


def test_the_diagram_has_a_shape_for_every_element_and_an_edge_for_every_flow() -> None:
    bpmn = blank_template("leave", "请假")["leave.bpmn"]
    for element in ("start", "intake", "split", "review_a", "review_b", "join", "issuance", "end"):
        assert f'bpmnElement="{element}"' in bpmn
    assert bpmn.count("<bpmndi:BPMNEdge") == bpmn.count("<bpmn:sequenceFlow") == 8
    assert bpmn.count("<bpmn:parallelGateway") == 2


@pytest.mark.parametrize(
    ("key", "name", "field"),
    [
        ("", "请假", "key"),
        ("-leading-dash", "请假", "key"),
        ("has space", "请假", "key"),
        ("中文编码", "请假", "key"),
        ("x" * 65, "请假", "key"),
        ('a"><script>', "请假", "key"),
        ("leave", "", "name"),
        ("leave", "   ", "name"),
        ("leave", "名" * 201, "name"),
    ],
)
def test_a_bad_key_or_name_is_refused_in_chinese(key: str, name: str, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        blank_template(key, name)
    assert refused.value.status == 422
    assert [e["element"] for e in refused.value.errors] == [field]
    message = refused.value.errors[0]["message"]
    assert message.startswith("事项编码" if field == "key" else "事项名称")
