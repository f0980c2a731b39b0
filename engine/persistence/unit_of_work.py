"""One database transaction, with the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from .bundle_repository import BundleRepository
from .calendar_repository import CalendarRepository
from .case_repository import CaseRepository, TaskRepository
from .certificate_repository import CertificateRepository
from .copy_repository import CopyRepository
from .db import WRITE, TransientError
from .job_repository import JobRepository
from .log_repository import LogRepository
from .message_repository import MessageRepository
from .record_repositories import NotificationRepository, RatingRepository
from .test_run_repository import TestRunRepository
from .throttle_repository import ThrottleRepository
from .user_repository import UserRepository
from .verification_repository import VerificationRepository
from .writes import WRITES_KEY, DeferredWrites, watch


class UnitOfWork:
    """`with UnitOfWork(engine, write=True) as uow: ...; uow.commit()`; anything else rolls back.
    Without `write=True` a unit of work only reads: a write in it is refused (ReadOnlyWrite).

    The hot writes of a step (tasks, jobs, certificates, the case and its events) are queued and
    sent together before the next statement or the commit (writes.py)."""

    conn: Connection

    def __init__(self, engine: Engine, write: bool = False) -> None:
        self.engine = engine
        self.write = write

    def __enter__(self) -> UnitOfWork:
        watch(self.engine)
        conn = self.engine.connect()
        if self.write:
            conn = conn.execution_options(**{WRITE: True})
        elif conn.dialect.name == "postgresql":
            # Reading needs no transaction there: at READ COMMITTED every statement sees its own
            # snapshot inside one as well, and this spares the BEGIN and ROLLBACK round trips.
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        self.conn = conn
        self._tx = conn.begin()
        self.writes = writes = DeferredWrites(conn, read_only=not self.write)
        self._info = conn.info  # kept: a connection the server dropped cannot give it back
        self._info[WRITES_KEY] = writes
        self.bundles = BundleRepository(conn)
        self.cases = CaseRepository(conn, writes)
        self.tasks = TaskRepository(conn, writes)
        self.users = UserRepository(conn)
        self.jobs = JobRepository(conn, writes)
        self.calendar = CalendarRepository(conn)
        self.certificates = CertificateRepository(conn, writes)
        self.ratings = RatingRepository(conn)
        self.notifications = NotificationRepository(conn)
        self.throttles = ThrottleRepository(conn)
        self.test_runs = TestRunRepository(conn)
        self.messages = MessageRepository(conn, writes)  # issue 17 · G
        self.copies = CopyRepository(conn)  # issue 18 · 6: 抄送
        self.log = LogRepository(conn)  # issue 20: the transparency log
        self.verifications = VerificationRepository(conn)  # issue 20 · part 2
        return self

    def commit(self) -> None:
        self.jobs.flush()
        self.writes.flush(commit=self._tx.commit)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._info.pop(WRITES_KEY, None)  # queued writes of a failed step are dropped
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()
        if isinstance(exc, OperationalError):
            raise TransientError(str(exc.orig or exc)) from exc
