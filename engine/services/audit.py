"""Auditing a case: re-execute its recorded commands on its pinned process version, at the
times the events record, and compare the state after every step with the recorded hash.

The chain check (engine.domain.audit.verify_chain) proves the stored events are the ones
written; re-execution proves they lead to the stored state. Together they answer
{"verified": true, "steps": N} or where the record first diverges, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.bpmn.functions import working_days
from engine.bpmn.ids import task_ids
from engine.bpmn.runtime import ProcessRuntime, StepFailed, is_finished
from engine.domain.audit import Verdict, canonical_data, state_hash, verify_chain
from engine.domain.model import Case, CaseEvent, CaseStatus, EventType
from engine.domain.users import Role, User
from engine.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from .context import Services

# Events that move the engine; every other event leaves the case state as it was.
ENGINE_EVENTS = (
    EventType.CASE_STARTED,
    EventType.TASK_COMPLETED,
    EventType.TIMER_FIRED,
    EventType.CASE_CANCELLED,
)


class _Replay:
    """A case rebuilt from nothing but its events."""

    def __init__(self, case_id: int, runtime: ProcessRuntime) -> None:
        self.case_id = case_id
        self.runtime = runtime
        self.workflow: Any = None
        self.data: dict[str, Any] = {}
        self.status = CaseStatus.RUNNING

    def apply(self, event: CaseEvent) -> None:
        with task_ids(f"{self.case_id}:{event.seq}"):
            if event.type == EventType.CASE_STARTED:
                self.data = canonical_data(event.data["data"])
                self.workflow = self.runtime.start(self.data, at=event.at)
            elif event.type == EventType.TASK_COMPLETED and "kind" not in event.data:
                merged = canonical_data({**self.data, **event.data["form"]})
                self.runtime.complete(self.workflow, str(event.task_id), merged, at=event.at)
                self.data = merged
            elif event.type == EventType.TIMER_FIRED:
                from datetime import datetime

                due = datetime.fromisoformat(event.data["due"])
                self.runtime.fire_timers(self.workflow, max(event.at, due))
            elif event.type == EventType.CASE_CANCELLED:
                self.runtime.cancel(self.workflow, at=event.at)
                self.status = CaseStatus.CANCELLED
                return
            else:
                return
        if is_finished(self.workflow):
            self.status = CaseStatus.COMPLETED

    def hash(self) -> str:
        state = self.runtime.dump(self.workflow) if self.workflow is not None else ""
        return state_hash(str(self.status), self.data, state)


def replay_case(svc: Services, case: Case, events: Sequence[CaseEvent]) -> Verdict:
    chain = verify_chain(
        case.id, events, state_hash(str(case.status), case.data, case.state), case.last_hash
    )
    if not chain.verified:
        return chain
    with svc.uow() as uow:
        _, runtime = svc.runtimes.get(uow, case.bundle_version_id)
        calendar = svc.calendars.get(uow)
    replay = _Replay(case.id, runtime)
    with working_days(calendar, svc.tz):
        for event in events:
            try:
                replay.apply(event)
            except (StepFailed, KeyError, ValueError) as err:
                return Verdict(
                    False, len(events), event.seq, f"第 {event.seq} 步无法重新执行: {err}"
                )
            if replay.hash() != event.state_hash:
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
        case = uow.cases.get(case_id)
        if case is None:
            raise NotFound(f"办件 {case_id} 不存在")
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
