"""`Idempotency-Key`: a request sent again with the same key gets the first answer, and nothing
is done twice (POST /cases, POST /tasks/ID/complete).

The key is claimed (a row without an answer) before the step runs and given the step's answer
right after it, each in its own short transaction: a repeat while the first is still running is
a 409; a repeat after it has the stored answer; the same key with another request is a 422. A
step that fails gives its key back, so the client may retry with it. Keys are per user and
expire after 24 hours (dropped whenever a new key is claimed)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from engine.domain.audit import canonical
from engine.domain.users import User
from engine.errors import Conflict, Invalid
from engine.persistence.idempotency import IdempotencyRepository, StoredAnswer

from .context import Services

KEY_LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def request_hash(method: str, path: str, body: Any) -> str:
    """What identifies a request: its method, path and JSON body (key order ignored)."""
    return hashlib.sha256(canonical({"method": method, "path": path, "body": body})).hexdigest()


def _check_key(key: str) -> None:
    if not _KEY.match(key):
        message = f"{HEADER} 应为 1 至 200 个可见 ASCII 字符 (不含空格)"
        raise Invalid(message, [{"field": HEADER, "message": message}])


def _answer(stored: StoredAnswer, digest: str) -> tuple[Any, int]:
    if stored.request_hash != digest:
        message = f"{HEADER} 已用于另一个请求 (24 小时内同一个键只能用于同一个请求), 请换一个新键"
        raise Invalid(message, [{"field": HEADER, "message": message}])
    if stored.status is None:
        raise Conflict(f"使用同一 {HEADER} 的请求正在处理, 请稍后重试")
    return stored.body, stored.status


def once(
    svc: Services, user: User, key: str, digest: str, run: Callable[[], tuple[Any, int]]
) -> tuple[Any, int]:
    """Run `run` (which answers (body, status)) at most once per (user, key): a repeat of the
    same request gets the stored answer."""
    _check_key(key)
    with svc.uow(write=True) as uow:
        keys = IdempotencyRepository(uow.conn)
        now = svc.clock()
        keys.purge(now - KEY_LIFETIME)
        claimed = keys.reserve(user.name, key, digest, now)
        stored = None if claimed else keys.find(user.name, key)
        uow.commit()
    if not claimed:
        if stored is None:  # taken and expired in between: run as new is no longer safe
            raise Conflict(f"使用同一 {HEADER} 的请求正在处理, 请稍后重试")
        return _answer(stored, digest)
    return _run_keyed(svc, user, key, run)


# ------------------------------------------------------------------ the pages' one-time answers
# A page's POST redirects (Post/Redirect/Get); what only its answer may show (the receipt's
# 查询码) waits here for the one GET that follows, under a name no header can give (a space).


def page_once(
    svc: Services, user: User, form_token: str, run: Callable[[], tuple[Any, int]]
) -> tuple[Any, int, bool]:
    """A page form posted with its one-time token (made when the page was shown): run at most
    once; the answer, its status and whether it is a repeat (the form was sent again)."""
    key = f"form {form_token}"
    with svc.uow(write=True) as uow:
        keys = IdempotencyRepository(uow.conn)
        now = svc.clock()
        keys.purge(now - KEY_LIFETIME)
        claimed = keys.reserve(user.name, key, "form", now)
        stored = None if claimed else keys.find(user.name, key)
        uow.commit()
    if not claimed:
        if stored is None or stored.status is None:
            raise Conflict("此表单正在提交, 请稍候查看待办或办件")
        return stored.body, stored.status, True
    body, status = _run_keyed(svc, user, key, run)
    return body, status, False


def sent_before(svc: Services, user: User, form_token: str) -> bool:
    """Has this page form (its one-time token) been sent before?"""
    with svc.uow() as uow:
        return IdempotencyRepository(uow.conn).find(user.name, f"form {form_token}") is not None


def _run_keyed(
    svc: Services, user: User, key: str, run: Callable[[], tuple[Any, int]]
) -> tuple[Any, int]:
    try:
        body, status = run()
    except BaseException:
        with svc.uow(write=True) as uow:  # nothing was done: the key may be used again
            IdempotencyRepository(uow.conn).forget(user.name, key)
            uow.commit()
        raise
    with svc.uow(write=True) as uow:
        IdempotencyRepository(uow.conn).finish(user.name, key, status, body)
        uow.commit()
    return body, status


def keep_for_next_page(svc: Services, user: User, name: str, body: Any) -> None:
    """Keep `body` for the next page `user` opens that asks for `name` (once)."""
    key = f"page {name}"
    with svc.uow(write=True) as uow:
        keys = IdempotencyRepository(uow.conn)
        now = svc.clock()
        keys.forget(user.name, key)
        keys.reserve(user.name, key, "page", now)
        keys.finish(user.name, key, 200, body)
        uow.commit()


def take_for_page(svc: Services, user: User, name: str) -> Any:
    """What `keep_for_next_page` kept under `name`, once; None after that (or after a day)."""
    key = f"page {name}"
    with svc.uow(write=True) as uow:
        keys = IdempotencyRepository(uow.conn)
        stored = keys.find(user.name, key)
        if stored is None or not keys.forget(user.name, key):
            return None
        uow.commit()
    if stored.created_at < svc.clock() - KEY_LIFETIME:
        return None
    return stored.body
