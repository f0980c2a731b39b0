"""engine/domain/case_facts.py rule by rule: `derive`, `day_figures`, `percentile`, `task_figures`.

The calendar is China's (engine/calendar/seed.py). 2026: 国庆 10-01..10-07 are holidays and Sat
10-10 a 调休 working day; November has neither: Mon 11-02 .. Fri 11-06 are working days."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.calendar.seed import chinese_calendar_rules
from engine.calendar.workdays import WorkdayCalendar
from engine.domain.bundle_metadata import IntakePolicy, VisitPolicy
from engine.domain.case_facts import (
    CaseFacts,
    CaseRecord,
    FactsPolicy,
    TaskRow,
    add_figures,
    day_figures,
    derive,
    empty_figures,
    percentile,
    task_figures,
)
from engine.domain.model import CaseEvent, EventType
from engine.domain.timelimits import CaseClock

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkdayCalendar(*chinese_calendar_rules())
POLICY = FactsPolicy()


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TZ).astimezone(UTC)


def nov(day: int) -> date:
    return date(2026, 11, day)


def intake(seq: int, decision: str, day: int) -> CaseEvent:
    return CaseEvent(
        1, seq, EventType.TASK_COMPLETED, "desk", at(11, day), "t", "intake",
        {"form": {"intake_decision": decision}},
    )  # fmt: skip


def record(**given: Any) -> CaseRecord:
    base: dict[str, Any] = {
        "case_id": 1,
        "bundle_key": "b",
        "last_seq": 5,
        "status": "completed",
        "created_at": at(11, 2),
        "ended_at": at(11, 4),
        "clock": CaseClock(limit=7, statutory_limit=20, started_on=nov(2), deadline=nov(11)),
        "data": {},
        "events": [intake(2, "accept", 2)],
        "tasks": [],
        "certificates": [],
    }
    return CaseRecord(**{**base, **given})


def test_finished_timeliness_by_the_deadline_day() -> None:
    early = derive(record(), POLICY, CAL, TZ)
    assert (early.result, early.timeliness, early.handling_workdays) == ("finished", "early", 2)
    on_time = derive(record(ended_at=at(11, 11)), POLICY, CAL, TZ)
    assert (on_time.timeliness, on_time.handling_workdays) == ("on_time", 7)
    late = derive(record(ended_at=at(11, 13)), POLICY, CAL, TZ)
    assert (late.timeliness, late.handling_workdays) == ("overdue", 9)


def test_a_local_day_not_the_utc_one() -> None:
    # 01:00 Beijing on 11-12 is still 11-11 in UTC: the local day counts (overdue)
    late = derive(record(ended_at=at(11, 12, 1)), POLICY, CAL, TZ)
    assert (late.ended_on, late.timeliness) == (nov(12), "overdue")


def test_handling_excludes_pauses_and_stops_with_the_clock() -> None:
    paused = replace(record().clock, paused_workdays=1)
    assert derive(record(clock=paused), POLICY, CAL, TZ).handling_workdays == 1
    stopped = replace(record().clock, stopped_on=nov(3))
    facts = derive(record(clock=stopped, ended_at=at(11, 20)), POLICY, CAL, TZ)
    assert (facts.handling_workdays, facts.timeliness) == (1, "early")
    # across 国庆: accepted Wed 09-30, finished Mon 10-12: 10-08, 10-09, 10-10 (调休), 10-12
    autumn = CaseClock(limit=7, statutory_limit=20, started_on=date(2026, 9, 30))
    facts = derive(record(clock=autumn, ended_at=at(10, 12)), POLICY, CAL, TZ)
    assert (facts.handling_workdays, facts.timeliness) == (4, None)  # no deadline: no timeliness


def test_results_refused_withdrawn_open() -> None:
    never = derive(record(clock=CaseClock(), events=[intake(2, "refuse", 2)]), POLICY, CAL, TZ)
    assert (never.result, never.handling_workdays, never.accepted_on) == ("refused", None, None)
    assert derive(record(status="cancelled"), POLICY, CAL, TZ).result == "withdrawn"
    running = derive(record(status="running", ended_at=None), POLICY, CAL, TZ)
    assert (running.result, running.ended_on, running.timeliness) == ("open", None, None)
    # accepted, then refused at a later intake (the clock had started): still 不予受理
    later = derive(record(events=[intake(2, "accept", 2), intake(3, "refuse", 3)]), POLICY, CAL, TZ)
    assert later.result == "refused"


def test_corrections_gaps_and_commitment() -> None:
    events = [intake(2, "correct", 2), intake(3, "correct", 3), intake(4, "accept_with_gaps", 4)]
    data = {"deferred_materials": ["a", "b", "c"], "supplied_materials": ["b"]}
    facts = derive(record(events=events, data=data), POLICY, CAL, TZ)
    assert (facts.corrections, facts.gaps, facts.supplies_owed, facts.commitment) == (
        2,
        True,
        2,
        False,
    )
    assert facts.visits == 3  # the application and two 补正 at the window, no collection
    revoked = CaseEvent(1, 9, EventType.CERTIFICATES_REVOKED, "x", at(11, 9))
    promised = derive(record(events=[intake(2, "commitment", 2), revoked]), POLICY, CAL, TZ)
    assert (promised.commitment, promised.post_check_failed, promised.gaps) == (True, True, False)
    # a revocation without 告知承诺 is no failed 批后核查
    assert not derive(
        record(events=[intake(2, "accept", 2), revoked]), POLICY, CAL, TZ
    ).post_check_failed


def test_visits_online_and_collection() -> None:
    issued = CaseEvent(1, 6, EventType.CERTIFICATES_ISSUED, "x", at(11, 4))
    started = CaseEvent(1, 1, EventType.CASE_STARTED, "x", at(11, 2), data={"data": {}})
    window = record(
        events=[started, intake(2, "accept", 2), issued], data={"delivery_method": "window"}
    )
    assert derive(window, POLICY, CAL, TZ).visits == 2
    online_start = replace(started, data={"data": {"application_channel": "online"}})
    posted = record(
        events=[online_start, intake(2, "correct", 2), issued], data={"delivery_method": "post"}
    )
    facts = derive(posted, POLICY, CAL, TZ)
    assert (facts.online, facts.visits) == (True, 0)  # an online 补正 is no visit either
    policy = FactsPolicy(IntakePolicy(), VisitPolicy(channel_field="via", online_values=("web",)))
    custom = replace(started, data={"data": {"via": "web"}})
    assert derive(record(events=[custom], data={"delivery_method": "post"}), policy, CAL, TZ).online


def test_the_standing_rating_and_its_rectification() -> None:
    window = CaseEvent(
        1, 7, EventType.RATED, "desk", at(11, 5), data={"level": 4, "channel": "window"}
    )
    online = CaseEvent(
        1, 8, EventType.RATED, "applicant", at(11, 6), data={"level": 2, "channel": "online"}
    )
    facts = derive(record(events=[online, window]), POLICY, CAL, TZ)
    assert (facts.rating, facts.rated_on) == (2, nov(6))  # the applicant's own stands
    rect = TaskRow("r", "rectification", "差评整改", "rectification", "completed", ("supervisors",),
                   nov(20), at(11, 6), at(11, 23), "chief")  # fmt: skip
    answered = CaseEvent(1, 9, EventType.TASK_COMPLETED, "chief", at(11, 24),
                         data={"kind": "follow_up", "form": {"applicant_satisfied": False}})  # fmt: skip
    facts = derive(record(events=[online, answered], tasks=[rect]), POLICY, CAL, TZ)
    assert (facts.rectification, facts.follow_up) == ("late", "unsatisfied")
    on_time = replace(rect, ended_at=at(11, 20, 23))
    assert derive(record(tasks=[on_time]), POLICY, CAL, TZ).rectification == "on_time"
    still = replace(rect, status="open", ended_at=None)
    assert derive(record(tasks=[still]), POLICY, CAL, TZ).rectification == "open"
    assert nov(23) in derive(record(tasks=[rect]), POLICY, CAL, TZ).touched_days


def facts(**given: Any) -> CaseFacts:
    base = derive(record(), POLICY, CAL, TZ)
    return replace(base, **given)


def test_day_figures_count_each_case_on_its_days() -> None:
    f = facts(case_id=1)
    assert day_figures(nov(1), [f]) == empty_figures()
    received = day_figures(nov(2), [f])
    assert (received["received"], received["accepted"], received["finished"]) == (1, 1, 0)
    ended = day_figures(nov(4), [f], {"licence": 2})
    assert {k: v for k, v in ended.items() if v} == {
        "finished": 1,
        "early": 1,
        "handled": 1,
        "handling_sum": 2,
        "handling_hist": {"2": 1},
        "limits": 1,
        "promised_sum": 7,
        "statutory_sum": 20,
        "concluded": 1,
        "one_visit": 1,  # the application at the window, nothing collected
        "certificates": 2,
        "certificate_kinds": {"licence": 2},
    }
    assert day_figures(nov(4), [facts(visits=1), facts(visits=0, online=True)])["one_visit"] == 2
    refused = day_figures(nov(4), [facts(result="refused", corrections=2)])
    assert (refused["refused"], refused["finished"], refused["corrected"]) == (1, 0, 1)
    assert (refused["correction_rounds"], refused["handled"]) == (2, 0)
    bad = facts(rating=1, rated_on=nov(9), rectification="late", follow_up="satisfied")
    rated = day_figures(nov(9), [bad, facts(rating=5, rated_on=nov(9))])
    assert (rated["rated"], rated["bad"], rated["ratings"]) == (2, 1, {"1": 1, "5": 1})
    assert (rated["rectified_late"], rated["follow_up_satisfied"]) == (1, 1)
    gaps = day_figures(nov(2), [facts(gaps=True, supplies_owed=2), facts(gaps=True)])
    assert (gaps["gaps"], gaps["gaps_owed_cases"], gaps["gaps_owed_materials"]) == (2, 1, 2)


def test_add_figures_and_the_exact_percentile() -> None:
    total = add_figures(empty_figures(), day_figures(nov(4), [facts()]))
    add_figures(total, day_figures(nov(4), [facts(handling_workdays=9)]))
    assert (total["handled"], total["handling_hist"]) == (2, {"2": 1, "9": 1})
    assert percentile({}, 0.9) is None
    assert percentile({"2": 1, "9": 1}, 0.9) == 9
    assert percentile({"1": 9, "30": 1}, 0.9) == 1  # the 9th of 10 values
    assert percentile({"1": 8, "30": 2}, 0.9) == 30
    assert percentile({str(n): 1 for n in range(1, 11)}, 0.5) == 5


def test_task_figures_by_day_task_group_and_clerk() -> None:
    def task(n: int, ended: datetime | None, deadline: date | None, status: str = "completed",
             by: str = "a") -> TaskRow:  # fmt: skip
        return TaskRow(str(n), "review", "审查", "bpmn", status, ("g", "h"), deadline,
                       at(11, 2), ended, by)  # fmt: skip

    rows = task_figures(
        "b",
        [
            task(1, at(11, 4), nov(4)),  # on time, 2 working days open
            task(2, at(11, 5), nov(4)),  # overdue, 3
            task(3, at(11, 5), None, by="b"),  # no deadline
            task(4, None, nov(4), status="open"),
            task(5, at(11, 5), nov(9), status="cancelled"),
        ],
        CAL,
        TZ,
    )
    assert [
        (r.day, r.group_name, r.clerk, r.completed, r.on_time, r.overdue, r.workdays) for r in rows
    ] == [
        (nov(4), "g", "a", 1, 1, 0, 2),
        (nov(5), "g", "a", 1, 0, 1, 3),
        (nov(5), "g", "b", 1, 0, 0, 3),
    ]


def test_an_hour_limited_task_is_judged_by_its_moment_not_its_day() -> None:
    """A task due 16:00 (`time_limit: 4h`) and done 17:00 the same day is overdue; one due 16:00
    and done 15:00 is on time; the deadline day alone would call both on time."""

    def task(n: int, ended: datetime, due: datetime) -> TaskRow:
        return TaskRow(str(n), "register", "设立登记", "bpmn", "completed", ("g",), nov(4),
                       at(11, 4, 9), ended, "a", due_at=due)  # fmt: skip

    rows = task_figures(
        "b", [task(1, at(11, 4, 17), at(11, 4, 16)), task(2, at(11, 4, 15), at(11, 4, 16))], CAL, TZ
    )
    assert [(r.completed, r.on_time, r.overdue) for r in rows] == [(2, 1, 1)]
