"""Stored verifications (issue 20 · part 2): every verification of a case an auditor runs (the
verify button, GET /api/v1/cases/<id>/replay, `lianban replay`) is kept with its date, verifier
and outcome, said in plain words, flagged in the search and on the case when it failed; and many
cases are verified at once in the worker, one job per case, with a batch to follow the progress.

What a verification checks (engine/services/audit.py): the per-case hash chain, then every step
re-executed on the pinned process version and its state compared with the record. When the
transparency log (engine/services/tlog.py) holds all the case's events under a signed
checkpoint, every event's leaf is also checked against the signed root by its inclusion proof:
a history rewritten after that signature, chain and state hashes recomputed, no longer matches.

Writing the verification record is the only write: the case and its events are not touched (no
case event is recorded; verifying does not change a case).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from engine.domain import merkle
from engine.domain.jobs import Job, JobKind
from engine.domain.signed_note import NoteError, Verifier, open_note, parse_checkpoint
from engine.domain.users import Role, User
from engine.errors import Forbidden, Invalid, NotFound
from engine.persistence.db import is_transient
from engine.persistence.unit_of_work import UnitOfWork
from engine.persistence.verification_repository import Batch, Verification

from . import audit, tlog

if TYPE_CHECKING:
    from .context import Services

CLI = "cli"  # the verifier named for `lianban replay` (the command line has no signed-in user)
MAX_BATCH = 5000  # cases in one batch verification
HISTORY = 10  # verifications listed on a case

PROVES_CHAIN = "事件链完整: 没有事件被删除、插入或改动"
PROVES_STEPS = "每一步都按记录的操作重新执行, 结果与存档一致"
CANNOT_SIGNED = "这证明记录在该签名之后未被改动, 不证明办理决定本身正确"
CANNOT_UNSIGNED = "尚未纳入签名日志: 数据库管理员仍可能改写而不被发现"
CANNOT_DECISION = "核验只证明记录前后一致, 不证明办理决定本身正确"


def _invalid(message: str, field: str) -> Invalid:
    return Invalid(message, [{"field": field, "element": None, "message": message}])


def _allowed(user: User | None) -> None:
    if user is not None and not user.has_role(Role.AUDITOR, Role.ADMIN):
        raise Forbidden("只有审计人员和管理员可以核验办件")


# -- the log ------------------------------------------------------------------------------------


def _in_log(svc: Services, case_id: int) -> dict[str, Any]:
    """Whether the latest signed checkpoint holds every event of the case, and whether each
    event's leaf is in it (its inclusion proof against the signed root verifies).

    {"included": False} when it does not (yet); else {"included": True, "size", "signed_at",
    "leaf" (1-based position of the case's last event in the log), "bad_seq" (the first event
    whose leaf does not verify, or None), "reason"}."""
    with svc.uow() as uow:
        repo = uow.log
        cp = repo.latest_checkpoint()
        if cp is None:
            return {"included": False}
        events = uow.cases.events(case_id)
        leaves = repo.case_leaves(case_id)
        size = int(cp.size)
        if not events or any(leaves.get(e.seq, size) >= size for e in events):
            return {"included": False}
        found = {
            "included": True,
            "size": size,
            "signed_at": cp.signed_at,
            "leaf": leaves[events[-1].seq] + 1,
            "bad_seq": None,
            "reason": None,
        }
        key = tlog.public_key()
        if key is None:  # this server cannot check the log's signature
            return {"included": False, "no_key": True}
        try:  # the root as signed, never the stored column a DBA could rewrite
            body = open_note(cp.note, [Verifier.from_text(key)])[0]
            signed = parse_checkpoint(body)
        except NoteError as err:
            return {**found, "bad_seq": events[0].seq, "reason": f"签名日志的检查点无法验证: {err}"}
        if signed.size != size:
            return {**found, "bad_seq": events[0].seq, "reason": "签名日志的检查点与所签内容不符"}
        source = repo.source()
        for event in events:
            leaf = merkle.leaf_hash(
                merkle.event_leaf(case_id, event.seq, event.hash, event.state_hash)
            )
            index = leaves[event.seq]
            proof = merkle.inclusion_proof(index, size, source)
            if not merkle.verify_inclusion(index, size, leaf, proof, signed.root):
                return {
                    **found,
                    "bad_seq": event.seq,
                    "reason": f"第 {event.seq} 步与签名日志 (共 {size} 条) 不符: 记录在签名之后被改动",
                }
        return found


# -- one case -----------------------------------------------------------------------------------


def _check(svc: Services, case_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The re-execution verdict and the log's answer for one case."""
    verdict = audit.replay(svc, None, case_id)
    log = _in_log(svc, case_id)
    if verdict["verified"] and log.get("bad_seq") is not None:
        verdict = {
            **verdict,
            "verified": False,
            "first_divergence": log["bad_seq"],
            "reason": log["reason"],
        }
    return verdict, log


def _store(
    uow: UnitOfWork,
    now: datetime,
    verifier: str,
    verdict: Mapping[str, Any],
    log: Mapping[str, Any],
) -> Verification:
    first_bad = verdict.get("first_divergence")
    reason = verdict.get("reason")
    record = Verification(
        id=0,
        case_id=int(verdict["case_id"]),
        verified_at=now,
        verifier=verifier[:100],
        ok=bool(verdict["verified"]),
        steps=int(verdict["steps"]),
        first_bad_seq=None if first_bad is None else int(first_bad),
        reason=None if reason is None else str(reason),
        checkpoint_size=int(log["size"]) if log.get("included") else None,
    )
    new_id = uow.verifications.add(
        record.case_id,
        record.verified_at,
        record.verifier,
        record.ok,
        record.steps,
        record.first_bad_seq,
        record.reason,
        record.checkpoint_size,
    )
    return replace(record, id=new_id)


def _local(svc: Services, at: datetime | str | None) -> str | None:
    if at is None:
        return None
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    return when.astimezone(svc.tz).strftime("%Y-%m-%d %H:%M")


def view(svc: Services, v: Verification, log: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A stored verification, with what it proves and what it cannot, in words. `log`: the
    log's answer at the time (the signing time and position), when known."""
    proves: list[str] = []
    cannot: list[str] = []
    if v.ok:
        proves += [PROVES_CHAIN, f"{PROVES_STEPS} (共 {v.steps} 步)"]
        if v.checkpoint_size is not None:
            if log and log.get("included"):
                proves.append(
                    f"本档案包含在 {_local(svc, log['signed_at'])} 签名的日志中 (第 {log['leaf']} 条)"
                )
            else:
                proves.append(f"本档案包含在签名的日志中 (日志共 {v.checkpoint_size} 条时签名)")
            cannot.append(CANNOT_SIGNED)
        else:
            cannot += [CANNOT_UNSIGNED, CANNOT_DECISION]
        message = f"核验通过: 哈希链完整, 重新执行全部 {v.steps} 步, 每一步的状态都与记录一致"
    else:
        message = f"核验未通过: 第 {v.first_bad_seq} 步 (共 {v.steps} 步) 与记录不符: {v.reason}"
    return {
        "id": v.id,
        "case_id": v.case_id,
        "verified_at": v.verified_at.isoformat(),
        "verified_at_local": _local(svc, v.verified_at),
        "verifier": v.verifier,
        "ok": v.ok,
        "steps": v.steps,
        "first_bad_seq": v.first_bad_seq,
        "reason": v.reason,
        "checkpoint_size": v.checkpoint_size,
        "message": message,
        "flag": None if v.ok else flag_text(v.first_bad_seq, v.reason),
        "proves": proves,
        "cannot": cannot,
    }


def flag_text(first_bad_seq: int | None, reason: str | None) -> str:
    """ "校验失败: 第 N 步 …", as the search and the case show a tampered case."""
    where = f"第 {first_bad_seq} 步" if first_bad_seq is not None else "记录"
    return f"校验失败: {where} {reason or ''}".strip()


def verify(svc: Services, user: User | None, case_id: int) -> dict[str, Any]:
    """Verify one case and store the result (auditors and admins; the command line passes no
    user). Returns `audit.replay`'s verdict with "verification": the stored record in words."""
    _allowed(user)
    verdict, log = _check(svc, case_id)
    with svc.uow(write=True) as uow:
        stored = _store(uow, svc.clock(), user.name if user else CLI, verdict, log)
        uow.commit()
    return {**verdict, "verification": view(svc, stored, log)}


def replay(svc: Services, user: User | None, case_id: int) -> dict[str, Any]:
    """`audit.replay`'s answer (the API's and the command line's), the verification stored."""
    found = verify(svc, user, case_id)
    return {k: v for k, v in found.items() if k != "verification"}


def history(svc: Services, user: User, case_id: int, limit: int = HISTORY) -> list[dict[str, Any]]:
    """The case's last verifications, newest first (auditors and admins)."""
    _allowed(user)
    with svc.uow() as uow:
        uow.cases.existing(case_id)
        return [view(svc, v) for v in uow.verifications.for_case(case_id, limit)]


def api_record(v: Mapping[str, Any]) -> dict[str, Any]:
    """A verification as the API gives it."""
    keys = ("id", "verified_at", "verifier", "ok", "steps", "first_bad_seq", "reason")
    return {**{k: v[k] for k in keys}, "checkpoint_size": v["checkpoint_size"]}


# -- many cases at once ------------------------------------------------------------------------


def _case_ids(value: Any) -> list[int]:
    if not isinstance(value, list) or not value:
        raise _invalid("case_ids 应为办件编号的列表", "case_ids")
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item < 2**63:
            raise _invalid("case_ids 应为办件编号 (正整数) 的列表", "case_ids")
        if item not in ids:
            ids.append(item)
    return ids


def _since(text: Any) -> date:
    if not isinstance(text, str):
        raise _invalid("since 应为日期, 如 2026-03-01", "since")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _invalid("日期格式应为 年-月-日, 如 2026-03-01", "since") from None


def _search_ids(svc: Services, criteria: Mapping[str, Any]) -> list[int]:
    """Every case the auditors' search finds for these criteria, all pages."""
    from .case_search import find_cases

    wanted = {k: v for k, v in criteria.items() if k not in ("limit", "after")}
    ids: list[int] = []
    after: int | None = None
    while True:
        page = find_cases(svc, {**wanted, "limit": "100", "after": str(after) if after else ""})
        ids += [int(c["id"]) for c in page["cases"]]
        after = page["next"]
        if after is None or len(ids) > MAX_BATCH:
            return ids


def start_batch(
    svc: Services,
    user: User,
    case_ids: Any = None,
    since: Any = None,
    criteria: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify many cases in the worker: the listed `case_ids`, every case received since the
    local day `since` ("YYYY-MM-DD"), or every case the search finds for `criteria`. One job
    per case; returns the batch (`batch`)."""
    _allowed(user)
    given = [x is not None for x in (case_ids, since, criteria)]
    if sum(given) != 1:
        raise _invalid("请给出要核验的办件: case_ids 或 since (二者选一)", "case_ids")
    with svc.uow() as uow:
        if case_ids is not None:
            wanted = _case_ids(case_ids)
            if len(wanted) > MAX_BATCH:
                raise _invalid(f"一次最多核验 {MAX_BATCH} 件", "case_ids")
            ids = uow.verifications.existing_cases(wanted)
            missing = [i for i in wanted if i not in set(ids)]
            if missing:
                raise NotFound(f"没有办件 {', '.join(map(str, missing[:10]))}")
            description = f"指定的 {len(ids)} 件办件"
        elif since is not None:
            day = _since(since)
            ids = uow.verifications.case_ids_since(svc.local_midnight(day), MAX_BATCH + 1)
            description = f"{day.isoformat()} 以来收件的办件"
        else:
            ids = []
            description = "查询结果"
    if criteria is not None:
        ids = sorted(_search_ids(svc, criteria))
        shown = [
            f"{k}={v}" for k, v in sorted(criteria.items()) if v and k not in ("limit", "after")
        ]
        description = f"查询结果 ({', '.join(shown)})" if shown else "查询结果 (全部办件)"
    if len(ids) > MAX_BATCH:
        raise _invalid(f"符合条件的办件超过 {MAX_BATCH} 件, 请缩小范围后分批核验", "since")
    if not ids:
        raise _invalid("没有符合条件的办件可核验", "since")
    now = svc.clock()
    with svc.uow(write=True) as uow:
        batch_id = uow.verifications.add_batch(now, user.name, description, ids)
        for case_id in ids:
            uow.jobs.schedule(
                JobKind.VERIFY_CASE,
                f"{batch_id}:{case_id}",
                now,
                now,
                payload={"batch": batch_id, "case": case_id, "verifier": user.name},
            )
        uow.commit()
    return batch(svc, user, batch_id)


def _batch_view(svc: Services, b: Batch, failures: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": b.id,
        "created_at": b.created_at.isoformat(),
        "created_at_local": _local(svc, b.created_at),
        "created_by": b.created_by,
        "description": b.description,
        "total": b.total,
        "done": b.done,
        "failed": b.failed,
        "finished": b.done >= b.total,
        "failures": failures,
    }


def batch(svc: Services, user: User, batch_id: int) -> dict[str, Any]:
    """A batch's progress: total, done, failed, and the failed cases' verifications."""
    _allowed(user)
    with svc.uow() as uow:
        found = uow.verifications.batch(batch_id)
        if found is None:
            raise NotFound(f"没有批量核验 {batch_id}")
        failures = uow.verifications.batch_failures(batch_id)
    return _batch_view(svc, found, [view(svc, v) for v in failures])


def verify_job(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """The worker's job: verify one case of a batch and store the result in the job's own
    transaction (the re-execution reads through its own connections)."""
    batch_id, case_id = int(job.payload["batch"]), int(job.payload["case"])
    try:
        verdict, log = _check(svc, case_id)
    except Exception as err:  # a case that cannot be verified at all fails, the batch goes on
        if is_transient(err):
            raise
        message = getattr(err, "message", None) or f"{type(err).__name__}: {err}"
        verdict = {
            "case_id": case_id,
            "verified": False,
            "steps": 0,
            "first_divergence": None,
            "reason": f"无法核验: {message}",
        }
        log = {"included": False}
    stored = _store(uow, now, str(job.payload.get("verifier") or CLI), verdict, log)
    uow.verifications.batch_done(batch_id, case_id, stored.id, stored.ok)


def replay_all(svc: Services, progress: Any = None) -> list[dict[str, Any]]:
    """`audit.replay_all`, each verification stored (`lianban replay --all`)."""
    with svc.uow() as uow:
        ids = uow.cases.ids()
    results = []
    for done, case_id in enumerate(ids, start=1):
        results.append(replay(svc, None, case_id))
        if progress is not None:
            progress(done, len(ids))
    return results
