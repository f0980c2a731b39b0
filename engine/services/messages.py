"""The staff message centre and 催办 (issue 17 · G).

A message tells a member of staff that something needs them: a new task in one of their groups,
预警 or 超期 of a case they hold a task of, 督办 for the supervisors, a task returned to their
group, a 催办. Each is written in the transaction of the step that causes it (a failed step
leaves none), one row per recipient; the top bar counts the unread ones.

The helpers `tasks_opened`, `to_holders`, `supervision` and `task_returned` are called by the
steps (steps.py, deadlines.py, cases.py); the use cases `inbox`, `unread_count`, `mark_read`,
`open_message` and `urge` by the pages and the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from engine.domain.model import Case, EventType, HumanTask, TaskStatus
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.notifications import SmtpSender
from engine.persistence.db import TransientError
from engine.persistence.unit_of_work import UnitOfWork

from .context import Services
from .notify import notify
from .suspended import require_workable


class MessageKind(StrEnum):
    TASK = "task"  # a new task in one of my groups (or assigned to me)
    WARNING = "warning"  # 预警
    OVERDUE = "overdue"  # 超期
    SUPERVISION = "supervision"  # 督办
    RETURNED = "returned"  # a task back in my group: 取消认领, or sent back to a step that ran
    URGE = "urge"  # 催办
    COPY = "copy"  # 抄送: a case copied to me (issue 18 · 6, engine/services/copies.py)

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    MessageKind.TASK: "新任务",
    MessageKind.WARNING: "预警",
    MessageKind.OVERDUE: "超期",
    MessageKind.SUPERVISION: "督办",
    MessageKind.RETURNED: "退回",
    MessageKind.URGE: "催办",
    MessageKind.COPY: "抄送",
}

URGE_INTERVAL = timedelta(hours=1)  # one 催办 per task per hour
URGE_MAX_CHARS = 500
PAGE_SIZE = 100


def _message(
    kind: MessageKind,
    title: str,
    body: str,
    case_id: int | None,
    task_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "kind": str(kind),
        "title": title[:300],
        "body": body,
        "case_id": case_id,
        "task_id": task_id,
        "created_at": now,
    }


def _case_words(case: Case, version_name: str) -> str:
    return f"办件 {case.id} ({version_name})" if version_name else f"办件 {case.id}"


def to_holders(
    uow: UnitOfWork,
    tasks: Iterable[HumanTask],
    kind: MessageKind,
    title: str,
    body: str,
    now: datetime,
    actor: str = "",
) -> None:
    """A message about each task to whoever holds it: its assignee when claimed, else every
    member of its groups (but `actor`). Queued with the step's writes."""
    to_groups = []
    for task in tasks:
        message = _message(kind, title, body, task.case_id, task.id, now)
        if task.assignee is not None:
            if task.assignee != actor:
                uow.messages.to_users([task.assignee], message)
        else:
            if task.groups:
                to_groups.append(message)
            # its candidate users (candidateUsers), as its groups' members
            uow.messages.to_users([u for u in task.candidate_users if u != actor], message)
    uow.messages.to_task_groups(to_groups, actor)


def tasks_opened(
    uow: UnitOfWork,
    case: Case,
    version_name: str,
    tasks: list[HumanTask],
    actor: str,
    ran_before: Callable[[str], bool] | None = None,
) -> None:
    """A step opened `tasks`: a message to each one's holders. One statement for all of them.
    `ran_before(element)`: whether the element already ran in this case, so that the task comes
    back (退回, 补正 then 受理 again): told as such."""
    if not tasks:
        return
    words = _case_words(case, version_name)
    to_groups = []
    for task in tasks:
        assert task.created_at is not None
        if ran_before is not None and ran_before(task.element):
            kind, title = MessageKind.RETURNED, f"退回重办: {task.name}"
            body = f"{words} 的「{task.name}」退回, 需要再次办理。"
        else:
            kind, title = MessageKind.TASK, f"新任务: {task.name}"
            body = f"{words} 有新的待办任务「{task.name}」。"
        message = _message(kind, title, body, case.id, task.id, task.created_at)
        if task.assignee is not None:
            if task.assignee != actor:
                uow.messages.to_users([task.assignee], message)
        else:
            if task.groups:
                to_groups.append(message)
            # its candidate users (candidateUsers), as its groups' members
            uow.messages.to_users([u for u in task.candidate_users if u != actor], message)
    uow.messages.to_task_groups(to_groups, actor)


def supervision(
    uow: UnitOfWork, case: Case, version_name: str, task: HumanTask, about: str, now: datetime
) -> None:
    """督办: the supervisors (members of the 督办 task's group) are told."""
    words = _case_words(case, version_name)
    message = _message(
        MessageKind.SUPERVISION, f"督办: {words}", f"{about}\n请尽快督办。", case.id, task.id, now
    )
    uow.messages.to_task_groups([message], "")


def task_returned(uow: UnitOfWork, case: Case, task: HumanTask, actor: str, now: datetime) -> None:
    """取消认领: the task is back in its groups' queue; their other members are told."""
    message = _message(
        MessageKind.RETURNED,
        f"任务退回组内: {task.name}",
        f"{actor} 取消认领了办件 {case.id} 的任务「{task.name}」, 任务已回到组内待办, 请认领办理。",
        case.id,
        task.id,
        now,
    )
    uow.messages.to_task_groups([message], actor)


# ------------------------------------------------------------------ the message centre


@dataclass(frozen=True)
class Message:
    id: int
    kind: MessageKind
    title: str
    body: str
    case_id: int | None
    task_id: str | None
    created_at: datetime
    read_at: datetime | None

    @property
    def kind_label(self) -> str:
        return self.kind.label

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": str(self.kind),
            "kind_label": self.kind_label,
            "title": self.title,
            "body": self.body,
            "case_id": self.case_id,
            "task_id": self.task_id,
            "created_at": self.created_at.isoformat(),
            "read_at": self.read_at.isoformat() if self.read_at else None,
        }


def _row(row: Any) -> Message:
    try:
        kind = MessageKind(row.kind)
    except ValueError:
        kind = MessageKind.TASK
    return Message(
        row.id, kind, row.title, row.body, row.case_id, row.task_id, row.created_at, row.read_at
    )


def inbox(
    svc: Services, user: User, unread_only: bool = False, limit: int = PAGE_SIZE
) -> list[Message]:
    """The user's messages, newest first."""
    with svc.uow() as uow:
        rows = uow.messages.for_user(user.name, limit, unread_only)
    return [_row(r) for r in rows]


def unread_count(svc: Services, user: User) -> int:
    """How many of the user's messages are unread: one COUNT over (user_name, read_at)."""
    with svc.uow() as uow:
        return uow.messages.unread(user.name)


def unread_badge(svc: Services, user: User) -> int:
    """`unread_count` for the top bar of every page: 0 when the database cannot answer, so the
    badge never takes a page (an error page above all) down with it."""
    try:
        return unread_count(svc, user)
    except TransientError:
        return 0


def mark_read(svc: Services, user: User, message_id: int | None = None) -> int:
    """Mark one message of the user's (or, without an id, all of them) read."""
    with svc.uow(write=True) as uow:
        if message_id is not None:
            row = uow.messages.get(message_id)
            if row is None or row.user_name != user.name:
                raise NotFound(f"消息 {message_id} 不存在")
        changed = uow.messages.mark_read(user.name, message_id, svc.clock())
        uow.commit()
    return changed


def open_message(svc: Services, user: User, message_id: int) -> tuple[Message, bool]:
    """Mark the message read and give it back, with whether its task is still open (the page
    then goes to the task, else to the case)."""
    with svc.uow(write=True) as uow:
        row = uow.messages.get(message_id)
        if row is None or row.user_name != user.name:
            raise NotFound(f"消息 {message_id} 不存在")
        task = uow.tasks.get(row.task_id) if row.task_id else None
        uow.messages.mark_read(user.name, message_id, svc.clock())
        uow.commit()
    return _row(row), task is not None and task.status == TaskStatus.OPEN


# ------------------------------------------------------------------ 催办


def may_urge(user: User, escalation_group: str | None) -> bool:
    """催办 is for an administrator, or a member of the bundle's 督办 group."""
    if user.has_role(Role.ADMIN):
        return True
    return (
        user.has_role(Role.CLERK)
        and escalation_group is not None
        and escalation_group in user.groups
    )


def task_urges(svc: Services, user: User, task_id: str) -> list[dict[str, str]]:
    """The task's latest 催办 (who, when in local time, the message), for its page."""
    if not user.has_role(Role.CLERK, Role.ADMIN):
        return []
    with svc.uow() as uow:
        rows = uow.messages.urges(task_id)
    return [
        {
            "by": str(r.actor),
            "at": r.at.astimezone(svc.tz).strftime("%Y-%m-%d %H:%M"),
            "message": str((r.data or {}).get("message") or ""),
        }
        for r in rows
    ]


def may_urge_case(svc: Services, user: User, case_id: int) -> bool:
    """Whether `user` may urge the tasks of this case (the case page shows the form then)."""
    if not user.has_role(Role.ADMIN, Role.CLERK):
        return False
    with svc.uow() as uow:
        case = uow.cases.get(case_id)
        if case is None:
            return False
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    return may_urge(user, version.time_policy.escalation_group)


def _urge_text(message: Any) -> str:
    if message is None:
        return ""
    if not isinstance(message, str):
        raise Invalid("催办留言须为文字", [{"field": "message", "message": "催办留言须为文字"}])
    text = message.strip()
    if len(text) > URGE_MAX_CHARS:
        problem = f"催办留言不能超过 {URGE_MAX_CHARS} 个字 (现有 {len(text)} 个字)"
        raise Invalid(problem, [{"field": "message", "message": problem}])
    return text


def urge(svc: Services, user: User, task_id: str, message: Any = None) -> dict[str, Any]:
    """催办: a supervisor urges an open task. Recorded as the case's `task_urged` event, with a
    message to the task's holder (or its groups) and, where the group has an e-mail address,
    a notification in the outbox; all in one transaction. One per task per hour."""
    text = _urge_text(message)
    with svc.uow(write=True) as uow:
        found = uow.cases.get_for_task(task_id)  # the case row locked
        if found is None:
            raise NotFound(f"任务 {task_id} 不存在")
        case, open_tasks = found
        task = next((t for t in open_tasks if t.id == task_id), None) or uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在")
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        if not may_urge(user, version.time_policy.escalation_group):
            group = version.time_policy.escalation_group
            who = f"督办组 ({group}) 成员或管理员" if group else "管理员"
            raise Forbidden(f"只有{who}可以催办")
        if task.status != TaskStatus.OPEN:
            raise Conflict(f"任务「{task.name}」已结束, 不能催办")
        require_workable(uow, case)  # 挂起: not urged until 恢复
        now = svc.clock()
        last = uow.messages.last_urged(case.id, task.id)
        if last is not None and now - last < URGE_INTERVAL:
            wait = URGE_INTERVAL - (now - last)
            minutes = max(1, int(wait.total_seconds() // 60))
            local = last.astimezone(svc.tz).strftime("%H:%M")
            raise Conflict(
                f"任务「{task.name}」已于 {local} 催办过, 每个任务一小时内只能催办一次,"
                f" 请 {minutes} 分钟后再试"
            )
        holders = [task.assignee] if task.assignee else [f"group:{g}" for g in task.groups]
        case.record(EventType.TASK_URGED, user.name, now, task, {"message": text, "to": holders})
        words = _case_words(case, version.name)
        body = f"{user.name} 催办: {words} 的任务「{task.name}」, 请尽快办理。"
        if text:
            body += f"\n留言: {text}"
        title = f"催办: {task.name}"
        to_holders(uow, [task], MessageKind.URGE, title, body, now, actor=user.name)
        sender = svc.sender
        if task.assignee is None and isinstance(sender, SmtpSender):
            for group in task.groups:
                if sender.groups.get(group):
                    notify(uow, case.id, "urge", f"group:{group}", f"{title} ({words})", body, now)
        uow.cases.save(case)
        uow.commit()
    return {
        "task_id": task.id,
        "case_id": case.id,
        "urged_by": user.name,
        "urged_at": now.isoformat(),
        "message": text,
        "to": holders,
    }
