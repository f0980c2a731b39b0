"""The worklist with many open tasks: `GET /api/v1/tasks` (first page) for a clerk whose group
has N open tasks, in PostgreSQL, through the running server.

The tasks are written directly with SQL in bulk (`INSERT ... SELECT FROM generate_series`, in
batches), each row a copy of a real one: a real case is started and accepted through the
services, and its case row and its open 营业执照审查 task (with its group row) are cloned N
times with new ids, case ids and creation times, every column as tables.py has it. The clones'
workflow state is left empty: a worklist read never loads it. All N tasks are offered to the
group `bench_worklist`, whose one clerk reads the list.
"""

from __future__ import annotations

import http.client
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.services import accounts, cases

from .common import ACCEPT, APPLICATION, Env, log, median, open_task, percentile

GROUP = "bench_worklist"
MARK = "bench-worklist"


def _template(env: Env) -> tuple[int, str]:
    """A real case, accepted: its id and its open review_licence task's id."""
    svc = env.svc
    case = cases.start_case(svc, env.clerk_for("intake").user, "restaurant", APPLICATION)
    case = cases.complete(svc, env.clerk_for("intake").user, open_task(case, "intake"), ACCEPT)
    return case["id"], open_task(case, "review_licence")


def _clone_sql(table: Any, overrides: dict[str, str], where: str) -> str:
    columns = [c.name for c in table.columns]
    chosen = ", ".join(overrides.get(c, f't."{c}"') for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    return (
        f'INSERT INTO "{table.name}" ({names}) SELECT {chosen} '
        f'FROM "{table.name}" AS t, generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g WHERE {where}'
    )


def open_tasks(env: Env) -> int:
    from sqlalchemy import text

    with env.svc.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM human_task_groups WHERE group_name = :g AND open = 1"),
                {"g": GROUP},
            ).scalar()
            or 0
        )


def fill(env: Env, total: int, batch: int = 100_000) -> dict[str, Any]:
    """Bring the group to `total` open tasks (one case each); returns how long it took."""
    from sqlalchemy import text

    from engine.persistence.tables import cases as case_rows
    from engine.persistence.tables import human_task_groups, human_tasks

    before = open_tasks(env)
    tasks = total - before
    if tasks <= 0:
        return {"insert_seconds": 0.0, "seconds": 0.0}
    case_id, task_id = _template(env)
    engine = env.svc.engine
    started = time.perf_counter()
    with engine.begin() as conn:
        base = int(conn.execute(text("SELECT max(id) FROM cases")).scalar() or 0) + 1000
    first = datetime.now(UTC) - timedelta(days=1, seconds=tasks)
    created = "CAST(:first AS timestamptz) + g * interval '1 second'"
    new_task = f"CAST(md5('{MARK}' || (CAST(:base AS bigint) + g)) AS uuid)::text"
    case_sql = _clone_sql(
        case_rows,
        {
            "id": "CAST(:base AS bigint) + g",
            "state": "''",
            "created_by": f"'{MARK}'",
            "created_at": created,
            "updated_at": created,
        },
        "t.id = :case_id",
    )
    task_sql = _clone_sql(
        human_tasks,
        {
            "id": new_task,
            "case_id": "CAST(:base AS bigint) + g",
            "groups": f"CAST('[\"{GROUP}\"]' AS jsonb)",
            "created_at": created,
        },
        "t.id = :task_id",
    )
    group_sql = _clone_sql(
        human_task_groups,
        {"task_id": new_task, "group_name": f"'{GROUP}'", "created_at": created},
        "t.task_id = :task_id",
    )
    params = {"base": base, "first": first, "case_id": case_id, "task_id": task_id}
    for lo in range(1, tasks + 1, batch):
        hi = min(tasks, lo + batch - 1)
        with engine.begin() as conn:
            for sql in (case_sql, task_sql, group_sql):
                result = conn.execute(text(sql), {**params, "lo": lo, "hi": hi})
                if result.rowcount != hi - lo + 1:
                    raise RuntimeError(
                        f"bulk insert wrote {result.rowcount} rows, not {hi - lo + 1}"
                    )
        if tasks > batch:
            log(f"worklist: {before + hi:,} of {total:,} open tasks written")
    with engine.begin() as conn:
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :top)"),
            {"top": base + tasks},
        )
    inserted = time.perf_counter() - started
    with engine.connect() as conn:  # as autovacuum would, sooner: statistics, visibility map
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("cases", "human_tasks", "human_task_groups"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    counted = open_tasks(env)
    if counted != total:
        raise RuntimeError(f"{counted} open tasks for {GROUP}, expected {total}")
    return {"insert_seconds": inserted, "seconds": time.perf_counter() - started}


def clerk(env: Env) -> tuple[Any, str]:
    """A clerk of the worklist group: the user and its token."""
    user, token = accounts.create_user(env.svc, f"bench_{GROUP}", "clerk", [GROUP])
    return user, str(token)


# gunicorn (web/server.py) kills a worker whose request runs past 60 s; wait a little longer
REQUEST_TIMEOUT = 90


def _get(host: str, port: int, path: str, token: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        text = body.decode("utf-8", "replace")
        if text.lstrip().startswith("<"):  # gunicorn's own error page
            text = "(an HTML error page)"
        raise RuntimeError(f"GET {path}: {response.status} {response.reason} {text[:200]}")
    return elapsed, json.loads(body)


def measure(
    host: str, port: int, token: str, requests: int, seconds: float, expect_full: bool = True
) -> dict[str, Any]:
    """Sequential `GET /api/v1/tasks` (first page, 50): up to `requests` or `seconds`.

    A request that fails or does not answer ends the measurement: the percentiles are then
    None (a lost request has no latency to rank) and `failed` says what happened."""
    times: list[float] = []
    page: dict[str, Any] = {}
    warmup = 3  # connections, caches, a freshly started worker
    deadline = time.monotonic() + seconds
    while len(times) < requests and (time.monotonic() < deadline or len(times) < 20):
        started = time.perf_counter()
        try:
            elapsed, page = _get(host, port, "/api/v1/tasks", token)
        except (OSError, RuntimeError, http.client.HTTPException) as err:
            return {
                "requests": len(times),
                "p50_ms": None,
                "p99_ms": None,
                "failed": f"request {len(times) + 4 - warmup} failed after "
                f"{time.perf_counter() - started:.1f} s: {type(err).__name__}: {err}",
            }
        if warmup:
            warmup -= 1
            continue
        times.append(elapsed)
    if expect_full and (len(page["tasks"]) != 50 or page["next"] is None):
        raise RuntimeError(f"the first page has {len(page['tasks'])} tasks, next={page['next']}")
    return {
        "requests": len(times),
        "p50_ms": median(times) * 1000,
        "p99_ms": percentile(times, 99) * 1000,
        "max_ms": max(times) * 1000,
        "failed": None,
    }


def cancel_runaway(env: Env) -> int:
    """Cancel worklist queries still running in this run's database (a worker killed by
    gunicorn leaves its query behind in PostgreSQL, burning CPU for everything measured next)."""
    from sqlalchemy import text

    with env.svc.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        cancelled = conn.execute(
            text(
                "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'active' AND query LIKE '%FROM human_tasks%'"
            )
        ).scalar()
    return int(cancelled or 0)


def query_plans(
    env: Env, user: Any, timeout_s: int = 20, analyze: bool = True
) -> list[tuple[float | None, str]]:
    """The plan of every SELECT one worklist call runs (as the services build them), slowest
    first: (milliseconds or None, plan). EXPLAIN ANALYZE where it finishes within `timeout_s`
    (and `analyze`), else the plan alone (EXPLAIN), marked so."""
    from sqlalchemy import event

    from engine.persistence.db import make_engine
    from engine.services import Services, queries

    from .common import FORMS

    # Services of their own whose statements give up after timeout_s: the call only shows
    # which statements the worklist runs.
    limited = make_engine(
        env.url, connect_args={"options": f"-c statement_timeout={timeout_s * 1000}"}
    )
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(limited, "before_cursor_execute", capture)
    try:
        try:
            queries.worklist(Services(limited, FORMS), user)
        except Exception:  # a statement that timed out: its plan is what we want
            pass
        plans: list[tuple[float | None, str]] = []
        raw = limited.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in seen:
                try:
                    if not analyze:
                        raise TimeoutError
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    lines = [r[0] for r in cursor.fetchall()]
                    took = next(
                        (float(x.split(":")[1].split()[0]) for x in lines if "Execution Time" in x),
                        0.0,
                    )
                    plans.append((took, "\n".join(lines)))
                except Exception:
                    raw.rollback()
                    cursor = raw.cursor()
                    cursor.execute("EXPLAIN " + statement, parameters)
                    lines = [r[0] for r in cursor.fetchall()]
                    note = f"(EXPLAIN only: EXPLAIN ANALYZE did not finish within {timeout_s} s)"
                    plans.append((None, "\n".join([note, *lines] if analyze else lines)))
            raw.rollback()
        finally:
            raw.close()
    finally:
        event.remove(limited, "before_cursor_execute", capture)
        limited.dispose()
    return sorted(plans, key=lambda p: float("inf") if p[0] is None else p[0], reverse=True)


def group_filter_plan(env: Env, user: Any) -> str:
    """How PostgreSQL plans the worklist's `id IN (the group's open task ids)` (EXPLAIN only):
    a hashed SubPlan probes a hash table once per task row; a plain SubPlan rescans the whole
    list of the group's task ids for every task row (quadratic), which the planner picks once
    that list no longer fits in work_mem."""
    for _, plan in query_plans(env, user, timeout_s=1, analyze=False):
        if "human_task_groups" in plan:
            if "hashed SubPlan" in plan:
                return "hashed SubPlan"
            if "SubPlan" in plan:
                return "plain SubPlan (rescanned per task row: quadratic)"
            return "join"
    return "unknown"
