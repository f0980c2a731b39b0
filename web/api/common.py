"""What every API view needs: the services, the signed-in user, the JSON body."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from engine import untrusted_json
from engine.domain.users import User
from engine.errors import Invalid, Unauthorized
from engine.services import accounts

from ..state import services


def current_user() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("需要登录: 请在 Authorization 头中提供 Bearer 令牌")
    return accounts.authenticate(services(), token.strip())


BODY = "(请求体)"  # the `field` of a problem with the body as a whole


def _body_problem(message: str, field: str = BODY) -> Invalid:
    return Invalid("请求体无效", [{"field": field, "message": message, "element": None}])


def json_body() -> dict[str, Any]:
    """The request's JSON object; an empty body counts as {}.

    A body that is not JSON, not an object, or holds a value `engine.untrusted_json` refuses
    (NaN, Infinity, a lone surrogate, a NUL, nesting over 64 levels, an integer beyond 64 bits)
    is a 422 whose problem names the field."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    if not request.is_json:
        raise _body_problem("请求体必须是 JSON 对象 (Content-Type: application/json)")
    try:
        body = untrusted_json.loads(raw)
    except untrusted_json.JsonRefused as err:
        raise _body_problem(err.message, err.where or BODY) from None
    except UnicodeDecodeError:
        raise _body_problem("请求体必须是 UTF-8 编码的 JSON") from None
    except json.JSONDecodeError as err:
        where = f"第 {err.lineno} 行第 {err.colno} 列"
        raise _body_problem(f"不是有效的 JSON ({where}): {err.msg}") from None
    if not isinstance(body, dict):
        raise _body_problem("请求体必须是 JSON 对象")
    return body
