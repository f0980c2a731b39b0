"""Notifications leave through the outbox: e-mail to a real SMTP server, failures kept with
their reason and retried."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from engine.notifications import LogSender, SmtpSender, parse_groups
from engine.services import Services
from engine.services.notify import notify
from engine.services.worker import run_due
from tests.fixtures.clock import FakeClock


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_mail_goes_out_through_the_outbox(services: Services, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    clock = FakeClock()
    groups = parse_groups("supervisors=chief@example.cn,deputy@example.cn")
    svc = Services(
        services.engine,
        clock=clock,
        sender=SmtpSender(f"smtp://127.0.0.1:{port}?from=lianban@example.cn", groups),
    )
    with svc.uow(write=True) as uow:
        notify(uow, None, "overdue", "group:supervisors", "办件 7 超期", "请督办", clock.now)
        notify(uow, None, "reminder", "tel:13800138000", "证照即将到期", "请办理延续", clock.now)
        uow.commit()
    assert run_due(svc) == 2
    [(to, message)] = inbox.messages
    assert to == ["chief@example.cn", "deputy@example.cn"]
    assert str(make_header(decode_header(message["Subject"]))) == "办件 7 超期"
    with svc.engine.connect() as conn:
        from sqlalchemy import select

        from engine.persistence.tables import notifications

        rows = {r.recipient: r for r in conn.execute(select(notifications))}
    assert rows["group:supervisors"].status == "sent"
    failed = rows["tel:13800138000"]
    assert failed.status == "retrying" and "不是电子邮箱地址" in failed.last_error
    clock.advance(seconds=3)
    assert run_due(svc) == 1  # retried later, and fails again with the same reason


def test_a_rolled_back_step_sends_nothing(services: Services) -> None:
    clock = FakeClock()
    svc = Services(services.engine, clock=clock, sender=LogSender())
    with svc.uow(write=True) as uow:
        notify(uow, None, "x", "group:g", "s", "b", clock.now)
    assert run_due(svc) == 0
