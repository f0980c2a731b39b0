"""What the parts of the suite share: the restaurant case and its clerks, databases made for the
run (and dropped after it), unique certificate numbers, percentiles, progress messages."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.services import accounts, publishing

# The case every throughput figure runs, re-exported for the parts of the suite.
from .workload import (  # noqa: F401
    ACCEPT,
    APPLICATION,
    CORRECT,
    CORRECTED,
    END,
    ISSUE_ELEMENT,
    PATH,
    STEPS,
)

ROOT = Path(__file__).resolve().parents[1]
FORMS = ROOT / "forms"
RESTAURANT = ROOT / "processes" / "restaurant"
BUNDLE = "restaurant"

# PostgreSQL: the machine's server (trust auth); each run creates its own databases.
PG_SERVER = os.environ.get("LIANBAN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_TAG = f"{os.getpid()}_{int(time.time()) % 100000}"

_started = time.monotonic()


def log(message: str) -> None:
    """Progress, on stderr: stdout carries only the table and the JSON line."""
    print(f"[bench {time.monotonic() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- numbers and statistics


def certificate_numbers(tag: str, n: int) -> dict[str, str]:
    """The restaurant's two certificate numbers for the n-th case of a series named `tag`, in
    the formats its bundle requires (a 统一社会信用代码, JY and 14 digits): six digits drawn
    from the tag keep series apart, eight from n number the cases."""
    series = int(hashlib.sha256(tag.encode()).hexdigest(), 16) % 10**6
    return {"licence_number": f"91{series:06d}{n:010d}", "permit_number": f"JY{series:06d}{n:08d}"}


class Numbers:
    """Certificate numbers no other case of this run (or of an earlier run) has used:
    统一发证 refuses a number already issued."""

    def __init__(self, prefix: str) -> None:
        self.prefix = f"{prefix}{RUN_TAG}"
        self._counter = itertools.count(1)

    def issuance(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, **certificate_numbers(self.prefix, next(self._counter))}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that was actually observed."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def window_median(step_seconds: Sequence[float], earlier: int, width: int) -> float | None:
    """The median time of the steps that had `earlier` .. `earlier + width - 1` earlier steps
    (step_seconds[k] is the step with k earlier steps); None when not all of them ran."""
    if earlier < 0 or width < 1 or len(step_seconds) < earlier + width:
        return None
    return median(step_seconds[earlier : earlier + width])


# ---------------------------------------------------------------- databases


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A SQLite file in a fresh directory on disk (the engine's own settings: WAL, FULL)."""
    folder = tempfile.mkdtemp(prefix="lianban-bench-")
    try:
        yield f"sqlite:///{Path(folder) / 'lianban.db'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pg_admin(statement: str) -> None:
    from sqlalchemy import create_engine

    from engine.persistence.db import normalise_url

    admin = create_engine(normalise_url(PG_SERVER), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        admin.dispose()


@contextmanager
def pg_database(tag: str) -> Iterator[str]:
    """A PostgreSQL database of this run, dropped afterwards whatever happened."""
    from sqlalchemy.engine import make_url

    name = f"lianban_bench_{RUN_TAG}_{tag}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- the engine, set up


@dataclass
class Clerk:
    name: str
    group: str
    user: Any
    token: str


@dataclass
class Env:
    """Services on a migrated database with the calendar seeded, the restaurant deployed and a
    clerk for each group of the process."""

    url: str
    svc: Any
    groups: dict[str, str]  # element -> the group whose clerk works it
    clerks: dict[str, Clerk] = field(default_factory=dict)  # by group

    def clerk_for(self, element: str) -> Clerk:
        return self.clerks[self.groups[element]]

    def close(self) -> None:
        self.svc.engine.dispose()


def element_groups() -> dict[str, str]:
    """Each human task of the restaurant process and the (first) group it is offered to."""
    from engine.bundles.compiler import FormLibrary, compile_bundle
    from engine.bundles.source import from_path

    compiled = compile_bundle(from_path(RESTAURANT), FormLibrary(FORMS))
    return {e: sorted(info.groups)[0] for e, info in compiled.human_tasks.items() if info.groups}


def make_env(url: str, clerk_prefix: str = "bench") -> Env:
    from engine.bundles.source import from_path
    from engine.persistence.db import make_engine
    from engine.persistence.schema import upgrade
    from engine.services import Services, calendar

    engine = make_engine(url)
    upgrade(engine)
    svc = Services(engine, FORMS)
    calendar.seed(svc)
    publishing.deploy(svc, from_path(RESTAURANT), "bench")
    env = Env(url, svc, element_groups())
    for group in sorted(set(env.groups.values())):
        user, token = accounts.create_user(svc, f"{clerk_prefix}_{group}", "clerk", [group])
        env.clerks[group] = Clerk(user.name, group, user, token)
    return env


def open_task(case: dict[str, Any], element: str) -> str:
    """The id of the open task of `element` in a case view (the answer of every step)."""
    for task in case["tasks"]:
        if task["element"] == element and task["status"] == "open":
            return str(task["id"])
    raise RuntimeError(f"{element} is not open: {[t['element'] for t in case['tasks']]}")
