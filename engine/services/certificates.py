"""统一发证 and what follows: issuing and revoking a case's certificates, their public
verification, renewal reminders (无感续证) and renewal cases with nothing new to supply."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.bpmn.functions import ENGINE_FUNCTIONS
from engine.domain.bundle_metadata import CERTIFICATE_ITEMS, BundleMetadata, Item, Material
from engine.domain.bundle_versions import BundleVersion
from engine.domain.certificates import Certificate, CertificateSpec, CertificateStatus, add_years
from engine.domain.jobs import Job, JobKind
from engine.domain.model import Case, EventType
from engine.domain.users import Role, User
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.expressions import EvaluationError, ExpressionError, compile_expression
from engine.forms.patterns import fullmatch
from engine.persistence.unit_of_work import UnitOfWork

from .notify import notify

if TYPE_CHECKING:
    from .context import Services

SYSTEM = "system"


def applicant_contact(version: BundleVersion, data: dict[str, Any]) -> str | None:
    """Where to reach the applicant: an e-mail field if the bundle names one, else the phone."""
    fields = version.meta.applicant
    email = data.get(fields.email_field)
    if isinstance(email, str) and "@" in email:
        return email
    phone = data.get(fields.phone_field)
    return f"tel:{phone}" if isinstance(phone, str) and phone else None


def _holder(version: BundleVersion, data: dict[str, Any]) -> str:
    fields = version.meta.applicant
    holder = data.get(fields.holder_field) if fields.holder_field else None
    name = data.get(fields.name_field)
    if holder and name and holder != name:
        return f"{holder} ({name})"
    return str(holder or name or "")


# Letters, digits, Chinese characters, hyphens and brackets, at most 64: a number appears in
# addresses (/verify/<number>), file names and QR codes, so no slash, quote, space or line break.
DEFAULT_NUMBER_PATTERN = r"[0-9A-Za-z\x{4e00}-\x{9fff}][0-9A-Za-z\x{4e00}-\x{9fff}()（）-]{0,63}"


def number_problem(spec: CertificateSpec, number: str) -> str | None:
    """Why `number` cannot be a number of this kind of certificate (plain Chinese), or None."""
    number = number if len(number) <= 40 else number[:40] + "…"
    if spec.number_pattern:
        if not fullmatch(spec.number_pattern, number) or not fullmatch(
            DEFAULT_NUMBER_PATTERN, number
        ):
            return f"证号 {number!r} 不符合{spec.title}的编号规则"
    elif not fullmatch(DEFAULT_NUMBER_PATTERN, number):
        return f"证号 {number!r} 格式不正确: 只能由字母、数字、汉字、连字符和括号组成, 不超过 64 个字符"
    return None


def _number(spec: CertificateSpec, case: Case, index: int, today_text: str) -> str:
    given = case.data.get(spec.number_field) if spec.number_field else None
    if isinstance(given, str) and given.strip():
        return given.strip()
    return f"LB{today_text}{case.id:07d}{index:02d}"


class _CaseData(Mapping[str, Any]):
    """The case data as an `applies_if` condition reads it: a field the case does not hold
    (an optional answer left out) reads as null."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def __getitem__(self, key: str) -> Any:
        return self.data.get(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def holds(condition: str, data: Mapping[str, Any]) -> bool:
    """Whether an `applies_if` condition holds on a case's data; ExpressionError or
    EvaluationError when it cannot be evaluated on it."""
    expression = compile_expression(condition, ENGINE_FUNCTIONS)
    return bool(expression.evaluate(_CaseData(data)))


def applies(item: Item, data: Mapping[str, Any]) -> bool:
    """Whether the item applies to a case with this data (`items[].applies_if`; none: always).
    A condition that cannot be evaluated on the data refuses the step, naming the item."""
    if item.applies_if is None:
        return True
    try:
        return holds(item.applies_if, data)
    except (ExpressionError, EvaluationError) as err:
        raise Invalid(
            f"事项 {item.name} 的适用条件无法判断",
            [{"message": f"事项 {item.name} 的适用条件 `{item.applies_if}` 无法求值: {err}"}],
        ) from None


def material_applies(meta: BundleMetadata, material: Material, data: Mapping[str, Any]) -> bool:
    """Whether a case with this data is asked for the material (`materials[].applies_if`, or the
    item `materials[].item` names applies; neither: always). A condition that cannot be
    evaluated on the data asks for it: a checklist shows too much rather than too little."""
    try:
        if material.applies_if is not None:
            return holds(material.applies_if, data)
        item = next((i for i in meta.items if i.code == material.item), None)
        return item is None or item.applies_if is None or holds(item.applies_if, data)
    except (ExpressionError, EvaluationError):
        return True


def applying_items(version: BundleVersion, data: Mapping[str, Any]) -> tuple[Item, ...]:
    """The bundle's items that apply to a case with this data, in bundle order."""
    return tuple(i for i in version.meta.items if applies(i, data))


def case_limits(version: BundleVersion, data: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The promised and statutory limits of a case (when its clock starts): those of the bundle,
    or, when some items apply to some cases only, those of the items this case applies for."""
    policy = version.time_policy
    if not version.meta.conditional_items:
        return policy.limit, policy.statutory_limit
    return policy.for_items(applying_items(version, data))


def per_item(version: BundleVersion) -> bool:
    """Whether the bundle issues per item: some item applies to some cases only, or some task
    issues or revokes the certificates of some items only (`certificate_items`)."""
    return version.meta.conditional_items or any(
        CERTIFICATE_ITEMS in info.properties for info in version.human_tasks.values()
    )


def issue(
    svc: Services,
    uow: UnitOfWork,
    case: Case,
    version: BundleVersion,
    now: datetime,
    only: tuple[str, ...] = (),
) -> None:
    """Issue the certificates of the bundle's items, together (统一发证). Of the items `only`
    names (a task's `certificate_items`), if given. A bundle whose items apply to some cases
    only (`applies_if`), or that issues per item, issues those that apply on the case data now
    and that the case has not issued yet; others issue every item's certificate."""
    today = svc.today(now)
    renewal_of = case.data.get("renewal_of")
    previous = uow.certificates.get(renewal_of) if isinstance(renewal_of, str) else None
    # each certificate keeps its place in the bundle: a default number does not depend on
    # which others are issued with it
    wanted = [
        (index, item.certificate)
        for index, item in enumerate((i for i in version.meta.items if i.certificate), start=1)
        if item.certificate is not None and (not only or item.code in only)
    ]
    if per_item(version):
        had = {c.kind for c in uow.certificates.for_case(case.id)}
        by_code = {i.code: i for i in version.meta.items}
        wanted = [
            (index, spec)
            for index, spec in wanted
            if spec.kind not in had and applies(by_code[spec.kind], case.data)
        ]
    specs = [spec for _, spec in wanted]
    numbers = [_number(spec, case, index, today.strftime("%Y%m%d")) for index, spec in wanted]
    taken = uow.certificates.taken(numbers)  # one query for all of them
    issued = []
    for spec, number in zip(specs, numbers, strict=True):
        problem = number_problem(spec, number)
        if problem is None and number in taken:
            problem = f"证号 {number} 已被使用"
        if problem is not None:
            where = {"field": spec.number_field} if spec.number_field else {}
            raise Invalid("证号不可用", [{**where, "message": problem}])
        taken.add(number)  # two certificates of one issuance cannot share a number either
        issued.append(
            Certificate(
                number=number,
                case_id=case.id,
                bundle_key=case.bundle_key,
                kind=spec.kind,
                title=spec.title,
                holder=_holder(version, case.data)[:300],
                issuer=spec.issuer_for(case.data, version.meta.issuer or version.name)[:200],
                issued_on=today,
                expires_on=add_years(today, spec.validity_years) if spec.validity_years else None,
                fields=[(label, str(case.data.get(name, ""))) for label, name in spec.fields],
                renewal_of=previous.number if previous and previous.kind == spec.kind else None,
            )
        )
    if not issued and per_item(version):
        return  # nothing applies or all was issued before: no event (a 退回 may pass this step)
    uow.certificates.add_many(issued, now)
    case.has_certificates = case.has_certificates or bool(issued)
    for cert in issued:
        _schedule_reminders(svc, uow, version, cert, now)
    case.record(
        EventType.CERTIFICATES_ISSUED,
        SYSTEM,
        now,
        data={
            "certificates": [
                {
                    "number": c.number,
                    "kind": c.kind,
                    "title": c.title,
                    "expires_on": c.expires_on.isoformat() if c.expires_on else None,
                }
                for c in issued
            ]
        },
    )


def _schedule_reminders(
    svc: Services, uow: UnitOfWork, version: BundleVersion, cert: Certificate, now: datetime
) -> None:
    if cert.expires_on is None:
        return
    for before in version.meta.renewal_reminders:
        due = svc.local_midnight(cert.expires_on - timedelta(days=before)) + timedelta(hours=9)
        uow.jobs.schedule(
            JobKind.CERTIFICATE_REMINDER,
            f"{cert.number}:{before}",
            max(due, now),
            now,
            cert.case_id,
            {"days_before": before},
        )


def revoke(
    svc: Services,
    uow: UnitOfWork,
    case: Case,
    version: BundleVersion,
    reason: str,
    now: datetime,
    only: tuple[str, ...] = (),
) -> None:
    """Revoke every valid certificate of the case (e.g. after a failed 批后核查), or those of
    the items `only` names (a task's `certificate_items`)."""
    today = svc.today(now)
    revoked = [
        c
        for c in uow.certificates.for_case(case.id)
        if c.status == CertificateStatus.VALID and (not only or c.kind in only)
    ]
    for cert in revoked:
        uow.certificates.revoke(cert.number, today, reason)
    case.record(
        EventType.CERTIFICATES_REVOKED,
        SYSTEM,
        now,
        data={"numbers": [c.number for c in revoked], "reason": reason},
    )
    contact = applicant_contact(version, case.data)
    if contact and revoked:
        numbers = ", ".join(c.number for c in revoked)
        notify(
            uow,
            case.id,
            "revocation",
            contact,
            f"许可已撤销: {numbers}",
            f"您的 {numbers} 已于 {today.isoformat()} 撤销。原因: {reason}",
            now,
        )


def case_holder(version: BundleVersion, data: Mapping[str, Any]) -> str:
    """Whom the case is for, as a certificate names its holder: the `applicant.holder_field`
    (the company), else the applicant's name; whitespace trimmed."""
    fields = version.meta.applicant
    holder = data.get(fields.holder_field) if fields.holder_field else None
    if not (isinstance(holder, str) and holder.strip()):
        holder = data.get(fields.name_field)
    return str(holder or "").strip()


def _held_by(cert: Certificate, holder: str) -> bool:
    """Whether `holder` holds the certificate: its holder, or the first part of one written
    `holder (applicant)` (a company's certificate names who applied for it too)."""
    named = cert.holder.strip()
    return bool(holder) and (
        named == holder or (named.startswith(f"{holder} (") and named.endswith(")"))
    )


def cancel_problem(
    cert: Certificate | None, number: str, kinds: tuple[str, ...], holder: str, today: Any
) -> str | None:
    """Why the certificate numbered `number` cannot be cancelled by a case for `holder` that
    may cancel `kinds` (plain Chinese), or None."""
    if cert is None:
        return f"证号 {number} 的证照不存在: 不是本系统核发的证照"
    status = cert.status_on(today)
    if status == CertificateStatus.CANCELLED:
        return f"证照 {number} ({cert.title}) 已注销 ({cert.revoked_on}), 不能再次注销"
    if status == CertificateStatus.REVOKED:
        return f"证照 {number} ({cert.title}) 已撤销 ({cert.revoked_on}), 不能注销"
    if status == CertificateStatus.EXPIRED:
        return f"证照 {number} ({cert.title}) 已过期 (有效期至 {cert.expires_on}), 不能注销"
    if cert.kind not in kinds:
        return (
            f"证照 {number} 是{cert.title} (种类 {cert.kind}), 种类不符: "
            f"本环节只能注销 {'、'.join(kinds)}"
        )
    if not _held_by(cert, holder):
        return (
            f"证照 {number} 的持有人 ({cert.holder}) 与申请不一致 (本办件为 {holder or '未填写'})"
        )
    return None


def cancel_named(
    svc: Services,
    uow: UnitOfWork,
    case: Case,
    version: BundleVersion,
    field: str,
    kinds: tuple[str, ...],
    reason: str,
    now: datetime,
) -> None:
    """注销 the certificate whose number the case data field `field` holds, issued by any case,
    of one of `kinds` and held by the case's holder; else refuse the step (Invalid, naming the
    field). The issuing case's history stays as it is: this case records the 注销. An empty
    field cancels nothing."""
    value = case.data.get(field)
    number = value.strip() if isinstance(value, str) else ""
    if not number:
        return
    today = svc.today(now)
    cert = uow.certificates.get(number)
    problem = cancel_problem(cert, number, kinds, case_holder(version, case.data), today)
    reason = f"{reason} (办件 {case.id})"
    if problem is None and cert is not None and not uow.certificates.cancel(number, today, reason):
        problem = f"证照 {number} 刚被注销或撤销, 不能注销"
    if problem is not None or cert is None:
        raise Invalid("不能注销证照", [{"field": field, "message": problem or ""}])
    case.record(
        EventType.CERTIFICATE_CANCELLED,
        SYSTEM,
        now,
        data={
            "number": cert.number,
            "kind": cert.kind,
            "title": cert.title,
            "case_id": cert.case_id,
            "reason": reason,
        },
    )


def remind(svc: Services, uow: UnitOfWork, job: Job, now: datetime) -> None:
    """无感续证: tell the holder the certificate expires soon, unless already renewed or gone."""
    number = job.key.rsplit(":", 1)[0]
    cert = uow.certificates.get(number)
    if cert is None or cert.status_on(svc.today(now)) != CertificateStatus.VALID:
        return
    if uow.certificates.renewed(number):
        return  # already renewed: nothing to remind of
    case = uow.cases.get(cert.case_id, lock=True)
    if case is None:
        return
    version, _ = svc.runtimes.get(uow, case.bundle_version_id)
    left = (cert.expires_on - svc.today(now)).days if cert.expires_on else None
    contact = applicant_contact(version, case.data)
    if contact:
        notify(
            uow,
            case.id,
            "renewal_reminder",
            contact,
            f"{cert.title} 将于 {cert.expires_on} 到期",
            f"您的{cert.title} (证号 {cert.number}) 还有 {left} 天到期。"
            "可在任一窗口申请延续, 无需重新提交材料。",
            now,
        )
    case.updated_at = now
    case.record(
        EventType.CERTIFICATE_REMINDER,
        SYSTEM,
        now,
        data={
            "number": cert.number,
            "expires_on": str(cert.expires_on),
            "days_left": left,
            "sent_to": contact,
        },
    )
    uow.cases.save(case)


def _require_staff(user: User) -> None:
    if not user.has_role(Role.CLERK, Role.AUDITOR, Role.ADMIN):
        raise Forbidden("无权查看证照")


def certificate(svc: Services, user: User, number: str) -> Certificate:
    _require_staff(user)
    with svc.uow() as uow:
        found = uow.certificates.get(number)
    if found is None:
        raise NotFound(f"证照 {number} 不存在")
    return found


def for_case(svc: Services, uow: UnitOfWork, case_id: int) -> list[dict[str, Any]]:
    today = svc.today()
    return [c.to_dict(today) for c in uow.certificates.for_case(case_id)]


def verify(svc: Services, number: str) -> dict[str, Any]:
    """The public check behind the QR code: is this number a real, valid certificate?"""
    with svc.uow() as uow:
        found = uow.certificates.get(number)
    if found is None:
        raise NotFound(f"证号 {number} 不存在: 该证照不是本系统签发的")
    full = found.to_dict(svc.today())
    shown = (
        "number",
        "title",
        "holder",
        "issuer",
        "issued_on",
        "expires_on",
        "status",
        "revoked_on",
    )
    shown_reason = full["revoked_reason"] if found.status == CertificateStatus.CANCELLED else None
    return {**{k: full[k] for k in shown}, "reason": shown_reason}


def renewal_data(svc: Services, user: User, number: str) -> tuple[str, dict[str, Any]]:
    """The bundle and start data of a renewal case: the original application, unchanged (the
    case it renews is given to `start_case` apart: no form writes `renewal_of`)."""
    if not user.has_role(Role.CLERK):
        raise Forbidden("只有窗口人员可以受理延续申请")
    with svc.uow() as uow:
        cert = uow.certificates.get(number)
        if cert is None:
            raise NotFound(f"证照 {number} 不存在")
        if cert.status_on(svc.today()) in (CertificateStatus.REVOKED, CertificateStatus.CANCELLED):
            raise Conflict(f"证照 {number} {cert.status_on(svc.today()).label}, 不能延续")
        started = next(
            e for e in uow.cases.events(cert.case_id) if e.type == EventType.CASE_STARTED
        )
    original = {k: v for k, v in started.data["data"].items() if k != "renewal_of"}
    return cert.bundle_key, original
