"""The `lianban` command: init-db, deploy, user create, demo-users, worker, serve."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

import click

from engine import config
from engine.bundles.problems import BundleInvalid
from engine.bundles.source import from_path
from engine.domain import signed_note
from engine.domain.passwords import DEMO_PASSWORD
from engine.domain.suspension import SUSPENSION_KINDS, kind_label
from engine.domain.users import Role, User
from engine.errors import Conflict, Invalid, ServiceError
from engine.persistence.db import make_engine
from engine.persistence.schema import upgrade
from engine.services import (
    Services,
    accounts,
    calendar,
    incidents,
    publishing,
    recovery,
    stats_refresh,
    suspension,
    tlog,
    verifications,
    worker,
)

DEMO_USERS = [
    ("designer", "designer", []),
    ("front_desk", "clerk", ["front_desk"]),
    ("market_reviewer", "clerk", ["market_regulation"]),
    ("food_reviewer", "clerk", ["food_safety"]),
    ("food_reviewer_b", "clerk", ["food_safety"]),
    ("fire_officer", "clerk", ["fire_safety"]),
    ("health_officer", "clerk", ["health"]),
    ("inspector", "clerk", ["inspection"]),
    ("tobacco_officer", "clerk", ["tobacco"]),  # 烟草专卖零售许可 (convenience_store)
    ("drug_reviewer", "clerk", ["drug_regulation"]),  # 药品经营许可审查 (pharmacy)
    ("drug_inspector_a", "clerk", ["drug_regulation"]),  # 现场检查或签 (pharmacy)
    ("drug_inspector_b", "clerk", ["drug_regulation"]),  # 现场检查或签 (pharmacy)
    ("hospital_clerk", "clerk", ["hospital"]),  # 出生医学证明 (newborn)
    ("police_registrar", "clerk", ["public_security"]),  # 出生登记 (newborn)
    ("security_officer", "clerk", ["public_security"]),  # 特种行业许可 (hotel)
    ("insurance_clerk", "clerk", ["medical_insurance"]),  # 医保参保 (newborn)
    ("social_card_clerk", "clerk", ["human_resources"]),  # 社会保障卡 (newborn)
    ("vaccination_clerk", "clerk", ["vaccination"]),  # 预防接种证 (newborn)
    ("tax_officer", "clerk", ["tax"]),  # 清税 (company_deregistration), 新办纳税人 (company_setup)
    ("housing_fund_clerk", "clerk", ["housing_fund"]),  # 公积金缴存注销 / 缴存登记 (company_*)
    ("seal_officer", "clerk", ["public_security"]),  # 公章刻制备案 (company_setup)
    ("bank_clerk", "clerk", ["bank"]),  # 银行开户预约 (company_setup)
    ("customs_officer", "clerk", ["customs"]),  # 报关单位备案注销 (company_deregistration)
    ("commerce_officer", "clerk", ["commerce"]),  # 外贸经营者备案注销 (company_deregistration)
    ("agent_qiaotou", "clerk", ["village_qiaotou"]),  # 村(社区)代办点 (disability_allowance)
    ("agent_hexi", "clerk", ["village_hexi"]),  # 村(社区)代办点 (disability_allowance)
    ("agent_shimen", "clerk", ["village_shimen"]),  # 村(社区)代办点 (disability_allowance)
    ("agent_xiaoxi", "clerk", ["village_xiaoxi"]),  # 村(社区)代办点 (disability_allowance)
    ("reviewer_chengguan", "clerk", ["town_chengguan"]),  # 乡镇(街道)初审 (disability_allowance)
    ("reviewer_shimen", "clerk", ["town_shimen"]),  # 乡镇(街道)初审 (disability_allowance)
    ("federation_officer", "clerk", ["county_disability_federation"]),  # 县残联审核
    ("civil_officer", "clerk", ["county_civil_affairs"]),  # 县民政局审定、发放
    ("issuer", "clerk", ["issuance"]),
    ("supervisor", "clerk", ["supervisors"]),
    ("office_head", "clerk", ["office_heads"]),  # 延期审批 (Art. 42)
    ("auditor", "auditor", []),
    ("admin", "admin", []),
]


def _services() -> Services:
    return Services(make_engine(config.database_url()), config.forms_dir())


class _Commands(click.Group):
    """Service errors end a command with their plain message and exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ServiceError as err:
            click.echo(f"错误: {err.message}", err=True)
            for item in err.details.get("errors", []):
                click.echo(f"  - {item.get('message')}", err=True)
            ctx.exit(1)


@click.group(cls=_Commands)
def main() -> None:
    """联办 lianban: 证照联办 workflow engine."""


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema and seed the working-day calendar (idempotent)."""
    url = config.database_url()
    engine = make_engine(url)
    upgrade(engine)
    added = calendar.seed(Services(engine))
    click.echo(f"数据库已就绪: {engine.url.render_as_string(hide_password=True)}")
    if added:
        click.echo(f"工作日历已载入 {added[0]}–{added[-1]} 年")


def _bundle_paths(path: Path) -> list[Path]:
    """A bundle directory is deployed as one; a folder of bundles (like processes/) as each."""
    if not path.is_dir():
        return [path]
    if (path / "bundle.json").exists() or any(path.glob("*.bpmn")):
        return [path]
    found = [p for p in sorted(path.iterdir()) if p.is_dir() or p.suffix in (".bpmn", ".zip")]
    return [q for p in found for q in _bundle_paths(p)]


def _is_library(path: Path) -> bool:
    """A bundle directory whose bundle.json says `"library": true` (a 公用子流程库)."""
    meta = path / "bundle.json"
    try:
        return path.is_dir() and json.loads(meta.read_text("utf-8")).get("library") is True
    except (OSError, ValueError, AttributeError):
        return False


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Store a new version even when nothing changed.")
@click.option(
    "--replace",
    is_flag=True,
    help="Confirm a new version that drops the latest one's bundle.json, forms or certificates.",
)
@click.option(
    "--draft",
    is_flag=True,
    help="Store drafts (not startable until a designer publishes them) instead of publishing.",
)
def deploy(paths: tuple[Path, ...], force: bool, replace: bool, draft: bool) -> None:
    """Deploy bundle directories, .bpmn or .zip files (a folder of bundles deploys each):
    published at once, or with --draft stored as drafts."""
    svc = _services()
    failed = False
    found = [q for p in paths for q in _bundle_paths(p)]
    # libraries first: the bundles calling their processes are resolved against them
    for path in sorted(found, key=lambda q: not _is_library(q)):
        try:
            result = publishing.deploy(
                svc,
                from_path(path),
                "cli",
                skip_unchanged=not force,
                replace=replace,
                publish=not draft,
            )
        except (BundleInvalid, Invalid, Conflict) as err:
            failed = True
            problems = err.problems if isinstance(err, BundleInvalid) else err.details["errors"]
            headline = "未部署, 需要确认 (--replace)" if isinstance(err, Conflict) else "未通过检查"
            click.echo(f"{path}: {headline}, 没有保存任何内容", err=True)
            if isinstance(err, Conflict):
                click.echo(f"  {err.message}", err=True)
            for p in problems:
                item = p if isinstance(p, dict) else p.to_dict()
                where = ", ".join(
                    f"{k} {item[k]}" for k in ("file", "element", "line") if item.get(k) is not None
                )
                click.echo(f"  - {item['message']}" + (f" ({where})" if where else ""), err=True)
            continue
        state = "未变化" if result["unchanged"] else ("已存为草稿" if draft else "已部署")
        click.echo(f"{path}: {state} {result['key']} 第 {result['version']} 版 ({result['name']})")
        for w in result.get("warnings", []):
            where = ", ".join(f"{k} {w[k]}" for k in ("file", "element", "line") if w.get(k))
            click.echo(f"  提醒: {w['message']}" + (f" ({where})" if where else ""))
    if failed:
        sys.exit(1)


@main.group()
def user() -> None:
    """Manage users."""


@user.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["designer", "clerk", "auditor", "admin"]))
@click.option("--group", "groups", multiple=True, help="A group the user works for (repeatable).")
@click.option("--display-name", help="The name printed documents sign with (e.g. 张敏).")
@click.option("--department", help="The department printed after it (e.g. 综合窗口).")
def user_create(
    name: str,
    role: str,
    groups: tuple[str, ...],
    display_name: str | None,
    department: str | None,
) -> None:
    """Create a user; the API token is printed alone on the last line."""
    try:
        created, token = accounts.create_user(
            _services(), name, role, list(groups), display_name=display_name, department=department
        )
    except (Invalid, Conflict) as err:
        click.echo(f"错误: {err.message}", err=True)
        sys.exit(1)
    click.echo(
        f"已创建用户 {created.name} (角色 {created.role}, 组 {', '.join(sorted(created.groups)) or '-'})"
    )
    # On stderr: the token stays alone on the last line of stdout, for scripts.
    click.echo(
        f"尚未设置网页登录密码: 用 lianban user password {created.name} 设置 (常见、过于简单的密码"
        f"会被拒绝)。演示密码 {DEMO_PASSWORD} 只属于 lianban demo-users 创建的演示用户, "
        "不能用于正式用户。",
        err=True,
    )
    click.echo(token)


@user.command("token")
@click.argument("name")
def user_token(name: str) -> None:
    """Issue NAME a new API token (printed alone on the last line); the old one stops working."""
    click.echo(accounts.reissue_token(_services(), name))


@user.command("groups")
@click.argument("name")
@click.option("--group", "groups", multiple=True, help="A group the user works for (repeatable).")
def user_groups(name: str, groups: tuple[str, ...]) -> None:
    """Set the groups NAME works for (none given: no group)."""
    accounts.set_groups(_services(), name, list(groups))
    click.echo(f"{name} 的办理组: {', '.join(groups) or '-'}")


@user.command("profile")
@click.argument("name")
@click.option("--display-name", help="The name printed documents sign with ('' clears it).")
@click.option("--department", help="The department printed after it ('' clears it).")
def user_profile(name: str, display_name: str | None, department: str | None) -> None:
    """Set the display name and department NAME's printed documents sign with (an option not
    given stays as it is)."""
    found = accounts.edit_user(_services(), name, display_name=display_name, department=department)
    click.echo(f"{name} 在文书上署名: {found.signature}")


@user.command("password")
@click.argument("name")
@click.password_option(help="The new password (asked for when not given).")
def user_password(name: str, password: str) -> None:
    """Set the password a user signs in to the web pages with; it signs them out everywhere.
    Obvious passwords are refused (repeats, sequences, the name, common ones, the demo one)."""
    try:
        accounts.set_password(_services(), name, password)
    except ServiceError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"已为 {name} 设置登录密码")


@user.command("unblock")
@click.argument("name")
def user_unblock(name: str) -> None:
    """Let NAME try to sign in again at once (clears the account's count of wrong passwords)."""
    had = accounts.unblock(_services(), name)
    click.echo(f"{name} {'的登录限制已解除' if had else '没有登录限制'}")


@user.command("list")
def user_list() -> None:
    """List the users with their roles and groups."""
    for found in accounts.list_users(_services()):
        click.echo(f"{found.name:20} {found.role:9} {','.join(sorted(found.groups)) or '-'}")


@main.command("test-runs")
@click.argument("key")
@click.option("--version", "number", type=int, help="The version to run on (default: the latest).")
def test_runs_command(key: str, number: int | None) -> None:
    """Re-run a bundle's saved test runs (its regression tests); exit 1 when one fails."""
    from engine.services import saved_test_runs

    result = saved_test_runs.rerun(_services(), "cli", key, {"version": number})
    for run in result["runs"]:
        mark = "✓" if run["passed"] else "✗"
        line = f"{mark} {run['name']}"
        if run["difference"]:
            line += f": {run['difference']['message']}"
        click.echo(line)
    passed = result["total"] - result["failed"]
    click.echo(f"回归测试 {result['total']} 个: 通过 {passed} 个, 失败 {result['failed']} 个")
    if not result["passed"]:
        sys.exit(1)


@main.command("demo-users")
def demo_users() -> None:
    """Create the demo users (or re-issue their tokens); each signs in with the demo password
    `lianban-demo`, which only this command sets: for a demo database, never a real one."""
    svc = _services()
    for name, role, groups in DEMO_USERS:
        try:
            _, token = accounts.create_user(svc, name, role, groups)
        except Conflict:
            token = accounts.reissue_token(svc, name)
        accounts.set_demo_password(svc, name)
        click.echo(f"{name:16} {role:9} {','.join(groups) or '-':18} {token}")
    # On stderr: the lines above stay one user each, for scripts reading the tokens.
    click.echo(f"网页登录: 以上任一用户名, 密码 {DEMO_PASSWORD}", err=True)
    click.echo(
        "注意: 演示密码人人皆知, 只用于演示数据库; 正式环境请勿运行 demo-users, "
        "请用 lianban user create 和 lianban user password 创建用户并设置各自的密码。",
        err=True,
    )


@main.command("worker")
@click.option("--once", is_flag=True, help="Run the jobs due now, then exit.")
@click.option("--poll", default=0.5, show_default=True, help="Longest sleep between checks (s).")
def run_worker(once: bool, poll: float) -> None:
    """Run timers and scheduled jobs as they fall due (several workers may run at once)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)
    svc = _services()
    if once:
        click.echo(f"已执行 {worker.run_due(svc)} 个到期作业")
        worker.log_round(svc)  # and the transparency log's round (issue 20)
        worker.stats_round(svc)  # and the dashboard's rollups (issue 21)
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo("作业进程已启动 (Ctrl-C 停止)")
    worker.work(svc, stop, poll)


@main.group("incidents", invoke_without_command=True)
@click.pass_context
def incidents_group(ctx: click.Context) -> None:
    """List the cases stopped as incidents (出错), with why; retry, migrate, resume or cancel one."""
    if ctx.invoked_subcommand is not None:
        return
    found = incidents.list_incidents(_services(), "cli")
    for item in found:
        where = f" ({item['element']})" if item["element"] else ""
        click.echo(
            f"{item['case_id']:>8}  {item['bundle']} 第 {item['version']} 版  {item['since']}"
            f"{where}  {item['reason'] or ''}"
        )
    click.echo(f"共 {len(found)} 个出错的办件", err=True)


@incidents_group.command("resume")
@click.argument("case_id", type=int)
def incidents_resume(case_id: int) -> None:
    """Run CASE_ID again: status running, its waiting timers scheduled anew."""
    result = incidents.resume(_services(), "cli", case_id)
    click.echo(f"办件 {case_id} 已恢复办理 (重新安排 {result['timers']} 个定时器)")


def _pairs(given: tuple[str, ...], what: str) -> dict[str, str]:
    pairs = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise click.BadParameter(f"{item!r} 应写成 名称=值", param_hint=what)
        pairs[key.strip()] = value.strip()
    return pairs


def _typed(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


@incidents_group.command("retry")
@click.argument("case_id", type=int)
@click.option(
    "--set",
    "fields",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Correct a field of the case's data first (VALUE read as JSON, else text); repeatable.",
)
def incidents_retry(case_id: int, fields: tuple[str, ...]) -> None:
    """Carry out CASE_ID's failed step again (the clerk's recorded submission)."""
    svc = _services()
    corrections = {k: _typed(v) for k, v in _pairs(fields, "--set").items()}
    if corrections:
        recovery.correct_data(svc, "cli", case_id, corrections)
    case = recovery.retry(svc, "cli", case_id)
    open_tasks = ", ".join(t["element"] for t in case["tasks"]) or "无"
    click.echo(f"办件 {case_id} 重试成功, 状态 {case['status']}; 待办: {open_tasks}")


@incidents_group.command("migrate")
@click.argument("case_id", type=int)
@click.argument("version", type=int)
@click.option("--map", "mapping", multiple=True, metavar="OLD=NEW", help="Map an element.")
@click.option("--check", is_flag=True, help="Only check; change nothing.")
def incidents_migrate(case_id: int, version: int, mapping: tuple[str, ...], check: bool) -> None:
    """Move CASE_ID to VERSION of its bundle (checked first)."""
    svc = _services()
    pairs = _pairs(mapping, "--map")
    plan = recovery.check_migration(svc, "cli", case_id, version, pairs)
    for active in plan["active"]:
        click.echo(f"  当前所在: {active['element']} {active['name']} ({active['kind_label']})")
    for problem in plan["problems"]:
        click.echo(f"  问题: {problem['message']}", err=True)
    if check or not plan["ok"]:
        click.echo("检查通过, 可以迁移" if plan["ok"] else "不能迁移")
        if not plan["ok"]:
            raise SystemExit(1)
        return
    recovery.migrate(svc, "cli", case_id, version, pairs)
    click.echo(f"办件 {case_id} 已迁移到第 {version} 版")


@incidents_group.command("cancel")
@click.argument("case_id", type=int)
@click.option("--reason", required=True, help="Why the case is withdrawn (recorded).")
def incidents_cancel(case_id: int, reason: str) -> None:
    """Cancel (撤销) CASE_ID, stopped as an incident."""
    incidents.cancel(_services(), "cli", case_id, reason)
    click.echo(f"办件 {case_id} 已撤销")


# The command line acts as an administrator named `cli` in the case's record.
CLI_ADMIN = User(id=0, name="cli", role=Role.ADMIN)


@main.group("case")
def case_group() -> None:
    """One case: 挂起 (suspend) and 恢复 (resume), as an administrator (recorded as `cli`)."""


@case_group.command("suspend")
@click.argument("case_id", type=int)
@click.option("--reason", required=True, help="Why (recorded; not shown to the applicant).")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(sorted(SUSPENSION_KINDS)),
    help="What the case waits for; the bundle says which kinds stop the time limit.",
)
def case_suspend(case_id: int, reason: str, kind: str) -> None:
    """Suspend CASE_ID: nothing can be worked and its timers wait until it is resumed."""
    view = suspension.suspend(_services(), CLI_ADMIN, case_id, reason, kind)
    held = view.get("suspension") or {}
    clock = {"stopped": ", 暂停计时", "running": ", 继续计时"}.get(str(held.get("clock")), "")
    click.echo(f"办件 {case_id} 已挂起 ({kind_label(kind)}{clock})")


@case_group.command("resume")
@click.argument("case_id", type=int)
@click.option("--note", default="", help="A note for the record.")
def case_resume(case_id: int, note: str) -> None:
    """Resume CASE_ID after a suspension."""
    suspension.resume(_services(), CLI_ADMIN, case_id, note or None)
    click.echo(f"办件 {case_id} 已恢复办理")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Server processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app and the API (gunicorn, several worker processes)."""
    from .server import run

    run(host, port, workers)


@main.group("calendar")
def calendar_group() -> None:
    """The working-day calendar (工作日历)."""


def _provisional_note(provisional: bool) -> None:
    if provisional:
        click.echo(
            "注意: 计算涉及日历尚未发布的年份, 结果为临时结果 (已计入放假办法规定的节日, 调休未定)",
            err=True,
        )


@calendar_group.command("add")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("n", type=int)
def calendar_add(start: datetime, n: int) -> None:
    """Print the date N working days after START (START itself not counted)."""
    result = calendar.add_workdays(_services(), start.date(), n)
    click.echo(result.value.isoformat())
    _provisional_note(result.provisional)


@calendar_group.command("count")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("end", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_count(start: datetime, end: datetime) -> None:
    """Print the number of working days after START up to and including END."""
    result = calendar.count_workdays(_services(), start.date(), end.date())
    click.echo(str(result.value))
    _provisional_note(result.provisional)


@calendar_group.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--holiday", "kind", flag_value="holiday", help="A day off (节假日).")
@click.option("--workday", "kind", flag_value="workday", help="A makeup working day (调休上班).")
@click.option("--name", default="", help="e.g. 国庆节, 国庆节调休.")
def calendar_set(day: datetime, kind: str | None, name: str) -> None:
    """Make DAY a holiday or a working day; the change is recorded."""
    if kind is None:
        raise click.UsageError("give --holiday or --workday")
    calendar.set_day(_services(), "cli", day.date(), kind == "workday", name)
    click.echo(f"{day.date().isoformat()} 已设为{'工作日' if kind == 'workday' else '休息日'}")


@calendar_group.command("remove")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_remove(day: datetime) -> None:
    """Drop DAY's exception: it follows the Monday–Friday rule again."""
    removed = calendar.remove_day(_services(), "cli", day.date())
    click.echo(
        f"{day.date().isoformat()} {'已恢复为按星期计算' if removed else '本来就没有特别设置'}"
    )


@calendar_group.command("publish-year")
@click.argument("year", type=int)
def calendar_publish_year(year: int) -> None:
    """Declare YEAR's holidays complete, so limits reaching into it are no longer provisional."""
    added = calendar.publish_year(_services(), "cli", year)
    click.echo(f"{year} 年日历{'已发布' if added else '早已发布, 未作改动'}")


@main.group("stats")
def stats_group() -> None:
    """The 效能监察 dashboard's facts and day rollups (docs/dashboard.md)."""


@stats_group.command("refresh")
def stats_refresh_command() -> None:
    """Bring the rollups up to the cases' latest events (the worker does it every 30 s)."""
    done = stats_refresh.refresh(_services())
    click.echo(f"已刷新 {done['cases']} 件办件的统计, 重算 {done['rollups']} 个日汇总")


_STATS_ROW = {"missing": "缺少", "extra": "多余"}


def _stats_fields(names: list[str]) -> str:
    return ", ".join(_STATS_ROW.get(n, n) for n in names)


@stats_group.command("rebuild")
@click.option("--check", is_flag=True, help="Only compare with the record; change nothing.")
def stats_rebuild_command(check: bool) -> None:
    """Derive every case's facts and every day's rollups again from the record."""
    done = stats_refresh.rebuild(_services(), check=check)
    found = done["differences"]
    for row in found["facts"]:
        click.echo(f"办件 {row['case_id']} 的统计事实不一致: {_stats_fields(row['fields'])}")
    for row in found["daily"]:
        click.echo(
            f"{row['day']} {row['bundle_key']} 的日汇总不一致: {_stats_fields(row['fields'])}"
        )
    for row in found["tasks"]:
        click.echo(
            f"{row['day']} {row['bundle_key']} 环节 {row['element']} ({row['group_name']}, "
            f"{row['clerk']}) 的环节汇总不一致: {_stats_fields(row['fields'])}"
        )
    for row in found["months"]:
        click.echo(
            f"{row['month'][:7]} {row['bundle_key']} 的月汇总与日汇总不一致: "
            f"{_stats_fields(row['fields'])}"
        )
    count = sum(len(rows) for rows in found.values())
    if check:
        if count:
            click.echo(f"共 {count} 处不一致 (运行 lianban stats rebuild 修正)")
            sys.exit(1)
        click.echo(f"一致: 核对 {done['cases']} 件办件, {done['days']} 天")
        return
    click.echo(f"已重建: {done['cases']} 件办件, {done['days']} 天, 修正 {count} 处")


@main.command()
@click.argument("case_id", required=False, type=int)
@click.option("--all", "every", is_flag=True, help="Verify every case.")
def replay(case_id: int | None, every: bool) -> None:
    """Re-execute a case (or --all) from its events and check every step against the record."""
    svc = _services()
    if every == (case_id is not None):
        raise click.UsageError("give a CASE_ID or --all")
    if case_id is not None:
        result = verifications.replay(svc, None, case_id)  # stored (issue 20)
        _print_verdict(result)
        sys.exit(0 if result["verified"] else 1)
    with click.progressbar(length=1, label="核验办件", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(1)

        results = verifications.replay_all(svc, progress)
    failed = [r for r in results if not r["verified"]]
    for result in failed:
        _print_verdict(result)
    click.echo(
        f"共核验 {len(results)} 件: {len(results) - len(failed)} 件一致, {len(failed)} 件不一致"
    )
    sys.exit(1 if failed else 0)


@main.command("verify-archive")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "keys",
    multiple=True,
    required=True,
    help="The log's public key (verifier key text, or a file holding it); repeatable.",
)
@click.option(
    "--checkpoint",
    "later",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A signed checkpoint you hold (later or equal): the archive's must be consistent with it.",
)
def verify_archive(file: Path, keys: tuple[str, ...], later: Path | None) -> None:
    """Check an exported 办件档案 (JSON) offline: signature, chain, proofs, re-execution."""
    from engine.services import archive_verifier

    try:
        texts = [_key_text(k) for k in keys]
        report = archive_verifier.verify_archive(
            file.read_text(encoding="utf-8"),
            texts,
            later.read_text(encoding="utf-8") if later is not None else None,
        )
    except (OSError, UnicodeDecodeError, ValueError) as err:
        click.echo(f"错误: {err}", err=True)
        sys.exit(2)
    click.echo(report.text())
    sys.exit(0 if report.ok else 1)


def _key_text(value: str) -> str:
    """A verifier key given as its text, or as a file holding it (its first non-empty line)."""
    path = Path(value)
    if "+" not in value or path.is_file():
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        return next((line for line in lines if line), "")
    return value.strip()


def _print_verdict(result: dict[str, object]) -> None:
    if result["verified"]:
        click.echo(f"办件 {result['case_id']}: 一致 ({result['steps']} 步)")
    else:
        click.echo(
            f"办件 {result['case_id']}: 不一致, 第 {result['first_divergence']} 步: {result['reason']}"
        )


@main.group("log", cls=_Commands)
def log_group() -> None:
    """The transparency log (issue 20): keys, checkpoints (docs/audit.md)."""


@log_group.command("keygen")
@click.option("--name", required=True, help="The key's name, e.g. the log's origin.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Key file.")
def log_keygen(name: str, out: Path) -> None:
    """Write a new signer key to FILE (mode 0600) and print its verifier (public) key."""
    try:
        signer_text, verifier_text = signed_note.generate_key(name)
    except ValueError as err:
        raise click.UsageError(f"密钥名称无效: {err}") from err
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as err:
        raise click.UsageError(f"{out} 已存在: 不覆盖已有的密钥") from err
    with os.fdopen(fd, "w") as file:
        file.write(signer_text + "\n")
    click.echo(verifier_text)


@log_group.command("checkpoint")
def log_checkpoint() -> None:
    """Sequence the new events and sign a checkpoint now; print the latest note."""
    svc = _services()
    added = tlog.sequence(svc)
    if tlog.log_signer() is None:
        click.echo(f"已记入 {added} 条事件; {tlog.NO_KEY}", err=True)
        sys.exit(1)
    tlog.sign(svc, force=True)
    latest = tlog.latest(svc)
    click.echo(f"已记入 {added} 条事件", err=True)
    if latest is not None:
        click.echo(latest["note"], nl=False)


@log_group.command("public-key")
def log_public_key() -> None:
    """Print the verifier key of LIANBAN_LOG_KEY (for auditors and witnesses)."""
    key = tlog.public_key()
    if key is None:
        click.echo("未配置 LIANBAN_LOG_KEY", err=True)
        sys.exit(1)
    click.echo(key)


@log_group.command("verify")
@click.option(
    "--published",
    type=click.Path(file_okay=False, path_type=Path),
    help="The publication directory (default: LIANBAN_LOG_DIR).",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="The log's public key (text or a file); default: that of LIANBAN_LOG_KEY.",
)
def log_verify(published: Path | None, keys: tuple[str, ...]) -> None:
    """Check the database against the published log: every signed event still there, as signed."""
    from engine.services import tlog_verify

    directory = published or config.log_settings().publish_dir
    if directory is None:
        raise click.UsageError("give --published DIR or set LIANBAN_LOG_DIR")
    try:
        texts = [_key_text(k) for k in keys]
        if not texts:
            own = tlog.public_key()
            texts = [own] if own else []
        svc = _services()
        try:
            report = tlog_verify.verify_published(svc, directory, texts)
        finally:
            svc.engine.dispose()
    except (OSError, UnicodeDecodeError, ValueError) as err:
        click.echo(f"错误: {err}", err=True)
        sys.exit(2)
    click.echo(report.text())
    sys.exit(0 if report.ok else 1)
