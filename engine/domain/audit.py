"""The tamper-evident case history: each event's hash covers its content and the hash of the
event before it, and records the hash of the case's state after its step.

Changing one byte of a stored event breaks its hash and every later link; changing the stored
case state breaks the match with the last event's state hash. Hashes are SHA-256 over a
canonical JSON form (sorted keys, no spaces, UTF-8), so they do not depend on how a database
stores JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS = "0" * 64  # the "previous hash" of a case's first event


class CaseEventRecord(Protocol):
    """What verification reads of a stored event (engine.domain.model.CaseEvent)."""

    seq: int
    type: Any
    actor: str
    at: datetime
    task_id: str | None
    element: str | None
    data: dict[str, Any]
    hash: str
    state_hash: str


def canonical(value: Any) -> bytes:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    # `_plain` only changes floats of 1e16 and beyond, which JSON writes with "e+" (smaller
    # floats never are): without "e+" anywhere (also inside strings), it would change nothing.
    if "e+" in text:
        text = json.dumps(_plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode()


def _plain(value: Any) -> Any:
    """Whole floats of 1e16 and beyond become ints: JSON writes them in exponent form, and
    PostgreSQL's jsonb hands them back as integers, which would change their hash."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e16:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical_data(data: dict[str, Any]) -> dict[str, Any]:
    """The same data with keys in sorted order, all the way down. Whatever order a request
    or a database hands keys in, the engine then builds the same state from them."""
    result: dict[str, Any] = json.loads(canonical(data))
    return result


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def event_hash(
    case_id: int,
    seq: int,
    type: str,
    actor: str,
    at: datetime,
    task: str | None,
    element: str | None,
    data: dict[str, Any],
    previous: str,
) -> str:
    return _sha256(
        canonical(
            {
                "case": case_id,
                "seq": seq,
                "type": type,
                "actor": actor,
                "at": at.astimezone(UTC).isoformat(),
                "task": task,
                "element": element,
                "data": data,
                "previous": previous,
            }
        )
    )


def state_hash(status: str, data: dict[str, Any], state: str) -> str:
    """The case as the engine sees it: its status, its data and its workflow state."""
    return _sha256(canonical({"status": status, "data": data, "state": _sha256(state.encode())}))


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking a case's record: where it first went wrong, if anywhere."""

    verified: bool
    steps: int
    first_divergence: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.verified:
            return {"verified": True, "steps": self.steps}
        return {
            "verified": False,
            "steps": self.steps,
            "first_divergence": self.first_divergence,
            "reason": self.reason,
        }


def verify_chain(
    case_id: int,
    events: Sequence[CaseEventRecord],
    stored_state_hash: str,
    last_hash: str,
    last_seq: int,
) -> Verdict:
    """Check every event's hash and link, and that the stored case is the state the last event
    leads to. Re-execution (engine.services.audit) checks the state hashes themselves."""
    if len(events) != last_seq:
        return Verdict(
            False,
            len(events),
            len(events) + 1 if len(events) < last_seq else last_seq,
            f"办件记录有 {last_seq} 个事件, 日志中却有 {len(events)} 个 (事件被删除或添加)",
        )
    previous = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return Verdict(False, len(events), expected_seq, f"第 {expected_seq} 个事件缺失")
        recomputed = event_hash(
            case_id,
            event.seq,
            str(event.type),
            event.actor,
            event.at,
            event.task_id,
            event.element,
            event.data,
            previous,
        )
        if recomputed != event.hash:
            return Verdict(
                False,
                len(events),
                event.seq,
                f"事件 {event.seq} 的内容与其哈希不符 (事件被改动或链条断开)",
            )
        previous = event.hash
    if previous != last_hash:
        return Verdict(False, len(events), events[-1].seq, "办件记录的链头与最后一个事件不符")
    if events and events[-1].state_hash != stored_state_hash:
        return Verdict(
            False,
            len(events),
            events[-1].seq,
            "办件当前存储的状态与最后一个事件记录的状态哈希不符 (状态被改动)",
        )
    return Verdict(True, len(events))
