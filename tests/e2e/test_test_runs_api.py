"""The test-run API through Flask's test client: bearer tokens and the editor page's session with
its CSRF token, every answer as docs/openapi.yaml describes it; and `lianban test-runs`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import PROCESSES
from tests.e2e.server import run_cli
from tests.e2e.test_openapi import assert_matches
from tests.fixtures.pages import sign_in
from tests.integration.test_test_runs import (
    WITH_INSPECTION,
    WITHOUT_INSPECTION,
    restaurant_files,
    steps,
)

RUN = "/api/v1/bundles/test-run"
RUNS = "/api/v1/bundles/restaurant/test-runs"


def test_a_test_run_over_the_api(client: Any, users: dict[str, Any]) -> None:
    designer = users["designer"].headers
    body = {"files": restaurant_files(), "steps": WITH_INSPECTION}
    answer = client.post(RUN, headers=designer, json=body)
    assert answer.status_code == 200
    result = assert_matches(answer, "/bundles/test-run", "post")
    assert result["ok"] and result["end_event"] == "concluded"

    refused = client.post(RUN, headers=designer, json={**body, "steps": [{"complete": "x"}]})
    assert refused.status_code == 422
    assert "第 1 步必须是 start" in assert_matches(refused, "/bundles/test-run", "post")["error"]
    broken = {"files": {"p.bpmn": "<nope"}, "steps": []}
    bad_draft = client.post(RUN, headers=designer, json=broken)
    assert bad_draft.status_code == 422
    assert_matches(bad_draft, "/bundles/test-run", "post")

    clerk = client.post(RUN, headers=users["front_desk"].headers, json=body)
    assert clerk.status_code == 403
    assert_matches(clerk, "/bundles/test-run", "post")
    assert client.post(RUN, json=body).status_code == 401


def test_the_editor_page_session_needs_its_csrf_token(
    client: Any, services: Any, users: dict[str, Any]
) -> None:
    token = sign_in(client, services, "designer", "Kq7#mZp2!vRx")
    body = {"files": restaurant_files(), "steps": steps()}
    forged = client.post(RUN, json=body)
    assert forged.status_code == 403 and "CSRF" in forged.get_json()["error"]
    answer = client.post(RUN, json=body, headers={"X-CSRFToken": token})
    assert answer.status_code == 200, answer.get_json()
    assert [t["element"] for t in answer.get_json()["ready"]] == ["intake"]
    # reading needs no token
    assert client.get(RUNS).status_code == 200


def test_saved_runs_over_the_api(client: Any, users: dict[str, Any], restaurant: Any) -> None:
    designer = users["designer"].headers
    files = restaurant_files()
    created = client.post(
        RUNS, headers=designer, json={"name": "踏勘", "files": files, "steps": WITH_INSPECTION}
    )
    assert created.status_code == 201
    saved = assert_matches(created, "/bundles/{key}/test-runs", "post")
    assert saved["result"]["ok"] and saved["expected"]["end_event"] == "concluded"
    other = client.post(
        RUNS, headers=designer, json={"name": "无需踏勘", "steps": WITHOUT_INSPECTION}
    )
    assert other.status_code == 201, other.get_json()

    listed = assert_matches(client.get(RUNS, headers=designer), "/bundles/{key}/test-runs", "get")
    assert [r["name"] for r in listed["runs"]] == ["踏勘", "无需踏勘"]

    path = "/bundles/{key}/test-runs/{run_id}"
    renamed = client.put(f"{RUNS}/{saved['id']}", headers=designer, json={"name": "需要踏勘"})
    assert assert_matches(renamed, path, "put")["name"] == "需要踏勘"
    missing = client.put(f"{RUNS}/999", headers=designer, json={"name": "x"})
    assert missing.status_code == 404
    assert_matches(missing, path, "put")

    rerun = client.post(f"{RUNS}/rerun", headers=designer, json={"files": files})
    result = assert_matches(rerun, "/bundles/{key}/test-runs/rerun", "post")
    assert result["passed"] and result["total"] == 2 and result["version"] is None
    edited = {
        **files,
        "restaurant.bpmn": files["restaurant.bpmn"].replace(
            "needs_inspection == True", "needs_inspection == False"
        ),
    }
    failing = client.post(f"{RUNS}/rerun", headers=designer, json={"files": edited})
    result = assert_matches(failing, "/bundles/{key}/test-runs/rerun", "post")
    assert not result["passed"] and result["failed"] == 2
    assert all(r["difference"]["message"] for r in result["runs"])
    stored = client.post(f"{RUNS}/rerun", headers=designer)
    assert assert_matches(stored, "/bundles/{key}/test-runs/rerun", "post")["version"] == 1

    deleted = client.delete(f"{RUNS}/{saved['id']}", headers=designer)
    assert assert_matches(deleted, path, "delete")["deleted"] is True
    assert client.delete(f"{RUNS}/{saved['id']}", headers=designer).status_code == 404
    assert client.get(RUNS, headers=users["front_desk"].headers).status_code == 403


def test_the_command_reruns_the_saved_runs(tmp_path: Path) -> None:
    from engine.persistence.db import make_engine
    from engine.services import Services, saved_test_runs

    url = f"sqlite:///{tmp_path / 'x.db'}"
    run_cli("init-db", db_url=url, check=True)
    run_cli("deploy", str(PROCESSES), db_url=url, check=True)
    engine = make_engine(url)
    try:
        svc = Services(engine, PROCESSES.parent / "forms")
        saved_test_runs.save_run(
            svc, "ci", "restaurant", {"name": "踏勘", "steps": WITH_INSPECTION}
        )
        saved_test_runs.save_run(
            svc, "ci", "restaurant", {"name": "无需踏勘", "steps": WITHOUT_INSPECTION}
        )
        passing = run_cli("test-runs", "restaurant", db_url=url)
        assert passing.returncode == 0, passing.stderr
        assert "✓ 踏勘" in passing.stdout and "通过 2 个, 失败 0 个" in passing.stdout

        # a saved run the bundle no longer gives (its expectation changed by hand)
        with svc.uow(write=True) as uow:
            [first, _] = uow.test_runs.for_bundle("restaurant")
            expected = {**first["expected"], "end_event": "denied"}
            uow.test_runs.update("restaurant", first["id"], {"expected": expected}, svc.clock())
            uow.commit()
        failing = run_cli("test-runs", "restaurant", "--version", "1", db_url=url)
        assert failing.returncode == 1
        assert "✗ 踏勘: 结束事件不同" in failing.stdout and "失败 1 个" in failing.stdout
        missing = run_cli("test-runs", "restaurant", "--version", "7", db_url=url)
        assert missing.returncode == 1 and "不存在" in missing.stderr
    finally:
        engine.dispose()
