"""The database schema (SQLAlchemy Core). Migrations in `migrations/` create exactly this."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are stored and returned in UTC with their zone, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: the engine stores only zone-aware UTC times")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonType = JSON().with_variant(JSONB(), "postgresql")
# JSON kept as written (plain json on PostgreSQL, not jsonb, which reorders object keys): a
# bundle's forms, tasks and metadata, whose key order is the order fields and items are shown in.
OrderedJson = JSON()
# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # For signing in to the web pages; NULL: this user has only an API token.
    Column("password_hash", String(200)),
    # Kept in the user's sign-in session and checked on each request: signing out and a new
    # password raise it, which ends every earlier session (migration 0007).
    Column("session_version", Integer, nullable=False, server_default="0"),
    # What printed documents sign with, "张敏 (综合窗口)"; NULL: the login name (migration 0013).
    Column("display_name", String(100)),
    Column("department", String(100)),
)

user_groups = Table(
    "user_groups",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(100), primary_key=True),
)

# Every change an administrator makes to an account (created, role, groups, password, token,
# unblocked): who, when, what; append-only (migration 0010). Passwords and tokens never appear.
account_changes = Table(
    "account_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(20), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("before", JsonType),
    Column("after", JsonType),
    Index("ix_account_changes_subject", "subject"),
)

bundles = Table(
    "bundles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # The version new cases start on (NULL: only drafts so far), and when the bundle was retired
    # (NULL: it is not); engine/domain/bundle_lifecycle.py (migration 0009).
    Column("published_version", Integer),
    Column("retired_at", UtcDateTime()),
)

bundle_versions = Table(
    "bundle_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("bundle_id", ForeignKey("bundles.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("process_id", String(200), nullable=False),
    Column("metadata", OrderedJson, nullable=False),
    Column("specs", Text, nullable=False),
    Column("human_tasks", OrderedJson, nullable=False),
    Column("start_form", String(300)),
    Column("start_event", String(200)),
    Column("forms", OrderedJson, nullable=False),
    Column("files", JsonType, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("deployed_by", String(100), nullable=False),
    Column("deployed_at", UtcDateTime(), nullable=False),
    # draft | published | superseded | discarded (engine/domain/bundle_lifecycle.py)
    Column("status", String(20), nullable=False, server_default="published"),
    UniqueConstraint("bundle_id", "version", name="uq_bundle_versions_bundle_version"),
)

# The files a version's 办事指南 offers (materials' samples and blank forms: PDF, images, Office
# files), as uploaded; kept apart from `files` (the text the bundle reads) and read one at a time.
bundle_attachments = Table(
    "bundle_attachments",
    metadata,
    Column(
        "bundle_version_id",
        ForeignKey("bundle_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("path", String(300), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
)

# Each lifecycle transition of a bundle or one of its versions, with who and when (append-only:
# the database refuses to change or delete a row). `version` is NULL for retire and restore.
bundle_transitions = Table(
    "bundle_transitions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("bundle_id", ForeignKey("bundles.id"), nullable=False),
    Column("version", Integer),
    Column("action", String(20), nullable=False),
    Column("from_state", String(20)),
    Column("to_state", String(20), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_bundle_transitions_bundle", "bundle_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("bundle_version_id", ForeignKey("bundle_versions.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("data", JsonType, nullable=False),
    Column("state", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    # The time limit and its clock (engine.domain.timelimits.CaseClock), and its deadline
    # copied out for queries of overdue cases.
    Column("clock", JsonType, nullable=False),
    Column("deadline", Date),
    # The end event the case finished at: {"element": ..., "name": ...} (办结, 不予受理...).
    Column("outcome", JsonType),
    # The keyed hash of the secret printed on the applicant's receipt: with the case number it
    # lets the applicant follow the case and rate it without an account
    # (engine/domain/access_codes.py: "hmac:..." or an older hash wrapped as "hmac(sha256):...").
    Column("access_hash", String(64)),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
    Index("ix_cases_status", "status"),
    Index("ix_cases_deadline", "status", "deadline"),
    # the auditors' case search (migration 0005)
    Index("ix_cases_version", "bundle_version_id", "id"),
    Index("ix_cases_created_at", "created_at"),
    # the search by applicant at scale, PostgreSQL only (migration 0021)
    Index("ix_cases_applicant_id", text("(data ->> 'applicant_id_number')")).ddl_if(
        dialect="postgresql"
    ),
    Index(
        "ix_cases_applicant_name",
        text("(data ->> 'applicant_name')"),
        postgresql_using="gin",
        postgresql_ops={"data": "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql"),
)

human_tasks = Table(
    "human_tasks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("element", String(200), nullable=False),
    Column("name", String(300), nullable=False),
    Column("form", String(300)),
    # The candidate groups, copied here so a task loads in one query; human_task_groups
    # holds the same, indexed, for worklists.
    Column("groups", JsonType, nullable=False),
    Column("status", String(20), nullable=False),
    # "bpmn" for a task of the diagram; else a task the engine itself creates (督办...).
    Column("kind", String(20), nullable=False),
    Column("assignee", String(100)),
    Column("deadline", Date),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
    Column("ended_by", String(100)),
    # 委派: while the task is delegated for an opinion, who delegated it (the assignee is the
    # delegate); NULL otherwise (migration 0015)
    Column("owner", String(100)),
    # 加签: "sign_before" / "sign_after" while the task is with an added signer; NULL with an
    # owner means 委派 (migration 0017)
    Column("owner_kind", String(20)),
    # users besides the groups' members who may claim and complete it (candidateUsers); NULL:
    # none. human_task_users holds the same, indexed, for worklists (migration 0023)
    Column("candidate_users", JsonType),
    # an hour limit's due moment (`time_limit: 4h`); `deadline` is its local date. NULL for day
    # limits and no limit (migration 0025; not indexed: read with the task, never searched)
    Column("due_at", UtcDateTime()),
    Index("ix_human_tasks_case", "case_id", "status"),
    Index("ix_human_tasks_ended_at", "ended_at"),  # the dashboard's day rollups (migration 0020)
    # the worklist's "assigned to me" branch, read in keyset order (migration 0004)
    Index("ix_human_tasks_assignee_queue", "assignee", "status", "created_at", "id"),
)

human_task_groups = Table(
    "human_task_groups",
    metadata,
    Column("task_id", ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("group_name", String(100), primary_key=True),
    # A copy of the task's openness and creation time so a group's worklist is one index range
    # scan in keyset order (created_at, task_id) (migration 0004).
    Column("open", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_human_task_groups_queue", "group_name", "open", "created_at", "task_id"),
)

# A task's candidate users, as human_task_groups holds its groups (migration 0023).
human_task_users = Table(
    "human_task_users",
    metadata,
    Column("task_id", ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("user_name", String(100), primary_key=True),
    Column("open", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_human_task_users_queue", "user_name", "open", "created_at", "task_id"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("task_id", String(36)),
    Column("element", String(200)),
    Column("data", JsonType, nullable=False),
    # engine.domain.audit: this event's hash (chained to the previous one's) and the hash of
    # the case state after its step.
    Column("hash", String(64), nullable=False),
    Column("state_hash", String(64), nullable=False),
    UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    # What the job is about, e.g. "timer:<task id>": a job is scheduled once per key.
    Column("key", String(200), nullable=False),
    Column("case_id", ForeignKey("cases.id")),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("payload", JsonType, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("done_at", UtcDateTime()),
    UniqueConstraint("kind", "key", name="uq_jobs_kind_key"),
    Index("ix_jobs_due", "status", "due_at"),
)

# The working-day calendar: exceptions to the Monday–Friday rule, the years they are complete
# for, and every change made to them (append-only).
calendar_days = Table(
    "calendar_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("workday", Boolean, nullable=False),
    Column("name", String(100), nullable=False),
    Column("source", String(20), nullable=False),
)

calendar_years = Table(
    "calendar_years",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("source", String(20), nullable=False),
)

calendar_changes = Table(
    "calendar_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(20), nullable=False),
    Column("day", Date),
    Column("year", Integer),
    Column("before", JsonType),
    Column("after", JsonType),
)

# 证照: the certificates issued at 统一发证, with their state (valid, revoked) and renewals.
certificates = Table(
    "certificates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(64), nullable=False, unique=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("bundle_key", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("holder", String(300), nullable=False),
    Column("fields", JsonType, nullable=False),
    Column("issuer", String(200), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("expires_on", Date),
    Column("status", String(20), nullable=False),
    Column("revoked_on", Date),
    Column("revoked_reason", Text),
    Column("renewal_of", String(64)),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_certificates_case", "case_id"),
    Index("ix_certificates_issued_on", "issued_on"),  # the dashboard (migration 0020)
    Index("ix_certificates_expires_on", "expires_on"),  # renewals due
)

# 好差评: the rating of a concluded case, by the applicant online or recorded at the window.
ratings = Table(
    "ratings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("level", Integer, nullable=False),
    Column("comment", Text, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("rated_by", String(100), nullable=False),
    Column("rated_at", UtcDateTime(), nullable=False),
    # one a channel: the window's rating never takes the applicant's own away
    UniqueConstraint("case_id", "channel", name="uq_ratings_case_channel"),
)

# Notifications waiting to be sent (an outbox); the worker hands them to the sender.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id")),
    Column("kind", String(40), nullable=False),
    Column("recipient", String(300), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime()),
)

# A designer's recorded test run of a bundle (engine/services/test_runs.py): the steps replayed
# on a draft and what they gave when saved (the path, the end event), re-run as its regression
# tests after each edit (migration 0011). Keyed by the bundle key: a draft may not be stored yet.
bundle_test_runs = Table(
    "bundle_test_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("bundle_key", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("steps", JsonType, nullable=False),
    Column("expected", JsonType, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_bundle_test_runs_bundle_key", "bundle_key"),
)

# Failed attempts at a secret (a password, a receipt code) per account, address or case, shared
# by every server process: too many in a window refuse further attempts for a growing time
# (engine/services/throttle.py, migration 0007).
throttles = Table(
    "throttles",
    metadata,
    Column("scope", String(20), primary_key=True),
    Column("subject", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", UtcDateTime(), nullable=False),
    Column("blocked_until", UtcDateTime()),
    Column("blocks", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_throttles_updated_at", "updated_at"),
)

# issue 17 · G: the staff message centre (migration 0014). One row a recipient, written in the
# transaction of the step that causes it (a new task in the user's group, 预警, 超期, 督办, a task
# returned to the group, 催办); `read_at` NULL while unread: the top bar counts those by the index.
staff_messages = Table(
    "staff_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("case_id", ForeignKey("cases.id")),
    Column("task_id", String(36)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("read_at", UtcDateTime()),
    Index("ix_staff_messages_user_read", "user_name", "read_at"),
)

# The first answer to a request sent with an `Idempotency-Key` (POST /cases, task completion),
# per user and key, with a hash of the request: a repeat gets the same answer without a second
# step (engine/services/idempotency.py, migration 0012). `status` NULL: the request is running.
# Keys expire after 24 hours.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_name", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer),
    Column("body", JsonType),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

# issue 18 · 6: 抄送. One row per reader a case was copied to (a group copied to is expanded to
# its members then), with the `case_copied` event's seq; `read_at` NULL until the reader opens
# the case (their `copy_read` event). The 抄送我的 list and its unread count read
# (user_name, read_at) by the index (migration 0016).
case_copies = Table(
    "case_copies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("user_name", String(100), nullable=False),
    # "user:NAME" or "group:KEY": what the copier named that reached this reader
    Column("via", String(110), nullable=False),
    Column("copied_by", String(100), nullable=False),
    Column("copied_at", UtcDateTime(), nullable=False),
    Column("note", Text, nullable=False),
    Column("read_at", UtcDateTime()),
    Index("ix_case_copies_user_read", "user_name", "read_at", "id"),
    Index("ix_case_copies_case_user", "case_id", "user_name"),
)

# issue 20: the transparency log (engine.services.tlog; migration 0018). Each case event is a
# leaf (`idx` from 0, in event id order) of an RFC 9162 Merkle tree; `log_nodes` keeps the hash
# of every complete subtree [idx*2^level, (idx+1)*2^level), level >= 1; `log_checkpoints` the
# signed notes. The three are append-only: triggers refuse UPDATE and DELETE.
log_leaves = Table(
    "log_leaves",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", ForeignKey("case_events.id"), nullable=False),
    Column("case_id", Id, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    UniqueConstraint("event_id", name="uq_log_leaves_event"),
    Index("ix_log_leaves_case_seq", "case_id", "seq"),
)

log_nodes = Table(
    "log_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
)

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", UtcDateTime(), nullable=False),
)

# issue 20 · part 2: the result of each verification of a case's history (who, when, how far).
case_verifications = Table(
    "case_verifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("verified_at", UtcDateTime(), nullable=False),
    Column("verifier", String(100), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("steps", Integer, nullable=False),
    Column("first_bad_seq", Integer),
    Column("reason", Text),
    Column("checkpoint_size", BigInteger),
    Index("ix_case_verifications_case_at", "case_id", "verified_at"),
)

# issue 20 · part 2: verifying many cases at once (engine/services/verifications.py; migration
# 0019). The worker verifies each case of a batch (one job per case) and fills in its row.
verification_batches = Table(
    "verification_batches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("description", Text, nullable=False),  # what was asked, in words
    Column("total", Integer, nullable=False),
)

verification_batch_cases = Table(
    "verification_batch_cases",
    metadata,
    Column(
        "batch_id",
        ForeignKey("verification_batches.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("case_id", ForeignKey("cases.id"), primary_key=True, autoincrement=False),
    Column("verification_id", ForeignKey("case_verifications.id")),  # NULL: not yet verified
    Column("ok", Boolean),
)

# issue 21: the 效能监察 dashboard's rollups (engine/services/stats_refresh.py; migration 0020).
# Derived data only: the worker keeps them within a minute of the cases, `lianban stats rebuild
# --check` recomputes them from the record and says where they differ.
#
# One row per case: what the dashboard counts of it (engine/domain/case_facts.py).
case_facts = Table(
    "case_facts",
    metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True, autoincrement=False),
    Column("bundle_key", String(64), nullable=False),
    Column("last_seq", Integer, nullable=False),  # the case's last event when derived
    Column("received_on", Date, nullable=False),  # local (Asia/Shanghai) days
    Column("accepted_on", Date),
    Column("ended_on", Date),
    Column("result", String(12), nullable=False),  # open, finished, refused, withdrawn
    Column("timeliness", String(12)),  # early, on_time, overdue (finished, with a 承诺 deadline)
    Column("handling_workdays", Integer),  # 受理 to 办结 (or the clock's stop), pauses excluded
    Column("promised_workdays", Integer),
    Column("statutory_workdays", Integer),
    Column("corrections", Integer, nullable=False),  # 补正 rounds
    Column("gaps", Boolean, nullable=False),  # 容缺受理
    Column("supplies_owed", Integer, nullable=False),  # 容缺 materials still owed
    Column("commitment", Boolean, nullable=False),  # 告知承诺
    Column("post_check_failed", Boolean, nullable=False),  # 批后核查 found the commitment untrue
    Column("certified", Boolean, nullable=False),  # its certificates were issued (统一发证)
    Column("online", Boolean, nullable=False),  # 网上申报
    Column("visits", Integer, nullable=False),  # in-person visits (最多跑一次)
    Column("rating", Integer),  # the case's standing 好差评 level, 1–5
    Column("rated_on", Date),
    Column("rectification", String(12)),  # 差评整改: open, on_time, late
    Column("follow_up", String(12)),  # 回访: satisfied, unsatisfied
    # the other days it counts on (its tasks ended, its certificates issued): rollups to redo
    Column("touched_days", JsonType, nullable=False),
    Index("ix_case_facts_received", "received_on", "bundle_key"),
    Index("ix_case_facts_result", "result", "bundle_key"),  # what is open now
    Index("ix_case_facts_accepted", "accepted_on", "bundle_key"),
    Index("ix_case_facts_ended", "ended_on", "bundle_key"),
    Index("ix_case_facts_rated", "rated_on", "bundle_key"),
)

# One row per local day and bundle: the figures of what happened that day (received that day,
# finished that day, rated that day...), as a JSON object of counts (engine/domain/case_facts.py
# `day_figures`); a period's figures are the sum of its days'.
stats_daily = Table(
    "stats_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("bundle_key", String(64), primary_key=True),
    Column("figures", JsonType, nullable=False),
)

# One row per local day, bundle, task, group and clerk: the tasks completed that day.
stats_task_daily = Table(
    "stats_task_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("bundle_key", String(64), primary_key=True),
    Column("element", String(200), primary_key=True),
    Column("group_name", String(100), primary_key=True),  # the task's first group ("" if none)
    Column("clerk", String(100), primary_key=True),  # who completed it
    Column("task_name", String(300), nullable=False),
    Column("completed", Integer, nullable=False),
    Column("on_time", Integer, nullable=False),  # by the task's own deadline, if it had one
    Column("overdue", Integer, nullable=False),
    Column("workdays", Integer, nullable=False),  # the sum of their working days open
    Index("ix_stats_task_daily_bundle", "bundle_key", "day"),
)

# The refresh's bookmark (one row, id 1): the cases with events after `event_id` (less a margin
# for transactions that committed out of order) are looked at again.
stats_state = Table(
    "stats_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("event_id", BigInteger, nullable=False),
    Column("refreshed_at", UtcDateTime(), nullable=False),
)

# The same rollups by month (migration 0022): each row the sum of its month's day rows, rewritten
# with them (engine/persistence/stats_repository.py `replace_months`). A period's whole months
# are read from here, its other days from the day rows: a year is 12 rows a bundle, not 365.
stats_monthly = Table(
    "stats_monthly",
    metadata,
    Column("month", Date, primary_key=True),  # its first day
    Column("bundle_key", String(64), primary_key=True),
    Column("figures", JsonType, nullable=False),
)

stats_task_monthly = Table(
    "stats_task_monthly",
    metadata,
    Column("month", Date, primary_key=True),
    Column("bundle_key", String(64), primary_key=True),
    Column("element", String(200), primary_key=True),
    Column("group_name", String(100), primary_key=True),
    Column("clerk", String(100), primary_key=True),
    Column("task_name", String(300), nullable=False),
    Column("completed", Integer, nullable=False),
    Column("on_time", Integer, nullable=False),
    Column("overdue", Integer, nullable=False),
    Column("workdays", Integer, nullable=False),
    Index("ix_stats_task_monthly_bundle", "bundle_key", "month"),
)
