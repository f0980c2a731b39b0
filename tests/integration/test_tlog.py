"""The transparency log (issue 20): every event becomes a leaf, the stored tree gives proofs
that verify, checkpoints are signed with a key outside the database, published to a directory,
and co-signed by a witness that refuses a forked history."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from engine.domain import merkle, signed_note
from engine.errors import Conflict
from engine.services import Services, cases, tlog, worker
from tests.fixtures.restaurant import ACCEPT, APPLICATION, FOOD_OK, LICENCE_OK

ORIGIN = "lianban/test-centre"


def run_case(services: Services, users: dict[str, Any], finish: bool = True) -> int:
    desk = users["front_desk"].user
    case = cases.start_case(services, desk, "restaurant", APPLICATION)
    case = cases.complete(services, desk, case["tasks"][0]["id"], ACCEPT)
    if finish:
        by_element = {t["element"]: t["id"] for t in case["tasks"]}
        cases.complete(
            services, users["market_reviewer"].user, by_element["review_licence"], LICENCE_OK
        )
        cases.complete(services, users["food_reviewer"].user, by_element["review_food"], FOOD_OK)
    return int(case["id"])


@pytest.fixture
def log_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A signer key file in LIANBAN_LOG_KEY, a publication directory; returns the verifier key."""
    signer_text, verifier_text = signed_note.generate_key(ORIGIN)
    key = tmp_path / "log.key"
    key.write_text(signer_text + "\n")
    monkeypatch.setenv("LIANBAN_LOG_KEY", str(key))
    monkeypatch.setenv("LIANBAN_LOG_ORIGIN", ORIGIN)
    monkeypatch.setenv("LIANBAN_LOG_DIR", str(tmp_path / "published"))
    return verifier_text


def all_events(services: Services) -> list[Any]:
    with services.engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT id, case_id, seq, hash, state_hash FROM case_events ORDER BY id")
            )
        )


def b64(items: list[str]) -> list[bytes]:
    return [base64.b64decode(x) for x in items]


def test_events_become_leaves_and_every_proof_verifies(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str, tmp_path: Path
) -> None:
    case_ids = [run_case(services, users, finish=i % 3 != 0) for i in range(30)]
    first = tlog.sequence(services)
    cp1 = tlog.sign(services)
    assert cp1 is not None and cp1.size == first
    case_ids += [run_case(services, users) for _ in range(30)]
    second = tlog.sequence(services)
    cp2 = tlog.sign(services)
    assert cp2 is not None
    case_ids += [run_case(services, users) for _ in range(7)]
    third = tlog.sequence(services)
    cp3 = tlog.sign(services)
    assert cp3 is not None

    events = all_events(services)
    assert len(events) >= 300, len(events)
    assert first + second + third == len(events)
    assert tlog.sequence(services) == 0  # a second run adds nothing
    assert tlog.sign(services) is None  # and signs nothing new

    # the stored root is the root of the leaves recomputed from case_events, in id order
    leaves = [
        merkle.leaf_hash(merkle.event_leaf(e.case_id, e.seq, e.hash, e.state_hash)) for e in events
    ]
    memory = merkle.MemorySource(leaves)
    for cp in (cp1, cp2, cp3):
        assert cp.root == merkle.root(memory, cp.size)
    latest = tlog.latest(services)
    assert latest is not None and latest["size"] == len(events) == cp3.size
    assert latest["root"] == merkle.root(memory, len(events)).hex()
    body, names = signed_note.open_note(latest["note"], [signed_note.Verifier.from_text(log_key)])
    assert names == [ORIGIN]
    assert signed_note.parse_checkpoint(body).root == cp3.root

    # inclusion proofs of sampled leaves, in every checkpoint that holds them
    for event in events[:: max(1, len(events) // 40)] + events[-3:]:
        index = tlog.leaf_of(services, event.case_id, event.seq)
        assert index is not None and leaves[index] == merkle.leaf_hash(
            merkle.event_leaf(event.case_id, event.seq, event.hash, event.state_hash)
        )
        for cp in (cp1, cp2, cp3):
            if index >= cp.size:
                continue
            answer = tlog.inclusion(services, event.case_id, event.seq, cp.size)
            assert answer["leaf_index"] == index
            assert base64.b64decode(answer["root"]) == cp.root
            assert merkle.verify_inclusion(
                index, cp.size, leaves[index], b64(answer["proof"]), cp.root
            )
            assert not merkle.verify_inclusion(
                index, cp.size, merkle.leaf_hash(b"forged"), b64(answer["proof"]), cp.root
            )

    # consistency between the checkpoints and some odd sizes
    sizes = [1, 2, 3, 7, 64, 100, cp1.size, cp2.size, 257, cp3.size]
    sizes = sorted({s for s in sizes if s <= cp3.size})
    for old in sizes:
        for new in sizes:
            if old > new:
                continue
            answer = tlog.consistency(services, old, new)
            assert merkle.verify_consistency(
                old,
                new,
                merkle.root(memory, old),
                merkle.root(memory, new),
                b64(answer["proof"]),
            ), (old, new)

    # published: every note, the latest, and the leaves of each checkpoint
    published = tmp_path / "published"
    assert (published / "checkpoint").read_text() == latest["note"]
    for cp in (cp1, cp2, cp3):
        assert (published / "checkpoints" / str(cp.size)).exists()
    files = sorted((published / "leaves").iterdir(), key=lambda p: int(p.name.split("-")[0]))
    assert [f.name for f in files] == [
        f"0-{cp1.size - 1}.txt",
        f"{cp1.size}-{cp2.size - 1}.txt",
        f"{cp2.size}-{cp3.size - 1}.txt",
    ]
    lines = [line.split() for f in files for line in f.read_text().splitlines()]
    assert [bytes.fromhex(line[3]) for line in lines] == leaves
    assert not list(published.rglob(".*.tmp"))


def test_a_late_committed_event_is_not_skipped(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str
) -> None:
    """An event whose id is below the last sequenced one (a transaction that committed late on
    PostgreSQL) still becomes a leaf at the next run."""
    run_case(services, users, finish=False)
    tlog.sequence(services)
    with services.engine.connect() as conn:
        leaf_count = conn.execute(text("SELECT count(*) FROM log_leaves")).scalar()
    assert leaf_count == len(all_events(services))
    run_case(services, users, finish=False)
    assert tlog.sequence(services) > 0


def test_without_a_key_events_are_sequenced_but_nothing_is_signed(
    services: Services,
    users: dict[str, Any],
    restaurant: Any,
    client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LIANBAN_LOG_KEY", raising=False)
    run_case(services, users, finish=False)
    assert tlog.sequence(services) > 0
    assert tlog.sign(services, force=True) is None
    assert tlog.latest(services) is None
    auditor = users["auditor"].headers
    answer = client.get("/api/v1/log/checkpoint", headers=auditor)
    assert answer.status_code == 503
    assert "LIANBAN_LOG_KEY" in answer.get_json()["error"]
    answer = client.post("/api/v1/log/checkpoint", headers=users["admin"].headers)
    assert answer.status_code == 503


def test_the_log_tables_refuse_update_and_delete(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str
) -> None:
    run_case(services, users, finish=False)
    tlog.sequence(services)
    assert tlog.sign(services) is not None
    for statement in (
        "UPDATE log_leaves SET leaf_hash = 'x' WHERE idx = 0",
        "DELETE FROM log_leaves WHERE idx = 0",
        "UPDATE log_nodes SET hash = 'x' WHERE level = 1",
        "DELETE FROM log_nodes",
        "UPDATE log_checkpoints SET root = 'x'",
        "DELETE FROM log_checkpoints",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with services.engine.begin() as conn:
                conn.execute(text(statement))


def test_the_api_serves_checkpoints_and_proofs(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str, client: Any
) -> None:
    run_case(services, users)
    auditor, admin = users["auditor"].headers, users["admin"].headers
    made = client.post("/api/v1/log/checkpoint", headers=admin)
    assert made.status_code == 201, made.get_json()
    size = made.get_json()["size"]
    assert client.post("/api/v1/log/checkpoint", headers=auditor).status_code == 403
    assert (
        client.get("/api/v1/log/checkpoint", headers=users["front_desk"].headers).status_code == 403
    )
    note = client.get("/api/v1/log/checkpoint", headers=auditor)
    assert note.status_code == 200 and note.mimetype == "text/plain"
    assert note.get_data(as_text=True).startswith(f"{ORIGIN}\n{size}\n")
    as_json = client.get(
        f"/api/v1/log/checkpoint/{size}", headers={**auditor, "Accept": "application/json"}
    ).get_json()
    assert as_json["size"] == size and len(as_json["root"]) == 64
    assert client.get("/api/v1/log/checkpoint/99999", headers=auditor).status_code == 404

    case_id = int(
        services.engine.connect().execute(text("SELECT min(case_id) FROM log_leaves")).scalar()
    )
    proof = client.get(
        f"/api/v1/log/proof/inclusion?case={case_id}&seq=1&size={size}", headers=auditor
    ).get_json()
    leaf = base64.b64decode(proof["leaf_hash"])
    assert merkle.verify_inclusion(
        proof["leaf_index"], size, leaf, b64(proof["proof"]), bytes.fromhex(as_json["root"])
    )
    bad = client.get(f"/api/v1/log/proof/inclusion?case={case_id}&seq=1&size=0", headers=auditor)
    assert bad.status_code == 422 and "树的大小" in str(bad.get_json())
    bad = client.get("/api/v1/log/proof/inclusion?case=x&seq=1", headers=auditor)
    assert bad.status_code == 422
    missing = client.get(f"/api/v1/log/proof/inclusion?case={case_id}&seq=9999", headers=auditor)
    assert missing.status_code == 404 and "尚未记入日志" in missing.get_json()["error"]
    cons = client.get(f"/api/v1/log/proof/consistency?from=1&to={size}", headers=auditor)
    assert cons.status_code == 200 and cons.get_json()["encoding"] == "base64"
    bad = client.get(f"/api/v1/log/proof/consistency?from=2&to={size + 5}", headers=auditor)
    assert bad.status_code == 422

    page = client.get("/guide").get_data(as_text=True)  # the 办事指南 shows the public key
    assert "日志公钥" in page and log_key in page


def _witness_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_verifier: str) -> str:
    signer_text, verifier_text = signed_note.generate_key("witness.example")
    (tmp_path / "witness.key").write_text(signer_text)
    monkeypatch.setenv("LIANBAN_WITNESS_KEY", str(tmp_path / "witness.key"))
    monkeypatch.setenv("LIANBAN_WITNESS_LOGS", log_verifier)
    monkeypatch.setenv("LIANBAN_WITNESS_DIR", str(tmp_path / "witnessed"))
    return verifier_text


def test_a_witness_cosigns_a_consistent_checkpoint_and_refuses_a_fork(
    services: Services,
    users: dict[str, Any],
    restaurant: Any,
    log_key: str,
    client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    witness_key = _witness_env(tmp_path, monkeypatch, log_key)
    log_verifier = signed_note.Verifier.from_text(log_key)
    run_case(services, users)
    tlog.sequence(services)
    first = tlog.latest(services) if tlog.sign(services) else None
    assert first is not None
    answer = client.post(
        "/api/v1/log/witness",
        headers=users["admin"].headers,
        json={"note": first["note"], "proof": []},
    )
    assert answer.status_code == 200, answer.get_json()
    cosigned = answer.get_json()["note"]
    _, names = signed_note.open_note(
        cosigned, [log_verifier, signed_note.Verifier.from_text(witness_key)]
    )
    assert names == [ORIGIN, "witness.example"]

    run_case(services, users)
    tlog.sequence(services)
    assert tlog.sign(services) is not None
    second = tlog.latest(services)
    assert second is not None
    proof = tlog.consistency(services, first["size"], second["size"])["proof"]
    answer = client.post(
        "/api/v1/log/witness",
        headers=users["admin"].headers,
        json={"note": second["note"], "proof": proof},
    )
    assert answer.status_code == 200, answer.get_json()

    # a fork: the same log key signs a bigger tree that does not extend the witnessed one
    signer = signed_note.Signer.from_text(Path(tmp_path / "log.key").read_text().strip())
    forged_root = merkle.leaf_hash(b"rewritten history")
    forged = signed_note.sign(
        signed_note.checkpoint_body(ORIGIN, second["size"] + 10, forged_root), signer
    )
    answer = client.post(
        "/api/v1/log/witness", headers=users["admin"].headers, json={"note": forged, "proof": proof}
    )
    assert answer.status_code == 409 and "不一致" in answer.get_json()["error"]
    with pytest.raises(Conflict):  # nor a smaller tree (a rollback)
        tlog.witness(first["note"], [])
    # a note no known key signed
    other, _ = signed_note.generate_key(ORIGIN)
    stranger = signed_note.sign(
        signed_note.checkpoint_body(ORIGIN, 1, forged_root), signed_note.Signer.from_text(other)
    )
    assert (
        client.post(
            "/api/v1/log/witness", headers=users["admin"].headers, json={"note": stranger}
        ).status_code
        == 403
    )


def test_the_worker_sequences_and_signs(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str
) -> None:
    run_case(services, users, finish=False)
    stop = threading.Event()
    thread = threading.Thread(target=worker.work, args=(services, stop, 0.05, 0.2))
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while tlog.latest(services) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first = tlog.latest(services)
        assert first is not None and first["size"] == len(all_events(services))
        run_case(services, users, finish=False)  # a later round takes the new events
        while tlog.latest(services) == first and time.monotonic() < deadline:
            time.sleep(0.05)
        second = tlog.latest(services)
        assert second is not None and second["size"] == len(all_events(services)) > first["size"]
    finally:
        stop.set()
        thread.join(timeout=10)


def test_the_log_answers_match_the_openapi_spec(
    services: Services, users: dict[str, Any], restaurant: Any, log_key: str, client: Any
) -> None:
    from tests.e2e.test_openapi import assert_matches

    auditor, admin = users["auditor"].headers, users["admin"].headers
    as_json = {**auditor, "Accept": "application/json"}
    run_case(services, users, finish=False)
    made = assert_matches(
        client.post("/api/v1/log/checkpoint", headers=admin), "/log/checkpoint", "post"
    )
    size = made["size"]
    again = client.post("/api/v1/log/checkpoint", headers=admin)
    assert (
        again.status_code == 200
        and assert_matches(again, "/log/checkpoint", "post")["new"] is False
    )
    assert_matches(
        client.post("/api/v1/log/checkpoint", headers=auditor), "/log/checkpoint", "post"
    )
    assert_matches(client.get("/api/v1/log/checkpoint", headers=as_json), "/log/checkpoint", "get")
    one = "/log/checkpoint/{size}"
    assert_matches(client.get(f"/api/v1/log/checkpoint/{size}", headers=as_json), one, "get")
    assert_matches(client.get("/api/v1/log/checkpoint/999", headers=as_json), one, "get")
    case_id = all_events(services)[0].case_id
    inc = "/log/proof/inclusion"
    assert_matches(client.get(f"/api/v1{inc}?case={case_id}&seq=1", headers=auditor), inc, "get")
    assert_matches(
        client.get(f"/api/v1{inc}?case={case_id}&seq=1&size=0", headers=auditor), inc, "get"
    )
    assert_matches(client.get(f"/api/v1{inc}?case={case_id}&seq=99", headers=auditor), inc, "get")
    con = "/log/proof/consistency"
    assert_matches(client.get(f"/api/v1{con}?from=1&to={size}", headers=auditor), con, "get")
    assert_matches(client.get(f"/api/v1{con}?from=3&to=2", headers=auditor), con, "get")
    wit = "/log/witness"
    assert_matches(client.post(f"/api/v1{wit}", headers=admin, json={"note": "x"}), wit, "post")
