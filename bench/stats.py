"""Issue 21 at a province's scale: a million cases in PostgreSQL, the dashboard's and the case
search's latency, and the bytes a finished case costs (`python -m bench.stats`).

The loader, in three steps (docs/performance.md "Issue 21: a million cases"):

1. Templates: a few restaurant cases run through the real services (start_case, complete,
   cancel, rate, the 整改/回访 tasks) on a fake clock, on the database
   `lianban_bench_stats_tpl`: every path the dashboard counts (finished early, on time and
   late, 补正, 不予受理, 不予许可, 撤回, 容缺, 告知承诺 kept and revoked, rated good and bad with
   整改 on time and late and 回访, certificates issued) and a few left open.
2. Clones: `lianban_bench_stats` is made from the template database (CREATE DATABASE ...
   TEMPLATE), its case tables emptied, and the template cases' rows (cases, case_events,
   human_tasks, human_task_groups, certificates, ratings) copied N times with COPY: new ids,
   every date and time moved by whole weeks (so weekdays stay weekdays) to spread the cases
   over the 365 days before today, under 7 bundle keys (the bundle's rows cloned under other
   keys), ~200 clerks in 20 groups, and ~5 % left open (the open templates, moved to the last
   weeks). Hashes are kept as cloned: the clones do not verify (nothing measured here reads them).
   Jobs, notifications and messages are not cloned.
3. Facts and rollups: `engine.domain.case_facts.derive` on each template's record moved by the
   clone's weeks (the record read by `StatsRepository.records`), then `day_figures` and
   `task_figures` over the clones, written with COPY (the same functions the refresh runs; one
   derive per template and shift, since clones of one template and shift differ only in ids
   and names). `--rebuild` runs `engine.services.stats_refresh.rebuild` instead (slow at 1M).

The database is kept between runs and reused when it holds the same N, loader version and schema
revision (`--reload` rebuilds it). Then the measures: `stats_p95_ms`, `search_p99_ms`, `bytes_per_case`.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from .common import (
    PG_SERVER,
    Env,
    log,
    make_env,
    percentile,
)
from .workload import APPLICATION

# 2: migration 0021 (the applicant indexes); 3: case_facts.certified; 4: the month rollups
LOADER_VERSION = 4
DB_NAME = "lianban_bench_stats"
DEFAULT_CASES = 1_000_000
QUICK_CASES = 20_000
BUNDLE_KEYS = 7  # restaurant and 6 clones of it
GROUP_VARIANTS = 4  # each process group exists 4 times (by bundle): 5 x 4 = 20 groups
CLERKS_PER_GROUP = 10
OPEN_SHARE = 0.05
DAYS = 365
SUPERVISOR = "bench_supervisor"

# The template cases' own applicant, replaced in each clone by one of its own.
_NAME, _ID = APPLICATION["applicant_name"], APPLICATION["applicant_id_number"]
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红飞鹏辉建国志文斌宇浩凯"
_DEPARTMENTS = {
    "front_desk": "政务服务中心综合窗口",
    "market_regulation": "市场监管局登记科",
    "food_safety": "市场监管局食品经营科",
    "inspection": "市场监管局执法大队",
    "issuance": "政务服务中心出件窗口",
}


def applicant(case_id: int) -> tuple[str, str]:
    """A clone's applicant: a name (2–3 characters) and an 18-character id number."""
    name = _SURNAMES[case_id % len(_SURNAMES)] + _GIVEN[(case_id // 47) % len(_GIVEN)]
    if case_id % 3:
        name += _GIVEN[(case_id // 2021) % len(_GIVEN)]
    return name, f"9133{case_id:014d}"


def group_variant(group: str, variant: int) -> str:
    return group if variant == 0 or group == "supervisors" else f"{group}_{variant}"


def clerk_name(group: str, n: int) -> str:
    return f"clerk_{group}_{n:02d}"


# ---------------------------------------------------------------- step 1: the template cases


class FakeClock:
    """The services' clock: moved by the template runner, a minute per step."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def workdays(self, n: int) -> None:
        """n working days later (Monday to Friday), same time of day."""
        while n > 0:
            self.now += timedelta(days=1)
            if self.now.weekday() < 5:
                n -= 1

    def minutes(self, n: int = 20) -> None:
        self.now += timedelta(minutes=n)


@dataclass
class Template:
    name: str
    weight: int  # clones per 1,000 (open templates share OPEN_SHARE)
    steps: list[tuple[str, dict[str, Any], int]]  # element, form, working days before it
    open: bool = False
    withdraw_after: int | None = None  # 撤回 this many working days after the steps
    rating: int | None = None  # rated online the next working day
    rectify_after: int | None = None  # 整改 done this many working days after a 差评
    follow_up: bool | None = None  # 回访: satisfied or not
    case_id: int = 0
    span: timedelta = field(default_factory=timedelta)


def _forms() -> dict[str, dict[str, Any]]:
    from .workload import ISSUANCE

    return {
        "accept": {"intake_decision": "accept", "intake_opinion": "材料齐全"},
        "correct": {
            "intake_decision": "correct",
            "missing_materials": ["premises_proof", "health_certificates"],
        },
        "corrected": {"supplied_materials": ["premises_proof", "health_certificates"]},
        "refuse": {"intake_decision": "refuse", "intake_opinion": "不属于本中心受理范围"},
        "gaps": {
            "intake_decision": "accept_with_gaps",
            "deferred_materials": ["health_certificates", "equipment_layout"],
            "supply_workdays": 10,
            "intake_opinion": "主要材料齐全，健康证明和设备布局图容缺受理",
        },
        "supplied": {"supplied_materials": ["health_certificates", "equipment_layout"]},
        "commitment": {"intake_decision": "commitment", "intake_opinion": "申请人自愿选择告知承诺"},
        "commitment_ok": {
            "commitment_signed": True,
            "commitment_text": "本人承诺经营场所、设备设施和从业人员符合食品经营许可条件",
            "approval_opinion": "申请人已签署告知承诺书，当场准予许可",
        },
        "licence_ok": {"licence_approved": True, "licence_opinion": "同意"},
        "licence_no": {"licence_approved": False, "licence_opinion": "名称不符合规定"},
        "food_ok": {"food_approved": True, "needs_inspection": False},
        "food_inspect": {"food_approved": True, "needs_inspection": True, "food_opinion": "需核查"},
        "inspection_ok": {
            "inspection_passed": True,
            "inspection_method": "video",
            "inspection_report": "布局合理",
        },
        "issuance": dict(ISSUANCE),
        "denial": {"denial_reason": "营业执照审查未通过"},
        "check_ok": {"check_passed": True, "check_method": "onsite", "check_report": "与承诺一致"},
        "check_fail": {
            "check_passed": False,
            "check_method": "video",
            "check_report": "未设置独立的粗加工区，与承诺不符",
        },
        "revocation": {"revocation_reason": "批后核查发现与承诺不符，依法撤销食品经营许可"},
    }


def templates() -> list[Template]:
    f = _forms()
    granted = [
        ("intake", f["accept"], 0),
        ("review_food", f["food_ok"], 0),
        ("review_licence", f["licence_ok"], 0),
        ("joint_issuance", f["issuance"], 0),
    ]
    return [
        Template("granted_same_day", 300, granted, rating=5),
        Template(
            "granted_in_a_week",
            150,
            [
                ("intake", f["accept"], 0),
                ("review_licence", f["licence_ok"], 2),
                ("review_food", f["food_inspect"], 1),
                ("site_inspection", f["inspection_ok"], 3),
                ("joint_issuance", f["issuance"], 1),
            ],
            rating=4,
        ),
        Template(
            "granted_late_bad_rating_rectified",
            60,
            [
                ("intake", f["accept"], 0),
                ("review_licence", f["licence_ok"], 3),
                ("review_food", f["food_inspect"], 3),
                ("site_inspection", f["inspection_ok"], 3),
                ("joint_issuance", f["issuance"], 3),
            ],
            rating=2,
            rectify_after=2,
            follow_up=True,
        ),
        Template(
            "corrected_twice_then_granted",
            100,
            [
                ("intake", f["correct"], 0),
                ("correction", f["corrected"], 2),
                ("intake", f["correct"], 0),
                ("correction", f["corrected"], 3),
                ("intake", f["accept"], 0),
                ("review_licence", f["licence_ok"], 1),
                ("review_food", f["food_ok"], 1),
                ("joint_issuance", f["issuance"], 1),
            ],
            rating=5,
        ),
        Template(
            "gaps_then_granted_bad_rating_rectified_late",
            80,
            [
                ("intake", f["gaps"], 0),
                ("review_licence", f["licence_ok"], 1),
                ("review_food", f["food_ok"], 1),
                ("supply_materials", f["supplied"], 3),
                ("joint_issuance", f["issuance"], 1),
            ],
            rating=1,
            rectify_after=25,
            follow_up=False,
        ),
        Template(
            "corrected_then_gaps",
            45,
            [
                ("intake", f["correct"], 0),
                ("correction", f["corrected"], 1),
                ("intake", f["gaps"], 0),
                ("supply_materials", f["supplied"], 2),
                ("review_food", f["food_ok"], 1),
                ("review_licence", f["licence_ok"], 1),
                ("joint_issuance", f["issuance"], 1),
            ],
            rating=3,
        ),
        Template(
            "commitment_checked",
            60,
            [
                ("intake", f["commitment"], 0),
                ("commitment_approval", f["commitment_ok"], 0),
                ("joint_issuance", f["issuance"], 0),
                ("post_check", f["check_ok"], 10),
            ],
            rating=5,
        ),
        Template(
            "commitment_revoked",
            15,
            [
                ("intake", f["commitment"], 0),
                ("commitment_approval", f["commitment_ok"], 0),
                ("joint_issuance", f["issuance"], 0),
                ("post_check", f["check_fail"], 10),
                ("revocation", f["revocation"], 2),
            ],
        ),
        Template("refused_at_intake", 60, [("intake", f["refuse"], 0)]),
        Template(
            "denied_after_review",
            40,
            [
                ("intake", f["accept"], 0),
                ("review_licence", f["licence_no"], 2),
                ("review_food", f["food_ok"], 1),
                ("denial_notice", f["denial"], 1),
            ],
        ),
        Template("withdrawn", 40, [("intake", f["accept"], 0)], withdraw_after=2),
        # open: the clones of these land in the last weeks
        Template("open_in_review", 60, [("intake", f["accept"], 0)], open=True),
        Template(
            "open_awaiting_correction",
            20,
            [("intake", f["correct"], 0)],
            open=True,
        ),
        Template(
            "open_gaps_owed",
            20,
            [("intake", f["gaps"], 0), ("review_licence", f["licence_ok"], 1)],
            open=True,
        ),
    ]


def _open_task(case: dict[str, Any], element: str) -> str:
    for task in case["tasks"]:
        if task["element"] == element and task["status"] == "open":
            return str(task["id"])
    raise RuntimeError(f"{element} is not open: {[t['element'] for t in case['tasks']]}")


def run_templates(env: Env, start: datetime, clock: FakeClock) -> list[Template]:
    """Each template case through the real services, from `start` (a Monday) on, each starting
    on its own weekday so the clones' days spread over the week."""
    from engine.errors import Invalid
    from engine.services import accounts, cases, follow_ups

    svc = env.svc
    supervisor, _token = accounts.create_user(svc, SUPERVISOR, "clerk", ["supervisors"])
    done = []
    for i, t in enumerate(templates()):
        clock.now = start + timedelta(days=i % 5)
        began = clock.now
        case = cases.start_case(svc, env.clerk_for("intake").user, "restaurant", APPLICATION)
        t.case_id = int(case["id"])
        for element, form, days in t.steps:
            clock.workdays(days)
            clock.minutes()
            if element == "joint_issuance":
                form = {
                    **form,
                    "licence_number": f"91330102MA2H{i:06d}",
                    "permit_number": f"JY1330102{i:07d}",
                }
            if element == "supply_materials":
                form = {**form, "supplied_on": svc.today().isoformat()}
            try:
                task = _open_task(case, element)
                case = cases.complete(svc, env.clerk_for(element).user, task, form)
            except Invalid as err:
                raise RuntimeError(f"{t.name}, {element}: {err.errors}") from err
        if t.withdraw_after is not None:
            clock.workdays(t.withdraw_after)
            cases.cancel(svc, env.clerk_for("intake").user, t.case_id, "申请人申请撤回")
        if t.rating is not None:
            clock.workdays(1)
            follow_ups.rate(svc, t.case_id, t.rating, "", code_checked=True)
        if t.rectify_after is not None:
            clock.workdays(t.rectify_after)
            task = _engine_task(svc, t.case_id, "rectification")
            cases.complete(svc, supervisor, task, {"measures": "约谈窗口人员", "result": "已整改"})
            clock.workdays(1)
            answer: dict[str, Any] = {"applicant_satisfied": bool(t.follow_up)}
            if not t.follow_up:
                answer["applicant_answer"] = "仍不满意"
            cases.complete(svc, supervisor, _engine_task(svc, t.case_id, "follow_up"), answer)
        t.span = clock.now - began
        done.append(t)
        log(f"template {t.name}: case {t.case_id}, {t.span.days} days")
    return done


def _engine_task(svc: Any, case_id: int, element: str) -> str:
    with svc.uow() as uow:
        found = [t for t in uow.tasks.open_for_case(case_id) if t.element == element]
    if not found:
        raise RuntimeError(f"case {case_id} has no open {element} task")
    return str(found[0].id)


# ---------------------------------------------------------------- step 2: the clones

CLONED = ("cases", "case_events", "human_tasks", "human_task_groups", "certificates", "ratings")
_DATE = re.compile(r"(?<![0-9])(\d{4}-\d{2}-\d{2})(?![0-9])")


def _shift_text(text: str, weeks: int) -> str:
    """Every date in a COPY field (dates, timestamps, dates inside JSON) moved by whole weeks."""
    if not weeks or "-" not in text:
        return text

    def moved(m: re.Match[str]) -> str:
        try:
            return (date.fromisoformat(m.group(1)) + timedelta(weeks=weeks)).isoformat()
        except ValueError:
            return m.group(1)

    return _DATE.sub(moved, text)


def _escape(text: str) -> str:
    """A value in COPY's text format."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


@dataclass
class Rows:
    """A template case's rows as COPY text fields, by table; `columns` names them."""

    columns: dict[str, list[str]]
    rows: dict[str, list[list[str]]]


def _pg(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _columns(conn: Any, table: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = 'public' ORDER BY ordinal_position",
            (table,),
        )
    ]


def read_template_rows(url: str, case_ids: list[int]) -> dict[int, Rows]:
    """Each template case's rows, as COPY TO writes them (text format, times in UTC)."""
    out: dict[int, Rows] = {}
    with _pg(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        columns = {t: _columns(conn, t) for t in CLONED}
        for cid in case_ids:
            rows: dict[str, list[list[str]]] = {}
            for table in CLONED:
                if table == "human_task_groups":
                    where = f"task_id IN (SELECT id FROM human_tasks WHERE case_id = {cid})"
                    order = "task_id, group_name"
                elif table == "cases":
                    where, order = f"id = {cid}", "id"
                else:
                    where, order = f"case_id = {cid}", "id"
                buf = io.BytesIO()
                cols = ", ".join(f'"{c}"' for c in columns[table])
                sql = f"COPY (SELECT {cols} FROM {table} WHERE {where} ORDER BY {order}) TO STDOUT"
                with conn.cursor().copy(sql) as copy:
                    for chunk in copy:
                        buf.write(bytes(chunk))
                lines = buf.getvalue().decode().split("\n")
                rows[table] = [line.split("\t") for line in lines if line]
            out[cid] = Rows(columns, rows)
    return out


@dataclass(frozen=True)
class Slot:
    """One clone: which template, moved by how many weeks, under which bundle."""

    template: int
    weeks: int
    bundle: int


def plan(
    tpls: list[Template], n: int, start: datetime, now: datetime, seed: int = 21
) -> list[Slot]:
    """N clones, sorted by when they were received (so case ids grow with time, as they do)."""
    rng = random.Random(seed)
    closed = [i for i, t in enumerate(tpls) if not t.open]
    opened = [i for i, t in enumerate(tpls) if t.open]
    n_open = round(n * OPEN_SHARE)
    first = now - timedelta(days=DAYS)
    lowest = max(0, -(-(first - start).days // 7))  # the first week at or after `first`

    def top(t: Template) -> int:  # the last week whose clone has ended (or is still open) by now
        return max(lowest, (now - start - t.span - timedelta(days=4)).days // 7)

    slots = []
    weights = [tpls[i].weight for i in closed]
    for i in rng.choices(closed, weights, k=n - n_open):
        slots.append(Slot(i, rng.randint(lowest, top(tpls[i])), rng.randrange(BUNDLE_KEYS)))
    open_weights = [tpls[i].weight for i in opened]
    for i in rng.choices(opened, open_weights, k=n_open):
        hi = top(tpls[i])
        slots.append(Slot(i, rng.randint(max(lowest, hi - 5), hi), rng.randrange(BUNDLE_KEYS)))
    # received: the template's start moved by the weeks (templates start on their own weekday)
    slots.sort(key=lambda s: (s.weeks, s.template % 5, s.template))
    return slots


class Cloner:
    """Writes the clones' rows into COPY buffers: fields moved and renamed per clone."""

    def __init__(
        self, tpls: list[Template], rows: dict[int, Rows], versions: list[int], keys: list[str]
    ) -> None:
        self.tpls, self.rows, self.versions, self.keys = tpls, rows, versions, keys
        self.cols = next(iter(rows.values())).columns
        self.ix = {t: {c: i for i, c in enumerate(cs)} for t, cs in self.cols.items()}
        self._cache: dict[tuple[int, int, int], dict[str, list[list[str]]]] = {}
        self.next_id = {"case_events": 1, "certificates": 1, "ratings": 1}
        self.template_clerks = {f"bench_{g}": g for g in _DEPARTMENTS}

    def _moved(self, slot: Slot) -> dict[str, list[list[str]]]:
        """The template's rows moved by the slot's weeks, groups renamed for its bundle."""
        key = (slot.template, slot.weeks, slot.bundle % GROUP_VARIANTS)
        found = self._cache.get(key)
        if found is None:
            variant = slot.bundle % GROUP_VARIANTS
            tables = self.rows[self.tpls[slot.template].case_id].rows
            found = {}
            for table, rows in tables.items():
                moved = [[_shift_text(v, slot.weeks) for v in row] for row in rows]
                if variant and table == "human_tasks":
                    g = self.ix[table]["groups"]
                    for row in moved:
                        groups = [group_variant(x, variant) for x in json.loads(row[g])]
                        row[g] = _escape(json.dumps(groups, ensure_ascii=False))
                if variant and table == "human_task_groups":
                    g = self.ix[table]["group_name"]
                    for row in moved:
                        row[g] = group_variant(row[g], variant)
                found[table] = moved
            self._cache[key] = found
        return found

    def _clerk(self, name: str, slot: Slot, case_id: int) -> str:
        group = self.template_clerks.get(name)
        if group is None:
            return name  # system, applicant, the supervisor
        variant = slot.bundle % GROUP_VARIANTS
        return clerk_name(group_variant(group, variant), (case_id * 7 + len(group)) % 10)

    def write(self, case_id: int, slot: Slot, out: dict[str, io.StringIO]) -> None:
        moved = self._moved(slot)
        name, id_number = applicant(case_id)
        ix = self.ix

        def person(text: str) -> str:
            return text.replace(_NAME, name).replace(_ID, id_number)

        def clerk(value: str) -> str:
            return value if value == "\\N" else self._clerk(value, slot, case_id)

        c = ix["cases"]
        for row in moved["cases"]:
            r = list(row)
            r[c["id"]] = str(case_id)
            r[c["bundle_version_id"]] = str(self.versions[slot.bundle])
            r[c["data"]] = person(r[c["data"]])
            r[c["created_by"]] = clerk(r[c["created_by"]])
            out["cases"].write("\t".join(r) + "\n")
        task_ids: dict[str, str] = {}
        t = ix["human_tasks"]
        for n, row in enumerate(moved["human_tasks"]):
            r = list(row)
            new = f"{case_id:08x}-0000-4000-8000-{n:012x}"
            task_ids[r[t["id"]]] = new
            r[t["id"]], r[t["case_id"]] = new, str(case_id)
            for col in ("assignee", "ended_by", "owner"):
                r[t[col]] = clerk(r[t[col]])
            out["human_tasks"].write("\t".join(r) + "\n")
        g = ix["human_task_groups"]
        for row in moved["human_task_groups"]:
            r = list(row)
            r[g["task_id"]] = task_ids[r[g["task_id"]]]
            out["human_task_groups"].write("\t".join(r) + "\n")
        e = ix["case_events"]
        for row in moved["case_events"]:
            r = list(row)
            r[e["id"]] = str(self.next_id["case_events"])
            self.next_id["case_events"] += 1
            r[e["case_id"]] = str(case_id)
            r[e["actor"]] = clerk(r[e["actor"]])
            if r[e["task_id"]] != "\\N":
                r[e["task_id"]] = task_ids.get(r[e["task_id"]], r[e["task_id"]])
            r[e["data"]] = person(r[e["data"]])
            out["case_events"].write("\t".join(r) + "\n")
        k = ix["certificates"]
        for row in moved["certificates"]:
            r = list(row)
            r[k["id"]] = str(self.next_id["certificates"])
            self.next_id["certificates"] += 1
            number = r[k["number"]]
            r[k["number"]] = number[:2] + f"{case_id:0{max(12, len(number) - 2)}d}"
            r[k["case_id"]] = str(case_id)
            r[k["bundle_key"]] = self.keys[slot.bundle]
            r[k["holder"]] = person(r[k["holder"]])
            r[k["fields"]] = person(r[k["fields"]])
            out["certificates"].write("\t".join(r) + "\n")
        q = ix["ratings"]
        for row in moved["ratings"]:
            r = list(row)
            r[q["id"]] = str(self.next_id["ratings"])
            self.next_id["ratings"] += 1
            r[q["case_id"]] = str(case_id)
            r[q["rated_by"]] = clerk(r[q["rated_by"]])
            out["ratings"].write("\t".join(r) + "\n")


def _copy(conn: Any, table: str, columns: list[str], text: str) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    with conn.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        copy.write(text.encode())


# ---------------------------------------------------------------- the databases


def _admin(statement: str) -> Any:
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if statement.startswith("SELECT") else None


def _url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


def _exists(name: str) -> bool:
    return bool(_admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))


def database(n: int) -> str:
    """The kept database of n cases: `lianban_bench_stats` for the default N."""
    return DB_NAME if n == DEFAULT_CASES else f"{DB_NAME}_{n}"


def loaded(n: int, db: str) -> dict[str, Any] | None:
    """What the kept database holds, if it holds N cases of this loader's version under this
    tree's schema revision."""
    if not _exists(db):
        return None
    with _pg(_url(db)) as conn:
        try:
            row = conn.execute("SELECT info FROM bench_stats_load").fetchone()
        except Exception:
            return None
        # a database loaded under another schema (an older tree's, a migration since) is not reused
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    info: dict[str, Any] = json.loads(row[0]) if row else {}
    if revision is None or revision[0] != _head_revision():
        return None
    return info if info.get("cases") == n and info.get("version") == LOADER_VERSION else None


def _head_revision() -> str:
    """The schema revision this tree's migrations end at."""
    from alembic.script import ScriptDirectory

    from engine.persistence.schema import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _bundles(conn: Any) -> tuple[list[int], list[str]]:
    """The restaurant's bundle and version rows cloned under 6 other keys; (version ids, keys)."""
    bundle_id, version_id = conn.execute(
        "SELECT b.id, v.id FROM bundles b JOIN bundle_versions v ON v.bundle_id = b.id "
        "WHERE b.key = 'restaurant'"
    ).fetchone()
    versions, keys = [version_id], ["restaurant"]
    names = [
        "开办餐馆(二)",
        "开办餐馆(三)",
        "开办餐馆(四)",
        "开办餐馆(五)",
        "开办餐馆(六)",
        "开办餐馆(七)",
    ]
    bcols = [c for c in _columns(conn, "bundles") if c not in ("id", "key", "name")]
    vcols = [c for c in _columns(conn, "bundle_versions") if c not in ("id", "bundle_id", "name")]
    for i, name in enumerate(names[: BUNDLE_KEYS - 1], start=2):
        key = f"restaurant_{i}"
        new_bundle = conn.execute(
            f"INSERT INTO bundles (key, name, {', '.join(bcols)}) "
            f"SELECT %s, %s, {', '.join(bcols)} FROM bundles WHERE id = %s RETURNING id",
            (key, name, bundle_id),
        ).fetchone()[0]
        new_version = conn.execute(
            f"INSERT INTO bundle_versions (bundle_id, name, {', '.join(vcols)}) "
            f"SELECT %s, %s, {', '.join(vcols)} FROM bundle_versions WHERE id = %s RETURNING id",
            (new_bundle, name, version_id),
        ).fetchone()[0]
        versions.append(new_version)
        keys.append(key)
    return versions, keys


def _clerks(conn: Any) -> int:
    """~200 clerks: 10 in each of the 20 groups, each with the department of the group."""
    now = datetime.now(UTC)
    rows = []
    memberships = []
    for group, department in _DEPARTMENTS.items():
        for variant in range(GROUP_VARIANTS):
            g = group_variant(group, variant)
            dept = department if variant == 0 else f"{department}(第{variant + 1}分中心)"
            for n in range(CLERKS_PER_GROUP):
                name = clerk_name(g, n)
                rows.append((name, "clerk", f"bench-{name}", now, f"{g} {n}", dept))
                memberships.append((name, g))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO users (name, role, token_hash, created_at, display_name, department) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )
        cur.executemany(
            "INSERT INTO user_groups (user_id, group_name) "
            "SELECT id, %s FROM users WHERE name = %s",
            [(g, name) for name, g in memberships],
        )
    return len(rows)


def _indexes(conn: Any, tables: Iterable[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the tables' indexes that back no constraint."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)",
            (list(tables),),
        )
    ]


def load(n: int, db: str) -> dict[str, Any]:
    """Build `lianban_bench_stats` with n cases (see the module's docstring)."""
    from engine.services import Services

    started = time.perf_counter()
    timings: dict[str, float] = {}
    template_db = f"{db}_tpl"
    for name in (db, template_db):
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{template_db}"')
    clock = FakeClock(datetime.now(UTC))
    env = make_env(_url(template_db))
    env.svc.clock = clock
    now = datetime.now(UTC)
    # the templates run a year ago and more: a Monday, 09:30 local time
    tz = env.svc.tz
    first = (now - timedelta(days=DAYS + 14)).astimezone(tz)
    monday = (first - timedelta(days=first.weekday())).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    tpls = run_templates(env, monday, clock)
    records = _template_records(env.svc, tpls)
    env.close()
    timings["templates_s"] = time.perf_counter() - started
    rows = read_template_rows(_url(template_db), [t.case_id for t in tpls])

    _admin(f'CREATE DATABASE "{db}" TEMPLATE "{template_db}"')
    _admin(f'DROP DATABASE "{template_db}" WITH (FORCE)')  # its cases are in `info`
    url = _url(db)
    counts: dict[str, int] = {}
    with _pg(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        tables = ", ".join(CLONED + ("jobs", "notifications", "staff_messages", "case_facts"))
        conn.execute(f"TRUNCATE {tables} CASCADE")
        versions, keys = _bundles(conn)
        counts["users"] = _clerks(conn)
        dropped = _indexes(conn, CLONED)
        for index, _ in dropped:
            conn.execute(f'DROP INDEX "{index}"')
        conn.execute("SET session_replication_role = replica")  # no FK checks while copying
        slots = plan(tpls, n, monday, now)
        cloner = Cloner(tpls, rows, versions, keys)
        t0 = time.perf_counter()
        batch = 20_000
        for at in range(0, n, batch):
            out = {t: io.StringIO() for t in CLONED}
            for offset, slot in enumerate(slots[at : at + batch]):
                cloner.write(at + offset + 1, slot, out)
            for table in CLONED:
                _copy(conn, table, cloner.cols[table], out[table].getvalue())
            if (at // batch) % 10 == 0:
                log(f"cloned {min(n, at + batch):,} of {n:,} cases")
        conn.execute("SET session_replication_role = origin")
        timings["copy_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _index, statement in dropped:
            conn.execute(statement)
        timings["indexes_s"] = time.perf_counter() - t0
        for table, column in (
            ("cases", "id"),
            ("case_events", "id"),
            ("certificates", "id"),
            ("ratings", "id"),
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"(SELECT coalesce(max({column}), 1) FROM {table}))"
            )
    log(f"clones copied in {timings['copy_s']:.0f} s, indexes in {timings['indexes_s']:.0f} s")

    t0 = time.perf_counter()
    svc = Services(_engine(url), None)
    facts_note = write_facts(svc, url, tpls, records, slots, keys)
    timings["facts_s"] = time.perf_counter() - t0
    with _pg(url) as conn:
        conn.execute("VACUUM ANALYZE")
        for table in (*CLONED, "case_facts", "stats_daily", "stats_task_daily", "users"):
            counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        info = {
            "version": LOADER_VERSION,
            "cases": n,
            "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_s": round(time.perf_counter() - started, 1),
            "timings_s": {k: round(v, 1) for k, v in timings.items()},
            "rows": counts,
            "facts": facts_note,
            "templates": {t.name: t.case_id for t in tpls},
            "open": sum(1 for s in slots if tpls[s.template].open),
        }
        conn.execute("CREATE TABLE bench_stats_load (info TEXT NOT NULL)")
        conn.execute("INSERT INTO bench_stats_load VALUES (%s)", (json.dumps(info),))
    svc.engine.dispose()
    return info


def _engine(url: str) -> Any:
    from engine.persistence.db import make_engine

    return make_engine(url)


# ---------------------------------------------------------------- step 3: facts and rollups


def _template_records(svc: Any, tpls: list[Template]) -> dict[int, tuple[Any, Any]]:
    """Each template case's record (as the refresh reads it) and its bundle's facts policy."""
    from engine.domain.bundle_metadata import BundleMetadata
    from engine.domain.case_facts import FactsPolicy
    from engine.persistence.stats_repository import StatsRepository

    with svc.uow() as uow:
        repo = StatsRepository(uow.conn)
        found = repo.records([t.case_id for t in tpls])
        metas = repo.version_metadata({v for v, _ in found})
    out = {}
    for version, record in found:
        meta = BundleMetadata.from_dict(dict(metas[version]))
        out[record.case_id] = (record, FactsPolicy(meta.intake, meta.visits))
    return out


def _moved_record(record: Any, weeks: int, variant: int) -> Any:
    from engine.domain.timelimits import CaseClock

    delta = timedelta(weeks=weeks)
    clock = json.loads(_shift_text(json.dumps(record.clock.to_dict()), weeks))
    return dataclasses.replace(
        record,
        created_at=record.created_at + delta,
        ended_at=record.ended_at + delta if record.ended_at else None,
        clock=CaseClock.from_dict(clock),
        events=[dataclasses.replace(e, at=e.at + delta) for e in record.events],
        tasks=[
            dataclasses.replace(
                t,
                groups=tuple(group_variant(g, variant) for g in t.groups),
                deadline=t.deadline + delta if t.deadline else None,
                created_at=t.created_at + delta,
                ended_at=t.ended_at + delta if t.ended_at else None,
            )
            for t in record.tasks
        ],
        certificates=[(kind, day + delta) for kind, day in record.certificates],
    )


def write_facts(
    svc: Any,
    url: str,
    tpls: list[Template],
    records: dict[int, tuple[Any, Any]],
    slots: list[Slot],
    keys: list[str],
) -> str:
    """case_facts, stats_daily and stats_task_daily of the clones (see the module docstring)."""
    from engine.domain.case_facts import day_figures, derive, empty_figures, task_figures

    with svc.uow() as uow:
        calendar = svc.calendars.get(uow)
    tz = svc.tz
    derived: dict[tuple[int, int, int], tuple[Any, list[Any], Counter_t]] = {}
    by_day: dict[tuple[str, date], list[Any]] = defaultdict(list)
    kinds: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    task_rows: dict[tuple[date, str, str, str, str], list[Any]] = {}
    buf = io.StringIO()
    cloner_clerks = {f"bench_{g}": g for g in _DEPARTMENTS}
    columns = list(_fact_columns())
    for case_id, slot in enumerate(slots, start=1):
        variant = slot.bundle % GROUP_VARIANTS
        key = (slot.template, slot.weeks, variant)
        got = derived.get(key)
        if got is None:
            record, policy = records[tpls[slot.template].case_id]
            moved = _moved_record(record, slot.weeks, variant)
            facts = derive(moved, policy, calendar, tz)
            tasks = task_figures("", moved.tasks, calendar, tz)
            issued: Counter_t = defaultdict(int)
            for kind, day in moved.certificates:
                issued[(kind, day)] += 1
            got = (facts, tasks, issued)
            derived[key] = got
        facts, tasks, issued = got
        bundle = keys[slot.bundle]
        mine = dataclasses.replace(facts, case_id=case_id, bundle_key=bundle)
        for day in mine.days():
            by_day[(bundle, day)].append(mine)
        for (kind, day), count in issued.items():
            kinds[(bundle, day)][kind] += count
        for tf in tasks:
            group = cloner_clerks.get(tf.clerk)
            clerk = (
                clerk_name(group_variant(group, variant), (case_id * 7 + len(group)) % 10)
                if group
                else tf.clerk
            )
            tk = (tf.day, bundle, tf.element, tf.group_name, clerk)
            acc = task_rows.setdefault(tk, [tf.task_name, 0, 0, 0, 0])
            acc[1] += tf.completed
            acc[2] += tf.on_time
            acc[3] += tf.overdue
            acc[4] += tf.workdays
        row = mine.to_row()
        buf.write("\t".join(_copy_value(row[c]) for c in columns) + "\n")
    log(f"facts derived: {len(derived)} derives for {len(slots):,} cases")
    daily = io.StringIO()
    empty = empty_figures()
    for (bundle, day), facts_of_day in sorted(by_day.items()):
        figures = day_figures(day, facts_of_day, kinds.get((bundle, day)))
        if figures == empty:  # as the refresh does: a day with nothing to count has no row
            continue
        daily.write(f"{day}\t{bundle}\t{_escape(json.dumps(figures, ensure_ascii=False))}\n")
    tasks_buf = io.StringIO()
    for (day, bundle, element, group, clerk), (name, n, on_time, overdue, workdays) in sorted(
        task_rows.items()
    ):
        tasks_buf.write(
            f"{day}\t{bundle}\t{element}\t{group}\t{clerk}\t{_escape(name)}\t"
            f"{n}\t{on_time}\t{overdue}\t{workdays}\n"
        )
    with _pg(url) as conn:
        conn.execute("DELETE FROM stats_daily")
        conn.execute("DELETE FROM stats_task_daily")
        _copy(conn, "case_facts", columns, buf.getvalue())
        _copy(conn, "stats_daily", ["day", "bundle_key", "figures"], daily.getvalue())
        _copy(
            conn,
            "stats_task_daily",
            [
                "day",
                "bundle_key",
                "element",
                "group_name",
                "clerk",
                "task_name",
                "completed",
                "on_time",
                "overdue",
                "workdays",
            ],
            tasks_buf.getvalue(),
        )
        conn.execute("DELETE FROM stats_state")
        conn.execute(
            "INSERT INTO stats_state (id, event_id, refreshed_at) "
            "SELECT 1, coalesce(max(id), 0), now() FROM case_events"
        )
    # the month rollups: the sums of the day rows, by the refresh's own code
    from engine.persistence.db import make_engine
    from engine.persistence.stats_repository import StatsRepository

    engine = make_engine(url)
    try:
        with engine.begin() as sa_conn:
            repo = StatsRepository(sa_conn)
            repo.replace_months(repo.month_rows())
    finally:
        engine.dispose()
    return (
        f"bulk: derive once per template, week and group variant ({len(derived)} derives), "
        "day_figures and task_figures over the clones, COPY"
    )


Counter_t = dict[tuple[str, date], int]


def _fact_columns() -> Iterable[str]:
    from engine.domain.case_facts import CaseFacts

    return CaseFacts.__dataclass_fields__.keys()


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list | dict):
        return _escape(json.dumps(value, ensure_ascii=False))
    return _escape(str(value))


# ---------------------------------------------------------------- the measures

STATS_PERIODS = ("day", "week", "month", "quarter", "year", "custom")
DRILL_MEASURES = ("finished", "overdue", "bad", "open_overdue", "task_overdue")
ONE_BUNDLE = "restaurant_3"


def _user(svc: Any, name: str, role: str, groups: list[str]) -> Any:
    from engine.services import accounts

    with svc.uow() as uow:
        found = uow.users.by_name(name)
    if found is not None:
        return found
    user, _token = accounts.create_user(svc, name, role, groups)
    return user


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def measure_stats(svc: Any, rounds: int) -> dict[str, Any]:
    """`dashboard.figures` for every kind of period ending today, all bundles and one, and the
    drill-down's first page of a few measures; as an admin and as a supervisor-group clerk."""
    from engine.services import dashboard

    today = svc.today()
    admin = _user(svc, "bench_admin", "admin", [])
    supervisor = _user(svc, "bench_supervisor_2", "clerk", ["supervisors"])
    periods = [
        dashboard.parse_period(
            k,
            today if k != "custom" else today - timedelta(days=89),
            today if k == "custom" else None,
            today,
        )
        for k in STATS_PERIODS
    ]
    calls: list[tuple[str, Callable[[], Any]]] = []
    for user in (admin, supervisor):
        for period in periods:
            for bundle in (None, ONE_BUNDLE):
                label = f"figures {period.kind} {bundle or 'all'} {user.role}"
                calls.append((label, partial(dashboard.figures, svc, user, period, bundle)))
        month = periods[2]
        for m in DRILL_MEASURES:
            calls.append(
                (f"cases {m} month {user.role}", partial(dashboard.cases, svc, user, month, m))
            )
    return _run(calls, rounds, 95)


def measure_search(svc: Any, rounds: int, n: int) -> dict[str, Any]:
    """`case_search.search_cases` as an auditor and `desk.staff_search` as a clerk, with the
    criteria people use."""
    from engine.services import case_search, desk

    auditor = _user(svc, "bench_auditor", "auditor", [])
    clerk = _user(svc, clerk_name("front_desk", 0), "clerk", ["front_desk"])
    today = svc.today()
    rng = random.Random(6)
    week = (today - timedelta(days=40), today - timedelta(days=34))
    criteria: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("number", lambda: {"number": str(rng.randint(1, n))}),
        ("applicant name", lambda: {"applicant": applicant(rng.randint(1, n))[0]}),
        ("applicant surname", lambda: {"applicant": _SURNAMES[rng.randrange(len(_SURNAMES))]}),
        ("id number (applicant)", lambda: {"applicant": applicant(rng.randint(1, n))[1]}),
        ("id number", lambda: {"id_number": applicant(rng.randint(1, n))[1]}),
        ("bundle + status", lambda: {"bundle": ONE_BUNDLE, "status": "running"}),
        ("bundle + completed", lambda: {"bundle": ONE_BUNDLE, "status": "completed"}),
        ("date range", lambda: {"received_from": str(week[0]), "received_to": str(week[1])}),
        ("overdue", lambda: {"overdue": "1"}),
        ("bundle + overdue", lambda: {"bundle": ONE_BUNDLE, "overdue": "1"}),
        ("newest", lambda: {}),
    ]
    calls: list[tuple[str, Callable[[], Any]]] = []
    for name, make in criteria:
        calls.append(
            (f"auditor {name}", _searching(case_search.search_cases, (svc, auditor), make))
        )
        calls.append((f"clerk {name}", _searching(desk.staff_search, (svc, clerk), make)))
    return _run(calls, rounds, 99)


def _searching(
    search: Callable[[Any, Any, dict[str, Any]], Any],
    svc_user: tuple[Any, Any],
    make: Callable[[], dict[str, Any]],
) -> Callable[[], Any]:
    svc, user = svc_user
    return lambda: search(svc, user, make())


def _run(calls: list[tuple[str, Callable[[], Any]]], rounds: int, q: int) -> dict[str, Any]:
    for _label, call in calls:  # warm-up: caches, connections, plans
        call()
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        for label, call in calls:
            times[label].append(_timed(call))
    every = [t for ts in times.values() for t in ts]
    by_call = {
        label: {"p50": round(percentile(ts, 50), 1), f"p{q}": round(percentile(ts, q), 1)}
        for label, ts in times.items()
    }
    slowest = sorted(by_call.items(), key=lambda kv: -kv[1][f"p{q}"])[:5]
    return {
        f"p{q}_ms": percentile(every, q),
        "p50_ms": percentile(every, 50),
        "calls": len(every),
        "by_call": by_call,
        "slowest": dict(slowest),
    }


SIZED = (
    "cases",
    "case_events",
    "human_tasks",
    "human_task_groups",
    "certificates",
    "ratings",
    "jobs",
    "log_leaves",
    "log_nodes",
)
DERIVED = ("case_facts", "stats_daily", "stats_task_daily", "stats_monthly", "stats_task_monthly")


def measure_bytes(url: str) -> dict[str, Any]:
    """pg_total_relation_size of the record's tables over the finished cases, data (with TOAST)
    and indexes apart; the derived tables (facts, rollups) separately."""
    with _pg(url) as conn:
        finished = conn.execute(
            "SELECT count(*) FROM cases WHERE status <> 'running' AND ended_at IS NOT NULL"
        ).fetchone()[0]
        split: dict[str, dict[str, int]] = {}
        for table in (*SIZED, *DERIVED):
            total, indexes, rows = conn.execute(
                "SELECT pg_total_relation_size(%s), pg_indexes_size(%s), "
                "(SELECT reltuples::bigint FROM pg_class WHERE relname = %s)",
                (table, table, table),
            ).fetchone()
            split[table] = {"rows": max(0, rows), "data": total - indexes, "indexes": indexes}
    record = sum(v["data"] + v["indexes"] for k, v in split.items() if k in SIZED)
    derived = sum(v["data"] + v["indexes"] for k, v in split.items() if k in DERIVED)
    return {
        "bytes_per_case": record / finished if finished else None,
        "derived_bytes_per_case": derived / finished if finished else None,
        "finished_cases": finished,
        "tables": split,
    }


def measure(n: int, rounds: int, db: str, search_only: bool = False) -> dict[str, Any]:
    """The figures; `search_only`: the case search's alone (no dashboard, no byte count)."""
    from engine.services import Services

    url = _url(db)
    svc = Services(_engine(url), None)
    r: dict[str, Any] = {"stats_cases": n, "stats_database": db}
    try:
        parts: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("stats", partial(measure_stats, svc, rounds)),
            ("search", partial(measure_search, svc, rounds * 3, n)),
        ]
        if search_only:
            parts = parts[1:]
        for name, body in parts:
            try:
                found = body()
            except Exception as err:  # a part that fails leaves its figure null and says why
                r[f"{name}_error"] = f"{type(err).__name__}: {err}"[:300]
                log(f"{name} FAILED: {r[f'{name}_error']}")
                continue
            key = "stats_p95_ms" if name == "stats" else "search_p99_ms"
            q = "p95_ms" if name == "stats" else "p99_ms"
            r[key] = found[q]
            r[f"{name}_detail"] = found
        if not search_only:
            sized = measure_bytes(url)
            r["bytes_per_case"] = sized.pop("bytes_per_case")
            r["bytes_detail"] = sized
    finally:
        svc.engine.dispose()
    return r


def report(r: dict[str, Any]) -> str:
    lines = [f"stats at {r['stats_cases']:,} cases (PostgreSQL, {r['stats_database']})"]
    for key, target in (("stats_p95_ms", 300), ("search_p99_ms", 50)):
        v = r.get(key)
        verdict = "not measured" if v is None else ("met" if v < target else "NOT MET")
        lines.append(f"  {key:16} {v if v is None else round(v, 1)!s:>10}  < {target}  {verdict}")
        detail = r.get(f"{key.split('_')[0]}_detail")
        if detail:
            for label, t in detail["slowest"].items():
                lines.append(f"      slowest: {label}: {t}")
    bpc = r.get("bytes_per_case")
    lines.append(f"  bytes_per_case   {bpc if bpc is None else round(bpc)!s:>10}")
    sized = r.get("bytes_detail")
    if sized:
        lines.append(
            f"      {'table':20} {'rows':>12} {'data MB':>10} {'index MB':>10} {'B/case':>8}"
        )
        for table, v in sized["tables"].items():
            per = (v["data"] + v["indexes"]) / max(1, sized["finished_cases"])
            lines.append(
                f"      {table:20} {v['rows']:>12,} {v['data'] / 2**20:>10.1f} "
                f"{v['indexes'] / 2**20:>10.1f} {per:>8.0f}"
            )
        lines.append(
            f"      derived (facts, rollups): {sized['derived_bytes_per_case']:.0f} B/case"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stats", description=__doc__)
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="N (default 1,000,000)")
    parser.add_argument("--reload", action="store_true", help="rebuild the kept database")
    parser.add_argument("--load-only", action="store_true", help="load, do not measure")
    parser.add_argument("--rounds", type=int, default=10, help="calls of each kind (search: 3x)")
    parser.add_argument(
        "--search-only", action="store_true", help="measure the case search alone (no dashboard)"
    )
    args = parser.parse_args(argv)
    found = run(
        args.cases,
        args.reload,
        args.rounds,
        measure_too=not args.load_only,
        search_only=args.search_only,
    )
    print(report(found) if not args.load_only else "")
    print(json.dumps(found, ensure_ascii=False, default=str))
    return 0


def run(
    n: int,
    reload: bool = False,
    rounds: int = 10,
    measure_too: bool = True,
    db: str | None = None,
    search_only: bool = False,
) -> dict[str, Any]:
    """Load (or reuse) the database of n cases, then measure; the figures and how they came.
    `db`: another database (the suite's tiny run uses one of its own and drops it)."""
    db = db or database(n)
    info = None if reload else loaded(n, db)
    if info is None:
        info = load(n, db)
        log(f"loaded {n:,} cases in {info['load_s']} s: {info['rows']}")
        info["reused"] = False
    else:
        log(f"reusing {db}: {n:,} cases loaded {info['loaded_at']}")
        info["reused"] = True
    found: dict[str, Any] = {"stats_load": info}
    if measure_too:
        found.update(measure(n, rounds, db, search_only))
    return found


if __name__ == "__main__":
    sys.exit(main())
