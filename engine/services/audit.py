"""Auditing a case: re-execute its recorded commands on its pinned process version, at the
times the events record, and compare the state after every step with the recorded hash.

The chain check (engine.domain.audit.verify_chain) proves the stored events are the ones
written; re-execution proves they lead to the stored state. Together they answer
{"verified": true, "steps": N} or where the record first diverges, and why.

Every event's state hash is recomputed and compared. Since compaction (engine/bpmn/
compaction.py) the stored state is the compacted tree, and the rebuilt workflow is compacted the
same way before it is hashed. Cases recorded before compaction existed hashed the whole tree in
the older format: while a case's events still match that form the re-execution keeps the whole
tree; at the first event that does not, it compacts from then on (a case switches once, at its
first step under the new engine) and must match the compacted form from there.

A case moved to another version of its bundle (`case_migrated`, engine/services/recovery.py)
re-executes on the version it started on up to that event, is migrated there exactly as it was
(the same mapping), and goes on on the new version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from engine.bpmn.bounds import replaying
from engine.bpmn.case_workflow import CaseWorkflow
from engine.bpmn.errors import StepFailed
from engine.bpmn.functions import working_days
from engine.bpmn.ids import task_ids
from engine.bpmn.migration import migrate
from engine.bpmn.runtime import ProcessRuntime
from engine.calendar import WorkdayCalendar
from engine.domain.audit import Verdict, canonical_data, state_hash, verify_chain
from engine.domain.model import Case, CaseEvent, CaseStatus, EventType
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, NotFound

from . import archive_proofs, documents
from .queries import load_case_view

if TYPE_CHECKING:
    from .context import Services

# Events that move the engine; every other event leaves the case state as it was.
ENGINE_EVENTS = (
    EventType.CASE_STARTED,
    EventType.TASK_COMPLETED,
    EventType.TIMER_FIRED,
    EventType.CASE_CANCELLED,
    EventType.TASK_SENT_BACK,  # 退回 and 撤回 rewind the engine to an earlier event's state
    EventType.TASK_RECALLED,
)
REWINDS = (EventType.TASK_SENT_BACK, EventType.TASK_RECALLED)
# 加签/减签 move the engine when `data.position` is "parallel" (a 会签 gains or loses an instance)
PARALLEL_SIGNERS = (EventType.SIGNER_ADDED, EventType.SIGNER_REMOVED)
# Events that change the status alone: an incident stops the case, resuming it runs it again.
INCIDENT_STATUS = {
    EventType.INCIDENT_RAISED: CaseStatus.ERROR,
    EventType.INCIDENT_RESUMED: CaseStatus.RUNNING,
}
# 挂起 / 恢复 (engine/services/suspension.py): the status alone, the engine does not move
SUSPENSION_STATUS = {
    EventType.CASE_SUSPENDED: CaseStatus.SUSPENDED,
    EventType.CASE_UNSUSPENDED: CaseStatus.RUNNING,
}


class _Replay:
    """A case rebuilt from nothing but its events."""

    def __init__(
        self,
        case_id: int,
        runtime: ProcessRuntime,
        runtimes: Mapping[int, ProcessRuntime] | None = None,
    ) -> None:
        self.case_id = case_id
        self.runtime = runtime
        self.first_runtime = runtime  # a rewind re-executes from the start
        self.history: list[CaseEvent] = []  # the events applied so far, for a rewind
        self.runtimes = runtimes or {}  # the versions the case was migrated to, by id
        self.workflow: CaseWorkflow | None = None
        self.data: dict[str, Any] = {}
        self.status = CaseStatus.RUNNING
        self.legacy = True  # the case's events so far hash the uncompacted, older state form
        self._state: str | None = None  # the state last hashed, while the engine has not moved

    def apply(self, event: CaseEvent) -> None:
        self.history.append(event)
        if event.type in ENGINE_EVENTS or event.type == EventType.CASE_MIGRATED:
            self._state = None
        if event.type in REWINDS:  # outside this event's task-id seed: its ids are recorded
            self._rewind(event)
            return
        with task_ids(f"{self.case_id}:{event.seq}"), replaying():
            if event.type == EventType.CASE_STARTED:
                self.data = canonical_data(event.data["data"])
                self.workflow = self.runtime.start(self.data, at=event.at)
            elif event.type == EventType.TASK_COMPLETED and "kind" not in event.data:
                merged = canonical_data({**self.data, **event.data["form"]})
                self._started().complete(str(event.task_id), merged, at=event.at)
                self.data = merged
                # only a running case's task is completed; or the failed step of a case in
                # error, retried by an administrator (its incident_resumed follows)
                self.status = CaseStatus.RUNNING
            elif event.type in PARALLEL_SIGNERS and event.data.get("position") == "parallel":
                # 加签/减签 in a running 会签: an instance added beside the event's task, or
                # that task's instance removed (engine/services/add_signer.py)
                self._state = None
                if event.type == EventType.SIGNER_ADDED:
                    self._started().add_signer(str(event.task_id), event.data["signer"], event.at)
                else:
                    self._started().remove_signer(str(event.task_id), event.at)
            elif event.type == EventType.TIMER_FIRED:
                from datetime import datetime

                due = datetime.fromisoformat(event.data["due"])
                self._started().fire_timers(max(event.at, due))
            elif event.type == EventType.CASE_CANCELLED:
                self._started().cancel(at=event.at)
                self.status = CaseStatus.CANCELLED
                return
            elif event.type in INCIDENT_STATUS:  # the engine does not move; the status does
                # (resuming after a retry that ended the case leaves it ended)
                if event.type == EventType.INCIDENT_RAISED or self.status == CaseStatus.ERROR:
                    self.status = INCIDENT_STATUS[event.type]
                return
            elif event.type in SUSPENSION_STATUS:
                self.status = SUSPENSION_STATUS[event.type]
                return
            elif event.type == EventType.CASE_MIGRATED:
                target = self.runtimes[int(event.data["to"]["version_id"])]
                migrate(self._started(), target.specs, event.data["mapping"], event.at)
                self.runtime = target
                if self.status == CaseStatus.ERROR:
                    self.status = CaseStatus.RUNNING
                return
            elif event.type == EventType.CASE_DATA_CORRECTED:
                fields = event.data["fields"]
                self.data = canonical_data(
                    {**self.data, **{k: v["new"] for k, v in fields.items()}}
                )
                return
            else:
                return
        # what business rule tasks decided, merged into the case data as the step did (the
        # data is canonical already: without outputs, merging would give the same dict again)
        outputs = self._started().decisions()
        if outputs:
            self.data = canonical_data({**self.data, **outputs})
        if self._started().is_finished():
            self.status = CaseStatus.COMPLETED

    def _rewind(self, event: CaseEvent) -> None:
        """退回/撤回: the case as it stood after event `rewound_to`, re-executed from its start,
        with the re-opened tasks under the new ids the event recorded."""
        inner = _Replay(self.case_id, self.first_runtime, self.runtimes)
        for past in self.history[: int(event.data["rewound_to"])]:
            inner.apply(past)
            inner.matches(past.state_hash)  # compacts the tree where the case did
        inner._started().rename_tasks(event.data["renamed"])
        self.workflow, self.data, self.runtime = inner.workflow, inner.data, inner.runtime
        self.legacy = inner.legacy
        self.status = CaseStatus.RUNNING
        correction = event.data.get("correction")
        if correction:  # 退回申请人补正: 一窗受理 decided 补正 in the same step
            merged = canonical_data({**self.data, **correction["form"]})
            with task_ids(correction_seed(self.case_id, event.seq)), replaying():
                self._started().complete(str(correction["task"]), merged, at=event.at)
            outputs = self._started().decisions()
            self.data = canonical_data({**merged, **outputs}) if outputs else merged

    def _started(self) -> CaseWorkflow:
        assert self.workflow is not None, "a case's record begins with case_started"
        return self.workflow

    def hash(self) -> str:
        """The state hash of the case as rebuilt (compacting the workflow first)."""
        if self._state is None or self.legacy:
            self.legacy = False
            self._state = self.workflow.dump() if self.workflow is not None else ""
        return state_hash(str(self.status), self.data, self._state)

    def matches(self, recorded: str) -> bool:
        """Whether the rebuilt case has the state hash an event recorded: in the older,
        uncompacted form while the case's events still use it, else compacted."""
        if self.legacy and self.workflow is not None:
            old = self.workflow.legacy_dump()
            if state_hash(str(self.status), self.data, old) == recorded:
                return True
        return self.hash() == recorded


def _runtimes(
    svc: Services, uow: Any, case: Case, events: Sequence[CaseEvent]
) -> tuple[ProcessRuntime, dict[int, ProcessRuntime]]:
    """The runtime of the version the case started on, and of each version it moved to."""
    moves = [e.data for e in events if e.type == EventType.CASE_MIGRATED]
    first = int(moves[0]["from"]["version_id"]) if moves else case.bundle_version_id
    _, runtime = svc.runtimes.get(uow, first)
    targets = {int(m["to"]["version_id"]) for m in moves}
    return runtime, {v: svc.runtimes.get(uow, v)[1] for v in sorted(targets)}


def _chain(case: Case, events: Sequence[CaseEvent]) -> Verdict:
    stored = state_hash(str(case.status), case.data, case.state)
    return verify_chain(case.id, events, stored, case.last_hash, case.last_seq)


def correction_seed(case_id: int, seq: int) -> str:
    """The task-id seed of the 补正 decided within a 退回 (event `seq`, engine/services/
    send_back.py): apart from the step's own, whose ids the rewind's renaming drew."""
    return f"{case_id}:{seq}:correction"


def rebuild(
    svc: Services, uow: Any, case: Case, events: Sequence[CaseEvent], upto: int
) -> tuple[CaseWorkflow, dict[str, Any]]:
    """The case's workflow and data as they stood after event `upto`, re-executed from its
    record exactly as the audit does (退回/撤回 rewind a case to it). Refused when the record
    does not re-execute to the states it stored."""
    runtime, targets = _runtimes(svc, uow, case, events)
    replay = _Replay(case.id, runtime, targets)
    with working_days(svc.calendars.get(uow), svc.tz):
        for event in events[:upto]:
            try:
                replay.apply(event)
            except (StepFailed, KeyError, ValueError) as err:
                raise Conflict(
                    f"办件记录第 {event.seq} 步无法重新执行, 不能回到此前: {err}"
                ) from None
            if not replay.matches(event.state_hash):
                raise Conflict(f"办件记录第 {event.seq} 步与重新执行不符, 不能回到此前")
    return replay._started(), replay.data


def replay_case(svc: Services, case: Case, events: Sequence[CaseEvent]) -> Verdict:
    chain = _chain(case, events)
    if not chain.verified:
        return chain
    with svc.uow() as uow:
        try:
            runtime, targets = _runtimes(svc, uow, case, events)
        except (KeyError, ValueError, TypeError) as err:
            return Verdict(False, len(events), None, f"迁移记录无法读取: {err}")
        calendar = svc.calendars.get(uow)
    return replay_events(case.id, runtime, targets, events, calendar, svc.tz)


def replay_events(
    case_id: int,
    runtime: ProcessRuntime,
    targets: Mapping[int, ProcessRuntime],
    events: Sequence[CaseEvent],
    calendar: WorkdayCalendar,
    tz: tzinfo,
) -> Verdict:
    """Re-execute the events on the runtimes given and compare every state hash: no database
    (the offline archive verifier, engine/services/archive_verifier.py, calls it too)."""
    replay = _Replay(case_id, runtime, targets)
    with working_days(calendar, tz):
        for event in events:
            try:
                replay.apply(event)
            except (StepFailed, KeyError, ValueError) as err:
                return Verdict(
                    False, len(events), event.seq, f"第 {event.seq} 步无法重新执行: {err}"
                )
            if not replay.matches(event.state_hash):
                return Verdict(
                    False,
                    len(events),
                    event.seq,
                    f"重新执行到第 {event.seq} 步 ({event.type}) 后的状态与记录不符",
                )
    return Verdict(True, len(events))


def replay(svc: Services, user: User | None, case_id: int) -> dict[str, Any]:
    """Verify one case (auditors and admins; the command line passes no user)."""
    if user is not None and not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以核验办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        events = uow.cases.events(case_id)
    return {"case_id": case_id, **replay_case(svc, case, events).to_dict()}


def replay_all(svc: Services, progress: Any = None) -> list[dict[str, Any]]:
    """Verify every case, oldest first; `progress(done, total)` is told after each."""
    with svc.uow() as uow:
        ids = uow.cases.ids()
    results = []
    for done, case_id in enumerate(ids, start=1):
        results.append(replay(svc, None, case_id))
        if progress is not None:
            progress(done, len(ids))
    return results


def state_at(svc: Services, user: User, case_id: int, seq: int) -> dict[str, Any]:
    """The case as it stood after event `seq`: its data, status, open tasks, and which BPMN
    elements had run or were under way: rebuilt by re-executing the events up to there."""
    if not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以回放办件")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        events = uow.cases.events(case_id)
        runtime, targets = _runtimes(svc, uow, case, events)
        calendar = svc.calendars.get(uow)
    if not 1 <= seq <= len(events):
        raise NotFound(f"办件 {case_id} 没有第 {seq} 个事件 (共 {len(events)} 个)")
    chain = _chain(case, events)
    if not chain.verified and chain.first_divergence is not None and chain.first_divergence <= seq:
        raise Conflict(f"无法回放到第 {seq} 步: {chain.reason}")
    replay = _Replay(case_id, runtime, targets)
    matches = False
    with working_days(calendar, svc.tz):
        for event in events[:seq]:
            try:
                replay.apply(event)
            except (StepFailed, KeyError, ValueError) as err:
                raise Conflict(f"第 {event.seq} 步无法重新执行: {err}") from None
            # compared at every event: it keeps the rebuilt tree compacted as the case was
            matches = replay.matches(event.state_hash)
    event = events[seq - 1]
    elements = replay.workflow.element_states() if replay.workflow is not None else {}
    return {
        "case_id": case_id,
        "seq": seq,
        "steps": len(events),
        "event": event.to_dict(),
        "status": str(replay.status),
        "data": replay.data,
        "tasks": [
            {"id": t.id, "element": t.element, "name": t.name}
            for t in (replay.workflow.ready_tasks() if replay.workflow else [])
        ],
        "completed": sorted(e for e, s in elements.items() if s == "completed"),
        "active": sorted(e for e, s in elements.items() if s == "active"),
        "state_hash": event.state_hash if matches else replay.hash(),
        "matches_record": matches,
        # 退回/撤回: drawn on the auditor's diagram as a dashed arrow back (web/static/js/diagram.js)
        "sent_back": {
            "from": event.element if event.type == EventType.TASK_SENT_BACK else None,
            "to": str(event.data.get("target") or event.element),
        }
        if event.type in REWINDS
        else None,
    }


def export(svc: Services, user: User, case_id: int, against: int | None = None) -> dict[str, Any]:
    """办件档案: the case, its full event history and the verdict of re-executing it; and what
    checks it offline (engine/services/archive_proofs.py): the pinned version's files, the
    calendar, the log's inclusion proofs (and a consistency proof to the signed size `against`)."""
    if not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以导出办件档案")
    with svc.uow() as uow:
        case = uow.cases.existing(case_id)
        events = uow.cases.events(case_id)
        view = load_case_view(svc, uow, case)
        version, _ = svc.runtimes.get(uow, case.bundle_version_id)
        # the printed archive names staff as their documents sign: "张敏 (综合窗口)"
        names = documents.signatures(uow, [*(e.actor for e in events), user.name])
        offline = {
            **archive_proofs.bundle_sections(uow, case, events),
            "calendar": archive_proofs.calendar_section(uow, svc.tz),
            **archive_proofs.log_sections(uow, case_id, events, against),
        }
    return {
        "case": view,
        "bundle": {"key": version.key, "version": version.version, "name": version.name},
        "events": [e.to_dict() for e in events],
        "verification": replay_case(svc, case, events).to_dict(),
        "exported_at": svc.clock().isoformat(),
        "exported_by": user.name,
        "signatures": names,
        **offline,
    }
