"""Certificates (证照) issued at 统一发证: what a bundle's items say to issue, and their state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class CertificateStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"  # 撤销, e.g. after a failed 批后核查
    EXPIRED = "expired"
    # 注销: ended because its holder ended (注销登记), by a case naming it (`cancels_certificate`)
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    CertificateStatus.VALID: "有效",
    CertificateStatus.REVOKED: "已撤销",
    CertificateStatus.EXPIRED: "已过期",
    CertificateStatus.CANCELLED: "已注销",
}


@dataclass(frozen=True)
class CertificateSpec:
    """One item's certificate, from bundle.json `items[].certificate` (`bundle_metadata.Item`)."""

    kind: str  # the item code
    title: str
    number_field: str | None = None  # case data field holding the number the window assigned
    number_pattern: str | None = None  # what a number of this kind looks like (a regex)
    validity_years: int | None = None
    fields: tuple[tuple[str, str], ...] = ()  # (label, case data field)
    # 发证机关 of this certificate (the 烟草专卖局, the 公安分局); None: the bundle's `issuer`
    issuer: str | None = None
    # the case data field naming the issuer when it varies by case (the birth hospital)
    issuer_field: str | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> CertificateSpec | None:
        """The certificate of a bundle.json item, None when it issues none."""
        cert = item.get("certificate")
        if not isinstance(cert, dict):
            return None
        return cls(
            kind=str(item["code"]),
            title=str(cert.get("title") or item["name"]),
            number_field=cert.get("number_field"),
            number_pattern=cert.get("number_pattern"),
            validity_years=cert.get("validity_years"),
            fields=tuple((str(label), str(name)) for label, name in cert.get("fields", [])),
            issuer=cert.get("issuer") or None,
            issuer_field=cert.get("issuer_field") or None,
        )

    def issuer_for(self, data: Mapping[str, Any], default: str) -> str:
        """Who issues this certificate to a case with this data: the case's `issuer_field` when
        it holds a name, else `issuer`, else `default` (the bundle's issuer)."""
        named = data.get(self.issuer_field) if self.issuer_field else None
        if isinstance(named, str) and named.strip():
            return named.strip()
        return self.issuer or default


@dataclass
class Certificate:
    number: str
    case_id: int
    bundle_key: str
    kind: str
    title: str
    holder: str
    issuer: str
    issued_on: date
    expires_on: date | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    status: CertificateStatus = CertificateStatus.VALID
    revoked_on: date | None = None  # 撤销 or 注销: the day it ended (`status` says which)
    revoked_reason: str | None = None
    renewal_of: str | None = None

    def status_on(self, today: date) -> CertificateStatus:
        if self.status == CertificateStatus.VALID and self.expires_on and today > self.expires_on:
            return CertificateStatus.EXPIRED
        return self.status

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "number": self.number,
            "case_id": self.case_id,
            "bundle": self.bundle_key,
            "kind": self.kind,
            "title": self.title,
            "holder": self.holder,
            "issuer": self.issuer,
            "fields": [{"label": label, "value": value} for label, value in self.fields],
            "issued_on": self.issued_on.isoformat(),
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "status": str(self.status_on(today)),
            "revoked_on": self.revoked_on.isoformat() if self.revoked_on else None,
            "revoked_reason": self.revoked_reason,
            "renewal_of": self.renewal_of,
        }


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February), less one day: a licence
    issued 2026-10-10 for 5 years is valid through 2031-10-09."""
    try:
        later = day.replace(year=day.year + years)
    except ValueError:
        later = day.replace(year=day.year + years, day=28)
    return date.fromordinal(later.toordinal() - 1)
