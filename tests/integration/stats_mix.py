"""A known mix of restaurant cases over a few November 2026 days, built through the real services
on a fake clock, with the dashboard's figures written out by hand (tests/integration/
test_stats_refresh.py checks every one).

The calendar (China 2026, seeded as `init-db` does; checked with `lianban calendar add` and
`lianban calendar count`): November 2026 has no holiday and no 调休. Sun 11-01; the working days
are Mon 11-02 .. Fri 11-06, Mon 11-09 .. Fri 11-13, Mon 11-16 .. Fri 11-20, Mon 11-23 .. Fri 11-27,
Mon 11-30. `calendar.add(d, n)` is the n-th working day after d; `count(a, b)` the working days in
(a, b].

The restaurant's 承诺 limit is 7 working days (the longest of its items: 营业执照 3, 食品经营许可证
7), 法定 20; the clock starts at 受理 (`acceptance_gateway`). Accepted on Mon 11-02 the 承诺
deadline is add(11-02, 7) = Wed 11-11. A bad rating opens 整改 due in 10 working days.

Every moment is 10:00 Beijing time unless said (02:00 UTC: the same local day either way).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.domain.case_facts import empty_figures
from engine.services import Services, accounts, cases, follow_ups, queries, withdrawal
from tests.conftest import FORMS
from tests.fixtures.clock import FakeClock
from tests.fixtures.restaurant import (
    ACCEPT,
    ACCEPT_WITH_GAPS,
    APPLICATION,
    CLERK_OF,
    COMMITMENT,
    COMMITMENT_APPROVED,
    CORRECT,
    CORRECTED,
    FOOD_OK,
    ISSUANCE,
    LICENCE_OK,
    POST_CHECK_FAIL,
    REFUSE,
    REVOCATION,
    SUPPLIED,
)

BEIJING = ZoneInfo("Asia/Shanghai")
KEY = "restaurant"


def local(day: int, hour: int = 10) -> datetime:
    """Beijing time on a November 2026 day, as the UTC instant the fake clock holds."""
    return datetime(2026, 11, day, hour, tzinfo=BEIJING).astimezone(UTC)


def nov(day: int) -> date:
    return date(2026, 11, day)


class Mix:
    def __init__(self, services: Services, users: dict[str, Any], clock: FakeClock) -> None:
        self.svc = Services(services.engine, FORMS, clock=clock)
        self.users = users
        self.clock = clock
        self.issued = 0
        self.supervisor, _ = accounts.create_user(self.svc, "chief", "clerk", ["supervisors"])

    def at(self, day: int, hour: int = 10) -> None:
        self.clock.now = local(day, hour)

    def start(self, day: int, **extra: Any) -> int:
        self.at(day, 9)
        desk = self.users["front_desk"].user
        return int(cases.start_case(self.svc, desk, KEY, {**APPLICATION, **extra})["id"])

    def task(self, case_id: int, element: str) -> dict[str, Any]:
        view = queries.get_case(self.svc, self.users["auditor"].user, case_id)
        return next(t for t in view["tasks"] if t["element"] == element and t["status"] == "open")

    def step(self, case_id: int, day: int, element: str, data: dict[str, Any]) -> None:
        self.at(day)
        if element == "joint_issuance":  # each case its own certificate numbers
            self.issued += 1
            data = {
                **data,
                "licence_number": f"91330102MA2H0ABC{self.issued:02d}",
                "permit_number": f"JY133010200000{self.issued:02d}",
            }
        user = self.users[CLERK_OF[element]].user
        cases.complete(self.svc, user, self.task(case_id, element)["id"], data)

    def engine_task(self, case_id: int, day: int, kind: str, data: dict[str, Any]) -> None:
        self.at(day, 11)
        cases.complete(self.svc, self.supervisor, self.task(case_id, kind)["id"], data)

    def granted(self, case_id: int, review_day: int, issue_day: int, **issuance: Any) -> None:
        self.step(case_id, review_day, "review_licence", LICENCE_OK)
        self.step(case_id, review_day, "review_food", FOOD_OK)
        self.step(case_id, issue_day, "joint_issuance", {**ISSUANCE, **issuance})


def build_mix(services: Services, users: dict[str, Any], clock: FakeClock) -> dict[str, Any]:
    """Build the mix (the restaurant bundle must be deployed); returns the case ids by role, the
    expected facts of each case (CaseFacts fields but case_id, bundle_key and last_seq) and the
    expected stats_daily figures of each day."""
    m = Mix(services, users, clock)
    desk = users["front_desk"].user
    ids: dict[str, int] = {}

    # early: accepted Mon 11-02, deadline Wed 11-11, 办结 Wed 11-04: count(11-02, 11-04) = 2
    ids["early"] = c = m.start(2)
    m.step(c, 2, "intake", ACCEPT)
    m.granted(c, 3, 4)
    # on time: the same, 办结 on the deadline's day: count(11-02, 11-11) = 7
    ids["on_time"] = c = m.start(2)
    m.step(c, 2, "intake", ACCEPT)
    m.granted(c, 5, 11)
    # overdue: 办结 Fri 11-13, two days late: count(11-02, 11-13) = 9
    ids["overdue"] = c = m.start(2)
    m.step(c, 2, "intake", ACCEPT)
    m.granted(c, 9, 13)
    # 补正 once: received Tue 11-03, 补正 notice 11-03, corrected and accepted Wed 11-04
    # (deadline add(11-04, 7) = Fri 11-13), 办结 Fri 11-06: count(11-04, 11-06) = 2
    ids["corrected_once"] = c = m.start(3)
    m.step(c, 3, "intake", CORRECT)
    m.step(c, 4, "correction", CORRECTED)
    m.step(c, 4, "intake", ACCEPT)
    m.granted(c, 5, 6)
    # 补正 twice: received 11-03; notices 11-03 and 11-05; accepted Mon 11-09 (deadline
    # add(11-09, 7) = Wed 11-18); 办结 Tue 11-10: count(11-09, 11-10) = 1
    ids["corrected_twice"] = c = m.start(3)
    m.step(c, 3, "intake", CORRECT)
    m.step(c, 4, "correction", CORRECTED)
    m.step(c, 5, "intake", CORRECT)
    m.step(c, 6, "correction", CORRECTED)
    m.step(c, 9, "intake", ACCEPT)
    m.granted(c, 10, 10)
    # 不予受理 Tue 11-03, the day it came
    ids["refused"] = c = m.start(3)
    m.step(c, 3, "intake", REFUSE)
    # 撤回: accepted 11-03, withdrawn Thu 11-05
    ids["withdrawn"] = c = m.start(3)
    m.step(c, 3, "intake", ACCEPT)
    m.at(5)
    withdrawal.withdraw(m.svc, desk, c, "申请人主动撤回")
    # 容缺受理 Wed 11-04, two materials owed, both reviews granted: still open (the issuance
    # waits for the materials)
    ids["gaps_owed"] = c = m.start(4)
    m.step(c, 4, "intake", ACCEPT_WITH_GAPS)
    m.step(c, 5, "review_licence", LICENCE_OK)
    m.step(c, 5, "review_food", FOOD_OK)
    # 容缺受理 11-04, supplied Thu 11-05, 办结 Fri 11-06: count(11-04, 11-06) = 2 less the one
    # working day the clock stood while the materials were owed (11-04 to 11-05): 1
    ids["gaps_supplied"] = c = m.start(4)
    m.step(c, 4, "intake", ACCEPT_WITH_GAPS)
    m.step(c, 5, "supply_materials", SUPPLIED)
    m.granted(c, 5, 6)
    # 告知承诺 Thu 11-05: approved and issued the same day, 批后核查 fails Mon 11-09,
    # revoked (撤销许可) Tue 11-10, when the case ends
    ids["commitment_failed"] = c = m.start(5)
    m.step(c, 5, "intake", COMMITMENT)
    m.step(c, 5, "commitment_approval", COMMITMENT_APPROVED)
    m.step(c, 5, "joint_issuance", ISSUANCE)
    m.step(c, 9, "post_check", POST_CHECK_FAIL)
    m.step(c, 10, "revocation", REVOCATION)
    # 网上申报 Thu 11-05, accepted the same day, 办结 Mon 11-09 with the certificates posted:
    # no visit at all (全程网办); count(11-05, 11-09) = 2
    ids["online"] = c = m.start(5, application_channel="online")
    m.step(c, 5, "intake", ACCEPT)
    m.granted(c, 6, 9, delivery_method="post", mailing_address="杭州市上城区解放路 1 号")

    # 好差评
    m.at(5, 15)  # early: 5 by the applicant online, Thu 11-05
    follow_ups.rate(m.svc, ids["early"], 5, "很快", user=None, code_checked=True)
    m.at(11, 15)  # on time: 4 at the window, Wed 11-11
    follow_ups.rate(m.svc, ids["on_time"], 4, "", user=desk)
    # overdue: 2 on Fri 11-13; 整改 due add(11-13, 10) = Fri 11-27, done Mon 11-16 (on time);
    # 回访 Tue 11-17: satisfied
    m.at(13, 15)
    follow_ups.rate(m.svc, ids["overdue"], 2, "太慢", user=None, code_checked=True)
    m.engine_task(ids["overdue"], 16, "rectification", {"measures": "增加窗口", "result": "已整改"})
    m.engine_task(ids["overdue"], 17, "follow_up", {"applicant_satisfied": True})
    # 补正 once: 1 on Fri 11-06; 整改 due add(11-06, 10) = Fri 11-20, done Mon 11-23 (late);
    # its 回访 not yet answered
    m.at(6, 15)
    follow_ups.rate(m.svc, ids["corrected_once"], 1, "材料要求反复", user=desk)
    m.engine_task(
        ids["corrected_once"], 23, "rectification", {"measures": "一次性告知", "result": "已整改"}
    )

    return {"ids": ids, "facts": expected_facts(), "daily": expected_daily()}


def _facts(**given: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "accepted_on": None,
        "ended_on": None,
        "result": "finished",
        "timeliness": None,
        "handling_workdays": None,
        "promised_workdays": 7,
        "statutory_workdays": 20,
        "corrections": 0,
        "gaps": False,
        "supplies_owed": 0,
        "commitment": False,
        "post_check_failed": False,
        "certified": True,  # every finished case of the mix got both licences
        "online": False,
        "visits": 2,  # the application at the window and the collection there
        "rating": None,
        "rated_on": None,
        "rectification": None,
        "follow_up": None,
    }
    return {**base, **given}


def expected_facts() -> dict[str, dict[str, Any]]:
    """Each case's facts by role, as worked out in the comments of `build_mix`."""
    return {
        "early": _facts(
            received_on=nov(2),
            accepted_on=nov(2),
            ended_on=nov(4),
            timeliness="early",
            handling_workdays=2,
            rating=5,
            rated_on=nov(5),
            touched_days=(nov(2), nov(3), nov(4)),
        ),
        "on_time": _facts(
            received_on=nov(2),
            accepted_on=nov(2),
            ended_on=nov(11),
            timeliness="on_time",
            handling_workdays=7,
            rating=4,
            rated_on=nov(11),
            touched_days=(nov(2), nov(5), nov(11)),
        ),
        "overdue": _facts(
            received_on=nov(2),
            accepted_on=nov(2),
            ended_on=nov(13),
            timeliness="overdue",
            handling_workdays=9,
            rating=2,
            rated_on=nov(13),
            rectification="on_time",
            follow_up="satisfied",
            touched_days=(nov(2), nov(9), nov(13), nov(16), nov(17)),
        ),
        "corrected_once": _facts(
            received_on=nov(3),
            accepted_on=nov(4),
            ended_on=nov(6),
            timeliness="early",
            handling_workdays=2,
            corrections=1,
            visits=3,
            rating=1,
            rated_on=nov(6),
            rectification="late",
            touched_days=(nov(3), nov(4), nov(5), nov(6), nov(23)),
        ),
        "corrected_twice": _facts(
            received_on=nov(3),
            accepted_on=nov(9),
            ended_on=nov(10),
            timeliness="early",
            handling_workdays=1,
            corrections=2,
            visits=4,
            touched_days=(nov(3), nov(4), nov(5), nov(6), nov(9), nov(10)),
        ),
        "refused": _facts(
            certified=False,
            received_on=nov(3),
            ended_on=nov(3),
            result="refused",
            promised_workdays=None,
            statutory_workdays=None,
            visits=1,
            touched_days=(nov(3),),
        ),
        "withdrawn": _facts(
            certified=False,
            received_on=nov(3),
            accepted_on=nov(3),
            ended_on=nov(5),
            result="withdrawn",
            visits=1,
            touched_days=(nov(3), nov(5)),  # its open tasks were cancelled (ended) on 11-05
        ),
        "gaps_owed": _facts(
            certified=False,
            received_on=nov(4),
            accepted_on=nov(4),
            result="open",
            gaps=True,
            supplies_owed=2,
            visits=1,
            touched_days=(nov(4), nov(5)),
        ),
        "gaps_supplied": _facts(
            received_on=nov(4),
            accepted_on=nov(4),
            ended_on=nov(6),
            timeliness="early",
            handling_workdays=1,
            gaps=True,
            touched_days=(nov(4), nov(5), nov(6)),
        ),
        "commitment_failed": _facts(
            received_on=nov(5),
            accepted_on=nov(5),
            ended_on=nov(10),
            timeliness="early",
            handling_workdays=0,
            commitment=True,
            post_check_failed=True,
            touched_days=(nov(5), nov(9), nov(10)),
        ),
        "online": _facts(
            received_on=nov(5),
            accepted_on=nov(5),
            ended_on=nov(9),
            timeliness="early",
            handling_workdays=2,
            online=True,
            visits=0,
            touched_days=(nov(5), nov(6), nov(9)),
        ),
    }


def expected_daily() -> dict[date, dict[str, Any]]:
    """The stats_daily figures of each day (the restaurant bundle; every other key 0 or {})."""
    certs = {"business_licence": 1, "food_permit": 1}

    def day(**given: Any) -> dict[str, Any]:
        return {**empty_figures(), **given}

    return {
        nov(2): day(received=3, accepted=3),
        nov(3): day(received=4, accepted=1, refused=1, concluded=1),
        nov(4): day(
            received=2,
            accepted=3,
            gaps=2,
            gaps_owed_cases=1,
            gaps_owed_materials=2,
            finished=1,
            certified=1,
            early=1,
            handled=1,
            handling_sum=2,
            handling_hist={"2": 1},
            limits=1,
            promised_sum=7,
            statutory_sum=20,
            concluded=1,
            certificates=2,
            certificate_kinds=certs,
        ),
        nov(5): day(
            received=2,
            accepted=2,
            commitment=1,
            withdrawn=1,
            concluded=1,
            rated=1,
            ratings={"5": 1},
            certificates=2,
            certificate_kinds=certs,
        ),
        nov(6): day(
            finished=2,
            certified=2,
            early=2,
            handled=2,
            handling_sum=3,
            handling_hist={"1": 1, "2": 1},
            limits=2,
            promised_sum=14,
            statutory_sum=40,
            concluded=2,
            corrected=1,
            correction_rounds=1,
            rated=1,
            ratings={"1": 1},
            bad=1,
            rectified_late=1,
            certificates=4,
            certificate_kinds={"business_licence": 2, "food_permit": 2},
        ),
        nov(9): day(
            accepted=1,
            finished=1,
            certified=1,
            early=1,
            handled=1,
            handling_sum=2,
            handling_hist={"2": 1},
            limits=1,
            promised_sum=7,
            statutory_sum=20,
            concluded=1,
            one_visit=1,
            online=1,
            online_full=1,
            certificates=2,
            certificate_kinds=certs,
        ),
        nov(10): day(
            finished=2,
            certified=2,
            early=2,
            handled=2,
            handling_sum=1,
            handling_hist={"0": 1, "1": 1},
            limits=2,
            promised_sum=14,
            statutory_sum=40,
            concluded=2,
            corrected=1,
            correction_rounds=2,
            post_check_failed=1,
            certificates=2,
            certificate_kinds=certs,
        ),
        nov(11): day(
            finished=1,
            certified=1,
            on_time=1,
            handled=1,
            handling_sum=7,
            handling_hist={"7": 1},
            limits=1,
            promised_sum=7,
            statutory_sum=20,
            concluded=1,
            rated=1,
            ratings={"4": 1},
            certificates=2,
            certificate_kinds=certs,
        ),
        nov(13): day(
            finished=1,
            certified=1,
            overdue=1,
            handled=1,
            handling_sum=9,
            handling_hist={"9": 1},
            limits=1,
            promised_sum=7,
            statutory_sum=20,
            concluded=1,
            rated=1,
            ratings={"2": 1},
            bad=1,
            rectified_on_time=1,
            follow_up_satisfied=1,
            certificates=2,
            certificate_kinds=certs,
        ),
    }
