"""The window's daily tools: the 已办 list (tasks I completed), the staff case search, the next
step after an action, and the printable 受理通知书 and 不予受理通知书.

Read-only: nothing here writes.

Who sees what: any clerk may open any case's page (case_pages.case_page asks for the role only),
so the staff search finds every case, as the auditors' search does; the 已办 list shows only the
signed-in user's own completed tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from engine.bpmn.assignment import group_choices, is_expression
from engine.domain.bundle_versions import BundleVersion
from engine.domain.model import CaseEvent, EventType
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound
from engine.persistence.desk_repository import DeskRepository, DoneRow

from . import catalogue, documents
from .case_pages import local_time
from .case_search import find_cases
from .queries import parties_of

if TYPE_CHECKING:
    from .context import Services

DONE_PAGE = 25
MAX_DONE_PAGE = 100
# the intake decision values (or their titles) that mean 不予受理
REFUSAL_VALUES = frozenset({"refuse", "reject"})
REFUSAL_TITLE = "不予受理"

ACCEPTANCE = "acceptance"
REFUSAL = "refusal"
NOTICE_TITLES = {ACCEPTANCE: "受理通知书", REFUSAL: "不予受理通知书"}


# -- what a submitted form decided ---------------------------------------------------------------


def _options(prop: Mapping[str, Any]) -> dict[Any, str]:
    """An enum field's values and their titles."""
    one_of = prop.get("oneOf")
    if isinstance(one_of, list):
        return {
            o["const"]: str(o.get("title") or o["const"])
            for o in one_of
            if isinstance(o, dict) and "const" in o
        }
    enum = prop.get("enum")
    return {v: str(v) for v in enum} if isinstance(enum, list) else {}


def decision_of(schema: Mapping[str, Any] | None, form: Mapping[str, Any]) -> dict[str, str]:
    """What a submitted form decided, in words: its first required choice field with a few fixed
    options (the row of choices a task page shows: 受理 / 补正 / 不予受理 ...), and its opinion
    (a text field named ``*opinion``), each as {"field", "label", "value"}."""
    found: dict[str, str] = {}
    if not schema:
        return found
    required = set(schema.get("required") or [])
    props = schema.get("properties") or {}
    for key, prop in props.items():
        if not isinstance(prop, dict) or key not in form:
            continue
        options = _options(prop)
        if "decision" not in found and key in required and 1 < len(options) <= 6:
            found["decision"] = options.get(form[key], str(form[key]))
            found["decision_field"] = str(prop.get("title") or key)
            found["decision_value"] = str(form[key])
        elif "opinion" not in found and key.endswith("opinion") and isinstance(form[key], str):
            if form[key].strip():
                found["opinion"] = form[key].strip()
    return found


# -- the 已办 list -------------------------------------------------------------------------------


def _done_view(svc: Services, row: DoneRow) -> dict[str, Any]:
    schema = row.forms.get(row.form_key or "") if row.form_key else None
    applicant_field = row.meta.applicant.name_field
    return {
        "event": row.event_id,
        "task_id": row.task_id,
        "case_id": row.case_id,
        "element": row.element,
        "task_name": row.task_name or row.element or "",
        "bundle": row.bundle_key,
        "bundle_name": row.bundle_name,
        "applicant": row.case_data.get(applicant_field),
        "case_status": str(row.case_status),
        "case_status_label": row.case_status.label,
        "completed_at": local_time(svc, row.at),
        **decision_of(schema, row.form),
    }


def done_tasks(
    svc: Services, user: User, limit: int = DONE_PAGE, after: str | None = None
) -> dict[str, Any]:
    """The tasks `user` completed, newest first: the case, its bundle and applicant, the
    decision and opinion submitted, when. `after` is the `next` of the page before."""
    if not user.has_role(Role.CLERK, Role.ADMIN):
        raise Forbidden("只有窗口和审批人员有已办任务")
    if not 1 <= limit <= MAX_DONE_PAGE:
        raise Invalid("每页条数无效", [{"field": "size", "message": "每页条数应在 1 到 100 之间"}])
    before: int | None = None
    if after:
        if not (after.isascii() and after.isdigit()) or len(after) > 19:
            raise Invalid("分页位置无效", [{"field": "after", "message": "分页位置无效"}])
        before = int(after)
    with svc.uow() as uow:
        rows = DeskRepository(uow.conn).completed_by(user.name, limit + 1, before)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "tasks": [_done_view(svc, r) for r in rows],
        "next": str(rows[-1].event_id) if more and rows else None,
        "limit": limit,
    }


# -- the staff case search ----------------------------------------------------------------------


def staff_search(svc: Services, user: User, criteria: Mapping[str, Any]) -> dict[str, Any]:
    """The case search for the window and the reviewers (case_search.find_cases): number,
    applicant (name or part of it), id_number (exactly), bundle, status, received_from /
    received_to. Clerks may open every case's page, so they search every case."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查询办件")
    return find_cases(svc, criteria)


# -- 受理通知书 and 不予受理通知书 --------------------------------------------------------------


def _intake_events(version: BundleVersion, events: Iterable[CaseEvent]) -> list[CaseEvent]:
    element = version.meta.intake.element
    return [e for e in events if e.type == EventType.TASK_COMPLETED and e.element == element]


def _is_refusal(version: BundleVersion, event: CaseEvent) -> bool:
    intake = version.meta.intake
    value = (event.data.get("form") or {}).get(intake.decision_field)
    if value in REFUSAL_VALUES:
        return True
    task = version.human_tasks.get(intake.element)
    schema = version.forms.get(task.form or "") if task is not None and task.form else None
    prop = ((schema or {}).get("properties") or {}).get(intake.decision_field)
    return isinstance(prop, dict) and _options(prop).get(value) == REFUSAL_TITLE


def notice_events(version: BundleVersion, events: list[CaseEvent]) -> dict[str, CaseEvent]:
    """The event each decision notice of a case stands on: 受理 is when its clock started
    (bundle.json `time_limits.starts_at`; the decision is the window's completion just before
    it, else the clock's own start), 不予受理 the window's completion deciding it."""
    found: dict[str, CaseEvent] = {}
    intakes = _intake_events(version, events)
    refused = [e for e in intakes if _is_refusal(version, e)]
    if refused:
        found[REFUSAL] = refused[-1]
    started = next((e for e in events if e.type == EventType.CLOCK_STARTED), None)
    if started is not None and not refused:
        before = [e for e in intakes if e.seq < started.seq]
        found[ACCEPTANCE] = before[-1] if before else started
    return found


def available_notices(svc: Services, user: User, case_id: int) -> list[dict[str, str]]:
    """The decision notices a case has, as [{"kind", "title"}], for its page."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case_id)
    found = notice_events(version, events)
    return [{"kind": k, "title": NOTICE_TITLES[k]} for k in (ACCEPTANCE, REFUSAL) if k in found]


def decision_notice(svc: Services, user: User, case_id: int, kind: str) -> dict[str, Any]:
    """A 受理通知书 (`acceptance`) or 不予受理通知书 (`refusal`) of a case: the case, the
    applicant, the issuer, the local date of the decision, who decided, the reason given, and
    for 受理 the promised and statutory deadlines."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    if kind not in NOTICE_TITLES:
        raise NotFound("没有这种通知书")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case_id)
        event = notice_events(version, events).get(kind)
        if event is None:
            raise NotFound(f"办件 {case_id} 没有{NOTICE_TITLES[kind]}")
        # signed with the clerk's display name and department, dated locally (documents.py)
        signer = documents.signed(svc, uow, event.actor, event.at)
    form = event.data.get("form") or {} if event.type == EventType.TASK_COMPLETED else {}
    task = version.human_tasks.get(event.element or "")
    schema = version.forms.get(task.form or "") if task is not None and task.form else None
    decided = decision_of(schema, form)
    clock = case.clock
    return {
        "kind": kind,
        "title": NOTICE_TITLES[kind],
        "case_id": case_id,
        "bundle": version.name,
        "issuer": version.meta.issuer or version.name,
        "item_names": [i.name for i in version.meta.items],
        **parties_of(version, case.data),
        "received_on": svc.today(case.created_at).isoformat(),
        "decided_on": signer["signed_on"],
        "decided_by": signer["signed_by"] if event.actor != "system" else "",
        "decision": decided.get("decision", NOTICE_TITLES[kind].removesuffix("通知书")),
        "opinion": decided.get("opinion", ""),
        "limit": clock.limit,
        "deadline": clock.deadline.isoformat() if clock.deadline else None,
        "statutory_deadline": clock.statutory_deadline.isoformat()
        if clock.statutory_deadline
        else None,
    }


# -- the next step after an action ---------------------------------------------------------------


def next_step(svc: Services, user: User, task_id: str) -> dict[str, Any]:
    """What the step that completed `task_id` leads the clerk to do next: {"accepted": the
    deadline (受理 just now), "correction": True (补正 decided: print the 告知书), "refused": True,
    "certificates": [{"number", "title"}] issued in the step, "case_id"}. Empty when the task is
    not completed."""
    if not user.has_role(Role.CLERK, Role.ADMIN):
        raise Forbidden("无权查看任务")
    with svc.uow() as uow:
        task = uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在")
        case = uow.cases.existing(task.case_id)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        events = uow.cases.events(case.id)
    done = next(
        (e for e in events if e.type == EventType.TASK_COMPLETED and e.task_id == task_id), None
    )
    if done is None:
        return {}
    found: dict[str, Any] = {"case_id": case.id}
    # the step's own events: those after the completion, up to the next engine event
    step: list[CaseEvent] = []
    for e in events:
        if e.seq <= done.seq:
            continue
        if e.type in (EventType.TASK_COMPLETED, EventType.TIMER_FIRED, EventType.CASE_CANCELLED):
            break
        step.append(e)
    started = next((e for e in step if e.type == EventType.CLOCK_STARTED), None)
    if started is not None:
        found["accepted"] = started.data.get("deadline") or ""
    if version.meta.intake.is_correction(done.element, done.data.get("form") or {}):
        found["correction"] = True
    if done.element == version.meta.intake.element and _is_refusal(version, done):
        found["refused"] = True
    certs = [
        {"number": str(c.get("number")), "title": str(c.get("title"))}
        for e in step
        if e.type == EventType.CERTIFICATES_ISSUED
        for c in e.data.get("certificates", [])
    ]
    if certs:
        found["certificates"] = certs
    return found


# -- who receives applications (一窗受理 · 收件) ---------------------------------------------------


def receiving_groups(version: BundleVersion) -> frozenset[str] | None:
    """The groups that receive a bundle's applications: those of its intake task (bundle.json
    `intake.element`, "intake" by default) when the diagram has that task with groups (for a
    group written `${village_group}`, the values the application's choice field of that name
    offers); None when it has none (every clerk may receive)."""
    task = version.human_tasks.get(version.meta.intake.element)
    if task is None or not task.groups:
        return None
    start = version.forms.get(version.start_form) if version.start_form else None
    found: set[str] = set()
    for group in task.groups:
        # `${village_group}`: the groups the application may name (its choice field's values)
        found.update(group_choices(group, start) if is_expression(group) else (group,))
    return frozenset(found) or None


def receivable_bundles(svc: Services, user: User) -> list[dict[str, Any]]:
    """The startable bundles (catalogue.startable_bundles) `user` receives at the window: those
    whose intake groups include one of the user's, all of them for an administrator. Reviewers
    and the issuer, whose groups hold no intake task, get none: no 收件 button for them."""
    bundles = catalogue.startable_bundles(svc, user)
    if user.has_role(Role.ADMIN):
        return bundles
    with svc.uow() as uow:  # the published versions, read once (as startable_bundles did)
        published = {v.key: v for v, retired in uow.bundles.list_published() if not retired}
    found = []
    for b in bundles:
        version = published.get(b["key"])
        groups = receiving_groups(version) if version is not None else None
        if groups is None or user.groups & groups:
            found.append(b)
    return found
