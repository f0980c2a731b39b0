"""Every error as JSON: the service errors with their status, and Flask's own 404/405/413."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from werkzeug.exceptions import HTTPException

from engine.errors import ServiceError

from . import api

_HTTP_MESSAGES = {
    400: "请求无效",
    404: "地址不存在",
    405: "不支持该请求方法",
    413: "上传内容过大",
}


@api.app_errorhandler(ServiceError)
def service_error(err: ServiceError) -> Any:
    body: dict[str, Any] = {"error": err.message}
    body.update(err.details)
    response = jsonify(body)
    response.status_code = err.status
    if err.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lianban"'
    return response


@api.app_errorhandler(Exception)
def unexpected_error(err: Exception) -> Any:
    """Anything unforeseen: logged with its traceback, answered as JSON without internals."""
    current_app.logger.exception("unhandled error")
    response = jsonify({"error": "服务器内部错误, 已记录; 未保存任何修改"})
    response.status_code = 500
    return response


@api.app_errorhandler(HTTPException)
def http_error(err: HTTPException) -> Any:
    status = err.code or 500
    response = jsonify({"error": _HTTP_MESSAGES.get(status, err.name)})
    response.status_code = status
    return response
