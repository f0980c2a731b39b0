"""The 公用子流程库 `processes/intake_library` (一窗受理 with 补正 and 不予受理) called from a
bundle through the API, on SQLite and PostgreSQL: the library is published but never started nor
listed, a caller's call activity is resolved against it at upload and pinned by copy (a running
case and an old version keep the segment they took, a re-upload takes the new one), unresolvable
and ambiguous calls are refused naming what is wrong, every case's replay verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.bundles.source import BundleSource
from engine.services import accounts, publishing
from tests.conftest import PROCESSES
from tests.e2e.server import run_cli
from tests.e2e.test_pages_bundle_lifecycle import signed_in
from tests.interop.harness import Interop

LIBRARY = PROCESSES / "intake_library"
CALLER = Path(__file__).parents[1] / "fixtures" / "library_caller"
APPLICATION = {"applicant_name": "张三"}
CORRECT = {"intake_decision": "correct", "missing_materials": ["营业执照副本"]}
SUPPLIED = {"supplied_materials": ["营业执照副本"]}
ACCEPT = {"intake_decision": "accept"}
REFUSE = {"intake_decision": "refuse", "intake_opinion": "不属于本中心受理范围"}


def files_of(root: Path, **replace: tuple[str, str]) -> dict[str, bytes]:
    """A bundle directory's files (under its own folder, as a zip holds them); `replace` maps a
    file name to an (old, new) text replacement in it."""
    found = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        content = path.read_bytes()
        if path.name in replace:
            old, new = replace[path.name]
            assert old.encode() in content
            content = content.replace(old.encode(), new.encode())
        found[f"{root.name}/{path.relative_to(root).as_posix()}"] = content
    return found


LIBRARY_V2 = {  # the republished library: its 一窗受理 goes to another window
    "intake_library.bpmn": (
        'camunda:candidateGroups="front_desk" camunda:formKey="intake_library/intake.json"',
        'camunda:candidateGroups="window_b" camunda:formKey="intake_library/intake.json"',
    )
}


@pytest.fixture
def shared(interop: Interop) -> Interop:
    """The library published, then its caller uploaded; every group has a member."""
    for group in ("front_desk", "window_b", "approvals"):
        interop.clerk(group=group)
    library = interop.accepted("intake_library.zip", files_of(LIBRARY))
    assert (library["key"], library["version"], library["status"]) == (
        "intake_library",
        1,
        "published",
    )
    assert sorted(library["human_tasks"]) == ["correction", "intake"]
    caller = interop.accepted("library_caller.zip", files_of(CALLER))
    assert (caller["key"], caller["version"]) == ("library_caller", 1)
    # the library's tasks and forms are the caller's as if uploaded with it
    assert sorted(caller["human_tasks"]) == ["correction", "decide", "intake"]
    assert "intake_library/intake.json" in caller["forms"]
    # the copy is stored with the version, in a folder naming the library version it took
    with interop.services.uow() as uow:
        stored = uow.bundles.files("library_caller", 1) or {}
    copied = sorted(p for p in stored if p.startswith("_library/"))
    assert copied == [
        "_library/intake_library/1/intake_library/forms/intake_library/correction.json",
        "_library/intake_library/1/intake_library/forms/intake_library/intake.json",
        "_library/intake_library/1/intake_library/intake_library.bpmn",
    ]
    return interop


def auditor(desk: Interop) -> dict[str, str]:
    if "library_auditor" not in desk.clerks:
        _, token = accounts.create_user(desk.services, "library_auditor", "auditor", [])
        desk.clerks["library_auditor"] = {"Authorization": f"Bearer {token}"}
    return desk.clerks["library_auditor"]


def replay_verifies(desk: Interop, case_id: int) -> None:
    answer = desk.client.get(f"/api/v1/cases/{case_id}/replay", headers=auditor(desk))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["verified"] is True, answer.get_json()


def do(desk: Interop, view: dict[str, Any], element: str, data: dict[str, Any]) -> dict[str, Any]:
    found = [t for t in view["tasks"] if t["element"] == element]
    assert len(found) == 1, (element, [t["element"] for t in view["tasks"]])
    answer = desk.complete(found[0], data)
    assert answer.status_code == 200, (element, answer.get_json())
    return desk.case(view["id"])


def open_task(view: dict[str, Any]) -> tuple[str, list[str]]:
    assert len(view["tasks"]) == 1, view["tasks"]
    return view["tasks"][0]["element"], view["tasks"][0]["groups"]


def test_a_case_runs_through_the_library_segment_with_a_correction(shared: Interop) -> None:
    view = shared.start("library_caller", APPLICATION)
    assert open_task(view) == ("intake", ["front_desk"])
    view = do(shared, view, "intake", CORRECT)
    assert open_task(view)[0] == "correction"
    view = do(shared, view, "correction", SUPPLIED)
    assert open_task(view)[0] == "intake"  # 补正 leads back to 受理
    view = do(shared, view, "intake", ACCEPT)
    assert open_task(view) == ("decide", ["approvals"])
    view = do(shared, view, "decide", {"approved": True})
    assert view["status"] == "completed" and view["tasks"] == []
    assert view["outcome"]["element"] == "concluded"
    # the called process saw the caller's data and gave its own back
    data = view["data"]
    assert data["applicant_name"] == "张三"
    assert data["intake_decision"] == "accept" and data["supplied_materials"] == ["营业执照副本"]
    assert data["approved"] is True
    replay_verifies(shared, view["id"])


def test_a_refusal_in_the_segment_ends_the_case_refused(shared: Interop) -> None:
    view = shared.start("library_caller", APPLICATION)
    view = do(shared, view, "intake", REFUSE)
    assert view["status"] == "completed" and view["outcome"]["element"] == "refused"
    replay_verifies(shared, view["id"])


def test_a_republished_library_changes_no_caller_until_it_is_uploaded_again(
    shared: Interop,
) -> None:
    running = shared.start("library_caller", APPLICATION)
    running = do(shared, running, "intake", CORRECT)
    again = shared.accepted("intake_library.zip", files_of(LIBRARY, **LIBRARY_V2))
    assert (again["version"], again["status"]) == (2, "published")

    # the running case and the caller's version 1 keep the segment they took
    running = do(shared, running, "correction", SUPPLIED)
    assert open_task(running) == ("intake", ["front_desk"])
    old = shared.start("library_caller", APPLICATION)
    assert old["version"] == 1 and open_task(old) == ("intake", ["front_desk"])
    uses = publishing.library_uses(shared.services, "library_caller", 1)
    assert uses == [
        {
            "process": "intake_segment",
            "library": "intake_library",
            "version": 1,
            "published_version": 2,
            "newer": True,
        }
    ]

    # uploaded again, the caller takes the library's version 2
    taken = shared.accepted("library_caller.zip", files_of(CALLER))
    assert taken["version"] == 2 and not taken["unchanged"]
    new = shared.start("library_caller", APPLICATION)
    assert new["version"] == 2 and open_task(new) == ("intake", ["window_b"])
    assert publishing.library_uses(shared.services, "library_caller", 2)[0]["version"] == 2
    assert not publishing.library_uses(shared.services, "library_caller", 2)[0]["newer"]

    for view in (running, old, new):
        view = do(shared, view, "intake", ACCEPT)
        view = do(shared, view, "decide", {"approved": False})
        assert view["status"] == "completed" and view["outcome"]["element"] == "concluded"
        replay_verifies(shared, view["id"])


def test_an_unresolvable_call_names_the_activity_and_the_libraries(interop: Interop) -> None:
    misspelt = {"library_caller.bpmn": ('calledElement="intake_segment"', 'calledElement="intake"')}
    [message] = interop.refused("c.zip", files_of(CALLER, **misspelt))
    assert "调用活动 'shared_intake'" in message and "'intake'" in message
    assert "目前没有已发布的公用子流程库" in message

    interop.accepted("intake_library.zip", files_of(LIBRARY))
    [message] = interop.refused("c.zip", files_of(CALLER, **misspelt))
    assert "已发布的公用子流程库中的流程: 'intake_segment' (库 intake_library 第 1 版)" in message


def test_a_draft_or_retired_library_is_not_called(interop: Interop) -> None:
    answer = interop.client.post(
        "/api/v1/bundles?publish=false",
        headers=interop.designer,
        data={"file": (_zip_io(files_of(LIBRARY)), "intake_library.zip")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201 and answer.get_json()["status"] == "draft"
    [message] = interop.refused("c.zip", files_of(CALLER))
    assert "目前没有已发布的公用子流程库" in message
    publishing.publish(interop.services, "cli", "intake_library", 1)
    interop.accepted("library_caller.zip", files_of(CALLER))
    publishing.retire(interop.services, "cli", "intake_library")
    [message] = interop.refused("c.zip", files_of(CALLER))
    assert "'intake_segment'" in message and "目前没有已发布的公用子流程库" in message


def _zip_io(files: dict[str, bytes]) -> Any:
    import io

    from tests.interop.harness import zipped

    return io.BytesIO(zipped(files))


def test_two_libraries_providing_one_process_are_refused_naming_both(interop: Interop) -> None:
    interop.accepted("intake_library.zip", files_of(LIBRARY))
    other = files_of(LIBRARY, **{"bundle.json": ('"key": "intake_library"', '"key": "intake_b"')})
    interop.accepted("intake_b.zip", other)
    [message] = interop.refused("c.zip", files_of(CALLER))
    assert "'intake_segment'" in message
    assert "库 'intake_b' (第 1 版) 和 库 'intake_library' (第 1 版)" in message


def test_no_case_starts_on_a_library(interop: Interop) -> None:
    interop.accepted("intake_library.zip", files_of(LIBRARY))
    answer = interop.client.post(
        "/api/v1/cases",
        headers=interop.starter,
        json={"bundle": "intake_library", "data": APPLICATION},
    )
    assert answer.status_code == 409
    assert "这是公用子流程库, 不能直接办件" in answer.get_json()["error"]


def test_the_library_is_off_the_guide_and_the_intake_list(
    app: Any, services: Any, users: dict[str, Any]
) -> None:
    publishing.deploy(services, BundleSource("lib", files_of(LIBRARY)), "cli")
    publishing.deploy(services, BundleSource("caller", files_of(CALLER)), "cli")
    public = app.test_client()
    assert "/guide/intake_library" not in public.get("/guide").get_data(as_text=True)
    assert 'href="/guide/library_caller"' in public.get("/guide").get_data(as_text=True)
    assert public.get("/guide/intake_library").status_code == 404
    front, _ = signed_in(app, services, "front_desk")
    desk = front.get("/work/start").get_data(as_text=True)
    assert "/work/start/library_caller" in desk and "/work/start/intake_library" not in desk
    assert front.get("/work/start/intake_library").status_code == 409
    listed = front.get("/api/v1/bundles", headers=users["front_desk"].headers).get_json()
    assert [b["key"] for b in listed["bundles"]] == ["library_caller"]

    designer, _ = signed_in(app, services, "designer")
    page = designer.get("/designer/bundles/library_caller/1").get_data(as_text=True)
    assert "调用公用子流程 intake_segment (库 intake_library 第 1 版)" in page
    assert "data-newer" not in page
    again = files_of(LIBRARY, **LIBRARY_V2)
    publishing.deploy(services, BundleSource("lib", again), "cli")
    page = designer.get("/designer/bundles/library_caller/1").get_data(as_text=True)
    assert "库已发布第 2 版: 重新上传或保存本事项包即可采用" in page
    library_page = designer.get("/designer/bundles/intake_library/1").get_data(as_text=True)
    assert "这是公用子流程库" in library_page


def test_the_version_is_checked_again_from_its_copy(shared: Interop) -> None:
    """The designer's checks of a stored version (and the archive's verifier) compile the copy
    it holds, whatever the libraries are today."""
    designer = accounts.create_user(shared.services, "checker", "designer", [])[0]
    shared.accepted("intake_library.zip", files_of(LIBRARY, **LIBRARY_V2))
    checks = publishing.version_checks(shared.services, designer, "library_caller", 1)
    assert checks["errors"] == []


def test_the_cli_deploys_libraries_before_their_callers(db_url: str) -> None:
    deployed = run_cli("deploy", str(CALLER), str(LIBRARY), db_url=db_url)
    assert deployed.returncode == 0, deployed.stderr
    lines = [line for line in deployed.stdout.splitlines() if "已部署" in line]
    assert "已部署 intake_library 第 1 版" in lines[0]
    assert "已部署 library_caller 第 1 版" in lines[1]
