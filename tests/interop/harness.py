"""Upload a diagram drawn by another modeler through the API and run it to the end, as the
clerks it names would: the users a task may go to are made on demand (a member of each group,
each named user), due timers are fired by the worker on a clock the test moves.

    def test_x(interop):
        interop.accepted("vacation.bpmn", VACATION)
        case = interop.start("vacation", {"days": 3})
        done = interop.run_to_end(case, {"approve": {"approved": True}})
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping
from typing import Any

from engine.services import Services, accounts, worker
from tests.fixtures.clock import FakeClock

Answer = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]


def zipped(files: Mapping[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


class Interop:
    """One database, its API client, a designer and the clerks made so far."""

    def __init__(self, client: Any, services: Services, clock: FakeClock) -> None:
        self.client = client
        self.services = services
        self.clock = clock
        self.designer = self._make("interop_designer", "designer", [])
        self.admin = self._make("interop_admin", "admin", [])
        self.clerks: dict[str, dict[str, str]] = {}
        self.starter = self.clerk(user="interop_window")  # any clerk may start a case

    def _make(self, name: str, role: str, groups: list[str]) -> dict[str, str]:
        _, token = accounts.create_user(self.services, name, role, groups)
        return {"Authorization": f"Bearer {token}"}

    # uploads

    def upload(self, name: str, content: bytes | str | Mapping[str, bytes | str]) -> Any:
        """POST /api/v1/bundles: one file, or several as a zip (`name` ending in .zip)."""
        if isinstance(content, Mapping):
            data = zipped(content)
        else:
            data = content.encode() if isinstance(content, str) else content
        return self.client.post(
            "/api/v1/bundles",
            headers=self.designer,
            data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )

    def accepted(self, name: str, content: bytes | str | Mapping[str, bytes | str]) -> Any:
        answer = self.upload(name, content)
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()

    def refused(self, name: str, content: bytes | str | Mapping[str, bytes | str]) -> list[str]:
        """The upload is refused with a 422; its problems' messages (element, line: message)."""
        answer = self.upload(name, content)
        assert answer.status_code == 422, answer.get_json()
        body = answer.get_json()
        return [p["message"] for p in body["errors"]]

    # cases

    def clerk(self, group: str | None = None, user: str | None = None) -> dict[str, str]:
        """The headers of a clerk in `group` (made on first use), or of the user named `user`."""
        name = user or f"member_of_{group}"
        if name not in self.clerks:
            self.clerks[name] = self._make(name, "clerk", [group] if group else [])
        return self.clerks[name]

    def start(self, bundle: str, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
        answer = self.client.post(
            "/api/v1/cases", headers=self.starter, json={"bundle": bundle, "data": dict(data or {})}
        )
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()

    def case(self, case_id: int) -> dict[str, Any]:
        answer = self.client.get(f"/api/v1/cases/{case_id}", headers=self.admin)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    def worker_of(self, task: dict[str, Any]) -> dict[str, str]:
        """Who works a task: its assignee, else a member of its first group, else a candidate
        user."""
        if task.get("assignee"):
            return self.clerk(user=task["assignee"])
        if task.get("groups"):
            return self.clerk(group=task["groups"][0])
        users = task.get("candidate_users") or []
        assert users, f"task {task['element']} has nobody who may work it: {task}"
        return self.clerk(user=users[0])

    def complete(
        self, task: dict[str, Any], data: Mapping[str, Any], headers: dict[str, str] | None = None
    ) -> Any:
        """Claim (unless assigned) and complete a task; the completion's answer."""
        who = headers or self.worker_of(task)
        if not task.get("assignee"):
            claimed = self.client.post(f"/api/v1/tasks/{task['id']}/claim", headers=who)
            assert claimed.status_code == 200, claimed.get_json()
        return self.client.post(
            f"/api/v1/tasks/{task['id']}/complete", headers=who, json={"data": dict(data)}
        )

    def fire_timers(self, **advance: float) -> int:
        """Move the clock on and let the worker run whatever fell due; how many jobs ran."""
        self.clock.advance(**advance)
        return worker.run_due(self.services)

    def run_to_end(
        self,
        case: dict[str, Any],
        answers: Mapping[str, Answer] | None = None,
        max_steps: int = 50,
    ) -> list[str]:
        """Complete the open tasks in order (each with its answer: data, or a function of the
        task giving data; none: {}) until the case ends; the elements completed. Fails when the
        case stops with nothing open or a completion is refused."""
        answers = answers or {}
        done: list[str] = []
        view = case
        for _ in range(max_steps):
            if view["status"] != "running":
                break
            if not view["tasks"]:
                raise AssertionError(f"case {view['id']} is running with no open task: {view}")
            task = view["tasks"][0]
            answer = answers.get(task["element"], {})
            data = answer(task) if callable(answer) else answer
            result = self.complete(task, data)
            assert result.status_code == 200, (task["element"], result.get_json())
            done.append(task["element"])
            view = self.case(view["id"])
        assert view["status"] == "completed", view
        return done
