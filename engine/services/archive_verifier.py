"""The offline check of an exported 办件档案 (`lianban verify-archive`): with nothing but the
archive and the log's public key, no database and no network.

What it checks, each as one line of the report:

1. the checkpoint note carried in the archive is signed by a key the auditor gave;
2. the events' hash chain (engine.domain.audit.verify_chain), from GENESIS to the last event;
3. each event's inclusion proof against that checkpoint's root: the leaf is
   `event_leaf(case, seq, hash, state_hash)`, so the state after every step is in the log too;
4. with a checkpoint the auditor holds (`--checkpoint`): the archive's checkpoint is consistent
   with it (the same tree, one a prefix of the other), by the consistency proof in the archive;
5. every step re-executed on the bundle version carried in the archive (`bundle_files`, compiled
   by the project's own bundle compiler) with the archive's working-day calendar: each state
   hash equal to the recorded one (engine.services.audit.replay_events, as the audit does).

What the export puts in the archive for this is in engine/services/archive_proofs.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.bpmn.runtime import ProcessRuntime
from engine.bpmn.serializer import specs_from_json
from engine.bundles.compiler import FormLibrary, compile_bundle
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import BundleSource
from engine.calendar import DayRule, WorkdayCalendar, with_statutory_holidays
from engine.domain import merkle, signed_note
from engine.domain.audit import verify_chain
from engine.domain.model import CaseEvent, EventType

from .audit import replay_events


class ArchiveUnreadable(ValueError):
    """The file is not a 办件档案 this verifier can read (exit status 2, not a failed check)."""


def _calendar(record: Mapping[str, Any] | None) -> tuple[WorkdayCalendar, ZoneInfo]:
    if not record:
        return WorkdayCalendar([], (1, 1)), ZoneInfo("Asia/Shanghai")
    rules = [
        DayRule(date.fromisoformat(d["day"]), bool(d["workday"]), d["name"], d["source"])
        for d in record.get("days", [])
    ]
    years = record.get("years")
    if years:
        calendar = with_statutory_holidays(rules, (int(years[0]), int(years[1])))
    else:
        calendar = WorkdayCalendar([], (1, 1))
    return calendar, ZoneInfo(record.get("time_zone") or "Asia/Shanghai")


# ---------------------------------------------------------------- the report


@dataclass
class Report:
    """The lines of a verification, each passed or failed, in the order checked."""

    case_id: int | None = None
    lines: list[tuple[bool, str]] = field(default_factory=list)

    def passed(self, text: str) -> None:
        self.lines.append((True, text))

    def failed(self, text: str) -> None:
        self.lines.append((False, text))

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.lines)

    def text(self) -> str:
        out = [f"{'通过' if ok else '失败'}  {line}" for ok, line in self.lines]
        out.append(
            f"结论: 办件 {self.case_id} 的档案通过全部检查"
            if self.ok
            else f"结论: 办件 {self.case_id} 的档案未通过检查"
        )
        return "\n".join(out)


def _events(case_id: int, raw: Sequence[Mapping[str, Any]]) -> list[CaseEvent]:
    events = []
    for item in raw:
        events.append(
            CaseEvent(
                case_id=case_id,
                seq=int(item["seq"]),
                type=EventType(item["type"]),
                actor=str(item["actor"]),
                at=datetime.fromisoformat(item["at"]),
                task_id=item.get("task"),
                element=item.get("element"),
                data=dict(item.get("data") or {}),
                hash=str(item["hash"]),
                state_hash=str(item["state_hash"]),
            )
        )
    return events


def read_archive(text: str) -> tuple[dict[str, Any], int, list[CaseEvent]]:
    """The archive, its case id and its events; ArchiveUnreadable when it is no 办件档案."""
    try:
        archive = json.loads(text)
        case_id = int(archive["case"]["id"])
        events = _events(case_id, archive["events"])
    except (ValueError, KeyError, TypeError) as err:
        raise ArchiveUnreadable(f"不是可读的办件档案 (JSON 导出): {err}") from None
    if not isinstance(archive, dict):
        raise ArchiveUnreadable("不是可读的办件档案 (JSON 导出)")
    return archive, case_id, events


def _open(note: str, verifiers: Sequence[signed_note.Verifier]) -> Any:
    """The checkpoint of a note signed by one of `verifiers`, and the signers' names."""
    body, names = signed_note.open_note(note, verifiers)
    return signed_note.parse_checkpoint(body), names


def _unhex(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def verify_archive(text: str, keys: Sequence[str], later: str | None = None) -> Report:
    """Check an exported archive (its JSON text) with the log's public key(s) `keys` (verifier
    key texts) and, optionally, a later or equal signed checkpoint note `later`. Raises
    ArchiveUnreadable for a file that is no archive, ValueError for a key that is no key."""
    archive, case_id, events = read_archive(text)
    verifiers = [signed_note.Verifier.from_text(k.strip()) for k in keys]
    report = Report(case_id)
    where = f"办件 {case_id}"

    # 1. the checkpoint's signature
    log = archive.get("log")
    checkpoint = None
    if not log or not log.get("checkpoint"):
        report.failed(
            f"{where}: 档案中没有签名的日志检查点, 无法证明记录在导出前已公开 (导出时日志尚未签名)"
        )
    else:
        try:
            checkpoint, names = _open(log["checkpoint"], verifiers)
        except ValueError as err:
            report.failed(f"检查点签名: 档案中的检查点不是由所给公钥签名的有效检查点 ({err})")
        else:
            report.passed(
                f"检查点签名: 有效, 由 {'、'.join(names)} 签名; 日志 {checkpoint.origin}, "
                f"大小 {checkpoint.size}, 根哈希 {checkpoint.root.hex()[:16]}..."
            )
            if int(log.get("size", checkpoint.size)) != checkpoint.size:
                report.failed(
                    f"检查点: 档案所称的大小 {log.get('size')} 与签名的检查点 ({checkpoint.size}) 不符"
                )

    # 2. the hash chain
    last = events[-1] if events else None
    chain = verify_chain(
        case_id,
        events,
        last.state_hash if last else "",
        last.hash if last else "",
        len(events),
    )
    if not events:
        report.failed(f"{where}: 档案中没有事件")
    elif chain.verified:
        report.passed(f"哈希链: {where} 的 {len(events)} 个事件首尾相接, 每个哈希都与内容相符")
    else:
        report.failed(f"哈希链: {where} 第 {chain.first_divergence} 步: {chain.reason}")

    # 3. inclusion proofs
    if checkpoint is not None and log is not None:
        _check_inclusion(report, where, events, log, checkpoint)

    # 4. consistency with the auditor's own checkpoint
    if later is not None:
        _check_consistency(report, archive, checkpoint, later, verifiers)

    # 5. re-execution on the version carried in the archive
    _check_replay(report, where, archive, case_id, events)
    return report


def _check_inclusion(
    report: Report,
    where: str,
    events: Sequence[CaseEvent],
    log: Mapping[str, Any],
    checkpoint: Any,
) -> None:
    by_seq = {e.seq: e for e in events}
    proven: set[int] = set()
    tried: set[int] = set()  # the events a proof was given for, verified or not
    bad = 0
    for item in log.get("proofs") or []:
        try:
            seq, index = int(item["seq"]), int(item["index"])
            proof = _unhex(item["proof"])
        except (KeyError, TypeError, ValueError):
            report.failed(f"包含证明: {where} 的一条证明无法读取")
            bad += 1
            continue
        tried.add(seq)
        event = by_seq.get(seq)
        if event is None:
            report.failed(f"包含证明: {where} 第 {seq} 步: 档案中没有这个事件")
            bad += 1
            continue
        leaf = merkle.leaf_hash(merkle.event_leaf(event.case_id, seq, event.hash, event.state_hash))
        if not merkle.verify_inclusion(index, checkpoint.size, leaf, proof, checkpoint.root):
            report.failed(
                f"包含证明: {where} 第 {seq} 步: 事件 (及其状态哈希) 不在签名的日志中 "
                f"(叶 {index}, 日志大小 {checkpoint.size}): 事件在签名后被改动, 或证明不对"
            )
            bad += 1
            continue
        proven.add(seq)
    pending = sorted(int(s) for s in log.get("pending") or [])
    missing = [e.seq for e in events if e.seq not in tried and e.seq not in pending]
    for seq in missing:
        report.failed(f"包含证明: {where} 第 {seq} 步: 既没有包含证明, 也没有列为待签")
    early = [s for s in pending if proven and s < max(proven)]
    for seq in early:
        report.failed(
            f"包含证明: {where} 第 {seq} 步列为待签, 其后的事件却已在日志中 (日志按事件顺序追加)"
        )
    if proven and not bad and not missing and not early:
        report.passed(
            f"包含证明: {where} 的 {len(proven)} 个事件都在大小 {checkpoint.size} 的签名日志中"
            + (f"; 第 {', '.join(map(str, pending))} 步在检查点之后, 尚未签名" if pending else "")
        )
    elif events and not proven and not bad and not missing:
        report.failed(
            f"包含证明: {where} 没有一个事件在签名的检查点中 (全部列为待签): 记录尚未锚定, "
            "请在下一次签名后重新导出"
        )


def _check_consistency(
    report: Report,
    archive: Mapping[str, Any],
    checkpoint: Any,
    later: str,
    verifiers: Sequence[signed_note.Verifier],
) -> None:
    try:
        held, names = _open(later, verifiers)
    except ValueError as err:
        report.failed(f"一致性: 所给的检查点不是由所给公钥签名的有效检查点 ({err})")
        return
    if checkpoint is None:
        report.failed("一致性: 档案中没有有效的检查点, 无法与所持检查点比对")
        return
    if held.origin != checkpoint.origin:
        report.failed(f"一致性: 所持检查点属于日志 {held.origin}, 档案的属于 {checkpoint.origin}")
        return
    small, big = sorted((checkpoint, held), key=lambda c: c.size)
    if small.size == big.size:
        if held.root == checkpoint.root:
            report.passed(f"一致性: 所持检查点 (大小 {held.size}) 与档案的检查点相同")
        else:
            report.failed(
                f"一致性: 所持检查点与档案的检查点大小同为 {held.size}, 根哈希却不同: "
                "同一把钥匙签了两棵不同的树 (日志被分叉)"
            )
        return
    consistency = archive.get("consistency") or {}
    try:
        proof = _unhex(consistency.get("proof") or [])
        to_size = int(consistency.get("to_size", -1))
    except (TypeError, ValueError):
        proof, to_size = [], -1
    if to_size != held.size:
        report.failed(
            f"一致性: 档案中没有到大小 {held.size} 的一致性证明 (导出时加上 against={held.size})"
        )
        return
    if merkle.verify_consistency(small.size, big.size, small.root, big.root, proof):
        report.passed(
            f"一致性: 档案的检查点 (大小 {checkpoint.size}) 与所持检查点 (大小 {held.size}, "
            f"{'、'.join(names)} 签名) 属于同一棵只追加的树"
        )
    else:
        report.failed(
            f"一致性: 档案的检查点 (大小 {checkpoint.size}) 与所持检查点 (大小 {held.size}) "
            "不一致: 日志被改写或分叉"
        )


def _runtime(files: Mapping[str, str], name: str) -> ProcessRuntime:
    source = BundleSource(name, {p: t.encode() for p, t in files.items()})
    compiled = compile_bundle(source, FormLibrary(None))
    return ProcessRuntime(specs_from_json(compiled.specs_json))


def _check_replay(
    report: Report,
    where: str,
    archive: Mapping[str, Any],
    case_id: int,
    events: Sequence[CaseEvent],
) -> None:
    files = archive.get("bundle_files")
    if not files:
        report.failed("重新执行: 档案中没有流程版本的文件 (bundle_files), 无法重新执行")
        return
    bundle = archive.get("bundle") or {}
    label = f"{bundle.get('key', '?')} 第 {bundle.get('version', '?')} 版"
    try:
        runtime = _runtime(files, str(bundle.get("key", "bundle")))
        # a case moved to another version: each version it ran on, by id (audit._runtimes)
        targets: dict[int, ProcessRuntime] = {}
        others = archive.get("migrated_bundle_files") or {}
        moves = [e.data for e in events if e.type == EventType.CASE_MIGRATED]
        if moves:
            first = str(moves[0]["from"]["version_id"])
            runtime = _runtime(others[first], first)
            for move in moves:
                target = str(move["to"]["version_id"])
                pinned = target == str(archive.get("bundle_version_id"))
                targets[int(target)] = _runtime(files if pinned else others[target], target)
        calendar, tz = _calendar(archive.get("calendar"))
    except BundleInvalid as err:
        problems = "; ".join(p.message for p in err.problems[:3])
        report.failed(f"重新执行: 档案中的流程版本 ({label}) 无法编译: {problems}")
        return
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as err:
        report.failed(f"重新执行: 档案中的流程版本或日历无法读取: {err}")
        return
    verdict = replay_events(case_id, runtime, targets, events, calendar, tz)
    if verdict.verified:
        report.passed(
            f"重新执行: 在档案所附的流程版本 ({label}) 上按记录重新执行 {verdict.steps} 步, "
            "每一步的状态哈希都与记录一致"
        )
    else:
        report.failed(f"重新执行: {where} 第 {verdict.first_divergence} 步: {verdict.reason}")
