"""docs/openapi.yaml against the app: a valid OpenAPI 3.1 document, the very routes the app serves,
and real responses that match the schemas it declares for them."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from engine.bundles.source import from_upload
from engine.domain.model import CaseStatus, EventType, TaskStatus
from engine.persistence.db import make_engine
from engine.services import Services, publishing
from engine.services.worker import run_due
from tests.conftest import ROOT
from tests.fixtures import bpmn
from tests.fixtures.clock import FakeClock
from tests.fixtures.restaurant import ACCEPT, APPLICATION, REFUSE
from tests.processes.test_constructs import BOUNDARY_TIMER

SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
SPEC_URI = "urn:lianban:openapi"
REGISTRY = Registry().with_resource(
    SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)
PREFIX = "/api/v1"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Flask's `<int:case_id>` → OpenAPI `{case_id}`, remembering the converter.
VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": SPEC_URI + ref},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def problems(instance: Any, ref: str) -> list[str]:
    """Every way `instance` fails the spec's schema at `ref` (a `#/...` pointer)."""
    errors = _validator(ref).iter_errors(instance)
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors)


def component(name: str) -> str:
    return "#" + _pointer("components", "schemas", name)


def assert_matches(response: Any, path: str, method: str) -> Any:
    """The response's status is declared for the operation and its body matches that schema."""
    responses = SPEC["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path} answered {status}, not in the spec"
    where = responses[status].get("$ref") or "#" + _pointer(
        "paths", path, method, "responses", status
    )
    body = response.get_json()
    found = problems(body, where + _pointer("content", "application/json", "schema"))
    assert not found, f"{method.upper()} {path} {status}: {found}\n{body}"
    return body


def app_routes() -> dict[tuple[str, str], dict[str, str | None]]:
    """(path, method) of every route under /api/v1, with its path variables' converters."""
    from web import create_app

    app = create_app({"SERVICES": Services(make_engine("sqlite://")), "TESTING": True})
    routes = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = VARIABLE.sub(r"{\2}", rule.rule[len(PREFIX) :])
        converters = {name: kind for kind, name in VARIABLE.findall(rule.rule)}
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            routes[(path, method.lower())] = converters
    return routes


def spec_operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): operation
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_the_spec_is_valid_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1.")
    validate(SPEC)  # raises OpenAPIValidationError on any problem
    assert SPEC["servers"] == [{"url": PREFIX}]
    scheme = SPEC["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert SPEC["security"] == [{"bearer": []}]


def test_the_spec_has_exactly_the_routes_of_the_app() -> None:
    routes, operations = app_routes(), spec_operations()
    assert sorted(set(routes) - set(operations)) == [], "served but not in docs/openapi.yaml"
    assert sorted(set(operations) - set(routes)) == [], "in docs/openapi.yaml but not served"


def test_path_parameters_match_the_routes() -> None:
    routes = app_routes()
    for (path, method), operation in spec_operations().items():
        params = {p["name"]: p for p in _parameters(operation) if p["in"] == "path"}
        assert set(params) == set(re.findall(r"{(\w+)}", path)), f"{method} {path}"
        for name, converter in routes[(path, method)].items():
            wanted = "integer" if converter == "int" else "string"
            assert params[name]["schema"]["type"] == wanted, f"{method} {path}: {name}"


def _parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    resolved = []
    for param in operation.get("parameters", []):
        if "$ref" in param:
            name = param["$ref"].rsplit("/", 1)[-1]
            param = SPEC["components"]["parameters"][name]
        resolved.append(param)
    return resolved


def test_every_operation_declares_the_authentication_error() -> None:
    for (path, method), operation in spec_operations().items():
        if operation.get("security") == []:  # public: no sign-in, so no 401
            assert path.startswith("/public/"), f"{method.upper()} {path} is public"
            continue
        assert "401" in operation["responses"], f"{method.upper()} {path}"
        assert operation.get("security", SPEC["security"]) == [{"bearer": []}]


def test_the_enums_match_the_domain() -> None:
    schemas = SPEC["components"]["schemas"]
    for schema, field, enum in [
        ("Event", "type", EventType),
        ("Case", "status", CaseStatus),
        ("Task", "status", TaskStatus),
    ]:
        assert set(schemas[schema]["properties"][field]["enum"]) == {str(e) for e in enum}, schema


def test_the_schemas_are_not_vacuous() -> None:
    assert problems({"id": 1}, component("Case"))
    assert problems({"error": "x", "errors": [{"element": "a"}]}, component("UploadInvalid"))
    assert problems({"type": "case_started", "data": {}}, component("Event"))


def upload(client: Any, headers: dict[str, str], name: str, data: bytes) -> Any:
    return client.post(
        "/api/v1/bundles",
        headers=headers,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_a_started_case_and_its_reads_match(
    client: Any, users: dict[str, Any], restaurant: Any
) -> None:
    desk = users["front_desk"].headers
    started = client.post(
        "/api/v1/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
    )
    assert started.status_code == 201
    case = assert_matches(started, "/cases", "post")
    assert problems(case, component("Case")) == []
    fetched = client.get(f"/api/v1/cases/{case['id']}", headers=users["auditor"].headers)
    started = {k: v for k, v in case.items() if k != "access_code"}  # on the receipt only
    read = assert_matches(fetched, "/cases/{case_id}", "get")
    assert read.pop("pauses") == []  # the clock's pauses (Art. 45): GET /cases/ID only
    assert read == started


def test_the_worklist_and_task_calls_match(
    client: Any, users: dict[str, Any], restaurant: Any
) -> None:
    desk = users["front_desk"].headers
    for _ in range(2):
        client.post(
            "/api/v1/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
        )
    page = assert_matches(client.get("/api/v1/tasks?limit=1", headers=desk), "/tasks", "get")
    assert page["next"] and len(page["tasks"]) == 1
    listed = page["tasks"][0]
    assert problems(listed, component("WorklistTask")) == []
    task = {k: v for k, v in listed.items() if k not in ("case", "flag")}
    assert problems(task, component("Task")) == []
    last = client.get(f"/api/v1/tasks?limit=1&after={page['next']}", headers=desk)
    assert assert_matches(last, "/tasks", "get")["next"] is None
    one = client.get(f"/api/v1/tasks/{task['id']}", headers=users["auditor"].headers)
    assert assert_matches(one, "/tasks/{task_id}", "get") == task
    claimed = client.post(f"/api/v1/tasks/{task['id']}/claim", headers=desk)
    assert assert_matches(claimed, "/tasks/{task_id}/claim", "post")["assignee"] == "front_desk"
    unclaimed = client.post(f"/api/v1/tasks/{task['id']}/unclaim", headers=desk)
    assert assert_matches(unclaimed, "/tasks/{task_id}/unclaim", "post")["assignee"] is None
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=desk, json={"data": ACCEPT})
    case = assert_matches(done, "/tasks/{task_id}/complete", "post")
    assert {t["element"] for t in case["tasks"]} == {"review_licence", "review_food"}


TIME_LIMIT_EVENTS = {
    "clock_started",
    "clock_paused",
    "clock_resumed",
    "case_warning",
    "case_overdue",
    "task_overdue",
    "supervision_opened",
}
# covered by tests/integration/test_certificates.py and test_ratings.py
FOLLOW_UP_EVENTS = {
    "certificates_issued",
    "clock_stopped",
    "certificates_revoked",
    "certificate_reminder",
    "rated",
    "rectification_opened",
    "follow_up_opened",
}
# 注销 of another case's certificate: covered (and matched to the spec) by
# tests/integration/test_certificate_cancel.py
CANCEL_EVENTS = {"certificate_cancelled"}
# covered by tests/integration/test_incidents.py and test_incidents_runtime.py
INCIDENT_EVENTS = {
    "incident_raised",
    "incident_resumed",
    "case_migrated",
    "case_data_corrected",
}
# 催办: covered by tests/integration/test_messages.py and tests/e2e/test_pages_messages.py
MESSAGE_EVENTS = {"task_urged"}
# 挂起 / 恢复: covered by tests/e2e/test_suspension.py
SUSPENSION_EVENTS = {"case_suspended", "case_unsuspended"}
# 抄送 and 评论: covered (and matched to the spec) by tests/e2e/test_copies.py and test_comments.py
COPY_EVENTS = {"case_copied", "copy_read", "case_commented"}
# 转办 and 委派: covered (and matched to the spec) by tests/e2e/test_task_handover.py
HANDOVER_EVENTS = {"task_transferred", "task_delegated", "delegation_answered"}
# 退回 and 撤回: covered (and matched to the spec) by tests/e2e/test_send_back_http.py
SEND_BACK_EVENTS = {"task_sent_back", "task_recalled"}
# 加签 / 减签: covered (and matched to the spec) by tests/e2e/test_countersign.py (before,
# after) and the lead's tests of the parallel variant
SIGNER_EVENTS = {"signer_added", "signer_removed", "added_signature"}
# the Administrative Licensing Law's limits (issue 19): covered, and matched to the spec, by
# tests/integration/test_law_*.py
LAW_EVENTS = {
    "intake_warning",
    "intake_deemed_accepted",
    "extension_requested",
    "extension_granted",
    "extension_refused",
    "task_warning",
    "preliminary_started",
    "case_forwarded",
    "hearing_rights_notified",
    "hearing_requested",
    "hearing_waived",
}


def test_events_of_every_type_match(client: Any, users: dict[str, Any], restaurant: Any) -> None:
    desk, auditor = users["front_desk"].headers, users["auditor"].headers
    refused, cancelled = (
        client.post(
            "/api/v1/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
        ).get_json()
        for _ in range(2)
    )
    task = refused["tasks"][0]["id"]
    client.post(f"/api/v1/tasks/{task}/claim", headers=desk)
    client.post(f"/api/v1/tasks/{task}/unclaim", headers=desk)
    client.post(f"/api/v1/tasks/{task}/complete", headers=desk, json={"data": REFUSE})
    withdrawn = client.post(
        f"/api/v1/cases/{cancelled['id']}/cancel", headers=desk, json={"reason": "申请人撤回"}
    )
    assert assert_matches(withdrawn, "/cases/{case_id}/cancel", "post")["status"] == "cancelled"
    seen = []
    for case in (refused, cancelled):
        response = client.get(f"/api/v1/cases/{case['id']}/events", headers=auditor)
        events = assert_matches(response, "/cases/{case_id}/events", "get")["events"]
        for event in events:
            assert problems(event, component("Event")) == []
        seen += [e["type"] for e in events]
    # timer_fired: the next test; the time-limit events: tests/integration/test_deadlines.py
    assert (
        set(seen)
        == {str(e) for e in EventType}
        - {"timer_fired"}
        - TIME_LIMIT_EVENTS
        - FOLLOW_UP_EVENTS
        - CANCEL_EVENTS
        - INCIDENT_EVENTS
        - MESSAGE_EVENTS
        - SUSPENSION_EVENTS
        - COPY_EVENTS
        - HANDOVER_EVENTS
        - SEND_BACK_EVENTS
        - SIGNER_EVENTS
        - LAW_EVENTS
    )


def test_a_timer_event_matches(services: Services, users: dict[str, Any]) -> None:
    from web import create_app

    clock = FakeClock()
    svc = Services(services.engine, clock=clock)
    publishing.deploy(svc, from_upload("timer.bpmn", BOUNDARY_TIMER), "test")
    client = create_app({"SERVICES": svc, "TESTING": True}).test_client()
    case = client.post(
        "/api/v1/cases", headers=users["front_desk"].headers, json={"bundle": "p", "data": {}}
    ).get_json()
    clock.advance(days=10, seconds=1)
    assert run_due(svc) == 1
    response = client.get(f"/api/v1/cases/{case['id']}/events", headers=users["auditor"].headers)
    events = assert_matches(response, "/cases/{case_id}/events", "get")["events"]
    assert [e["type"] for e in events] == ["case_started", "timer_fired", "case_completed"]


def test_bundle_calls_match(client: Any, users: dict[str, Any], restaurant: Any) -> None:
    headers = users["designer"].headers
    created = upload(client, headers, "p.bpmn", bpmn.linear())
    assert created.status_code == 201
    assert_matches(created, "/bundles", "post")
    listed = assert_matches(client.get("/api/v1/bundles", headers=headers), "/bundles", "get")
    assert [b["key"] for b in listed["bundles"]] == ["p", "restaurant"]
    detail = client.get("/api/v1/bundles/restaurant", headers=headers)
    assert assert_matches(detail, "/bundles/{key}", "get")["version"] == 1
    old = client.get("/api/v1/bundles/restaurant/versions/1", headers=headers)
    assert_matches(old, "/bundles/{key}/versions/{version}", "get")


def test_a_refused_upload_matches(client: Any, users: dict[str, Any]) -> None:
    headers = users["designer"].headers
    bad = upload(client, headers, "bad.bpmn", bpmn.decision("__import__('os').system('id')"))
    assert bad.status_code == 422
    body = assert_matches(bad, "/bundles", "post")
    assert problems(body, component("UploadInvalid")) == []
    assert {"message", "element", "line", "file"} <= set(body["errors"][0])
    no_file = client.post("/api/v1/bundles", headers=headers)
    assert no_file.status_code == 422
    assert_matches(no_file, "/bundles", "post")


def test_form_and_input_errors_match(client: Any, users: dict[str, Any], restaurant: Any) -> None:
    desk = users["front_desk"].headers
    bad_start = client.post(
        "/api/v1/cases",
        headers=desk,
        json={"bundle": "restaurant", "data": {**APPLICATION, "premises_area_m2": -1}},
    )
    assert problems(assert_matches(bad_start, "/cases", "post"), component("FormInvalid")) == []
    case = client.post(
        "/api/v1/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
    ).get_json()
    invalid = client.post(
        f"/api/v1/tasks/{case['tasks'][0]['id']}/complete",
        headers=desk,
        json={"data": {"intake_decision": "correct"}},
    )
    assert invalid.status_code == 422
    body = assert_matches(invalid, "/tasks/{task_id}/complete", "post")
    assert problems(body, component("FormInvalid")) == []
    limit = client.get("/api/v1/tasks?limit=0", headers=desk)
    assert limit.status_code == 422
    assert_matches(limit, "/tasks", "get")


@pytest.mark.parametrize(
    ("method", "url", "who", "body", "status", "path"),
    [
        ("get", "/api/v1/bundles", None, None, 401, "/bundles"),
        ("get", "/api/v1/cases/1/events", "front_desk", None, 403, "/cases/{case_id}/events"),
        ("get", "/api/v1/tasks", "auditor", None, 403, "/tasks"),
        ("get", "/api/v1/cases/999999", "admin", None, 404, "/cases/{case_id}"),
        ("get", "/api/v1/bundles/nope", "admin", None, 404, "/bundles/{key}"),
        ("post", "/api/v1/tasks/nope/claim", "front_desk", None, 404, "/tasks/{task_id}/claim"),
        ("post", "/api/v1/cases", "front_desk", {"bundle": "nope"}, 404, "/cases"),
    ],
)
def test_error_bodies_match(
    client: Any,
    users: dict[str, Any],
    method: str,
    url: str,
    who: str | None,
    body: Any,
    status: int,
    path: str,
) -> None:
    headers = users[who].headers if who else {}
    response = getattr(client, method)(url, headers=headers, json=body)
    assert response.status_code == status
    assert_matches(response, path, method)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_conflict_matches(client: Any, users: dict[str, Any], restaurant: Any) -> None:
    desk = users["front_desk"].headers
    case = client.post(
        "/api/v1/cases", headers=desk, json={"bundle": "restaurant", "data": APPLICATION}
    ).get_json()
    task = case["tasks"][0]["id"]
    client.post(f"/api/v1/tasks/{task}/complete", headers=desk, json={"data": REFUSE})
    again = client.post(f"/api/v1/tasks/{task}/complete", headers=desk, json={"data": REFUSE})
    assert again.status_code == 409
    assert_matches(again, "/tasks/{task_id}/complete", "post")
    cancel = client.post(f"/api/v1/cases/{case['id']}/cancel", headers=desk)
    assert cancel.status_code == 409
    assert_matches(cancel, "/cases/{case_id}/cancel", "post")


def test_calendar_calls_match(client: Any, users: dict[str, Any]) -> None:
    admin, desk = users["admin"].headers, users["front_desk"].headers
    year = assert_matches(
        client.get("/api/v1/calendar/2026", headers=desk), "/calendar/{year}", "get"
    )
    added = client.get("/api/v1/calendar/add?start=2026-09-30&n=3", headers=desk)
    assert assert_matches(added, "/calendar/add", "get")["n"] == 3
    bad = client.get("/api/v1/calendar/add?start=soon&n=3", headers=desk)
    assert bad.status_code == 422
    assert_matches(bad, "/calendar/add", "get")
    day = "/calendar/days/{day}"
    for workday in (False, True):
        changed = client.put(
            "/api/v1/calendar/days/2026-10-12", headers=admin, json={"workday": workday}
        )
        assert assert_matches(changed, day, "put")["workday"] is workday
    assert_matches(
        client.put("/api/v1/calendar/days/2026-10-12", headers=desk, json={}), day, "put"
    )
    removed = client.delete("/api/v1/calendar/days/2026-10-12", headers=admin)
    assert assert_matches(removed, day, "delete") == {"removed": True}
    next_year = year["known_years"][1] + 1 if year["known_years"] else 2030
    published = client.post(f"/api/v1/calendar/years/{next_year}", headers=admin)
    assert assert_matches(published, "/calendar/years/{year}", "post")["published"] is True
    changes = client.get("/api/v1/calendar/changes", headers=users["auditor"].headers)
    assert len(assert_matches(changes, "/calendar/changes", "get")["changes"]) >= 4
