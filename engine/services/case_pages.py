"""What the case page and the auditors' history read: a case's diagram state, timeline, clock
and pauses, its history step by step, and the replay verdict in words.

Read-only: nothing here writes. The history uses `audit.state_at` and `audit.replay` (auditors and
admins only); the case page, which clerks open too, reads the events itself and shows them without
their hashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.bpmn.runtime import ProcessRuntime
from engine.domain.model import CaseEvent, CaseStatus, EventType
from engine.domain.suspension import kind_label
from engine.domain.users import Role, User
from engine.errors import Forbidden

from . import audit, documents
from .intake import corrections
from .multi_sign import label as sign_label
from .pauses import case_pauses
from .queries import load_case_view

if TYPE_CHECKING:
    from .context import Services

# the tasks the engine opens itself (their element is their kind)
ENGINE_TASK_NAMES = {
    "supervision": "督办",
    "rectification": "差评整改",
    "follow_up": "整改回访",
    "extension": "延期审批",  # Art. 42 (engine/services/extension.py)
    "hearing": "听证",  # Arts. 46–47 (engine/services/hearing.py)
}
ACTOR_NAMES = {"system": "系统", "applicant": "申请人"}


# -- shared pieces -----------------------------------------------------------------------------


def element_names(runtime: ProcessRuntime) -> dict[str, str]:
    """The name of every BPMN element of a version's diagram, by id (subprocesses included),
    and of the tasks the engine opens itself."""
    return {**ENGINE_TASK_NAMES, **runtime.element_names()}


def field_labels(forms: Mapping[str, Any]) -> dict[str, str]:
    """The title of every field of a version's forms, by field name (first form wins)."""
    labels: dict[str, str] = {}
    for schema in forms.values():
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict) and isinstance(prop.get("title"), str):
                labels.setdefault(name, prop["title"])
    return labels


def local_time(svc: Services, at: datetime | str | None) -> str:
    """A time as the centre reads it: local, to the minute."""
    if at is None:
        return ""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.astimezone(svc.tz).strftime("%Y-%m-%d %H:%M")


def _named(names: Mapping[str, str], elements: Any) -> str:
    return "、".join(names.get(str(e), str(e)) for e in elements or [])


def describe(event: CaseEvent, names: Mapping[str, str]) -> str:
    """What the event did, in a sentence."""
    data = event.data
    task = names.get(event.element or "", event.element or "")
    kind = event.type
    if kind == EventType.CASE_STARTED:
        text = f"创建办件 (事项包 {data.get('bundle', '')} 第 {data.get('version', '')} 版)"
        if data.get("agent"):
            text += f", 帮办代办: {data['agent'].get('name')} 代 {data['on_behalf_of'].get('name')} 申请"
        return text
    if kind in (EventType.TASK_CLAIMED, EventType.TASK_UNCLAIMED):
        return task
    if kind == EventType.TASK_COMPLETED:
        text = task
        retry = data.get("retry")
        if isinstance(retry, dict):  # an administrator carried out a clerk's failed step again
            text += f" ({retry.get('note', '代为重试')}: 管理员 {retry.get('by')} 代 {retry.get('for')})"
        if data.get("opened"):
            text += f" → 转入 {_named(names, data['opened'])}"
        for ended in data.get("signs_ended") or []:  # 会签/或签 ended early (issue 18 · 4)
            result = "通过" if ended.get("result") == "approved" else "不通过"
            text += (
                f"; {names.get(ended.get('element'), ended.get('element'))} 会签已结束 ({result})"
            )
            if ended.get("cancelled"):
                text += f", 未签的 {len(ended['cancelled'])} 个任务已取消"
        return text
    if kind == EventType.TASK_SENT_BACK:  # 退回 (issue 18 · 1)
        target = names.get(str(data.get("target")), data.get("target_name") or "")
        again = f" → 重新办理 {_named(names, data['opened'])}" if data.get("opened") else ""
        return f"从「{task}」退回到「{target}」: {data.get('reason', '')}{again}"
    if kind == EventType.TASK_RECALLED:  # 撤回 (issue 18 · 7)
        return f"撤回「{task}」重新办理: {data.get('reason', '')}"
    if kind == EventType.CASE_COMPLETED:
        outcome = data.get("outcome") or {}
        return f"结束于「{outcome.get('name') or outcome.get('element', '')}」"
    if kind == EventType.CASE_CANCELLED:
        return f"原因: {data.get('reason') or '未说明'}"
    if kind == EventType.TIMER_FIRED:
        return f"{task} 到期 ({str(data.get('due', ''))[:16]})".strip()
    if kind == EventType.CLOCK_STARTED:
        return f"承诺时限 {data.get('limit')} 个工作日, 期限 {data.get('deadline')}"
    if kind == EventType.CLOCK_PAUSED:
        if data.get("by") == "suspended":  # 挂起 of a kind that stops the clock
            return f"挂起 ({kind_label(str(data.get('kind')))}), 不计入办理时限"
        procedure = data.get("procedure")
        if isinstance(procedure, dict):  # 特别程序 (Art. 45)
            days = procedure.get("expected_workdays")
            expected = f", 预计 {days} 个工作日" if days else ""
            return f"特别程序: {procedure.get('label')}{expected}, 不计入办理时限"
        return f"等待 {_named(names, data.get('waiting_on'))}"
    if kind == EventType.HEARING_RIGHTS_NOTIFIED:  # 听证 (Arts. 46–47)
        return f"告知申请人可在 {data.get('request_by')} 前要求听证 ({task})"
    if kind == EventType.HEARING_REQUESTED:
        note = f"; {data.get('note')}" if data.get("note") else ""
        return f"听证应于 {data.get('hold_by')} 前举行, 暂停计时{note}"
    if kind == EventType.HEARING_WAIVED:
        if data.get("by") == "expired":
            return "期限内未要求听证, 视为放弃"
        return f"申请人放弃听证{'; ' + str(data.get('note')) if data.get('note') else ''}"
    if kind == EventType.PRELIMINARY_STARTED:  # 下级初审 (Art. 43)
        return f"{data.get('level')}初审 {data.get('limit')} 个工作日, 期限 {data.get('deadline')}"
    if kind == EventType.CASE_FORWARDED:
        on_time = "按期" if data.get("on_time") else "超期"
        return f"转报上级 ({on_time}; 初审期限 {data.get('preliminary_deadline')})"
    if kind == EventType.CASE_OVERDUE and data.get("preliminary"):
        return f"下级初审超期, 期限 {data.get('deadline', '')}"
    if kind == EventType.CLOCK_RESUMED:
        return f"暂停 {data.get('waited_workdays')} 个工作日, 期限顺延至 {data.get('deadline')}"
    if kind == EventType.CLOCK_STOPPED:
        return "证照已发出, 时限到此为止" if data.get("by") == "certificates_issued" else ""
    if kind in (EventType.CASE_WARNING, EventType.CASE_OVERDUE, EventType.TASK_OVERDUE):
        return f"{task + ', ' if task else ''}期限 {data.get('deadline', '')}"
    if kind == EventType.SUPERVISION_OPENED:
        return f"{data.get('about', '')} (督办组 {data.get('group', '')})"
    if kind == EventType.TASK_URGED:  # issue 17 · G
        to = "、".join(str(t).removeprefix("group:") for t in data.get("to") or [])
        said = f"; 留言: {data['message']}" if data.get("message") else ""
        return f"催办「{task}」, 已通知 {to or '办理人'}{said}"
    if kind == EventType.CASE_SUSPENDED:  # 挂起 (issue 18 · 8)
        clock = {"stopped": "暂停计时", "running": "继续计时"}.get(str(data.get("clock")), "")
        said = f"; {clock}" if clock else ""
        return f"{kind_label(str(data.get('kind')))}: {data.get('reason', '')}{said}"
    if kind == EventType.EXTENSION_REQUESTED:  # 延期 (Art. 42)
        law = f"; 依据 {data['law']}" if data.get("law") else ""
        return f"申请延期 {data.get('workdays')} 个工作日: {data.get('reason', '')}{law}"
    if kind == EventType.EXTENSION_GRANTED:
        said = f"; 意见: {data['opinion']}" if data.get("opinion") else ""
        return f"批准延期 {data.get('workdays')} 个工作日, 期限延至 {data.get('deadline')}{said}"
    if kind == EventType.EXTENSION_REFUSED:
        return f"不批准延期 {data.get('workdays')} 个工作日; 意见: {data.get('opinion', '')}"
    if kind == EventType.CASE_UNSUSPENDED:
        note = f"; {data['note']}" if data.get("note") else ""
        return f"恢复办理, 挂起 {data.get('suspended_workdays', 0)} 个工作日{note}"
    if kind == EventType.CASE_COPIED:  # 抄送 (issue 18 · 6)
        to = "、".join(str(t).split(":", 1)[-1] for t in data.get("to") or [])
        return f"抄送 {to}" + (f"; 说明: {data['note']}" if data.get("note") else "")
    if kind == EventType.COPY_READ:
        return "已阅读抄送的办件"
    if kind == EventType.CASE_COMMENTED:  # 评论 (issue 18 · 9); the files are linked by the page
        files = len(data.get("attachments") or [])
        return str(data.get("text") or "") + (f" (附件 {files} 个)" if files else "")
    if kind == EventType.CERTIFICATES_ISSUED:
        return "、".join(f"{c['title']} {c['number']}" for c in data.get("certificates", []))
    if kind == EventType.CERTIFICATES_REVOKED:
        return f"{'、'.join(data.get('numbers', []))}: {data.get('reason', '')}"
    if kind == EventType.CERTIFICATE_CANCELLED:
        return (
            f"{data.get('title', '')} {data.get('number', '')} (办件 {data.get('case_id', '')}"
            f" 核发): {data.get('reason', '')}"
        )
    if kind == EventType.RATED:
        return f"{data.get('label', '')} ({'网上' if data.get('channel') == 'online' else '窗口'})"
    if kind in (EventType.RECTIFICATION_OPENED, EventType.FOLLOW_UP_OPENED):
        return f"交 {data.get('group', '')} 办理, 期限 {data.get('deadline', '')}"
    if kind == EventType.INCIDENT_RAISED:
        failed = (
            f"办理「{names.get(data['task_element'], data['task_element'])}」时流程出错; "
            if data.get("task_element")
            else ""
        )
        return f"{failed}原因: {data.get('reason') or '未说明'} (待管理员在「出错办件」中处理)"
    if kind == EventType.INCIDENT_RESUMED:
        if data.get("retried"):
            return f"重试「{names.get(data['retried'], data['retried'])}」成功"
        return f"重新开始定时: {_named(names, data.get('timers'))}" if data.get("timers") else ""
    if kind == EventType.CASE_MIGRATED:
        mapping = data.get("mapping") or {}
        moved = "; ".join(f"{old} → {new}" for old, new in mapping.items())
        text = f"第 {data['from']['version']} 版 → 第 {data['to']['version']} 版"
        return f"{text} (环节对应: {moved})" if moved else text
    if kind == EventType.TASK_TRANSFERRED:  # issue 18 · 2
        return (
            f"「{task}」由 {data.get('from')} 转办给 {data.get('to')}; 原因: {data.get('reason')}"
        )
    if kind == EventType.TASK_DELEGATED:  # issue 18 · 3
        return f"「{task}」委派 {data.get('to')} 提出意见; 事由: {data.get('reason')}"
    if kind == EventType.DELEGATION_ANSWERED:
        return f"「{task}」意见交回 {data.get('to')}: {data.get('opinion')}"
    if kind in (EventType.SIGNER_ADDED, EventType.SIGNER_REMOVED, EventType.ADDED_SIGNATURE):
        return _signer_words(kind, task, data)  # issue 18 · 5
    if kind == EventType.TASK_WARNING:  # issue 20 · 2: these four in words too
        left = data.get("remaining_workdays")
        return f"「{task}」期限 {data.get('deadline')}, 还剩 {left} 个工作日"
    if kind in (EventType.INTAKE_WARNING, EventType.INTAKE_DEEMED_ACCEPTED):  # Art. 32
        by = f"{data.get('received_on')} 收件, 受理期限 {data.get('intake_deadline')}"
        if kind == EventType.INTAKE_DEEMED_ACCEPTED:
            return f"{by}, 逾期未作受理决定, 依法视为受理"
        return f"{by}, 还剩 {data.get('remaining_workdays')} 个工作日"
    if kind == EventType.CERTIFICATE_REMINDER:
        sent = f", 已提醒 {data['sent_to']}" if data.get("sent_to") else ""
        left = data.get("days_left")
        return f"证照 {data.get('number')} 于 {data.get('expires_on')} 到期 (还剩 {left} 天){sent}"
    if kind == EventType.CASE_DATA_CORRECTED:
        fields = data.get("fields") or {}
        return "; ".join(f"{k}: {v.get('old')!r} → {v.get('new')!r}" for k, v in fields.items())
    return ", ".join(f"{k}: {v}" for k, v in data.items())


_SIGN_POSITIONS = {"before": "前加签", "after": "后加签", "parallel": "并行加签"}


def _signer_words(kind: EventType, task: str, data: Mapping[str, Any]) -> str:
    """加签 / 减签 / 加签人签署 in words."""
    position = _SIGN_POSITIONS.get(str(data.get("position")), "加签")
    if kind == EventType.SIGNER_ADDED:
        who = data.get("to") or data.get("signer")
        return f"「{task}」{position} {who}; 原因: {data.get('reason')}"
    if kind == EventType.SIGNER_REMOVED:
        return f"「{task}」减签 {data.get('signer')} ({position}); 原因: {data.get('reason')}"
    decision = "同意" if data.get("decision") == "approve" else "不同意"
    opinion = f"; 意见: {data['opinion']}" if data.get("opinion") else ""
    return f"「{task}」{position}签署: {decision}{opinion}"


def timeline_entry(svc: Services, event: CaseEvent, names: Mapping[str, str]) -> dict[str, Any]:
    data = event.data
    behalf = None
    if event.type == EventType.CASE_STARTED and data.get("on_behalf_of"):
        behalf = {"applicant": data["on_behalf_of"].get("name"), "agent": data["agent"].get("name")}
    return {
        "seq": event.seq,
        "type": str(event.type),
        "at": local_time(svc, event.at),
        "actor": ACTOR_NAMES.get(event.actor, event.actor),
        "on_behalf_of": behalf,
        "label": event.type.label,
        "element": event.element,
        "detail": describe(event, names),
    }


def _pauses(
    svc: Services, events: list[CaseEvent], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Each time the clock stopped to wait (补正, 容缺 materials...), and for how long."""
    found: list[dict[str, Any]] = []
    for event in events:
        if event.type == EventType.CLOCK_PAUSED:
            found.append(
                {
                    "since": svc.today(event.at).isoformat(),
                    "until": None,
                    "workdays": None,
                    "waiting_on": _named(names, event.data.get("waiting_on"))
                    if event.data.get("by") != "suspended"
                    else f"{kind_label(str(event.data.get('kind')))} (挂起)",
                }
            )
        elif event.type == EventType.CLOCK_RESUMED and found and found[-1]["until"] is None:
            found[-1]["until"] = svc.today(event.at).isoformat()
            found[-1]["workdays"] = event.data.get("waited_workdays")
    return found


def _load(svc: Services, user: User, case_id: int, *roles: Role) -> dict[str, Any]:
    if not user.has_role(*roles, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case_id)
        view = load_case_view(svc, uow, case)
    signs: dict[str, dict[str, Any]] = {}
    try:
        workflow = runtime.load(case.state) if case.state else None
        elements = workflow.element_states() if workflow else {}
        if workflow and case.status == CaseStatus.RUNNING:  # 会签/或签 under way (18 · 4)
            signs = {e: {**p, "label": sign_label(p)} for e, p in workflow.sign_progress().items()}
    except Exception:  # an unreadable state still shows the rest of the page
        elements = {}
    names = element_names(runtime)
    return {
        "case": view,
        "bundle": {"key": version.key, "version": version.version, "name": version.name},
        "labels": field_labels(version.forms),
        "names": names,
        "events": events,
        "diagram": {
            "completed": sorted(e for e, s in elements.items() if s == "completed"),
            "active": sorted(e for e, s in elements.items() if s == "active"),
        },
        "correction_notice": bool(corrections(version, events)),
        "signs": signs,
        # 计时暂停记录: each pause's kind (补正, an Art. 45 special procedure...), its length
        "clock_pauses": case_pauses(events, version, svc.tz),
    }


# -- the case page ------------------------------------------------------------------------------


def case_page(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """A case for its page (clerks, auditors): the case view, the diagram's state now, the
    timeline (without hashes), the pauses of the clock, whether a 补正告知书 exists."""
    found = _load(svc, user, case_id, Role.CLERK, Role.AUDITOR)
    names = found.pop("names")
    events = found.pop("events")
    found["timeline"] = [timeline_entry(svc, e, names) for e in events]
    # staff as printed documents name them, "张敏 (综合窗口)" (the page prints too)
    people = documents.staff_signatures(svc, {e.actor for e in events})
    for entry, event in zip(found["timeline"], events, strict=True):
        entry["actor"] = people.get(event.actor, entry["actor"])
    found["received_by"] = people.get(found["case"]["created_by"])
    found["pauses"] = _pauses(svc, events, names)
    found["received_at"] = local_time(svc, found["case"]["created_at"])
    found["ended_at"] = local_time(svc, found["case"]["ended_at"])
    return found


# -- the auditors' history ----------------------------------------------------------------------


def case_history(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    """A case for the auditor's history page: as `case_page`, with every event's hashes."""
    found = _load(svc, user, case_id, Role.AUDITOR)
    names = found.pop("names")
    events = found.pop("events")
    found["timeline"] = [
        {**timeline_entry(svc, e, names), "hash": e.hash, "state_hash": e.state_hash}
        for e in events
    ]
    found["steps"] = len(events)
    found["received_at"] = local_time(svc, found["case"]["created_at"])
    found["ended_at"] = local_time(svc, found["case"]["ended_at"])
    return found


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    changed = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            changed.append({"field": key, "change": "added", "after": after[key]})
        elif key not in after:
            changed.append({"field": key, "change": "removed", "before": before[key]})
        elif before[key] != after[key]:
            changed.append(
                {"field": key, "change": "changed", "before": before[key], "after": after[key]}
            )
    return changed


def _before_start(svc: Services, user: User, case_id: int) -> dict[str, Any]:
    if not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以回放办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
    return {
        "case_id": case_id,
        "seq": 0,
        "steps": case.last_seq,
        "event": None,
        "status": None,
        "status_label": "收件之前",
        "data": {},
        "changes": [],
        "changed_fields": [],
        "tasks": [],
        "completed": [],
        "active": [],
        "matches_record": True,
        "sent_back": None,
    }


def history_step(svc: Services, user: User, case_id: int, seq: int) -> dict[str, Any]:
    """The case after its event `seq`, re-executed (`audit.state_at`), with the data fields that
    changed since the event before it and the event described. Step 0 is the case before its
    first event: nothing has run."""
    if seq == 0:
        return _before_start(svc, user, case_id)
    state = audit.state_at(svc, user, case_id, seq)
    before = audit.state_at(svc, user, case_id, seq - 1)["data"] if seq > 1 else {}
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        _, runtime = svc.runtimes.get(uow, case.bundle_version_id)
    names = element_names(runtime)
    raw = state["event"]
    event = CaseEvent(
        case_id,
        raw["seq"],
        EventType(raw["type"]),
        raw["actor"],
        datetime.fromisoformat(raw["at"]),
        raw["task"],
        raw["element"],
        raw["data"],
        raw["hash"],
        raw["state_hash"],
    )
    changes = _changes(before, state["data"])
    return {
        "case_id": case_id,
        "seq": seq,
        "steps": state["steps"],
        "event": {**timeline_entry(svc, event, names), "data": raw["data"]},
        "status": state["status"],
        "status_label": CaseStatus(state["status"]).label,
        "data": state["data"],
        "changes": changes,
        "changed_fields": [c["field"] for c in changes],
        "tasks": state["tasks"],
        "completed": state["completed"],
        "active": state["active"],
        "matches_record": state["matches_record"],
        "sent_back": state["sent_back"],  # 退回/撤回: the diagram's dashed arrow back
    }
