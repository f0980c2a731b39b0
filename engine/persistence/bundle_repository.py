"""Bundles and their immutable versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.domain.bundle_versions import BundleVersion, HumanTaskInfo
from engine.errors import Conflict

from .inserts import insert_id
from .tables import bundle_versions, bundles


def _latest_join() -> Any:
    """Bundle versions joined to their bundle, keeping only each bundle's newest version."""
    return and_(
        bundles.c.id == bundle_versions.c.bundle_id,
        bundles.c.latest_version == bundle_versions.c.version,
    )


def _with_key(latest: bool = False) -> Any:
    """Versions with their bundle key (all versions, or only the newest of each bundle)."""
    on = _latest_join() if latest else bundles.c.id == bundle_versions.c.bundle_id
    return select(bundle_versions, bundles.c.key).join(bundles, on)


# Built once: read on every step that loads a case's runtime.
_LATEST_VERSION_ID = (
    select(bundle_versions.c.id)
    .join(bundles, _latest_join())
    .where(bundles.c.key == bindparam("key"))
)


class BundleRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _version(self, row: Any, key: str) -> BundleVersion:
        return BundleVersion(
            id=row.id,
            key=key,
            version=row.version,
            name=row.name,
            description=row.description,
            process_id=row.process_id,
            metadata=row.metadata,
            specs_json=row.specs,
            human_tasks={k: HumanTaskInfo.from_dict(v) for k, v in row.human_tasks.items()},
            start_form=row.start_form,
            start_event=row.start_event,
            forms=row.forms,
            checksum=row.checksum,
            deployed_by=row.deployed_by,
            deployed_at=row.deployed_at,
        )

    def get_version(self, version_id: int) -> BundleVersion | None:
        row = self.conn.execute(_with_key().where(bundle_versions.c.id == version_id)).first()
        return self._version(row, row.key) if row else None

    def latest(self, key: str) -> BundleVersion | None:
        row = self.conn.execute(_with_key(latest=True).where(bundles.c.key == key)).first()
        return self._version(row, row.key) if row else None

    def latest_id(self, key: str) -> int | None:
        """The id of the newest version of `key`: enough to find its cached runtime."""
        found = self.conn.execute(_LATEST_VERSION_ID, {"key": key}).scalar()
        return int(found) if found is not None else None

    def get(self, key: str, version: int) -> BundleVersion | None:
        row = self.conn.execute(
            _with_key().where(bundles.c.key == key, bundle_versions.c.version == version)
        ).first()
        return self._version(row, row.key) if row else None

    def files(self, key: str, version: int) -> dict[str, str] | None:
        """The uploaded files of a version (path -> text), as they were deployed."""
        value = self.conn.execute(
            select(bundle_versions.c.files)
            .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
            .where(bundles.c.key == key, bundle_versions.c.version == version)
        ).scalar()
        return None if value is None else dict(value)

    def list_latest(self) -> list[BundleVersion]:
        rows = self.conn.execute(_with_key(latest=True).order_by(bundles.c.key)).all()
        return [self._version(r, r.key) for r in rows]

    def list_versions(self) -> list[dict[str, Any]]:
        """Every version of every bundle (no specs or files): by key, newest version first."""
        rows = self.conn.execute(
            select(
                bundles.c.key,
                bundles.c.latest_version,
                bundle_versions.c.version,
                bundle_versions.c.name,
                bundle_versions.c.description,
                bundle_versions.c.process_id,
                bundle_versions.c.checksum,
                bundle_versions.c.deployed_by,
                bundle_versions.c.deployed_at,
            )
            .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
            .order_by(bundles.c.key, bundle_versions.c.version.desc())
        ).all()
        return [dict(r._mapping) for r in rows]

    def add_version(self, key: str, name: str, values: dict[str, Any], at: datetime) -> int:
        """Store the next version of `key`; returns its number. Raises Conflict on a race."""
        bundle = self.conn.execute(
            select(bundles.c.id, bundles.c.latest_version)
            .where(bundles.c.key == key)
            .with_for_update()
        ).first()
        try:
            if bundle is None:
                bundle_id = insert_id(
                    self.conn,
                    insert(bundles).values(key=key, name=name, latest_version=1, created_at=at),
                )
                number = 1
            else:
                bundle_id, number = bundle.id, bundle.latest_version + 1
                self.conn.execute(
                    update(bundles)
                    .where(bundles.c.id == bundle_id)
                    .values(latest_version=number, name=name)
                )
            self.conn.execute(
                insert(bundle_versions).values(
                    bundle_id=bundle_id, version=number, name=name, **values
                )
            )
        except IntegrityError:
            raise Conflict("同一事项包正在被同时部署, 请重试") from None
        return int(number)
