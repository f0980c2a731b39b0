"""Ratings (好差评) and the notification outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .tables import notifications, ratings


class RatingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def for_case(self, case_id: int) -> dict[str, Any] | None:
        """The case's rating: the applicant's own (online) when given, else the window's."""
        rows = self.conn.execute(select(ratings).where(ratings.c.case_id == case_id)).all()
        if not rows:
            return None
        row = min(rows, key=lambda r: r.channel != "online")
        return {
            "level": row.level,
            "comment": row.comment,
            "channel": row.channel,
            "rated_by": row.rated_by,
            "rated_at": row.rated_at.isoformat(),
        }

    def channels(self, case_id: int) -> set[str]:
        """The channels (`online`, `window`) the case has been rated through."""
        found = self.conn.execute(select(ratings.c.channel).where(ratings.c.case_id == case_id))
        return {str(c) for c in found.scalars()}

    def add(
        self, case_id: int, level: int, comment: str, channel: str, rated_by: str, at: datetime
    ) -> None:
        self.conn.execute(
            insert(ratings).values(
                case_id=case_id,
                level=level,
                comment=comment,
                channel=channel,
                rated_by=rated_by,
                rated_at=at,
            )
        )


class NotificationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, case_id: int | None, kind: str, recipient: str, subject: str, body: str, at: datetime
    ) -> int:
        statement = (
            insert(notifications)
            .values(
                case_id=case_id,
                kind=kind,
                recipient=recipient,
                subject=subject,
                body=body,
                status="pending",
                attempts=0,
                created_at=at,
            )
            .returning(notifications.c.id)
        )
        return int(self.conn.execute(statement).scalar_one())

    def get(self, notification_id: int) -> Any:
        return self.conn.execute(
            select(notifications).where(notifications.c.id == notification_id)
        ).first()

    def mark(
        self, notification_id: int, status: str, at: datetime | None, error: str | None
    ) -> None:
        self.conn.execute(
            update(notifications)
            .where(notifications.c.id == notification_id)
            .values(
                status=status, sent_at=at, last_error=error, attempts=notifications.c.attempts + 1
            )
        )

    def for_case(self, case_id: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(notifications)
            .where(notifications.c.case_id == case_id)
            .order_by(notifications.c.id)
        ).all()
        return [
            {
                "id": r.id,
                "kind": r.kind,
                "recipient": r.recipient,
                "subject": r.subject,
                "body": r.body,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            }
            for r in rows
        ]
