"""The case search (engine/services/case_search.py) at the repository's edges, SQLite and
PostgreSQL: a one- or two-character applicant text matches the name's start, a longer one any
part of it; with a received date the cases come by when received (then number), and a page
continues after the last case shown; on PostgreSQL the prepared statements' generic plans can use
the applicant indexes of migration 0021."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql

from engine.bundles.source import from_path
from engine.persistence.search_repository import CaseFilter, SearchRepository
from engine.services import Services, case_search, cases, publishing
from tests.conftest import PROCESSES
from tests.fixtures import restaurant as r
from tests.fixtures.clock import FakeClock

MONDAY = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


class Desk:
    def __init__(self, services: Services, users: dict[str, Any]) -> None:
        self.clock = FakeClock(MONDAY)
        self.svc = Services(services.engine, services.forms.root, clock=self.clock)
        publishing.deploy(self.svc, from_path(PROCESSES / "restaurant"), "test")
        self.front = users["front_desk"].user
        self.auditor = users["auditor"].user

    def start(self, name: str = "张三") -> int:
        case = cases.start_case(
            self.svc, self.front, "restaurant", {**r.APPLICATION, "applicant_name": name}
        )
        return int(case["id"])

    def search(self, **criteria: str) -> dict[str, Any]:
        return case_search.search_cases(self.svc, self.auditor, criteria)

    def found(self, **criteria: str) -> list[int]:
        return [c["id"] for c in self.search(**criteria)["cases"]]


@pytest.fixture
def desk(services: Services, users: dict[str, Any]) -> Desk:
    return Desk(services, users)


def test_a_short_applicant_text_matches_the_start_of_the_name(desk: Desk) -> None:
    wang_fang = desk.start("王芳")
    wang_fang_hua = desk.start("王芳华")
    li_wang_fang = desk.start("李王芳")
    zhang_wang_fang_hua = desk.start("张王芳华")
    desk.start("汪芳")
    # one or two characters: the names that begin with them (a surname, a whole name)
    assert desk.found(applicant="王芳") == [wang_fang_hua, wang_fang]
    assert desk.found(applicant="王") == [wang_fang_hua, wang_fang]
    assert desk.found(applicant="李") == [li_wang_fang]
    assert desk.found(applicant="芳") == []  # not at the start
    assert desk.found(applicant="芳华") == []
    # three or more: anywhere in the name
    assert desk.found(applicant="王芳华") == [zhang_wang_fang_hua, wang_fang_hua]
    assert desk.found(applicant="李王芳") == [li_wang_fang]
    # LIKE's wildcards are text in both
    assert desk.found(applicant="%") == [] and desk.found(applicant="_") == []
    assert desk.found(applicant="王%") == [] and desk.found(applicant="%芳%") == []
    # the id number still matches whole
    assert len(desk.found(applicant=r.APPLICATION["applicant_id_number"])) == 5


def test_with_a_received_date_cases_come_by_when_received_and_page_after_the_last(
    desk: Desk,
) -> None:
    desk.clock.now = MONDAY + timedelta(days=2)  # Wednesday 03-04
    wednesday = desk.start()
    desk.clock.now = MONDAY  # a later number received earlier (Monday 03-02)
    monday = desk.start()
    desk.clock.now = MONDAY + timedelta(days=1)  # three received at the same instant, Tuesday
    tuesday = [desk.start() for _ in range(3)]
    by_time = [wednesday, *reversed(tuesday), monday]
    assert desk.found() == [*reversed(tuesday), monday, wednesday]  # no date: by number
    assert desk.found(received_from="2026-03-01") == by_time
    assert desk.found(received_to="2026-03-04") == by_time
    assert desk.found(received_from="2026-03-03", received_to="2026-03-04") == by_time[:4]

    # pages of 2: through the ties of Tuesday, each case once
    seen: list[int] = []
    after = ""
    while True:
        page = desk.search(received_from="2026-03-01", limit="2", after=after)
        seen += [c["id"] for c in page["cases"]]
        if page["next"] is None:
            break
        assert page["next"] == seen[-1]
        after = str(page["next"])
    assert seen == by_time
    # a page after a case outside the range continues from its place
    assert desk.found(received_to="2026-03-03", after=str(wednesday)) == by_time[1:]
    # after no case at all: nothing
    assert desk.search(received_from="2026-03-01", after="999999")["cases"] == []


def test_overdue_with_a_received_date_pages_on_when_received(desk: Desk) -> None:
    late = []
    for day in (0, 1):
        desk.clock.now = MONDAY + timedelta(days=day)
        for _ in range(2):
            case = cases.start_case(desk.svc, desk.front, "restaurant", r.APPLICATION)
            task = next(t for t in case["tasks"] if t["element"] == "intake")
            cases.complete(desk.svc, desk.front, task["id"], r.ACCEPT)
            late.append(int(case["id"]))
    desk.clock.now = MONDAY + timedelta(days=20)
    found = desk.search(overdue="1", received_from="2026-03-01", limit="3")
    assert [c["id"] for c in found["cases"]] == [late[3], late[2], late[1]]
    rest = desk.search(overdue="1", received_from="2026-03-01", after=str(found["next"]))
    assert [c["id"] for c in rest["cases"]] == [late[0]]


def _generic_plan(services: Services, f: CaseFilter) -> str:
    """EXPLAIN of `f`'s search as a prepared statement on its generic plan, with sequential and
    plain index scans off: an index the generic plan cannot use leaves a (disabled) sequential
    scan of cases, whatever the costs on a test's few rows."""
    with services.uow() as uow:
        repo = SearchRepository(uow.conn)
        query = repo.query(f, 26)
        assert query is not None
        compiled = query.compile(
            dialect=postgresql.psycopg.dialect(), compile_kwargs={"render_postcompile": True}
        )
        names: list[str] = []

        def numbered(m: re.Match[str]) -> str:
            if m.group(1) not in names:
                names.append(m.group(1))
            return f"${names.index(m.group(1)) + 1}"

        sql = re.sub(r"%\((\w+)\)s", numbered, str(compiled)).replace("%%", "%")
        raw = uow.conn.connection.driver_connection
        assert raw is not None
        raw.execute("SET plan_cache_mode = force_generic_plan")
        raw.execute("SET enable_indexscan = off")
        raw.execute("SET enable_seqscan = off")
        raw.execute(f"PREPARE search_plan AS {sql}")
        args = ", ".join("'" + str(compiled.params[n]).replace("'", "''") + "'" for n in names)
        try:
            found = raw.execute(f"EXPLAIN EXECUTE search_plan({args})").fetchall()
        finally:
            raw.execute("DEALLOCATE search_plan")
            raw.execute("RESET plan_cache_mode")
            raw.execute("RESET enable_indexscan")
            raw.execute("RESET enable_seqscan")
        plan = "\n".join(row[0] for row in found)
    return plan


# the applicant indexes are PostgreSQL's (migration 0021): this test runs there only
@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_generic_plans_use_the_applicant_indexes(services: Services) -> None:
    fields = {"name_fields": ("applicant_name",), "id_fields": ("applicant_id_number",)}
    for text in ("王", "王芳", "王芳华", "91330102MA2H0ABC1X"):
        plan = _generic_plan(services, CaseFilter(applicant=text, **fields))
        assert "$" in plan  # generic: the text is a parameter
        assert "Bitmap Index Scan on ix_cases_applicant_name" in plan, plan
        assert "Bitmap Index Scan on ix_cases_applicant_id" in plan, plan
        assert "Seq Scan on cases" not in plan, plan
    short = _generic_plan(services, CaseFilter(applicant="王芳", **fields))
    assert "'%'::text || ($" not in short  # the start of the name, not anywhere in it
    plan = _generic_plan(services, CaseFilter(id_number="330102198001010011", **fields))
    assert "Bitmap Index Scan on ix_cases_applicant_id" in plan, plan
