"""engine/bundles/diff.py: what changed between two versions of a bundle."""

from __future__ import annotations

import copy
from typing import Any

from engine.bundles.diff import Change, VersionContent, diff_versions, read_elements
from tests.fixtures.bpmn import document

V1 = document(
    """
  <bpmn:laneSet id="lanes">
    <bpmn:lane id="lane_desk" name="综合窗口"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>
  </bpmn:laneSet>
  <bpmn:startEvent id="start" name="申请" camunda:formKey="apply.json" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
  <bpmn:userTask id="review" name="审查" camunda:candidateGroups="front_desk"
                 camunda:formKey="review.json" />
  <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" name="通过?" default="no" />
  <bpmn:sequenceFlow id="yes" name="通过" sourceRef="gw" targetRef="end_yes">
    <bpmn:conditionExpression>score &gt; 60</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="end_no" />
  <bpmn:endEvent id="end_yes" name="办结" />
  <bpmn:endEvent id="end_no" name="不予许可" />"""
)

# 审查 renamed and given to another group, the condition tightened, 不予许可 replaced by a 补正
# task that loops back, and a timer on the review.
V2 = document(
    """
  <bpmn:laneSet id="lanes">
    <bpmn:lane id="lane_desk" name="综合窗口"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>
  </bpmn:laneSet>
  <bpmn:startEvent id="start" name="申请" camunda:formKey="apply.json" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
  <bpmn:userTask id="review" name="初审" camunda:candidateGroups="market_regulation"
                 camunda:formKey="review.json" />
  <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="gw" />
  <bpmn:exclusiveGateway id="gw" name="通过?" default="no" />
  <bpmn:sequenceFlow id="yes" name="通过" sourceRef="gw" targetRef="end_yes">
    <bpmn:conditionExpression>score &gt;= 80</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="fix" />
  <bpmn:userTask id="fix" name="补正" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="back" sourceRef="fix" targetRef="review" />
  <bpmn:endEvent id="end_yes" name="办结" />"""
)

APPLY = {
    "title": "申请表",
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "申请人"},
        "phone": {"type": "string", "title": "电话"},
        "kind": {
            "type": "string",
            "title": "类型",
            "oneOf": [{"const": "a", "title": "个体"}, {"const": "b", "title": "企业"}],
        },
    },
    "required": ["name"],
}
REVIEW = {
    "title": "审查",
    "type": "object",
    "properties": {"score": {"type": "integer", "title": "得分", "maximum": 100}},
    "required": ["score"],
}
META: dict[str, Any] = {
    "name": "开店",
    "items": [
        {"code": "licence", "name": "营业执照", "promised_workdays": 3, "statutory_workdays": 15}
    ],
    "time_limits": {"starts_at": "review", "warning_workdays": 2},
    "materials": [
        {"code": "id", "name": "身份证明", "required": True},
        {"code": "plan", "name": "平面图", "required": True, "deferrable": False},
        {"code": "lease", "name": "租赁合同", "required": True},
    ],
}


def _content(bpmn: bytes, forms: dict[str, Any], meta: dict[str, Any]) -> VersionContent:
    return VersionContent({"p.bpmn": bpmn.decode("utf-8")}, forms, meta)


def _pairs(changes: list[Change]) -> set[tuple[str, str]]:
    return {(c.kind, c.subject) for c in changes}


def _one(changes: list[Change], subject: str, fragment: str) -> Change:
    found = [c for c in changes if c.subject == subject and fragment in c.what]
    assert len(found) == 1, [c.what for c in changes if c.subject == subject]
    return found[0]


def test_process_changes_are_found_element_by_element() -> None:
    forms = {"apply.json": APPLY, "review.json": REVIEW}
    diff = diff_versions(_content(V1, forms, META), _content(V2, forms, META))

    assert _pairs(diff.process) == {
        ("added", "fix"),
        ("added", "back"),
        ("removed", "end_no"),
        ("changed", "review"),
        ("changed", "yes"),
        ("changed", "no"),
    }
    renamed = _one(diff.process, "review", "改名")
    assert (renamed.before, renamed.after) == ("审查", "初审")
    assert renamed.what == "用户任务 '初审' (review): 改名"
    groups = _one(diff.process, "review", "办理组")
    assert (groups.before, groups.after) == ("front_desk", "market_regulation")
    condition = _one(diff.process, "yes", "条件")
    assert (condition.before, condition.after) == ("score > 60", "score >= 80")
    target = _one(diff.process, "no", "终点")
    assert (target.before, target.after) == ("end_no", "fix")
    assert _one(diff.process, "end_no", "删除").what == "删除结束事件 '不予许可' (end_no)"
    assert _one(diff.process, "fix", "新增").what == "新增用户任务 '补正' (fix)"
    # the older diagram marks what went or changed, the newer what came or changed
    assert set(diff.changed_a) == {"end_no", "review", "yes", "no"}
    assert set(diff.changed_b) == {"fix", "back", "review", "yes", "no"}
    assert (
        diff.forms == []
        and diff.metadata == []
        and diff.files == [Change("files", "changed", "文件 p.bpmn 有修改", "p.bpmn")]
    )


def test_form_changes_list_fields_and_required_and_flag_the_task() -> None:
    apply2 = copy.deepcopy(APPLY)
    del apply2["properties"]["phone"]
    apply2["properties"]["address"] = {"type": "string", "title": "经营场所"}
    apply2["properties"]["name"]["title"] = "申请人姓名"
    apply2["properties"]["kind"]["oneOf"].append({"const": "c", "title": "农民专业合作社"})
    apply2["required"] = ["address"]  # address added as required, name no longer required
    review2 = copy.deepcopy(REVIEW)
    review2["properties"]["score"]["maximum"] = 120
    old = {"apply.json": APPLY, "review.json": REVIEW}
    new = {"apply.json": apply2, "review.json": review2, "extra.json": {"title": "附表"}}
    diff = diff_versions(_content(V1, old, META), _content(V1, new, META))

    whats = {c.what for c in diff.forms}
    assert "表单 apply.json: 新增字段 '经营场所' (address) (必填)" in whats
    assert "表单 apply.json: 删除字段 '电话' (phone)" in whats
    assert "表单 apply.json: 字段 '申请人姓名' (name) 改为选填" in whats
    title = _one(diff.forms, "apply.json#name", "标题")
    assert (title.before, title.after) == ("申请人", "申请人姓名")
    options = _one(diff.forms, "apply.json#kind", "可选值")
    assert options.before == "a 个体、b 企业"
    assert options.after == "a 个体、b 企业、c 农民专业合作社"
    rule = _one(diff.forms, "review.json#score", "校验规则")
    assert "100" in (rule.before or "") and "120" in (rule.after or "")
    assert _one(diff.forms, "extra.json", "新增表单").kind == "added"
    # the start event and the review use a form whose content changed: marked on both diagrams
    assert _pairs(diff.process) == {("changed", "start"), ("changed", "review")}
    assert _one(diff.process, "review", "内容有变化").what == (
        "用户任务 '审查' (review): 表单 review.json 的内容有变化"
    )
    assert set(diff.changed_a) == set(diff.changed_b) == {"start", "review"}


def test_metadata_changes_time_limits_items_and_materials() -> None:
    meta2 = copy.deepcopy(META)
    meta2["items"][0]["promised_workdays"] = 2
    meta2["items"].append(
        {"code": "food", "name": "食品经营许可证", "promised_workdays": 7, "statutory_workdays": 20}
    )
    meta2["time_limits"]["statutory_workdays"] = 18
    meta2["materials"][1]["deferrable"] = True  # 平面图 may now be supplied later (容缺)
    del meta2["materials"][2]
    meta2["materials"].append({"code": "health", "name": "健康证明", "deferrable": True})
    forms = {"apply.json": APPLY, "review.json": REVIEW}
    diff = diff_versions(_content(V1, forms, META), _content(V1, forms, meta2))

    promised = _one(diff.metadata, "limit", "承诺时限")
    # the longest promised limit of the items: 3 before, 7 (the new food permit) after
    assert (promised.before, promised.after) == ("3 个工作日", "7 个工作日")
    statutory = _one(diff.metadata, "statutory_limit", "法定时限")
    assert (statutory.before, statutory.after) == ("15 个工作日", "18 个工作日")
    item = _one(diff.metadata, "items:licence", "承诺时限")
    assert (item.before, item.after) == ("3", "2")
    assert _one(diff.metadata, "items:food", "新增事项").kind == "added"
    deferrable = _one(diff.metadata, "materials:plan", "可否容缺")
    assert (deferrable.before, deferrable.after) == ("不可容缺", "可容缺")
    assert _one(diff.metadata, "materials:lease", "删除材料").kind == "removed"
    added = _one(diff.metadata, "materials:health", "新增材料")
    assert added.what == "新增材料 '健康证明' (health) (必须、可容缺)"
    assert diff.process == [] and diff.forms == [] and diff.files == []


def test_the_same_version_has_no_changes() -> None:
    forms = {"apply.json": APPLY, "review.json": REVIEW}
    diff = diff_versions(_content(V1, forms, META), _content(V1, forms, META))
    assert diff.empty
    assert diff.changed_a == [] and diff.changed_b == []


def test_bpmn_is_read_with_the_safe_parser() -> None:
    """A document with an entity definition is refused, not expanded: compared as text only."""
    evil = '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x "审查">]>\n' + V1.decode("utf-8").split(
        "\n", 1
    )[1].replace('name="审查"', 'name="&x;"')
    diff = diff_versions(
        VersionContent({"p.bpmn": V1.decode("utf-8")}),
        VersionContent({"p.bpmn": evil}),
    )
    assert diff.unreadable == ["p.bpmn"]
    # every element of the readable side is reported removed: nothing was read from the other
    assert {c.kind for c in diff.process} == {"removed"}
    assert "review" in {c.subject for c in diff.process}


def test_elements_carry_lane_groups_form_and_condition() -> None:
    elements = read_elements(V1)
    assert elements["start"].values == {
        "type": "startEvent",
        "name": "申请",
        "lane": "综合窗口",
        "form": "apply.json",
    }
    assert elements["review"].values["groups"] == "front_desk"
    assert elements["yes"].values["condition"] == "score > 60"
    assert elements["gw"].values["default"] == "no"
    assert elements["lane_desk"].type == "lane"
