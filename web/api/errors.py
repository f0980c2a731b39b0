"""Every error answered in the caller's language: JSON under /api (the service errors with their
status, and Flask's own 404/405/413), an HTML page in Chinese everywhere else (a page's visitor
who is not signed in is sent to sign in)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import ServiceError

from . import api

_HTTP_MESSAGES = {
    400: "请求无效",
    404: "地址不存在",
    405: "不支持该请求方法",
    413: "上传内容过大",
}

_PAGE_TITLES = {
    400: "请求无效",
    401: "需要登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持该请求方法",
    409: "操作冲突",
    413: "上传内容过大",
    422: "内容有误",
    500: "服务器内部错误",
    503: "服务暂不可用",
}


def _is_api() -> bool:
    return request.path.startswith(("/api/", "/vendor/"))


def _page(status: int, message: str) -> Any:
    if status == 401:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    title = _PAGE_TITLES.get(status, "出错了")
    return render_template("error.html", status=status, title=title, message=message), status


@api.app_errorhandler(ServiceError)
def service_error(err: ServiceError) -> Any:
    if not _is_api():
        return _page(err.status, err.message)
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
    if not _is_api():
        return _page(500, "服务器内部错误, 已记录; 未保存任何修改")
    response = jsonify({"error": "服务器内部错误, 已记录; 未保存任何修改"})
    response.status_code = 500
    return response


@api.app_errorhandler(HTTPException)
def http_error(err: HTTPException) -> Any:
    status = err.code or 500
    if isinstance(err, CSRFError):
        return _page(400, "表单已过期或来源不明 (CSRF 校验未通过): 请刷新页面后重新提交")
    if not _is_api():
        described = err.description if status == 503 else None
        return _page(status, described or _PAGE_TITLES.get(status, err.name))
    response = jsonify({"error": _HTTP_MESSAGES.get(status, err.name)})
    response.status_code = status
    return response
