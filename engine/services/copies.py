"""抄送 (copy to), issue 18 · 6: let named people or groups read a case and its result without a
task; they see it in their 抄送我的 list, and their reading is recorded.

- `copy_case`: a clerk who holds one of the case's open tasks (assigned to them or open in one of
  their groups) or has worked one of its tasks (claimed or completed it), a member of the bundle's
  督办 group, or an administrator, copies the case to users and/or groups (`user:NAME`,
  `group:KEY`; at least one, at most `MAX_RECIPIENTS`, each must exist), with an optional note.
  A group is expanded to its members (clerks and administrators) at that moment: one
  `case_copies` row per reader, the `case_copied` event {"to", "note"} and a 抄送 message to each
  reader in the message centre, all in one transaction. Copying does not touch the case's
  status, data, tasks or time limit, and an ended case may be copied (its result is the point).
- `record_reading`: a reader opening the case page marks their unread copies of it read and
  records `copy_read` {"reader"} once (a second view records nothing; a later copy, once read,
  records another); `read` does the same for the API.
- `my_copies`, `unread_count`: the 抄送我的 list (unread first) and its badge.

Every clerk may open every case page in this application (办件查询), so a reader needs no extra
grant to open the case; the copy gives them the list, the notice and the record of reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.domain.model import Case, CaseStatus, EventType
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound
from engine.persistence.db import TransientError
from engine.persistence.unit_of_work import UnitOfWork

from .case_access import holder_groups, supervisor_groups
from .context import Services
from .messages import MessageKind
from .steps import retrying, save

MAX_RECIPIENTS = 50  # entries of `to` in one copy
MAX_READERS = 500  # readers one copy may reach once its groups are expanded
NOTE_MAX_CHARS = 500
PAGE_SIZE = 100
READER_ROLES = (Role.CLERK, Role.ADMIN)  # who can be copied: staff who open case pages


def _problem(field: str, message: str) -> Invalid:
    return Invalid(message, [{"field": field, "message": message}])


def _note(note: Any) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise _problem("note", "抄送说明须为文字")
    text = note.strip()
    if len(text) > NOTE_MAX_CHARS:
        raise _problem("note", f"抄送说明不能超过 {NOTE_MAX_CHARS} 个字 (现有 {len(text)} 个字)")
    return text


def _targets(to: Any) -> list[str]:
    """`to` as a list of distinct "user:NAME" / "group:KEY", in the order given."""
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not to:
        raise _problem("to", "请选择抄送给谁 (人员或分组, 至少一个)")
    if len(to) > MAX_RECIPIENTS:
        raise _problem("to", f"一次最多抄送 {MAX_RECIPIENTS} 个人员或分组 (现有 {len(to)} 个)")
    found: list[str] = []
    for item in to:
        if not isinstance(item, str):
            raise _problem("to", "抄送对象须写作 user:用户名 或 group:分组")
        kind, _, name = item.strip().partition(":")
        if kind not in ("user", "group") or not name.strip():
            raise _problem("to", f"抄送对象「{item}」须写作 user:用户名 或 group:分组")
        target = f"{kind}:{name.strip()}"
        if target not in found:
            found.append(target)
    return found


def _readers(uow: UnitOfWork, targets: list[str], copier: str) -> dict[str, str]:
    """{reader: the target that reached them} for the targets (the copier left out); unknown
    users and groups, and users who cannot open a case page, are refused."""
    everyone = {u.name: u for u in uow.users.all()}
    readers: dict[str, str] = {}
    for target in targets:
        kind, _, name = target.partition(":")
        if kind == "user":
            user = everyone.get(name)
            if user is None:
                raise _problem("to", f"用户「{name}」不存在")
            if not user.has_role(*READER_ROLES):
                raise _problem("to", f"用户「{name}」不是窗口或审批人员, 不能抄送")
            members = [user]
        else:
            members = [u for u in everyone.values() if name in u.groups]
            if not members:
                raise _problem("to", f"分组「{name}」不存在或没有成员")
            members = [u for u in members if u.has_role(*READER_ROLES)]
        for member in members:
            if member.name != copier:
                readers.setdefault(member.name, target)
    if not readers:
        raise _problem("to", "抄送对象中除您本人外没有其他人员")
    if len(readers) > MAX_READERS:
        raise _problem("to", f"一次抄送最多送达 {MAX_READERS} 人 (现有 {len(readers)} 人)")
    return readers


def _may_copy(uow: UnitOfWork, svc: Services, case: Case, user: User) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.CLERK):
        return False
    if user.groups & holder_groups(uow, case):
        return True
    if uow.copies.involved(case.id, user.name, user.groups):
        return True
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    return bool(user.groups & supervisor_groups(version))


def may_copy(svc: Services, user: User, case_id: int) -> bool:
    """Whether `user` may copy this case (the pages show the 抄送 form then)."""
    if not user.has_role(Role.CLERK, Role.ADMIN):
        return False
    with svc.uow() as uow:
        case = uow.cases.get(case_id)
        return case is not None and _may_copy(uow, svc, case, user)


def copy_case(svc: Services, user: User, case_id: int, to: Any, note: Any = None) -> dict[str, Any]:
    """抄送: the case copied to the readers `to` names, with a note. Returns the copy made."""
    if not user.has_role(Role.CLERK, Role.ADMIN):
        raise Forbidden("只有窗口和审批人员可以抄送办件")
    targets = _targets(to)
    text = _note(note)

    def step() -> dict[str, Any]:
        with svc.uow(write=True) as uow:
            case = uow.cases.existing(case_id, lock=True)
            if not _may_copy(uow, svc, case, user):
                raise Forbidden("只有办理过或正在办理该办件的人员、督办人员或管理员可以抄送")
            readers = _readers(uow, targets, user.name)
            now = svc.clock()
            event = case.record(
                EventType.CASE_COPIED, user.name, now, None, {"to": targets, "note": text}
            )
            base = {
                "case_id": case.id,
                "seq": event.seq,
                "copied_by": user.name,
                "copied_at": now,
                "note": text,
            }
            uow.copies.add([{**base, "user_name": r, "via": via} for r, via in readers.items()])
            version, _ = svc.runtimes.get(uow, case.bundle_version_id)
            body = f"{user.name} 将办件 {case.id} ({version.name}) 抄送给您, 请阅知。"
            if text:
                body += f"\n说明: {text}"
            message = {
                "kind": str(MessageKind.COPY),
                "title": f"抄送: 办件 {case.id} {version.name}"[:300],
                "body": body,
                "case_id": case.id,
                "task_id": None,
                "created_at": now,
            }
            uow.messages.to_users(sorted(readers), message)
            save(uow, case)
            uow.commit()
            return {
                "case_id": case.id,
                "seq": event.seq,
                "copied_by": user.name,
                "copied_at": now.isoformat(),
                "to": targets,
                "note": text,
                "readers": sorted(readers),
            }

    return retrying(step)


@dataclass(frozen=True)
class Copy:
    """One row of 抄送我的."""

    id: int
    case_id: int
    bundle_name: str
    bundle_version: int
    via: str
    copied_by: str
    copied_at: datetime
    note: str
    read_at: datetime | None
    case_status: str
    outcome: str | None

    @property
    def status_label(self) -> str:
        try:
            return CaseStatus(self.case_status).label
        except ValueError:
            return self.case_status

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "bundle_name": self.bundle_name,
            "via": self.via,
            "copied_by": self.copied_by,
            "copied_at": self.copied_at.isoformat(),
            "note": self.note,
            "read": self.read_at is not None,
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "case_status": self.case_status,
            "outcome": self.outcome,
        }


def _outcome(value: Any) -> str | None:
    if isinstance(value, dict):
        name = value.get("name") or value.get("element")
        return str(name) if name else None
    return None


def my_copies(
    svc: Services, user: User, unread_only: bool = False, limit: int = PAGE_SIZE
) -> list[Copy]:
    """The cases copied to `user`, unread first, then newest first."""
    with svc.uow() as uow:
        rows = uow.copies.for_user(user.name, limit, unread_only)
    return [
        Copy(
            r.id,
            r.case_id,
            r.bundle_name,
            r.bundle_version,
            r.via,
            r.copied_by,
            r.copied_at,
            r.note,
            r.read_at,
            r.status,
            _outcome(r.outcome),
        )
        for r in rows
    ]


def unread_count(svc: Services, user: User) -> int:
    with svc.uow() as uow:
        return uow.copies.unread(user.name)


def unread_badge(svc: Services, user: User) -> int:
    """`unread_count` for the navigation: 0 when the database cannot answer."""
    try:
        return unread_count(svc, user)
    except TransientError:
        return 0


def _mark_read(svc: Services, user: User, case_id: int) -> bool:
    """Mark the user's unread copies of the case read, with one `copy_read` event; whether an
    event was recorded (False: nothing was unread)."""

    def step() -> bool:
        with svc.uow(write=True) as uow:
            case = uow.cases.existing(case_id, lock=True)
            now = svc.clock()
            if uow.copies.mark_read(case.id, user.name, now) == 0:
                return False  # read meanwhile (another tab): one event per reading
            case.record(EventType.COPY_READ, user.name, now, None, {"reader": user.name})
            uow.copies.mark_messages_read(case.id, user.name, now)  # its 抄送 message too
            save(uow, case)
            uow.commit()
            return True

    return retrying(step)


def record_reading(svc: Services, user: User, case_id: int) -> bool:
    """The case page was opened by `user`: if the case was copied to them and they have not read
    it yet, the reading is recorded (a read first, a write only then)."""
    with svc.uow() as uow:
        if uow.copies.unread_of_case(case_id, user.name) == 0:
            return False
    return _mark_read(svc, user, case_id)


def read(svc: Services, user: User, copy_id: int) -> dict[str, Any]:
    """The API's reading of one copy (by its id, the reader's own): the case's copies to the
    user are marked read and `copy_read` recorded once. Reading again changes nothing."""
    with svc.uow() as uow:
        row = uow.copies.get(copy_id)
    if row is None or row.user_name != user.name:
        raise NotFound(f"抄送 {copy_id} 不存在")
    recorded = _mark_read(svc, user, int(row.case_id))
    with svc.uow() as uow:
        row = uow.copies.get(copy_id)
    return {
        "id": int(row.id),
        "case_id": int(row.case_id),
        "read_at": row.read_at.isoformat() if row.read_at else None,
        "recorded": recorded,
    }


def case_copies(svc: Services, user: User, case_id: int) -> list[dict[str, Any]]:
    """Who the case was copied to (by whom, when, read or not), for its page; staff only."""
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看办件")
    with svc.uow() as uow:
        rows = uow.copies.for_case(case_id)
        people = uow.users.signatures({r.user_name for r in rows} | {r.copied_by for r in rows})
    local = svc.tz
    return [
        {
            "reader": r.user_name,
            "reader_name": people.get(r.user_name, r.user_name),
            "copied_by": people.get(r.copied_by, r.copied_by),
            "copied_at": r.copied_at.astimezone(local).strftime("%Y-%m-%d %H:%M"),
            "read_at": r.read_at.astimezone(local).strftime("%Y-%m-%d %H:%M")
            if r.read_at
            else None,
        }
        for r in rows
    ]


def choices(svc: Services) -> dict[str, list[dict[str, Any]]]:
    """Whom the 抄送 form offers: staff who can be copied (name, display name, department) and
    the groups that have members."""
    with svc.uow() as uow:
        everyone = uow.users.all()
        sizes = uow.users.group_sizes()
    people = [
        {"value": f"user:{u.name}", "name": u.name, "label": u.signature}
        for u in everyone
        if u.has_role(*READER_ROLES)
    ]
    groups = [
        {"value": f"group:{g}", "name": g, "label": f"{g} ({n} 人)"}
        for g, n in sorted(sizes.items())
    ]
    return {"people": people, "groups": groups}
