"""A catalogue bundle walked through in Chromium, every step done in the page by the user whose
job it is: the bundle deployed, the window clerk receives the 一表申请 and accepts it (受理), each
department's clerk opens its task from the worklist and completes it, the issuance window issues
the certificates, then the applicant's progress page (receipt code, no sign-in) and each
certificate's public verify page show the result. Screenshots: test-output/screenshots/
walk-<bundle>-NN-<what>.png, numbered in the order of the walk (tests/browser/test_walk_*.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from engine.bundles.source import from_path
from engine.services import Services, accounts, publishing, queries
from engine.services.accounts import set_password
from tests.conftest import PROCESSES

from .conftest import PASSWORD, SCREENSHOTS, Pages


def fill(page: Any, data: dict[str, Any]) -> None:
    """Fill a rendered form the way a clerk would, whatever widget each field became (a list
    of free texts is a textarea, one item a line)."""
    for name, value in data.items():
        field = page.locator(f"form [name={name}]").first
        kind = field.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
        if kind == "input:checkbox" and isinstance(value, bool):
            field.set_checked(value)
        elif kind == "input:checkbox":  # several checkboxes: an array of choices
            for choice in value:
                page.check(f"input[name={name}][value='{choice}']")
        elif kind == "input:radio":
            wanted = str(value).lower() if isinstance(value, bool) else str(value)
            page.check(f"input[name={name}][value='{wanted}']")
        elif kind.startswith("select"):
            field.select_option(str(value).lower() if isinstance(value, bool) else str(value))
        elif isinstance(value, list):
            field.fill("\n".join(str(item) for item in value))
        else:
            field.fill(str(value))


class Walk:
    """One bundle's walk: its users, its case, its numbered screenshots."""

    def __init__(
        self,
        pages: Pages,
        svc: Services,
        staff: dict[str, Any],
        key: str,
        users: dict[str, list[str]],
    ) -> None:
        self.pages, self.svc, self.staff, self.key = pages, svc, staff, key
        for name, groups in users.items():
            if name not in staff:
                accounts.create_user(svc, name, "clerk", groups)
                set_password(svc, name, PASSWORD)
        publishing.deploy(svc, from_path(PROCESSES / key), "test")
        self.count = 0
        self.case_id = 0
        self.code = ""
        self.signed_in: dict[str, Any] = {}

    def page_of(self, user: str) -> Any:
        """`user`'s page, signed in once for the walk."""
        if user not in self.signed_in:
            self.signed_in[user] = self.pages.new(user)
        return self.signed_in[user]

    def shot(self, page: Any, what: str, full_page: bool = True) -> None:
        self.count += 1
        self.pages.shot(page, f"walk-{self.key}-{self.count:02d}-{what}", full_page)

    def _path(self, what: str) -> Any:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS / f"walk-{self.key}-{self.count:02d}-{what}.png"

    def start(self, application: dict[str, Any], clerk: str = "front_desk") -> Any:
        """The window clerk fills the 一表申请 and receives the case: its number and code."""
        page = self.page_of(clerk)
        self.pages.goto(page, f"/work/start/{self.key}")
        fill(page, application)
        self.shot(page, "start")
        page.click("button:has-text('收件并生成办件')")
        page.wait_for_load_state()
        self.code = page.locator("#access-code").inner_text()
        self.case_id = int(page.locator(".case-no").inner_text())
        self.shot(page, "receipt")
        return page

    def work(self, user: str, element: str, data: dict[str, Any], signer: str = "") -> Any:
        """`user` finds the case's `element` task (for a 会签/或签, the instance of `signer`: its
        group or its assignee) in the worklist, claims it, completes it."""
        tasks = [
            t
            for t in self.view()["tasks"]
            if t["element"] == element
            and (not signer or t["groups"] == [signer] or t["assignee"] == signer)
        ]
        assert len(tasks) == 1, f"{element} is not open once: {self.view()['tasks']}"
        page = self.page_of(user)
        self.pages.goto(page, "/work/")
        row = page.locator(f"tr[data-task='{tasks[0]['id']}']")
        assert row.count() == 1, (
            f"{user} does not see case {self.case_id}'s {element} in the worklist: "
            + page.locator("main").inner_text()[:800]
        )
        if self.count < 4 or element.startswith("review"):
            self.shot(page, f"{element}-worklist", full_page=False)
        if row.locator("button.claim").count():
            row.locator("button.claim").click()
            page.wait_for_load_state()
        row.locator("a.task-link").first.click()
        page.wait_for_load_state()
        assert "/work/tasks/" in page.url
        fill(page, data)
        what = f"{element}{'-' + signer if signer else ''}"
        if self.count < 5:  # the first task page whole, then the task's card (its form)
            self.shot(page, f"{what}-task")
        else:
            self.count += 1
            card = page.locator("section.task-form")
            card.screenshot(path=str(self._path(f"{what}-task")))
        page.click("button:has-text('提交办理')")
        page.wait_for_load_state()
        assert page.url == self.pages.live.url("/work/"), page.locator("main").inner_text()[:800]
        assert "已办理" in page.locator(".flash").first.inner_text()
        return page

    def view(self) -> dict[str, Any]:
        return queries.get_case(self.svc, self.staff["auditor"][0], self.case_id)

    def public_progress(self, expected: str = "办结") -> Any:
        """The applicant looks the case up with its number and receipt code, no sign-in."""
        page = self.pages.new()
        self.pages.goto(page, "/progress")
        page.fill("input[name=number]", str(self.case_id))
        page.fill("input[name=code]", self.code)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        text = page.locator("main").inner_text()
        assert expected in text, text[:800]
        self.shot(page, "public-progress")
        return page

    def verify_certificates(self, kinds: set[str]) -> dict[str, str]:
        """The case holds certificates of (at least) `kinds`; each one's public verify page, as
        its QR code opens it, shows it valid with its number and holder. Kind -> number."""
        issued = {c["kind"]: c["number"] for c in self.view()["certificates"]}
        assert kinds <= issued.keys(), issued
        page = self.pages.new()
        for kind, number in sorted(issued.items()):
            response = self.pages.goto(page, f"/verify/{quote(number, safe='')}")
            assert response.status == 200
            text = page.locator("body").inner_text()
            assert number in text and "有效" in text, text[:800]
            self.shot(page, f"verify-{kind}")
        return issued
