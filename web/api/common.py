"""What every API view needs: the services, the signed-in user, the JSON body."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from engine.domain.users import User
from engine.errors import Invalid, Unauthorized
from engine.services import Services


def services() -> Services:
    svc: Services = current_app.extensions["lianban"]
    return svc


def current_user() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("需要登录: 请在 Authorization 头中提供 Bearer 令牌")
    return services().authenticate(token.strip())


def json_body() -> dict[str, Any]:
    """The request's JSON object; an empty body counts as {}."""
    if not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid(
            "请求体必须是 JSON 对象", [{"message": "请求体必须是 JSON 对象", "element": None}]
        )
    return body
