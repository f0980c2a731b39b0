"""Absolute addresses (the 办事指南's QR code, a certificate's verify link) and the hosts a
request may name.

Every absolute URL starts with `public_base_url()`: `LIANBAN_PUBLIC_URL` when set, else the
request's own scheme and host, which Flask has already checked against `TRUSTED_HOSTS` (a
request naming another host gets a 400 before any view runs). So a forged `Host:` header never
ends up in a printed address.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import SecurityError

# Always trusted, for the demo and for checks on the machine itself.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class _WholeHost(str):
    """A trusted IPv6 literal (`[::1]`). Werkzeug 3.1 compares a trusted entry up to its first
    colon (meant to drop a port), which never matches an IPv6 address; this entry keeps its
    whole text when Werkzeug splits it, and compares as itself otherwise."""

    __slots__ = ()

    def partition(self, sep: str) -> tuple[str, str, str]:  # type: ignore[override]
        return str(self), "", ""


def trusted_hosts(public_url: str | None, configured: str | None) -> list[str]:
    """`LIANBAN_TRUSTED_HOSTS` (comma-separated host names, no ports; `.example.cn` for every
    subdomain), else localhost, 127.0.0.1 and [::1]; the host of `LIANBAN_PUBLIC_URL` always."""
    names = [h.strip().lower() for h in (configured or "").split(",") if h.strip()]
    if not names:
        names = list(LOCAL_HOSTS)
    if public_url:
        public = urlsplit(public_url).hostname
        if public:
            names.insert(0, f"[{public}]" if ":" in public else public)
    unique = list(dict.fromkeys(names))
    return [_WholeHost(h) if h.startswith("[") else h for h in unique]


def init_app(app: Flask) -> None:
    """TRUSTED_HOSTS from the environment and the public URL (unless the settings gave them),
    and the answer to a request naming another host."""
    if app.config.get("TRUSTED_HOSTS") is None:
        public = app.config.get("PUBLIC_URL")
        app.config["TRUSTED_HOSTS"] = trusted_hosts(
            str(public) if public else None, os.environ.get("LIANBAN_TRUSTED_HOSTS")
        )
    app.register_error_handler(SecurityError, untrusted_host)


UNTRUSTED = "请求的主机名不受信任 (Host 头不是本服务的地址)"


def untrusted_host(err: SecurityError) -> Response:
    """400, answered without building any URL: with an untrusted host Flask has no URL adapter
    for the request, so the usual error page (which links the stylesheets) cannot be drawn."""
    if request.path.startswith("/api/"):
        response = jsonify({"error": UNTRUSTED})
    else:
        page = (
            '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>请求无效</title>'
            f"<h1>请求无效</h1><p>{escape(UNTRUSTED)}</p></html>"
        )
        response = Response(page, mimetype="text/html")
    response.status_code = 400
    return response


def public_base_url() -> str:
    """The address the public reaches this server at, without a trailing slash."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return str(configured).rstrip("/")
    return request.host_url.rstrip("/")


def absolute(path: str) -> str:
    """`path` (from url_for) as an absolute address under `public_base_url()`."""
    return public_base_url() + path
