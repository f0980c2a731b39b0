"""Test runs of a draft: a simulated case run in memory, and the recorded runs re-run as the
bundle's regression tests.

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
from .publishing import require_designer
from .submissions import check_case_data, check_submission

MAX_STEPS = 500
MAX_RUNS = 200  # saved runs per bundle
MAX_NAME = 200
MAX_PATH = 300
STEP_SECONDS = 1  # the simulated time between two steps


def _invalid(message: str, field_name: str = "steps", element: str | None = None) -> Invalid:
    return Invalid(message, [{"message": message, "field": field_name, "element": element}])


def _actor_name(actor: User | str) -> str:
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
        raise _invalid("files 必须是非空的 JSON 对象 {路径: 文本}", "files")
    if len(files) > MAX_FILES:
        raise _invalid(f"文件过多 (上限 {MAX_FILES} 个)", "files")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            if not isinstance(path, str) or not isinstance(text, str):
                raise _invalid(f"文件 {path!s:.100} 的内容必须是文本", "files")
            if not path or len(path) > MAX_PATH:
                raise _invalid(f"文件路径应为 1 到 {MAX_PATH} 个字符", "files")
            archive.writestr(path, text.encode("utf-8"))
    return buffer.getvalue()


def compile_draft(svc: Services, files: Any, actor: str) -> Draft:
    """The posted files compiled as a deploy would compile them; nothing stored."""
    try:
        source = from_zip("draft.zip", _source_zip(files))
        compiled = compile_bundle(source, svc.forms)
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
    bpmn = source.by_suffix(".bpmn", ".bpmn20.xml", ".xml").values()
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
            raise _invalid("bundle.version 必须是整数", "bundle")
        return stored_draft(svc, bundle["key"], number)
    raise _invalid("请给出草稿的文件 files, 或已保存的版本 bundle {key, version}", "files")


# The steps ----------------------------------------------------------------------------------


def check_steps(steps: Any) -> list[dict[str, Any]]:
    """The steps as posted, each checked for its form (not yet against the draft)."""
    if steps is None:
        return []
    if not isinstance(steps, list):
        raise _invalid("steps 必须是步骤的列表")
    if len(steps) > MAX_STEPS:
        raise _invalid(f"步骤过多 (上限 {MAX_STEPS} 步)")
    checked: list[dict[str, Any]] = []
    for n, step in enumerate(steps, 1):
        where = f"steps[{n - 1}]"
        kinds = [
            k for k in ("start", "complete", "fire_timer") if isinstance(step, dict) and k in step
        ]
        if len(kinds) != 1:
            raise _invalid(f"第 {n} 步必须且只能是 start、complete 或 fire_timer 之一", where)
        kind = kinds[0]
        assert isinstance(step, dict)
        if kind == "start":
            if n != 1:
                raise _invalid(f"第 {n} 步: 只有第 1 步可以是 start (提交申请)", where)
            if not isinstance(step["start"], dict):
                raise _invalid(f"第 {n} 步: start 的申请数据必须是 JSON 对象", where)
            checked.append({"start": step["start"]})
            continue
        if n == 1:
            raise _invalid("第 1 步必须是 start (提交申请)", where)
        element = step[kind]
        if not isinstance(element, str) or not element or len(element) > 200:
            raise _invalid(f"第 {n} 步: {kind} 必须是流程图元素的 id", where)
        if kind == "complete":
            data = step.get("data", {})
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise _invalid(f"第 {n} 步: data 必须是 JSON 对象", where)
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
            raise _invalid(f"第 {n} 步之前没有提交申请")
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
            raise _invalid(f"任务「{name}」当前不在可办理状态", "complete", element)
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
            raise _invalid(f"定时器「{name}」当前没有在等待", "fire_timer", element)
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
    name = _actor_name(actor)
    if not isinstance(body, dict):
        raise _invalid("请求体必须是 JSON 对象", "(请求体)")
    steps = check_steps(body.get("steps"))
    return replay(svc, _draft_of(svc, body, name), steps)


# Saved runs: the bundle's regression tests ---------------------------------------------------


def _expected(answer: dict[str, Any]) -> dict[str, Any]:
    """What a saved run must give again: the path, where it ended, what it waits on, and the
    step that failed (a run may record a refusal on purpose)."""
    error = answer.get("error")
    return {
        "completed": answer["completed"],
        "ended": answer["ended"],
        "end_event": answer["end_event"],
        "ready": sorted(t["element"] for t in answer["ready"]),
        "failed_step": error["step"] if error else None,
    }


def difference(
    expected: dict[str, Any], answer: dict[str, Any], names: dict[str, str]
) -> dict[str, Any] | None:
    """The first way a replay differs from what was recorded, in words; None when it does not."""

    def name(element: str | None) -> str:
        return f"「{names.get(element, element)}」({element})" if element else "(无)"

    error = answer.get("error")
    failed = error["step"] if error else None
    if failed != expected.get("failed_step"):
        if failed is not None:
            assert error is not None
            return {
                "message": f"第 {failed} 步失败: {error['message']}",
                "step": failed,
                "element": error.get("element"),
            }
        step = expected.get("failed_step")
        return {
            "message": f"第 {step} 步原应被拒绝, 现在却通过了",
            "step": step,
            "element": None,
        }
    was, now = list(expected.get("completed") or []), list(answer["completed"])
    for i in range(max(len(was), len(now))):
        a = was[i] if i < len(was) else None
        b = now[i] if i < len(now) else None
        if a != b:
            if b is None:
                message = f"路径在 {name(a)} 处不同: 现在没有走到这里"
            elif a is None:
                message = f"路径在 {name(b)} 处不同: 原来没有走到这里"
            else:
                message = f"路径在第 {i + 1} 个节点处不同: 原为 {name(a)}, 现为 {name(b)}"
            return {"message": message, "step": None, "element": b or a}
    if answer["end_event"] != expected.get("end_event") or answer["ended"] != expected.get("ended"):
        return {
            "message": f"结束事件不同: 原为 {name(expected.get('end_event'))}, "
            f"现为 {name(answer['end_event'])}",
            "step": None,
            "element": answer["end_event"] or expected.get("end_event"),
        }
    ready = sorted(t["element"] for t in answer["ready"])
    if ready != list(expected.get("ready") or []):
        missing = [e for e in expected.get("ready") or [] if e not in ready]
        extra = [e for e in ready if e not in (expected.get("ready") or [])]
        element = (missing or extra or [None])[0]
        return {
            "message": f"等待办理的任务不同: 原为 {', '.join(map(name, expected.get('ready') or [])) or '(无)'}, "
            f"现为 {', '.join(map(name, ready)) or '(无)'}",
            "step": None,
            "element": element,
        }
    return None


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "key": row["bundle_key"],
        "name": row["name"],
        "steps": row["steps"],
        "expected": row["expected"],
        "created_by": row["created_by"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid("请给回归测试起一个名称", "name")
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        raise _invalid(f"名称不能超过 {MAX_NAME} 个字", "name")
    return name


def _draft_for(svc: Services, key: str, body: dict[str, Any], actor: str) -> Draft:
    """The draft a saved run is recorded or re-run on: the posted files, the given version, or
    else the bundle's latest version."""
    if body.get("files") is not None:
        draft = compile_draft(svc, body["files"], actor)
        if draft.version.key != key:
            raise _invalid(f"草稿的事项编码是 '{draft.version.key}', 不是 '{key}'", "files")
        return draft
    number = body.get("version")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
        raise _invalid("version 必须是整数", "version")
    return stored_draft(svc, key, number)


def list_runs(svc: Services, actor: User | str, key: str) -> dict[str, Any]:
    _actor_name(actor)
    with svc.uow() as uow:
        rows = uow.test_runs.for_bundle(key)
    return {"key": key, "runs": [_view(r) for r in rows]}


def save_run(svc: Services, actor: User | str, key: str, body: Any) -> dict[str, Any]:
    """Record a run: its steps replayed on the draft now, and what they gave kept as expected."""
    name = _actor_name(actor)
    if not isinstance(body, dict):
        raise _invalid("请求体必须是 JSON 对象", "(请求体)")
    title = _name(body.get("name"))
    steps = check_steps(body.get("steps"))
    if not steps:
        raise _invalid("回归测试至少要有一步 (提交申请)")
    answer = replay(svc, _draft_for(svc, key, body, name), steps)
    with svc.uow(write=True) as uow:
        if uow.test_runs.count(key) >= MAX_RUNS:
            raise _invalid(f"每个事项包最多保存 {MAX_RUNS} 个回归测试", "name")
        run_id = uow.test_runs.add(key, title, steps, _expected(answer), name, svc.clock())
        row = uow.test_runs.get(key, run_id)
        uow.commit()
    assert row is not None
    return _view(row) | {"result": answer}


def update_run(
    svc: Services, actor: User | str, key: str, run_id: int, body: Any
) -> dict[str, Any]:
    """Rename a saved run, or give it new steps (recorded again on the draft given)."""
    name = _actor_name(actor)
    if not isinstance(body, dict):
        raise _invalid("请求体必须是 JSON 对象", "(请求体)")
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = _name(body.get("name"))
    answer = None
    if "steps" in body or "files" in body or "version" in body:
        with svc.uow() as uow:
            row = uow.test_runs.get(key, run_id)
        if row is None:
            raise NotFound(f"回归测试 {run_id} 不存在")
        steps = check_steps(body["steps"]) if "steps" in body else row["steps"]
        if not steps:
            raise _invalid("回归测试至少要有一步 (提交申请)")
        answer = replay(svc, _draft_for(svc, key, body, name), steps)
        values |= {"steps": steps, "expected": _expected(answer)}
    with svc.uow(write=True) as uow:
        if uow.test_runs.get(key, run_id) is None:
            raise NotFound(f"回归测试 {run_id} 不存在")
        if values:
            uow.test_runs.update(key, run_id, values, svc.clock())
        found = uow.test_runs.get(key, run_id)
        uow.commit()
    assert found is not None
    view = _view(found)
    return view | {"result": answer} if answer is not None else view


def delete_run(svc: Services, actor: User | str, key: str, run_id: int) -> dict[str, Any]:
    _actor_name(actor)
    with svc.uow(write=True) as uow:
        if not uow.test_runs.delete(key, run_id):
            raise NotFound(f"回归测试 {run_id} 不存在")
        uow.commit()
    return {"key": key, "id": run_id, "deleted": True}


def rerun(svc: Services, actor: User | str, key: str, body: Any) -> dict[str, Any]:
    """Every saved run of the bundle replayed on the draft (the posted files, a version, or
    the latest version): passed, or the first difference."""
    name = _actor_name(actor)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _invalid("请求体必须是 JSON 对象", "(请求体)")
    with svc.uow() as uow:
        rows = uow.test_runs.for_bundle(key)
    draft = _draft_for(svc, key, body, name)
    results = []
    for row in rows:
        answer = replay(svc, draft, check_steps(row["steps"]))
        found = difference(row["expected"], answer, draft.names)
        results.append(
            {
                "id": row["id"],
                "name": row["name"],
                "passed": found is None,
                "difference": found,
            }
        )
    return {
        "key": key,
        "version": draft.version.version or None,
        "passed": all(r["passed"] for r in results),
        "total": len(results),
        "failed": sum(1 for r in results if not r["passed"]),
        "runs": results,
    }
