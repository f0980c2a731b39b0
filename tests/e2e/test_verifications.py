"""Stored verifications (issue 20 · part 2), both databases: every verification run from the page,
the API or the command line is stored with date and verifier and said in plain words; a tampered
case is flagged in the auditor's search and on the case; many cases are verified at once in the
worker, with a progress page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine.domain import signed_note
from engine.services import Services, tlog, verifications, worker
from tests.e2e.test_openapi import assert_matches
from tests.e2e.test_pages_auditor import Centre, _granted, _token
from tests.fixtures import restaurant as r


@pytest.fixture
def centre(services: Services, users: dict[str, Any]) -> Centre:
    return Centre(services, users)


def _tamper(svc: Services, case_id: int) -> None:
    """Change the case's stored data by hand, as someone with database access would."""
    with svc.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            statement = "UPDATE cases SET data = jsonb_set(data, '{shop_name}', '\"别家面馆\"')"
        else:
            statement = "UPDATE cases SET data = json_set(data, '$.shop_name', '别家面馆')"
        conn.execute(text(statement + " WHERE id = :c"), {"c": case_id})


def _stored(svc: Services, case_id: int) -> list[tuple[str, bool, int | None, int | None]]:
    with svc.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT verifier, ok, first_bad_seq, checkpoint_size FROM case_verifications"
                " WHERE case_id = :c ORDER BY id"
            ),
            {"c": case_id},
        ).all()
    return [(v, bool(ok), bad, size) for v, ok, bad, size in rows]


def _verify_on_page(centre: Centre, case_id: int) -> str:
    page = centre.client.get(f"/audit/cases/{case_id}").get_data(as_text=True)
    done = centre.client.post(f"/audit/cases/{case_id}/verify", data={"csrf_token": _token(page)})
    assert done.status_code == 200
    return done.get_data(as_text=True)


def test_page_and_api_verifications_are_stored_and_said_in_plain_words(
    centre: Centre, users: dict[str, Any]
) -> None:
    case = _granted(centre, centre.start())
    centre.sign_in("auditor")
    before = centre.client.get(f"/audit/cases/{case['id']}").get_data(as_text=True)
    assert "本办件尚未核验过" in before

    html = _verify_on_page(centre, case["id"])
    assert 'data-verified="true"' in html
    for words in (
        verifications.PROVES_CHAIN,
        verifications.PROVES_STEPS,
        verifications.CANNOT_UNSIGNED,
        verifications.CANNOT_DECISION,
    ):
        assert words in html
    assert "核验人 auditor · 2026-03-02 09:00 · 结果已保存" in html
    assert re.search(r'<table class="list verifications" id="verifications">', html)

    api = centre.client.get(f"/api/v1/cases/{case['id']}/replay", headers=users["admin"].headers)
    assert api.status_code == 200 and api.json == {
        "case_id": case["id"],
        "verified": True,
        "steps": api.json["steps"],
    }
    assert _stored(centre.svc, case["id"]) == [
        ("auditor", True, None, None),
        ("admin", True, None, None),
    ]

    listed = centre.client.get(
        f"/api/v1/cases/{case['id']}/verifications", headers=users["auditor"].headers
    )
    assert listed.status_code == 200
    body = assert_matches(listed, "/cases/{case_id}/verifications", "get")
    assert [v["verifier"] for v in body["verifications"]] == ["admin", "auditor"]  # newest first
    assert set(body["verifications"][0]) == {
        "id",
        "verified_at",
        "verifier",
        "ok",
        "steps",
        "first_bad_seq",
        "reason",
        "checkpoint_size",
    }
    clerk = centre.client.get(
        f"/api/v1/cases/{case['id']}/verifications", headers=users["front_desk"].headers
    )
    assert clerk.status_code == 403 and "error" in clerk.json
    # the staff case page lists them for auditors, not for clerks
    assert "核验记录" in centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    centre.sign_in("front_desk")
    assert "核验记录" not in centre.client.get(f"/cases/{case['id']}").get_data(as_text=True)


def test_a_case_in_a_signed_checkpoint_says_when_it_was_signed(
    centre: Centre, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer, _ = signed_note.generate_key("lianban-test")
    key = tmp_path / "log.key"
    key.write_text(signer)
    monkeypatch.setenv("LIANBAN_LOG_KEY", str(key))
    case = _granted(centre, centre.start())
    late = centre.do(centre.start(), "intake", r.ACCEPT)
    tlog.sequence(centre.svc)
    assert tlog.sign(centre.svc) is not None
    checkpoint = tlog.latest(centre.svc)
    assert checkpoint is not None
    size = checkpoint["size"]
    centre.do(late, "review_licence", r.LICENCE_OK)  # a new event, not yet in the log
    centre.sign_in("auditor")

    html = _verify_on_page(centre, case["id"])
    found = re.search(r"本档案包含在 2026-03-02 09:00 签名的日志中 \(第 (\d+) 条\)", html)
    assert found and 1 <= int(found.group(1)) <= size
    assert verifications.CANNOT_SIGNED in html and verifications.CANNOT_UNSIGNED not in html
    assert _stored(centre.svc, case["id"])[-1] == ("auditor", True, None, size)

    newer = _verify_on_page(centre, late["id"])
    assert verifications.CANNOT_UNSIGNED in newer and "签名的日志中" not in newer
    assert _stored(centre.svc, late["id"])[-1][3] is None


def test_a_tampered_case_is_flagged_in_the_search_and_on_the_case(centre: Centre) -> None:
    honest = _granted(centre, centre.start())
    tampered = centre.do(centre.start(applicant_name="李四"), "intake", r.ACCEPT)
    centre.sign_in("auditor")
    _verify_on_page(centre, honest["id"])
    _tamper(centre.svc, tampered["id"])
    html = _verify_on_page(centre, tampered["id"])
    assert 'data-verified="false"' in html
    assert 'id="tampered"' in html and "校验失败: 第" in html
    (_, ok, bad, _) = _stored(centre.svc, tampered["id"])[-1]
    assert not ok and bad is not None

    search = centre.client.get("/audit/").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-case="(\d+)">(.*?)</tr>', search, re.S))
    flagged = rows[str(tampered["id"])]
    assert f"校验失败: 第 {bad} 步" in flagged and 'class="badge tampered"' in flagged
    assert "办理中" not in flagged and "正常" not in flagged
    assert "已核验" in rows[str(honest["id"])] and "校验失败" not in rows[str(honest["id"])]

    case_page = centre.client.get(f"/cases/{tampered['id']}").get_data(as_text=True)
    assert 'id="tampered"' in case_page and f"校验失败: 第 {bad} 步" in case_page
    # verified again after the record is put right by hand: no longer flagged
    # (the flag follows the latest verification)
    assert "校验失败" not in centre.client.get(f"/cases/{honest['id']}").get_data(as_text=True)


def test_many_cases_are_verified_at_once_in_the_worker(
    centre: Centre, users: dict[str, Any]
) -> None:
    made = [centre.start() for _ in range(3)]
    centre.clock.advance(days=1)  # Tuesday
    later = [centre.start(), centre.do(centre.start(), "intake", r.ACCEPT)]
    _tamper(centre.svc, later[1]["id"])
    centre.sign_in("auditor")
    search = centre.client.get("/audit/").get_data(as_text=True)
    started = centre.client.post(
        "/audit/verifications",
        data={"csrf_token": _token(search), "scope": "since", "since": "2026-03-03"},
    )
    assert started.status_code == 302
    progress_url = started.headers["Location"]
    assert re.fullmatch(r"/audit/verifications/\d+", progress_url)
    waiting = centre.client.get(progress_url).get_data(as_text=True)
    assert 'data-total="2" data-done="0"' in waiting and 'http-equiv="refresh"' in waiting

    assert worker.run_due(centre.svc) >= 2
    done = centre.client.get(progress_url).get_data(as_text=True)
    assert 'data-finished="true"' in done
    assert 'data-total="2" data-done="2" data-failed="1"' in done
    assert "已核验 2 / 2 件, 其中 1 件校验失败" in done and 'http-equiv="refresh"' not in done
    failed = re.findall(r'<tr data-case="(\d+)">', done)
    assert failed == [str(later[1]["id"])]
    assert f'href="/audit/cases/{later[1]["id"]}"' in done
    assert _stored(centre.svc, later[0]["id"]) == [("auditor", True, None, None)]

    # the search's result: every case it finds (here: the running ones, all pages)
    by_search = centre.client.post(
        "/audit/verifications",
        data={"csrf_token": _token(search), "scope": "search", "status": "running"},
    )
    worker.run_due(centre.svc)
    page = centre.client.get(by_search.headers["Location"]).get_data(as_text=True)
    assert 'data-total="5" data-done="5" data-failed="1"' in page

    # the API: by ids, then its progress
    api = centre.client.post(
        "/api/v1/verifications",
        json={"case_ids": [c["id"] for c in made]},
        headers=users["auditor"].headers,
    )
    assert api.status_code == 202 and api.json["total"] == 3 and api.json["done"] == 0
    assert_matches(api, "/verifications", "post")
    worker.run_due(centre.svc)
    got = assert_matches(
        centre.client.get(
            f"/api/v1/verifications/{api.json['id']}", headers=users["auditor"].headers
        ),
        "/verifications/{batch_id}",
        "get",
    )
    assert (got["total"], got["done"], got["failed"], got["finished"]) == (3, 3, 0, True)
    assert got["failures"] == []
    with_failure = centre.client.get(
        f"/api/v1/verifications/{progress_url.rsplit('/', 1)[1]}", headers=users["auditor"].headers
    )  # the first batch: one failed case
    failures = assert_matches(with_failure, "/verifications/{batch_id}", "get")["failures"]
    assert [f["case_id"] for f in failures] == [later[1]["id"]]
    for bad_body in ({}, {"case_ids": []}, {"case_ids": ["x"]}, {"since": "03/01"}):
        refused = centre.client.post(
            "/api/v1/verifications", json=bad_body, headers=users["auditor"].headers
        )
        assert refused.status_code == 422, bad_body
    unknown = centre.client.post(
        "/api/v1/verifications", json={"case_ids": [999999]}, headers=users["auditor"].headers
    )
    assert unknown.status_code == 404
    clerk = centre.client.post(
        "/api/v1/verifications", json={"since": "2026-03-01"}, headers=users["front_desk"].headers
    )
    assert clerk.status_code == 403


def test_the_command_line_verification_is_stored(tmp_path: Path) -> None:
    import sqlite3

    from engine.persistence.db import make_engine
    from engine.services import accounts, cases
    from tests.conftest import PROCESSES
    from tests.e2e.server import run_cli

    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli("deploy", str(PROCESSES), db_url=url, check=True)
    engine = make_engine(url)
    svc = Services(engine, PROCESSES.parent / "forms")
    clerk, _ = accounts.create_user(svc, "c", "clerk", ["front_desk"])
    for _ in range(2):
        cases.start_case(svc, clerk, "restaurant", r.APPLICATION)
    engine.dispose()
    assert run_cli("replay", "1", db_url=url).returncode == 0
    with sqlite3.connect(tmp_path / "x.db") as db:
        db.execute("UPDATE cases SET data = json_set(data, '$.shop_name', '别家面馆') WHERE id = 2")
    assert run_cli("replay", "--all", db_url=url).returncode == 1
    with sqlite3.connect(tmp_path / "x.db") as db:
        rows = db.execute(
            "SELECT case_id, verifier, ok, first_bad_seq FROM case_verifications ORDER BY id"
        ).fetchall()
    assert [(c, v, bool(ok)) for c, v, ok, _ in rows] == [
        (1, "cli", True),
        (1, "cli", True),
        (2, "cli", False),
    ]
    assert rows[-1][3] is not None


def test_a_history_rewritten_after_the_signature_fails_against_the_signed_log(
    services: Services,
    users: dict[str, Any],
    restaurant: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The insider of tests/integration/test_tlog_insider.py: an event rewritten and every hash
    recomputed with the project's own code passes the chain and the re-execution; the stored
    verification fails at that step against the signed checkpoint, and the case is flagged."""
    import dataclasses

    from sqlalchemy import update

    from engine.domain.audit import canonical_data
    from engine.persistence.tables import cases as cases_table
    from tests.integration.test_tlog_insider import (
        as_dba,
        events_of,
        recompute,
        run_case,
        seal,
        write_events,
    )

    signer, _ = signed_note.generate_key("lianban.test/log")
    key = tmp_path / "log.key"
    key.write_text(signer + "\n")
    monkeypatch.setenv("LIANBAN_LOG_KEY", str(key))
    ids = [run_case(services, users, f"面馆 {i}") for i in range(2)]
    size = seal(services).size
    auditor = users["auditor"].user
    assert verifications.verify(services, auditor, ids[1])["verified"]
    victim = ids[1]
    events = [dataclasses.replace(e) for e in events_of(services, victim)]
    events[1].data = canonical_data(
        {**events[1].data, "form": {**events[1].data["form"], "intake_opinion": "材料不全"}}
    )
    row = recompute(services, victim, events)
    with as_dba(services) as conn:
        write_events(conn, victim, events)
        conn.execute(update(cases_table).where(cases_table.c.id == victim).values(**row))

    found = verifications.verify(services, auditor, victim)
    assert not found["verified"] and found["first_divergence"] == 2
    assert "与签名日志" in found["reason"] and "签名之后被改动" in found["reason"]
    assert _stored(services, victim)[-1] == ("auditor", False, 2, size)
    assert found["verification"]["flag"].startswith("校验失败: 第 2 步")
    assert _stored(services, ids[0]) == []  # only what was verified is recorded
    assert verifications.verify(services, auditor, ids[0])["verified"]
