"""办件进度: what the applicant reads of a case with its number and receipt code (the public
progress page and API): the stage, how long it may take, the law's limits as they apply, what the
applicant must do now, the certificates and how they reach the applicant (the window, or the
post to the address the case gives: bundle.json `visits`). No names of staff, no form data but
the delivery address. Each signature of a 会签 is named by the department that signed it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.domain.bundle_versions import BundleVersion
from engine.domain.form_fields import field_schema
from engine.domain.model import Case, CaseEvent, CaseStatus, EventType
from engine.domain.suspension import kind_label
from engine.persistence.unit_of_work import UnitOfWork

from . import hearing_rights
from .follow_ups import verify_access
from .pauses import case_pauses, current_pause
from .queries import load_case_view

if TYPE_CHECKING:
    from .context import Services


def public_progress(svc: Services, case_id: int, code: object, address: str = "") -> dict[str, Any]:
    """办件进度 for the applicant: what stage, how long it may take, the certificates. No names
    of staff, no form data. The code is checked by `verify_access` (throttled)."""
    verify_access(svc, case_id, code, address)
    return progress_view(svc, case_id)


# What the applicant reads of the case's history: the events that are a step for them, by their
# public name (never an element id, never a member of staff).
_PUBLIC_EVENTS = {
    EventType.CASE_STARTED: "收件",
    EventType.CLOCK_STARTED: "受理, 开始计算办理时限",
    EventType.CLOCK_PAUSED: "暂停计时",
    EventType.CLOCK_RESUMED: "恢复计时",
    EventType.EXTENSION_GRANTED: "依法延期 (行政许可法第四十二条)",
    EventType.INTAKE_DEEMED_ACCEPTED: "逾期未答复, 依法视为受理 (行政许可法第三十二条)",
    EventType.CERTIFICATES_ISSUED: "发证",
    EventType.CERTIFICATES_REVOKED: "撤销许可",
    EventType.CERTIFICATE_CANCELLED: "注销证照",
    EventType.CASE_COMPLETED: "办结",
    EventType.CASE_CANCELLED: "撤销办件",
    EventType.HEARING_RIGHTS_NOTIFIED: "告知听证权利",
    EventType.HEARING_REQUESTED: "申请听证",
}


# 送达方式 values meaning the post (the others of `visits.remote_delivery` are electronic)
_POSTAL = ("post", "mail", "express")
_MOBILE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


class _Signers:
    """Who signs each instance of a 会签/或签, as the public may read it: the department the
    bundle names for the group the instance was offered to (bundle.json `group_names`), else
    the department of the clerk who signed (their profile's, as the case record prints it after
    their name), else the group itself; never a member of staff's name."""

    def __init__(self, uow: UnitOfWork, version: BundleVersion) -> None:
        self.uow = uow
        self.departments: dict[str, str] = {}
        names = version.meta.raw.get("group_names")
        self.group_names: Mapping[str, Any] = names if isinstance(names, Mapping) else {}

    def department(self, name: str | None) -> str:
        if not name:
            return ""
        if name not in self.departments:
            user = self.uow.users.by_name(name)
            self.departments[name] = ((user.department if user else None) or "").strip()
        return self.departments[name]

    def of(self, actor: str | None, groups: Sequence[str]) -> str:
        named = [str(self.group_names[g]) for g in groups if self.group_names.get(g)]
        return "、".join(named) or self.department(actor) or "、".join(groups)

    def completed(self, event: CaseEvent) -> str:
        task = self.uow.tasks.get(event.task_id) if event.task_id else None
        return self.of(event.actor, task.groups if task is not None else ())


def _timeline(
    version: BundleVersion, case: Case, uow: UnitOfWork, events: list[CaseEvent], signs: set[str]
) -> list[dict[str, Any]]:
    steps = []
    signers = _Signers(uow, version)
    for event in events:
        name = _PUBLIC_EVENTS.get(event.type)
        if event.type == EventType.TASK_COMPLETED and "kind" not in event.data:
            info = version.human_tasks.get(event.element or "")
            name = info.name if info is not None else None  # a step of the diagram, by its name
            decided = _intake_decision(version, event.element, event.data.get("form") or {})
            name = f"{name}: {decided}" if name and decided else name
            if name and event.element in signs:  # one signature of a 会签: who signed it
                who = signers.completed(event)
                name = f"{name} · {who}" if who else name
        elif event.type == EventType.RATED and event.data.get("channel") == "online":
            name = "评价"
        elif event.type == EventType.CASE_SUSPENDED:  # the kind, never the internal reason
            name = f"挂起 ({kind_label(str(event.data.get('kind', 'other')))})"
        elif event.type == EventType.CASE_UNSUSPENDED:
            name = "恢复办理"
        elif event.type == EventType.CLOCK_STARTED and event.data.get("deemed"):
            name = f"自收到材料之日 ({event.data.get('started_on')}) 起计算办理时限"
        if name:
            steps.append({"step": name, "at": event.at.isoformat()})
    return steps


def _intake_decision(version: BundleVersion, element: str | None, form: dict[str, Any]) -> str:
    """一窗受理's decision by its title in the form (受理, 补正, 不予受理...), else ""."""
    intake = version.meta.intake
    info = version.human_tasks.get(element or "")
    if element != intake.element or info is None or not info.form:
        return ""
    value = form.get(intake.decision_field)
    prop = field_schema(version.forms.get(info.form), intake.decision_field) or {}
    found = prop.get("oneOf")
    options: list[Any] = found if isinstance(found, list) else []
    return next(
        (str(o.get("title")) for o in options if isinstance(o, dict) and o.get("const") == value),
        "",
    )


def _delivery(version: BundleVersion, case: Case, events: list[CaseEvent]) -> dict[str, Any] | None:
    """How the certificates reach the applicant, once the case says (bundle.json `visits`):
    `method` (the form's title of the value: 免费邮寄), `remote` (no visit to collect them),
    `postal`, `address` (the `address_field`'s value, a mobile number masked) and `sent`
    (a completed step wrote the choice, or the case is concluded). None while the case does not
    say: the window's collection applies."""
    visits = version.meta.visits
    value = case.data.get(visits.delivery_field)
    if value is None or value == "":
        return None
    title = str(value)
    for schema in version.forms.values():
        prop = field_schema(schema, visits.delivery_field)
        options = prop.get("oneOf") if isinstance(prop, Mapping) else None
        for option in options if isinstance(options, list) else ():
            if isinstance(option, Mapping) and option.get("const") == value:
                title = str(option.get("title") or value)
    address = case.data.get(visits.address_field) if visits.address_field else None
    written = any(
        e.type == EventType.TASK_COMPLETED
        and visits.delivery_field in (e.data.get("form") or {})
        and not e.data.get("kind")
        for e in events
    )
    return {
        "method": title,
        "remote": value in visits.remote_delivery,
        "postal": value in _POSTAL,
        "address": _MOBILE.sub(r"\1****\2", str(address)) if address else None,
        "sent": written or case.status == CaseStatus.COMPLETED,
    }


def _to_do(
    version: BundleVersion, case: Case, tasks: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """What the applicant must do now: 补正 the materials the window listed, by the task's
    limit (bundle.json `intake.correction_element` and `missing_field`)."""
    intake = version.meta.intake
    waiting = next((t for t in tasks if t["element"] == intake.correction_element), None)
    if waiting is None or case.status != CaseStatus.RUNNING:
        return None
    names = {m.code: m.name for m in version.meta.materials}
    missing = case.data.get(intake.missing_field) or []
    return {
        "action": "补正",
        "materials": [names.get(str(m), str(m)) for m in missing if isinstance(m, str)],
        "by": waiting.get("deadline"),
    }


def progress_view(svc: Services, case_id: int) -> dict[str, Any]:
    """The progress page's content for a case whose code the caller has checked."""
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        view = load_case_view(svc, uow, case)
        version, runtime = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case_id)
        signs = set(runtime.sign_collections())  # 会签/或签 elements
        timeline = _timeline(version, case, uow, events, signs)
        signers = _Signers(uow, version)
        steps = [  # each open signature of a 会签 by the department it waits on
            f"{t['name']} · {who}"
            if t["element"] in signs and (who := signers.of(t.get("assignee"), t["groups"]))
            else t["name"]
            for t in view["tasks"]
            if t["kind"] == "bpmn"
        ]
        delivery = _delivery(version, case, events)
        rated = uow.ratings.channels(case_id)
        heard = hearing_rights.public(
            hearing_rights.state(svc, uow, case, version)
        )  # 听证 (Arts. 46–47)
        # 特别程序 (Art. 45) under way: which, since when, how long it is expected to take
        current = (
            current_pause(case_pauses(events, version, svc.tz))
            if view["clock"] == "paused"
            else None
        )
    collection = version.meta.collection
    return {
        "id": view["id"],
        "bundle": version.name,
        "status": view["status"],
        "outcome": view["outcome"],
        "received_at": view["created_at"],
        "steps": steps,
        "timeline": timeline,
        "to_do": _to_do(version, case, view["tasks"]),
        "deadline": view["deadline"],
        "deadline_provisional": bool(view.get("deadline_provisional")),
        "remaining_workdays": view["remaining_workdays"],
        "clock": view["clock"],
        # Art. 32: 受理期限 while the window has not answered, or 视为受理 (intake_limit.py)
        "intake": view["intake"],
        # 延期 (Art. 42): the working days granted; the deadline above includes them
        "extended_workdays": int(view["time_limit"].get("extended_workdays") or 0),
        # 送达 (Art. 44): the certificates are issued or served by this day
        "delivery_deadline": next(
            (t["deadline"] for t in view["tasks"] if t.get("limit_kind") == "delivery"), None
        ),
        "certificates": [
            {k: c[k] for k in ("number", "title", "status", "issued_on", "expires_on")}
            for c in view["certificates"]
        ],
        "collection": None
        if collection is None
        else {"place": collection.place, "hours": collection.hours, "phone": collection.phone},
        # 送达: by post (to the address), electronically, or at the window (`collection`)
        "delivery": delivery,
        "rating": None
        if view["rating"] is None
        else {  # without the clerk's name
            k: v for k, v in view["rating"].items() if k != "rated_by"
        },
        # the applicant may rate once online, after 办结, whatever the window recorded
        "may_rate": view["status"] == str(CaseStatus.COMPLETED) and "online" not in rated,
        # 挂起: the applicant reads the kind (专家评审...) and whether the time counts, not the
        # clerk's reason text
        "suspension": None
        if view["suspension"] is None
        else {k: view["suspension"][k] for k in ("kind", "kind_label", "clock", "at")},
        "procedure": {
            k: current[k] for k in ("label", "since", "expected_workdays", "expected_until")
        }
        if current is not None and current["art45"]
        else None,
        "preliminary": view["preliminary"],  # 下级初审 (Art. 43)
        "hearing": heard,  # 听证 (Arts. 46–47): {"request_by"} while it may be asked, or held
    }
