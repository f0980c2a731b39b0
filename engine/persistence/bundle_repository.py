"""Bundles and their immutable versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.domain.bundle_lifecycle import BundleStatus, VersionStatus
from engine.domain.bundle_versions import BundleVersion, HumanTaskInfo
from engine.errors import Conflict

from .inserts import insert_id
from .tables import bundle_attachments, bundle_transitions, bundle_versions, bundles


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


def _published_join() -> Any:
    """Bundle versions joined to their bundle, keeping only each bundle's published version."""
    return and_(
        bundles.c.id == bundle_versions.c.bundle_id,
        bundles.c.published_version == bundle_versions.c.version,
    )


# Built once: read on every case start. The bundle's lifecycle, and its published version's id
# (NULL when none is published: an outer join).
_START_VERSION = (
    select(
        bundles.c.name,
        bundles.c.published_version,
        bundles.c.retired_at,
        bundle_versions.c.id,
    )
    .select_from(bundles)
    .outerjoin(bundle_versions, _published_join())
    .where(bundles.c.key == bindparam("key"))
)


def _bundle_id(key: str) -> Any:
    return select(bundles.c.id).where(bundles.c.key == key).scalar_subquery()


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

    def published(self, key: str) -> BundleVersion | None:
        """The version new cases of `key` start on (None: none published yet)."""
        on = _published_join()
        row = self.conn.execute(
            select(bundle_versions, bundles.c.key).join(bundles, on).where(bundles.c.key == key)
        ).first()
        return self._version(row, row.key) if row else None

    def start_version(self, key: str) -> tuple[str, BundleStatus, int | None] | None:
        """For a case start: the bundle's name, its lifecycle, and the id of its published
        version (enough to find its cached runtime). None: no such bundle."""
        row = self.conn.execute(_START_VERSION, {"key": key}).first()
        if row is None:
            return None
        status = BundleStatus(row.published_version, row.retired_at is not None)
        return row.name, status, int(row.id) if row.id is not None else None

    def lifecycle(self, key: str, lock: bool = False) -> BundleStatus | None:
        """A bundle's published version and whether it is retired (locked for a transition)."""
        query = select(bundles.c.published_version, bundles.c.retired_at).where(
            bundles.c.key == key
        )
        row = self.conn.execute(query.with_for_update() if lock else query).first()
        return BundleStatus(row.published_version, row.retired_at is not None) if row else None

    def version_status(self, key: str, version: int) -> VersionStatus | None:
        found = self.conn.execute(
            select(bundle_versions.c.status).where(
                bundle_versions.c.bundle_id == _bundle_id(key),
                bundle_versions.c.version == version,
            )
        ).scalar()
        return VersionStatus(found) if found is not None else None

    def set_version_status(self, key: str, version: int, status: VersionStatus) -> None:
        self.conn.execute(
            update(bundle_versions)
            .where(
                bundle_versions.c.bundle_id == _bundle_id(key),
                bundle_versions.c.version == version,
            )
            .values(status=status.value)
        )

    def publish(self, key: str, version: int) -> int | None:
        """Make `version` the one new cases start on; the one published before is superseded.
        Returns the number of that earlier version (None: there was none)."""
        before = self.lifecycle(key, lock=True)
        previous = before.published_version if before is not None else None
        if previous is not None and previous != version:
            self.set_version_status(key, previous, VersionStatus.SUPERSEDED)
        self.set_version_status(key, version, VersionStatus.PUBLISHED)
        self.conn.execute(
            update(bundles).where(bundles.c.key == key).values(published_version=version)
        )
        return previous

    def set_retired(self, key: str, at: datetime | None) -> None:
        self.conn.execute(update(bundles).where(bundles.c.key == key).values(retired_at=at))

    def add_transition(
        self,
        key: str,
        version: int | None,
        action: str,
        from_state: str | None,
        to_state: str,
        actor: str,
        at: datetime,
    ) -> None:
        self.conn.execute(
            insert(bundle_transitions).values(
                bundle_id=_bundle_id(key),
                version=version,
                action=action,
                from_state=from_state,
                to_state=to_state,
                actor=actor,
                at=at,
            )
        )

    def transitions(self, key: str) -> list[dict[str, Any]]:
        """A bundle's lifecycle transitions, oldest first."""
        rows = self.conn.execute(
            select(
                bundle_transitions.c.version,
                bundle_transitions.c.action,
                bundle_transitions.c.from_state,
                bundle_transitions.c.to_state,
                bundle_transitions.c.actor,
                bundle_transitions.c.at,
            )
            .where(bundle_transitions.c.bundle_id == _bundle_id(key))
            .order_by(bundle_transitions.c.id)
        ).all()
        return [dict(r._mapping) for r in rows]

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

    def _version_id(self, key: str, version: int) -> Any:
        return (
            select(bundle_versions.c.id)
            .join(bundles, bundles.c.id == bundle_versions.c.bundle_id)
            .where(bundles.c.key == key, bundle_versions.c.version == version)
            .scalar_subquery()
        )

    def add_attachments(self, key: str, version: int, files: dict[str, bytes]) -> None:
        """Store the 办事指南's files (samples, blank forms) of a version just added."""
        if not files:
            return
        version_id = self.conn.execute(select(self._version_id(key, version))).scalar_one()
        self.conn.execute(
            insert(bundle_attachments),
            [
                {"bundle_version_id": version_id, "path": p, "content": c, "size": len(c)}
                for p, c in sorted(files.items())
            ],
        )

    def attachment_sizes(self, key: str, version: int) -> dict[str, int]:
        """The 办事指南's files of a version: path -> size in bytes (contents not read)."""
        rows = self.conn.execute(
            select(bundle_attachments.c.path, bundle_attachments.c.size)
            .where(bundle_attachments.c.bundle_version_id == self._version_id(key, version))
            .order_by(bundle_attachments.c.path)
        ).all()
        return {r.path: int(r.size) for r in rows}

    def attachments(self, key: str, version: int) -> dict[str, bytes]:
        """Every 办事指南 file of a version, with its content (a re-check, a download)."""
        rows = self.conn.execute(
            select(bundle_attachments.c.path, bundle_attachments.c.content).where(
                bundle_attachments.c.bundle_version_id == self._version_id(key, version)
            )
        ).all()
        return {r.path: bytes(r.content) for r in rows}

    def attachment(self, key: str, version: int, path: str) -> bytes | None:
        """One 办事指南 file of a version; None when the version has none at `path`."""
        value = self.conn.execute(
            select(bundle_attachments.c.content).where(
                bundle_attachments.c.bundle_version_id == self._version_id(key, version),
                bundle_attachments.c.path == path,
            )
        ).scalar()
        return None if value is None else bytes(value)

    def list_latest(self) -> list[BundleVersion]:
        rows = self.conn.execute(_with_key(latest=True).order_by(bundles.c.key)).all()
        return [self._version(r, r.key) for r in rows]

    def list_published(self) -> list[tuple[BundleVersion, bool]]:
        """Each bundle's published version, with whether the bundle is retired; by key."""
        rows = self.conn.execute(
            select(bundle_versions, bundles.c.key, bundles.c.retired_at)
            .join(bundles, _published_join())
            .order_by(bundles.c.key)
        ).all()
        return [(self._version(r, r.key), r.retired_at is not None) for r in rows]

    def list_versions(self) -> list[dict[str, Any]]:
        """Every version of every bundle (no specs or files): by key, newest version first."""
        rows = self.conn.execute(
            select(
                bundles.c.key,
                bundles.c.latest_version,
                bundles.c.published_version,
                bundles.c.retired_at,
                bundle_versions.c.version,
                bundle_versions.c.status,
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
