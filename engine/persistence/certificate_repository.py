"""Storing certificates and finding them by number, case or coming expiry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from engine.domain.certificates import Certificate, CertificateStatus

from .tables import certificates
from .writes import DeferredWrites


def _certificate(r: Any) -> Certificate:
    return Certificate(
        number=r.number,
        case_id=r.case_id,
        bundle_key=r.bundle_key,
        kind=r.kind,
        title=r.title,
        holder=r.holder,
        issuer=r.issuer,
        issued_on=r.issued_on,
        expires_on=r.expires_on,
        fields=[(f[0], f[1]) for f in r.fields],
        status=CertificateStatus(r.status),
        revoked_on=r.revoked_on,
        revoked_reason=r.revoked_reason,
        renewal_of=r.renewal_of,
    )


_INSERT = insert(certificates).inline()  # queued (writes.py): no RETURNING
_TAKEN = select(certificates.c.number).where(
    certificates.c.number.in_(bindparam("numbers", expanding=True))
)
_FOR_CASE = (
    select(certificates)
    .where(certificates.c.case_id == bindparam("case_id"))
    .order_by(certificates.c.id)
)


def _row(cert: Certificate, now: datetime) -> dict[str, Any]:
    return {
        "number": cert.number,
        "case_id": cert.case_id,
        "bundle_key": cert.bundle_key,
        "kind": cert.kind,
        "title": cert.title,
        "holder": cert.holder,
        "fields": [list(f) for f in cert.fields],
        "issuer": cert.issuer,
        "issued_on": cert.issued_on,
        "expires_on": cert.expires_on,
        "status": str(cert.status),
        "renewal_of": cert.renewal_of,
        "created_at": now,
    }


class CertificateRepository:
    def __init__(self, conn: Connection, writes: DeferredWrites) -> None:
        self.conn = conn
        self.writes = writes

    def add_many(self, certs: list[Certificate], now: datetime) -> None:
        """Store certificates, all in one statement (queued: writes.py)."""
        if certs:
            self.writes.add(_INSERT, [_row(cert, now) for cert in certs])

    def taken(self, numbers: list[str]) -> set[str]:
        """Those of `numbers` that a stored certificate already has."""
        if not numbers:
            return set()
        return set(self.conn.execute(_TAKEN, {"numbers": numbers}).scalars())

    def get(self, number: str) -> Certificate | None:
        row = self.conn.execute(select(certificates).where(certificates.c.number == number)).first()
        return _certificate(row) if row else None

    def for_case(self, case_id: int) -> list[Certificate]:
        rows = self.conn.execute(_FOR_CASE, {"case_id": case_id}).all()
        return [_certificate(r) for r in rows]

    def renewed(self, number: str) -> bool:
        """Whether a later certificate renews this one (无感续证 done)."""
        return (
            self.conn.execute(
                select(certificates.c.id).where(certificates.c.renewal_of == number)
            ).first()
            is not None
        )

    def cancel(self, number: str, on: date, reason: str) -> bool:
        """注销 a certificate still stored as valid; whether it was (a concurrent 注销 or 撤销
        that came first leaves it alone)."""
        done = self.conn.execute(
            update(certificates)
            .where(
                certificates.c.number == number,
                certificates.c.status == str(CertificateStatus.VALID),
            )
            .values(status=str(CertificateStatus.CANCELLED), revoked_on=on, revoked_reason=reason)
        )
        return bool(done.rowcount)

    def revoke(self, number: str, on: date, reason: str) -> None:
        self.conn.execute(
            update(certificates)
            .where(certificates.c.number == number)
            .values(status=str(CertificateStatus.REVOKED), revoked_on=on, revoked_reason=reason)
        )
