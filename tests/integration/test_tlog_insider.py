"""Issue 20: the insider who owns the database. Cases run, the log is sequenced, signed and
published (a directory outside the database), THEN the test plays the DBA: the append-only
triggers are switched off with raw SQL and the history is rewritten with the project's own code,
so that every per-case check still passes. Each rewrite is found by checking the database
against the published log (`lianban log verify`), naming the case and the step; a forked log
served to an auditor is found by the auditor's older checkpoint. And the honest path: an
exported 办件档案 verifies offline, the command run with no database at all."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, delete, update

from engine.bpmn.functions import working_days
from engine.domain import merkle, signed_note
from engine.domain.audit import GENESIS, canonical_data, event_hash
from engine.domain.model import CaseEvent
from engine.persistence.db import make_engine
from engine.persistence.tables import case_events, cases
from engine.services import Services, audit, calendar, publishing, tlog, tlog_verify
from engine.services.archive_verifier import verify_archive
from tests.conftest import FORMS, PROCESSES
from tests.fixtures.restaurant import ACCEPT, APPLICATION, FOOD_OK, ISSUANCE, LICENCE_OK
from web.cli import main as cli

ORIGIN = "lianban.test/log"
LIANBAN = Path(sys.executable).parent / "lianban"


@pytest.fixture
def log_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The log's signer key in a file outside the database, publication to `tmp/published`;
    returns the verifier (public) key."""
    signer, verifier = signed_note.generate_key(ORIGIN)
    key_file = tmp_path / "log.key"
    key_file.write_text(signer + "\n")
    monkeypatch.setenv("LIANBAN_LOG_KEY", str(key_file))
    monkeypatch.setenv("LIANBAN_LOG_DIR", str(tmp_path / "published"))
    monkeypatch.setenv("LIANBAN_LOG_ORIGIN", ORIGIN)
    return verifier


def run_case(services: Services, users: dict[str, Any], name: str = "老张面馆") -> int:
    desk = users["front_desk"].user
    case = audit_free_start(services, desk, {**APPLICATION, "shop_name": name})
    case = complete(services, desk, case["tasks"][0]["id"], ACCEPT)
    by_element = {t["element"]: t["id"] for t in case["tasks"]}
    complete(services, users["market_reviewer"].user, by_element["review_licence"], LICENCE_OK)
    case = complete(services, users["food_reviewer"].user, by_element["review_food"], FOOD_OK)
    case_id = int(case["id"])
    numbers = {"licence_number": f"91330102{case_id:010d}", "permit_number": f"JY{case_id:014d}"}
    complete(services, users["issuer"].user, case["tasks"][0]["id"], {**ISSUANCE, **numbers})
    return case_id


def audit_free_start(services: Services, user: Any, data: dict[str, Any]) -> dict[str, Any]:
    from engine.services import cases as case_service

    return case_service.start_case(services, user, "restaurant", data)


def complete(services: Services, user: Any, task: str, form: dict[str, Any]) -> dict[str, Any]:
    from engine.services import cases as case_service

    return case_service.complete(services, user, task, form)


def seal(services: Services) -> signed_note.Checkpoint:
    """What the worker does each minute: the new events become leaves, a checkpoint is signed
    and published."""
    tlog.sequence(services)
    signed = tlog.sign(services, force=True)
    assert signed is not None
    return signed


def published(tmp_path: Path) -> Path:
    return tmp_path / "published"


def events_of(services: Services, case_id: int) -> list[CaseEvent]:
    with services.uow() as uow:
        return uow.cases.events(case_id)


# ---- the DBA's tools -----------------------------------------------------------------------


@contextmanager
def as_dba(services: Services) -> Iterator[Connection]:
    """A connection with the append-only triggers (and foreign keys) out of the way, as the
    database's owner has it: PostgreSQL `session_replication_role = replica` (row triggers and
    foreign-key checks do not fire), SQLite: the triggers dropped, `foreign_keys` off."""
    pg = services.engine.dialect.name == "postgresql"
    with services.engine.connect() as conn:
        raw = conn.connection.driver_connection
        if not pg:
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if pg:
                    conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                else:
                    for table in ("case_events", "log_leaves", "log_nodes", "log_checkpoints"):
                        for action in ("update", "delete"):
                            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
                yield conn
        finally:
            if not pg:
                assert raw is not None
                raw.execute("PRAGMA foreign_keys=ON")


def recompute(services: Services, case_id: int, events: list[CaseEvent]) -> dict[str, Any]:
    """The insider's rewrite, with the project's own code: re-execute `events` (their content
    as the insider wants it) exactly as the audit does, and give each its new state hash and
    chained hash; returns the case row that goes with them."""
    with services.uow() as uow:
        case = uow.cases.existing(case_id)
        runtime, targets = audit._runtimes(services, uow, case, events)
        days = services.calendars.get(uow)
    replay = audit._Replay(case_id, runtime, targets)
    previous = GENESIS
    with working_days(days, services.tz):
        for event in events:
            replay.apply(event)
            event.state_hash = replay.hash()
            event.hash = event_hash(
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
            previous = event.hash
    return {
        "status": str(replay.status),
        "data": replay.data,
        "state": replay._state or "",
        "last_hash": previous,
        "last_seq": len(events),
    }


def write_events(conn: Connection, case_id: int, events: list[CaseEvent]) -> None:
    for event in events:
        conn.execute(
            update(case_events)
            .where(case_events.c.case_id == case_id, case_events.c.seq == event.seq)
            .values(data=event.data, hash=event.hash, state_hash=event.state_hash)
        )


def findings(services: Services, tmp_path: Path, key: str) -> list[str]:
    report = tlog_verify.verify_published(services, published(tmp_path), [key])
    return report.findings


def per_case(services: Services, case_id: int) -> dict[str, Any]:
    return audit.replay(services, None, case_id)


# ---- the attacks ---------------------------------------------------------------------------


def test_a_rewritten_event_with_every_hash_recomputed_is_named(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str, tmp_path: Path
) -> None:
    ids = [run_case(services, users, f"面馆 {i}") for i in range(3)]
    seal(services)
    assert findings(services, tmp_path, log_key) == []
    victim = ids[1]
    events = [dataclasses.replace(e) for e in events_of(services, victim)]
    # 受理 opinion rewritten: the case data, every later state hash and every later event hash
    # change, and the insider recomputes them all
    events[1].data = canonical_data(
        {**events[1].data, "form": {**events[1].data["form"], "intake_opinion": "材料不全"}}
    )
    row = recompute(services, victim, events)
    with as_dba(services) as conn:
        write_events(conn, victim, events)
        conn.execute(update(cases).where(cases.c.id == victim).values(**row))
    # every check the database alone allows passes
    assert per_case(services, victim) == {"case_id": victim, "verified": True, "steps": 9}
    found = findings(services, tmp_path, log_key)
    assert found[0] == (
        f"办件 {victim} 第 2 步: 数据库中的事件与已公开的日志不符 (事件内容、哈希或状态哈希被改写)"
    )
    named = {line.split(":")[0] for line in found if line.startswith("办件")}
    assert named == {f"办件 {victim} 第 {seq} 步" for seq in range(2, 10)}
    assert "数据库中的事件算出的根哈希与大小 27 的签名检查点不符" in found
    # an archive exported now re-executes and chains, but its events are not the signed ones
    archive = json.dumps(audit.export(services, users["auditor"].user, victim))
    report = verify_archive(archive, [log_key])
    failed = [line for ok, line in report.lines if not ok]
    assert failed[0] == (
        f"包含证明: 办件 {victim} 第 2 步: 事件 (及其状态哈希) 不在签名的日志中 "
        f"(叶 {9 * (victim - 1) + 1}, 日志大小 27): 事件在签名后被改动, 或证明不对"
    )
    assert len(failed) == 8  # steps 2 to 9; the re-execution itself passes
    assert report.lines[-1][0] and report.lines[-1][1].startswith("重新执行: ")
    # the command says the same, exit status 1
    result = CliRunner().invoke(
        cli,
        ["log", "verify", "--published", str(published(tmp_path)), "--key", log_key],
        env={"LIANBAN_DATABASE_URL": str(services.engine.url.render_as_string(False))},
    )
    assert result.exit_code == 1, result.output
    assert f"办件 {victim} 第 2 步: 数据库中的事件与已公开的日志不符" in result.output
    assert result.output.splitlines()[-1] == "数据库与已公开的日志不一致: 9 处"
    nowhere = CliRunner().invoke(
        cli,
        ["log", "verify", "--published", str(tmp_path / "nowhere"), "--key", log_key],
        env={"LIANBAN_DATABASE_URL": str(services.engine.url.render_as_string(False))},
    )
    assert nowhere.exit_code == 2 and "没有已公开的检查点" in nowhere.output


def test_a_case_cut_short_and_rolled_back_is_named(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str, tmp_path: Path
) -> None:
    ids = [run_case(services, users, f"面馆 {i}") for i in range(3)]
    seal(services)
    victim = ids[0]
    events = events_of(services, victim)
    kept = [dataclasses.replace(e) for e in events[:4]]  # back to before the reviews
    row = recompute(services, victim, kept)
    assert [e.hash for e in kept] == [e.hash for e in events[:4]]  # nothing else touched
    with as_dba(services) as conn:
        conn.execute(
            delete(case_events).where(case_events.c.case_id == victim, case_events.c.seq > 4)
        )
        conn.execute(update(cases).where(cases.c.id == victim).values(**row, ended_at=None))
    assert per_case(services, victim) == {"case_id": victim, "verified": True, "steps": 4}
    found = findings(services, tmp_path, log_key)
    missing = [
        f"办件 {victim} 第 {seq} 步: 已公开的事件在数据库中不存在 (被删除)" for seq in range(5, 10)
    ]
    assert found[: len(missing)] == missing


def test_two_cases_swapped_are_named(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str, tmp_path: Path
) -> None:
    first, second = run_case(services, users, "甲店"), run_case(services, users, "乙店")
    seal(services)
    one, two = events_of(services, first), events_of(services, second)
    with services.uow() as uow:
        rows = {c: uow.cases.existing(c) for c in (first, second)}
    # each case's events given to the other, the chain rehashed under the new case id, the
    # case rows' status, data, state and chain head swapped with them
    with as_dba(services) as conn:
        for source, target in ((one, second), (two, first)):
            previous = GENESIS
            for event in source:
                new_hash = event_hash(
                    target,
                    event.seq,
                    str(event.type),
                    event.actor,
                    event.at,
                    event.task_id,
                    event.element,
                    event.data,
                    previous,
                )
                conn.execute(
                    update(case_events)
                    .where(case_events.c.case_id == target, case_events.c.seq == event.seq)
                    .values(
                        type=str(event.type),
                        actor=event.actor,
                        at=event.at,
                        task_id=event.task_id,
                        element=event.element,
                        data=event.data,
                        hash=new_hash,
                        state_hash=event.state_hash,
                    )
                )
                previous = new_hash
            donor = rows[first if target == second else second]
            conn.execute(
                update(cases)
                .where(cases.c.id == target)
                .values(
                    status=str(donor.status), data=donor.data, state=donor.state, last_hash=previous
                )
            )
    from tests.integration.test_audit_chain import verdict

    assert verdict(services, first).verified and verdict(services, second).verified  # the chains
    named = {line.split(":")[0] for line in findings(services, tmp_path, log_key)}
    assert {f"办件 {first} 第 1 步", f"办件 {second} 第 1 步"} <= named
    assert {f"办件 {c} 第 {s} 步" for c in (first, second) for s in range(1, 10)} <= named


def test_a_forked_log_is_refused_by_the_auditors_checkpoint(
    services: Services,
    users: dict[str, Any],
    restaurant: Any,
    log_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_case(services, users, "甲店")
    held = seal(services)  # the auditor keeps this checkpoint (from the publication)
    held_note = (published(tmp_path) / "checkpoints" / str(held.size)).read_text()
    run_case(services, users, "乙店")
    seal(services)
    # the fork: another database with another history, signed by the same key
    fork_url = f"sqlite:///{tmp_path / 'fork.db'}"
    from engine.persistence.schema import upgrade

    engine = make_engine(fork_url)
    upgrade(engine)
    fork = Services(engine, FORMS)
    calendar.seed(fork)
    from engine.services import accounts

    fork_users: dict[str, Any] = {}
    for name, groups in (
        ("front_desk", ["front_desk"]),
        ("market_reviewer", ["market_regulation"]),
        ("food_reviewer", ["food_safety"]),
        ("issuer", ["issuance"]),
        ("auditor", []),
    ):
        user, _ = accounts.create_user(
            fork, name, "auditor" if name == "auditor" else "clerk", groups
        )
        fork_users[name] = SimpleNamespace(user=user)
    from engine.bundles.source import from_path

    publishing.deploy(fork, from_path(PROCESSES / "restaurant"), "test")
    monkeypatch.setenv("LIANBAN_LOG_DIR", str(tmp_path / "fork-published"))
    forked_id = run_case(fork, fork_users, "丙店")  # a different first case
    run_case(fork, fork_users, "乙店")
    forked = seal(fork)
    assert forked.size > held.size
    # the fork cannot prove that it extends what the auditor holds
    with fork.uow() as uow:
        proof = merkle.consistency_proof(held.size, forked.size, uow.log.source())
    assert not merkle.verify_consistency(held.size, forked.size, held.root, forked.root, proof)
    archive = audit.export(fork, fork_users["auditor"].user, forked_id, against=held.size)
    text = json.dumps(archive, ensure_ascii=False)
    alone = verify_archive(text, [log_key])
    assert alone.ok  # on its own the forked archive is well signed and self-consistent
    report = verify_archive(text, [log_key], held_note)
    assert not report.ok
    assert (
        False,
        (
            f"一致性: 档案的检查点 (大小 {forked.size}) 与所持检查点 (大小 {held.size}) "
            "不一致: 日志被改写或分叉"
        ),
    ) in report.lines
    engine.dispose()


# ---- the honest path -----------------------------------------------------------------------


def run_offline(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`lianban` in a subprocess whose environment names no database and no log key."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LIANBAN_") and not k.startswith("PG")
    }
    return subprocess.run(
        [str(LIANBAN), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_an_exported_archive_verifies_offline(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str, tmp_path: Path
) -> None:
    run_case(services, users, "甲店")
    held = seal(services)
    case_id = run_case(services, users, "乙店")
    seal(services)
    auditor = users["auditor"].user
    archive = audit.export(services, auditor, case_id, against=held.size)
    log = archive["log"]
    assert log["size"] == 18 and log["pending"] == []
    assert [p["seq"] for p in log["proofs"]] == list(range(1, 10))
    assert archive["consistency"]["to_size"] == held.size
    assert "restaurant.bpmn" in archive["bundle_files"]
    assert "forms/restaurant/intake.json" in archive["bundle_files"]  # from the shared library
    path = tmp_path / f"case-{case_id}.json"
    path.write_text(json.dumps(archive, ensure_ascii=False), encoding="utf-8")
    key_file = tmp_path / "log.pub"
    key_file.write_text(log_key + "\n")
    held_file = published(tmp_path) / "checkpoints" / str(held.size)

    done = run_offline(
        tmp_path,
        "verify-archive",
        str(path),
        "--key",
        str(key_file),
        "--checkpoint",
        str(held_file),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"通过  检查点签名: 有效, 由 {ORIGIN} 签名; 日志 {ORIGIN}, 大小 18,")
    assert lines[1:] == [
        f"通过  哈希链: 办件 {case_id} 的 9 个事件首尾相接, 每个哈希都与内容相符",
        f"通过  包含证明: 办件 {case_id} 的 9 个事件都在大小 18 的签名日志中",
        f"通过  一致性: 档案的检查点 (大小 18) 与所持检查点 (大小 9, {ORIGIN} 签名) "
        "属于同一棵只追加的树",
        "通过  重新执行: 在档案所附的流程版本 (restaurant 第 1 版) 上按记录重新执行 9 步, "
        "每一步的状态哈希都与记录一致",
        f"结论: 办件 {case_id} 的档案通过全部检查",
    ]

    # the same archive with one form value changed in the file: named, exit status 1
    edited = json.loads(path.read_text(encoding="utf-8"))
    edited["events"][4]["data"]["form"]["food_opinion"] = "不同意"
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    done = run_offline(tmp_path, "verify-archive", str(bad), "--key", log_key)
    assert done.returncode == 1
    assert f"失败  哈希链: 办件 {case_id} 第 5 步: 事件 5 的内容与其哈希不符" in done.stdout
    # another key: the signature does not verify
    _, stranger = signed_note.generate_key("someone.else/log")
    done = run_offline(tmp_path, "verify-archive", str(path), "--key", stranger)
    assert done.returncode == 1 and "失败  检查点签名" in done.stdout
    # not an archive, not a key: exit status 2
    assert run_offline(tmp_path, "verify-archive", str(key_file), "--key", log_key).returncode == 2
    assert run_offline(tmp_path, "verify-archive", str(path), "--key", "nonsense").returncode == 2


def test_the_archive_through_the_api_and_events_not_yet_signed(
    services: Services,
    users: dict[str, Any],
    restaurant: Any,
    log_key: str,
    client: Any,
) -> None:
    from tests.e2e.test_openapi import assert_matches

    headers = users["auditor"].headers
    desk = users["front_desk"].user
    case = audit_free_start(services, desk, APPLICATION)
    case_id = int(case["id"])
    unsigned = assert_matches(
        client.get(f"/api/v1/cases/{case_id}/export", headers=headers),
        "/cases/{case_id}/export",
        "get",
    )
    assert unsigned["log"] is None
    report = verify_archive(json.dumps(unsigned), [log_key])
    assert not report.ok and report.lines[0] == (
        False,
        f"办件 {case_id}: 档案中没有签名的日志检查点, 无法证明记录在导出前已公开 (导出时日志尚未签名)",
    )
    held = seal(services)
    complete(services, desk, case["tasks"][0]["id"], ACCEPT)  # after the checkpoint
    archive = assert_matches(
        client.get(f"/api/v1/cases/{case_id}/export?against={held.size}", headers=headers),
        "/cases/{case_id}/export",
        "get",
    )
    assert archive["log"]["size"] == held.size == 1
    assert [p["seq"] for p in archive["log"]["proofs"]] == [1]
    assert archive["log"]["pending"] == [2, 3]
    assert archive["consistency"] == {"to_size": 1, "proof": []}
    report = verify_archive(json.dumps(archive), [log_key])
    assert report.ok, report.text()
    assert report.lines[2] == (
        True,
        f"包含证明: 办件 {case_id} 的 1 个事件都在大小 1 的签名日志中; 第 2, 3 步在检查点之后, 尚未签名",
    )
    for bad in ("x", "0", "99"):
        answer = client.get(f"/api/v1/cases/{case_id}/export?against={bad}", headers=headers)
        assert answer.status_code == 422, bad
    # a case started after the checkpoint: nothing of it is anchored yet, which is no pass
    later = int(audit_free_start(services, desk, APPLICATION)["id"])
    report = verify_archive(json.dumps(audit.export(services, auditor_of(users), later)), [log_key])
    assert (
        False,
        f"包含证明: 办件 {later} 没有一个事件在签名的检查点中 (全部列为待签): 记录尚未锚定, "
        "请在下一次签名后重新导出",
    ) in report.lines


def auditor_of(users: dict[str, Any]) -> Any:
    return users["auditor"].user


def test_a_case_moved_to_another_version_verifies_offline(
    services: Services, users: dict[str, Any], log_key: str
) -> None:
    """The archive of a case migrated from version 1 to 2 carries both versions' files and
    re-executes on each in turn, as the audit does."""
    from engine.bundles.source import from_upload
    from engine.services import cases as case_service
    from engine.services import recovery
    from tests.fixtures import bpmn

    def parallel(after_join: str) -> bytes:
        return bpmn.document(
            f"""
  <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="split" />
  <bpmn:parallelGateway id="split" />
  <bpmn:sequenceFlow id="fa" sourceRef="split" targetRef="a" />
  <bpmn:sequenceFlow id="fb" sourceRef="split" targetRef="b" />
  <bpmn:userTask id="a" name="市场监管审查" camunda:candidateGroups="front_desk" />
  <bpmn:userTask id="b" name="食品安全审查" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="fa2" sourceRef="a" targetRef="join" />
  <bpmn:sequenceFlow id="fb2" sourceRef="b" targetRef="join" />
  <bpmn:parallelGateway id="join" />
  {after_join}""",
            "par",
        )

    v1 = parallel(
        '<bpmn:sequenceFlow id="f9" sourceRef="join" targetRef="e" /><bpmn:endEvent id="e" />'
    )
    v2 = parallel(
        """<bpmn:sequenceFlow id="f9" sourceRef="join" targetRef="issue" />
  <bpmn:userTask id="issue" name="发证" camunda:candidateGroups="front_desk" />
  <bpmn:sequenceFlow id="f10" sourceRef="issue" targetRef="e" /><bpmn:endEvent id="e" />"""
    )
    publishing.deploy(services, from_upload("par.bpmn", v1), "test")
    desk = users["front_desk"].user
    case = case_service.start_case(services, desk, "par", {})
    by_element = {t["element"]: t["id"] for t in case["tasks"]}
    case_service.complete(services, desk, by_element["a"], {})
    publishing.deploy(services, from_upload("par.bpmn", v2), "test")
    recovery.migrate(services, users["admin"].user, case["id"], 2)
    case = case_service.complete(services, desk, by_element["b"], {})
    case_service.complete(services, desk, case["tasks"][0]["id"], {})
    seal(services)
    archive = audit.export(services, users["auditor"].user, case["id"])
    assert archive["bundle_version_id"] == 2 and list(archive["migrated_bundle_files"]) == ["1"]
    report = verify_archive(json.dumps(archive), [log_key])
    assert report.ok, report.text()
    # the version it moved to, changed in the file (its last task renamed): the state after
    # the move is not the recorded one
    (path,) = archive["bundle_files"]
    archive["bundle_files"][path] = archive["bundle_files"][path].replace('"issue"', '"issued"')
    report = verify_archive(json.dumps(archive), [log_key])
    assert not report.ok
    assert report.lines[-1] == (
        False,
        f"重新执行: 办件 {case['id']} 第 3 步: 重新执行到第 3 步 (case_migrated) 后的状态与记录不符",
    )
