"""A bundle's saved test runs: its regression tests. A designer saves a test run (its steps and
what they gave: the path, where it ended, what it waited on, the step that failed) and re-runs
every saved run on each new draft (`rerun`, also `lianban test-runs`); a run that now differs is
reported with its first difference in words. Stored in `bundle_test_runs`; the replay itself is
test_runs.py's."""

from __future__ import annotations

from typing import Any

from engine.domain.users import User
from engine.errors import NotFound

from .context import Services
from .test_runs import Draft, actor_name, check_steps, compile_draft, invalid, replay, stored_draft

MAX_RUNS = 200  # saved runs per bundle
MAX_NAME = 200


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
        raise invalid("请给回归测试起一个名称", "name")
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        raise invalid(f"名称不能超过 {MAX_NAME} 个字", "name")
    return name


def _draft_for(svc: Services, key: str, body: dict[str, Any], actor: str) -> Draft:
    """The draft a saved run is recorded or re-run on: the posted files, the given version, or
    else the bundle's latest version."""
    if body.get("files") is not None:
        draft = compile_draft(svc, body["files"], actor)
        if draft.version.key != key:
            raise invalid(f"草稿的事项编码是 '{draft.version.key}', 不是 '{key}'", "files")
        return draft
    number = body.get("version")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
        raise invalid("version 必须是整数", "version")
    return stored_draft(svc, key, number)


def list_runs(svc: Services, actor: User | str, key: str) -> dict[str, Any]:
    actor_name(actor)
    with svc.uow() as uow:
        rows = uow.test_runs.for_bundle(key)
    return {"key": key, "runs": [_view(r) for r in rows]}


def save_run(svc: Services, actor: User | str, key: str, body: Any) -> dict[str, Any]:
    """Record a run: its steps replayed on the draft now, and what they gave kept as expected."""
    name = actor_name(actor)
    if not isinstance(body, dict):
        raise invalid("请求体必须是 JSON 对象", "(请求体)")
    title = _name(body.get("name"))
    steps = check_steps(body.get("steps"))
    if not steps:
        raise invalid("回归测试至少要有一步 (提交申请)")
    answer = replay(svc, _draft_for(svc, key, body, name), steps)
    with svc.uow(write=True) as uow:
        if uow.test_runs.count(key) >= MAX_RUNS:
            raise invalid(f"每个事项包最多保存 {MAX_RUNS} 个回归测试", "name")
        run_id = uow.test_runs.add(key, title, steps, _expected(answer), name, svc.clock())
        row = uow.test_runs.get(key, run_id)
        uow.commit()
    assert row is not None
    return _view(row) | {"result": answer}


def update_run(
    svc: Services, actor: User | str, key: str, run_id: int, body: Any
) -> dict[str, Any]:
    """Rename a saved run, or give it new steps (recorded again on the draft given)."""
    name = actor_name(actor)
    if not isinstance(body, dict):
        raise invalid("请求体必须是 JSON 对象", "(请求体)")
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
            raise invalid("回归测试至少要有一步 (提交申请)")
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
    actor_name(actor)
    with svc.uow(write=True) as uow:
        if not uow.test_runs.delete(key, run_id):
            raise NotFound(f"回归测试 {run_id} 不存在")
        uow.commit()
    return {"key": key, "id": run_id, "deleted": True}


def rerun(svc: Services, actor: User | str, key: str, body: Any) -> dict[str, Any]:
    """Every saved run of the bundle replayed on the draft (the posted files, a version, or
    the latest version): passed, or the first difference."""
    name = actor_name(actor)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise invalid("请求体必须是 JSON 对象", "(请求体)")
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
