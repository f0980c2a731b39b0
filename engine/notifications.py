"""Sending notifications: to the log by default, or by e-mail through an SMTP server.

`LIANBAN_SMTP_URL` (smtp://user:password@host:port?from=addr&starttls=1) selects e-mail.
Recipients are e-mail addresses, `group:<name>` (resolved through `LIANBAN_GROUP_EMAILS`,
e.g. "supervisors=a@x.cn,b@x.cn;issuance=c@x.cn") or `tel:<number>`; the e-mail sender refuses
what it cannot reach, so the outbox shows it as failed with the reason.
"""

from __future__ import annotations

import logging
import os
import smtplib
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlparse

log = logging.getLogger("lianban.notify")


class Sender(Protocol):
    def send(self, recipient: str, subject: str, body: str) -> None: ...


class LogSender:
    """Writes each notification to the `lianban.notify` log: the default, and for the demo."""

    def send(self, recipient: str, subject: str, body: str) -> None:
        log.info("通知 %s: %s\n%s", recipient, subject, body)


class SmtpSender:
    def __init__(self, url: str, groups: dict[str, list[str]] | None = None) -> None:
        parsed = urlparse(url)
        query = parse_qs(parsed.query)
        self.host = parsed.hostname or "localhost"
        self.port = parsed.port or 25
        self.user = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.sender = query.get("from", ["lianban@localhost"])[0]
        self.starttls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.groups = groups or {}

    def _addresses(self, recipient: str) -> list[str]:
        if recipient.startswith("group:"):
            found = self.groups.get(recipient.removeprefix("group:"))
            if not found:
                raise ValueError(f"{recipient} 没有配置电子邮箱 (LIANBAN_GROUP_EMAILS)")
            return found
        if "@" not in recipient:
            raise ValueError(f"{recipient} 不是电子邮箱地址, 无法发送邮件")
        return [recipient]

    def send(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self._addresses(recipient))
        message["Subject"] = subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=15) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


def parse_groups(text: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for part in text.split(";"):
        name, _, addresses = part.partition("=")
        if name.strip() and addresses.strip():
            groups[name.strip()] = [a.strip() for a in addresses.split(",") if a.strip()]
    return groups


def sender_from_environment() -> Sender:
    url = os.environ.get("LIANBAN_SMTP_URL")
    if url:
        return SmtpSender(url, parse_groups(os.environ.get("LIANBAN_GROUP_EMAILS", "")))
    return LogSender()
