"""Test runs of a draft: a simulated case run in memory (the recorded runs, the bundle's
regression tests, are in saved_test_runs.py).

A test run is a list of steps, replayed from the start on every request (the server never takes
a workflow from the browser):

    [{"start": {data}}, {"complete": "<element>", "data": {...}}, {"fire_timer": "<element>"}]

The draft's files are compiled exactly as a deploy would (nothing stored), and a fresh workflow
runs through `ProcessRuntime`/`CaseWorkflow` with the same form checks as real cases
(`submissions.check_submission`) on a simulated clock: each step one second after the one
before, and `fire_timer` moves the clock to the timer's due time (fast-forward). A step that
fails is reported at that step with the state before it; the steps after it are not run. No
case, task, event or job is written: only the saved runs are (`bundle_test_runs`).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.bpmn.case_workflow import CaseWorkflow
from engine.bpmn.errors import StepFailed
from engine.bpmn.functions import working_days
from engine.bpmn.ids import task_ids
from engine.bpmn.runtime import ProcessRuntime
from engine.bpmn.serializer import specs_from_json
from engine.bpmn.simulation import FlowIndex, completed_tasks, trace
from engine.bundles.compiler import compile_bundle
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import MAX_FILES, from_zip
from engine.calendar import WorkdayCalendar
from engine.domain.audit import canonical_data
from engine.domain.bundle_versions import BundleVersion
from engine.domain.users import User
from engine.errors import Invalid, NotFound

from .context import Services
from .publishing import library_catalogue, require_designer
from .submissions import check_case_data, check_submission

MAX_STEPS = 500
MAX_PATH = 300
STEP_SECONDS = 1  # the simulated time between two steps


def invalid(message: str, field_name: str = "steps", element: str | None = None) -> Invalid:
    return Invalid(message, [{"message": message, "field": field_name, "element": element}])


def actor_name(actor: User | str) -> str:
    if isinstance(actor, User):
        require_designer(actor)
        return actor.name
    return actor  # the command line, run by whoever runs the server


# The draft: compiled from posted files, or a stored version ---------------------------------


@dataclass
class Draft:
    version: BundleVersion
    runtime: ProcessRuntime
    flows: FlowIndex
    names: dict[str, str]


def _source_zip(files: Any) -> bytes:
    """The posted {path: text} as a zip, so that the upload's own checks (paths, sizes, counts,
    JSON) apply to it unchanged."""
    if not isinstance(files, dict) or not files:
        raise invalid("files 必须是非空的 JSON 对象 {路径: 文本}", "files")
    if len(files) > MAX_FILES:
        raise invalid(f"文件过多 (上限 {MAX_FILES} 个)", "files")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            if not isinstance(path, str) or not isinstance(text, str):
                raise invalid(f"文件 {path!s:.100} 的内容必须是文本", "files")
            if not path or len(path) > MAX_PATH:
                raise invalid(f"文件路径应为 1 到 {MAX_PATH} 个字符", "files")
            archive.writestr(path, text.encode("utf-8"))
    return buffer.getvalue()


def compile_draft(svc: Services, files: Any, actor: str) -> Draft:
    """The posted files compiled as a deploy would compile them; nothing stored."""
    try:
        source = from_zip("draft.zip", _source_zip(files))
        compiled = compile_bundle(source, svc.forms, library_catalogue(svc))
    except BundleInvalid as err:
        raise Invalid("草稿未通过检查, 无法试运行", [p.to_dict() for p in err.problems]) from None
    version = BundleVersion(
        id=0,
        key=compiled.key,
        version=0,
        name=compiled.name,
        description=compiled.description,
        process_id=compiled.process_id,
        metadata=compiled.metadata,
        specs_json=compiled.specs_json,
        human_tasks=compiled.human_tasks,
        start_form=compiled.start_form,
        start_event=compiled.start_event,
        forms=compiled.forms,
        checksum=compiled.checksum,
        deployed_by=actor,
        deployed_at=svc.clock(),
    )
    runtime = ProcessRuntime(specs_from_json(compiled.specs_json))
    # the files as compiled: id-less sequence flows named (engine/bundles/flow_ids.py)
    bpmn = [d for p, d in sorted(compiled.files.items()) if p.lower().endswith((".bpmn", ".xml"))]
    return Draft(version, runtime, FlowIndex.of(bpmn), runtime.element_names())


def stored_draft(svc: Services, key: str, number: int | None) -> Draft:
    """A stored version (the latest when `number` is None) as a draft to run."""
    with svc.uow() as uow:
        found = uow.bundles.get(key, number) if number is not None else uow.bundles.latest(key)
        if found is None:
            what = f"第 {number} 版" if number is not None else ""
            raise NotFound(f"事项包 '{key}' {what}不存在")
        version, runtime = svc.runtimes.get(uow, found.id)
        files = uow.bundles.files(key, version.version) or {}
    bpmn = [
        text.encode("utf-8")
        for path, text in sorted(files.items())
        if path.lower().endswith((".bpmn", ".xml"))
    ]
    return Draft(version, runtime, FlowIndex.of(bpmn), runtime.element_names())


def _draft_of(svc: Services, body: dict[str, Any], actor: str) -> Draft:
    if body.get("files") is not None:
        return compile_draft(svc, body["files"], actor)
    bundle = body.get("bundle")
    if isinstance(bundle, dict) and isinstance(bundle.get("key"), str):
        number = bundle.get("version")
        if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
            raise invalid("bundle.version 必须是整数", "bundle")
        return stored_draft(svc, bundle["key"], number)
    raise invalid("请给出草稿的文件 files, 或已保存的版本 bundle {key, version}", "files")


# The steps ----------------------------------------------------------------------------------


def check_steps(steps: Any) -> list[dict[str, Any]]:
    """The steps as posted, each checked for its form (not yet against the draft)."""
    if steps is None:
        return []
    if not isinstance(steps, list):
        raise invalid("steps 必须是步骤的列表")
    if len(steps) > MAX_STEPS:
        raise invalid(f"步骤过多 (上限 {MAX_STEPS} 步)")
    checked: list[dict[str, Any]] = []
    for n, step in enumerate(steps, 1):
        where = f"steps[{n - 1}]"
        kinds = [
            k for k in ("start", "complete", "fire_timer") if isinstance(step, dict) and k in step
        ]
        if len(kinds) != 1:
            raise invalid(f"第 {n} 步必须且只能是 start、complete 或 fire_timer 之一", where)
        kind = kinds[0]
        assert isinstance(step, dict)
        if kind == "start":
            if n != 1:
                raise invalid(f"第 {n} 步: 只有第 1 步可以是 start (提交申请)", where)
            if not isinstance(step["start"], dict):
                raise invalid(f"第 {n} 步: start 的申请数据必须是 JSON 对象", where)
            checked.append({"start": step["start"]})
            continue
        if n == 1:
            raise invalid("第 1 步必须是 start (提交申请)", where)
        element = step[kind]
        if not isinstance(element, str) or not element or len(element) > 200:
            raise invalid(f"第 {n} 步: {kind} 必须是流程图元素的 id", where)
        if kind == "complete":
            data = step.get("data", {})
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise invalid(f"第 {n} 步: data 必须是 JSON 对象", where)
            checked.append({"complete": element, "data": data})
        else:
            checked.append({"fire_timer": element})
    return checked


@dataclass
class _Simulation:
    """One simulated case: its workflow, data and clock, and the path so far."""

    draft: Draft
    now: datetime
    calendar: WorkdayCalendar
    workflow: CaseWorkflow | None = None
    data: dict[str, Any] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def _record_completed(self) -> None:
        assert self.workflow is not None
        for task_id, element in completed_tasks(self.workflow):
            if task_id not in self.seen:
                self.seen.add(task_id)
                self.completed.append(element)

    def apply(self, svc: Services, n: int, step: dict[str, Any]) -> None:
        version = self.draft.version
        at = self.now + timedelta(seconds=STEP_SECONDS)
        with working_days(self.calendar, svc.tz), task_ids(f"test-run:{n}"):
            if "start" in step:
                given = step["start"]
                check_submission(
                    version, version.start_form, given, version.start_event, svc.limits
                )
                check_case_data(version, given, version.start_event, svc.limits)
                data = canonical_data(given)
                workflow = self.draft.runtime.start(data, at=at)
                self.workflow = workflow
            else:
                workflow = self._workflow(n)
                if "complete" in step:
                    data = self._complete(svc, workflow, step["complete"], step["data"], at)
                else:
                    data, at = self._fire(workflow, step["fire_timer"], at)
        self.data = canonical_data({**data, **workflow.decisions()})
        self.now = at
        self._record_completed()

    def _workflow(self, n: int) -> CaseWorkflow:
        if self.workflow is None:  # check_steps makes the first step a start
            raise invalid(f"第 {n} 步之前没有提交申请")
        return self.workflow

    def _complete(
        self,
        svc: Services,
        workflow: CaseWorkflow,
        element: str,
        given: dict[str, Any],
        at: datetime,
    ) -> dict[str, Any]:
        version = self.draft.version
        task = next((t for t in workflow.ready_tasks() if t.element == element), None)
        if task is None:
            name = self.draft.names.get(element, element)
            raise invalid(f"任务「{name}」当前不在可办理状态", "complete", element)
        info = version.human_tasks.get(element)
        form = info.form if info else None
        check_submission(version, form, given, element, svc.limits)
        merged = canonical_data({**self.data, **given})
        check_case_data(version, merged, element, svc.limits)
        workflow.complete(task.id, merged, at=at)
        return merged

    def _fire(
        self, workflow: CaseWorkflow, element: str, at: datetime
    ) -> tuple[dict[str, Any], datetime]:
        timers = [t for t in workflow.pending_timers() if t.element == element]
        if not timers:
            name = self.draft.names.get(element, element)
            raise invalid(f"定时器「{name}」当前没有在等待", "fire_timer", element)
        due = min(t.due for t in timers)
        # fast-forward: the simulated clock jumps to just after the timer's due time
        # (SpiffWorkflow fires a timer strictly after it, engine/services/timers.py)
        at = max(at, due + timedelta(microseconds=1))
        workflow.fire_timers(at)
        return self.data, at

    def view(self) -> dict[str, Any]:
        """The state the diagram and the panel show."""
        version, names = self.draft.version, self.draft.names
        start_schema = version.forms.get(version.start_form) if version.start_form else None
        answer: dict[str, Any] = {
            "key": version.key,
            "name": version.name,
            "start_form": {
                "element": version.start_event,
                "form": version.start_form,
                "schema": start_schema,
                "fields": _fields(start_schema),
            },
            "now": self.now.isoformat(),
            "data": self.data,
            "completed": list(self.completed),
        }
        workflow = self.workflow
        if workflow is None:
            return answer | {
                "started": False,
                "ready": [],
                "timers": [],
                "flows": [],
                "skipped_flows": [],
                "waiting": [],
                "active": [],
                "ended": False,
                "end_event": None,
                "end_name": None,
            }
        ready = []
        for task in workflow.ready_tasks():
            info = version.human_tasks.get(task.element)
            form = info.form if info else None
            ready.append(
                {
                    "element": task.element,
                    "name": info.name if info else task.name,
                    "form": form,
                    "groups": list(info.groups) if info else [],
                    "schema": version.forms.get(form) if form else None,
                    "fields": _fields(version.forms.get(form) if form else None),
                }
            )
        path = trace(workflow, self.draft.flows)
        end = workflow.end_reached()
        try:
            ended = workflow.is_finished()
        except StepFailed:
            ended = False
        return answer | {
            "started": True,
            "ready": ready,
            "timers": [
                {
                    "element": t.element,
                    "name": names.get(t.element, t.element),
                    "due": t.due.isoformat(),
                }
                for t in workflow.pending_timers()
            ],
            "flows": list(path.flows),
            "skipped_flows": list(path.skipped_flows),
            "waiting": [
                {
                    "element": j.element,
                    "name": names.get(j.element, j.element),
                    "arrived": list(j.arrived),
                    "inputs": j.inputs,
                }
                for j in path.waiting
            ],
            "active": list(path.active),
            "ended": ended,
            "end_event": end[0] if ended and end else None,
            "end_name": end[1] if ended and end else None,
        }


def _fields(schema: dict[str, Any] | None) -> list[str]:
    """A form's fields in the order the form declares them (a JSON answer may sort the keys
    of the schema itself)."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return [str(name) for name in properties] if isinstance(properties, dict) else []


def _failure(err: Exception) -> dict[str, Any]:
    if isinstance(err, Invalid):
        errors = list(err.details.get("errors", []))
        element = next((e.get("element") for e in errors if e.get("element")), None)
        if errors and err.message == "表单填写有误":  # name the first field that is wrong
            first = errors[0]
            message = f"{err.message}: {first.get('field')}: {first.get('message')}"
        else:
            message = err.message
        return {"message": message, "element": element, "errors": errors}
    assert isinstance(err, StepFailed)
    return {
        "message": err.message,
        "element": err.element,
        "errors": [{"message": err.message, "element": err.element}],
    }


def replay(svc: Services, draft: Draft, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Run the steps on a fresh simulated case of the draft; the answer after the last step
    (or the state before the first failing one, with its error)."""
    with svc.uow() as uow:
        calendar = svc.calendars.get(uow)
    start = svc.clock()

    def fresh() -> _Simulation:
        return _Simulation(draft, start, calendar)

    sim = fresh()
    results: list[dict[str, Any]] = []
    error: dict[str, Any] | None = None
    failed_at: int | None = None
    for n, step in enumerate(steps, 1):
        if failed_at is not None:
            results.append({"ok": None, "error": None})  # not run
            continue
        try:
            sim.apply(svc, n, step)
        except (Invalid, StepFailed) as err:
            error = _failure(err) | {"step": n}
            failed_at = n
            results.append({"ok": False, "error": error})
            continue
        results.append({"ok": True, "error": None})
    if failed_at is not None:
        # a failed engine step may have half-moved the workflow: the state before it is the
        # replay of the steps before it, which all passed
        sim = fresh()
        for n, step in enumerate(steps[: failed_at - 1], 1):
            sim.apply(svc, n, step)
    return {"ok": error is None, "steps": results, "error": error, **sim.view()}


def run(svc: Services, actor: User | str, body: Any) -> dict[str, Any]:
    """POST /bundles/test-run: {"files": {...}} or {"bundle": {"key", "version"}}, "steps"."""
    name = actor_name(actor)
    if not isinstance(body, dict):
        raise invalid("请求体必须是 JSON 对象", "(请求体)")
    steps = check_steps(body.get("steps"))
    return replay(svc, _draft_of(svc, body, name), steps)
