"""The transparency log's tables (issue 20; engine/persistence/tables.py `log_leaves`,
`log_nodes`, `log_checkpoints`): the events not yet sequenced, the leaves and the stored
complete subtrees, and the signed checkpoints. All three tables are append-only (migration
0018): this repository only inserts and reads.

`TreeSource` is the database-backed `engine.domain.merkle.HashSource`: the hash of any range of
leaves from the stored complete subtrees, O(log n) reads per range."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, text

from engine.domain import merkle

from .tables import case_events, log_checkpoints, log_leaves, log_nodes


class LogRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock_for_sequencing(self) -> None:
        """Only one sequencer at a time. On PostgreSQL an EXCLUSIVE lock on `log_leaves` (readers
        go on; a second sequencer waits); SQLite's write transaction is exclusive already."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("LOCK TABLE log_leaves IN EXCLUSIVE MODE"))

    def unsequenced(self, limit: int) -> list[Any]:
        """Events that are not leaves yet, in id order: rows (id, case_id, seq, hash, state_hash).

        Why an anti-join over every event rather than "ids above the last sequenced one": on
        PostgreSQL ids come from a sequence when a transaction inserts, and a transaction holding a
        smaller id may commit after one holding a larger id was already sequenced. A high-water
        mark would skip that event for ever; NOT EXISTS against the unique index on
        `log_leaves.event_id` finds it at the next run (it becomes a later leaf; its leaf records
        its own event id, case and seq, so nothing depends on leaf order matching id order).
        The cost is one index-only anti-join over `case_events` per run (a worker runs it about
        once a minute), which stays well under a second for millions of events."""
        leaf = select(log_leaves.c.idx).where(log_leaves.c.event_id == case_events.c.id)
        query = (
            select(
                case_events.c.id,
                case_events.c.case_id,
                case_events.c.seq,
                case_events.c.hash,
                case_events.c.state_hash,
            )
            .where(~leaf.exists())
            .order_by(case_events.c.id)
            .limit(limit)
        )
        return list(self.conn.execute(query))

    def size(self) -> int:
        """How many leaves the log has (leaf indexes are 0..size-1, without gaps)."""
        found = self.conn.execute(select(func.max(log_leaves.c.idx))).scalar()
        return 0 if found is None else int(found) + 1

    def add_leaves(self, rows: list[dict[str, Any]]) -> None:
        """Rows with idx, event_id, case_id, seq, leaf_hash (hex)."""
        if rows:
            self.conn.execute(insert(log_leaves), rows)

    def add_nodes(self, rows: list[dict[str, Any]]) -> None:
        """Rows with level (>= 1), idx, hash (hex)."""
        if rows:
            self.conn.execute(insert(log_nodes), rows)

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        query = (
            select(log_leaves.c.leaf_hash)
            .where(log_leaves.c.idx >= start, log_leaves.c.idx < end)
            .order_by(log_leaves.c.idx)
        )
        return [bytes.fromhex(h) for h in self.conn.execute(query).scalars()]

    def leaves(self, start: int, end: int) -> list[Any]:
        """Rows (idx, event_id, case_id, seq, leaf_hash) of leaves [start, end), in order."""
        query = (
            select(log_leaves)
            .where(log_leaves.c.idx >= start, log_leaves.c.idx < end)
            .order_by(log_leaves.c.idx)
        )
        return list(self.conn.execute(query))

    def node(self, level: int, idx: int) -> bytes | None:
        """The stored hash of the complete subtree [idx*2^level, (idx+1)*2^level); level 0 is
        the leaf hash itself."""
        if level == 0:
            found = self.conn.execute(
                select(log_leaves.c.leaf_hash).where(log_leaves.c.idx == idx)
            ).scalar()
        else:
            found = self.conn.execute(
                select(log_nodes.c.hash).where(
                    and_(log_nodes.c.level == level, log_nodes.c.idx == idx)
                )
            ).scalar()
        return None if found is None else bytes.fromhex(found)

    def leaf_index(self, case_id: int, seq: int) -> int | None:
        found = self.conn.execute(
            select(log_leaves.c.idx).where(log_leaves.c.case_id == case_id, log_leaves.c.seq == seq)
        ).scalar()
        return None if found is None else int(found)

    def case_leaves(self, case_id: int) -> dict[int, int]:
        """seq -> leaf index of every sequenced event of a case."""
        query = select(log_leaves.c.seq, log_leaves.c.idx).where(log_leaves.c.case_id == case_id)
        return {int(seq): int(idx) for seq, idx in self.conn.execute(query)}

    def add_checkpoint(self, size: int, root: str, note: str, signed_at: datetime) -> None:
        self.conn.execute(
            insert(log_checkpoints).values(size=size, root=root, note=note, signed_at=signed_at)
        )

    def latest_checkpoint(self) -> Any | None:
        query = select(log_checkpoints).order_by(log_checkpoints.c.size.desc()).limit(1)
        return self.conn.execute(query).first()

    def checkpoint(self, size: int) -> Any | None:
        return self.conn.execute(
            select(log_checkpoints).where(log_checkpoints.c.size == size)
        ).first()

    def source(self) -> TreeSource:
        return TreeSource(self)


class TreeSource:
    """`merkle.HashSource` over the stored tree: MTH(leaves[start:end]) splits [start, end) as
    RFC 9162 does (the largest power of two below the width on the left) until each part is a
    complete aligned subtree, read as one stored node. Hashes read are cached per source."""

    def __init__(self, repo: LogRepository) -> None:
        self.repo = repo
        self._cache: dict[tuple[int, int], bytes] = {}

    def subtree(self, start: int, end: int) -> bytes:
        width = end - start
        if width <= 0:
            return merkle.EMPTY_ROOT
        key = (start, end)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if width & (width - 1) == 0 and start % width == 0:
            level = width.bit_length() - 1
            found = self.repo.node(level, start >> level)
            if found is None:
                raise LookupError(f"the log has no stored subtree [{start}, {end})")
            value = found
        else:
            split = 1 << ((width - 1).bit_length() - 1)
            value = merkle.node_hash(
                self.subtree(start, start + split), self.subtree(start + split, end)
            )
        self._cache[key] = value
        return value
