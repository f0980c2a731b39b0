"""Cases, their human tasks and their events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from engine.errors import Conflict, Forbidden

from .audit import GENESIS, canonical, event_hash, state_hash
from .suspension import suspended_message
from .timelimits import CaseClock
from .users import Role, User


class CaseStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"
    SUSPENDED = "suspended"  # 挂起: nothing can be worked, timers wait (issue 18 · 8)

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskKind(StrEnum):
    BPMN = "bpmn"  # a user or manual task of the diagram
    SUPERVISION = "supervision"  # 督办: created when a case or task runs past its limit
    RECTIFICATION = "rectification"  # 整改: after a bad rating
    FOLLOW_UP = "follow_up"  # 回访: after the rectification
    EXTENSION = "extension"  # 延期审批: the office head approves or refuses an extension (Art. 42)
    HEARING = "hearing"  # 听证: held at the applicant's request (Arts. 46–47)


class EventType(StrEnum):
    CASE_STARTED = "case_started"
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    TASK_COMPLETED = "task_completed"
    CASE_COMPLETED = "case_completed"
    CASE_CANCELLED = "case_cancelled"
    TIMER_FIRED = "timer_fired"
    CLOCK_STARTED = "clock_started"  # 受理: the time limit starts
    CLOCK_PAUSED = "clock_paused"  # 暂停计时
    CLOCK_RESUMED = "clock_resumed"
    CLOCK_STOPPED = "clock_stopped"  # the time limit ends before 办结 (统一出件, then 批后核查)
    CASE_WARNING = "case_warning"  # 预警
    CASE_OVERDUE = "case_overdue"  # 超期
    TASK_OVERDUE = "task_overdue"
    SUPERVISION_OPENED = "supervision_opened"  # 督办
    CERTIFICATES_ISSUED = "certificates_issued"  # 统一发证
    CERTIFICATES_REVOKED = "certificates_revoked"
    # 注销 of another case's certificate, by the case whose task names it (`cancels_certificate`)
    CERTIFICATE_CANCELLED = "certificate_cancelled"
    CERTIFICATE_REMINDER = "certificate_reminder"  # 无感续证: expiry is near
    RATED = "rated"  # 好差评
    RECTIFICATION_OPENED = "rectification_opened"  # 差评整改
    FOLLOW_UP_OPENED = "follow_up_opened"  # 整改回访
    # the case stopped as an incident (status error): its engine-only progress passed a bound, or
    # a timer step failed; an administrator resumes it (back to running) or cancels it
    INCIDENT_RAISED = "incident_raised"
    INCIDENT_RESUMED = "incident_resumed"
    # an administrator moved the case onto another version of its bundle (engine/services/
    # recovery.py), or corrected fields of its data; both re-executed by the audit
    CASE_MIGRATED = "case_migrated"
    CASE_DATA_CORRECTED = "case_data_corrected"
    TASK_URGED = "task_urged"  # 催办: a supervisor urged an open task (issue 17 · G)
    # issue 18, the task operations of Chinese approval systems (docs/guide.md)
    TASK_SENT_BACK = "task_sent_back"  # 退回: the case rewound to an earlier task of its path
    TASK_RECALLED = "task_recalled"  # 撤回: the completer took the completed task back
    TASK_TRANSFERRED = "task_transferred"  # 转办
    TASK_DELEGATED = "task_delegated"  # 委派: a colleague is asked for an opinion
    DELEGATION_ANSWERED = "delegation_answered"  # the delegate's opinion; the task comes back
    CASE_COPIED = "case_copied"  # 抄送
    COPY_READ = "copy_read"  # a copied reader opened the case
    CASE_SUSPENDED = "case_suspended"  # 挂起
    CASE_UNSUSPENDED = "case_unsuspended"  # 恢复 (after 挂起)
    CASE_COMMENTED = "case_commented"  # 评论
    # 加签 / 减签 (issue 18 · 5): `data.position` before / after (a colleague signs before the task
    # comes back, or after its holder decided) or parallel (a new instance of a running 会签,
    # which moves the engine); the added signer's signature
    SIGNER_ADDED = "signer_added"
    SIGNER_REMOVED = "signer_removed"
    ADDED_SIGNATURE = "added_signature"
    # The Administrative Licensing Law's limits (issue 19, docs/time-limits.md)
    INTAKE_WARNING = "intake_warning"  # Art. 32: the intake limit is about to pass
    INTAKE_DEEMED_ACCEPTED = "intake_deemed_accepted"  # Art. 32: not answered in time
    EXTENSION_REQUESTED = "extension_requested"  # 延期 (Art. 42) asked, an approval task opens
    EXTENSION_GRANTED = "extension_granted"  # the office head approved: the deadlines move
    EXTENSION_REFUSED = "extension_refused"
    TASK_WARNING = "task_warning"  # a task's own limit is near (送达, Art. 44, and any other)
    PRELIMINARY_STARTED = "preliminary_started"  # Art. 43: the lower level's review limit
    CASE_FORWARDED = "case_forwarded"  # 转报: the lower level forwarded; the upper level's starts
    HEARING_RIGHTS_NOTIFIED = "hearing_rights_notified"  # Art. 47: the applicant told of them
    HEARING_REQUESTED = "hearing_requested"  # a hearing task opens, the clock stops
    HEARING_WAIVED = "hearing_waived"  # the applicant declines, or the request period passed

    @property
    def label(self) -> str:
        """What the timeline calls the event."""
        return _EVENT_LABELS[self]


_STATUS_LABELS = {
    CaseStatus.RUNNING: "办理中",
    CaseStatus.COMPLETED: "已办结",
    CaseStatus.CANCELLED: "已撤销",
    CaseStatus.ERROR: "出错",
    CaseStatus.SUSPENDED: "已挂起",
}
_EVENT_LABELS = {
    EventType.CASE_STARTED: "收件",
    EventType.TASK_CLAIMED: "认领任务",
    EventType.TASK_UNCLAIMED: "取消认领",
    EventType.TASK_COMPLETED: "办理完成",
    EventType.CASE_COMPLETED: "办结",
    EventType.CASE_CANCELLED: "撤销办件",
    EventType.TIMER_FIRED: "定时触发",
    EventType.CLOCK_STARTED: "受理, 开始计时",
    EventType.CLOCK_PAUSED: "暂停计时",
    EventType.CLOCK_RESUMED: "恢复计时",
    EventType.CLOCK_STOPPED: "停止计时",
    EventType.CASE_WARNING: "预警",
    EventType.CASE_OVERDUE: "超期",
    EventType.TASK_OVERDUE: "任务超期",
    EventType.SUPERVISION_OPENED: "督办",
    EventType.CERTIFICATES_ISSUED: "统一发证",
    EventType.CERTIFICATES_REVOKED: "撤销证照",
    EventType.CERTIFICATE_CANCELLED: "注销证照",
    EventType.CERTIFICATE_REMINDER: "证照到期提醒 (无感续证)",
    EventType.RATED: "好差评",
    EventType.RECTIFICATION_OPENED: "差评整改",
    EventType.FOLLOW_UP_OPENED: "整改回访",
    EventType.INCIDENT_RAISED: "出错, 已停止自动推进",
    EventType.INCIDENT_RESUMED: "恢复办理",
    EventType.CASE_MIGRATED: "迁移到新版本",
    EventType.CASE_DATA_CORRECTED: "更正办件数据",
    EventType.TASK_URGED: "催办",
    EventType.TASK_SENT_BACK: "退回",
    EventType.TASK_RECALLED: "撤回任务",
    EventType.TASK_TRANSFERRED: "转办",
    EventType.TASK_DELEGATED: "委派",
    EventType.DELEGATION_ANSWERED: "委派答复",
    EventType.CASE_COPIED: "抄送",
    EventType.COPY_READ: "阅读抄送",
    EventType.CASE_SUSPENDED: "挂起",
    EventType.CASE_UNSUSPENDED: "解除挂起",
    EventType.CASE_COMMENTED: "评论",
    EventType.SIGNER_ADDED: "加签",
    EventType.SIGNER_REMOVED: "减签",
    EventType.ADDED_SIGNATURE: "加签人签署",
    EventType.INTAKE_WARNING: "受理期限预警",
    EventType.INTAKE_DEEMED_ACCEPTED: "逾期未答复, 视为受理",
    EventType.EXTENSION_REQUESTED: "申请延期",
    EventType.EXTENSION_GRANTED: "批准延期",
    EventType.EXTENSION_REFUSED: "不批准延期",
    EventType.TASK_WARNING: "任务时限预警",
    EventType.PRELIMINARY_STARTED: "下级初审开始计时",
    EventType.CASE_FORWARDED: "转报上级",
    EventType.HEARING_RIGHTS_NOTIFIED: "告知听证权利",
    EventType.HEARING_REQUESTED: "申请听证",
    EventType.HEARING_WAIVED: "放弃听证",
}


@dataclass
class HumanTask:
    id: str
    case_id: int
    element: str
    name: str
    groups: tuple[str, ...]
    form: str | None
    status: TaskStatus = TaskStatus.OPEN
    assignee: str | None = None
    created_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    kind: TaskKind = field(default_factory=lambda: TaskKind.BPMN)
    deadline: date | None = None
    # 委派: while delegated for an opinion, who delegated it (the assignee is the delegate)
    owner: str | None = None
    # 加签: "sign_before" / "sign_after" while an added signer holds it; None with an owner: 委派
    owner_kind: str | None = None
    # users who may claim and complete the task as its groups' members may (candidateUsers)
    candidate_users: tuple[str, ...] = ()
    # an hour limit's due moment (`time_limit: 4h`, docs/time-limits.md); `deadline` is its
    # local date. None for a day limit or none
    due_at: datetime | None = None

    def in_groups_of(self, user: User) -> bool:
        return bool(user.groups.intersection(self.groups))

    def offered_to(self, user: User) -> bool:
        """In the user's worklist before anyone claims it: a member of its groups, or one of
        its candidate users."""
        return self.in_groups_of(user) or user.name in self.candidate_users

    def _require_open(self) -> None:
        if self.status != TaskStatus.OPEN:
            raise Conflict(
                f"任务已{'办结' if self.status == TaskStatus.COMPLETED else '取消'}, 不能再办理"
            )

    def _require_group(self, user: User) -> None:
        if not user.has_role(Role.CLERK):
            raise Forbidden("只有窗口和审批人员可以办理任务")
        if not self.offered_to(user) and self.assignee != user.name:
            if self.groups:
                raise Forbidden(f"任务属于 {', '.join(self.groups)} 组, 您不在其中")
            people = ", ".join(self.candidate_users) or self.assignee or "指定人员"
            raise Forbidden(f"任务只交给 {people} 办理, 您不在其中")

    def claim(self, user: User) -> bool:
        """Claim for `user`; False when it already was theirs (nothing changed)."""
        self._require_group(user)
        self._require_open()
        if self.assignee == user.name:
            return False
        if self.assignee is not None:
            raise Conflict(f"任务已被 {self.assignee} 认领")
        self.assignee = user.name
        return True

    def unclaim(self, user: User) -> bool:
        self._require_group(user)
        self._require_open()
        if self.assignee is None:
            return False
        self.check_not_delegated(user)
        if self.assignee != user.name:
            raise Conflict(f"任务由 {self.assignee} 认领, 只有认领人可以取消认领")
        self.assignee = None
        return True

    def check_not_delegated(self, user: User) -> None:
        """委派: the delegate answers with an opinion, the owner waits for it."""
        if self.owner is None:
            return
        if self.owner_kind in ("sign_before", "sign_after"):  # 加签
            if self.assignee == user.name:
                raise Forbidden("加签的任务请签署后交回")
            raise Conflict(f"任务正在等待 {self.assignee} 加签, 请等其签署后再办理")
        if self.assignee == user.name:
            raise Forbidden("委派的任务请填写意见后交回")
        raise Conflict(f"任务已委派给 {self.assignee} 征求意见, 请等其交回后再办理")

    def check_can_complete(self, user: User) -> None:
        self._require_group(user)
        self._require_open()
        self.check_not_delegated(user)
        if self.assignee is not None and self.assignee != user.name:
            raise Forbidden(f"任务已被 {self.assignee} 认领, 只有认领人可以办理")

    def end(self, status: TaskStatus, by: str | None, at: datetime) -> None:
        self.status, self.ended_by, self.ended_at = status, by, at

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "element": self.element,
            "name": self.name,
            "groups": list(self.groups),
            "candidate_users": list(self.candidate_users),
            "assignee": self.assignee,
            "form": self.form,
            "kind": str(self.kind),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "status": str(self.status),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "owner": self.owner,
            "owner_kind": self.owner_kind,
        }


@dataclass
class CaseEvent:
    case_id: int
    seq: int
    type: EventType
    actor: str
    at: datetime
    task_id: str | None = None
    element: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    hash: str = ""
    state_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": str(self.type),
            "actor": self.actor,
            "at": self.at.isoformat(),
            "task": self.task_id,
            "element": self.element,
            "data": self.data,
            "hash": self.hash,
            "state_hash": self.state_hash,
        }


@dataclass
class Case:
    id: int
    bundle_key: str
    bundle_version_id: int
    version: int
    status: CaseStatus
    data: dict[str, Any]
    state: str
    revision: int
    last_seq: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    clock: CaseClock = field(default_factory=CaseClock)
    outcome: dict[str, str] | None = None
    access_hash: str | None = None
    last_hash: str = GENESIS
    # whether certificates were ever issued for the case (they are not read otherwise)
    has_certificates: bool = False
    new_events: list[CaseEvent] = field(default_factory=list)

    def record(
        self,
        type: EventType,
        actor: str,
        at: datetime,
        task: HumanTask | None = None,
        data: dict[str, Any] | None = None,
    ) -> CaseEvent:
        """Append an event; the unit of work stores it with the case's change."""
        self.last_seq += 1
        event = CaseEvent(
            self.id,
            self.last_seq,
            type,
            actor,
            at,
            task.id if task else None,
            task.element if task else None,
            data or {},
        )
        self.new_events.append(event)
        self.updated_at = at
        return event

    def seal(self) -> None:
        """Chain the new events: each gets its hash and the hash of the state they lead to."""
        after = state_hash(str(self.status), self.data, self.state)
        for event in self.new_events:
            event.data = json.loads(canonical(event.data))  # stored exactly as hashed
            event.hash = event_hash(
                self.id,
                event.seq,
                str(event.type),
                event.actor,
                event.at,
                event.task_id,
                event.element,
                event.data,
                self.last_hash,
            )
            event.state_hash = after
            self.last_hash = event.hash

    def require_running(self) -> None:
        if self.status == CaseStatus.SUSPENDED:  # engine/services/suspended.py says why
            raise Conflict(suspended_message(None))
        if self.status != CaseStatus.RUNNING:
            raise Conflict(f"办件状态为 {self.status}, 不能再办理")
