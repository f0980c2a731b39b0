"""The restaurant case through the service layer (`Services.start_case`, `Services.complete`),
every step one committed transaction, on SQLite or PostgreSQL; and the cost of one bare durable
commit on the same database, for scale."""

from __future__ import annotations

import gc
import time
from typing import Any

from engine.services import cases

from .common import APPLICATION, END, ISSUE_ELEMENT, STEPS, Env, Numbers, median, open_task


def run_case(env: Env, numbers: Numbers) -> dict[str, Any]:
    svc = env.svc
    case = cases.start_case(svc, env.clerk_for("intake").user, "restaurant", APPLICATION)
    for element, form in STEPS:
        if element == ISSUE_ELEMENT:
            form = numbers.issuance(form)
        case = cases.complete(svc, env.clerk_for(element).user, open_task(case, element), form)
    if case["status"] != "completed" or case["outcome"]["element"] != END:
        raise RuntimeError(f"case {case['id']} ended as {case['status']} {case['outcome']}")
    return case


def cases_per_s(env: Env, count: int, numbers: Numbers) -> dict[str, Any]:
    run_case(env, numbers)  # warm-up: specs and calendar cached, connections pooled
    gc.collect()
    started = time.perf_counter()
    for _ in range(count):
        run_case(env, numbers)
    return _rate(count, time.perf_counter() - started)


def _rate(count: int, seconds: float) -> dict[str, Any]:
    """Restaurant cases run through the services in `seconds`, per second and per step."""
    steps = count * (1 + len(STEPS))
    return {
        "cases": count,
        "seconds": seconds,
        "cases_per_s": count / seconds,
        "ms_per_step": seconds / steps * 1000,
    }


def cases_per_s_beside_bare(
    env: Env, count: int, numbers: Numbers, rounds: int = 10
) -> dict[str, Any]:
    """`cases_per_s`, measured in `rounds` slices alternating with slices of the same case run
    in memory by `ProcessRuntime` (`bare_cases_per_s`): both see the machine at the same
    moments, so their ratio holds even where the machine's speed drifts during the run (on
    shared virtual machines it moved by half within minutes). Each memory slice runs five
    times as many cases (a case in memory costs about a fifth of a stored one)."""
    from . import inmemory

    rt = inmemory.runtime()
    inmemory.run_case(rt)  # warm-ups: specs parsed and cached, connections pooled
    run_case(env, numbers)
    rounds = max(1, min(rounds, count))
    stored = [count // rounds + (1 if i < count % rounds else 0) for i in range(rounds)]
    stored_s = bare_s = 0.0
    bare_cases = 0
    gc.collect()
    for n in stored:
        started = time.perf_counter()
        for _ in range(n):
            run_case(env, numbers)
        stored_s += time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(5 * n):
            inmemory.run_case(rt)
        bare_s += time.perf_counter() - started
        bare_cases += 5 * n
    return {
        **_rate(count, stored_s),
        "bare_cases": bare_cases,
        "bare_cases_per_s": bare_cases / bare_s,
    }


def settings(env: Env) -> dict[str, str]:
    """What makes a commit durable on this database, as the engine's own connections see it."""
    with env.svc.engine.connect() as conn:
        if env.svc.engine.dialect.name == "sqlite":
            return {
                "journal_mode": str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()),
                # 2 = FULL
                "synchronous": str(conn.exec_driver_sql("PRAGMA synchronous").scalar()),
            }
        return {
            "synchronous_commit": str(conn.exec_driver_sql("SHOW synchronous_commit").scalar()),
            "fsync": str(conn.exec_driver_sql("SHOW fsync").scalar()),
            "server_version": str(conn.exec_driver_sql("SHOW server_version").scalar()),
        }


def roundtrip_ms(env: Env, trips: int) -> float:
    """Median time of `SELECT 1` on one of the engine's pooled connections, outside a
    transaction: what one round trip to the database server costs on this machine, at rest.
    On a virtual machine whose other core sits idle it is mostly the time to wake the server's
    process (measured from 0.12 to 0.63 ms on machines of one kind)."""
    times = []
    with env.svc.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for _ in range(trips):
            started = time.perf_counter()
            conn.exec_driver_sql("SELECT 1").scalar()
            times.append(time.perf_counter() - started)
    return median(times) * 1000


def commit_ms(env: Env, commits: int) -> float:
    """Median time of one write transaction that changes one row and commits (durably), opened
    the way the engine opens its writes."""
    from engine.persistence.db import WRITE

    engine = env.svc.engine
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bench_commit (id INTEGER PRIMARY KEY, n INTEGER)")
        conn.exec_driver_sql("INSERT INTO bench_commit VALUES (1, 0)")
    times = []
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE: True})
        for _ in range(commits):
            started = time.perf_counter()
            with conn.begin():
                conn.exec_driver_sql("UPDATE bench_commit SET n = n + 1 WHERE id = 1")
            times.append(time.perf_counter() - started)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_commit")
    return median(times) * 1000
