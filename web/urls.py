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

from flask import current_app, request

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


def configure(config: dict[str, object]) -> None:
    """TRUSTED_HOSTS from the environment and the public URL, unless the settings gave them."""
    if config.get("TRUSTED_HOSTS") is None:
        public = config.get("PUBLIC_URL")
        config["TRUSTED_HOSTS"] = trusted_hosts(
            str(public) if public else None, os.environ.get("LIANBAN_TRUSTED_HOSTS")
        )


def public_base_url() -> str:
    """The address the public reaches this server at, without a trailing slash."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return str(configured).rstrip("/")
    return request.host_url.rstrip("/")


def absolute(path: str) -> str:
    """`path` (from url_for) as an absolute address under `public_base_url()`."""
    return public_base_url() + path
